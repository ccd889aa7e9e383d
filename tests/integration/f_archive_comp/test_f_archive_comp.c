/* F.8 compensation against real servers: two med-f-events replicas, the
 * suite's nats-server, PostgreSQL and Redis. The test plays G: it reads
 * F's ArchiveRecords from MED_ARCHIVE and answers each on its
 * Med-Reply-To with the ArchiveWriteAck G would send (G.4), so every code
 * can be chosen:
 *   - g_archive_write_timeout -> F resends the same recordKey with
 *     attempt 2 about 1 s later (a new Nats-Msg-Id the stream keeps), then
 *     `written` ends the compensation: no attempt 3;
 *   - g_archive_recordkey_payload_conflict -> the record is `conflicted`
 *     with that code, and never resent;
 *   - a retryable answer and then silence (acks lost): resent on the
 *     ladder (1 s, 5 s) until the window (F_ARCHIVE_COMPENSATION_SEC=8)
 *     closes, then `conflicted` f_output_archive_compensation_exhausted;
 *   - the real med-g-archive, its table locked by another session so its
 *     write times out (as G.9 case 8 injects it with a row lock): G answers
 *     g_archive_write_timeout, F resends attempt 2, and once the lock is
 *     gone G's answer ends the compensation `written`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <cmocka.h>

#include "f_world.h"
#include "med/names.h"
#include "med/reason.h"

/* F_ARCHIVE_COMPENSATION_SEC: the 15 min window shrunk (00 decision 6). */
#define WINDOW_SEC "8"

static int setup(void **state)
{
    fw *w = calloc(1, sizeof *w);
    assert_non_null(w);
    fw_start(w);
    for (int i = 0; i < FW_REPLICAS; i++) {
        assert_int_equal(th_proc_stop(&w->f[i], SIGTERM, 15000), 0);
        th_proc_setenv(&w->f[i], "F_ARCHIVE_COMPENSATION_SEC", WINDOW_SEC);
        fw_restart(w, i);
    }
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    fw *w = *state;
    fw_stop(w);
    free(w);
    return 0;
}

/* One archive message of rr as the stream holds it. */
typedef struct seen {
    natsMsg *m;
    Mediation__V1__ArchiveRecord *ar;
    long long at_ms; /* when the test saw it */
} seen;

static void seen_free(seen *s)
{
    if (s->ar) mediation__v1__archive_record__free_unpacked(s->ar, NULL);
    natsMsg_Destroy(s->m);
    memset(s, 0, sizeof *s);
}

static int of_rr(const Mediation__V1__ArchiveRecord *ar, const char *rr)
{
    const Mediation__V1__FToGArchiveRecordLite *r = ar->record;
    return r && r->source_keys && r->source_keys->response_reference_or_na &&
           strcmp(r->source_keys->response_reference_or_na, rr) == 0;
}

/* The next archive message of rr after *seq (key: only that recordKey),
 * polling up to timeout_ms; 0 when none came. */
static int next_record(fw *w, uint64_t *seq, const char *rr, const char *key, int timeout_ms, seen *out)
{
    memset(out, 0, sizeof *out);
    long long end = th_now_ms() + timeout_ms;
    do {
        uint64_t last = fw_archive_seq(w);
        while (*seq < last) {
            natsMsg *m = NULL;
            jsErrCode jerr = 0;
            (*seq)++;
            if (js_GetMsg(&m, w->js, MED_STREAM_ARCHIVE, *seq, NULL, &jerr) != NATS_OK) continue;
            Mediation__V1__ArchiveRecord *ar = strcmp(natsMsg_GetSubject(m), MED_SUBJ_G_ARCHIVE) == 0
                ? mediation__v1__archive_record__unpack(NULL, (size_t)natsMsg_GetDataLength(m),
                                                        (const uint8_t *)natsMsg_GetData(m))
                : NULL;
            if (ar && of_rr(ar, rr) && (!key || strcmp(ar->record->record_key, key) == 0)) {
                *out = (seen){ m, ar, th_now_ms() };
                return 1;
            }
            if (ar) mediation__v1__archive_record__free_unpacked(ar, NULL);
            natsMsg_Destroy(m);
        }
        th_sleep_ms(50);
    } while (th_now_ms() < end);
    return 0;
}

