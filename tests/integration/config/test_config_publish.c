/* H.4 publish end to end: med-h-config runs as a process against the real
 * servers; the test talks to it over NATS with ConfigPublishRequest
 * protobufs (body_json + the auth context the edge would build) and checks
 * PostgreSQL (as the owner, so row-level security does not hide rows) and
 * the MED_CONFIG stream. Spec 04 H.10 cases 7-11 and the outbox restart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include <nats/nats.h>

#include "harness.h"
#include "med/names.h"
#include "mediation/v1/config.pb-c.h"

typedef struct world {
    th_proc proc;
    natsConnection *nc;
    jsCtx *js;
    PGconn *pg;
} world;

typedef struct reply {
    int status;
    char state[32], code[64], op_id[64];
    char body[2048];
} reply;

/* ---- plumbing ---- */

static void proc_configure(world *w)
{
    th_proc *p = &w->proc;
    th_proc_init_ci(p, "h_config", "h_config", "med-h-config", "ADMIN_HTTP_PORT", "200");
    th_proc_setenv(p, "SERVICE_INSTANCE", "h_config_it");
    /* concurrent publishes reach the commit lock together (case 9) */
    th_proc_setenv(p, "FAULT_INJECTION_ENABLED", "true");
    th_proc_setenv(p, "H_PUBLISH_FAULT", "commit_delay");
}

static void start_and_wait(world *w)
{
    th_proc_start_ready(&w->proc);
}

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    proc_configure(w);
    start_and_wait(w);
    assert_int_equal(natsConnection_ConnectTo(&w->nc, th_env("NATS_URL")), NATS_OK);
    assert_int_equal(natsConnection_JetStream(&w->js, w->nc, NULL), NATS_OK);
    w->pg = PQconnectdb(th_env("PG_ADMIN_DSN"));
    assert_int_equal(PQstatus(w->pg), CONNECTION_OK);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    th_proc_stop(&w->proc, SIGTERM, 10000);
    th_proc_free(&w->proc);
    PQfinish(w->pg);
    jsCtx_Destroy(w->js);
    natsConnection_Destroy(w->nc);
    free(w);
    return 0;
}

static void rnd(char *out, const char *prefix)
{
    sprintf(out, "%s%08x", prefix, (unsigned)rand());
}

