/* A.9 opportunity_created and B.10 signal_normalized on real servers
 * (spec 01 A.11 cases 17-18, B.11 case 18): the whole request path runs
 * as processes (tests/harness world) against nats-server -js, PostgreSQL
 * and Redis. Publishes fail for real: A's event subject is pointed at a
 * subject no stream captures (no responders = retryable), and a stream is
 * created for it when the test wants the next attempt to succeed. Every
 * assertion reads what the services left: opportunity_records' emit
 * columns, the streams' messages by Nats-Msg-Id, the digest store in
 * Redis, and med_emit_acks_total on the services' /metrics. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <nats/nats.h>

#include "b_signal.h"
#include "harness_http.h"
#include "harness_world.h"
#include "med/emit_digest.h"
#include "med/js.h"
#include "med/names.h"
#include "med/reason.h"
#include "med/redis.h"
#include "mediation/v1/audit.pb-c.h"
#include "mediation/v1/opportunity.pb-c.h"

typedef th_world world;

#define SUBJ_A_AUDIT "med.audit.a.v1"
#define SUBJ_B_AUDIT "med.audit.b.v1"
#define SUBJ_LADDER "med.itest.oc.ladder"
#define SUBJ_NEVER "med.itest.oc.never"
#define STREAM_LADDER "ITEST_OC_LADDER"
/* B.11 case 18 */
#define SIG_KEY "de402e8dbf52434e7966278eb197bd98bef22cbaeb6c91a7e27c38ef20d10949"

/* The opportunity of case 3, reused by cases 4 and 5. */
static char g_opp[64];

static int setup(void **state)
{
    /* A's sweeper looks every 100 ms, so the ladder is measurable. */
    static const char *const env[] = { "A_OC_EMIT_SWEEP_MS=100", NULL };
    return th_world_setup(state, "event_emit", env);
}

/* ------------------------------------------------------------- helpers */

typedef struct emit_row {
    char status[32], reason[80], event_key[64], idem[80];
    int attempts, has_payload;
    long long first_ms, last_ms, next_ms; /* next_ms -1 = no resend due */
} emit_row;

