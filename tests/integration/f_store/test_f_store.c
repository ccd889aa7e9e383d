/* Stage F end to end on real servers (spec 03 F.5-F.9, 00 decisions 3-5):
 * two med-f-events replicas consume Deliveries and EventBatches the test
 * publishes; every case reads F's answer from the reply inbox, the
 * ArchiveRecords from MED_ARCHIVE and the rows from PostgreSQL. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "f_world.h"
#include "med/reason.h"

static int setup(void **state)
{
    fw *w = calloc(1, sizeof *w);
    assert_non_null(w);
    *state = w;
    fw_start(w);
    return 0;
}

static int teardown(void **state)
{
    fw *w = *state;
    if (!w) return 0;
    fw_stop(w);
    free(w);
    return 0;
}

/* ------------------------------------------------------------------ helpers */

#define SQL_BILLS \
    "SELECT count(*) FROM billing_ledger WHERE tenant_id = $1 AND response_reference = $2"
#define SQL_BILLS_OF \
    "SELECT count(*) FROM billing_ledger WHERE tenant_id = $1 AND billing_key = $2"

static void expect_item(const Mediation__V1__EventBatchAck *ack, size_t i, const char *status,
                        const char *code)
{
    if (i >= ack->n_ack_items) fail_msg("ACK has %zu items, wanted index %zu", ack->n_ack_items, i);
    const Mediation__V1__EventAck *it = ack->ack_items[i];
    if (strcmp(it->ack_status, status) != 0 || (code && strcmp(it->ack_reason_code, code) != 0))
        fail_msg("item %zu: %s %s, want %s %s", i, it->ack_status, it->ack_reason_code, status,
                 code ? code : "*");
    assert_int_equal(it->event_index, (int)i);
}

static long bills(fw *w, const char *rr)
{
    return fw_count(w, SQL_BILLS, w->tenant, rr);
}

static long bills_of(fw *w, const char *rr, const char *ra, const char *type)
{
    char key[400];
    snprintf(key, sizeof key, "%s|%s|%s", rr, ra, type);
    return fw_count(w, SQL_BILLS_OF, w->tenant, key);
}

static int type_rank(const char *t)
{
    if (strcmp(t, "decision_audit") == 0) return 0;
    if (strcmp(t, "billable_fact") == 0) return 1;
    return 2;
}

static size_t count_type(const fw_records *rs, const char *type)
{
    size_t n = 0;
    for (size_t i = 0; i < rs->n; i++) n += strcmp(rs->r[i]->record->record_type, type) == 0;
    return n;
}

/* F.8 write order within each group (closureKeyOrNA + traceKey). */
static void expect_write_order(const fw_records *rs)
{
    for (size_t i = 0; i < rs->n; i++)
        for (size_t j = i + 1; j < rs->n; j++) {
            const Mediation__V1__FToGArchiveRecordLite *a = rs->r[i]->record, *b = rs->r[j]->record;
            if (strcmp(a->relation_keys->closure_key_or_na, b->relation_keys->closure_key_or_na) != 0 ||
                strcmp(a->source_keys->trace_key, b->source_keys->trace_key) != 0)
                continue;
            if (type_rank(a->record_type) > type_rank(b->record_type))
                fail_msg("%s published before %s in one group", a->record_type, b->record_type);
        }
}

/* ------------------------------------------------------------------ cases */

/* F.9 1, 16: impression + click on a served Delivery: accepted_all, one
 * bill each, records in MED_ARCHIVE as decision_audit, billable_fact,
 * attribution_fact; the ACK is committed before it is sent. */