/* First column of the first row as text ("" when none). */
static void sql1(PGconn *pg, char *out, size_t cap, const char *sql, int n, const char *const *v)
{
    PGresult *r = PQexecParams(pg, sql, n, NULL, v, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) fail_msg("sql failed: %s", PQerrorMessage(pg));
    snprintf(out, cap, "%s", PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
}

static long sql_count(PGconn *pg, const char *sql, int n, const char *const *v)
{
    char buf[32];
    sql1(pg, buf, sizeof buf, sql, n, v);
    return atol(buf);
}

typedef struct caller {
    const char *tenant, *actor, *authority, *principal;
} caller;

static void call_publish(natsConnection *nc, const caller *c, const char *body, reply *out)
{
    /* the bodies use a fixed publishAt; the token covers it and now */
    Mediation__V1__ConfigPublishReply *r =
        th_config_publish(nc, c->tenant, c->actor, c->authority, c->principal, body);
    memset(out, 0, sizeof *out);
    out->status = r->http_status;
    snprintf(out->state, sizeof out->state, "%s", r->publish_state);
    snprintf(out->code, sizeof out->code, "%s", r->ack_reason_code);
    snprintf(out->op_id, sizeof out->op_id, "%s", r->publish_operation_id);
    snprintf(out->body, sizeof out->body, "%s", r->body_json);
    mediation__v1__config_publish_reply__free_unpacked(r, NULL);
}

static const caller *admin_of(const char *tenant)
{
    static __thread caller c;
    c = (caller){tenant, "alice", "config_admin", "admin"};
    return &c;
}

/* A publish body for the placement unit app|plc|staging. ver = "NA" base. */
static void publish_body(char *out, size_t cap, const char *app, const char *cs,
                         const char *base_rs, const char *base_pc, const char *rs,
                         const char *pc, const char *extra)
{
    const char *bs = strcmp(base_rs, "NA") == 0 ? "NA" : "1.0.0";
    snprintf(out, cap,
        "{\"requestId\":\"req-%s\",\"operatorId\":\"alice\",\"environment\":\"staging\","
        "\"actionType\":\"publish\",\"targetScope\":\"placement\",\"targetKey\":\"%s|plc_feed|staging\","
        "\"changeSetId\":\"%s\",\"publishAt\":\"2026-11-23T10:00:00.000Z\","
        "\"publishContractVersion\":\"h_publish_v1\",%s"
        "\"baseVersionSnapshot\":{\"schemaVersion\":\"%s\",\"routingStrategyVersion\":\"%s\","
        "\"placementConfigVersion\":\"%s\"},"
        "\"targetVersionSnapshot\":{\"schemaVersion\":\"1.0.0\",\"routingStrategyVersion\":\"%s\","
        "\"placementConfigVersion\":\"%s\"},"
        "\"changeSet\":{\"documents\":[{\"kind\":\"route_policy\",\"version\":\"%s\",\"body\":"
        "{\"routingPolicyVersion\":\"%s\",\"sources\":[]}}],"
        "\"layer\":{\"routePolicyRef\":\"route_policy:%s\",\"ttlSec\":120,\"note\":\"%s\"}}}",
        cs, app, cs, extra, bs, base_rs, base_pc, rs, pc, rs, rs, rs, pc);
}

static void rollback_body(char *out, size_t cap, const char *app, const char *cs,
                          const char *base_rs, const char *base_pc, const char *rs,
                          const char *pc)
{
    snprintf(out, cap,
        "{\"requestId\":\"req-%s\",\"operatorId\":\"alice\",\"environment\":\"staging\","
        "\"actionType\":\"rollback\",\"targetScope\":\"placement\",\"targetKey\":\"%s|plc_feed|staging\","
        "\"changeSetId\":\"%s\",\"publishAt\":\"2026-11-23T10:00:00.000Z\","
        "\"publishContractVersion\":\"h_publish_v1\","
        "\"baseVersionSnapshot\":{\"schemaVersion\":\"1.0.0\",\"routingStrategyVersion\":\"%s\","
        "\"placementConfigVersion\":\"%s\"},"
        "\"rollbackToVersionSnapshot\":{\"schemaVersion\":\"1.0.0\",\"routingStrategyVersion\":\"%s\","
        "\"placementConfigVersion\":\"%s\"}}",
        cs, app, cs, base_rs, base_pc, rs, pc);
}

static uint64_t config_last_seq(world *w)
{
    return th_stream_last_seq(w->js, MED_STREAM_CONFIG);
}

/* How many messages after seq carry Nats-Msg-Id == op_id. */
static int count_changed(world *w, uint64_t after, const char *op_id, int wait_ms)
{
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Config.DeliverPolicy = js_DeliverByStartSequence;
    so.Config.OptStartSeq = after + 1;
    so.Config.AckPolicy = js_AckNone;
    natsSubscription *sub = NULL;
    jsErrCode jerr = 0;
    assert_int_equal(js_SubscribeSync(&sub, w->js, MED_SUBJ_H_CONFIG, NULL, &so, &jerr), NATS_OK);
    int n = 0;
    natsMsg *m = NULL;
    while (natsSubscription_NextMsg(&m, sub, wait_ms) == NATS_OK) {
        const char *id = NULL;
        if (natsMsgHeader_Get(m, "Nats-Msg-Id", &id) == NATS_OK && strcmp(id, op_id) == 0) {
            Mediation__V1__ConfigChanged *cc = mediation__v1__config_changed__unpack(
                NULL, (size_t)natsMsg_GetDataLength(m), (const uint8_t *)natsMsg_GetData(m));
            assert_non_null(cc);
            assert_string_equal(cc->publish_operation_id, op_id);
            mediation__v1__config_changed__free_unpacked(cc, NULL);
            n++;
        }
        natsMsg_Destroy(m);
    }
    natsSubscription_Destroy(sub);
    return n;
}

/* ---- H.10 case 7 ---- */

static void valid_placement_publish_is_published_once(void **state)
{
    world *w = *state;
    char tenant[32], app[32], body[4096];
    rnd(tenant, "t_");
    rnd(app, "app_");
    uint64_t seq = config_last_seq(w);
    publish_body(body, sizeof body, app, "cs-7", "NA", "NA", "rs-1", "pc-1", "");
    reply r;
    call_publish(w->nc, admin_of(tenant), body, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.state, "published");
    assert_string_equal(r.code, "h_publish_published");
    const char *v[1] = {r.op_id};
    char states[512];
    sql1(w->pg, states, sizeof states,
         "SELECT string_agg(e->>'to', ',' ORDER BY o) FROM config_publish_operations, "
         "jsonb_array_elements(state_history) WITH ORDINALITY AS h(e, o) "
         "WHERE publish_operation_id = $1", 1, v);
    assert_string_equal(states, "draft,validated,published");
    assert_int_equal(sql_count(w->pg, "SELECT count(*) FROM config_snapshots WHERE "
                     "publish_operation_id = $1 AND is_live", 1, v), 1);
    assert_int_equal(sql_count(w->pg, "SELECT count(*) FROM audit_records WHERE "
                     "audit_kind = 'publish' AND request_key = 'req-cs-7' AND tenant_id = $1",
                     1, (const char *const[]){tenant}), 1);
    assert_int_equal(count_changed(w, seq, r.op_id, 1500), 1);
    char sent[16];
    sql1(w->pg, sent, sizeof sent, "SELECT outbox_status FROM config_publish_operations "
         "WHERE publish_operation_id = $1", 1, v);
    assert_string_equal(sent, "sent");
}

/* ---- H.10 case 8 ---- */

static void same_key_reuses_the_operation(void **state)
{
    world *w = *state;
    char tenant[32], app[32], body[4096];
    rnd(tenant, "t_");
    rnd(app, "app_");
    const char *key = "\"publishIdempotencyKeyOrNA\":\"idem-8\",";
    publish_body(body, sizeof body, app, "cs-8", "NA", "NA", "rs-1", "pc-1", key);
    reply a, b, c;
    call_publish(w->nc, admin_of(tenant), body, &a);
    assert_int_equal(a.status, 200);
    call_publish(w->nc, admin_of(tenant), body, &b);
    assert_int_equal(b.status, 200);
    assert_string_equal(b.op_id, a.op_id);
    assert_string_equal(b.code, "h_publish_duplicate_reused_operation");
    assert_string_equal(b.state, "published");
    assert_non_null(strstr(b.body, "h_publish_duplicate_reused_operation"));
    publish_body(body, sizeof body, app, "cs-8b", "NA", "NA", "rs-1", "pc-1", key);
    call_publish(w->nc, admin_of(tenant), body, &c);
    assert_int_equal(c.status, 409);
    assert_string_equal(c.code, "h_publish_idempotency_payload_conflict");
    assert_int_equal(sql_count(w->pg, "SELECT count(*) FROM config_publish_operations WHERE "
                     "tenant_id = $1", 1, (const char *const[]){tenant}), 1);
}

/* ---- H.10 case 9 ---- */

typedef struct racer {
    natsConnection *nc;
    const char *tenant;
    char body[4096];
    reply r;
} racer;

static void *race_publish(void *arg)
{
    racer *x = arg;
    call_publish(x->nc, admin_of(x->tenant), x->body, &x->r);
    return NULL;
}

typedef struct watcher {
    const char *tenant;
    volatile int stop;
    int bad;
    int reads;
} watcher;

/* Polls the unit's live rows: never two, never lines of no published set. */
static void *watch_live(void *arg)
{
    watcher *x = arg;
    PGconn *pg = PQconnectdb(getenv("PG_ADMIN_DSN"));
    const char *v[1] = {x->tenant};
    while (!x->stop) {
        PGresult *r = PQexecParams(pg,
            "SELECT routing_strategy_version || '/' || placement_config_version FROM "
            "config_snapshots WHERE tenant_id = $1 AND is_live", 1, NULL, v, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) > 1) x->bad++;
        for (int i = 0; i < PQntuples(r); i++) {
            const char *s = PQgetvalue(r, i, 0);
            if (strcmp(s, "rs-1/pc-1") && strcmp(s, "rs-2a/pc-2a") && strcmp(s, "rs-2b/pc-2b"))
                x->bad++;
        }
        PQclear(r);
        x->reads++;
    }
    PQfinish(pg);
    return NULL;
}

