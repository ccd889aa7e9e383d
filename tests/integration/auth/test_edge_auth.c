/* The edge with AUTH_ENABLED=true against real servers (06 section 4):
 * keys from tools/gen-keys, tokens from tools/token, every 401/403 of the
 * identity section, a valid SDK token reaching the decision chain (no
 * stage A runs, so the deadline Delivery proves it passed auth), the
 * tenant taken from the token only, and key rotation without a restart. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <cmocka.h>
#include <jansson.h>
#include <nats/nats.h>

#include "harness.h"
#include "med/names.h"
#include "med/reason.h"
#include "mediation/v1/opportunity.pb-c.h"

#define DEADLINE_MS 300
#define DEV_TENANT "t_dev_unused"
#define TOKEN_TENANT "t_tok"

static const char k_good[] =
    "{\"placementId\":\"plc_feed\","
    "\"appContext\":{\"appId\":\"app_demo\",\"sessionId\":\"sess_0001\",\"channelType\":\"app\","
    "\"requestAt\":\"2026-11-23T10:00:00.000Z\"},"
    "\"triggerContext\":{\"triggerType\":\"answer_end\",\"triggerAt\":\"2026-11-23T10:00:00.100Z\"}"
    "}";

typedef struct world {
    th_proc edge;
    int port;
    char keys[256];  /* the edge's JWKS and signing key */
    char other[256]; /* a key pair the edge does not trust */
    char kid[64];
} world;

/* ---- tools ---------------------------------------------------------------- */

/* Runs cmd, returns its first output line (trimmed) in out; 0 on exit 0. */
static int run_line(const char *cmd, char *out, size_t cap)
{
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    out[0] = '\0';
    if (!fgets(out, (int)cap, p)) out[0] = '\0';
    char sink[256];
    while (fgets(sink, sizeof sink, p)) {
    }
    int st = pclose(p);
    out[strcspn(out, "\r\n")] = '\0';
    return (WIFEXITED(st) && WEXITSTATUS(st) == 0) ? 0 : -1;
}

static void gen_keys(const char *dir, int rotate, char *kid, size_t cap)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s/tools/gen-keys %s%s", th_env("MED_SOURCE_ROOT"),
             rotate ? "--rotate " : "", dir);
    if (run_line(cmd, kid, cap) != 0 || !kid[0]) fail_msg("tools/gen-keys failed: %s", cmd);
}

/* tools/token with the key in dir and extra arguments; token in out. */
static void token(const char *dir, const char *args, char *out, size_t cap)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s/tools/token-mint/token --key %s/jwt-private.pem %s",
             th_env("MED_BUILD_ROOT"), dir, args);
    if (run_line(cmd, out, cap) != 0 || !out[0]) fail_msg("tools/token failed: %s", cmd);
}

/* ---- HTTP ----------------------------------------------------------------- */

static th_http_resp call(const world *w, const char *method, const char *path, const char *tok,
                         const char *extra_hdr, const char *body)
{
    char url[256], authz[8300];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", w->port, path);
    snprintf(authz, sizeof authz, "Authorization: Bearer %s", tok ? tok : "");
    const char *hdrs[4] = { "Content-Type: application/json" };
    int n = 1;
    if (tok) hdrs[n++] = authz;
    if (extra_hdr) hdrs[n++] = extra_hdr;
    hdrs[n] = NULL;
    th_http_resp r;
    if (th_http(method, url, hdrs, body, body ? strlen(body) : 0, 10000, &r) != 0)
        fail_msg("%s %s failed", method, path);
    return r;
}

static th_http_resp post_opp(const world *w, const char *tok)
{
    return call(w, "POST", "/v1/opportunities", tok, NULL, k_good);
}

static const char *error_code(const th_http_resp *r, char *out, size_t cap)
{
    json_error_t je;
    json_t *j = json_loadb(r->body, r->body_len, 0, &je);
    const char *code = json_string_value(json_object_get(json_object_get(j, "error"), "code"));
    snprintf(out, cap, "%s", code ? code : "");
    json_decref(j);
    return out;
}

