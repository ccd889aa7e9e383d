/* F.9 acceptance cases 1-17 and E.11 case 15 at the level of F's pure
 * phases; the store's part (phases 3, 5, 7) is the in-memory stand-in of
 * test_f_fixture.c, so every case runs the real rules batch after batch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "f_archive.h"
#include "f_compensation.h"
#include "f_timers.h"
#include "med/ids.h"
#include "med/reason.h"
#include "test_f_fixture.h"

#define SEC 1000LL
#define CK FX_RR "|" FX_RA

/* One batch of the given events through all phases. */
static void run(fx_store *s, f_batch_work *b, int64_t at, const char *batch_id, json_t *events)
{
    char *body = fx_body(batch_id, events);
    fx_run(s, b, at, body);
    free(body);
}

static json_t *arr(json_t *a, json_t *b, json_t *c)
{
    json_t *v = json_array();
    if (a) json_array_append_new(v, a);
    if (b) json_array_append_new(v, b);
    if (c) json_array_append_new(v, c);
    return v;
}

static json_t *with_str(json_t *ev, const char *k, const char *v)
{
    json_object_set_new(ev, k, json_string(v));
    return ev;
}

static json_t *with_int(json_t *ev, const char *k, int64_t v)
{
    json_object_set_new(ev, k, json_integer(v));
    return ev;
}

static int setup(void **state)
{
    fx_store *s = calloc(1, sizeof *s);
    fx_store_init(s);
    fx_delivery(s, FX_RR, "served", 1500000);
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    fx_store_free(*state);
    free(*state);
    return 0;
}

/* 1 */
static void case01_accepted_all(void **state)
{
    fx_store *s = *state;
    f_batch_work b;
    run(s, &b, FX_T0, "batch_001",
        arr(fx_ev("impression", "evt_imp_1"), fx_ev("click", "evt_clk_1"), fx_ev("postback", "evt_pb_1")));
    assert_int_equal(b.ack->http_status, 200);
    assert_string_equal(b.ack->overall_status, "accepted_all");
    assert_int_equal(b.ack->n_ack_items, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(b.ack->ack_items[i]->event_index, i);
        assert_string_equal(fx_ack_code(&b, (size_t)i), MED_R_F_EVENT_ACCEPTED);
    }
    assert_string_equal(b.ack->ack_items[1]->event_id, "evt_clk_1");
    /* the click follows the billable impression of the same batch */
    assert_int_equal(fx_count_billable(&b, "billable_impression"), 1);
    assert_int_equal(fx_count_billable(&b, "billable_click"), 1);
    f_batch_free(&b);
}

/* 2 */
static void case02_unsupported_type(void **state)
{
    fx_store *s = *state;
    f_batch_work b;
    json_t *err = with_str(fx_ev("error", "evt_err_1"), "errorClass", "non_terminal");
    run(s, &b, FX_T0, "batch_002",
        arr(fx_ev("impression", "evt_imp_1"), fx_ev("viewability_ping", "evt_vp_1"), err));
    assert_string_equal(b.ack->overall_status, "partial_success");
    assert_string_equal(fx_ack_status(&b, 1), "rejected");
    assert_string_equal(fx_ack_code(&b, 1), MED_R_F_EVENT_TYPE_UNSUPPORTED);
    assert_false(b.ack->ack_items[1]->retryable);
    assert_string_equal(b.ack->ack_items[1]->server_event_key, "f_evt_rejected_1");
    assert_string_equal(fx_ack_status(&b, 2), "accepted");
    f_batch_free(&b);

    /* a wire failure likewise, even if it claims to be synthesized */
    json_t *fail = with_str(fx_ev("failure", "evt_fail_1"), "failureReasonCode", "x");
    json_object_set_new(fail, "synthesized", json_true());
    json_object_set_new(fail, "terminalSource", json_string("system_timeout_synthesized"));
    run(s, &b, FX_T0, "batch_002b", arr(fail, NULL, NULL));
    assert_string_equal(b.ack->overall_status, "rejected_all");
    assert_string_equal(fx_ack_code(&b, 0), MED_R_F_EVENT_TYPE_UNSUPPORTED);
    assert_false(b.ack->ack_items[0]->retryable);
    f_batch_free(&b);
}

static void expect_envelope(const char *body, const char *reason, int status)
{
    f_batch_work b;
    med_err err;
    fx_batch(&b, FX_T0);
    assert_int_equal(f_envelope_parse(&b, body, strlen(body), &err), MED_OK);
    assert_non_null(b.envelope_reason);
    assert_string_equal(b.envelope_reason, reason);
    assert_int_equal(b.envelope_http_status, status);
    assert_int_equal(b.ack->http_status, status);
    assert_string_equal(b.ack->error->code, reason);
    assert_null(b.events); /* nothing to store */
    assert_int_equal(b.ack->n_ack_items, 0);
    f_batch_free(&b);
}

