/* The public edge as a process against real NATS JetStream, PostgreSQL and
 * Redis (tests/harness/infra.sh, started by tests/run): readiness, the
 * input limits and error shapes of 06 section 6, the deadline Delivery,
 * the reply path (a fake stage E / A in this test answers on the edge's
 * inbox), that bad input publishes nothing, disconnects, and SIGTERM. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>
#include <nats/nats.h>

#include "harness.h"
#include "med/names.h"
#include "med/reason.h"
#include "mediation/v1/delivery.pb-c.h"
#include "mediation/v1/opportunity.pb-c.h"

#define DEADLINE_MS 500
#define TENANT "t_http"

static const char k_good[] =
    "{\"placementId\":\"plc_feed\",\"sdkVersion\":\"2.1.0\","
    "\"appContext\":{\"appId\":\"app_demo\",\"sessionId\":\"sess_0001\",\"channelType\":\"app\","
    "\"requestAt\":\"2026-11-23T10:00:00.000Z\"},"
    "\"triggerContext\":{\"triggerType\":\"answer_end\",\"triggerAt\":\"2026-11-23T10:00:00.100Z\"}"
    "}";
static const char *const k_json_hdr[] = { "Content-Type: application/json", NULL };

/* What the fake stage on med.a.request.v1 does with each request. */
typedef enum fake_mode { FAKE_OFF, FAKE_DELIVERY, FAKE_REJECT, FAKE_LATE } fake_mode;

typedef struct world {
    th_proc edge;
    int port;
    natsConnection *nc;
    natsSubscription *fake;
    atomic_int mode;
} world;

static void edge_configure(th_proc *p, int port, const char *auth)
{
    char buf[16];
    th_proc_init(p, "edge_http", "edge", "med-edge");
    snprintf(buf, sizeof buf, "%d", port);
    p->admin_port = port;
    th_proc_setenv(p, "EDGE_HTTP_PORT", buf);
    th_proc_setenv(p, "EDGE_HTTP_HOST", "127.0.0.1");
    th_proc_setenv(p, "APP_ENV", "ci");
    th_proc_setenv(p, "AUTH_ENABLED", auth);
    th_proc_setenv(p, "EDGE_DEV_TENANT", TENANT);
    snprintf(buf, sizeof buf, "%d", DEADLINE_MS);
    th_proc_setenv(p, "EDGE_REQUEST_TIMEOUT_MS", buf);
    th_proc_setenv(p, "READINESS_PROBE_INTERVAL_MS", "200");
    th_proc_setenv(p, "LOG_LEVEL", "info");
    th_proc_setenv(p, "SERVICE_INSTANCE", "edge_http");
}

static int setup(void **state)
{
    /* Fail with a clear message when run outside tests/run. */
    th_env("NATS_URL");
    th_env("PG_DSN");
    th_env("REDIS_HOST");
    th_env("MED_INFRA_DIR");
    th_env("MED_BUILD_ROOT");
    world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    w->port = th_free_port();
    edge_configure(&w->edge, w->port, "false");
    assert_int_equal(th_proc_start(&w->edge), 0);
    if (th_proc_wait_ready(&w->edge, 20000) != 0) fail_msg("med-edge did not become ready");
    assert_int_equal(natsConnection_ConnectTo(&w->nc, th_env("NATS_URL")), NATS_OK);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    if (w->fake) natsSubscription_Destroy(w->fake);
    th_proc_free(&w->edge);
    natsConnection_Destroy(w->nc);
    free(w);
    return 0;
}

/* ---- HTTP helpers --------------------------------------------------------- */

static void url_of(const world *w, const char *path, char *out, size_t cap)
{
    snprintf(out, cap, "http://127.0.0.1:%d%s", w->port, path);
}

static th_http_resp post(const world *w, const char *path, const char *const *hdrs,
                         const char *body, size_t len)
{
    char url[256];
    url_of(w, path, url, sizeof url);
    th_http_resp r;
    if (th_http("POST", url, hdrs, body, len, 10000, &r) != 0) fail_msg("POST %s failed", path);
    return r;
}