/* No further archive message of rr's key within timeout_ms. */
static void assert_no_more(fw *w, uint64_t *seq, const char *rr, const char *key, int timeout_ms)
{
    seen extra;
    int more = next_record(w, seq, rr, key, timeout_ms, &extra);
    if (more) seen_free(&extra);
    assert_false(more);
}

static const char *header(natsMsg *m, const char *name)
{
    const char *v = NULL;
    return natsMsgHeader_Get(m, name, &v) == NATS_OK ? v : NULL;
}

/* Answers s as G: ArchiveWriteAck on its Med-Reply-To. */
static void answer(fw *w, const seen *s, const char *ws, const char *code, int retryable, const char *gs)
{
    const char *inbox = header(s->m, MED_HDR_REPLY_TO);
    assert_non_null(inbox);
    Mediation__V1__ArchiveWriteAck a = MEDIATION__V1__ARCHIVE_WRITE_ACK__INIT;
    a.record_key = s->ar->record->record_key;
    a.archive_write_status = (char *)ws;
    a.ack_reason_code = (char *)code;
    a.retryable = retryable;
    a.acked_at_unix_ms = th_now_ms();
    a.fg_archive_consistency_state = (char *)gs;
    uint8_t buf[1024];
    size_t len = mediation__v1__archive_write_ack__get_packed_size(&a);
    assert_true(len <= sizeof buf);
    mediation__v1__archive_write_ack__pack(&a, buf);
    assert_int_equal(natsConnection_Publish(w->nc, inbox, buf, (int)len), NATS_OK);
    assert_int_equal(natsConnection_Flush(w->nc), NATS_OK);
}

/* Sends one impression of rr (served Delivery first); returns the stream
 * position before F published anything. */
static uint64_t impression(fw *w, const char *rr)
{
    fw_delivery(w, rr, "served");
    uint64_t from = fw_archive_seq(w);
    char *ev[] = { fw_event(w, "impression", "evt_imp_c", rr, "ra_001", 0, NULL), NULL };
    char *batch = fw_name(w, "batch_comp");
    Mediation__V1__EventBatchAck *ack = fw_send(w, NULL, fw_body(batch, ev));
    assert_int_equal(ack->http_status, 200);
    mediation__v1__event_batch_ack__free_unpacked(ack, NULL);
    free(batch);
    return from;
}

static char *comp_state(fw *w, const char *key)
{
    return fw_value(w, "SELECT state || '|' || coalesce(final_code, '') || '|' || last_attempt::text "
                       "|| '|' || coalesce(group_state, '') FROM f_archive_compensation "
                       "WHERE tenant_id = $1 AND record_key = $2", w->tenant, key);
}

static void await_comp_state(fw *w, const char *key, const char *want, int timeout_ms)
{
    long long end = th_now_ms() + timeout_ms;
    char *got = NULL;
    do {
        free(got);
        got = comp_state(w, key);
        if (got && strcmp(got, want) == 0) {
            free(got);
            return;
        }
        th_sleep_ms(100);
    } while (th_now_ms() < end);
    fail_msg("record %s: compensation '%s', expected '%s'", key, got ? got : "(none)", want);
}

/* F.8: g_archive_write_timeout -> the same recordKey again after ~1 s,
 * attempt 2; written ends it. */
