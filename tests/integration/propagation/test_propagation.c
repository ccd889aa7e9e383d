/* Config propagation end to end: med-h-config and stages A..E run as
 * processes against the real servers. A publish through med.h.publish.v1
 * emits ConfigChanged on MED_CONFIG; every stage must switch to it (its
 * med_config_generation reaches the stream's last sequence; the time is
 * printed), a restarted stage must report ready only once it holds the
 * current generation, the hot cache in Redis must carry the summary, and
 * switching must go on while Redis is down. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <cmocka.h>
#include <nats/nats.h>

#include "harness.h"
#include "med/cfgsnap.h"
#include "med/names.h"
#include "med/redis.h"
#include "mediation/v1/config.pb-c.h"

enum { P_H, P_A, P_B, P_C, P_D, P_E, P_COUNT };

static const struct { const char *name, *dir, *exe, *stage; } k_services[P_COUNT] = {
    { "h_config", "h_config", "med-h-config", "h" },
    { "a_ingress", "a_ingress", "med-a-ingress", "a" },
    { "b_normalize", "b_normalize", "med-b-normalize", "b" },
    { "c_policy", "c_policy", "med-c-policy", "c" },
    { "d_supply", "d_supply", "med-d-supply", "d" },
    { "e_delivery", "e_delivery", "med-e-delivery", "e" },
};

typedef struct world {
    th_proc procs[P_COUNT];
    natsConnection *nc;
    jsCtx *js;
    char tenant[32];
} world;

/* ---- plumbing ---- */

static void proc_configure(world *w, int i)
{
    th_proc_init_ci(&w->procs[i], k_services[i].name, k_services[i].dir, k_services[i].exe,
                    "ADMIN_HTTP_PORT", "100");
}

static void start_and_wait(th_proc *p)
{
    th_proc_start_ready(p);
}

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    srand((unsigned)th_now_ms());
    snprintf(w->tenant, sizeof w->tenant, "t_prop%08x", (unsigned)rand());
    for (int i = 0; i < P_COUNT; i++) proc_configure(w, i);
    for (int i = 0; i < P_COUNT; i++) start_and_wait(&w->procs[i]);
    assert_int_equal(natsConnection_ConnectTo(&w->nc, th_env("NATS_URL")), NATS_OK);
    assert_int_equal(natsConnection_JetStream(&w->js, w->nc, NULL), NATS_OK);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    for (int i = P_COUNT - 1; i >= 0; i--) {
        th_proc_stop(&w->procs[i], SIGTERM, 10000);
        th_proc_free(&w->procs[i]);
    }
    jsCtx_Destroy(w->js);
    natsConnection_Destroy(w->nc);
    free(w);
    return 0;
}

static uint64_t config_last_seq(world *w)
{
    return th_stream_last_seq(w->js, MED_STREAM_CONFIG);
}

/* ---- publishing (the request the edge would send; see config tests) ---- */

static void publish_placement(world *w, const char *app, const char *cs)
{
    char body[4096];
    snprintf(body, sizeof body,
        "{\"requestId\":\"req-%s\",\"operatorId\":\"alice\",\"environment\":\"staging\","
        "\"actionType\":\"publish\",\"targetScope\":\"placement\",\"targetKey\":\"%s|plc_feed|staging\","
        "\"changeSetId\":\"%s\",\"publishAt\":\"2026-11-23T10:00:00.000Z\","
        "\"publishContractVersion\":\"h_publish_v1\","
        "\"baseVersionSnapshot\":{\"schemaVersion\":\"NA\",\"routingStrategyVersion\":\"NA\","
        "\"placementConfigVersion\":\"NA\"},"
        "\"targetVersionSnapshot\":{\"schemaVersion\":\"1.0.0\",\"routingStrategyVersion\":\"rs-1\","
        "\"placementConfigVersion\":\"pc-1\"},"
        "\"changeSet\":{\"documents\":[{\"kind\":\"route_policy\",\"version\":\"rs-1\",\"body\":"
        "{\"routingPolicyVersion\":\"rs-1\",\"sources\":[]}}],"
        "\"layer\":{\"routePolicyRef\":\"route_policy:rs-1\",\"ttlSec\":120}}}",
        cs, app, cs);
    Mediation__V1__ConfigPublishReply *r =
        th_config_publish(w->nc, w->tenant, "alice", "config_admin", "admin", body);
    if (r->http_status != 200) fail_msg("publish %s: %d %s", cs, r->http_status, r->body_json);
    assert_string_equal(r->publish_state, "published");
    mediation__v1__config_publish_reply__free_unpacked(r, NULL);
}

/* Publishes on a fresh unit and waits until its ConfigChanged is in the
 * stream; returns the stream's last sequence then. */
static uint64_t publish_fresh(world *w)
{
    char app[32], cs[40];
    snprintf(app, sizeof app, "app_%08x", (unsigned)rand());
    snprintf(cs, sizeof cs, "cs-%s", app);
    uint64_t before = config_last_seq(w);
    publish_placement(w, app, cs);
    long long end = th_now_ms() + 5000;
    uint64_t last = before;
    while ((last = config_last_seq(w)) == before && th_now_ms() < end) th_sleep_ms(20);
    assert_true(last > before);
    return last;
}

/* ---- stage metrics ---- */