static th_http_resp get(const world *w, const char *path)
{
    char url[256];
    url_of(w, path, url, sizeof url);
    th_http_resp r;
    if (th_http("GET", url, NULL, NULL, 0, 5000, &r) != 0) fail_msg("GET %s failed", path);
    return r;
}

static json_t *body_json(const th_http_resp *r)
{
    json_error_t jerr;
    json_t *j = json_loadb(r->body, r->body_len, 0, &jerr);
    if (!j) fail_msg("body is not JSON (%s): %.200s", jerr.text, r->body);
    return j;
}

/* Checks the 06 section 6 shape and the code; returns the field or "". */
static void assert_error(const th_http_resp *r, long status, const char *code, const char *field)
{
    if (r->status != status) fail_msg("status %ld, want %ld: %.300s", r->status, status, r->body);
    json_t *j = body_json(r);
    json_t *e = json_object_get(j, "error");
    assert_true(json_is_object(e));
    assert_int_equal(json_object_size(e), 3);
    assert_string_equal(json_string_value(json_object_get(e, "code")), code);
    assert_true(json_is_string(json_object_get(e, "message")));
    json_t *f = json_object_get(e, "field");
    if (field)
        assert_string_equal(json_string_value(f), field);
    else
        assert_true(json_is_null(f));
    json_decref(j);
}

static const char *json_str(json_t *j, const char *key)
{
    const char *v = json_string_value(json_object_get(j, key));
    if (!v) fail_msg("member %s missing", key);
    return v;
}

/* Value of an unlabelled series from /metrics; -1 when absent. */
static long long metric_value(const world *w, const char *series)
{
    th_http_resp r = get(w, "/metrics");
    long long v = -1;
    size_t n = strlen(series);
    for (const char *line = r.body; line && *line; line = strchr(line, '\n')) {
        if (*line == '\n') line++;
        if (strncmp(line, series, n) == 0 && line[n] == ' ') {
            double d = -1;
            if (sscanf(line + n + 1, "%lf", &d) == 1) v = (long long)d;
            break;
        }
    }
    th_http_free(&r);
    return v;
}

/* ---- fake stage on med.a.request.v1 ---------------------------------------- */

static void copy_trace_headers(natsMsg *from, natsMsg *to)
{
    const char *names[] = { MED_HDR_TRACEPARENT, MED_HDR_TRACE_KEY, MED_HDR_REQUEST_KEY,
                            MED_HDR_TENANT,      MED_HDR_APP,       MED_HDR_PLACEMENT };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = NULL;
        if (natsMsgHeader_Get(from, names[i], &v) == NATS_OK) natsMsgHeader_Set(to, names[i], v);
    }
    natsMsgHeader_Set(to, MED_HDR_OPPORTUNITY_KEY, "opp_fake_0001");
}

static size_t pack_delivery(natsMsg *req, uint8_t *buf)
{
    Mediation__V1__TraceContext tc;
    mediation__v1__trace_context__init(&tc);
    const char *rk = NULL;
    natsMsgHeader_Get(req, MED_HDR_REQUEST_KEY, &rk);
    tc.request_key = (char *)(rk ? rk : "");
    tc.opportunity_key = (char *)"opp_fake_0001";
    Mediation__V1__Delivery d;
    mediation__v1__delivery__init(&d);
    d.trace = &tc;
    d.status = (char *)"served";
    d.response_reference = (char *)"rsp_fake_0001";
    d.final_reason_code = (char *)"e_render_candidate_selected";
    return mediation__v1__delivery__pack(&d, buf);
}

static size_t pack_reject(uint8_t *buf)
{
    Mediation__V1__ErrorBodyLite e;
    mediation__v1__error_body_lite__init(&e);
    e.code = (char *)"a_trg_missing_required_field";
    e.message = (char *)"triggerContext.triggerAt is required";
    e.field_opt_case = MEDIATION__V1__ERROR_BODY_LITE__FIELD_OPT_FIELD;
    e.field = (char *)"triggerContext.triggerAt";
    Mediation__V1__OpportunityRejectReply rr;
    mediation__v1__opportunity_reject_reply__init(&rr);
    rr.http_status = 400;
    rr.error = &e;
    return mediation__v1__opportunity_reject_reply__pack(&rr, buf);
}