static void race_once(world *w)
{
    char tenant[32], app[32], body[4096];
    rnd(tenant, "t_");
    rnd(app, "app_");
    publish_body(body, sizeof body, app, "cs-9", "NA", "NA", "rs-1", "pc-1", "");
    reply r;
    call_publish(w->nc, admin_of(tenant), body, &r);
    assert_int_equal(r.status, 200);
    /* two connections, so the requests do not queue behind each other on
     * the client side; the service serializes them on the unit */
    racer x[2];
    natsConnection *ncs[2];
    for (int i = 0; i < 2; i++) {
        assert_int_equal(natsConnection_ConnectTo(&ncs[i], th_env("NATS_URL")), NATS_OK);
        x[i].nc = ncs[i];
        x[i].tenant = tenant;
        publish_body(x[i].body, sizeof x[i].body, app, i ? "cs-9b" : "cs-9a", "rs-1", "pc-1",
                     i ? "rs-2b" : "rs-2a", i ? "pc-2b" : "pc-2a", "");
    }
    /* a second replica, so the two requests can reach two processes and
     * meet at the commit lock rather than queue in one subscription */
    th_proc second;
    th_proc_init(&second, "h_config_2", "h_config", "med-h-config");
    char port[16];
    snprintf(port, sizeof port, "%d", second.admin_port = th_free_port());
    th_proc_setenv(&second, "ADMIN_HTTP_PORT", port);
    th_proc_setenv(&second, "APP_ENV", "ci");
    th_proc_setenv(&second, "FAULT_INJECTION_ENABLED", "true");
    th_proc_setenv(&second, "H_PUBLISH_FAULT", "commit_delay");
    assert_int_equal(th_proc_start(&second), 0);
    assert_int_equal(th_proc_wait_ready(&second, 20000), 0);
    watcher wt = {.tenant = tenant};
    pthread_t tw, t[2];
    pthread_create(&tw, NULL, watch_live, &wt);
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, race_publish, &x[i]);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    th_sleep_ms(200);
    wt.stop = 1;
    pthread_join(tw, NULL);
    for (int i = 0; i < 2; i++) natsConnection_Destroy(ncs[i]);
    th_proc_stop(&second, SIGTERM, 10000);
    th_proc_free(&second);
    int ok = (x[0].r.status == 200) + (x[1].r.status == 200);
    assert_int_equal(ok, 1);
    const reply *loser = x[0].r.status == 200 ? &x[1].r : &x[0].r;
    assert_int_equal(loser->status, 409);
    assert_string_equal(loser->code, "h_publish_base_version_conflict");
    assert_int_equal(wt.bad, 0);
    assert_true(wt.reads > 0);
    assert_int_equal(sql_count(w->pg, "SELECT count(*) FROM audit_records WHERE tenant_id = $1 "
                     "AND outcome = 'failed' AND reason_code = 'h_publish_base_version_conflict'",
                     1, (const char *const[]){tenant}), 1);
    assert_int_equal(sql_count(w->pg, "SELECT count(*) FROM config_snapshots WHERE tenant_id = $1 "
                     "AND is_live", 1, (const char *const[]){tenant}), 1);
}

static void concurrent_publishes_serialize(void **state)
{
    for (int round = 0; round < 4; round++) race_once(*state);
}

/* ---- H.10 case 10 ---- */

static long denial_audits(world *w, const char *tenant, const char *code)
{
    const char *v[2] = {tenant, code};
    return sql_count(w->pg, "SELECT count(*) FROM audit_records WHERE tenant_id = $1 AND "
                     "audit_kind = 'permission_denied' AND reason_code = $2", 2, v);
}