static void read_row(world *w, const char *opp, emit_row *r)
{
    const char *p[1] = { opp };
    PGresult *res = PQexecParams(
        w->pg,
        "SELECT created_event_status, coalesce(created_event_reason_code, ''), "
        "created_event_attempts, (extract(epoch FROM created_event_first_attempt_at) * 1000)::bigint, "
        "coalesce((extract(epoch FROM created_event_last_at) * 1000)::bigint, -1), "
        "coalesce((extract(epoch FROM created_event_next_at) * 1000)::bigint, -1), "
        "created_event_key, created_event_idempotency_key, "
        "(created_event_payload IS NOT NULL)::int FROM opportunity_records WHERE opportunity_key = $1",
        1, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
        fail_msg("row of %s: %s (%d rows)", opp, PQresultErrorMessage(res), PQntuples(res));
    snprintf(r->status, sizeof r->status, "%s", PQgetvalue(res, 0, 0));
    snprintf(r->reason, sizeof r->reason, "%s", PQgetvalue(res, 0, 1));
    r->attempts = atoi(PQgetvalue(res, 0, 2));
    r->first_ms = atoll(PQgetvalue(res, 0, 3));
    r->last_ms = atoll(PQgetvalue(res, 0, 4));
    r->next_ms = atoll(PQgetvalue(res, 0, 5));
    snprintf(r->event_key, sizeof r->event_key, "%s", PQgetvalue(res, 0, 6));
    snprintf(r->idem, sizeof r->idem, "%s", PQgetvalue(res, 0, 7));
    r->has_payload = atoi(PQgetvalue(res, 0, 8));
    PQclear(res);
}

/* Waits until the row leaves attempts == after (or its status changes
 * from status), polling every 20 ms; fails after timeout_ms. */
static void await_row(world *w, const char *opp, int after_attempts, const char *status,
                      int timeout_ms, emit_row *r)
{
    long long t0 = th_now_ms();
    for (;;) {
        read_row(w, opp, r);
        if (r->attempts != after_attempts || (status && strcmp(r->status, status) != 0)) return;
        if (th_now_ms() - t0 > timeout_ms)
            fail_msg("%s: still attempts=%d status=%s after %d ms", opp, r->attempts, r->status,
                     timeout_ms);
        th_sleep_ms(20);
    }
}

/* POST /v1/opportunities; the Delivery (200) proves the seed reached B..E.
 * Returns the opportunity key in out. */
static void post_created(world *w, const char *session, char *out, size_t cap)
{
    char *body = th_opportunity_body(session, "answer_end", NULL, NULL);
    long st = 0;
    json_t *d = th_edge_json(w->edge_port, "POST", "/v1/opportunities", body, &st);
    char *text = json_dumps(d, JSON_COMPACT);
    if (st != 200) fail_msg("HTTP %ld: %s", st, text);
    const char *opp = th_json_str(d, "opportunityKey");
    if (strncmp(opp, "opp_", 4) != 0) fail_msg("no opportunity: %s", text);
    snprintf(out, cap, "%s", opp);
    free(text);
    json_decref(d);
    free(body);
}

/* Messages of stream on subject whose Nats-Msg-Id is msg_id: how many,
 * and the last one (its data copied to *data if non-NULL, its stream time
 * in *time_ms). */
/* Messages of subject with that Nats-Msg-Id; the last one's data, time
 * and traceparent header (tp: 128 bytes, "" when absent) when asked. */
static int stream_msgs_tp(world *w, const char *stream, const char *subject, const char *msg_id,
                          uint8_t **data, size_t *len, long long *time_ms, char *tp)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    if (js_GetStreamInfo(&si, w->js, stream, NULL, &jerr) != NATS_OK)
        fail_msg("stream %s unreadable (%d)", stream, (int)jerr);
    uint64_t first = si->State.FirstSeq, last = si->State.LastSeq;
    jsStreamInfo_Destroy(si);
    int count = 0;
    for (uint64_t seq = first; seq && seq <= last; seq++) {
        natsMsg *m = NULL;
        if (js_GetMsg(&m, w->js, stream, seq, NULL, &jerr) != NATS_OK) continue;
        const char *id = NULL;
        if (strcmp(natsMsg_GetSubject(m), subject) == 0 &&
            natsMsgHeader_Get(m, "Nats-Msg-Id", &id) == NATS_OK && id &&
            strcmp(id, msg_id) == 0) {
            count++;
            if (data) {
                free(*data);
                *len = (size_t)natsMsg_GetDataLength(m);
                *data = malloc(*len + 1);
                assert_non_null(*data);
                memcpy(*data, natsMsg_GetData(m), *len);
            }
            if (time_ms) *time_ms = natsMsg_GetTime(m) / 1000000;
            const char *v = NULL;
            if (tp) snprintf(tp, 128, "%s",
                             natsMsgHeader_Get(m, MED_HDR_TRACEPARENT, &v) == NATS_OK && v ? v : "");
        }
        natsMsg_Destroy(m);
    }
    return count;
}

static int stream_msgs(world *w, const char *stream, const char *subject, const char *msg_id,
                       uint8_t **data, size_t *len, long long *time_ms)
{
    return stream_msgs_tp(w, stream, subject, msg_id, data, len, time_ms, NULL);
}

static void restart_a(world *w, const char *subject, const char *window_sec)
{
    th_proc_setenv(&w->procs[TH_P_A], "A_OC_EMIT_SUBJECT", subject);
    th_proc_setenv(&w->procs[TH_P_A], "A_OC_EMIT_WINDOW_SEC", window_sec);
    th_world_restart(w, TH_P_A);
}

static double emit_acks(world *w, int proc, const char *stage, const char *reason)
{
    char labels[160];
    snprintf(labels, sizeof labels, "stage=\"%s\",reason=\"%s\"", stage, reason);
    return th_metric_sum(w->procs[proc].admin_port, "med_emit_acks_total", labels);
}

/* The digest store's value of key ("" when absent). */
static void redis_value(const char *key, char *out, size_t cap)
{
    med_redis *r = th_redis_connect();
    uint8_t *v = NULL;
    size_t n = 0;
    med_err e;
    out[0] = '\0';
    if (med_redis_get(r, key, &v, &n, &e) == MED_OK) snprintf(out, cap, "%.*s", (int)n, (char *)v);
    free(v);
    med_redis_close(r);
}

static char *hex_of(const uint8_t *b, size_t n)
{
    char *out = malloc(2 * n + 1);
    assert_non_null(out);
    for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", b[i]);
    return out;
}

/* A crash between attempt and record, or a changed row: the row is due
 * again now with payload (hex) as its stored event. */