static void on_fake_request(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *ud)
{
    (void)sub;
    world *w = ud;
    int mode = atomic_load(&w->mode);
    const char *reply_to = NULL;
    if (mode != FAKE_OFF && natsMsgHeader_Get(m, MED_HDR_REPLY_TO, &reply_to) == NATS_OK) {
        uint8_t buf[1024];
        size_t n = mode == FAKE_REJECT ? pack_reject(buf) : pack_delivery(m, buf);
        if (mode == FAKE_LATE) th_sleep_ms(DEADLINE_MS + 400);
        natsMsg *out = NULL;
        if (natsMsg_Create(&out, reply_to, NULL, (const char *)buf, (int)n) == NATS_OK) {
            copy_trace_headers(m, out);
            natsConnection_PublishMsg(nc, out);
            natsMsg_Destroy(out);
        }
    }
    natsMsg_Destroy(m);
}

static void fake_stage(world *w, fake_mode mode)
{
    atomic_store(&w->mode, mode);
    if (!w->fake) {
        assert_int_equal(
            natsConnection_Subscribe(&w->fake, w->nc, MED_SUBJ_A_REQUEST, on_fake_request, w),
            NATS_OK);
        assert_int_equal(natsConnection_Flush(w->nc), NATS_OK);
    }
}

static void fake_stage_off(world *w)
{
    if (w->fake) {
        natsSubscription_Unsubscribe(w->fake);
        natsSubscription_Destroy(w->fake);
        w->fake = NULL;
    }
    atomic_store(&w->mode, FAKE_OFF);
}

/* ---- tests ---------------------------------------------------------------- */

static void healthz_and_metrics_answer(void **state)
{
    world *w = *state;
    th_http_resp r = get(w, "/healthz");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"status\":\"ok\"}");
    th_http_free(&r);
    r = get(w, "/metrics");
    assert_int_equal(r.status, 200);
    char ct[128];
    assert_int_equal(th_http_header(&r, "Content-Type", ct, sizeof ct), 0);
    assert_string_equal(ct, "text/plain; version=0.0.4");
    assert_non_null(strstr(r.body, "med_edge_requests_total{route=\"/healthz\",code=\"200\"}"));
    assert_non_null(strstr(r.body, "med_readiness_up{dependency=\"redis\"} 1"));
    th_http_free(&r);
}

static void readyz_names_redis_while_it_is_down(void **state)
{
    world *w = *state;
    char body[512];
    assert_int_equal(th_await_readyz(w->port, 200, body, sizeof body, 5000), 200);
    assert_string_equal(body, "{\"status\":\"ready\"}");
    assert_int_equal(th_infra("stop-one", "redis"), 0);
    long st = th_await_readyz(w->port, 503, body, sizeof body, 5000);
    int restarted = th_infra("start-one", "redis"); /* before any assert can bail out */
    assert_int_equal(st, 503);
    assert_string_equal(body, "{\"status\":\"not_ready\",\"missing\":[\"redis\"]}");
    assert_int_equal(restarted, 0);
    assert_int_equal(th_await_readyz(w->port, 200, body, sizeof body, 5000), 200);
}

static void malformed_json_is_400_with_the_error_shape(void **state)
{
    world *w = *state;
    const char *bad = "{\"placementId\": \"plc_feed\",";
    th_http_resp r = post(w, "/v1/opportunities", k_json_hdr, bad, strlen(bad));
    assert_error(&r, 400, MED_R_EDGE_JSON_MALFORMED, NULL);
    char ct[64];
    assert_int_equal(th_http_header(&r, "Content-Type", ct, sizeof ct), 0);
    assert_string_equal(ct, "application/json");
    th_http_free(&r);
}