static void denials_are_403_and_audited(void **state)
{
    world *w = *state;
    char tenant[32], app[32], body[4096];
    rnd(tenant, "t_");
    rnd(app, "app_");
    reply r;
    publish_body(body, sizeof body, app, "cs-10", "NA", "NA", "rs-1", "pc-1", "");
    caller mallory = {tenant, "mallory", "config_admin", "admin"};
    call_publish(w->nc, &mallory, body, &r);
    assert_int_equal(r.status, 403);
    assert_string_equal(r.code, "h_publish_auth_operator_mismatch");
    assert_int_equal(sql_count(w->pg, "SELECT count(*) FROM config_publish_operations WHERE "
                     "tenant_id = $1", 1, (const char *const[]){tenant}), 0);
    assert_int_equal(denial_audits(w, tenant, "h_publish_auth_operator_mismatch"), 1);

    char app_body[4096];
    snprintf(app_body, sizeof app_body,
        "{\"requestId\":\"req-10b\",\"operatorId\":\"alice\",\"environment\":\"staging\","
        "\"actionType\":\"publish\",\"targetScope\":\"app\",\"targetKey\":\"%s|staging\","
        "\"changeSetId\":\"cs-10b\",\"publishAt\":\"2026-11-23T10:00:00.000Z\","
        "\"publishContractVersion\":\"h_publish_v1\","
        "\"baseVersionSnapshot\":{\"schemaVersion\":\"NA\",\"routingStrategyVersion\":\"NA\","
        "\"placementConfigVersion\":\"NA\"},\"targetVersionSnapshot\":{\"schemaVersion\":\"1.0.0\","
        "\"routingStrategyVersion\":\"rs-1\",\"placementConfigVersion\":\"pc-1\"},"
        "\"changeSet\":{\"layer\":{\"ttlSec\":60}}}", app);
    caller plc_op = {tenant, "alice", "placement_operator", "publisher"};
    call_publish(w->nc, &plc_op, app_body, &r);
    assert_int_equal(r.status, 403);
    assert_string_equal(r.code, "h_publish_authz_denied");

    char prod_body[4096];
    snprintf(prod_body, sizeof prod_body,
        "{\"requestId\":\"req-10c\",\"operatorId\":\"alice\",\"environment\":\"prod\","
        "\"actionType\":\"publish\",\"targetScope\":\"placement\",\"targetKey\":\"%s|plc_feed|prod\","
        "\"changeSetId\":\"cs-10c\",\"publishAt\":\"2026-11-23T10:00:00.000Z\","
        "\"publishContractVersion\":\"h_publish_v1\","
        "\"baseVersionSnapshot\":{\"schemaVersion\":\"NA\",\"routingStrategyVersion\":\"NA\","
        "\"placementConfigVersion\":\"NA\"},\"targetVersionSnapshot\":{\"schemaVersion\":\"1.0.0\","
        "\"routingStrategyVersion\":\"rs-1\",\"placementConfigVersion\":\"pc-1\"},"
        "\"changeSet\":{\"layer\":{\"ttlSec\":60}}}", app);
    caller publisher = {tenant, "alice", "placement_operator", "publisher"};
    call_publish(w->nc, &publisher, prod_body, &r);
    assert_int_equal(r.status, 403);
    assert_string_equal(r.code, "h_publish_authz_denied");
    assert_int_equal(denial_audits(w, tenant, "h_publish_authz_denied"), 2);
    assert_int_equal(sql_count(w->pg, "SELECT count(*) FROM config_publish_operations WHERE "
                     "tenant_id = $1", 1, (const char *const[]){tenant}), 0);
}

/* ---- H.10 case 11 ---- */

static void live_versions(world *w, const char *tenant, char *out, size_t cap)
{
    sql1(w->pg, out, cap, "SELECT routing_strategy_version || '/' || placement_config_version "
         "|| '/' || (layer->>'note') FROM config_snapshots WHERE tenant_id = $1 AND is_live", 1,
         (const char *const[]){tenant});
}

static void state_of(world *w, const char *op_id, char *out, size_t cap)
{
    sql1(w->pg, out, cap, "SELECT publish_state FROM config_publish_operations WHERE "
         "publish_operation_id = $1", 1, (const char *const[]){op_id});
}

static void rollback_restores_the_previous_layer(void **state)
{
    world *w = *state;
    char tenant[32], app[32], body[4096], live[128], st[32];
    rnd(tenant, "t_");
    rnd(app, "app_");
    reply r1, r2, rb, nf, r3;
    publish_body(body, sizeof body, app, "cs-11a", "NA", "NA", "rs-1", "pc-1", "");
    call_publish(w->nc, admin_of(tenant), body, &r1);
    assert_int_equal(r1.status, 200);
    publish_body(body, sizeof body, app, "cs-11b", "rs-1", "pc-1", "rs-2", "pc-2", "");
    call_publish(w->nc, admin_of(tenant), body, &r2);
    assert_int_equal(r2.status, 200);
    live_versions(w, tenant, live, sizeof live);
    assert_string_equal(live, "rs-2/pc-2/pc-2");

    uint64_t seq = config_last_seq(w);
    rollback_body(body, sizeof body, app, "cs-11r", "rs-2", "pc-2", "rs-1", "pc-1");
    call_publish(w->nc, admin_of(tenant), body, &rb);
    assert_int_equal(rb.status, 200);
    assert_string_equal(rb.state, "rolled_back");
    assert_string_equal(rb.code, "h_publish_rolled_back");
    live_versions(w, tenant, live, sizeof live);
    assert_string_equal(live, "rs-1/pc-1/pc-1");
    state_of(w, rb.op_id, st, sizeof st);
    assert_string_equal(st, "rolled_back");
    state_of(w, r2.op_id, st, sizeof st);
    assert_string_equal(st, "rolled_back");
    state_of(w, r1.op_id, st, sizeof st);
    assert_string_equal(st, "published");
    assert_int_equal(count_changed(w, seq, rb.op_id, 1500), 1);

    rollback_body(body, sizeof body, app, "cs-11x", "rs-1", "pc-1", "rs-9", "pc-9");
    call_publish(w->nc, admin_of(tenant), body, &nf);
    assert_int_equal(nf.status, 404);
    assert_string_equal(nf.code, "h_publish_rollback_target_not_found");

    /* publishing again on top of the rollback works */
    publish_body(body, sizeof body, app, "cs-11c", "rs-1", "pc-1", "rs-3", "pc-3", "");
    call_publish(w->nc, admin_of(tenant), body, &r3);
    assert_int_equal(r3.status, 200);
    live_versions(w, tenant, live, sizeof live);
    assert_string_equal(live, "rs-3/pc-3/pc-3");
}