static void served_loop_bills_once(void **state)
{
    fw *w = *state;
    char *rr = fw_name(w, "resp_loop");
    fw_delivery(w, rr, "served");
    uint64_t from = fw_archive_seq(w);
    char *ev[] = { fw_event(w, "impression", "evt_imp_1", rr, "ra_001", 0, NULL),
                   fw_event(w, "click", "evt_clk_1", rr, "ra_001", 1, NULL), NULL };
    char *batch = fw_name(w, "batch_loop");
    char *body = fw_body(batch, ev);
    Mediation__V1__EventBatchAck *ack = fw_send(w, NULL, body);
    assert_int_equal(ack->http_status, 200);
    assert_string_equal(ack->overall_status, "accepted_all");
    expect_item(ack, 0, "accepted", MED_R_F_EVENT_ACCEPTED);
    expect_item(ack, 1, "accepted", NULL);
    mediation__v1__event_batch_ack__free_unpacked(ack, NULL);
    /* committed before the answer */
    assert_int_equal(bills_of(w, rr, "ra_001", "billable_impression"), 1);
    assert_int_equal(bills_of(w, rr, "ra_001", "billable_click"), 1);
    assert_int_equal(bills(w, rr), 2);
    assert_int_equal(fw_count(w, "SELECT count(*) FROM event_records WHERE tenant_id = $1 AND batch_id = $2",
                              w->tenant, batch), 2);
    assert_int_equal(fw_count(w, "SELECT count(*) FROM billing_ledger WHERE tenant_id = $1 "
                                 "AND response_reference = $2 AND record_key IS NOT NULL",
                              w->tenant, rr), 2);
    /* records: 2 audits, 2 billable, 2 attribution, in write order */
    fw_records rs;
    long long end = th_now_ms() + 10000;
    do {
        fw_archive(w, from, rr, &rs);
        if (rs.n >= 6) break;
        fw_records_free(&rs);
        th_sleep_ms(100);
    } while (th_now_ms() < end);
    assert_int_equal(rs.n, 6);
    assert_int_equal(count_type(&rs, "decision_audit"), 2);
    assert_int_equal(count_type(&rs, "billable_fact"), 2);
    assert_int_equal(count_type(&rs, "attribution_fact"), 2);
    expect_write_order(&rs);
    assert_string_equal(rs.r[0]->record->record_type, "decision_audit");
    assert_string_equal(rs.r[5]->record->record_type, "attribution_fact");
    for (size_t i = 0; i < rs.n; i++) assert_string_equal(rs.r[i]->record->anchor_hash, "anchor_f_store");
    /* each ledger row carries its billable_fact's recordKey from the claim on */
    for (size_t i = 0; i < rs.n; i++) {
        const Mediation__V1__FToGArchiveRecordLite *r = rs.r[i]->record;
        if (strcmp(r->record_type, "billable_fact") != 0) continue;
        char pair[512];
        snprintf(pair, sizeof pair, "%s %s", r->billable_fact->billing_key, r->record_key);
        assert_int_equal(fw_count(w, "SELECT count(*) FROM billing_ledger WHERE tenant_id = $1 "
                                     "AND billing_key || ' ' || record_key = $2", w->tenant, pair), 1);
    }
    fw_records_free(&rs);
    /* the outbox row was published */
    assert_int_equal(fw_await_count(w, 0, 5000,
                                    "SELECT count(*) FROM f_outbox WHERE tenant_id = $1 "
                                    "AND batch_id = $2 AND published_at IS NULL",
                                    w->tenant, batch), 0);
    free(body);
    free(batch);
    free(rr);
}


/* F.1 / F.9 15: the same batch resent after a lost response (a new edge
 * request, same batchId) is all duplicate and bills nothing more; the same
 * message redelivered (same edge request id) answers the stored ACK
 * without deciding again. */
static void resent_batch_is_duplicate(void **state)
{
    fw *w = *state;
    char *rr = fw_name(w, "resp_resend");
    fw_delivery(w, rr, "served");
    char *batch = fw_name(w, "batch_resend");
    char *ev[] = { fw_event(w, "impression", "evt_imp_r", rr, "ra_001", 0, "idem_resend_imp_001"),
                   fw_event(w, "click", "evt_clk_r", rr, "ra_001", 1, NULL), NULL };
    char *body = fw_body(batch, ev);
    char *edge = fw_name(w, "edge_resend");
    Mediation__V1__EventBatchAck *a1 = fw_send(w, edge, body);
    assert_string_equal(a1->overall_status, "accepted_all");
    assert_int_equal(bills(w, rr), 2);
    /* lost response: the edge retries with a new request id */
    Mediation__V1__EventBatchAck *a2 = fw_send(w, NULL, body);
    assert_int_equal(a2->http_status, 200);
    assert_string_equal(a2->overall_status, "partial_success");
    expect_item(a2, 0, "duplicate", MED_R_F_DEDUP_COMMITTED_DUPLICATE);
    expect_item(a2, 1, "duplicate", MED_R_F_DEDUP_COMMITTED_DUPLICATE);
    assert_string_equal(a2->ack_items[0]->server_event_key, a1->ack_items[0]->server_event_key);
    assert_int_equal(bills(w, rr), 2);
    /* JetStream redelivery of the first message: the stored ACK again */
    long rows = fw_count(w, "SELECT count(*) FROM event_records WHERE tenant_id = $1 AND batch_id = $2",
                         w->tenant, batch);
    Mediation__V1__EventBatchAck *a3 = fw_send(w, edge, body);
    assert_string_equal(a3->overall_status, "accepted_all");
    expect_item(a3, 0, "accepted", NULL);
    assert_int_equal(fw_count(w, "SELECT count(*) FROM event_records WHERE tenant_id = $1 AND batch_id = $2",
                              w->tenant, batch), rows);
    assert_int_equal(bills(w, rr), 2);
    mediation__v1__event_batch_ack__free_unpacked(a1, NULL);
    mediation__v1__event_batch_ack__free_unpacked(a2, NULL);
    mediation__v1__event_batch_ack__free_unpacked(a3, NULL);
    free(edge);
    free(body);
    free(batch);
    free(rr);
}

/* F.9 11: impression then a terminal error: the failure is a duplicate
 * (f_terminal_conflict_failure_after_impression), one bill. */