static char *big_body(size_t n)
{
    char *b = malloc(n + 1);
    assert_non_null(b);
    memset(b, 'x', n);
    memcpy(b, "{\"pad\":\"", 8);
    memcpy(b + n - 2, "\"}", 2);
    b[n] = '\0';
    return b;
}

static void two_mib_body_is_413(void **state)
{
    world *w = *state;
    char *b = big_body(2 * 1024 * 1024);
    th_http_resp r = post(w, "/v1/opportunities", k_json_hdr, b, strlen(b));
    assert_error(&r, 413, MED_R_EDGE_BODY_TOO_LARGE, NULL);
    th_http_free(&r);
    free(b);
}

static void text_plain_is_415(void **state)
{
    world *w = *state;
    const char *hdrs[] = { "Content-Type: text/plain", NULL };
    th_http_resp r = post(w, "/v1/opportunities", hdrs, k_good, strlen(k_good));
    assert_error(&r, 415, MED_R_EDGE_UNSUPPORTED_MEDIA, NULL);
    th_http_free(&r);
}

static void missing_and_wrong_fields_name_their_path(void **state)
{
    world *w = *state;
    const char *no_placement = "{\"appContext\":{\"appId\":\"app_demo\"},\"triggerContext\":{}}";
    th_http_resp r = post(w, "/v1/opportunities", k_json_hdr, no_placement, strlen(no_placement));
    assert_error(&r, 400, MED_R_EDGE_FIELD_MISSING, "placementId");
    th_http_free(&r);
    const char *bad_app =
        "{\"placementId\":\"p\",\"appContext\":{\"appId\":7},\"triggerContext\":{}}";
    r = post(w, "/v1/opportunities", k_json_hdr, bad_app, strlen(bad_app));
    assert_error(&r, 400, MED_R_EDGE_FIELD_TYPE, "appContext.appId");
    th_http_free(&r);
}

static void thirty_three_levels_are_too_deep(void **state)
{
    world *w = *state;
    char body[128] = "";
    for (int i = 0; i < 33; i++) strcat(body, "[");
    for (int i = 0; i < 33; i++) strcat(body, "]");
    th_http_resp r = post(w, "/v1/opportunities", k_json_hdr, body, strlen(body));
    assert_error(&r, 400, MED_R_EDGE_JSON_TOO_DEEP, NULL);
    th_http_free(&r);
}

static void unknown_path_is_404_wrong_method_405(void **state)
{
    world *w = *state;
    th_http_resp r = get(w, "/v1/nothing");
    assert_error(&r, 404, MED_R_EDGE_NOT_FOUND, NULL);
    th_http_free(&r);
    r = get(w, "/v1/opportunities");
    assert_error(&r, 405, MED_R_EDGE_METHOD_NOT_ALLOWED, NULL);
    char allow[64];
    assert_int_equal(th_http_header(&r, "Allow", allow, sizeof allow), 0);
    assert_string_equal(allow, "POST");
    th_http_free(&r);
}

static void stages_not_landed_answer_501_after_validation(void **state)
{
    world *w = *state;
    const char *posts[] = { "/v1/events", "/v1/replay",
                            "/internal/v1/release/readiness/evaluate" };
    for (size_t i = 0; i < sizeof posts / sizeof posts[0]; i++) {
        th_http_resp r = post(w, posts[i], k_json_hdr, "{", 1); /* input is checked first */
        assert_error(&r, 400, MED_R_EDGE_JSON_MALFORMED, NULL);
        th_http_free(&r);
    }
    th_http_resp r = post(w, "/internal/v1/release/readiness/evaluate", k_json_hdr, "{}", 2);
    assert_error(&r, 501, MED_R_EDGE_NOT_IMPLEMENTED, NULL);
    th_http_free(&r);
    /* Replay and reconciliation are live (test_edge_queries.c); with no
     * stage G subscribed they say so at once. */
    const char *gets[] = { "/v1/replay?queryMode=by_opportunity",
                           "/v1/reconciliation?granularity=hourly" };
    for (size_t i = 0; i < sizeof gets / sizeof gets[0]; i++) {
        r = get(w, gets[i]);
        assert_error(&r, 503, MED_R_EDGE_UPSTREAM_UNAVAILABLE, NULL);
        th_http_free(&r);
    }
    r = get(w, "/v1/reconciliation?windowStart=%zz");
    assert_error(&r, 400, MED_R_EDGE_QUERY_MALFORMED, NULL);
    th_http_free(&r);
}