/* ---- outbox survives a restart ---- */

static void pending_outbox_is_published_at_start(void **state)
{
    world *w = *state;
    char tenant[32], op_id[40];
    rnd(tenant, "t_");
    rnd(op_id, "pubop_outbox_");
    int status = th_proc_stop(&w->proc, SIGTERM, 10000);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);   /* graceful SIGTERM */
    Mediation__V1__ConfigChanged cc = MEDIATION__V1__CONFIG_CHANGED__INIT;
    cc.publish_operation_id = op_id;
    cc.environment = "staging";
    cc.target_scope = "global";
    cc.target_key = "staging";
    cc.release_unit = "staging|global|staging";
    cc.publish_state = "published";
    size_t len = mediation__v1__config_changed__get_packed_size(&cc);
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    mediation__v1__config_changed__pack(&cc, buf);
    const char *v[3] = {op_id, tenant, (const char *)buf};
    int lens[3] = {0, 0, (int)len}, fmts[3] = {0, 0, 1};
    PGresult *r = PQexecParams(w->pg,
        "INSERT INTO config_publish_operations (publish_operation_id, tenant_id, request_id, "
        "operator_id, environment, action_type, target_scope, target_key, change_set_id, "
        "idempotency_key, payload_hash, publish_state, outbox_status, outbox_payload) VALUES "
        "($1, $2, 'req-outbox', 'alice', 'staging', 'publish', 'global', 'staging', 'cs-outbox', "
        "'k', 'h', 'published', 'pending', $3)", 3, NULL, v, lens, fmts, 0);
    free(buf);
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    uint64_t seq = config_last_seq(w);
    start_and_wait(w);   /* ready only after the outbox was drained */
    assert_int_equal(count_changed(w, seq, op_id, 1000), 1);
    char sent[16];
    sql1(w->pg, sent, sizeof sent, "SELECT outbox_status FROM config_publish_operations WHERE "
         "publish_operation_id = $1", 1, (const char *const[]){op_id});
    assert_string_equal(sent, "sent");
}

/* ---- H.10 case 12: lost commit outcome ---- */

static void lost_commit_is_compensated_and_resend_keeps_the_id(void **state)
{
    world *w = *state;
    char tenant[32], app[32], body[4096];
    rnd(tenant, "t_");
    rnd(app, "app_");
    th_proc_stop(&w->proc, SIGTERM, 10000);
    th_proc faulty;
    th_proc_init(&faulty, "h_config_faulty", "h_config", "med-h-config");
    char port[16];
    snprintf(port, sizeof port, "%d", faulty.admin_port = th_free_port());
    th_proc_setenv(&faulty, "ADMIN_HTTP_PORT", port);
    th_proc_setenv(&faulty, "APP_ENV", "ci");
    th_proc_setenv(&faulty, "FAULT_INJECTION_ENABLED", "true");
    th_proc_setenv(&faulty, "H_PUBLISH_FAULT", "commit_lost");
    assert_int_equal(th_proc_start(&faulty), 0);
    assert_int_equal(th_proc_wait_ready(&faulty, 20000), 0);
    publish_body(body, sizeof body, app, "cs-12", "NA", "NA", "rs-1", "pc-1", "");
    reply a, b;
    call_publish(w->nc, admin_of(tenant), body, &a);
    th_proc_stop(&faulty, SIGTERM, 10000);
    th_proc_free(&faulty);
    assert_int_equal(a.status, 503);
    assert_string_equal(a.code, "h_publish_compensation_triggered");
    assert_non_null(strstr(a.body, "\"retryable\":true"));
    assert_int_equal(sql_count(w->pg, "SELECT count(*) FROM config_snapshots WHERE tenant_id = $1 "
                     "AND is_live", 1, (const char *const[]){tenant}), 0);
    char st[32];
    state_of(w, a.op_id, st, sizeof st);
    assert_string_equal(st, "failed");

    start_and_wait(w);
    uint64_t seq = config_last_seq(w);
    call_publish(w->nc, admin_of(tenant), body, &b);
    assert_int_equal(b.status, 200);
    assert_string_equal(b.state, "published");
    assert_string_equal(b.op_id, a.op_id);
    assert_int_equal(count_changed(w, seq, b.op_id, 1500), 1);
    assert_int_equal(sql_count(w->pg, "SELECT count(*) FROM config_snapshots WHERE tenant_id = $1 "
                     "AND is_live", 1, (const char *const[]){tenant}), 1);
}

/* ---- global layer (_platform) and refs across layers ---- */

static void placement_body_with_layer(char *out, size_t cap, const char *app, const char *cs,
                                      const char *layer)
{
    snprintf(out, cap,
        "{\"requestId\":\"req-%s\",\"operatorId\":\"alice\",\"environment\":\"staging\","
        "\"actionType\":\"publish\",\"targetScope\":\"placement\",\"targetKey\":\"%s|plc_feed|staging\","
        "\"changeSetId\":\"%s\",\"publishAt\":\"2026-11-23T10:00:00.000Z\","
        "\"publishContractVersion\":\"h_publish_v1\","
        "\"baseVersionSnapshot\":{\"schemaVersion\":\"NA\",\"routingStrategyVersion\":\"NA\","
        "\"placementConfigVersion\":\"NA\"},\"targetVersionSnapshot\":{\"schemaVersion\":\"1.0.0\","
        "\"routingStrategyVersion\":\"rs-1\",\"placementConfigVersion\":\"pc-1\"},"
        "\"changeSet\":{\"layer\":%s}}", cs, app, cs, layer);
}