static void impression_then_failure(void **state)
{
    fw *w = *state;
    char *rr = fw_name(w, "resp_impfail");
    fw_delivery(w, rr, "served");
    char *b1 = fw_name(w, "batch_impfail_1"), *b2 = fw_name(w, "batch_impfail_2");
    char *e1[] = { fw_event(w, "impression", "evt_if_imp", rr, "ra_001", 0, NULL), NULL };
    char *body1 = fw_body(b1, e1);
    Mediation__V1__EventBatchAck *a1 = fw_send(w, NULL, body1);
    expect_item(a1, 0, "accepted", MED_R_F_EVENT_ACCEPTED);
    char *e2[] = { fw_event(w, "error", "evt_if_err", rr, "ra_001", 0, NULL), NULL };
    char *body2 = fw_body(b2, e2);
    Mediation__V1__EventBatchAck *a2 = fw_send(w, NULL, body2);
    expect_item(a2, 0, "duplicate", MED_R_F_TERMINAL_CONFLICT_FAILURE_AFTER_IMPRESSION);
    assert_int_equal(bills(w, rr), 1);
    char key[300];
    snprintf(key, sizeof key, "%s|ra_001", rr);
    char *st = fw_value(w, "SELECT state FROM f_closures WHERE tenant_id = $1 AND closure_key = $2",
                        w->tenant, key);
    assert_non_null(st);
    assert_string_equal(st, "closed_success");
    free(st);
    mediation__v1__event_batch_ack__free_unpacked(a1, NULL);
    mediation__v1__event_batch_ack__free_unpacked(a2, NULL);
    free(body1);
    free(body2);
    free(b1);
    free(b2);
    free(rr);
}

/* F.9 14: a click before its impression is pending (no bill); the
 * impression within the wait bills both (f_billing_click_upgraded). */
static void click_before_impression_upgrades(void **state)
{
    fw *w = *state;
    char *rr = fw_name(w, "resp_upgrade");
    fw_delivery(w, rr, "served");
    char *b1 = fw_name(w, "batch_up_1"), *b2 = fw_name(w, "batch_up_2");
    char *e1[] = { fw_event(w, "click", "evt_up_clk", rr, "ra_001", 1, NULL), NULL };
    char *body1 = fw_body(b1, e1);
    Mediation__V1__EventBatchAck *a1 = fw_send(w, NULL, body1);
    expect_item(a1, 0, "accepted", NULL);
    assert_int_equal(bills(w, rr), 0);
    char key[300];
    snprintf(key, sizeof key, "%s|ra_001", rr);
    assert_int_equal(fw_count(w, "SELECT count(*) FROM f_closures WHERE tenant_id = $1 AND closure_key = $2 "
                                 "AND pending_click_event_id = 'evt_up_clk'", w->tenant, key), 1);
    char *e2[] = { fw_event(w, "impression", "evt_up_imp", rr, "ra_001", 0, NULL), NULL };
    char *body2 = fw_body(b2, e2);
    Mediation__V1__EventBatchAck *a2 = fw_send(w, NULL, body2);
    expect_item(a2, 0, "accepted", NULL);
    assert_int_equal(bills_of(w, rr, "ra_001", "billable_impression"), 1);
    assert_int_equal(bills_of(w, rr, "ra_001", "billable_click"), 1);
    assert_int_equal(fw_count(w, "SELECT count(*) FROM f_closures WHERE tenant_id = $1 AND closure_key = $2 "
                                 "AND pending_click_event_id IS NULL AND billed_click", w->tenant, key), 1);
    mediation__v1__event_batch_ack__free_unpacked(a1, NULL);
    mediation__v1__event_batch_ack__free_unpacked(a2, NULL);
    free(body1);
    free(body2);
    free(b1);
    free(b2);
    free(rr);
}

#define SQL_AUTOFILLS \
    "SELECT count(*) FROM event_records WHERE tenant_id = $1 AND closure_key = $2 " \
    "AND event_type = 'failure' AND ack_status = 'accepted'"

/* F.9 9 and 00 decision 3: ad_filled and no terminal -> after the terminal
 * wait (2 s here) exactly one autofill failure, emitted once although two
 * replicas scan; the Delivery's default closure is released silently
 * because the SDK reported its own attempt. A silent SDK's Delivery gets
 * its failure on the default attempt. */