static void rearm_row(world *w, const char *opp, const char *payload_hex)
{
    const char *p[2] = { opp, payload_hex };
    PGresult *res = PQexecParams(
        w->pg,
        "UPDATE opportunity_records SET created_event_status = 'pending', "
        "created_event_reason_code = NULL, created_event_next_at = now(), "
        "created_event_payload = decode($2, 'hex') WHERE opportunity_key = $1",
        2, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) fail_msg("rearm: %s", PQresultErrorMessage(res));
    PQclear(res);
}

/* --------------------------------------------------------------- cases */

/* A.11 #17: two retryable rejections then success -> waits [1 s, 5 s], one
 * eventKey; the seed left after attempt 1. */
typedef struct post_job {
    world *w;
    const char *session;
    long status;
    char opp[64];
} post_job;

/* The POST on its own thread, so the test reads attempt 1's row while the
 * Delivery is still on its way (a slow chain must not hide attempt 1). */
static void *post_run(void *ud)
{
    post_job *j = ud;
    char *body = th_opportunity_body(j->session, "answer_end", NULL, NULL);
    json_t *d = th_edge_json(j->w->edge_port, "POST", "/v1/opportunities", body, &j->status);
    snprintf(j->opp, sizeof j->opp, "%s", th_json_str(d, "opportunityKey"));
    json_decref(d);
    free(body);
    return NULL;
}

/* The opportunity key of the first row created at or after since (a
 * database timestamp), once it exists. */
static void await_opportunity(world *w, const char *since, char *out, size_t cap)
{
    long long t0 = th_now_ms();
    for (;;) {
        char *v = th_sql_value(w->pg,
                               "SELECT opportunity_key FROM opportunity_records "
                               "WHERE created_at >= $1::timestamptz ORDER BY created_at LIMIT 1",
                               since);
        if (v) {
            snprintf(out, cap, "%s", v);
            free(v);
            return;
        }
        if (th_now_ms() - t0 > 5000) fail_msg("no row created since %s", since);
        th_sleep_ms(10);
    }
}

static void a17_ladder_then_success(void **state)
{
    world *w = *state;
    restart_a(w, SUBJ_LADDER, "900");
    char *since = th_sql_value(w->pg, "SELECT now()::text", NULL);
    assert_non_null(since);
    post_job job = { .w = w, .session = "sess_emit_ladder" };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, post_run, &job), 0);
    char opp[64];
    await_opportunity(w, since, opp, sizeof opp);
    free(since);

    emit_row r1, r2, r3;
    read_row(w, opp, &r1);
    if (strcmp(r1.status, "pending") == 0) await_row(w, opp, 1, "pending", 5000, &r1);
    assert_int_equal(r1.attempts, 1);
    assert_string_equal(r1.status, "rejected");
    assert_string_equal(r1.reason, MED_R_A_OC_EMIT_REJECTED_RETRYABLE);
    assert_int_equal(r1.next_ms - r1.last_ms, 1000);
    assert_true(r1.has_payload);
    pthread_join(t, NULL);
    assert_int_equal(job.status, 200);
    assert_string_equal(job.opp, opp);

    /* the seed was published after attempt 1 and before attempt 2 */
    long long seed_ms = 0;
    char seed_id[96];
    snprintf(seed_id, sizeof seed_id, "a.seed:%s", opp);
    assert_int_equal(stream_msgs(w, MED_STREAM_CHAIN, MED_SUBJ_B_SEED, seed_id, NULL, NULL, &seed_ms), 1);

    await_row(w, opp, 1, NULL, 4000, &r2);
    assert_int_equal(r2.attempts, 2);
    assert_string_equal(r2.reason, MED_R_A_OC_EMIT_REJECTED_RETRYABLE);
    assert_int_equal(r2.next_ms - r2.last_ms, 5000);
    long long wait1 = r2.last_ms - r1.last_ms;
    if (wait1 < 1000 || wait1 > 1900) fail_msg("first wait %lld ms, want 1 s", wait1);
    assert_true(seed_ms + 5 >= r1.last_ms); /* after attempt 1 ended (5 ms of clock rounding) */
    assert_true(seed_ms < r2.last_ms);

    /* the subject gets a stream: attempt 3 is accepted */
    jsStreamConfig sc;
    jsStreamConfig_Init(&sc);
    sc.Name = STREAM_LADDER;
    const char *subjects[] = { SUBJ_LADDER };
    sc.Subjects = subjects;
    sc.SubjectsLen = 1;
    sc.Storage = js_MemoryStorage;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    assert_int_equal(js_AddStream(&si, w->js, &sc, NULL, &jerr), NATS_OK);
    jsStreamInfo_Destroy(si);

    await_row(w, opp, 2, NULL, 8000, &r3);
    assert_int_equal(r3.attempts, 3);
    assert_string_equal(r3.status, "accepted");
    assert_string_equal(r3.reason, MED_R_A_OC_EMIT_ACCEPTED);
    assert_int_equal(r3.next_ms, -1);
    assert_false(r3.has_payload);
    long long wait2 = r3.last_ms - r2.last_ms;
    if (wait2 < 5000 || wait2 > 5900) fail_msg("second wait %lld ms, want 5 s", wait2);
    assert_string_equal(r3.event_key, r1.event_key);

    /* one message, the same eventKey as the row; the resend (attempt 3,
     * by the sweeper) still carries the request's traceparent */
    uint8_t *data = NULL;
    size_t len = 0;
    char tp[128];
    assert_int_equal(stream_msgs_tp(w, STREAM_LADDER, SUBJ_LADDER, r3.idem, &data, &len, NULL, tp), 1);
    Mediation__V1__StageAudit *a = mediation__v1__stage_audit__unpack(NULL, len, data);
    assert_non_null(a);
    assert_string_equal(a->kind, "opportunity_created");
    assert_string_equal(a->a_audit->opportunity_created_event_lite->event_key, r1.event_key);
    assert_non_null(a->trace);
    assert_true(strlen(a->trace->traceparent) == 55);   /* 00-<32 hex>-<16 hex>-<2 hex> */
    assert_string_equal(tp, a->trace->traceparent);
    mediation__v1__stage_audit__free_unpacked(a, NULL);
    free(data);
}