static void global_layer_is_platform_and_its_documents_resolve(void **state)
{
    world *w = *state;
    char tenant[32], app[32], ver[32], body[4096], base[3][64] = {"NA", "NA", "NA"};
    rnd(tenant, "t_");
    rnd(app, "app_");
    rnd(ver, "g");
    PGresult *q = PQexec(w->pg, "SELECT schema_version, routing_strategy_version, "
        "placement_config_version FROM config_snapshots WHERE tenant_id = '_platform' AND "
        "release_unit = 'staging|global|staging' AND is_live");
    assert_int_equal(PQresultStatus(q), PGRES_TUPLES_OK);
    for (int i = 0; PQntuples(q) == 1 && i < 3; i++)
        snprintf(base[i], sizeof base[i], "%s", PQgetvalue(q, 0, i));
    PQclear(q);
    snprintf(body, sizeof body,
        "{\"requestId\":\"req-g-%s\",\"operatorId\":\"alice\",\"environment\":\"staging\","
        "\"actionType\":\"publish\",\"targetScope\":\"global\",\"targetKey\":\"staging\","
        "\"changeSetId\":\"cs-%s\",\"publishAt\":\"2026-11-23T10:00:00.000Z\","
        "\"publishContractVersion\":\"h_publish_v1\","
        "\"baseVersionSnapshot\":{\"schemaVersion\":\"%s\",\"routingStrategyVersion\":\"%s\","
        "\"placementConfigVersion\":\"%s\"},\"targetVersionSnapshot\":{\"schemaVersion\":\"1.0.0\","
        "\"routingStrategyVersion\":\"rs-%s\",\"placementConfigVersion\":\"pc-%s\"},"
        "\"changeSet\":{\"documents\":[{\"kind\":\"policy\",\"version\":\"%s\",\"body\":"
        "{\"policyPackVersion\":\"p1\",\"policyRuleVersion\":\"r1\",\"failureMode\":\"fail_closed\"}}],"
        "\"layer\":{\"policyThresholdsRef\":\"policy:%s\",\"ttlSec\":300}}}",
        ver, ver, base[0], base[1], base[2], ver, ver, ver, ver);
    reply g, ok, bad;
    call_publish(w->nc, admin_of(tenant), body, &g);
    assert_int_equal(g.status, 200);
    char owner[32];
    sql1(w->pg, owner, sizeof owner, "SELECT tenant_id FROM config_snapshots WHERE "
         "publish_operation_id = $1 AND is_live", 1, (const char *const[]){g.op_id});
    assert_string_equal(owner, "_platform");

    char layer[256];
    snprintf(layer, sizeof layer, "{\"policyThresholdsRef\":\"policy:%s\"}", ver);
    placement_body_with_layer(body, sizeof body, app, "cs-ref-ok", layer);
    call_publish(w->nc, admin_of(tenant), body, &ok);
    assert_int_equal(ok.status, 200);
    placement_body_with_layer(body, sizeof body, app, "cs-ref-bad",
                              "{\"routePolicyRef\":\"route_policy:nope\"}");
    call_publish(w->nc, admin_of(tenant), body, &bad);
    assert_int_equal(bad.status, 400);
    assert_string_equal(bad.code, "h_publish_validation_failed");
    assert_non_null(strstr(bad.body, "changeSet.layer.routePolicyRef"));
}

/* ---- cases 7 and 11 seen through GET (med.h.get.v1) ---- */

static void get_etag(world *w, const char *tenant, const char *app, char *etag, size_t cap)
{
    Mediation__V1__ConfigGetRequest req = MEDIATION__V1__CONFIG_GET_REQUEST__INIT;
    char at[32];
    time_t now = time(NULL);
    strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%S.000Z", gmtime(&now));
    req.app_id = (char *)app;
    req.placement_id = "plc_feed";
    req.environment = "prod";
    req.schema_version = "1.0.0";
    req.sdk_version = "2.1.0";
    req.request_at = at;
    req.tenant_id = (char *)tenant;
    size_t len = mediation__v1__config_get_request__get_packed_size(&req);
    uint8_t *buf = malloc(len + 1);
    assert_non_null(buf);
    mediation__v1__config_get_request__pack(&req, buf);
    natsMsg *rep = NULL;
    natsStatus st = natsConnection_Request(&rep, w->nc, MED_SUBJ_H_GET, buf, (int)len, 10000);
    free(buf);
    if (st != NATS_OK) fail_msg("get request: %s", natsStatus_GetText(st));
    Mediation__V1__ConfigGetReply *r = mediation__v1__config_get_reply__unpack(
        NULL, (size_t)natsMsg_GetDataLength(rep), (const uint8_t *)natsMsg_GetData(rep));
    assert_non_null(r);
    if (r->http_status != 200)
        fail_msg("GET answered %d %s", r->http_status, r->error ? r->error->code : "");
    snprintf(etag, cap, "%s", r->etag);
    mediation__v1__config_get_reply__free_unpacked(r, NULL);
    natsMsg_Destroy(rep);
}

/* GET until the tag differs from not (the cache is evicted by the
 * ConfigChanged, which arrives asynchronously). */
static void get_etag_changed(world *w, const char *tenant, const char *app, const char *not,
                             char *etag, size_t cap)
{
    for (int i = 0; i < 40; i++) {
        get_etag(w, tenant, app, etag, cap);
        if (strcmp(etag, not) != 0) return;
        th_sleep_ms(100);
    }
}

