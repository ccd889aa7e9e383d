/* The edge's events, replay and reconciliation routes as a process against
 * real NATS: fake stages F and G in this test answer on the edge's inbox
 * (F via Med-Reply-To after a JetStream publish, G via core
 * request/reply), so the HTTP side is checked end to end: the answer
 * shapes, relayed errors, the deadlines, that GET and POST /v1/replay
 * hand G the same ReplayQuery, and that refused input reaches no stage. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <cmocka.h>
#include <jansson.h>
#include <nats/nats.h>

#include "harness.h"
#include "med/names.h"
#include "med/reason.h"
#include "mediation/v1/events.pb-c.h"
#include "mediation/v1/replay.pb-c.h"

#define DEADLINE_MS 600
#define TENANT "t_queries"

static const char *const k_json_hdr[] = { "Content-Type: application/json", NULL };
static const char k_events_body[] =
    "{\"batchId\":\"b_0001\", \"appId\":\"app_demo\",\"sdkVersion\":\"2.1.0\","
    "\"sentAt\":\"2026-02-22T10:30:00.000Z\",\"schemaVersion\":\"schema_v1\",\"events\":[{}]}";

/* What a fake stage does with the next request. */
typedef enum fake_mode { ANSWER_OK = 0, ANSWER_REJECT, ANSWER_UNAVAILABLE, ANSWER_NEVER } fake_mode;
typedef enum fake_kind { FAKE_F = 0, FAKE_G_REPLAY, FAKE_G_RECON } fake_kind;

typedef struct fake {
    fake_kind kind;
    natsConnection *nc;
    natsSubscription *sub;
    atomic_int mode;
    atomic_int seen;
    pthread_mutex_t mu;
    uint8_t *last; /* the last request's payload */
    size_t last_len;
    char msg_id[128], app[128], tenant[128];
} fake;

typedef struct world {
    th_proc edge;
    int port;
    natsConnection *nc;
    fake f, replay, recon;
} world;

/* ---- fake stages ------------------------------------------------------------ */

static size_t pack(const ProtobufCMessage *m, uint8_t **out)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    *out = malloc(n ? n : 1);
    assert_non_null(*out);
    return protobuf_c_message_pack(m, *out);
}

static Mediation__V1__ErrorBodyLite error_of(const char *code, const char *field)
{
    Mediation__V1__ErrorBodyLite e = MEDIATION__V1__ERROR_BODY_LITE__INIT;
    e.code = (char *)code;
    e.message = (char *)"refused by the fake stage";
    if (field) {
        e.field_opt_case = MEDIATION__V1__ERROR_BODY_LITE__FIELD_OPT_FIELD;
        e.field = (char *)field;
    }
    return e;
}

static size_t f_answer(fake_mode mode, uint8_t **out)
{
    Mediation__V1__EventAck item = MEDIATION__V1__EVENT_ACK__INIT;
    item.event_id = (char *)"NA_0";
    item.ack_status = (char *)"rejected";
    item.ack_reason_code = (char *)MED_R_F_EVENT_MISSING_REQUIRED;
    item.server_event_key = (char *)"f_evt_rejected_0";
    Mediation__V1__EventAck *items[] = { &item };
    Mediation__V1__EventBatchAck ack = MEDIATION__V1__EVENT_BATCH_ACK__INIT;
    Mediation__V1__ErrorBodyLite e = error_of(mode == ANSWER_REJECT ? MED_R_F_ENVELOPE_APP_MISMATCH
                                                                    : MED_R_F_EVENT_STORE_UNAVAILABLE,
                                              mode == ANSWER_REJECT ? "appId" : NULL);
    if (mode == ANSWER_OK) {
        ack.http_status = 200;
        ack.batch_id = (char *)"b_0001";
        ack.received_at_unix_ms = 1771756200000LL;
        ack.overall_status = (char *)"rejected_all";
        ack.n_ack_items = 1;
        ack.ack_items = items;
    } else {
        ack.http_status = mode == ANSWER_REJECT ? 403 : 503;
        ack.retry_after_sec = mode == ANSWER_REJECT ? 0 : 3;
        ack.error = &e;
    }
    return pack(&ack.base, out);
}

