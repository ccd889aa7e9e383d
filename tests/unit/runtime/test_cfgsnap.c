/* Config snapshot holder (med/cfgsnap.h): atomic switch under concurrent
 * readers (no torn snapshot, no use-after-free under ASan), in-order
 * application, duplicates and older generations ignored, hot-cache
 * summary, and a cache writer that never blocks when Redis is down. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "med/cfgsnap.h"
#include "mediation/v1/config.pb-c.h"

#define SWAPS 10000
#define READERS 4

/* Every field of change i says i, so a reader can tell a torn snapshot. */
typedef struct change_buf {
    char op[32], unit[64], schema[32], routing[32], placement[32];
    med_cfgsnap_change ch;
} change_buf;

static void make_change(change_buf *b, uint64_t seq, const char *unit, const char *env)
{
    snprintf(b->op, sizeof b->op, "op%" PRIu64, seq);
    snprintf(b->unit, sizeof b->unit, "%s", unit);
    snprintf(b->schema, sizeof b->schema, "1.0.%" PRIu64, seq);
    snprintf(b->routing, sizeof b->routing, "r%" PRIu64, seq);
    snprintf(b->placement, sizeof b->placement, "p%" PRIu64, seq);
    b->ch = (med_cfgsnap_change){
        .seq = seq, .publish_operation_id = b->op, .environment = env,
        .release_unit = b->unit, .action_type = "publish", .schema_version = b->schema,
        .routing_strategy_version = b->routing, .placement_config_version = b->placement,
        .committed_at_unix_ms = (int64_t)seq,
    };
}

static int apply_one(med_cfgsnap *c, uint64_t seq, const char *unit, const char *env)
{
    change_buf b;
    make_change(&b, seq, unit, env);
    int applied = -1;
    med_err e;
    assert_int_equal(med_cfgsnap_apply(c, &b.ch, &applied, &e), MED_OK);
    return applied;
}

/* A unit's fields all name the same change, and that change is the unit's. */
static int unit_consistent(const med_cfgsnap_unit *u)
{
    char want[32];
    snprintf(want, sizeof want, "op%" PRIu64, u->generation);
    if (strcmp(u->publish_operation_id, want) != 0) return 0;
    snprintf(want, sizeof want, "1.0.%" PRIu64, u->generation);
    if (strcmp(u->schema_version, want) != 0) return 0;
    snprintf(want, sizeof want, "r%" PRIu64, u->generation);
    if (strcmp(u->routing_strategy_version, want) != 0) return 0;
    snprintf(want, sizeof want, "p%" PRIu64, u->generation);
    return strcmp(u->placement_config_version, want) == 0;
}

/* ---- concurrent readers ---- */

typedef struct reader_ctx {
    med_cfgsnap *c;
    atomic_int *done;
    long reads, torn, backwards;
} reader_ctx;

static int snapshot_consistent(const med_cfgsnap_snapshot *s)
{
    if (s->generation == 0) return s->n_units == 0;
    char want[32];
    snprintf(want, sizeof want, "op%" PRIu64, s->generation);
    if (strcmp(s->publish_operation_id, want) != 0) return 0;
    uint64_t newest = 0;
    for (size_t i = 0; i < s->n_units; i++) {
        if (!unit_consistent(&s->units[i])) return 0;
        if (i && strcmp(s->units[i - 1].release_unit, s->units[i].release_unit) >= 0) return 0;
        if (s->units[i].generation > newest) newest = s->units[i].generation;
    }
    return newest == s->generation;
}

static void *reader(void *arg)
{
    reader_ctx *r = arg;
    uint64_t last = 0;
    while (!atomic_load(r->done)) {
        const med_cfgsnap_snapshot *s = med_cfgsnap_acquire(r->c);
        /* hold it across a few switches: the writer must not free it */
        for (int k = 0; k < 3; k++)
            if (!snapshot_consistent(s)) r->torn++;
        if (s->generation < last) r->backwards++;
        last = s->generation;
        med_cfgsnap_release(s);
        r->reads++;
    }
    return NULL;
}