/* 3 */
static void case03_envelope(void **state)
{
    (void)state;
    expect_envelope("{\"batchId\":\"\",\"appId\":\"app_chat_main\",\"sdkVersion\":\"1\","
                    "\"sentAt\":\"2026-02-22T10:29:59.500Z\",\"schemaVersion\":\"schema_v1\",\"events\":[]}",
                    MED_R_F_ENVELOPE_EVENTS_INVALID, 400);
    json_t *many = json_array();
    for (int i = 0; i < 101; i++) {
        char id[32];
        snprintf(id, sizeof id, "evt_%d", i);
        json_array_append_new(many, fx_ev("impression", id));
    }
    char *body = fx_body("batch_003", many);
    expect_envelope(body, MED_R_F_ENVELOPE_EVENTS_INVALID, 400);
    free(body);
    expect_envelope("{\"batchId\":\"b1\",\"appId\":\"app_chat_main\",\"sdkVersion\":\"1\","
                    "\"sentAt\":\"2026-02-22T10:29:59.500Z\",\"schemaVersion\":\"schema_v9\",\"events\":[{}]}",
                    MED_R_F_ENVELOPE_SCHEMA_UNSUPPORTED, 400);
}

/* 4 */
static void case04_seq(void **state)
{
    fx_store *s = *state;
    f_batch_work b;
    run(s, &b, FX_T0, "batch_004", arr(fx_ev("click", "evt_clk_a"), fx_ev("click", "evt_clk_b"), NULL));
    assert_string_equal(fx_ack_status(&b, 0), "accepted");
    assert_string_equal(fx_ack_status(&b, 1), "rejected");
    assert_string_equal(fx_ack_code(&b, 1), MED_R_F_EVENT_SEQ_INVALID);
    /* the rejected click's claim is released, so a corrected resend works */
    assert_int_equal(b.dedup[b.events[1].dedup_row].release, 1);
    assert_int_equal(b.dedup[b.events[0].dedup_row].release, 0);
    f_batch_free(&b);

    /* the stored last value holds across batches; a higher one passes */
    run(s, &b, FX_T0 + SEC, "batch_004b",
        arr(fx_ev("click", "evt_clk_c"), with_int(fx_ev("click", "evt_clk_d"), "eventSeq", 5), NULL));
    assert_string_equal(fx_ack_code(&b, 0), MED_R_F_EVENT_SEQ_INVALID);
    assert_string_equal(fx_ack_status(&b, 1), "accepted");
    f_batch_free(&b);

    json_t *noseq = fx_ev("click", "evt_clk_e");
    json_object_del(noseq, "eventSeq");
    run(s, &b, FX_T0, "batch_004c", arr(noseq, NULL, NULL));
    assert_string_equal(fx_ack_code(&b, 0), MED_R_F_EVENT_SEQ_MISSING_REQUIRED);
    f_batch_free(&b);
}

/* 5 */
static void case05_idem_fallback(void **state)
{
    fx_store *s = *state;
    f_batch_work b;
    run(s, &b, FX_T0, "batch_005",
        arr(with_str(fx_ev("impression", "evt_imp_5"), "idempotencyKey", "*invalid*"), NULL, NULL));
    assert_string_equal(fx_ack_status(&b, 0), "accepted");
    assert_string_equal(fx_ack_code(&b, 0), MED_R_F_IDEMPOTENCY_KEY_INVALID_FALLBACK);
    assert_string_equal(b.events[0].key_source, "client_event_id");
    assert_string_equal(b.ack->ack_items[0]->server_event_key,
                        "f_dedup_v1:client_event_id:app_chat_main|batch_005|evt_imp_5");
    assert_string_equal(b.audit->decisions[0]->dedup_decision->key_source, "client_event_id");
    f_batch_free(&b);
}

/* 6 */
static void case06_duplicates(void **state)
{
    fx_store *s = *state;
    f_batch_work b;
    run(s, &b, FX_T0, "batch_006",
        arr(with_str(fx_ev("impression", "evt_imp_6"), "idempotencyKey", "idem_dup_key_001"), NULL, NULL));
    assert_string_equal(fx_ack_status(&b, 0), "accepted");
    f_batch_free(&b);

    run(s, &b, FX_T0 + 60 * SEC, "batch_006b",
        arr(with_str(fx_ev("impression", "evt_imp_6"), "idempotencyKey", "idem_dup_key_001"), NULL, NULL));
    assert_string_equal(b.ack->overall_status, "partial_success");
    assert_string_equal(fx_ack_status(&b, 0), "duplicate");
    assert_string_equal(fx_ack_code(&b, 0), MED_R_F_DEDUP_COMMITTED_DUPLICATE);
    assert_string_equal(b.ack->ack_items[0]->server_event_key,
                        "f_dedup_v1:client_idempotency:app_chat_main|idem_dup_key_001");
    assert_int_equal(b.n_records, 1);
    assert_string_equal(b.records[0]->record_type, "decision_audit");
    assert_string_equal(b.records[0]->record_status, "duplicate");
    assert_string_equal(b.records[0]->decision_audit->decision_action, "drop");
    assert_string_equal(b.records[0]->decision_reason_code, MED_R_F_DEDUP_COMMITTED_DUPLICATE);
    f_batch_free(&b);

    /* twice in one batch */
    run(s, &b, FX_T0, "batch_006c",
        arr(with_str(fx_ev("ad_filled", "evt_af_6"), "idempotencyKey", "idem_dup_key_002"),
            with_str(fx_ev("ad_filled", "evt_af_6"), "idempotencyKey", "idem_dup_key_002"), NULL));
    assert_string_equal(fx_ack_status(&b, 0), "accepted");
    assert_string_equal(fx_ack_status(&b, 1), "duplicate");
    assert_string_equal(fx_ack_code(&b, 1), MED_R_F_DEDUP_INFLIGHT_DUPLICATE);
    assert_int_equal(b.n_dedup, 1);
    f_batch_free(&b);
}