static size_t g_replay_answer(fake_mode mode, uint8_t **out)
{
    Mediation__V1__ReplaySummaryItem sum = MEDIATION__V1__REPLAY_SUMMARY_ITEM__INIT;
    sum.opportunity_key = (char *)"opp_1";
    sum.trace_key = (char *)"tr_1";
    sum.terminal_status = (char *)"impression";
    Mediation__V1__ReplayItem item = MEDIATION__V1__REPLAY_ITEM__INIT;
    item.item_case = MEDIATION__V1__REPLAY_ITEM__ITEM_SUMMARY;
    item.summary = &sum;
    Mediation__V1__ReplayItem *items[] = { &item };
    Mediation__V1__ReplayResultMeta meta = MEDIATION__V1__REPLAY_RESULT_META__INIT;
    meta.total_matched = 1;
    meta.returned_count = 1;
    meta.replay_run_id = (char *)"replay_0123456789ab";
    Mediation__V1__ReplayEmptyResultLite empty = MEDIATION__V1__REPLAY_EMPTY_RESULT_LITE__INIT;
    empty.empty_reason_code = (char *)MED_R_G_REPLAY_NOT_EMPTY;
    Mediation__V1__ErrorBodyLite e = error_of(MED_R_G_REPLAY_INVALID_PAGINATION,
                                              "pagination.pageSize");
    Mediation__V1__ReplayPage page = MEDIATION__V1__REPLAY_PAGE__INIT;
    if (mode == ANSWER_OK) {
        page.http_status = 200;
        page.query_echo_json = (char *)"{\"queryMode\":\"by_opportunity\"}";
        page.result_meta = &meta;
        page.n_items = 1;
        page.items = items;
        page.empty_result = &empty;
        page.generated_at_unix_ms = 1771756200000LL;
    } else {
        page.http_status = 400;
        page.error = &e;
    }
    return pack(&page.base, out);
}

static size_t g_recon_answer(uint8_t **out)
{
    Mediation__V1__ReconciliationReport r = MEDIATION__V1__RECONCILIATION_REPORT__INIT;
    r.http_status = 200;
    r.granularity = (char *)"daily";
    r.total_archive_records = 2;
    r.total_billing_records = 2;
    r.matched_count = 2;
    r.pass = 1;
    return pack(&r.base, out);
}

static void remember(fake *fk, natsMsg *m)
{
    const char *v = NULL;
    pthread_mutex_lock(&fk->mu);
    free(fk->last);
    fk->last_len = (size_t)natsMsg_GetDataLength(m);
    fk->last = malloc(fk->last_len ? fk->last_len : 1);
    if (fk->last) memcpy(fk->last, natsMsg_GetData(m), fk->last_len);
    snprintf(fk->msg_id, sizeof fk->msg_id, "%s",
             natsMsgHeader_Get(m, MED_HDR_MSG_ID, &v) == NATS_OK ? v : "");
    snprintf(fk->app, sizeof fk->app, "%s",
             natsMsgHeader_Get(m, MED_HDR_APP, &v) == NATS_OK ? v : "");
    snprintf(fk->tenant, sizeof fk->tenant, "%s",
             natsMsgHeader_Get(m, MED_HDR_TENANT, &v) == NATS_OK ? v : "");
    pthread_mutex_unlock(&fk->mu);
    atomic_fetch_add(&fk->seen, 1);
}