static void expect_error(th_http_resp r, long status, const char *code)
{
    char got[64];
    if (r.status != status) fail_msg("status %ld, want %ld: %.300s", r.status, status, r.body);
    assert_string_equal(error_code(&r, got, sizeof got), code);
    if (status == 401) {
        char wa[64];
        assert_int_equal(th_http_header(&r, "WWW-Authenticate", wa, sizeof wa), 0);
    }
    th_http_free(&r);
}

/* 200 with the deadline Delivery: the request got past auth into the chain. */
static void expect_deadline_delivery(th_http_resp *r)
{
    if (r->status != 200) fail_msg("status %ld, want 200: %.300s", r->status, r->body);
    json_error_t je;
    json_t *j = json_loadb(r->body, r->body_len, 0, &je);
    assert_non_null(j);
    assert_true(json_is_true(json_object_get(j, "edgeDeadlineError")));
    json_decref(j);
}

/* ---- fixture -------------------------------------------------------------- */

static int setup(void **state)
{
    th_env("NATS_URL");
    const char *infra = th_env("MED_INFRA_DIR");
    world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    snprintf(w->keys, sizeof w->keys, "%s/auth-keys", infra);
    snprintf(w->other, sizeof w->other, "%s/auth-keys-other", infra);
    gen_keys(w->keys, 1, w->kid, sizeof w->kid);
    char other_kid[64];
    gen_keys(w->other, 1, other_kid, sizeof other_kid);
    w->port = th_free_port();
    th_proc *p = &w->edge;
    char buf[512];
    th_proc_init(p, "edge_auth", "edge", "med-edge");
    p->admin_port = w->port;
    snprintf(buf, sizeof buf, "%d", w->port);
    th_proc_setenv(p, "EDGE_HTTP_PORT", buf);
    th_proc_setenv(p, "EDGE_HTTP_HOST", "127.0.0.1");
    th_proc_setenv(p, "APP_ENV", "ci");
    th_proc_setenv(p, "AUTH_ENABLED", "true");
    th_proc_setenv(p, "EDGE_DEV_TENANT", DEV_TENANT);
    snprintf(buf, sizeof buf, "%s/jwks.json", w->keys);
    th_proc_setenv(p, "JWKS_PATH", buf);
    th_proc_setenv(p, "JWT_ISSUER", "med-local");
    th_proc_setenv(p, "JWT_AUDIENCE", "mediation");
    snprintf(buf, sizeof buf, "%d", DEADLINE_MS);
    th_proc_setenv(p, "EDGE_REQUEST_TIMEOUT_MS", buf);
    th_proc_setenv(p, "EDGE_EVENTS_TIMEOUT_MS", buf);
    th_proc_setenv(p, "EDGE_QUERY_TIMEOUT_MS", buf);
    th_proc_setenv(p, "READINESS_PROBE_INTERVAL_MS", "200");
    th_proc_setenv(p, "SERVICE_INSTANCE", "edge_auth");
    assert_int_equal(th_proc_start(p), 0);
    if (th_proc_wait_ready(p, 20000) != 0) fail_msg("med-edge did not become ready");
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    int st = th_proc_stop(&w->edge, SIGTERM, 10000);
    th_proc_free(&w->edge);
    free(w);
    return (WIFEXITED(st) && WEXITSTATUS(st) == 0) ? 0 : -1;
}

/* ---- cases ---------------------------------------------------------------- */

static void no_token_is_401_token_invalid(void **state)
{
    world *w = *state;
    expect_error(post_opp(w, NULL), 401, MED_R_AUTH_TOKEN_INVALID);
    expect_error(post_opp(w, "not-a-jwt"), 401, MED_R_AUTH_TOKEN_INVALID);
    expect_error(call(w, "GET", "/v1/reconciliation", NULL, NULL, NULL), 401,
                 MED_R_AUTH_TOKEN_INVALID);
    th_http_resp r = call(w, "GET", "/healthz", NULL, NULL, NULL);
    assert_int_equal(r.status, 200);
    th_http_free(&r);
    r = call(w, "GET", "/metrics", NULL, NULL, NULL);
    assert_int_equal(r.status, 200);
    th_http_free(&r);
}