/* 7 */
static void case07_payload_conflict(void **state)
{
    fx_store *s = *state;
    f_batch_work b;
    run(s, &b, FX_T0, "batch_007",
        arr(with_str(fx_ev("impression", "evt_imp_7"), "idempotencyKey", "idem_dup_key_001"), NULL, NULL));
    f_batch_free(&b);
    json_t *other = with_str(fx_ev("impression", "evt_imp_7"), "idempotencyKey", "idem_dup_key_001");
    json_object_set_new(other, "creativeId", json_string("creative_999"));
    run(s, &b, FX_T0 + SEC, "batch_007b", arr(other, NULL, NULL));
    assert_string_equal(fx_ack_status(&b, 0), "rejected");
    assert_string_equal(fx_ack_code(&b, 0), MED_R_F_DEDUP_PAYLOAD_CONFLICT);
    assert_false(b.ack->ack_items[0]->retryable);
    f_batch_free(&b);
    /* eventAt is outside the digest: a later copy is still a duplicate */
    json_t *copy = with_str(fx_ev("impression", "evt_imp_7"), "idempotencyKey", "idem_dup_key_001");
    fx_ev_at(copy, FX_T0 - 30 * SEC);
    run(s, &b, FX_T0 + 2 * SEC, "batch_007c", arr(copy, NULL, NULL));
    assert_string_equal(fx_ack_code(&b, 0), MED_R_F_DEDUP_COMMITTED_DUPLICATE);
    assert_int_equal(s->billable_records, 1);
    f_batch_free(&b);
}

/* 8 */
static void case08_windows(void **state)
{
    fx_store *s = *state;
    f_batch_work b;
    const int64_t day = 86400 * SEC;
    json_t *old_imp = with_str(fx_ev("impression", "evt_imp_8a"), "eventAt", "2025-12-01T00:00:00.000Z");
    json_t *old_int = fx_ev("interaction", "evt_int_8");
    fx_ev_at(old_int, FX_T0 - 4 * day);
    json_t *imp4 = fx_ev("impression", "evt_imp_8b");
    fx_ev_at(imp4, FX_T0 - 4 * day);
    run(s, &b, FX_T0, "batch_008", arr(old_imp, old_int, imp4));
    assert_string_equal(fx_ack_code(&b, 0), MED_R_F_EVENT_STALE_OUTSIDE_DEDUP_WINDOW);
    assert_string_equal(fx_ack_code(&b, 1), MED_R_F_EVENT_STALE_OUTSIDE_DEDUP_WINDOW);
    assert_string_equal(fx_ack_status(&b, 2), "accepted");
    f_batch_free(&b);

    run(s, &b, FX_T0, "batch_008b",
        arr(with_str(fx_ev("ad_filled", "evt_af_8"), "eventIdScope", "global_unique"), NULL, NULL));
    assert_string_equal(fx_ack_code(&b, 0), MED_R_F_EVENT_ID_GLOBAL_UNIQUENESS_UNVERIFIED);
    f_batch_free(&b);

    /* verified apps get the global key */
    char *body = fx_body("batch_008c",
                         arr(with_str(fx_ev("ad_filled", "evt_af_8"), "eventIdScope", "global_unique"), NULL, NULL));
    fx_batch(&b, FX_T0);
    b.event_id_global_verified = 1;
    fx_parse_validate(&b, body);
    assert_string_equal(b.events[0].dedup_key, "f_dedup_v1:client_event_id:app_chat_main|global|evt_af_8");
    free(body);
    f_batch_free(&b);
}

/* ad_filled at t, then the scan loop of one replica at `now`: CAS every
 * due closure of the store, emit its failure. Returns how many it emitted. */