static void on_request(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *closure)
{
    (void)sub;
    fake *fk = closure;
    remember(fk, m);
    fake_mode mode = (fake_mode)atomic_load(&fk->mode);
    const char *reply = NULL;
    if (fk->kind == FAKE_F)
        natsMsgHeader_Get(m, MED_HDR_REPLY_TO, &reply);
    else
        reply = natsMsg_GetReply(m);
    if (mode != ANSWER_NEVER && reply) {
        uint8_t *buf = NULL;
        size_t n = fk->kind == FAKE_F          ? f_answer(mode, &buf)
                   : fk->kind == FAKE_G_REPLAY ? g_replay_answer(mode, &buf)
                                               : g_recon_answer(&buf);
        natsConnection_Publish(nc, reply, buf, (int)n);
        free(buf);
    }
    natsMsg_Destroy(m);
}

static void fake_start(world *w, fake *fk, fake_kind kind, const char *subject)
{
    fk->kind = kind;
    fk->nc = w->nc;
    pthread_mutex_init(&fk->mu, NULL);
    assert_int_equal(natsConnection_Subscribe(&fk->sub, w->nc, subject, on_request, fk), NATS_OK);
    assert_int_equal(natsConnection_Flush(w->nc), NATS_OK);
}

static void fake_stop(fake *fk)
{
    if (!fk->sub) return;
    natsSubscription_Unsubscribe(fk->sub);
    natsSubscription_Destroy(fk->sub);
    fk->sub = NULL;
    free(fk->last);
    pthread_mutex_destroy(&fk->mu);
}

/* Resets a fake before a case. */
static void fake_expect(fake *fk, fake_mode mode)
{
    atomic_store(&fk->mode, (int)mode);
    atomic_store(&fk->seen, 0);
}

/* ---- fixture ------------------------------------------------------------------ */

static int setup(void **state)
{
    th_env("NATS_URL");
    th_env("MED_INFRA_DIR");
    world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    w->port = th_free_port();
    char buf[16];
    th_proc *p = &w->edge;
    th_proc_init(p, "edge_queries", "edge", "med-edge");
    p->admin_port = w->port;
    snprintf(buf, sizeof buf, "%d", w->port);
    th_proc_setenv(p, "EDGE_HTTP_PORT", buf);
    th_proc_setenv(p, "EDGE_HTTP_HOST", "127.0.0.1");
    th_proc_setenv(p, "APP_ENV", "ci");
    th_proc_setenv(p, "AUTH_ENABLED", "false");
    th_proc_setenv(p, "EDGE_DEV_TENANT", TENANT);
    snprintf(buf, sizeof buf, "%d", DEADLINE_MS);
    th_proc_setenv(p, "EDGE_EVENTS_TIMEOUT_MS", buf);
    th_proc_setenv(p, "EDGE_QUERY_TIMEOUT_MS", buf);
    th_proc_setenv(p, "READINESS_PROBE_INTERVAL_MS", "200");
    th_proc_setenv(p, "SERVICE_INSTANCE", "edge_queries");
    assert_int_equal(th_proc_start(p), 0);
    if (th_proc_wait_ready(p, 20000) != 0) fail_msg("med-edge did not become ready");
    assert_int_equal(natsConnection_ConnectTo(&w->nc, th_env("NATS_URL")), NATS_OK);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    /* Normally stopped by the last case; SIGTERM lets a sanitizer build
     * report leaks at exit. */
    int st = w->edge.pid > 0 ? th_proc_stop(&w->edge, SIGTERM, 10000) : 0;
    fake_stop(&w->f);
    fake_stop(&w->replay);
    fake_stop(&w->recon);
    th_proc_free(&w->edge);
    natsConnection_Destroy(w->nc);
    free(w);
    return (WIFEXITED(st) && WEXITSTATUS(st) == 0) ? 0 : -1;
}

/* ---- HTTP helpers ---------------------------------------------------------------- */

static th_http_resp call(const world *w, const char *method, const char *path, const char *body)
{
    char url[2048];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", w->port, path);
    th_http_resp r;
    if (th_http(method, url, body ? k_json_hdr : NULL, body, body ? strlen(body) : 0, 10000,
                &r) != 0)
        fail_msg("%s %s failed", method, path);
    return r;
}