static void swap_under_concurrent_readers(void **state)
{
    (void)state;
    med_cfgsnap *c = med_cfgsnap_new();
    assert_non_null(c);
    atomic_int done;
    atomic_init(&done, 0);
    reader_ctx ctx[READERS];
    pthread_t th[READERS];
    for (int i = 0; i < READERS; i++) {
        ctx[i] = (reader_ctx){ .c = c, .done = &done };
        assert_int_equal(pthread_create(&th[i], NULL, reader, &ctx[i]), 0);
    }
    static const char *const units[] = {
        "staging|placement|app_b|plc_feed|staging", "staging|app|app_a|staging",
        "prod|global|prod", "staging|global|staging",
    };
    for (uint64_t seq = 1; seq <= SWAPS; seq++)
        assert_int_equal(apply_one(c, seq, units[seq % 4], seq % 4 == 2 ? "prod" : "staging"), 1);
    atomic_store(&done, 1);
    long reads = 0;
    for (int i = 0; i < READERS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(ctx[i].torn, 0);
        assert_int_equal(ctx[i].backwards, 0);
        reads += ctx[i].reads;
    }
    assert_true(reads > 0);
    assert_int_equal(med_cfgsnap_generation(c), SWAPS);
    assert_int_equal(med_cfgsnap_switches(c), SWAPS);
    const med_cfgsnap_snapshot *s = med_cfgsnap_acquire(c);
    assert_int_equal(s->n_units, 4);
    assert_int_equal(s->n_envs, 2);
    assert_string_equal(s->envs[0].environment, "prod");
    assert_int_equal(s->envs[0].generation, SWAPS - 2); /* 9998 % 4 == 2 */
    assert_string_equal(s->envs[1].environment, "staging");
    assert_int_equal(s->envs[1].generation, SWAPS);
    med_cfgsnap_release(s);
    med_cfgsnap_free(c);
}

/* ---- ordering ---- */

typedef struct seen {
    uint64_t gens[8];
    int n;
} seen;

static void record(void *ud, const med_cfgsnap_snapshot *now)
{
    seen *s = ud;
    if (s->n < 8) s->gens[s->n++] = now->generation;
}

static void applies_in_order_and_ignores_duplicates(void **state)
{
    (void)state;
    med_cfgsnap *c = med_cfgsnap_new();
    assert_non_null(c);
    seen sn = {0};
    med_cfgsnap_on_change(c, record, &sn);
    const char *u = "staging|placement|app_a|plc_feed|staging";
    assert_int_equal(apply_one(c, 3, u, "staging"), 1);
    const med_cfgsnap_snapshot *held = med_cfgsnap_acquire(c); /* a request in flight */
    assert_int_equal(apply_one(c, 5, u, "staging"), 1);
    assert_int_equal(apply_one(c, 5, u, "staging"), 0); /* duplicate */
    assert_int_equal(apply_one(c, 4, u, "staging"), 0); /* older */
    assert_int_equal(apply_one(c, 7, "staging|global|staging", "staging"), 1);
    /* the request's view did not move */
    assert_int_equal(held->generation, 3);
    assert_string_equal(med_cfgsnap_find_unit(held, u)->routing_strategy_version, "r3");
    assert_null(med_cfgsnap_find_unit(held, "staging|global|staging"));
    med_cfgsnap_release(held);
    assert_int_equal(sn.n, 3);
    assert_int_equal(sn.gens[0], 3);
    assert_int_equal(sn.gens[1], 5);
    assert_int_equal(sn.gens[2], 7);
    const med_cfgsnap_snapshot *s = med_cfgsnap_acquire(c);
    assert_int_equal(s->generation, 7);
    assert_string_equal(s->publish_operation_id, "op7");
    assert_string_equal(med_cfgsnap_find_unit(s, u)->placement_config_version, "p5");
    assert_string_equal(s->units[0].release_unit, "staging|global|staging"); /* sorted */
    med_cfgsnap_release(s);
    assert_int_equal(med_cfgsnap_switches(c), 3);
    med_cfgsnap_free(c);
}

/* A late outbox row (older committedAt) advances the generation but does
 * not roll the unit back. */
static void late_change_does_not_roll_a_unit_back(void **state)
{
    (void)state;
    med_cfgsnap *c = med_cfgsnap_new();
    assert_non_null(c);
    const char *u = "prod|app|app_a|prod";
    change_buf b;
    make_change(&b, 10, u, "prod");
    b.ch.committed_at_unix_ms = 2000;
    int applied = 0;
    med_err e;
    assert_int_equal(med_cfgsnap_apply(c, &b.ch, &applied, &e), MED_OK);
    make_change(&b, 11, u, "prod");
    b.ch.committed_at_unix_ms = 1000;
    assert_int_equal(med_cfgsnap_apply(c, &b.ch, &applied, &e), MED_OK);
    assert_int_equal(applied, 1);
    const med_cfgsnap_snapshot *s = med_cfgsnap_acquire(c);
    assert_int_equal(s->generation, 11);
    assert_string_equal(med_cfgsnap_find_unit(s, u)->publish_operation_id, "op10");
    med_cfgsnap_release(s);
    med_cfgsnap_free(c);
}