static size_t scan(fx_store *s, int64_t now, int cas)
{
    size_t emitted = 0;
    f_batch_work b;
    f_batch_init(&b, "tenant_a", FX_APP, now, NULL);
    for (size_t i = 0; i < s->n_closures; i++) {
        f_closure_row *c = &s->closures[i];
        int due = f_closure_timeout_due(c, now, &b.windows);
        if (!due && !(cas == 0 && c->state == F_CLOSURE_CLOSED_FAILURE)) continue;
        if (cas && due) { /* the CAS winner */
            c->state = F_CLOSURE_CLOSED_FAILURE;
            c->source = F_TERMINAL_SYSTEM_TIMEOUT;
        }
        med_err err;
        assert_int_equal(f_batch_add_synth_failure(&b, c, &err), MED_OK);
        emitted++;
    }
    if (emitted) {
        fx_run_prepared(s, &b);
        size_t accepted = 0;
        for (size_t i = 0; i < b.n_events; i++)
            if (b.events[i].status == F_ACK_ACCEPTED) accepted++;
        emitted = accepted;
    }
    f_batch_free(&b);
    return emitted;
}

static void open_closure_at(fx_store *s, int64_t t)
{
    f_batch_work b;
    json_t *af = fx_ev("ad_filled", "evt_af_9");
    fx_ev_at(af, t);
    run(s, &b, t, "batch_009", arr(af, NULL, NULL));
    assert_string_equal(fx_ack_status(&b, 0), "accepted");
    f_batch_free(&b);
    assert_int_equal(fx_closure(s, CK)->state, F_CLOSURE_OPEN);
}

/* 9 */
static void case09_autofill(void **state)
{
    fx_store *s = *state;
    const int64_t T = FX_T0;
    open_closure_at(s, T);
    assert_int_equal(scan(s, T + 60 * SEC, 1), 0);
    assert_int_equal(scan(s, T + 121 * SEC, 1), 1);
    const f_closure_row *c = fx_closure(s, CK);
    assert_int_equal(c->state, F_CLOSURE_CLOSED_FAILURE);
    assert_int_equal(c->source, F_TERMINAL_SYSTEM_TIMEOUT);
    assert_non_null(c->timeout_record_key);
    assert_int_equal(scan(s, T + 180 * SEC, 1), 0);
}

static void case09_two_replicas(void **state)
{
    fx_store *s = *state;
    const int64_t T = FX_T0;
    open_closure_at(s, T);
    /* both replicas see it due; the losing one emits anyway (CAS ignored):
     * normal dedup makes it take effect once */
    assert_int_equal(scan(s, T + 121 * SEC, 1), 1);
    assert_int_equal(scan(s, T + 122 * SEC, 0), 0);
}

/* 10 */
static void case10_late_impression(void **state)
{
    fx_store *s = *state;
    const int64_t T = FX_T0;
    open_closure_at(s, T);
    f_batch_work t;
    f_batch_init(&t, "tenant_a", FX_APP, T + 121 * SEC, NULL);
    f_closure_row *c = (f_closure_row *)fx_closure(s, CK);
    c->state = F_CLOSURE_CLOSED_FAILURE;
    c->source = F_TERMINAL_SYSTEM_TIMEOUT;
    med_err err;
    assert_int_equal(f_batch_add_synth_failure(&t, c, &err), MED_OK);
    fx_run_prepared(s, &t);
    assert_string_equal(fx_ack_status(&t, 0), "accepted");
    assert_string_equal(t.events[0].closure_decision->reason_code, MED_R_F_TERMINAL_TIMEOUT_AUTOFILL);
    const Mediation__V1__FToGArchiveRecordLite *timeout_rec = fx_find_record(&t, "attribution_fact", NULL);
    assert_non_null(timeout_rec);
    assert_string_equal(timeout_rec->attribution_fact->attribution_type, "attr_failure_terminal");

    f_batch_work b;
    json_t *imp = fx_ev("impression", "evt_imp_10");
    fx_ev_at(imp, T + 122 * SEC);
    run(s, &b, T + 122 * SEC, "batch_010", arr(imp, NULL, NULL));
    assert_string_equal(fx_ack_status(&b, 0), "accepted");
    assert_int_equal(fx_closure(s, CK)->state, F_CLOSURE_CLOSED_SUCCESS);
    const Mediation__V1__FToGArchiveRecordLite *sup =
        fx_find_record(&b, "decision_audit", MED_R_F_TERMINAL_SUPERSEDED_BY_IMPRESSION);
    assert_non_null(sup);
    assert_true(sup->superseded_record_key_opt_case);
    assert_string_equal(sup->superseded_record_key, timeout_rec->record_key);
    assert_int_equal(fx_count_billable(&b, "billable_impression"), 1);
    f_batch_free(&b);
    f_batch_free(&t);
}

static void case10_late_real_failure(void **state)
{
    fx_store *s = *state;
    open_closure_at(s, FX_T0);
    assert_int_equal(scan(s, FX_T0 + 121 * SEC, 1), 1);
    f_batch_work b;
    run(s, &b, FX_T0 + 122 * SEC, "batch_010b", arr(fx_ev("error", "evt_err_10"), NULL, NULL));
    assert_string_equal(fx_ack_status(&b, 0), "duplicate");
    assert_string_equal(fx_ack_code(&b, 0), MED_R_F_TERMINAL_DUPLICATE_FAILURE_AFTER_SYNTHESIZED);
    assert_int_equal(fx_count_records(&b, "attribution_fact", "conflicted"), 1);
    f_batch_free(&b);
}