static json_t *body_json(const th_http_resp *r)
{
    json_t *j = json_loadb(r->body, r->body_len, 0, NULL);
    if (!j) fail_msg("body is not JSON: %.200s", r->body);
    return j;
}

static void assert_error(th_http_resp *r, long status, const char *code, const char *field)
{
    if (r->status != status) fail_msg("status %ld, want %ld: %.300s", r->status, status, r->body);
    json_t *j = body_json(r);
    json_t *e = json_object_get(j, "error");
    assert_true(json_is_object(e));
    assert_string_equal(json_string_value(json_object_get(e, "code")), code);
    if (field)
        assert_string_equal(json_string_value(json_object_get(e, "field")), field);
    else
        assert_true(json_is_null(json_object_get(e, "field")));
    json_decref(j);
}

static void assert_retry_after(const th_http_resp *r, const char *want)
{
    char v[16];
    assert_int_equal(th_http_header(r, "Retry-After", v, sizeof v), 0);
    assert_string_equal(v, want);
}

/* ---- events ---------------------------------------------------------------------- */

static void events_are_answered_with_fs_ack(void **state)
{
    world *w = *state;
    fake_start(w, &w->f, FAKE_F, MED_SUBJ_F_EVENTS);
    fake_expect(&w->f, ANSWER_OK);
    th_http_resp r = call(w, "POST", "/v1/events", k_events_body);
    if (r.status != 200) fail_msg("status %ld: %.300s", r.status, r.body);
    json_t *j = body_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "batchId")), "b_0001");
    assert_string_equal(json_string_value(json_object_get(j, "receivedAt")),
                        "2026-02-22T10:30:00.000Z");
    assert_string_equal(json_string_value(json_object_get(j, "overallStatus")), "rejected_all");
    json_t *item = json_array_get(json_object_get(j, "ackItems"), 0);
    assert_string_equal(json_string_value(json_object_get(item, "ackReasonCode")),
                        MED_R_F_EVENT_MISSING_REQUIRED);
    assert_null(json_object_get(j, "httpStatus"));
    json_decref(j);
    char tk[128];
    assert_int_equal(th_http_header(&r, MED_HDR_TRACE_KEY, tk, sizeof tk), 0);
    th_http_free(&r);
    /* What F got: the body byte for byte, the caller's tenant and app, the
     * request id as Nats-Msg-Id, a deadline after the receipt. */
    pthread_mutex_lock(&w->f.mu);
    Mediation__V1__EventBatch *b =
        mediation__v1__event_batch__unpack(NULL, w->f.last_len, w->f.last);
    assert_non_null(b);
    assert_string_equal(b->body_json, k_events_body);
    assert_string_equal(b->tenant_id, TENANT);
    assert_string_equal(b->app_id, "app_demo");
    assert_string_equal(w->f.app, "app_demo");
    assert_string_equal(w->f.tenant, TENANT);
    assert_string_equal(w->f.msg_id, b->edge_request_id);
    assert_true(b->deadline_unix_ms > b->received_at_unix_ms);
    assert_string_equal(b->trace->trace_key, tk);
    pthread_mutex_unlock(&w->f.mu);
    mediation__v1__event_batch__free_unpacked(b, NULL);
}

static void events_rejects_and_outages_keep_fs_status(void **state)
{
    world *w = *state;
    fake_expect(&w->f, ANSWER_REJECT);
    th_http_resp r = call(w, "POST", "/v1/events", k_events_body);
    assert_error(&r, 403, MED_R_F_ENVELOPE_APP_MISMATCH, "appId");
    th_http_free(&r);
    fake_expect(&w->f, ANSWER_UNAVAILABLE);
    r = call(w, "POST", "/v1/events", k_events_body);
    assert_error(&r, 503, MED_R_F_EVENT_STORE_UNAVAILABLE, NULL);
    assert_retry_after(&r, "3");
    th_http_free(&r);
}

