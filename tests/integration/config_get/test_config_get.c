/* GET /v1/config through the edge: med-edge (auth off, its dev tenant) and
 * med-h-config run as processes; the live layers and their documents are
 * written as the owner. H.10 cases 4 (byte-identical answers), 5 (miss,
 * 304 on the tag with another sdkVersion, weak tag), 7's last clause (a
 * new live layer + ConfigChanged -> new etag) and the 400 shape. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <nats/nats.h>

#include "harness.h"
#include "med/names.h"
#include "mediation/v1/audit.pb-c.h"
#include "mediation/v1/config.pb-c.h"

#define ENV "staging"
#define SCHEMA "1.0.0"

typedef struct world {
    th_proc h, edge;
    int edge_port;
    natsConnection *nc;
    PGconn *pg;
    char tenant[32], app[32], plc[32], tag[16];
} world;

static world *W;

/* ---- plumbing ---- */

static void common_env(th_proc *p, const char *instance)
{
    char port[16];
    snprintf(port, sizeof port, "%d", p->admin_port = th_free_port());
    th_proc_setenv(p, "ADMIN_HTTP_PORT", port);
    th_proc_setenv(p, "APP_ENV", "ci");
    th_proc_setenv(p, "LOG_LEVEL", "info");
    th_proc_setenv(p, "READINESS_PROBE_INTERVAL_MS", "200");
    th_proc_setenv(p, "SERVICE_INSTANCE", instance);
}

static void start_edge(world *w)
{
    th_proc *p = &w->edge;
    th_proc_init(p, "edge_config_get", "edge", "med-edge");
    common_env(p, "edge_config_get");
    char port[16];
    w->edge_port = th_free_port();
    snprintf(port, sizeof port, "%d", w->edge_port);
    /* the edge serves /readyz on its public port */
    p->admin_port = w->edge_port;
    th_proc_setenv(p, "EDGE_HTTP_PORT", port);
    th_proc_setenv(p, "EDGE_HTTP_HOST", "127.0.0.1");
    th_proc_setenv(p, "AUTH_ENABLED", "false");
    th_proc_setenv(p, "EDGE_DEV_TENANT", w->tenant);
    th_proc_setenv(p, "EDGE_REQUEST_TIMEOUT_MS", "5000");
    assert_int_equal(th_proc_start(p), 0);
    if (th_proc_wait_ready(p, 20000) != 0) fail_msg("med-edge did not become ready");
}

static void start_h(world *w)
{
    th_proc_init(&w->h, "h_config_get", "h_config", "med-h-config");
    common_env(&w->h, "h_config_get");
    assert_int_equal(th_proc_start(&w->h), 0);
    if (th_proc_wait_ready(&w->h, 20000) != 0) fail_msg("med-h-config did not become ready");
}