static void forged_signature_is_401_signature_mismatch(void **state)
{
    world *w = *state;
    char tok[8192], args[256];
    /* Signed by an untrusted key that claims the trusted key's kid. */
    snprintf(args, sizeof args, "--role sdk --tenant %s --apps app_demo --kid %s", TOKEN_TENANT,
             w->kid);
    token(w->other, args, tok, sizeof tok);
    expect_error(post_opp(w, tok), 401, MED_R_AUTH_SIGNATURE_MISMATCH);
}

static void wrong_audience_or_issuer_is_401(void **state)
{
    world *w = *state;
    char tok[8192];
    token(w->keys, "--role sdk --tenant t1 --apps app_demo --aud someone-else", tok, sizeof tok);
    expect_error(post_opp(w, tok), 401, MED_R_AUTH_TOKEN_INVALID);
    token(w->keys, "--role sdk --tenant t1 --apps app_demo --iss evil", tok, sizeof tok);
    expect_error(post_opp(w, tok), 401, MED_R_AUTH_TOKEN_INVALID);
}

static void wrong_app_or_role_is_403(void **state)
{
    world *w = *state;
    char tok[8192];
    token(w->keys, "--role sdk --tenant t1 --apps app_other", tok, sizeof tok);
    expect_error(post_opp(w, tok), 403, MED_R_AUTH_FORBIDDEN);
    token(w->keys, "--role publisher --tenant t1 --apps '*'", tok, sizeof tok);
    expect_error(post_opp(w, tok), 403, MED_R_AUTH_FORBIDDEN);
    token(w->keys, "--role sdk --tenant t1 --apps '*'", tok, sizeof tok);
    expect_error(call(w, "GET", "/v1/reconciliation", tok, NULL, NULL), 403,
                 MED_R_AUTH_FORBIDDEN);
    expect_error(call(w, "POST", "/v1/config/publish", tok, NULL, "{}"), 403,
                 MED_R_AUTH_FORBIDDEN);
    /* Events: a token bound to several apps needs the body's appId among
     * them (a single-app token names the app itself; F then judges the
     * body's appId, F.2). */
    token(w->keys, "--role sdk --tenant t1 --apps app_demo,app_x", tok, sizeof tok);
    expect_error(call(w, "POST", "/v1/events", tok, NULL, "{\"appId\":\"app_other\"}"), 403,
                 MED_R_AUTH_FORBIDDEN);
    token(w->keys, "--role reviewer --tenant t1 --apps '*'", tok, sizeof tok);
    expect_error(call(w, "POST", "/v1/events", tok, NULL, "{\"appId\":\"app_demo\"}"), 403,
                 MED_R_AUTH_FORBIDDEN);
    token(w->keys, "--role sdk --tenant t1 --apps app_demo", tok, sizeof tok);
    expect_error(call(w, "GET", "/v1/config?appId=app_other&placementId=plc_feed", tok, NULL,
                      NULL),
                 403, MED_R_AUTH_FORBIDDEN);
    expect_error(call(w, "GET", "/v1/config?placementId=plc_feed", tok, NULL, NULL), 403,
                 MED_R_AUTH_FORBIDDEN);
    /* The right app passes the door; no stage F answers here, so the
     * edge's events deadline does (503, the SDK resends). */
    expect_error(call(w, "POST", "/v1/events", tok, NULL, "{\"appId\":\"app_demo\"}"), 503,
                 MED_R_EDGE_UPSTREAM_UNAVAILABLE);
    /* A reviewer passes the door; no stage G is subscribed here. */
    token(w->keys, "--role reviewer --tenant t1", tok, sizeof tok);
    expect_error(call(w, "GET", "/v1/reconciliation", tok, NULL, NULL), 503,
                 MED_R_EDGE_UPSTREAM_UNAVAILABLE);
}

static void valid_sdk_token_reaches_the_chain(void **state)
{
    world *w = *state;
    char tok[8192];
    token(w->keys, "--role sdk --tenant " TOKEN_TENANT " --apps app_demo", tok, sizeof tok);
    th_http_resp r = post_opp(w, tok);
    expect_deadline_delivery(&r);
    th_http_free(&r);
}