static void events_without_an_ack_are_503_at_the_deadline(void **state)
{
    world *w = *state;
    fake_expect(&w->f, ANSWER_NEVER);
    long long t0 = th_now_ms();
    th_http_resp r = call(w, "POST", "/v1/events", k_events_body);
    long long took = th_now_ms() - t0;
    assert_error(&r, 503, MED_R_EDGE_UPSTREAM_UNAVAILABLE, NULL);
    assert_retry_after(&r, "1");
    th_http_free(&r);
    assert_true(took >= DEADLINE_MS - 50);
    assert_true(took < DEADLINE_MS + 2000);
    assert_int_equal(atomic_load(&w->f.seen), 1);
}

static void refused_events_reach_no_stage(void **state)
{
    world *w = *state;
    fake_expect(&w->f, ANSWER_OK);
    th_http_resp r = call(w, "POST", "/v1/events", "{\"appId\":");
    assert_error(&r, 400, MED_R_EDGE_JSON_MALFORMED, NULL);
    th_http_free(&r);
    r = call(w, "POST", "/v1/events", "[1]");
    assert_error(&r, 400, MED_R_EDGE_FIELD_TYPE, NULL);
    th_http_free(&r);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/events", w->port);
    static const char *const text[] = { "Content-Type: text/plain", NULL };
    assert_int_equal(th_http("POST", url, text, "{}", 2, 5000, &r), 0);
    assert_error(&r, 415, MED_R_EDGE_UNSUPPORTED_MEDIA, NULL);
    th_http_free(&r);
    natsConnection_Flush(w->nc);
    th_sleep_ms(100);
    assert_int_equal(atomic_load(&w->f.seen), 0);
}

/* ---- replay ---------------------------------------------------------------------- */

static const char k_replay_get[] =
    "/v1/replay?queryMode=by_opportunity&outputMode=summary&opportunityKey=opp_1"
    "&replayContractVersion=g_replay_v1&pagination.pageSize=50&sort.sortBy=auditAt"
    "&sort.sortOrder=desc&filters.adapterIdIn=a,b&pinnedVersions.schemaVersion=1.0.0";
static const char k_replay_post[] =
    "{\"queryMode\":\"by_opportunity\",\"outputMode\":\"summary\",\"opportunityKey\":\"opp_1\","
    "\"replayContractVersion\":\"g_replay_v1\",\"pagination\":{\"pageSize\":50},"
    "\"sort\":{\"sortBy\":\"auditAt\",\"sortOrder\":\"desc\"},"
    "\"filters\":{\"adapterIdIn\":[\"a\",\"b\"]},\"pinnedVersions\":{\"schemaVersion\":\"1.0.0\"}}";

static void replay_without_g_is_503_at_once(void **state)
{
    world *w = *state;
    long long t0 = th_now_ms();
    th_http_resp r = call(w, "GET", k_replay_get, NULL);
    assert_error(&r, 503, MED_R_EDGE_UPSTREAM_UNAVAILABLE, NULL);
    assert_retry_after(&r, "1");
    th_http_free(&r);
    assert_true(th_now_ms() - t0 < DEADLINE_MS);
}

/* The query G received, with what differs by nature (method, receipt
 * time, trace, the dev identity's validity window) cleared, packed again for a byte comparison. */
static size_t normalized_last_query(fake *fk, uint8_t **out)
{
    pthread_mutex_lock(&fk->mu);
    Mediation__V1__ReplayQuery *q =
        mediation__v1__replay_query__unpack(NULL, fk->last_len, fk->last);
    pthread_mutex_unlock(&fk->mu);
    assert_non_null(q);
    assert_string_equal(q->tenant_id, TENANT);
    assert_non_null(q->auth); /* the dev identity while auth is off */
    char *method = q->http_method;
    Mediation__V1__TraceContext *tc = q->trace;
    q->http_method = (char *)"";
    q->received_at_unix_ms = 0;
    q->trace = NULL;
    q->auth->issued_at_unix_ms = q->auth->expires_at_unix_ms = 0; /* minted per request */
    size_t n = pack(&q->base, out);
    q->trace = tc;
    q->http_method = method;
    mediation__v1__replay_query__free_unpacked(q, NULL);
    return n;
}