static void ad_filled_without_terminal_autofills_once(void **state)
{
    fw *w = *state;
    char *rr = fw_name(w, "resp_autofill");
    fw_delivery(w, rr, "served");
    uint64_t from = fw_archive_seq(w);
    char *b1 = fw_name(w, "batch_af");
    char *e1[] = { fw_event(w, "ad_filled", "evt_af_fill", rr, "ra_af_1", 0, NULL), NULL };
    char *body = fw_body(b1, e1);
    Mediation__V1__EventBatchAck *a1 = fw_send(w, NULL, body);
    expect_item(a1, 0, "accepted", NULL);
    char key[300];
    snprintf(key, sizeof key, "%s|ra_af_1", rr);
    assert_int_equal(fw_await_count(w, 1, 10000, SQL_AUTOFILLS, w->tenant, key), 1);
    /* a few more scans of both replicas: still one */
    th_sleep_ms(1500);
    assert_int_equal(fw_count(w, SQL_AUTOFILLS, w->tenant, key), 1);
    char *code = fw_value(w, "SELECT payload->>'closureReasonCode' FROM event_records "
                             "WHERE tenant_id = $1 AND closure_key = $2 AND event_type = 'failure'",
                          w->tenant, key);
    assert_non_null(code);
    assert_string_equal(code, MED_R_F_TERMINAL_TIMEOUT_AUTOFILL);
    free(code);
    char *st = fw_value(w, "SELECT state || '/' || terminal_source FROM f_closures "
                           "WHERE tenant_id = $1 AND closure_key = $2", w->tenant, key);
    assert_non_null(st);
    assert_string_equal(st, "closed_failure/system_timeout_synthesized");
    free(st);
    /* the default closure: released, no failure */
    assert_int_equal(fw_count(w, "SELECT count(*) FROM f_closures WHERE tenant_id = $1 "
                                 "AND response_reference = $2 AND is_default AND state = 'released'",
                              w->tenant, rr), 1);
    assert_int_equal(fw_count(w, "SELECT count(*) FROM event_records WHERE tenant_id = $1 "
                                 "AND response_reference = $2 AND event_type = 'failure'", w->tenant, rr), 1);
    assert_int_equal(bills(w, rr), 0);
    /* the failure's attribution fact reached MED_ARCHIVE once */
    fw_records rs;
    fw_archive(w, from, rr, &rs);
    size_t failures = 0;
    for (size_t i = 0; i < rs.n; i++) {
        const Mediation__V1__FToGArchiveRecordLite *r = rs.r[i]->record;
        if (r->attribution_fact && strcmp(r->attribution_fact->attribution_type, "attr_failure_terminal") == 0)
            failures++;
    }
    assert_int_equal(failures, 1);
    fw_records_free(&rs);

    /* silent SDK: the Delivery's own default attempt times out */
    char *rr2 = fw_name(w, "resp_silent");
    fw_delivery(w, rr2, "served");
    assert_int_equal(fw_await_count(w, 1, 10000,
                                    "SELECT count(*) FROM event_records WHERE tenant_id = $1 "
                                    "AND response_reference = $2 AND event_type = 'failure' "
                                    "AND ack_status = 'accepted'", w->tenant, rr2), 1);
    assert_int_equal(fw_count(w, "SELECT count(*) FROM f_closures WHERE tenant_id = $1 AND response_reference = $2 "
                                 "AND is_default AND state = 'closed_failure'", w->tenant, rr2), 1);
    mediation__v1__event_batch_ack__free_unpacked(a1, NULL);
    free(body);
    free(b1);
    free(rr);
    free(rr2);
}

/* F.9 15 / decision 5: Redis flushed between submissions of the same
 * impression (same key, then a new eventId, then a new batchId): exactly
 * one billable_impression. */
static void redis_flush_never_bills_twice(void **state)
{
    fw *w = *state;
    char *rr = fw_name(w, "resp_flush");
    fw_delivery(w, rr, "served");
    char *b1 = fw_name(w, "batch_fl_1"), *b2 = fw_name(w, "batch_fl_2"), *b3 = fw_name(w, "batch_fl_3");
    char *e1[] = { fw_event(w, "impression", "evt_fl_1", rr, "ra_001", 0, NULL), NULL };
    char *body1 = fw_body(b1, e1);
    Mediation__V1__EventBatchAck *a1 = fw_send(w, NULL, body1);
    expect_item(a1, 0, "accepted", NULL);
    fw_redis_flushall();
    Mediation__V1__EventBatchAck *a2 = fw_send(w, NULL, body1);
    expect_item(a2, 0, "duplicate", MED_R_F_DEDUP_COMMITTED_DUPLICATE);
    fw_redis_flushall();
    char *e2[] = { fw_event(w, "impression", "evt_fl_2", rr, "ra_001", 0, NULL), NULL };
    char *body2 = fw_body(b2, e2);
    Mediation__V1__EventBatchAck *a3 = fw_send(w, NULL, body2);
    expect_item(a3, 0, "duplicate", MED_R_F_BILLING_CONFLICT_DUPLICATE_IMPRESSION);
    fw_redis_flushall();
    char *e3[] = { fw_event(w, "impression", "evt_fl_1", rr, "ra_001", 0, NULL), NULL };
    char *body3 = fw_body(b3, e3);
    Mediation__V1__EventBatchAck *a4 = fw_send(w, NULL, body3);
    assert_string_equal(a4->ack_items[0]->ack_status, "duplicate");
    assert_int_equal(bills_of(w, rr, "ra_001", "billable_impression"), 1);
    assert_int_equal(bills(w, rr), 1);
    mediation__v1__event_batch_ack__free_unpacked(a1, NULL);
    mediation__v1__event_batch_ack__free_unpacked(a2, NULL);
    mediation__v1__event_batch_ack__free_unpacked(a3, NULL);
    mediation__v1__event_batch_ack__free_unpacked(a4, NULL);
    free(body1);
    free(body2);
    free(body3);
    free(b1);
    free(b2);
    free(b3);
    free(rr);
}