/* What the edge handed to stage A for the one request in flight. */
static Mediation__V1__OpportunityRequest *next_request(natsSubscription *sub)
{
    natsMsg *m = NULL;
    if (natsSubscription_NextMsg(&m, sub, 2000) != NATS_OK) fail_msg("nothing reached stage A");
    Mediation__V1__OpportunityRequest *req = mediation__v1__opportunity_request__unpack(
        NULL, (size_t)natsMsg_GetDataLength(m), (const uint8_t *)natsMsg_GetData(m));
    natsMsg_Destroy(m);
    assert_non_null(req);
    return req;
}

static void tenant_comes_from_the_token_only(void **state)
{
    world *w = *state;
    char tok[8192], v[128];
    natsConnection *nc = NULL;
    natsSubscription *sub = NULL;
    assert_int_equal(natsConnection_ConnectTo(&nc, th_env("NATS_URL")), NATS_OK);
    assert_int_equal(natsConnection_SubscribeSync(&sub, nc, MED_SUBJ_A_REQUEST), NATS_OK);
    token(w->keys,
          "--role sdk --tenant " TOKEN_TENANT " --apps app_demo --sub key_1"
          " --authority read_only --envs prod",
          tok, sizeof tok);
    /* A spoofed tenant header and a client-made authContextLite are both ignored. */
    const char *body = "{\"placementId\":\"plc_feed\",\"appContext\":{\"appId\":\"app_demo\"},"
                       "\"triggerContext\":{},\"authContextLite\":{\"tenantId\":\"t_evil\"}}";
    th_http_resp r = call(w, "POST", "/v1/opportunities", tok, MED_HDR_TENANT ": t_spoofed", body);
    expect_deadline_delivery(&r);
    assert_int_equal(th_http_header(&r, MED_HDR_TENANT, v, sizeof v), 0);
    assert_string_equal(v, TOKEN_TENANT);
    th_http_free(&r);
    Mediation__V1__OpportunityRequest *req = next_request(sub);
    assert_string_equal(req->tenant_id, TOKEN_TENANT);
    assert_non_null(req->auth);
    assert_string_equal(req->auth->tenant_id, TOKEN_TENANT);
    assert_string_equal(req->auth->actor_id, "key_1");
    assert_string_equal(req->auth->role, "read_only");
    assert_string_equal(req->auth->principal_role, "sdk");
    assert_string_equal(req->auth->auth_method, "token");
    assert_true(req->auth->expires_at_unix_ms > req->auth->issued_at_unix_ms);
    assert_non_null(req->auth->scope_bindings);
    assert_int_equal(req->auth->scope_bindings->n_app_ids, 1);
    assert_string_equal(req->auth->scope_bindings->app_ids[0], "app_demo");
    assert_string_equal(req->auth->scope_bindings->environments[0], "prod");
    mediation__v1__opportunity_request__free_unpacked(req, NULL);
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(nc);
}

static void rotated_keys_apply_without_restart(void **state)
{
    world *w = *state;
    char old_tok[8192], new_tok[8192], kid[64];
    const char *args = "--role sdk --tenant t1 --apps app_demo";
    token(w->keys, args, old_tok, sizeof old_tok);
    gen_keys(w->keys, 1, kid, sizeof kid);
    assert_string_not_equal(kid, w->kid);
    token(w->keys, args, new_tok, sizeof new_tok);
    th_sleep_ms(1200); /* the edge looks at the file at most once a second */
    th_http_resp r = post_opp(w, new_tok);
    expect_deadline_delivery(&r);
    th_http_free(&r);
    expect_error(post_opp(w, old_tok), 401, MED_R_AUTH_SIGNATURE_MISMATCH);
    snprintf(w->kid, sizeof w->kid, "%s", kid);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_token_is_401_token_invalid),
        cmocka_unit_test(forged_signature_is_401_signature_mismatch),
        cmocka_unit_test(wrong_audience_or_issuer_is_401),
        cmocka_unit_test(wrong_app_or_role_is_403),
        cmocka_unit_test(valid_sdk_token_reaches_the_chain),
        cmocka_unit_test(tenant_comes_from_the_token_only),
        cmocka_unit_test(rotated_keys_apply_without_restart),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