/* The config routes are live: with no H replica subscribed the edge says
 * so at once (NATS "no responders") instead of hanging until its deadline,
 * and bad input is still refused before anything is sent. */
static void config_routes_without_h_time_out_cleanly(void **state)
{
    world *w = *state;
    long long t0 = th_now_ms();
    th_http_resp r = get(w, "/v1/config?appId=app_demo&placementId=plc_feed&environment=prod"
                            "&schemaVersion=1.0.0&sdkVersion=2.1.0"
                            "&requestAt=2026-11-23T10:00:00.000Z");
    assert_error(&r, 503, MED_R_EDGE_UPSTREAM_UNAVAILABLE, NULL);
    assert_true(th_now_ms() - t0 < DEADLINE_MS); /* answered before the deadline */
    th_http_free(&r);
    r = post(w, "/v1/config/publish", k_json_hdr, "{", 1);
    assert_error(&r, 400, MED_R_EDGE_JSON_MALFORMED, NULL);
    th_http_free(&r);
}

static void assert_keeps_trace_id(const th_http_resp *r, const char *trace_id)
{
    char tp[128];
    assert_int_equal(th_http_header(r, MED_HDR_TRACEPARENT, tp, sizeof tp), 0);
    assert_int_equal(strlen(tp), 55);
    assert_int_equal(strncmp(tp + 3, trace_id, 32), 0);
}

static const char k_trace_id[] = "4bf92f3577b34da6a3ce929d0e0e4736";
static const char *const k_traced_hdr[] = {
    "Content-Type: application/json",
    "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", NULL
};

static void no_stage_a_means_an_error_delivery_at_the_deadline(void **state)
{
    world *w = *state;
    long long t0 = th_now_ms();
    th_http_resp r = post(w, "/v1/opportunities", k_traced_hdr, k_good, strlen(k_good));
    long long took = th_now_ms() - t0;
    assert_int_equal(r.status, 200);
    if (took < DEADLINE_MS - 50 || took > DEADLINE_MS + 1500)
        fail_msg("answered after %lld ms, deadline %d ms", took, DEADLINE_MS);
    json_t *j = body_json(&r);
    assert_string_equal(json_str(j, "status"), "error");
    assert_string_equal(json_str(j, "finalReasonCode"), MED_R_E_ER_EDGE_DEADLINE);
    assert_int_equal(strncmp(json_str(j, "responseReference"), "rsp_", 4), 0);
    assert_true(json_is_true(json_object_get(j, "edgeDeadlineError")));
    assert_keeps_trace_id(&r, k_trace_id);
    char v[128];
    assert_int_equal(th_http_header(&r, MED_HDR_TRACE_KEY, v, sizeof v), 0);
    assert_string_equal(json_str(j, "traceKey"), v);
    assert_int_equal(th_http_header(&r, MED_HDR_REQUEST_KEY, v, sizeof v), 0);
    assert_string_equal(json_str(j, "requestKey"), v);
    assert_int_equal(th_http_header(&r, MED_HDR_TENANT, v, sizeof v), 0);
    assert_string_equal(v, TENANT);
    assert_int_equal(th_http_header(&r, MED_HDR_APP, v, sizeof v), 0);
    assert_string_equal(v, "app_demo");
    assert_int_equal(th_http_header(&r, MED_HDR_PLACEMENT, v, sizeof v), 0);
    assert_string_equal(v, "plc_feed");
    json_decref(j);
    th_http_free(&r);
}