static void sql(PGconn *pg, const char *q, int n, const char *const *v)
{
    PGresult *r = PQexecParams(pg, q, n, NULL, v, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        fail_msg("sql failed: %s (%s)", PQerrorMessage(pg), q);
    PQclear(r);
}

static void put_document(world *w, const char *tenant, const char *kind, const char *version,
                         const char *body)
{
    char sha[65];
    /* any well-formed digest: H copies it, it does not recompute it */
    snprintf(sha, sizeof sha, "%064x", (unsigned)rand());
    const char *v[] = { tenant, kind, version, body, sha };
    sql(w->pg,
        "INSERT INTO config_documents (tenant_id, kind, version, body, sha256)"
        " VALUES ($1, $2, $3, $4::jsonb, $5) ON CONFLICT DO NOTHING",
        5, v);
}

/* Makes layer the unit's only live row. */
static void put_live_layer(world *w, const char *tenant, const char *scope, const char *key,
                           const char *app, const char *plc, const char *routing,
                           const char *version, const char *layer)
{
    const char *u[] = { tenant, ENV, scope, key };
    sql(w->pg,
        "UPDATE config_snapshots SET is_live = false, superseded_at = now()"
        " WHERE tenant_id = $1 AND environment = $2 AND target_scope = $3 AND target_key = $4"
        " AND is_live",
        4, u);
    char op[48];
    snprintf(op, sizeof op, "op_it_%s_%08x", w->tag, (unsigned)rand());
    const char *v[] = { tenant, ENV, scope, key, app, plc, SCHEMA, routing, version, layer, op };
    sql(w->pg,
        "INSERT INTO config_snapshots (tenant_id, environment, target_scope, target_key, app_id,"
        " placement_id, snapshot_seq, schema_version, routing_strategy_version,"
        " placement_config_version, layer, is_live, publish_operation_id)"
        " SELECT $1, $2, $3, $4, NULLIF($5, ''), NULLIF($6, ''),"
        " COALESCE(MAX(snapshot_seq), 0) + 1, $7, $8, $9, $10::jsonb, true, $11"
        " FROM config_snapshots WHERE tenant_id = $1 AND environment = $2"
        " AND target_scope = $3 AND target_key = $4",
        11, v);
}

static void seed(world *w)
{
    char pol[32], rs[32], tw[32], bw[32], layer[1024];
    snprintf(pol, sizeof pol, "pol-%s", w->tag);
    snprintf(rs, sizeof rs, "rs-%s", w->tag);
    snprintf(tw, sizeof tw, "tw-%s", w->tag);
    snprintf(bw, sizeof bw, "bwl-%s", w->tag);
    put_document(w, "_platform", "policy", pol,
                 "{\"policyPackVersion\":\"p1\",\"policyRuleVersion\":\"r1\","
                 "\"failureMode\":\"fail_closed\",\"ttlSec\":300}");
    put_document(w, "_platform", "route_policy", rs,
                 "{\"routingPolicyVersion\":\"rs\",\"sources\":[]}");
    put_document(w, "_platform", "template_whitelist", tw, "{\"native_feed\":{}}");
    /* The schema line's document, named by schemaVersion (06 section 2). The
     * tenant's own copy wins over any _platform one other tests stored. */
    put_document(w, w->tenant, "schema", SCHEMA,
                 "{\"schemaVersion\":\"" SCHEMA "\",\"schemaCompatibilityPolicy\":"
                 "{\"fullySupported\":[\"" SCHEMA "\"],\"compatibleDegrade\":[]}}");
    put_document(w, "_platform", "black_white_list", bw,
                 "{\"sourceSelectionMode\":\"all_except_blocked\"}");
    snprintf(layer, sizeof layer,
             "{\"policyThresholdsRef\":\"policy:%s\",\"routePolicyRef\":\"route_policy:%s\","
             "\"templateWhitelistRef\":\"template_whitelist:%s\","
             "\"blackWhiteListRef\":\"black_white_list:%s\",\"sdkMinVersion\":\"1.0.0\","
             "\"adapterMinVersionMap\":{\"net_a\":\"1.0.0\"},"
             "\"missingMinVersionPolicy\":\"reject\",\"ttlSec\":300,"
             "\"experimentTagList\":[\"it\"]}",
             pol, rs, tw, bw);
    char gv[32];
    snprintf(gv, sizeof gv, "gc-%s", w->tag);
    put_live_layer(w, "_platform", "global", ENV, "", "", rs, gv, layer);
    char key[96];
    snprintf(key, sizeof key, "%s|%s|%s", w->app, w->plc, ENV);
    put_live_layer(w, w->tenant, "placement", key, w->app, w->plc, rs, "pc-1",
                   "{\"ttlSec\":120}");
}

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    snprintf(w->tag, sizeof w->tag, "%08x", (unsigned)rand());
    snprintf(w->tenant, sizeof w->tenant, "t_get_%s", w->tag);
    snprintf(w->app, sizeof w->app, "app_%s", w->tag);
    snprintf(w->plc, sizeof w->plc, "plc_%s", w->tag);
    w->pg = PQconnectdb(th_env("PG_ADMIN_DSN"));
    assert_int_equal(PQstatus(w->pg), CONNECTION_OK);
    seed(w);
    assert_int_equal(natsConnection_ConnectTo(&w->nc, th_env("NATS_URL")), NATS_OK);
    start_h(w);
    start_edge(w);
    W = w;
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    th_proc_stop(&w->edge, SIGTERM, 10000);
    th_proc_stop(&w->h, SIGTERM, 10000);
    th_proc_free(&w->edge);
    th_proc_free(&w->h);
    natsConnection_Destroy(w->nc);
    PQfinish(w->pg);
    free(w);
    return 0;
}