static void rejects_bad_changes(void **state)
{
    (void)state;
    med_cfgsnap *c = med_cfgsnap_new();
    assert_non_null(c);
    int applied = 1;
    med_err e;
    const uint8_t junk[] = {0xff, 0xff, 0xff};
    assert_int_equal(med_cfgsnap_apply_pb(c, 1, junk, sizeof junk, &applied, &e), MED_ERR_INVALID);
    assert_int_equal(applied, 0);
    med_cfgsnap_change ch = { .seq = 1, .environment = "prod" }; /* no unit */
    assert_int_equal(med_cfgsnap_apply(c, &ch, &applied, &e), MED_ERR_INVALID);
    assert_int_equal(med_cfgsnap_generation(c), 0);
    med_cfgsnap_free(c);
}

static void applies_a_config_changed_protobuf(void **state)
{
    (void)state;
    Mediation__V1__ConfigChanged m = MEDIATION__V1__CONFIG_CHANGED__INIT;
    Mediation__V1__ConfigLineVersionsLite v = MEDIATION__V1__CONFIG_LINE_VERSIONS_LITE__INIT;
    v.schema_version = "1.0.0";
    v.routing_strategy_version = "rs-2";
    v.placement_config_version = "pc-2";
    m.publish_operation_id = "pubop_1";
    m.environment = "staging";
    m.release_unit = "staging|placement|app_a|plc_feed|staging";
    m.action_type = "rollback";
    m.new_versions = &v;
    m.committed_at_unix_ms = 5;
    uint8_t buf[512];
    size_t len = mediation__v1__config_changed__pack(&m, buf);
    med_cfgsnap *c = med_cfgsnap_new();
    assert_non_null(c);
    int applied = 0;
    med_err e;
    assert_int_equal(med_cfgsnap_apply_pb(c, 42, buf, len, &applied, &e), MED_OK);
    assert_int_equal(applied, 1);
    const med_cfgsnap_snapshot *s = med_cfgsnap_acquire(c);
    const med_cfgsnap_unit *u = med_cfgsnap_find_unit(s, m.release_unit);
    assert_non_null(u);
    assert_string_equal(u->routing_strategy_version, "rs-2");
    assert_string_equal(u->action_type, "rollback");
    assert_int_equal(u->generation, 42);
    uint8_t *sum = NULL;
    size_t slen = 0;
    uint64_t gen = 0;
    assert_int_equal(med_cfgsnap_summary_encode(s, "c-1", &sum, &slen, &e), MED_OK);
    assert_int_equal(med_cfgsnap_summary_generation(sum, slen, &gen, &e), MED_OK);
    assert_int_equal(gen, 42);
    free(sum);
    med_cfgsnap_release(s);
    med_cfgsnap_free(c);
}

/* Redis down: offers return at once, stop joins, nothing leaks. */
static void cache_never_blocks_when_redis_is_down(void **state)
{
    (void)state;
    med_cfgsnap *c = med_cfgsnap_new();
    assert_non_null(c);
    med_cfgsnap_cache *k = med_cfgsnap_cache_start("127.0.0.1", 1, "med:test:cfg:snapshot", "t");
    assert_non_null(k);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (uint64_t seq = 1; seq <= 200; seq++) {
        apply_one(c, seq, "staging|global|staging", "staging");
        const med_cfgsnap_snapshot *s = med_cfgsnap_acquire(c);
        med_cfgsnap_cache_offer(k, s);
        med_cfgsnap_release(s);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    assert_true(ms < 1000.0);
    assert_int_equal(med_cfgsnap_cache_writes(k), 0);
    assert_int_equal(med_cfgsnap_cache_boot_generation(k), -1);
    med_cfgsnap_cache_stop(k);
    med_cfgsnap_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(swap_under_concurrent_readers),
        cmocka_unit_test(applies_in_order_and_ignores_duplicates),
        cmocka_unit_test(late_change_does_not_roll_a_unit_back),
        cmocka_unit_test(rejects_bad_changes),
        cmocka_unit_test(applies_a_config_changed_protobuf),
        cmocka_unit_test(cache_never_blocks_when_redis_is_down),
    };
    return cmocka_run_group_tests_name("cfgsnap", tests, NULL, NULL);
}