/* A.11 #17: endless retryable rejection, 6 s window -> retry_exhausted,
 * alerted and counted; no attempt after it. */
static void a17_window_exhausted(void **state)
{
    world *w = *state;
    restart_a(w, SUBJ_NEVER, "6");
    char opp[64];
    post_created(w, "sess_emit_exhaust", opp, sizeof opp);
    emit_row r;
    long long t0 = th_now_ms();
    for (;;) {
        read_row(w, opp, &r);
        if (strcmp(r.reason, MED_R_A_OC_EMIT_RETRY_EXHAUSTED) == 0) break;
        assert_true(strcmp(r.status, "pending") == 0 ||
                    strcmp(r.reason, MED_R_A_OC_EMIT_REJECTED_RETRYABLE) == 0);
        if (th_now_ms() - t0 > 12000) fail_msg("not exhausted: attempts %d %s", r.attempts, r.reason);
        th_sleep_ms(50);
    }
    assert_string_equal(r.status, "rejected");
    assert_int_equal(r.next_ms, -1);
    assert_false(r.has_payload);
    /* 0 s, 1 s; the third would land at 6 s + 30 s, past the window */
    assert_true(r.attempts >= 2 && r.attempts <= 3);
    assert_true(r.last_ms - r.first_ms <= 6000);
    assert_true(emit_acks(w, TH_P_A, MED_STAGE_A, MED_R_A_OC_EMIT_RETRY_EXHAUSTED) >= 1);
    th_sleep_ms(1500);
    emit_row again;
    read_row(w, opp, &again);
    assert_int_equal(again.attempts, r.attempts);
}

/* A.11 #18: PubAck duplicate=true -> duplicate, no resend. The row is put
 * back as a crash between the publish and the record would leave it. */