/* ---- HTTP ---- */

static void get_config_at(const world *w, const char *app, const char *plc, const char *sdk,
                          const char *inm, th_http_resp *r);

static void get_config(const world *w, const char *app, const char *sdk, const char *inm,
                       th_http_resp *r)
{
    get_config_at(w, app, w->plc, sdk, inm, r);
}

static void get_config_at(const world *w, const char *app, const char *plc, const char *sdk,
                          const char *inm, th_http_resp *r)
{
    char url[512], hdr[160];
    snprintf(url, sizeof url,
             "http://127.0.0.1:%d/v1/config?%s%s%splacementId=%s&environment=" ENV
             "&schemaVersion=" SCHEMA "&sdkVersion=%s&requestAt=2026-11-23T10:00:00.000Z",
             w->edge_port, app ? "appId=" : "", app ? app : "", app ? "&" : "", plc, sdk);
    const char *hdrs[] = { hdr, NULL };
    if (inm) snprintf(hdr, sizeof hdr, "If-None-Match: %s", inm);
    memset(r, 0, sizeof *r);
    if (th_http("GET", url, inm ? hdrs : NULL, NULL, 0, 10000, r) != 0)
        fail_msg("GET %s failed", url);
}

static json_t *body_json(const th_http_resp *r)
{
    json_error_t e;
    json_t *j = json_loads(r->body ? r->body : "", 0, &e);
    if (!j) fail_msg("body is not JSON (%ld): %s", r->status, r->body ? r->body : "");
    return j;
}

static const char *str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static int has_code(const json_t *body, const char *code)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(body, "reasonCodes"), i, c)
    if (strcmp(json_string_value(c), code) == 0) return 1;
    return 0;
}

/* The answer without its two per-response times. */
static char *without_times(const char *body)
{
    json_error_t e;
    json_t *j = json_loads(body, JSON_PRESERVE_ORDER, &e);
    assert_non_null(j);
    json_object_del(j, "responseAt");
    json_object_del(j, "expireAt");
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(j);
    return s;
}

static void first_get(world *w, char etag[80])
{
    th_http_resp r;
    get_config(w, w->app, "2.0.0", NULL, &r);
    if (r.status != 200) fail_msg("first GET: %ld %s", r.status, r.body ? r.body : "");
    json_t *b = body_json(&r);
    snprintf(etag, 80, "%s", str(b, "etag"));
    assert_int_equal(strlen(etag), 64);
    char h[128], want[96];
    assert_int_equal(th_http_header(&r, "ETag", h, sizeof h), 0);
    snprintf(want, sizeof want, "\"%s\"", etag);
    assert_string_equal(h, want);
    assert_int_equal(th_http_header(&r, "Cache-Control", h, sizeof h), 0);
    snprintf(want, sizeof want, "max-age=%lld",
             (long long)json_integer_value(json_object_get(b, "ttlSec")));
    assert_string_equal(h, want);
    json_decref(b);
    th_http_free(&r);
}

/* ---- cases ---- */