/* E.11 15 / 00 decision 3: an impression on a no_fill Delivery is
 * rejected and never billed; the no_fill Delivery closes its own loop with
 * one decision_audit record (consistent_non_billable). */
static void impression_on_no_fill_rejected(void **state)
{
    fw *w = *state;
    char *rr = fw_name(w, "resp_nofill");
    uint64_t from = fw_archive_seq(w);
    fw_delivery(w, rr, "no_fill");
    char *b1 = fw_name(w, "batch_nf");
    char *e1[] = { fw_event(w, "impression", "evt_nf_imp", rr, "ra_001", 0, NULL), NULL };
    char *body = fw_body(b1, e1);
    Mediation__V1__EventBatchAck *a1 = fw_send(w, NULL, body);
    assert_string_equal(a1->overall_status, "rejected_all");
    expect_item(a1, 0, "rejected", MED_R_F_EVENT_IMPRESSION_FORBIDDEN_STATUS);
    assert_int_equal(a1->ack_items[0]->retryable, 0);
    assert_int_equal(bills(w, rr), 0);
    fw_records rs;
    long long end = th_now_ms() + 10000;
    size_t loop = 0;
    do {
        fw_archive(w, from, rr, &rs);
        loop = 0;
        for (size_t i = 0; i < rs.n; i++)
            loop += strcmp(rs.r[i]->record->group_consistency_state, "consistent_non_billable") == 0 &&
                    strncmp(rs.r[i]->record->source_keys->event_id, "delivery_", 9) == 0;
        if (loop) break;
        fw_records_free(&rs);
        th_sleep_ms(100);
    } while (th_now_ms() < end);
    assert_int_equal(loop, 1);
    assert_int_equal(count_type(&rs, "billable_fact"), 0);
    fw_records_free(&rs);
    mediation__v1__event_batch_ack__free_unpacked(a1, NULL);
    free(body);
    free(b1);
    free(rr);
}

/* F.2 / F.9 3: an envelope reject answers 400 and stores nothing. */
static void envelope_reject_stores_nothing(void **state)
{
    fw *w = *state;
    char *b1 = fw_name(w, "batch_env");
    char *none[] = { NULL };
    char *body = fw_body(b1, none);
    Mediation__V1__EventBatchAck *a1 = fw_send(w, NULL, body);
    assert_int_equal(a1->http_status, 400);
    assert_non_null(a1->error);
    assert_string_equal(a1->error->code, MED_R_F_ENVELOPE_EVENTS_INVALID);
    assert_int_equal(fw_count(w, "SELECT count(*) FROM f_outbox WHERE tenant_id = $1 AND batch_id = $2",
                              w->tenant, b1), 0);
    assert_int_equal(fw_count(w, "SELECT count(*) FROM event_records WHERE tenant_id = $1 AND batch_id = $2",
                              w->tenant, b1), 0);
    mediation__v1__event_batch_ack__free_unpacked(a1, NULL);
    free(body);
    free(b1);
}

#define KILL_BATCHES 80
#define KILL_EVENTS 5

/* 00 decision 4: both replicas SIGKILLed while batches are in flight, then
 * restarted: JetStream redelivers what was not acked; every event ends up
 * processed exactly once (one event_records row per batch and index, one
 * bill per impression). */