static void expect_no_message(natsSubscription *sub, const char *what)
{
    natsMsg *m = NULL;
    natsStatus s = natsSubscription_NextMsg(&m, sub, 300);
    if (s == NATS_OK) {
        natsMsg_Destroy(m);
        fail_msg("%s published a message to %s", what, MED_SUBJ_A_REQUEST);
    }
    assert_int_equal(s, NATS_TIMEOUT);
}

static void bad_requests_publish_nothing(void **state)
{
    world *w = *state;
    natsSubscription *sub = NULL;
    assert_int_equal(natsConnection_SubscribeSync(&sub, w->nc, MED_SUBJ_A_REQUEST), NATS_OK);
    assert_int_equal(natsConnection_Flush(w->nc), NATS_OK);
    const char *bodies[] = {
        "{", "[]", "{\"placementId\":\"p\"}",
        "{\"placementId\":\"p\",\"appContext\":{\"appId\":\"a b\"},\"triggerContext\":{}}"
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        th_http_resp r = post(w, "/v1/opportunities", k_json_hdr, bodies[i], strlen(bodies[i]));
        assert_int_equal(r.status, 400);
        th_http_free(&r);
    }
    const char *plain[] = { "Content-Type: text/plain", NULL };
    th_http_resp r = post(w, "/v1/opportunities", plain, k_good, strlen(k_good));
    assert_int_equal(r.status, 415);
    th_http_free(&r);
    char *big = big_body(2 * 1024 * 1024);
    r = post(w, "/v1/opportunities", k_json_hdr, big, strlen(big));
    assert_int_equal(r.status, 413);
    th_http_free(&r);
    free(big);
    expect_no_message(sub, "a rejected request");

    /* Control: a good request is seen by this very subscription, once. */
    r = post(w, "/v1/opportunities", k_traced_hdr, k_good, strlen(k_good));
    assert_int_equal(r.status, 200);
    char rk[128];
    assert_int_equal(th_http_header(&r, MED_HDR_REQUEST_KEY, rk, sizeof rk), 0);
    th_http_free(&r);
    natsMsg *m = NULL;
    assert_int_equal(natsSubscription_NextMsg(&m, sub, 2000), NATS_OK);
    const char *v = NULL;
    assert_int_equal(natsMsgHeader_Get(m, MED_HDR_REQUEST_KEY, &v), NATS_OK);
    assert_string_equal(v, rk);
    assert_int_equal(natsMsgHeader_Get(m, MED_HDR_REPLY_TO, &v), NATS_OK);
    assert_int_equal(strncmp(v, "_INBOX.edge.", 12), 0);
    assert_int_equal(natsMsgHeader_Get(m, MED_HDR_MSG_ID, &v), NATS_OK);
    char want_id[160];
    snprintf(want_id, sizeof want_id, "edge:%s", rk);
    assert_string_equal(v, want_id);
    Mediation__V1__OpportunityRequest *req = mediation__v1__opportunity_request__unpack(
        NULL, (size_t)natsMsg_GetDataLength(m), (const uint8_t *)natsMsg_GetData(m));
    assert_non_null(req);
    assert_string_equal(req->body_json, k_good);
    assert_string_equal(req->tenant_id, TENANT);
    assert_string_equal(req->app_id, "app_demo");
    assert_non_null(req->trace);
    assert_int_equal(strncmp(req->trace->traceparent + 3, k_trace_id, 32), 0);
    mediation__v1__opportunity_request__free_unpacked(req, NULL);
    natsMsg_Destroy(m);
    expect_no_message(sub, "one good request");
    natsSubscription_Destroy(sub);
}