static void replay_get_and_post_reach_g_alike(void **state)
{
    world *w = *state;
    fake_start(w, &w->replay, FAKE_G_REPLAY, MED_SUBJ_G_REPLAY);
    fake_expect(&w->replay, ANSWER_OK);
    th_http_resp r1 = call(w, "GET", k_replay_get, NULL);
    if (r1.status != 200) fail_msg("GET status %ld: %.300s", r1.status, r1.body);
    uint8_t *q1 = NULL;
    size_t n1 = normalized_last_query(&w->replay, &q1);
    th_http_resp r2 = call(w, "POST", "/v1/replay", k_replay_post);
    if (r2.status != 200) fail_msg("POST status %ld: %.300s", r2.status, r2.body);
    uint8_t *q2 = NULL;
    size_t n2 = normalized_last_query(&w->replay, &q2);
    assert_int_equal(n1, n2);
    assert_memory_equal(q1, q2, n1);
    free(q1);
    free(q2);
    /* Same page, same body. */
    assert_int_equal(r1.body_len, r2.body_len);
    assert_memory_equal(r1.body, r2.body, r1.body_len);
    json_t *j = body_json(&r1);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(j, "queryEcho"), "queryMode")),
        "by_opportunity");
    json_t *it = json_array_get(json_object_get(j, "items"), 0);
    assert_string_equal(json_string_value(json_object_get(it, "terminalStatus")), "impression");
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "resultMeta"),
                                                          "nextCursorOrNA")),
                        "NA");
    assert_string_equal(json_string_value(json_object_get(j, "generatedAt")),
                        "2026-02-22T10:30:00.000Z");
    json_decref(j);
    th_http_free(&r1);
    th_http_free(&r2);
}

static void replay_errors_of_g_are_relayed(void **state)
{
    world *w = *state;
    fake_expect(&w->replay, ANSWER_REJECT);
    th_http_resp r = call(w, "GET", "/v1/replay?pagination.pageSize=abc", NULL);
    assert_error(&r, 400, MED_R_G_REPLAY_INVALID_PAGINATION, "pagination.pageSize");
    th_http_free(&r);
    pthread_mutex_lock(&w->replay.mu);
    Mediation__V1__ReplayQuery *q =
        mediation__v1__replay_query__unpack(NULL, w->replay.last_len, w->replay.last);
    pthread_mutex_unlock(&w->replay.mu);
    assert_non_null(q);
    assert_int_equal(q->pagination->page_size, -1); /* what G reports as invalid */
    assert_string_equal(q->http_method, "GET");
    mediation__v1__replay_query__free_unpacked(q, NULL);
}

static void replay_input_the_query_cannot_carry_reaches_no_stage(void **state)
{
    world *w = *state;
    fake_expect(&w->replay, ANSWER_OK);
    th_http_resp r = call(w, "GET", "/v1/replay?filter.traceKey=tr_1", NULL);
    assert_error(&r, 400, MED_R_EDGE_FIELD_INVALID, "filter.traceKey");
    th_http_free(&r);
    r = call(w, "POST", "/v1/replay", "{\"includeRawPayload\":\"yes\"}");
    assert_error(&r, 400, MED_R_EDGE_FIELD_TYPE, "includeRawPayload");
    th_http_free(&r);
    r = call(w, "GET", "/v1/replay?queryMode=a&queryMode=b", NULL);
    assert_error(&r, 400, MED_R_EDGE_QUERY_MALFORMED, "queryMode");
    th_http_free(&r);
    natsConnection_Flush(w->nc);
    th_sleep_ms(100);
    assert_int_equal(atomic_load(&w->replay.seen), 0);
}