static void miss_then_304_then_weak_tag(void **state)
{
    world *w = *state;
    th_http_resp r;
    get_config(w, w->app, "2.0.0", NULL, &r);
    assert_int_equal(r.status, 200);
    json_t *b = body_json(&r);
    assert_string_equal(str(b, "cacheDecision"), "miss");
    assert_true(has_code(b, "h_cfg_cache_miss"));
    assert_string_equal(str(b, "status"), "ok");
    char key[128];
    snprintf(key, sizeof key, "%s|%s|" ENV "|" SCHEMA, w->app, w->plc);
    assert_string_equal(str(b, "configKey"), key);
    json_t *snap = json_object_get(b, "resolvedConfigSnapshot");
    assert_non_null(snap);
    /* the four layer refs + the schema line's document */
    assert_int_equal(json_array_size(json_object_get(snap, "documents")), 5);
    char etag[80], inm[96];
    snprintf(etag, sizeof etag, "%s", str(b, "etag"));
    json_decref(b);
    th_http_free(&r);

    snprintf(inm, sizeof inm, "\"%s\"", etag);
    get_config(w, w->app, "3.1.0", inm, &r);
    assert_int_equal(r.status, 304);
    assert_int_equal(r.body_len, 0);
    char h[128];
    assert_int_equal(th_http_header(&r, "ETag", h, sizeof h), 0);
    assert_string_equal(h, inm);
    assert_int_equal(th_http_header(&r, "Cache-Control", h, sizeof h), 0);
    assert_string_equal(h, "max-age=120");
    th_http_free(&r);

    get_config(w, w->app, "2.0.0", "W/\"x\"", &r);
    assert_int_equal(r.status, 200);
    b = body_json(&r);
    assert_true(has_code(b, "h_cfg_cache_invalid_etag_format"));
    assert_string_equal(str(b, "etag"), etag);
    json_decref(b);
    th_http_free(&r);
}

static void missing_app_is_400_with_error_shape(void **state)
{
    world *w = *state;
    th_http_resp r;
    get_config(w, NULL, "2.0.0", NULL, &r);
    assert_int_equal(r.status, 400);
    json_t *b = body_json(&r);
    json_t *e = json_object_get(b, "error");
    assert_string_equal(str(e, "code"), "h_cfg_missing_required_after_merge");
    assert_string_equal(str(e, "field"), "appId");
    assert_true(json_string_length(json_object_get(e, "message")) > 0);
    json_decref(b);
    th_http_free(&r);
}

static void repeated_answers_are_byte_identical(void **state)
{
    world *w = *state;
    char etag[80];
    first_get(w, etag);
    th_http_resp a, b;
    get_config(w, w->app, "2.0.0", NULL, &a);
    get_config(w, w->app, "9.9.9", NULL, &b);
    assert_int_equal(a.status, 200);
    assert_int_equal(b.status, 200);
    char *sa = without_times(a.body), *sb = without_times(b.body);
    assert_string_equal(sa, sb);
    /* and the snapshot text is exactly the same bytes in both bodies */
    const char *pa = strstr(a.body, "\"resolvedConfigSnapshot\":");
    const char *pb = strstr(b.body, "\"resolvedConfigSnapshot\":");
    assert_non_null(pa);
    assert_non_null(pb);
    size_t la = (size_t)(strstr(pa, "\"expireAt\"") - pa);
    size_t lb = (size_t)(strstr(pb, "\"expireAt\"") - pb);
    assert_int_equal(la, lb);
    assert_memory_equal(pa, pb, la);
    free(sa);
    free(sb);
    th_http_free(&a);
    th_http_free(&b);
}

static void publish_changed(world *w)
{
    Mediation__V1__ConfigChanged m = MEDIATION__V1__CONFIG_CHANGED__INIT;
    char op[48], unit[128], key[96];
    snprintf(op, sizeof op, "op_it_changed_%08x", (unsigned)rand());
    snprintf(key, sizeof key, "%s|%s|" ENV, w->app, w->plc);
    snprintf(unit, sizeof unit, ENV "|placement|%s", key);
    m.publish_operation_id = op;
    m.environment = ENV;
    m.target_scope = "placement";
    m.target_key = key;
    m.release_unit = unit;
    m.action_type = "publish";
    m.publish_state = "published";
    m.committed_at_unix_ms = (int64_t)time(NULL) * 1000;
    size_t len = mediation__v1__config_changed__get_packed_size(&m);
    uint8_t *buf = malloc(len + 1);
    assert_non_null(buf);
    mediation__v1__config_changed__pack(&m, buf);
    assert_int_equal(natsConnection_Publish(w->nc, MED_SUBJ_H_CONFIG, buf, (int)len), NATS_OK);
    assert_int_equal(natsConnection_FlushTimeout(w->nc, 5000), NATS_OK);
    free(buf);
}