static void sigkill_mid_batch_processes_each_event_once(void **state)
{
    fw *w = *state;
    char *rr[KILL_BATCHES];
    for (int i = 0; i < KILL_BATCHES; i++) {
        char p[32];
        snprintf(p, sizeof p, "resp_kill_%02d", i);
        rr[i] = fw_name(w, p);
        fw_delivery_publish(w, rr[i], "served");
    }
    assert_int_equal(fw_await_count(w, KILL_BATCHES, 20000,
                                    "SELECT count(*) FROM f_deliveries WHERE tenant_id = $1 "
                                    "AND response_reference LIKE 'resp_kill_%' || $2", w->tenant, w->run),
                     KILL_BATCHES);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "batch_kill_%s_", w->run);
    for (int i = 0; i < KILL_BATCHES; i++) {
        /* half of the batches go out while F works, the rest while it is down */
        if (i == KILL_BATCHES / 2)
            for (int r = 0; r < FW_REPLICAS; r++) fw_kill(w, r);
        char *ev[KILL_EVENTS + 1];
        for (int k = 0; k < KILL_EVENTS; k++) {
            char id[32], ra[16];
            snprintf(id, sizeof id, "evt_k_%02d_%d", i, k);
            snprintf(ra, sizeof ra, "ra_%d", k);
            ev[k] = fw_event(w, "impression", id, rr[i], ra, 0, NULL);
        }
        ev[KILL_EVENTS] = NULL;
        char batch[96];
        snprintf(batch, sizeof batch, "%s%02d", prefix, i);
        char *body = fw_body(batch, ev);
        fw_send_nowait(w, NULL, body);
        free(body);
    }
    long before = fw_count(w, "SELECT count(*) FROM event_records WHERE tenant_id = $1 "
                              "AND starts_with(batch_id, $2)", w->tenant, prefix);
    for (int i = 0; i < FW_REPLICAS; i++) fw_restart(w, i);
    long total = KILL_BATCHES * KILL_EVENTS;
    long got = fw_await_count(w, total, 60000,
                              "SELECT count(*) FROM event_records WHERE tenant_id = $1 "
                              "AND starts_with(batch_id, $2)", w->tenant, prefix);
    print_message("killed with %ld of %ld events stored\n", before, total);
    assert_true(before < total);
    assert_int_equal(got, total);
    th_sleep_ms(4000); /* past the ack wait: late redeliveries are in */
    assert_int_equal(fw_count(w, "SELECT count(*) FROM event_records WHERE tenant_id = $1 "
                                 "AND starts_with(batch_id, $2)", w->tenant, prefix), total);
    assert_int_equal(fw_count(w, "SELECT count(DISTINCT (batch_id, event_index)) FROM event_records "
                                 "WHERE tenant_id = $1 AND starts_with(batch_id, $2) "
                                 "AND ack_status = 'accepted'", w->tenant, prefix), total);
    assert_int_equal(fw_count(w, "SELECT count(*) FROM billing_ledger WHERE tenant_id = $1 "
                                 "AND response_reference LIKE 'resp_kill_%' || $2 "
                                 "AND billable_type = 'billable_impression'", w->tenant, w->run), total);
    for (int i = 0; i < KILL_BATCHES; i++) free(rr[i]);
}

/* F.7: a click whose impression never comes stays unbilled; past the
 * terminal wait the scanner writes its f_billing_click_without_impression
 * audit and clears it from the closure, so a late impression bills only
 * itself. */
static void pending_click_expires(void **state)
{
    fw *w = *state;
    char *rr = fw_name(w, "resp_clkexp");
    fw_delivery(w, rr, "served");
    char *b1 = fw_name(w, "batch_ce_1"), *b2 = fw_name(w, "batch_ce_2");
    char *e1[] = { fw_event(w, "click", "evt_ce_clk", rr, "ra_001", 1, NULL), NULL };
    char *body1 = fw_body(b1, e1);
    Mediation__V1__EventBatchAck *a1 = fw_send(w, NULL, body1);
    expect_item(a1, 0, "accepted", NULL);
    char key[300];
    snprintf(key, sizeof key, "%s|ra_001", rr);
    assert_int_equal(fw_await_count(w, 1, 10000,
                                    "SELECT count(*) FROM f_closures WHERE tenant_id = $1 "
                                    "AND closure_key = $2 AND pending_click_event_id IS NULL",
                                    w->tenant, key), 1);
    char *code = fw_value(w, "SELECT payload->>'decisionReasonCode' FROM event_records "
                             "WHERE tenant_id = $1 AND closure_key IS NULL AND response_reference = $2 "
                             "AND payload->>'internalType' = 'click' AND event_id = 'evt_ce_clk' "
                             "AND batch_id <> $2 ORDER BY id DESC LIMIT 1", w->tenant, rr);
    assert_non_null(code);
    assert_string_equal(code, MED_R_F_BILLING_CLICK_WITHOUT_IMPRESSION);
    free(code);
    char *e2[] = { fw_event(w, "impression", "evt_ce_imp", rr, "ra_001", 0, NULL), NULL };
    char *body2 = fw_body(b2, e2);
    Mediation__V1__EventBatchAck *a2 = fw_send(w, NULL, body2);
    expect_item(a2, 0, "accepted", NULL);
    assert_int_equal(bills_of(w, rr, "ra_001", "billable_impression"), 1);
    assert_int_equal(bills_of(w, rr, "ra_001", "billable_click"), 0);
    mediation__v1__event_batch_ack__free_unpacked(a1, NULL);
    mediation__v1__event_batch_ack__free_unpacked(a2, NULL);
    free(body1);
    free(body2);
    free(b1);
    free(b2);
    free(rr);
}

/* F.8 compensation: an outbox row left unpublished (a crash between the
 * commit and the publish) is republished by the sweeper with the same
 * recordKeys; one whose publish keeps failing past the 15 min window is
 * dead-lettered (dead_letter_records, med.dlq.f.v1). */