static void retryable_code_resends_same_record_key(void **state)
{
    fw *w = *state;
    char *rr = fw_name(w, "resp_cr");
    uint64_t seq = impression(w, rr);
    seen first;
    assert_true(next_record(w, &seq, rr, NULL, 10000, &first));
    const char *key = first.ar->record->record_key;
    assert_int_equal(first.ar->attempt, 1);
    assert_string_equal(header(first.m, MED_HDR_MSG_ID), key);
    const char *inbox = header(first.m, MED_HDR_REPLY_TO);
    assert_non_null(inbox);
    assert_int_equal(strncmp(inbox, MED_SUBJ_F_ARCHIVE_ACK ".", strlen(MED_SUBJ_F_ARCHIVE_ACK) + 1), 0);
    long long t_fail = th_now_ms();
    answer(w, &first, "write_failed_retryable", MED_R_G_ARCHIVE_WRITE_TIMEOUT, 1, "partial_pending");

    seen again;
    assert_true(next_record(w, &seq, rr, key, 5000, &again));
    long long gap = again.at_ms - t_fail;
    assert_true(gap >= 800);
    assert_true(gap < 3000);
    assert_int_equal(again.ar->attempt, 2);
    assert_string_equal(again.ar->record->record_key, key);
    char id[300];
    snprintf(id, sizeof id, "%s:c2", key);
    assert_string_equal(header(again.m, MED_HDR_MSG_ID), id);
    /* the record itself is unchanged: G's payload digest matches */
    size_t l1 = mediation__v1__fto_garchive_record_lite__get_packed_size(first.ar->record);
    size_t l2 = mediation__v1__fto_garchive_record_lite__get_packed_size(again.ar->record);
    assert_int_equal(l1, l2);
    await_comp_state(w, key, "retrying||2|partial_pending", 3000);

    answer(w, &again, "written", "", 0, "consistent_committed");
    await_comp_state(w, key, "written||2|consistent_committed", 5000);
    /* written: nothing more (attempt 3 would have been due 5 s after attempt 2) */
    assert_no_more(w, &seq, rr, key, 6500);
    seen_free(&first);
    seen_free(&again);
    free(rr);
}

/* F.8: a non-retryable G code -> conflicted with that code, never resent. */
static void non_retryable_code_conflicts(void **state)
{
    fw *w = *state;
    char *rr = fw_name(w, "resp_cn");
    uint64_t seq = impression(w, rr);
    seen first;
    assert_true(next_record(w, &seq, rr, NULL, 10000, &first));
    const char *key = first.ar->record->record_key;
    answer(w, &first, "write_failed_terminal", MED_R_G_ARCHIVE_RECORDKEY_PAYLOAD_CONFLICT, 0, "");
    char want[200];
    snprintf(want, sizeof want, "conflicted|%s|1|partial_timeout", MED_R_G_ARCHIVE_RECORDKEY_PAYLOAD_CONFLICT);
    await_comp_state(w, key, want, 5000);
    assert_no_more(w, &seq, rr, key, 2500);
    /* a late retryable answer does not reopen a conflicted record */
    answer(w, &first, "write_failed_retryable", MED_R_G_ARCHIVE_WRITE_TIMEOUT, 1, "partial_pending");
    th_sleep_ms(1500);
    char *got = comp_state(w, key);
    assert_string_equal(got, want);
    free(got);
    seen_free(&first);
    free(rr);
}

/* F.8: past the window the record is conflicted
 * f_output_archive_compensation_exhausted; a lost ack only costs a resend. */
static void silence_after_retryable_exhausts(void **state)
{
    fw *w = *state;
    char *rr = fw_name(w, "resp_cx");
    uint64_t seq = impression(w, rr);
    seen first;
    assert_true(next_record(w, &seq, rr, NULL, 10000, &first));
    const char *key = first.ar->record->record_key;
    long long t_fail = th_now_ms();
    answer(w, &first, "write_failed_retryable", MED_R_G_ARCHIVE_RATE_LIMITED, 0, "partial_pending");
    /* no answer to the resends: F still resends at 1 s and 6 s; the next
     * step (30 s) is cut at the 8 s window, which ends it */
    seen again, third;
    assert_true(next_record(w, &seq, rr, key, 5000, &again));
    assert_int_equal(again.ar->attempt, 2);
    assert_true(next_record(w, &seq, rr, key, 8000, &third));
    assert_int_equal(third.ar->attempt, 3);
    assert_true(third.at_ms - t_fail >= 5500);
    seen_free(&third);
    char want[200];
    snprintf(want, sizeof want, "conflicted|%s|3|partial_timeout",
             MED_R_F_OUTPUT_ARCHIVE_COMPENSATION_EXHAUSTED);
    await_comp_state(w, key, want, 6000);
    long long took = th_now_ms() - t_fail;
    assert_true(took >= 7500);
    assert_no_more(w, &seq, rr, key, 1500);
    seen_free(&first);
    seen_free(&again);
    free(rr);
}