static void a18_duplicate_no_resend(void **state)
{
    world *w = *state;
    restart_a(w, SUBJ_A_AUDIT, "900");
    post_created(w, "sess_emit_dup", g_opp, sizeof g_opp);
    emit_row r;
    await_row(w, g_opp, 0, NULL, 5000, &r);
    if (strcmp(r.status, "pending") == 0) await_row(w, g_opp, 1, "pending", 5000, &r);
    assert_string_equal(r.status, "accepted");
    assert_string_equal(r.reason, MED_R_A_OC_EMIT_ACCEPTED);
    assert_int_equal(r.attempts, 1);
    uint8_t *data = NULL;
    size_t len = 0;
    assert_int_equal(stream_msgs(w, MED_STREAM_AUDIT, SUBJ_A_AUDIT, r.idem, &data, &len, NULL), 1);
    char dkey[256], stored[128];
    med_emit_digest_key("ci", "a", "oc", r.idem, dkey, sizeof dkey);
    redis_value(dkey, stored, sizeof stored);
    assert_non_null(strstr(stored, ":acked"));
    char *hex = hex_of(data, len);

    /* (a) the digest store knows it acked: duplicate without a publish */
    rearm_row(w, g_opp, hex);
    await_row(w, g_opp, 1, "pending", 5000, &r);
    assert_string_equal(r.status, "duplicate");
    assert_string_equal(r.reason, MED_R_A_OC_EMIT_DUPLICATE_NOOP);
    assert_int_equal(r.attempts, 2);
    assert_int_equal(r.next_ms, -1);

    /* (b) the digest record is gone (Redis flushed): the stream answers
     * PubAck duplicate=true */
    med_redis *rd = th_redis_connect();
    med_err e;
    assert_int_equal(med_redis_del(rd, dkey, &e), MED_OK);
    med_redis_close(rd);
    rearm_row(w, g_opp, hex);
    await_row(w, g_opp, 2, "pending", 5000, &r);
    assert_string_equal(r.status, "duplicate");
    assert_string_equal(r.reason, MED_R_A_OC_EMIT_DUPLICATE_NOOP);
    assert_int_equal(r.attempts, 3);
    assert_int_equal(r.next_ms, -1);
    redis_value(dkey, stored, sizeof stored);
    assert_non_null(strstr(stored, ":acked")); /* claimed again, marked after the PubAck */
    assert_int_equal(stream_msgs(w, MED_STREAM_AUDIT, SUBJ_A_AUDIT, r.idem, NULL, NULL, NULL), 1);
    th_sleep_ms(1500);
    emit_row again;
    read_row(w, g_opp, &again);
    assert_int_equal(again.attempts, 3);
    free(hex);
    free(data);
}

/* A.11 #18: a resend with a changed payload -> payload_conflict, nothing
 * sent (the digest store keeps the first payload's digest). */
static void a18_changed_payload_conflict(void **state)
{
    world *w = *state;
    emit_row r;
    read_row(w, g_opp, &r);
    uint8_t *data = NULL;
    size_t len = 0;
    assert_int_equal(stream_msgs(w, MED_STREAM_AUDIT, SUBJ_A_AUDIT, r.idem, &data, &len, NULL), 1);
    Mediation__V1__StageAudit *a = mediation__v1__stage_audit__unpack(NULL, len, data);
    assert_non_null(a);
    a->a_audit->opportunity_created_event_lite->placement_id = (char *)"plc_changed";
    size_t n = mediation__v1__stage_audit__get_packed_size(a);
    uint8_t *changed = malloc(n);
    assert_non_null(changed);
    mediation__v1__stage_audit__pack(a, changed);
    a->a_audit->opportunity_created_event_lite->placement_id = NULL; /* not ours to free */
    char *hex = hex_of(changed, n);
    char dkey[256], before[128], after[128];
    med_emit_digest_key("ci", "a", "oc", r.idem, dkey, sizeof dkey);
    redis_value(dkey, before, sizeof before);
    double conflicts = emit_acks(w, TH_P_A, MED_STAGE_A, MED_R_A_OC_EMIT_PAYLOAD_CONFLICT);

    rearm_row(w, g_opp, hex);
    await_row(w, g_opp, r.attempts, NULL, 5000, &r);
    assert_string_equal(r.status, "rejected");
    assert_string_equal(r.reason, MED_R_A_OC_EMIT_PAYLOAD_CONFLICT);
    assert_int_equal(r.next_ms, -1);
    redis_value(dkey, after, sizeof after);
    assert_string_equal(after, before);
    assert_true(emit_acks(w, TH_P_A, MED_STAGE_A, MED_R_A_OC_EMIT_PAYLOAD_CONFLICT) == conflicts + 1);
    assert_int_equal(stream_msgs(w, MED_STREAM_AUDIT, SUBJ_A_AUDIT, r.idem, NULL, NULL, NULL), 1);
    a->a_audit->opportunity_created_event_lite->placement_id = NULL;
    mediation__v1__stage_audit__free_unpacked(a, NULL);
    free(hex);
    free(changed);
    free(data);
}

/* ---- B ---- */