/* 11 */
static void case11_failure_after_impression(void **state)
{
    fx_store *s = *state;
    f_batch_work b;
    run(s, &b, FX_T0, "batch_011", arr(fx_ev("impression", "evt_imp_11"), NULL, NULL));
    f_batch_free(&b);
    run(s, &b, FX_T0 + SEC, "batch_011b", arr(fx_ev("error", "evt_err_11"), NULL, NULL));
    assert_string_equal(fx_ack_status(&b, 0), "duplicate");
    assert_string_equal(fx_ack_code(&b, 0), MED_R_F_TERMINAL_CONFLICT_FAILURE_AFTER_IMPRESSION);
    f_batch_free(&b);
}

static void case11_one_batch(void **state)
{
    fx_store *s = *state;
    f_batch_work b;
    json_t *err = fx_ev("error", "evt_err_11");
    fx_ev_at(err, FX_T0 - 5 * SEC); /* earlier, yet impression beats failure */
    run(s, &b, FX_T0, "batch_011c", arr(err, fx_ev("impression", "evt_imp_11"), NULL));
    assert_int_equal(b.ack->ack_items[0]->event_index, 0);
    assert_int_equal(b.ack->ack_items[1]->event_index, 1);
    assert_string_equal(fx_ack_status(&b, 0), "duplicate");
    assert_string_equal(fx_ack_code(&b, 0), MED_R_F_TERMINAL_CONFLICT_FAILURE_AFTER_IMPRESSION);
    assert_string_equal(fx_ack_status(&b, 1), "accepted");
    assert_int_equal(fx_count_billable(&b, "billable_impression"), 1);
    f_batch_free(&b);
}

/* 12 */
static void case12_impression_after_failure(void **state)
{
    fx_store *s = *state;
    f_batch_work b;
    run(s, &b, FX_T0, "batch_012", arr(fx_ev("error", "evt_err_12"), NULL, NULL));
    assert_int_equal(fx_closure(s, CK)->source, F_TERMINAL_REAL_FAILURE);
    f_batch_free(&b);
    run(s, &b, FX_T0 + SEC, "batch_012b", arr(fx_ev("impression", "evt_imp_12"), NULL, NULL));
    assert_string_equal(fx_ack_status(&b, 0), "duplicate");
    assert_string_equal(fx_ack_code(&b, 0), MED_R_F_TERMINAL_CONFLICT_IMPRESSION_AFTER_FAILURE);
    assert_int_equal(fx_count_records(&b, "billable_fact", NULL), 0);
    assert_int_equal(s->billable_records, 0);
    assert_int_equal(s->n_billing, 0);
    f_batch_free(&b);
}

/* 13 */
static void case13_second_impression(void **state)
{
    fx_store *s = *state;
    f_batch_work b;
    run(s, &b, FX_T0, "batch_013", arr(fx_ev("impression", "evt_imp_13a"), NULL, NULL));
    f_batch_free(&b);
    run(s, &b, FX_T0 + SEC, "batch_013b", arr(fx_ev("impression", "evt_imp_13b"), NULL, NULL));
    assert_string_equal(fx_ack_status(&b, 0), "duplicate");
    assert_string_equal(fx_ack_code(&b, 0), MED_R_F_BILLING_CONFLICT_DUPLICATE_IMPRESSION);
    const Mediation__V1__FToGArchiveRecordLite *r = fx_find_record(&b, "attribution_fact", NULL);
    assert_string_equal(r->attribution_fact->attribution_type, "attr_impression_duplicate");
    assert_string_equal(r->record_status, "conflicted");
    f_batch_free(&b);
    assert_int_equal(s->n_billing, 1);
    assert_string_equal(s->billing[0].key, "resp_f_001|ra_001|billable_impression");
}

static const Mediation__V1__FactDecisionAuditLite *click_decision(const f_batch_work *b)
{
    for (size_t i = 0; i < b->n_events; i++)
        if (b->events[i].click.decision) return b->events[i].click.decision;
    return NULL;
}