static void config_changed_gives_new_etag(void **state)
{
    world *w = *state;
    char old[80];
    first_get(w, old);
    char key[96];
    snprintf(key, sizeof key, "%s|%s|" ENV, w->app, w->plc);
    char rs[32];
    snprintf(rs, sizeof rs, "rs-%s", w->tag);
    put_live_layer(w, w->tenant, "placement", key, w->app, w->plc, rs, "pc-2",
                   "{\"ttlSec\":90}");
    publish_changed(w);
    char now[80] = "";
    for (int i = 0; i < 50; i++) {
        th_http_resp r;
        get_config(w, w->app, "2.0.0", NULL, &r);
        assert_int_equal(r.status, 200);
        json_t *b = body_json(&r);
        snprintf(now, sizeof now, "%s", str(b, "etag"));
        int changed = strcmp(now, old) != 0;
        if (changed) {
            assert_string_equal(str(b, "cacheDecision"), "miss");
            assert_int_equal(json_integer_value(json_object_get(b, "ttlSec")), 90);
        }
        json_decref(b);
        th_http_free(&r);
        if (changed) return;
        th_sleep_ms(100);
    }
    fail_msg("etag still %s after ConfigChanged", now);
}

/* Redis is only a cache: with it down every GET resolves, none fails. */
static void redis_down_still_answers(void **state)
{
    world *w = *state;
    char etag[80];
    first_get(w, etag);
    assert_int_equal(th_infra("stop-one", "redis"), 0);
    for (int i = 0; i < 2; i++) {
        th_http_resp r;
        get_config(w, w->app, "2.0.0", NULL, &r);
        int status = (int)r.status;
        json_t *b = status == 200 ? body_json(&r) : NULL;
        int same = b && strcmp(str(b, "etag"), etag) == 0;
        json_decref(b);
        th_http_free(&r);
        if (status != 200 || !same) {
            th_infra("start-one", "redis");
            fail_msg("GET with Redis down: %d (same etag: %d)", status, same);
        }
    }
    assert_int_equal(th_infra("start-one", "redis"), 0);
}

static void post_publish(const world *w, const char *body, th_http_resp *r)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/config/publish", w->edge_port);
    const char *hdrs[] = { "Content-Type: application/json", NULL };
    memset(r, 0, sizeof *r);
    if (th_http("POST", url, hdrs, body, strlen(body), 15000, r) != 0)
        fail_msg("POST %s failed", url);
}