static void publish_prod_global(world *w, const char *tenant)
{
    char ver[32], body[8192], base[3][64] = {"NA", "NA", "NA"};
    rnd(ver, "g");
    PGresult *q = PQexec(w->pg, "SELECT schema_version, routing_strategy_version, "
        "placement_config_version FROM config_snapshots WHERE tenant_id = '_platform' AND "
        "release_unit = 'prod|global|prod' AND is_live");
    assert_int_equal(PQresultStatus(q), PGRES_TUPLES_OK);
    for (int i = 0; PQntuples(q) == 1 && i < 3; i++)
        snprintf(base[i], sizeof base[i], "%s", PQgetvalue(q, 0, i));
    PQclear(q);
    snprintf(body, sizeof body,
        "{\"requestId\":\"req-pg-%s\",\"operatorId\":\"alice\",\"environment\":\"prod\","
        "\"actionType\":\"publish\",\"targetScope\":\"global\",\"targetKey\":\"prod\","
        "\"changeSetId\":\"cs-%s\",\"publishAt\":\"2026-11-23T10:00:00.000Z\","
        "\"publishContractVersion\":\"h_publish_v1\","
        "\"baseVersionSnapshot\":{\"schemaVersion\":\"%s\",\"routingStrategyVersion\":\"%s\","
        "\"placementConfigVersion\":\"%s\"},\"targetVersionSnapshot\":{\"schemaVersion\":\"1.0.0\","
        "\"routingStrategyVersion\":\"%s\",\"placementConfigVersion\":\"gpc-%s\"},"
        "\"changeSet\":{\"documents\":["
        "{\"kind\":\"policy\",\"version\":\"%s\",\"body\":{\"policyPackVersion\":\"p1\","
        "\"policyRuleVersion\":\"r1\",\"failureMode\":\"fail_closed\"}},"
        "{\"kind\":\"route_policy\",\"version\":\"%s\",\"body\":{\"routingPolicyVersion\":\"%s\","
        "\"sources\":[]}},"
        "{\"kind\":\"template_whitelist\",\"version\":\"%s\",\"body\":{\"native\":{}}},"
        "{\"kind\":\"black_white_list\",\"version\":\"%s\",\"body\":{\"sourceSelectionMode\":"
        "\"all_except_blocked\"}}],"
        "\"layer\":{\"policyThresholdsRef\":\"policy:%s\",\"routePolicyRef\":\"route_policy:%s\","
        "\"templateWhitelistRef\":\"template_whitelist:%s\",\"blackWhiteListRef\":"
        "\"black_white_list:%s\",\"sdkMinVersion\":\"1.0.0\",\"adapterMinVersionMap\":"
        "{\"cj\":\"2.1.0\"},\"missingMinVersionPolicy\":\"reject\",\"ttlSec\":300}}}",
        ver, ver, base[0], base[1], base[2], ver, ver, ver, ver, ver, ver, ver, ver, ver, ver,
        ver);
    reply r;
    call_publish(w->nc, admin_of(tenant), body, &r);
    assert_int_equal(r.status, 200);
}

static void prod_placement_body(char *out, size_t cap, const char *app, const char *cs,
                                const char *base_pc, const char *pc, int ttl)
{
    snprintf(out, cap,
        "{\"requestId\":\"req-%s\",\"operatorId\":\"alice\",\"environment\":\"prod\","
        "\"actionType\":\"publish\",\"targetScope\":\"placement\",\"targetKey\":\"%s|plc_feed|prod\","
        "\"changeSetId\":\"%s\",\"publishAt\":\"2026-11-23T10:00:00.000Z\","
        "\"publishContractVersion\":\"h_publish_v1\","
        "\"baseVersionSnapshot\":{\"schemaVersion\":\"%s\",\"routingStrategyVersion\":\"%s\","
        "\"placementConfigVersion\":\"%s\"},\"targetVersionSnapshot\":{\"schemaVersion\":\"1.0.0\","
        "\"routingStrategyVersion\":\"rs-p\",\"placementConfigVersion\":\"%s\"},"
        "\"changeSet\":{\"layer\":{\"ttlSec\":%d}}}",
        cs, app, cs, strcmp(base_pc, "NA") ? "1.0.0" : "NA", strcmp(base_pc, "NA") ? "rs-p" : "NA",
        base_pc, pc, ttl);
}

static void get_follows_publish_and_rollback(void **state)
{
    world *w = *state;
    char tenant[32], app[32], body[4096], e0[80], e1[80], e2[80], e3[80];
    rnd(tenant, "t_");
    rnd(app, "app_");
    publish_prod_global(w, tenant);
    reply r1, r2, rb;
    prod_placement_body(body, sizeof body, app, "cs-g1", "NA", "pc-1", 120);
    call_publish(w->nc, admin_of(tenant), body, &r1);
    assert_int_equal(r1.status, 200);
    get_etag(w, tenant, app, e1, sizeof e1);
    assert_true(strlen(e1) > 0);
    snprintf(e0, sizeof e0, "%s", e1);
    prod_placement_body(body, sizeof body, app, "cs-g2", "pc-1", "pc-2", 60);
    call_publish(w->nc, admin_of(tenant), body, &r2);
    assert_int_equal(r2.status, 200);
    get_etag_changed(w, tenant, app, e1, e2, sizeof e2);
    assert_string_not_equal(e2, e1);   /* case 7: GET shows the new etag */
    snprintf(body, sizeof body,
        "{\"requestId\":\"req-g-rb\",\"operatorId\":\"alice\",\"environment\":\"prod\","
        "\"actionType\":\"rollback\",\"targetScope\":\"placement\",\"targetKey\":\"%s|plc_feed|prod\","
        "\"changeSetId\":\"cs-g-rb\",\"publishAt\":\"2026-11-23T10:00:00.000Z\","
        "\"publishContractVersion\":\"h_publish_v1\","
        "\"baseVersionSnapshot\":{\"schemaVersion\":\"1.0.0\",\"routingStrategyVersion\":\"rs-p\","
        "\"placementConfigVersion\":\"pc-2\"},\"rollbackToVersionSnapshot\":{\"schemaVersion\":"
        "\"1.0.0\",\"routingStrategyVersion\":\"rs-p\",\"placementConfigVersion\":\"pc-1\"}}", app);
    call_publish(w->nc, admin_of(tenant), body, &rb);
    assert_int_equal(rb.status, 200);
    get_etag_changed(w, tenant, app, e2, e3, sizeof e3);
    assert_string_equal(e3, e0);       /* case 11: GET serves the prior etag */
}