/* 14 */
static void case14_click_upgraded(void **state)
{
    fx_store *s = *state;
    f_batch_work b;
    run(s, &b, FX_T0, "batch_014", arr(fx_ev("click", "evt_clk_14"), NULL, NULL));
    assert_string_equal(fx_ack_status(&b, 0), "accepted");
    assert_string_equal(b.events[0].attribution[0]->attribution_type, "attr_click_pending");
    assert_int_equal(fx_count_billable(&b, "billable_click"), 0);
    f_batch_free(&b);
    run(s, &b, FX_T0 + 30 * SEC, "batch_014b", arr(fx_ev("impression", "evt_imp_14"), NULL, NULL));
    assert_int_equal(fx_count_billable(&b, "billable_impression"), 1);
    assert_int_equal(fx_count_billable(&b, "billable_click"), 1);
    assert_string_equal(click_decision(&b)->decision_reason_code, MED_R_F_BILLING_CLICK_UPGRADED);
    const Mediation__V1__FToGArchiveRecordLite *bc = fx_find_record(&b, "billable_fact", MED_R_F_BILLING_CLICK_UPGRADED);
    assert_non_null(bc);
    assert_string_equal(bc->billable_fact->source_event_id, "evt_clk_14");
    assert_string_equal(bc->relation_keys->canonical_dedup_key,
                        "f_dedup_v1:client_event_id:app_chat_main|batch_014|evt_clk_14");
    /* the ledger row stores this recordKey at claim time (phase 5) */
    assert_string_equal(f_archive_billable_record_key(&b, &b.events[0], bc->billable_fact), bc->record_key);
    f_batch_free(&b);
    /* a second click: the closure's one billable_click is taken */
    run(s, &b, FX_T0 + 40 * SEC, "batch_014c",
        arr(with_int(fx_ev("click", "evt_clk_14b"), "eventSeq", 2), NULL, NULL));
    assert_string_equal(b.events[0].fact_decision->decision_reason_code, MED_R_F_BILLING_CONFLICT_DUPLICATE_CLICK);
    assert_string_equal(b.events[0].attribution[0]->attribution_type, "attr_click_non_billable");
    f_batch_free(&b);
}

static void case14_click_expired(void **state)
{
    fx_store *s = *state;
    f_batch_work b;
    run(s, &b, FX_T0, "batch_014", arr(fx_ev("click", "evt_clk_14"), NULL, NULL));
    f_batch_free(&b);
    run(s, &b, FX_T0 + 150 * SEC, "batch_014b", arr(fx_ev("impression", "evt_imp_14"), NULL, NULL));
    assert_int_equal(fx_count_billable(&b, "billable_impression"), 1);
    assert_int_equal(fx_count_billable(&b, "billable_click"), 0);
    f_batch_free(&b);
    /* the scanner's expiry emits the click's final audit */
    const f_closure_row *c = fx_closure(s, CK);
    f_windows w;
    f_windows_default(&w);
    assert_true(f_pending_click_due(c, FX_T0 + 150 * SEC, &w));
    f_batch_init(&b, "tenant_a", FX_APP, FX_T0 + 150 * SEC, NULL);
    med_err err;
    assert_int_equal(f_batch_add_click_expiry(&b, c, &err), MED_OK);
    fx_run_prepared(s, &b);
    const Mediation__V1__FToGArchiveRecordLite *r =
        fx_find_record(&b, "decision_audit", MED_R_F_BILLING_CLICK_WITHOUT_IMPRESSION);
    assert_non_null(r);
    assert_string_equal(r->source_keys->source_event_id, "evt_clk_14");
    assert_string_equal(r->relation_keys->canonical_dedup_key,
                        "f_dedup_v1:client_event_id:app_chat_main|batch_014|evt_clk_14");
    assert_int_equal(fx_count_records(&b, "billable_fact", NULL), 0);
    f_batch_free(&b);
}

static void case14_click_on_failure(void **state)
{
    fx_store *s = *state;
    f_batch_work b;
    run(s, &b, FX_T0, "batch_014f", arr(fx_ev("error", "evt_err_14"), fx_ev("click", "evt_clk_14"), NULL));
    assert_string_equal(fx_ack_status(&b, 1), "accepted");
    assert_string_equal(b.events[1].fact_decision->decision_reason_code,
                        MED_R_F_BILLING_INELIGIBLE_TERMINAL_FAILURE);
    assert_string_equal(b.events[1].attribution[0]->attribution_type, "attr_click_non_billable");
    f_batch_free(&b);
}

static void case14_pending_into_failure(void **state)
{
    fx_store *s = *state;
    f_batch_work b;
    run(s, &b, FX_T0, "batch_014g", arr(fx_ev("click", "evt_clk_14"), NULL, NULL));
    f_batch_free(&b);
    run(s, &b, FX_T0 + SEC, "batch_014h", arr(fx_ev("error", "evt_err_14"), NULL, NULL));
    assert_string_equal(click_decision(&b)->decision_reason_code, MED_R_F_BILLING_INELIGIBLE_TERMINAL_FAILURE);
    assert_null(fx_closure(s, CK)->pending_click_event_id);
    f_batch_free(&b);
}

/* 15: the money rule */
static void case15_store_lost_fast_path(void **state)
{
    /* Redis flushed between identical submissions: the database claim
     * comes back lost with the stored fingerprint */
    fx_store *s = *state;
    f_batch_work b;
    for (int i = 0; i < 2; i++) {
        run(s, &b, FX_T0 + i * SEC, "batch_015", arr(fx_ev("impression", "evt_imp_15"), NULL, NULL));
        assert_string_equal(fx_ack_status(&b, 0), i ? "duplicate" : "accepted");
        f_batch_free(&b);
    }
    assert_int_equal(s->billable_records, 1);
}