static void delivery_on_the_inbox_is_the_answer(void **state)
{
    world *w = *state;
    fake_stage(w, FAKE_DELIVERY);
    long long t0 = th_now_ms();
    th_http_resp r = post(w, "/v1/opportunities", k_traced_hdr, k_good, strlen(k_good));
    long long took = th_now_ms() - t0;
    fake_stage_off(w);
    assert_int_equal(r.status, 200);
    if (took >= DEADLINE_MS) fail_msg("answer took %lld ms: the reply was not used", took);
    json_t *j = body_json(&r);
    assert_string_equal(json_str(j, "status"), "served");
    assert_string_equal(json_str(j, "responseReference"), "rsp_fake_0001");
    assert_string_equal(json_str(j, "opportunityKey"), "opp_fake_0001");
    char rk[128], opp[64];
    assert_int_equal(th_http_header(&r, MED_HDR_REQUEST_KEY, rk, sizeof rk), 0);
    assert_string_equal(json_str(j, "requestKey"), rk);
    assert_int_equal(th_http_header(&r, MED_HDR_OPPORTUNITY_KEY, opp, sizeof opp), 0);
    assert_string_equal(opp, "opp_fake_0001");
    assert_keeps_trace_id(&r, k_trace_id);
    json_decref(j);
    th_http_free(&r);
}

static void reject_from_a_is_relayed_as_400(void **state)
{
    world *w = *state;
    fake_stage(w, FAKE_REJECT);
    th_http_resp r = post(w, "/v1/opportunities", k_traced_hdr, k_good, strlen(k_good));
    fake_stage_off(w);
    assert_error(&r, 400, "a_trg_missing_required_field", "triggerContext.triggerAt");
    assert_keeps_trace_id(&r, k_trace_id);
    th_http_free(&r);
}

static void late_reply_is_dropped_and_counted(void **state)
{
    world *w = *state;
    long long before = metric_value(w, "med_edge_late_replies_total");
    fake_stage(w, FAKE_LATE);
    th_http_resp r = post(w, "/v1/opportunities", k_json_hdr, k_good, strlen(k_good));
    assert_int_equal(r.status, 200);
    json_t *j = body_json(&r);
    assert_string_equal(json_str(j, "finalReasonCode"), MED_R_E_ER_EDGE_DEADLINE);
    json_decref(j);
    th_http_free(&r);
    long long after = before;
    for (int i = 0; i < 30 && after <= before; i++) {
        th_sleep_ms(100);
        after = metric_value(w, "med_edge_late_replies_total");
    }
    fake_stage_off(w);
    assert_true(before >= 0); /* registered at start-up, so dashboards see 0 */
    if (after != before + 1) fail_msg("late replies %lld -> %lld, want one more", before, after);
    r = get(w, "/healthz");
    assert_int_equal(r.status, 200);
    th_http_free(&r);
}

static void client_that_leaves_does_not_hurt_the_edge(void **state)
{
    world *w = *state;
    char url[128];
    url_of(w, "/v1/opportunities", url, sizeof url);
    for (int i = 0; i < 5; i++) {
        th_http_resp r;
        /* curl gives up long before the deadline and closes the socket. */
        assert_int_not_equal(th_http("POST", url, k_json_hdr, k_good, strlen(k_good), 100, &r), 0);
        th_http_free(&r);
    }
    th_sleep_ms(DEADLINE_MS + 300);
    assert_int_equal(metric_value(w, "med_edge_pending_requests"), 0);
    th_http_resp r = post(w, "/v1/opportunities", k_json_hdr, k_good, strlen(k_good));
    assert_int_equal(r.status, 200);
    th_http_free(&r);
}

/* An HTTP/2 client that gives up resets its stream: h2o frees the request
 * while it is pending, and the edge must drop the entry, not touch it. */
static void http2_stream_reset_cleans_the_pending_entry(void **state)
{
    world *w = *state;
    long long before = metric_value(w, "med_edge_client_disconnects_total");
    char url[128];
    url_of(w, "/v1/opportunities", url, sizeof url);
    struct curl_slist *hl = curl_slist_append(NULL, k_json_hdr[0]);
    enum { N = 3 };
    for (int i = 0; i < N; i++) {
        CURL *c = curl_easy_init();
        assert_non_null(c);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, k_good);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 100L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        assert_int_equal(curl_easy_perform(c), CURLE_OPERATION_TIMEDOUT);
        curl_easy_cleanup(c);
    }
    curl_slist_free_all(hl);
    long long after = before;
    for (int i = 0; i < 20 && after < before + N; i++) {
        th_sleep_ms(50);
        after = metric_value(w, "med_edge_client_disconnects_total");
    }
    assert_int_equal(after, before + N);
    th_sleep_ms(DEADLINE_MS + 200); /* no deadline may fire for the dropped entries */
    assert_int_equal(metric_value(w, "med_edge_pending_requests"), 0);
    th_http_resp r = get(w, "/healthz");
    assert_int_equal(r.status, 200);
    th_http_free(&r);
}