/* A's seed of g_opp, re-keyed to B.11 case 18's keys and forced in. */
static uint8_t *b18_seed(world *w, size_t *len, natsMsg **orig)
{
    char seed_id[96];
    snprintf(seed_id, sizeof seed_id, "a.seed:%s", g_opp);
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    assert_int_equal(js_GetStreamInfo(&si, w->js, MED_STREAM_CHAIN, NULL, &jerr), NATS_OK);
    uint64_t first = si->State.FirstSeq, last = si->State.LastSeq;
    jsStreamInfo_Destroy(si);
    *orig = NULL;
    for (uint64_t seq = first; seq <= last && !*orig; seq++) {
        natsMsg *m = NULL;
        const char *id = NULL;
        if (js_GetMsg(&m, w->js, MED_STREAM_CHAIN, seq, NULL, &jerr) != NATS_OK) continue;
        if (natsMsgHeader_Get(m, "Nats-Msg-Id", &id) == NATS_OK && id && strcmp(id, seed_id) == 0)
            *orig = m;
        else
            natsMsg_Destroy(m);
    }
    assert_non_null(*orig);
    Mediation__V1__OpportunitySeed *s = mediation__v1__opportunity_seed__unpack(
        NULL, (size_t)natsMsg_GetDataLength(*orig), (const uint8_t *)natsMsg_GetData(*orig));
    assert_non_null(s);
    Mediation__V1__BIngressPacketLite *p = s->b_ingress_packet_lite;
    char *saved[5] = { p->trace_init_lite->trace_key, p->trace_init_lite->request_key,
                       p->trace_init_lite->attempt_key, p->opportunity_seed->opportunity_key,
                       p->opportunity_seed->request_key };
    p->trace_init_lite->trace_key = (char *)"trace_b_sig_001";
    p->trace_init_lite->request_key = (char *)"req_b_sig_001";
    p->trace_init_lite->attempt_key = (char *)"att_b_sig_001";
    p->opportunity_seed->opportunity_key = (char *)"opp_b_sig_001";
    p->opportunity_seed->request_key = (char *)"req_b_sig_001";
    Mediation__V1__BIngressPacketLite__DebugHintsEntry hint =
        MEDIATION__V1__BINGRESS_PACKET_LITE__DEBUG_HINTS_ENTRY__INIT;
    hint.key = (char *)"debugForceSample";
    hint.value = (char *)"true";
    Mediation__V1__BIngressPacketLite__DebugHintsEntry **hints_saved = p->debug_hints;
    size_t n_hints_saved = p->n_debug_hints;
    Mediation__V1__BIngressPacketLite__DebugHintsEntry *hints[1] = { &hint };
    p->debug_hints = hints;
    p->n_debug_hints = 1;
    *len = mediation__v1__opportunity_seed__get_packed_size(s);
    uint8_t *buf = malloc(*len);
    assert_non_null(buf);
    mediation__v1__opportunity_seed__pack(s, buf);
    p->debug_hints = hints_saved;
    p->n_debug_hints = n_hints_saved;
    p->trace_init_lite->trace_key = saved[0];
    p->trace_init_lite->request_key = saved[1];
    p->trace_init_lite->attempt_key = saved[2];
    p->opportunity_seed->opportunity_key = saved[3];
    p->opportunity_seed->request_key = saved[4];
    mediation__v1__opportunity_seed__free_unpacked(s, NULL);
    return buf;
}

static void publish_seed(world *w, natsMsg *orig, const uint8_t *buf, size_t len, const char *id)
{
    natsMsg *m = NULL;
    med_err e;
    assert_int_equal(med_js_msg_new(MED_SUBJ_B_SEED, buf, (int)len, orig, &m, &e), MED_OK);
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = id;
    jsPubAck *pa = NULL;
    jsErrCode jerr = 0;
    assert_int_equal(js_PublishMsg(&pa, w->js, m, &po, &jerr), NATS_OK);
    jsPubAck_Destroy(pa);
    natsMsg_Destroy(m);
}

static void await_metric(world *w, int proc, const char *stage, const char *reason, double want)
{
    long long t0 = th_now_ms();
    double got;
    while ((got = emit_acks(w, proc, stage, reason)) != want) {
        if (th_now_ms() - t0 > 10000) fail_msg("%s: %g, want %g", reason, got, want);
        th_sleep_ms(50);
    }
}

/* B.11 #18: the event's key is the spec's; a repeat -> duplicate, one
 * publish; other sampledSemanticSlots under the key -> payload_conflict. */