static void case15_two_replicas(void **state)
{
    /* one impression to two replicas at once under two eventIds: both load
     * the closure open before either commits; the second billing claim
     * loses */
    fx_store *s = *state;
    f_batch_work a, b;
    char *ba = fx_body("batch_015a", arr(fx_ev("impression", "evt_imp_15a"), NULL, NULL));
    char *bb = fx_body("batch_015b", arr(fx_ev("impression", "evt_imp_15b"), NULL, NULL));
    fx_batch(&a, FX_T0);
    fx_batch(&b, FX_T0);
    fx_parse_validate(&a, ba);
    fx_parse_validate(&b, bb);
    fx_load(s, &a);
    fx_load(s, &b);
    fx_decide(&a);
    fx_decide(&b);
    fx_claim(s, &a);
    fx_output_commit(s, &a);
    fx_claim(s, &b);
    fx_output_commit(s, &b);
    assert_int_equal(fx_count_billable(&a, "billable_impression"), 1);
    assert_int_equal(fx_count_billable(&b, "billable_impression"), 0);
    assert_string_equal(b.events[0].fact_decision->conflict_decision, "billing_key_duplicate");
    assert_string_equal(b.events[0].fact_decision->decision_action, "attribution_emit");
    assert_int_equal(s->billable_records, 1);
    free(ba);
    free(bb);
    f_batch_free(&a);
    f_batch_free(&b);
}

static void case15_new_batch_and_redelivery(void **state)
{
    fx_store *s = *state;
    f_batch_work b;
    run(s, &b, FX_T0, "batch_015c", arr(fx_ev("impression", "evt_imp_15"), NULL, NULL));
    f_batch_free(&b);
    /* resent under a new batchId: a new key, but the closure is closed */
    run(s, &b, FX_T0 + SEC, "batch_015d", arr(fx_ev("impression", "evt_imp_15"), NULL, NULL));
    assert_string_equal(fx_ack_status(&b, 0), "duplicate");
    f_batch_free(&b);
    /* redelivered after commit */
    run(s, &b, FX_T0 + 2 * SEC, "batch_015c", arr(fx_ev("impression", "evt_imp_15"), NULL, NULL));
    assert_string_equal(fx_ack_code(&b, 0), MED_R_F_DEDUP_COMMITTED_DUPLICATE);
    f_batch_free(&b);
    /* even with the closure row lost, the billing key holds */
    for (size_t i = 0; i < s->n_closures; i++) s->closures[i].state = F_CLOSURE_OPEN;
    run(s, &b, FX_T0 + 3 * SEC, "batch_015e", arr(fx_ev("impression", "evt_imp_15x"), NULL, NULL));
    assert_int_equal(fx_count_billable(&b, "billable_impression"), 0);
    f_batch_free(&b);
    assert_int_equal(s->billable_records, 1);
    assert_int_equal(s->n_billing, 1);
}

/* 16 */
static void case16_records(void **state)
{
    fx_store *s = *state;
    f_batch_work b;
    run(s, &b, FX_T0, "batch_016", arr(fx_ev("impression", "evt_imp_16"), NULL, NULL));
    assert_int_equal(b.n_records, 3);
    assert_string_equal(b.records[0]->record_type, "decision_audit");
    assert_string_equal(b.records[1]->record_type, "billable_fact");
    assert_string_equal(b.records[2]->record_type, "attribution_fact");
    const char *dk = b.events[0].dedup_key;
    char src[512], want[65];
    snprintf(src, sizeof src, "billable_fact|resp_f_001|ra_001|billable_impression|%s|f_archive_contract_v1", dk);
    med_sha256_hex(src, strlen(src), want);
    assert_string_equal(b.records[1]->record_key, want);
    assert_string_equal(f_archive_billable_record_key(&b, &b.events[0], b.records[1]->billable_fact), want);
    assert_string_equal(b.records[1]->anchor_hash, "anchor_delivery");
    assert_string_equal(b.records[1]->version_anchors->archive_contract_version, "f_archive_contract_v1");
    assert_string_equal(b.records[0]->payload_ref->payload_key, "evt_imp_16|f_facts_mapped");
    assert_int_equal(b.records[0]->output_at_unix_ms, FX_T0);
    /* republish (the same batch decided again) names the same records */
    f_batch_work again;
    fx_store fresh;
    fx_store_init(&fresh);
    fx_delivery(&fresh, FX_RR, "served", 1500000);
    run(&fresh, &again, FX_T0, "batch_016", arr(fx_ev("impression", "evt_imp_16"), NULL, NULL));
    for (size_t i = 0; i < 3; i++) assert_string_equal(again.records[i]->record_key, b.records[i]->record_key);
    f_archive_mark_committed(&again);
    assert_string_equal(again.records[1]->record_status, "committed");
    fx_store_free(&fresh);
    f_batch_free(&again);
    f_batch_free(&b);
}