/* The edge relays H's publish answer as is: status and body. */
static void publish_route_relays_h_answer(void **state)
{
    world *w = *state;
    th_http_resp r;
    post_publish(w, "{\"requestId\":\"it-bad\"}", &r);
    assert_int_equal(r.status, 400);
    json_t *b = body_json(&r);
    assert_string_equal(str(json_object_get(b, "error"), "code"), "h_publish_validation_failed");
    json_decref(b);
    th_http_free(&r);

    char body[2048];
    snprintf(body, sizeof body,
             "{\"requestId\":\"it-dry-%s\",\"operatorId\":\"it-operator\",\"environment\":\"" ENV
             "\",\"actionType\":\"publish\",\"targetScope\":\"placement\","
             "\"targetKey\":\"%s|%s_dry|" ENV "\",\"changeSetId\":\"cs-it-%s\","
             "\"baseVersionSnapshot\":{\"schemaVersion\":\"NA\",\"routingStrategyVersion\":\"NA\","
             "\"placementConfigVersion\":\"NA\"},"
             "\"targetVersionSnapshot\":{\"schemaVersion\":\"" SCHEMA "\","
             "\"routingStrategyVersion\":\"rs-%s\",\"placementConfigVersion\":\"pc-9\"},"
             "\"changeSet\":{\"documents\":[],\"layer\":{\"ttlSec\":60}},"
             "\"publishAt\":\"%s\",\"publishContractVersion\":\"h_publish_v1\",\"dryRun\":true}",
             w->tag, w->app, w->plc, w->tag, w->tag, "PUBLISH_AT");
    char at[32];
    time_t now = time(NULL);
    strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%S.000Z", gmtime(&now));
    char *p = strstr(body, "PUBLISH_AT");
    assert_non_null(p);
    char final[2100];
    snprintf(final, sizeof final, "%.*s%s%s", (int)(p - body), body, at, p + strlen("PUBLISH_AT"));
    post_publish(w, final, &r);
    if (r.status != 200) fail_msg("dry run: %ld %s", r.status, r.body ? r.body : "");
    b = body_json(&r);
    assert_string_equal(str(b, "ackReasonCode"), "h_publish_dry_run_validated");
    json_decref(b);
    th_http_free(&r);
}

/* Case 6 shortened (ttl 1 s): a store that cannot resolve (a ref to a
 * missing document) serves the old answer within the grace, and 503 when
 * there is nothing to serve. */
static void failing_resolution_stale_then_503(void **state)
{
    world *w = *state;
    char plc[48], key[128], rs[32];
    snprintf(plc, sizeof plc, "%s_stale", w->plc);
    snprintf(key, sizeof key, "%s|%s|" ENV, w->app, plc);
    snprintf(rs, sizeof rs, "rs-%s", w->tag);
    put_live_layer(w, w->tenant, "placement", key, w->app, plc, rs, "pc-s1", "{\"ttlSec\":1}");
    th_http_resp r;
    get_config_at(w, w->app, plc, "2.0.0", NULL, &r);
    assert_int_equal(r.status, 200);
    json_t *b = body_json(&r);
    char etag[80];
    snprintf(etag, sizeof etag, "%s", str(b, "etag"));
    json_decref(b);
    th_http_free(&r);
    put_live_layer(w, w->tenant, "placement", key, w->app, plc, rs, "pc-s2",
                   "{\"ttlSec\":1,\"placementRef\":\"placement:does-not-exist\"}");
    th_sleep_ms(1300);
    get_config_at(w, w->app, plc, "2.0.0", NULL, &r);
    if (r.status != 200) fail_msg("stale: %ld %s", r.status, r.body ? r.body : "");
    b = body_json(&r);
    assert_string_equal(str(b, "cacheDecision"), "stale_served");
    assert_true(has_code(b, "h_cfg_cache_stale_grace_served"));
    assert_string_equal(str(b, "etag"), etag);
    json_decref(b);
    th_http_free(&r);

    char plc2[48], key2[128];
    snprintf(plc2, sizeof plc2, "%s_broken", w->plc);
    snprintf(key2, sizeof key2, "%s|%s|" ENV, w->app, plc2);
    put_live_layer(w, w->tenant, "placement", key2, w->app, plc2, rs, "pc-b1",
                   "{\"placementRef\":\"placement:does-not-exist\"}");
    get_config_at(w, w->app, plc2, "2.0.0", NULL, &r);
    assert_int_equal(r.status, 503);
    b = body_json(&r);
    assert_string_equal(str(json_object_get(b, "error"), "code"),
                        "h_cfg_cache_expired_revalidate_failed");
    json_decref(b);
    th_http_free(&r);
}

/* ---- per-request decisions (H.5, H.7, H.8) ---- */