static void b18_repeat_duplicate_and_conflict(void **state)
{
    world *w = *state;
    size_t len = 0;
    natsMsg *orig = NULL;
    uint8_t *seed = b18_seed(w, &len, &orig);

    /* other requests of this world may have been sampled in (1%): deltas */
    double accepted = emit_acks(w, TH_P_B, MED_STAGE_B, MED_R_B_SIG_EVT_ACK_ACCEPTED);
    double dups = emit_acks(w, TH_P_B, MED_STAGE_B, MED_R_B_SIG_EVT_ACK_DUPLICATE);
    double conflicts = emit_acks(w, TH_P_B, MED_STAGE_B, MED_R_B_SIG_EVT_PAYLOAD_CONFLICT);
    assert_true(accepted >= 0 && dups >= 0 && conflicts >= 0);
    publish_seed(w, orig, seed, len, "itest.b.sig.1");
    await_metric(w, TH_P_B, MED_STAGE_B, MED_R_B_SIG_EVT_ACK_ACCEPTED, accepted + 1);
    uint8_t *data = NULL;
    size_t dlen = 0;
    assert_int_equal(stream_msgs(w, MED_STREAM_AUDIT, SUBJ_B_AUDIT, SIG_KEY, &data, &dlen, NULL), 1);
    Mediation__V1__StageAudit *a = mediation__v1__stage_audit__unpack(NULL, dlen, data);
    assert_non_null(a);
    assert_string_equal(a->kind, "signal_normalized");
    Mediation__V1__SignalNormalizedEventLite *ev = a->b_audit->signal_normalized_event_lite;
    assert_string_equal(ev->event_idempotency_key, SIG_KEY);
    assert_true(ev->debug_force_sample);
    char dkey[256], stored[128];
    med_emit_digest_key("ci", "b", "sig", SIG_KEY, dkey, sizeof dkey);
    redis_value(dkey, stored, sizeof stored);
    char want[80];
    med_emit_digest_value(a->b_audit->emit_ack->payload_digest, 1, want, sizeof want);
    assert_string_equal(stored, want);

    /* the same seed again (another Nats-Msg-Id, so B runs it): duplicate */
    publish_seed(w, orig, seed, len, "itest.b.sig.2");
    await_metric(w, TH_P_B, MED_STAGE_B, MED_R_B_SIG_EVT_ACK_DUPLICATE, dups + 1);
    assert_int_equal(stream_msgs(w, MED_STREAM_AUDIT, SUBJ_B_AUDIT, SIG_KEY, NULL, NULL, NULL), 1);

    /* the key is held by the digest of the event with other
     * sampledSemanticSlots (as B would have stored under a mapping profile
     * with other slots): the same seed is now a payload conflict */
    assert_true(ev->n_sampled_semantic_slots > 1);
    ev->n_sampled_semantic_slots--;
    char other[65];
    med_err e;
    assert_int_equal(b_sig_digest(ev, other, &e), MED_OK);
    ev->n_sampled_semantic_slots++;
    assert_string_not_equal(other, a->b_audit->emit_ack->payload_digest);
    med_redis *rd = th_redis_connect();
    char v[80];
    med_emit_digest_value(other, 1, v, sizeof v);
    assert_int_equal(med_redis_set(rd, dkey, v, strlen(v), 600000, &e), MED_OK);
    med_redis_close(rd);
    publish_seed(w, orig, seed, len, "itest.b.sig.3");
    await_metric(w, TH_P_B, MED_STAGE_B, MED_R_B_SIG_EVT_PAYLOAD_CONFLICT, conflicts + 1);
    assert_int_equal(stream_msgs(w, MED_STREAM_AUDIT, SUBJ_B_AUDIT, SIG_KEY, NULL, NULL, NULL), 1);
    redis_value(dkey, stored, sizeof stored);
    assert_string_equal(stored, v);

    mediation__v1__stage_audit__free_unpacked(a, NULL);
    free(data);
    free(seed);
    natsMsg_Destroy(orig);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a17_ladder_then_success),
        cmocka_unit_test(a17_window_exhausted),
        cmocka_unit_test(a18_duplicate_no_resend),
        cmocka_unit_test(a18_changed_payload_conflict),
        cmocka_unit_test(b18_repeat_duplicate_and_conflict),
    };
    return cmocka_run_group_tests(tests, setup, th_world_teardown);
}