/* ---- step 10: dry run, then the real publish ---- */

static void dry_run_stops_at_validated(void **state)
{
    world *w = *state;
    char tenant[32], app[32], body[4096];
    rnd(tenant, "t_");
    rnd(app, "app_");
    reply d, p;
    publish_body(body, sizeof body, app, "cs-dry", "NA", "NA", "rs-1", "pc-1", "\"dryRun\":true,");
    call_publish(w->nc, admin_of(tenant), body, &d);
    assert_int_equal(d.status, 200);
    assert_string_equal(d.state, "validated");
    assert_string_equal(d.code, "h_publish_dry_run_validated");
    assert_int_equal(sql_count(w->pg, "SELECT count(*) FROM config_snapshots WHERE tenant_id = $1",
                     1, (const char *const[]){tenant}), 0);
    publish_body(body, sizeof body, app, "cs-dry", "NA", "NA", "rs-1", "pc-1", "");
    call_publish(w->nc, admin_of(tenant), body, &p);
    assert_int_equal(p.status, 200);
    assert_string_equal(p.state, "published");
    assert_string_not_equal(p.op_id, d.op_id);
}

/* ---- rollback at app granularity ---- */

static void app_body(char *out, size_t cap, const char *app, const char *action,
                     const char *cs, const char *base_pc, const char *pc, int ttl)
{
    int rb = strcmp(action, "rollback") == 0;
    char cs_part[128] = "";
    if (!rb) snprintf(cs_part, sizeof cs_part, ",\"changeSet\":{\"layer\":{\"ttlSec\":%d}}", ttl);
    snprintf(out, cap,
        "{\"requestId\":\"req-%s\",\"operatorId\":\"alice\",\"environment\":\"staging\","
        "\"actionType\":\"%s\",\"targetScope\":\"app\",\"targetKey\":\"%s|staging\","
        "\"changeSetId\":\"%s\",\"publishAt\":\"2026-11-23T10:00:00.000Z\","
        "\"publishContractVersion\":\"h_publish_v1\","
        "\"baseVersionSnapshot\":{\"schemaVersion\":\"%s\",\"routingStrategyVersion\":\"%s\","
        "\"placementConfigVersion\":\"%s\"},\"%s\":{\"schemaVersion\":\"1.0.0\","
        "\"routingStrategyVersion\":\"rs-a\",\"placementConfigVersion\":\"%s\"}%s}",
        cs, action, app, cs, strcmp(base_pc, "NA") ? "1.0.0" : "NA",
        strcmp(base_pc, "NA") ? "rs-a" : "NA", base_pc,
        rb ? "rollbackToVersionSnapshot" : "targetVersionSnapshot", pc, cs_part);
}

static void app_scope_rollback_restores_the_layer(void **state)
{
    world *w = *state;
    char tenant[32], app[32], body[4096], ttl[16];
    rnd(tenant, "t_");
    rnd(app, "app_");
    caller app_op = {tenant, "alice", "app_operator", "publisher"};
    reply r;
    app_body(body, sizeof body, app, "publish", "cs-a1", "NA", "ac-1", 180);
    call_publish(w->nc, &app_op, body, &r);
    assert_int_equal(r.status, 200);
    app_body(body, sizeof body, app, "publish", "cs-a2", "ac-1", "ac-2", 90);
    call_publish(w->nc, &app_op, body, &r);
    assert_int_equal(r.status, 200);
    app_body(body, sizeof body, app, "rollback", "cs-a-rb", "ac-2", "ac-1", 0);
    call_publish(w->nc, &app_op, body, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.state, "rolled_back");
    sql1(w->pg, ttl, sizeof ttl, "SELECT layer->>'ttlSec' FROM config_snapshots WHERE "
         "tenant_id = $1 AND is_live AND target_scope = 'app'", 1, (const char *const[]){tenant});
    assert_string_equal(ttl, "180");
    assert_int_equal(sql_count(w->pg, "SELECT count(*) FROM audit_records WHERE tenant_id = $1 "
                     "AND audit_kind = 'rollback'", 1, (const char *const[]){tenant}), 1);
}

int main(void)
{
    srand((unsigned)th_now_ms());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_placement_publish_is_published_once),
        cmocka_unit_test(same_key_reuses_the_operation),
        cmocka_unit_test(concurrent_publishes_serialize),
        cmocka_unit_test(denials_are_403_and_audited),
        cmocka_unit_test(rollback_restores_the_previous_layer),
        cmocka_unit_test(pending_outbox_is_published_at_start),
        cmocka_unit_test(lost_commit_is_compensated_and_resend_keeps_the_id),
        cmocka_unit_test(global_layer_is_platform_and_its_documents_resolve),
        cmocka_unit_test(get_follows_publish_and_rollback),
        cmocka_unit_test(dry_run_stops_at_validated),
        cmocka_unit_test(app_scope_rollback_restores_the_layer),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