/* GET with extra query parameters appended (adapter map, trace key). */
static void get_config_q(const world *w, const char *sdk, const char *extra, th_http_resp *r)
{
    char url[768];
    snprintf(url, sizeof url,
             "http://127.0.0.1:%d/v1/config?appId=%s&placementId=%s&environment=" ENV
             "&schemaVersion=" SCHEMA "&sdkVersion=%s&requestAt=2026-11-23T10:00:00.000Z%s",
             w->edge_port, w->app, w->plc, sdk, extra);
    memset(r, 0, sizeof *r);
    if (th_http("GET", url, NULL, NULL, 0, 10000, r) != 0) fail_msg("GET %s failed", url);
}

/* The raw resolvedConfigSnapshot text of a body. */
static char *snapshot_text(const char *body)
{
    const char *p = strstr(body, "\"resolvedConfigSnapshot\":");
    const char *q = p ? strstr(p, ",\"versionGateDecision\":") : NULL;
    if (!q) fail_msg("no snapshot followed by versionGateDecision: %s", body);
    return strndup(p, (size_t)(q - p));
}

/* sdkVersion below sdkMinVersion: the gate says reject, a good sdkVersion
 * passes it, and both answers are 200s with the same snapshot and etag. */
static void gate_reject_keeps_snapshot_and_etag(void **state)
{
    world *w = *state;
    th_http_resp lo, hi;
    get_config_q(w, "0.5.0", "&adapterVersionMapOrNA=net_a:1.2.0", &lo);
    get_config_q(w, "2.0.0", "&adapterVersionMapOrNA=net_a:1.2.0", &hi);
    assert_int_equal(lo.status, 200);
    assert_int_equal(hi.status, 200);
    json_t *bl = body_json(&lo), *bh = body_json(&hi);
    json_t *gl = json_object_get(bl, "versionGateDecision");
    assert_non_null(gl);
    assert_string_equal(str(gl, "gateAction"), "reject");
    assert_true(json_array_size(json_object_get(gl, "reasonCodes")) >= 1);
    assert_int_equal(json_array_size(json_object_get(gl, "compatibleAdapters")), 0);
    assert_non_null(json_object_get(json_object_get(gl, "gateStageResult"), "sdkGate"));
    json_t *gh = json_object_get(bh, "versionGateDecision");
    assert_string_equal(str(gh, "gateAction"), "allow");
    assert_int_equal(json_array_size(json_object_get(gh, "compatibleAdapters")), 1);
    assert_string_equal(str(json_object_get(bh, "configDecisionAudit"), "decisionAction"), "hit");
    /* the gate's codes stay out of the answer's reasonCodes */
    assert_false(has_code(bl, "h_gate_sdk_below_min_reject"));
    assert_false(has_code(bl, "h_gate_policy_not_found"));
    json_t *au = json_object_get(bl, "configDecisionAudit");
    assert_string_equal(str(au, "decisionAction"), "reject");
    assert_string_equal(str(au, "primaryReasonCode"),
                        "h_cfg_decision_reject_version_gate_failed");
    assert_int_equal(strncmp(str(au, "snapshotId"), "cfgdec_", 7), 0);
    assert_int_equal(json_array_size(json_object_get(au, "decisionPath")), 5);
    assert_string_equal(str(bl, "etag"), str(bh, "etag"));
    char *sl = snapshot_text(lo.body), *sh = snapshot_text(hi.body);
    assert_string_equal(sl, sh);
    free(sl);
    free(sh);
    json_decref(bl);
    json_decref(bh);
    th_http_free(&lo);
    th_http_free(&hi);
}

static uint64_t audit_last_seq(jsCtx *js)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    assert_int_equal(js_GetStreamInfo(&si, js, MED_STREAM_AUDIT, NULL, &jerr), NATS_OK);
    uint64_t seq = si->State.LastSeq;
    jsStreamInfo_Destroy(si);
    return seq;
}

/* Whether a StageAudit of stage h with snapshotId (and primary, when not
 * NULL) arrives after seq. */