static void exec_ok(PGconn *c, const char *sql, const char *p1, const char *p2)
{
    const char *v[2] = { p1, p2 };
    PGresult *r = PQexecParams(c, sql, p1 ? (p2 ? 2 : 1) : 0, NULL, v, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
}

/* F.8 with the real G: a write timeout is answered, F resends the same
 * recordKey, and G's later answer (written) ends the compensation. */
static void real_g_write_timeout_resent_then_written(void **state)
{
    fw *w = *state;
    th_proc g;
    th_proc_init_ci(&g, "g_archive", "g_archive", "med-g-archive", "ADMIN_HTTP_PORT", "100");
    th_proc_setenv(&g, "G_ARCHIVE_WRITE_TIMEOUT_MS", "300");
    th_proc_setenv(&g, "G_ARCHIVE_SWEEP_MS", "200");
    th_proc_start_ready(&g);
    char *rr = fw_name(w, "resp_cg");
    impression(w, rr);
    const char *audit = "SELECT count(*) FROM archive_records WHERE tenant_id = $1 "
                        "AND response_reference = $2 AND record_type = 'decision_audit' "
                        "AND write_status = 'written'";
    assert_int_equal(fw_await_count(w, 1, 15000, audit, w->tenant, rr), 1);
    /* another session holds the archive table: G's next write waits past
     * G_ARCHIVE_WRITE_TIMEOUT_MS (reads still pass) */
    PGconn *locker = PQconnectdb(th_env("PG_ADMIN_DSN"));
    assert_int_equal(PQstatus(locker), CONNECTION_OK);
    exec_ok(locker, "BEGIN", NULL, NULL);
    exec_ok(locker, "LOCK TABLE archive_records IN EXCLUSIVE MODE", NULL, NULL);
    uint64_t seq = fw_archive_seq(w);
    char *ev[] = { fw_event(w, "click", "evt_clk_g", rr, "ra_001", 1, NULL), NULL };
    char *batch = fw_name(w, "batch_cg");
    Mediation__V1__EventBatchAck *ack = fw_send(w, NULL, fw_body(batch, ev));
    assert_int_equal(ack->http_status, 200);
    mediation__v1__event_batch_ack__free_unpacked(ack, NULL);
    /* the click's first record (attempt 1): G cannot store it */
    seen first;
    assert_true(next_record(w, &seq, rr, NULL, 10000, &first));
    assert_int_equal(first.ar->attempt, 1);
    char *key = strdup(first.ar->record->record_key);
    assert_non_null(key);
    seen_free(&first);
    char opened[512];
    snprintf(opened, sizeof opened,
             "SELECT count(*) FROM f_archive_compensation WHERE tenant_id = $1 AND record_key = $2 "
             "AND state = 'retrying' AND last_code = '%s'", MED_R_G_ARCHIVE_WRITE_TIMEOUT);
    assert_int_equal(fw_await_count(w, 1, 10000, opened, w->tenant, key), 1);
    /* still locked: the same recordKey again, attempt 2, a Nats-Msg-Id of
     * its own (with the recordKey the stream would drop it) */
    seen s;
    int found = 0;
    while (!found && next_record(w, &seq, rr, key, 6000, &s)) {
        found = s.ar->attempt == 2;
        if (found) {
            char id[300];
            snprintf(id, sizeof id, "%s:c2", key);
            assert_string_equal(header(s.m, MED_HDR_MSG_ID), id);
        }
        seen_free(&s);
    }
    assert_true(found);
    /* the lock goes: G's next try (its redelivery or F's resend) writes it */
    exec_ok(locker, "COMMIT", NULL, NULL);
    PQfinish(locker);
    /* G wrote it (its own retry or the resend): its answer ends it */
    const char *written = "SELECT count(*) FROM f_archive_compensation WHERE tenant_id = $1 "
                          "AND record_key = $2 AND state = 'written'";
    assert_int_equal(fw_await_count(w, 1, 12000, written, w->tenant, key), 1);
    /* stored once, written: the resend was absorbed by recordKey */
    assert_int_equal(fw_count(w, "SELECT count(*) FROM archive_records WHERE tenant_id = $1 "
                                 "AND record_key = $2 AND write_status = 'written'", w->tenant, key), 1);
    assert_int_equal(th_proc_stop(&g, SIGTERM, 15000), 0);
    th_proc_free(&g);
    free(key);
    free(batch);
    free(rr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(retryable_code_resends_same_record_key),
        cmocka_unit_test(non_retryable_code_conflicts),
        cmocka_unit_test(silence_after_retryable_exhausts),
        cmocka_unit_test(real_g_write_timeout_resent_then_written),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