static void replay_without_an_answer_is_503_at_the_deadline(void **state)
{
    world *w = *state;
    fake_expect(&w->replay, ANSWER_NEVER);
    long long t0 = th_now_ms();
    th_http_resp r = call(w, "POST", "/v1/replay", k_replay_post);
    long long took = th_now_ms() - t0;
    assert_error(&r, 503, MED_R_EDGE_UPSTREAM_UNAVAILABLE, NULL);
    th_http_free(&r);
    assert_true(took >= DEADLINE_MS - 50);
    assert_int_equal(atomic_load(&w->replay.seen), 1);
}

/* ---- reconciliation ---------------------------------------------------------------- */

static void reconciliation_report_is_relayed(void **state)
{
    world *w = *state;
    fake_start(w, &w->recon, FAKE_G_RECON, MED_SUBJ_G_RECONCILE);
    fake_expect(&w->recon, ANSWER_OK);
    th_http_resp r = call(
        w, "GET", "/v1/reconciliation?granularity=daily&windowStart=2026-02-21T00:00:00.000Z",
        NULL);
    if (r.status != 200) fail_msg("status %ld: %.300s", r.status, r.body);
    json_t *j = body_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "granularity")), "daily");
    assert_int_equal(json_integer_value(json_object_get(j, "matchedCount")), 2);
    assert_true(json_is_true(json_object_get(j, "pass")));
    assert_null(json_object_get(j, "httpStatus"));
    json_decref(j);
    th_http_free(&r);
    pthread_mutex_lock(&w->recon.mu);
    Mediation__V1__ReconciliationQuery *q =
        mediation__v1__reconciliation_query__unpack(NULL, w->recon.last_len, w->recon.last);
    pthread_mutex_unlock(&w->recon.mu);
    assert_non_null(q);
    assert_string_equal(q->granularity, "daily");
    assert_string_equal(q->window_start, "2026-02-21T00:00:00.000Z");
    assert_string_equal(q->tenant_id, TENANT);
    mediation__v1__reconciliation_query__free_unpacked(q, NULL);
    r = call(w, "GET", "/v1/reconciliation?granularity=daily&tolerance=5", NULL);
    assert_error(&r, 400, MED_R_EDGE_FIELD_INVALID, "tolerance");
    th_http_free(&r);
}

/* ---- shutdown ---------------------------------------------------------------------- */

typedef struct inflight_call {
    world *w;
    th_http_resp r;
} inflight_call;

static void *events_call(void *p)
{
    inflight_call *c = p;
    c->r = call(c->w, "POST", "/v1/events", k_events_body);
    return NULL;
}

/* Last: it stops the edge. A batch waiting on F is still answered (503
 * at its deadline, the SDK resends) and the edge exits 0. */
static void sigterm_answers_waiting_batches(void **state)
{
    world *w = *state;
    fake_expect(&w->f, ANSWER_NEVER);
    inflight_call c = { .w = w };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, events_call, &c), 0);
    th_sleep_ms(150);
    int st = th_proc_stop(&w->edge, SIGTERM, 10000);
    pthread_join(t, NULL);
    assert_error(&c.r, 503, MED_R_EDGE_UPSTREAM_UNAVAILABLE, NULL);
    th_http_free(&c.r);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(events_are_answered_with_fs_ack),
        cmocka_unit_test(events_rejects_and_outages_keep_fs_status),
        cmocka_unit_test(events_without_an_ack_are_503_at_the_deadline),
        cmocka_unit_test(refused_events_reach_no_stage),
        cmocka_unit_test(replay_without_g_is_503_at_once),
        cmocka_unit_test(replay_get_and_post_reach_g_alike),
        cmocka_unit_test(replay_errors_of_g_are_relayed),
        cmocka_unit_test(replay_input_the_query_cannot_carry_reaches_no_stage),
        cmocka_unit_test(replay_without_an_answer_is_503_at_the_deadline),
        cmocka_unit_test(reconciliation_report_is_relayed),
        cmocka_unit_test(sigterm_answers_waiting_batches),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