/* med_config_generation{stage="<x>"} from the stage's /metrics, or -1. */
static long long stage_generation(const th_proc *p, const char *stage)
{
    char url[128], pat[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", p->admin_port);
    snprintf(pat, sizeof pat, "med_config_generation{stage=\"%s\"} ", stage);
    th_http_resp r;
    if (th_http("GET", url, NULL, NULL, 0, 1000, &r) != 0) return -1;
    long long v = -1;
    const char *at = r.status == 200 && r.body ? strstr(r.body, pat) : NULL;
    if (at) v = (long long)strtod(at + strlen(pat), NULL);
    th_http_free(&r);
    return v;
}

/* Waits until every stage A..E reached gen; prints each one's time. */
static void await_all_switched(world *w, uint64_t gen, long long t0, const char *what)
{
    long long at[P_COUNT] = {0};
    int left = P_E - P_A + 1;
    long long end = t0 + 15000;
    while (left > 0 && th_now_ms() < end) {
        for (int i = P_A; i <= P_E; i++) {
            if (at[i]) continue;
            if (stage_generation(&w->procs[i], k_services[i].stage) == (long long)gen) {
                at[i] = th_now_ms() - t0;
                if (at[i] == 0) at[i] = 1;
                left--;
            }
        }
        if (left) th_sleep_ms(5);
    }
    for (int i = P_A; i <= P_E; i++) {
        if (!at[i]) fail_msg("%s: stage %s did not reach generation %" PRIu64, what,
                             k_services[i].stage, gen);
        printf("propagation %s: stage %s at generation %" PRIu64 " after <= %lld ms\n", what,
               k_services[i].stage, gen, at[i]);
    }
}

/* ---- tests ---- */

static void every_stage_switches_after_a_publish(void **state)
{
    world *w = *state;
    long long t0 = th_now_ms();
    uint64_t gen = publish_fresh(w);
    long long published = th_now_ms() - t0;
    printf("propagation: publish acknowledged and in MED_CONFIG after %lld ms\n", published);
    await_all_switched(w, gen, t0, "publish");
}

/* The hot cache holds the newest summary once a stage switched. */
static void hot_cache_holds_the_summary(void **state)
{
    world *w = *state;
    uint64_t gen = publish_fresh(w);
    await_all_switched(w, gen, th_now_ms(), "cache");
    med_redis *r = NULL;
    med_err e;
    assert_int_equal(med_redis_connect(th_env("REDIS_HOST"), atoi(th_env("REDIS_PORT")), 1000,
                                       &r, &e), MED_OK);
    uint64_t cached = 0;
    long long end = th_now_ms() + 5000;
    while (cached != gen && th_now_ms() < end) {
        uint8_t *buf = NULL;
        size_t len = 0;
        if (med_redis_get(r, "med:ci:cfg:snapshot", &buf, &len, &e) == MED_OK)
            assert_int_equal(med_cfgsnap_summary_generation(buf, len, &cached, &e), MED_OK);
        free(buf);
        if (cached != gen) th_sleep_ms(20);
    }
    med_redis_close(r);
    assert_int_equal(cached, gen);
}

/* C restarts after more publishes: /readyz stays 503 ("starting" or naming
 * config_snapshot) until it applied the current generation. */
static void restarted_stage_is_ready_only_at_the_current_generation(void **state)
{
    world *w = *state;
    th_proc *c = &w->procs[P_C];
    assert_int_equal(th_proc_stop(c, SIGTERM, 10000) >= 0, 1);
    uint64_t gen = 0;
    for (int i = 0; i < 5; i++) gen = publish_fresh(w);
    assert_int_equal(th_proc_start(c), 0);
    long long t0 = th_now_ms(), end = t0 + 20000;
    int not_ready_seen = 0;
    char body[512];
    long st = -1;
    while (th_now_ms() < end) {
        st = th_readyz(c->admin_port, body, sizeof body);
        if (st == 200) break;
        if (st == 503) {
            not_ready_seen++;
            if (!strstr(body, "starting") && !strstr(body, "config_snapshot"))
                fail_msg("unexpected 503 body while starting: %s", body);
        }
        th_sleep_ms(2);
    }
    assert_int_equal(st, 200);
    long long ready_ms = th_now_ms() - t0;
    /* the first 200 already implies the current generation */
    assert_int_equal(stage_generation(c, "c"), (long long)gen);
    printf("propagation restart: stage c ready after %lld ms at generation %" PRIu64
           " (%d not-ready answers before)\n", ready_ms, gen, not_ready_seen);
}

/* Redis is a cache: with it down, stages still switch. */
static void switching_goes_on_while_redis_is_down(void **state)
{
    world *w = *state;
    assert_int_equal(th_infra("stop-one", "redis"), 0);
    long long t0 = th_now_ms();
    uint64_t gen = publish_fresh(w);
    await_all_switched(w, gen, t0, "redis-down");
    assert_int_equal(th_infra("start-one", "redis"), 0);
    for (int i = P_A; i <= P_E; i++) /* readiness also probes redis */
        assert_int_equal(th_await_readyz(w->procs[i].admin_port, 200, NULL, 0, 15000), 200);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_stage_switches_after_a_publish),
        cmocka_unit_test(hot_cache_holds_the_summary),
        cmocka_unit_test(restarted_stage_is_ready_only_at_the_current_generation),
        cmocka_unit_test(switching_goes_on_while_redis_is_down),
    };
    return cmocka_run_group_tests_name("propagation", tests, setup, teardown);
}