static void auth_on_without_a_verifier_refuses_with_401(void **state)
{
    (void)state;
    th_proc p;
    int port = th_free_port();
    edge_configure(&p, port, "true");
    snprintf(p.name, sizeof p.name, "edge_http_auth");
    assert_int_equal(th_proc_start(&p), 0);
    if (th_proc_wait_ready(&p, 20000) != 0) fail_msg("auth edge did not become ready");
    world tmp = { .port = port };
    th_http_resp r = post(&tmp, "/v1/opportunities", k_json_hdr, k_good, strlen(k_good));
    assert_error(&r, 401, MED_R_AUTH_TOKEN_INVALID, NULL);
    char wa[64];
    assert_int_equal(th_http_header(&r, "WWW-Authenticate", wa, sizeof wa), 0);
    th_http_free(&r);
    r = get(&tmp, "/healthz");
    assert_int_equal(r.status, 200);
    th_http_free(&r);
    int status = th_proc_stop(&p, SIGTERM, 10000);
    th_proc_free(&p);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

typedef struct inflight_call {
    const world *w;
    th_http_resp r;
    int rc;
} inflight_call;

static void *call_thread(void *arg)
{
    inflight_call *c = arg;
    char url[128];
    url_of(c->w, "/v1/opportunities", url, sizeof url);
    c->rc = th_http("POST", url, k_json_hdr, k_good, strlen(k_good), 10000, &c->r);
    return NULL;
}

/* Last: it stops the shared edge. */
static void sigterm_answers_in_flight_requests_and_exits_0(void **state)
{
    world *w = *state;
    inflight_call c = { .w = w };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, call_thread, &c), 0);
    th_sleep_ms(150); /* the request is pending inside the edge */
    int status = th_proc_stop(&w->edge, SIGTERM, 10000);
    pthread_join(t, NULL);
    assert_int_equal(c.rc, 0);
    assert_int_equal(c.r.status, 200);
    json_t *j = body_json(&c.r);
    assert_string_equal(json_str(j, "status"), "error");
    json_decref(j);
    th_http_free(&c.r);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(healthz_and_metrics_answer),
        cmocka_unit_test(readyz_names_redis_while_it_is_down),
        cmocka_unit_test(malformed_json_is_400_with_the_error_shape),
        cmocka_unit_test(two_mib_body_is_413),
        cmocka_unit_test(text_plain_is_415),
        cmocka_unit_test(missing_and_wrong_fields_name_their_path),
        cmocka_unit_test(thirty_three_levels_are_too_deep),
        cmocka_unit_test(unknown_path_is_404_wrong_method_405),
        cmocka_unit_test(stages_not_landed_answer_501_after_validation),
        cmocka_unit_test(config_routes_without_h_time_out_cleanly),
        cmocka_unit_test(no_stage_a_means_an_error_delivery_at_the_deadline),
        cmocka_unit_test(bad_requests_publish_nothing),
        cmocka_unit_test(delivery_on_the_inbox_is_the_answer),
        cmocka_unit_test(reject_from_a_is_relayed_as_400),
        cmocka_unit_test(late_reply_is_dropped_and_counted),
        cmocka_unit_test(client_that_leaves_does_not_hurt_the_edge),
        cmocka_unit_test(http2_stream_reset_cleans_the_pending_entry),
        cmocka_unit_test(auth_on_without_a_verifier_refuses_with_401),
        cmocka_unit_test(sigterm_answers_in_flight_requests_and_exits_0),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