static void sweeper_republishes_and_dead_letters(void **state)
{
    fw *w = *state;
    char *rr = fw_name(w, "resp_sweep");
    fw_delivery(w, rr, "served");
    char *b1 = fw_name(w, "batch_sw_1"), *b2 = fw_name(w, "batch_sw_2");
    char *e1[] = { fw_event(w, "impression", "evt_sw_imp", rr, "ra_001", 0, NULL), NULL };
    char *body1 = fw_body(b1, e1);
    Mediation__V1__EventBatchAck *a1 = fw_send(w, NULL, body1);
    expect_item(a1, 0, "accepted", NULL);
    assert_int_equal(fw_await_count(w, 1, 5000, "SELECT count(*) FROM f_outbox WHERE tenant_id = $1 "
                                                "AND batch_id = $2 AND published_at IS NOT NULL",
                                    w->tenant, b1), 1);
    /* as if F died after its commit */
    PQclear(PQexecParams(w->pg, "UPDATE f_outbox SET published_at = NULL, next_attempt_at = now() "
                                "WHERE tenant_id = $1 AND batch_id = $2",
                         2, NULL, (const char *[]){ w->tenant, b1 }, NULL, NULL, 0));
    assert_int_equal(fw_await_count(w, 1, 10000, "SELECT count(*) FROM f_outbox WHERE tenant_id = $1 "
                                                 "AND batch_id = $2 AND published_at IS NOT NULL "
                                                 "AND attempts = 1", w->tenant, b1), 1);
    /* a row whose records cannot go out, first failure 16 min ago */
    char *e2[] = { fw_event(w, "ad_filled", "evt_sw_fill", rr, "ra_002", 0, NULL), NULL };
    char *body2 = fw_body(b2, e2);
    Mediation__V1__EventBatchAck *a2 = fw_send(w, NULL, body2);
    expect_item(a2, 0, "accepted", NULL);
    assert_int_equal(fw_await_count(w, 1, 5000, "SELECT count(*) FROM f_outbox WHERE tenant_id = $1 "
                                                "AND batch_id = $2 AND published_at IS NOT NULL",
                                    w->tenant, b2), 1);
    PQclear(PQexecParams(w->pg, "UPDATE f_outbox SET published_at = NULL, next_attempt_at = now(), "
                                "records_pb = '\\xffff'::bytea, attempts = 6, "
                                "first_attempt_at = now() - interval '16 minutes' "
                                "WHERE tenant_id = $1 AND batch_id = $2",
                         2, NULL, (const char *[]){ w->tenant, b2 }, NULL, NULL, 0));
    assert_int_equal(fw_await_count(w, 1, 10000, "SELECT count(*) FROM f_outbox WHERE tenant_id = $1 "
                                                 "AND batch_id = $2 AND dead_at IS NOT NULL",
                                    w->tenant, b2), 1);
    char *reason = fw_value(w, "SELECT d.reason_code FROM dead_letter_records d JOIN f_outbox o "
                               "ON o.tenant_id = d.tenant_id AND o.outbox_key = d.msg_id "
                               "WHERE d.tenant_id = $1 AND o.batch_id = $2", w->tenant, b2);
    assert_non_null(reason);
    assert_string_equal(reason, MED_R_F_OUTPUT_ARCHIVE_COMPENSATION_EXHAUSTED);
    free(reason);
    mediation__v1__event_batch_ack__free_unpacked(a1, NULL);
    mediation__v1__event_batch_ack__free_unpacked(a2, NULL);
    free(body1);
    free(body2);
    free(b1);
    free(b2);
    free(rr);
}

/* F.1: PostgreSQL unreachable -> 503 with retry_after_sec, every item
 * rejected f_event_store_unavailable (retryable); the retry of the same
 * batch once it is back is accepted and bills once. */
static void store_down_answers_503(void **state)
{
    fw *w = *state;
    char *rr = fw_name(w, "resp_down");
    fw_delivery(w, rr, "served");
    char *b1 = fw_name(w, "batch_down");
    char *e1[] = { fw_event(w, "impression", "evt_dn_imp", rr, "ra_001", 0, NULL), NULL };
    char *body = fw_body(b1, e1);
    assert_int_equal(th_infra("stop-one", "pg"), 0);
    Mediation__V1__EventBatchAck *a1 = fw_send(w, NULL, body);
    int restarted = th_infra("start-one", "pg");
    assert_int_equal(a1->http_status, 503);
    assert_true(a1->retry_after_sec > 0);
    assert_non_null(a1->error);
    assert_string_equal(a1->error->code, MED_R_F_EVENT_STORE_UNAVAILABLE);
    expect_item(a1, 0, "rejected", MED_R_F_EVENT_STORE_UNAVAILABLE);
    assert_int_equal(a1->ack_items[0]->retryable, 1);
    assert_int_equal(restarted, 0);
    PQreset(w->pg);
    assert_int_equal(PQstatus(w->pg), CONNECTION_OK);
    Mediation__V1__EventBatchAck *a2 = fw_send(w, NULL, body);
    assert_int_equal(a2->http_status, 200);
    expect_item(a2, 0, "accepted", NULL);
    assert_int_equal(bills(w, rr), 1);
    mediation__v1__event_batch_ack__free_unpacked(a1, NULL);
    mediation__v1__event_batch_ack__free_unpacked(a2, NULL);
    free(body);
    free(b1);
    free(rr);
}

#define RACE_BATCHES 8

/* F.9 15: one impression sent to two replicas at once under several
 * eventIds: the billing claims race in PostgreSQL (the loser waits for the
 * winner's commit), exactly one billable_impression, every other copy a
 * duplicate f_billing_conflict_duplicate_impression. */