/* 17 */
static void case17_compensation(void **state)
{
    (void)state;
    f_windows w;
    f_windows_default(&w);
    f_compensation c = {0};
    const int64_t t = FX_T0;
    assert_int_equal(f_compensation_on_failure(&c, MED_R_G_ARCHIVE_WRITE_TIMEOUT, t, &w), 0);
    assert_int_equal(c.next_attempt_ms, t + 1000);
    assert_int_equal(f_compensation_on_failure(&c, MED_R_G_ARCHIVE_WRITE_TIMEOUT, t + 1000, &w), 0);
    assert_int_equal(c.next_attempt_ms, t + 6000);
    f_record_progress g[] = {{"decision_audit", "committed", F_WRITE_WRITTEN},
                             {"billable_fact", "committed", F_WRITE_RETRYING},
                             {"attribution_fact", "committed", F_WRITE_PENDING}};
    assert_string_equal(f_group_consistency_state(g, 3), "partial_pending");
    g[1].write = g[2].write = F_WRITE_WRITTEN; /* the third attempt succeeded */
    assert_string_equal(f_group_consistency_state(g, 3), "consistent_committed");

    /* the ladder, then every 120 s, until 15 min from the first failure */
    assert_int_equal(f_compensation_next_delay_ms(3, t, t, &w), 30000);
    assert_int_equal(f_compensation_next_delay_ms(4, t, t, &w), 120000);
    assert_int_equal(f_compensation_next_delay_ms(9, t, t + 600000, &w), 120000);
    assert_int_equal(f_compensation_next_delay_ms(12, t, t + 840000, &w), 60000);
    assert_int_equal(f_compensation_next_delay_ms(13, t, t + 900000, &w), -1);
    int64_t now = t + 6000;
    while (!f_compensation_on_failure(&c, MED_R_G_ARCHIVE_WRITE_TIMEOUT, now, &w)) now = c.next_attempt_ms;
    assert_true(now <= t + w.compensation_ms);
    assert_string_equal(c.final_status, "conflicted");
    assert_string_equal(c.final_code, MED_R_F_OUTPUT_ARCHIVE_COMPENSATION_EXHAUSTED);
    g[1].write = F_WRITE_FAILED;
    assert_string_equal(f_group_consistency_state(g, 3), "partial_timeout");

    /* a non-retryable G code ends at once with that code */
    f_compensation d = {0};
    assert_int_equal(f_compensation_on_failure(&d, MED_R_G_ARCHIVE_RECORDKEY_PAYLOAD_CONFLICT, t, &w), 1);
    assert_string_equal(d.final_code, MED_R_G_ARCHIVE_RECORDKEY_PAYLOAD_CONFLICT);
    /* written, no committed bill */
    f_record_progress nb[] = {{"decision_audit", "committed", F_WRITE_WRITTEN},
                              {"attribution_fact", "committed", F_WRITE_WRITTEN}};
    assert_string_equal(f_group_consistency_state(nb, 2), "consistent_non_billable");
}

/* E.11 case 15 */
static void e15_no_fill_delivery(void **state)
{
    fx_store *s = *state;
    fx_delivery(s, "resp_nf_001", "no_fill", 0);
    f_batch_work b;
    json_t *imp = with_str(fx_ev("impression", "evt_imp_e15"), "responseReference", "resp_nf_001");
    run(s, &b, FX_T0, "batch_e15", arr(imp, NULL, NULL));
    assert_string_equal(fx_ack_status(&b, 0), "rejected");
    assert_string_equal(fx_ack_code(&b, 0), MED_R_F_EVENT_IMPRESSION_FORBIDDEN_STATUS);
    assert_int_equal(b.dedup[0].release, 1);
    f_batch_free(&b);
    /* a late render after expireAt: terminal error e_render_ttl_expired
     * closes the attempt unbilled */
    run(s, &b, FX_T0, "batch_e15b", arr(fx_ev("error", "evt_err_e15"), NULL, NULL));
    assert_string_equal(fx_ack_status(&b, 0), "accepted");
    assert_int_equal(fx_closure(s, CK)->state, F_CLOSURE_CLOSED_FAILURE);
    assert_int_equal(fx_count_records(&b, "billable_fact", NULL), 0);
    assert_non_null(b.audit->decisions[0]->e_to_f_event);
    assert_string_equal(b.audit->decisions[0]->e_to_f_event->event_reason_code, "e_render_ttl_expired");
    f_batch_free(&b);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(case01_accepted_all),     T(case02_unsupported_type),     T(case03_envelope),
        T(case04_seq),              T(case05_idem_fallback),        T(case06_duplicates),
        T(case07_payload_conflict), T(case08_windows),              T(case09_autofill),
        T(case09_two_replicas),     T(case10_late_impression),      T(case10_late_real_failure),
        T(case11_failure_after_impression), T(case11_one_batch),    T(case12_impression_after_failure),
        T(case13_second_impression), T(case14_click_upgraded),      T(case14_click_expired),
        T(case14_click_on_failure), T(case14_pending_into_failure), T(case15_store_lost_fast_path),
        T(case15_two_replicas),     T(case15_new_batch_and_redelivery), T(case16_records),
        T(case17_compensation),     T(e15_no_fill_delivery),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