static int audit_seen(jsCtx *js, uint64_t after, const char *snapshot_id, const char *primary)
{
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Config.DeliverPolicy = js_DeliverByStartSequence;
    so.Config.OptStartSeq = after + 1;
    so.Config.AckPolicy = js_AckNone;
    natsSubscription *sub = NULL;
    jsErrCode jerr = 0;
    assert_int_equal(js_SubscribeSync(&sub, js, MED_SUBJ_AUDIT_PREFIX MED_STAGE_H
                                      MED_SUBJ_VERSION_SUFFIX, NULL, &so, &jerr), NATS_OK);
    int seen = 0;
    natsMsg *m = NULL;
    while (!seen && natsSubscription_NextMsg(&m, sub, 5000) == NATS_OK) {
        Mediation__V1__StageAudit *a = mediation__v1__stage_audit__unpack(
            NULL, (size_t)natsMsg_GetDataLength(m), (const uint8_t *)natsMsg_GetData(m));
        const Mediation__V1__HConfigDecisionAuditSnapshotLite *l =
            a && a->h_audit ? a->h_audit->h_config_decision_audit_snapshot_lite : NULL;
        seen = l && strcmp(a->stage, "h") == 0 && strcmp(l->snapshot_id, snapshot_id) == 0 &&
               (!primary || strcmp(a->primary_reason_code, primary) == 0);
        if (a) mediation__v1__stage_audit__free_unpacked(a, NULL);
        natsMsg_Destroy(m);
    }
    natsSubscription_Destroy(sub);
    return seen;
}

/* Every answered GET publishes its decision audit on med.audit.h.v1, a
 * 304 (no body) too. */
static void decision_audit_reaches_med_audit(void **state)
{
    world *w = *state;
    jsCtx *js = NULL;
    assert_int_equal(natsConnection_JetStream(&js, w->nc, NULL), NATS_OK);
    uint64_t seq = audit_last_seq(js);
    char extra[96];
    snprintf(extra, sizeof extra, "&adapterVersionMapOrNA=net_a:1.2.0&traceKeyOrNA=tk_%s_%d",
             w->tag, rand());
    th_http_resp r;
    get_config_q(w, "2.0.0", extra, &r);
    assert_int_equal(r.status, 200);
    json_t *b = body_json(&r);
    char id[64], inm[96];
    snprintf(id, sizeof id, "%s", str(json_object_get(b, "configDecisionAudit"), "snapshotId"));
    snprintf(inm, sizeof inm, "\"%s\"", str(b, "etag"));
    json_decref(b);
    th_http_free(&r);
    assert_true(audit_seen(js, seq, id, NULL));

    seq = audit_last_seq(js);
    char url[768], hdr[160];
    snprintf(url, sizeof url,
             "http://127.0.0.1:%d/v1/config?appId=%s&placementId=%s&environment=" ENV
             "&schemaVersion=" SCHEMA "&sdkVersion=2.0.0&requestAt=2026-11-23T10:00:00.000Z%s",
             w->edge_port, w->app, w->plc, extra);
    snprintf(hdr, sizeof hdr, "If-None-Match: %s", inm);
    const char *hdrs[] = { hdr, NULL };
    memset(&r, 0, sizeof r);
    assert_int_equal(th_http("GET", url, hdrs, NULL, 0, 10000, &r), 0);
    assert_int_equal(r.status, 304);
    th_http_free(&r);
    /* same inputs, same snapshotId (the gate passes here, so its primary
     * code is the 304 hit) */
    assert_true(audit_seen(js, seq, id, NULL));
    jsCtx_Destroy(js);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(miss_then_304_then_weak_tag),
        cmocka_unit_test(missing_app_is_400_with_error_shape),
        cmocka_unit_test(repeated_answers_are_byte_identical),
        cmocka_unit_test(config_changed_gives_new_etag),
        cmocka_unit_test(redis_down_still_answers),
        cmocka_unit_test(publish_route_relays_h_answer),
        cmocka_unit_test(failing_resolution_stale_then_503),
        cmocka_unit_test(gate_reject_keeps_snapshot_and_etag),
        cmocka_unit_test(decision_audit_reaches_med_audit),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