static void concurrent_replicas_bill_once(void **state)
{
    fw *w = *state;
    char *rr = fw_name(w, "resp_race");
    fw_delivery(w, rr, "served");
    for (int i = 0; i < RACE_BATCHES; i++) {
        char id[32], batch[64];
        snprintf(id, sizeof id, "evt_race_%d", i);
        snprintf(batch, sizeof batch, "batch_race_%s_%d", w->run, i);
        char *ev[] = { fw_event(w, "impression", id, rr, "ra_001", 0, NULL), NULL };
        char *body = fw_body(batch, ev);
        fw_send_nowait(w, NULL, body);
        free(body);
    }
    assert_int_equal(fw_await_count(w, RACE_BATCHES, 20000,
                                    "SELECT count(*) FROM event_records WHERE tenant_id = $1 "
                                    "AND response_reference = $2", w->tenant, rr), RACE_BATCHES);
    assert_int_equal(bills_of(w, rr, "ra_001", "billable_impression"), 1);
    assert_int_equal(fw_count(w, "SELECT count(*) FROM event_records WHERE tenant_id = $1 "
                                 "AND response_reference = $2 AND ack_status = 'accepted'", w->tenant, rr), 1);
    assert_int_equal(fw_count(w, "SELECT count(*) FROM event_records WHERE tenant_id = $1 "
                                 "AND response_reference = $2 AND ack_status = 'duplicate'",
                              w->tenant, rr), RACE_BATCHES - 1);
    char *codes = fw_value(w, "SELECT string_agg(DISTINCT ack_reason_code, ',') FROM event_records "
                              "WHERE tenant_id = $1 AND response_reference = $2 AND ack_status = 'duplicate'",
                           w->tenant, rr);
    assert_non_null(codes);
    assert_string_equal(codes, MED_R_F_BILLING_CONFLICT_DUPLICATE_IMPRESSION);
    free(codes);
    free(rr);
}

/* Expired dedup and eventSeq windows are purged (migrations/0012), across
 * tenants, as the application role; live rows stay. */
static void expired_windows_are_purged(void **state)
{
    fw *w = *state;
    char *other = fw_name(w, "t_other");
    const char *seed =
        "INSERT INTO idempotency_keys (tenant_id, scope, key, state, expires_at) VALUES "
        "($1, 'f_dedup', 'k_expired_1', 'accepted_committed', now() - interval '1 minute'), "
        "($2, 'f_dedup', 'k_expired_2', 'accepted_committed', now() - interval '1 minute'), "
        "($1, 'f_dedup', 'k_live', 'accepted_committed', now() + interval '1 day')";
    const char *p[2] = { w->tenant, other };
    PGresult *r = PQexecParams(w->pg, seed, 2, NULL, p, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    r = PQexecParams(w->pg,
                     "INSERT INTO f_event_seq (tenant_id, scope, last_seq, expires_at) VALUES "
                     "($1, 'seq_expired', 3, now() - interval '1 minute'), "
                     "($1, 'seq_live', 3, now() + interval '1 day')",
                     1, NULL, p, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);

    PGconn *app = PQconnectdb(th_env("PG_DSN"));
    assert_int_equal(PQstatus(app), CONNECTION_OK);
    r = PQexec(app, "SELECT med_expired_keys_purge(100000)");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) fail_msg("purge: %s", PQerrorMessage(app));
    assert_true(atol(PQgetvalue(r, 0, 0)) >= 3);
    PQclear(r);
    PQfinish(app);

    assert_int_equal(fw_count(w, "SELECT count(*) FROM idempotency_keys WHERE tenant_id IN ($1, $2) "
                                 "AND key LIKE 'k_%'", w->tenant, other), 1);
    assert_int_equal(fw_count(w, "SELECT count(*) FROM idempotency_keys WHERE tenant_id = $1 "
                                 "AND key = 'k_live'", w->tenant, NULL), 1);
    assert_int_equal(fw_count(w, "SELECT count(*) FROM f_event_seq WHERE tenant_id = $1 "
                                 "AND scope LIKE 'seq_%'", w->tenant, NULL), 1);
    free(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(served_loop_bills_once),
        cmocka_unit_test(resent_batch_is_duplicate),
        cmocka_unit_test(impression_then_failure),
        cmocka_unit_test(click_before_impression_upgrades),
        cmocka_unit_test(ad_filled_without_terminal_autofills_once),
        cmocka_unit_test(redis_flush_never_bills_twice),
        cmocka_unit_test(concurrent_replicas_bill_once),
        cmocka_unit_test(impression_on_no_fill_rejected),
        cmocka_unit_test(envelope_reject_stores_nothing),
        cmocka_unit_test(pending_click_expires),
        cmocka_unit_test(sweeper_republishes_and_dead_letters),
        cmocka_unit_test(sigkill_mid_batch_processes_each_event_once),
        cmocka_unit_test(store_down_answers_503),
        cmocka_unit_test(expired_windows_are_purged),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
