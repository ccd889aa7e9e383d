/* D.2 circuit breakers shared through Redis (services/d_supply/
 * d_breaker_store.c) by several D "replicas": each replica is a store of
 * its own (own connection, own probe owner) and its own d_breakers view,
 * exactly as in med-d-supply. The clock is passed in, so the open period
 * elapses without sleeping; Redis is the harness's real server. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "d_breaker.h"
#include "d_breaker_store.h"
#include "harness.h"
#include "med/ids.h"
#include "med/mpack.h"
#include "med/redis.h"

#define OPEN_MS 500
#define ENV "ci"

typedef struct replica {
    d_breaker_store *store;
    d_breakers *b;                /* heap: the table is large */
} replica;

static void replica_init(replica *r, const char *name)
{
    r->store = d_breaker_store_new(th_env("REDIS_HOST"), atoi(th_env("REDIS_PORT")), 200, ENV, name,
                                   OPEN_MS);
    assert_non_null(r->store);
    r->b = calloc(1, sizeof *r->b);
    assert_non_null(r->b);
    r->b->open_ms = OPEN_MS;
    r->b->port = d_breaker_store_port(r->store);
}

static void replica_free(replica *r)
{
    d_breaker_store_free(r->store);
    free(r->b);
}

/* The batch read of one circuit. */
static void sync1(replica *r, const char *key, int64_t now)
{
    const char *keys[1] = { key };
    d_breaker_store_sync(r->store, r->b, keys, 1, now);
}

/* A circuit key no earlier run or test shares. */
static void fresh_key(const char *tag, char *key, size_t cap)
{
    char tenant[64];
    snprintf(tenant, sizeof tenant, "tn_%s_%lld", tag, (long long)med_now_unix_ms());
    assert_int_equal(d_breaker_key(tenant, "net_a", key, cap), 0);
}

/* The stored state of a circuit: 1 and its fields, 0 when absent. */
static int stored(const char *key, int64_t *failures, int64_t *open_until)
{
    char rkey[256];
    assert_int_equal(d_breaker_store_key(ENV, key, rkey, sizeof rkey), 0);
    med_redis *rd = th_redis_connect();
    uint8_t *v = NULL;
    size_t n = 0;
    med_err e;
    med_rc rc = med_redis_get(rd, rkey, &v, &n, &e);
    med_redis_close(rd);
    if (rc == MED_ERR_NOT_FOUND) return 0;
    assert_int_equal(rc, MED_OK);
    med_mmap *m = NULL;
    assert_int_equal(med_mmap_decode(v, n, &m, &e), MED_OK);   /* msgpack, as the spec says */
    free(v);
    const med_mval *f = med_mmap_get(m, "failures"), *u = med_mmap_get(m, "openUntilUnixMs");
    assert_non_null(f);
    assert_non_null(u);
    assert_int_equal(f->type, MED_MVAL_INT);
    *failures = f->u.i;
    *open_until = u->type == MED_MVAL_INT ? u->u.i : -1;
    med_mmap_free(m);
    return 1;
}

static void open_circuit(replica *r, const char *key, int64_t now)
{
    d_breaker_record(r->b, key, D_OUT_TIMEOUT, now);
    d_breaker_record(r->b, key, D_OUT_ERROR, now);
}

/* Two consecutive failures on replica 1 make replica 2 refuse the step
 * (after its batch read); the key and value have the documented shape. */
static void two_failures_on_one_replica_open_it_for_all(void **state)
{
    (void)state;
    replica r1, r2;
    replica_init(&r1, "d-1");
    replica_init(&r2, "d-2");
    char key[D_BREAKER_KEY_MAX];
    fresh_key("open", key, sizeof key);
    int64_t t0 = med_now_unix_ms();
    sync1(&r2, key, t0);
    assert_true(d_breaker_allow(r2.b, key, t0));
    d_breaker_record(r1.b, key, D_OUT_TIMEOUT, t0);
    int64_t f = 0, u = 0;
    assert_int_equal(stored(key, &f, &u), 1);
    assert_int_equal(f, 1);
    assert_int_equal(u, 0);
    sync1(&r2, key, t0 + 1);
    assert_true(d_breaker_allow(r2.b, key, t0 + 1));   /* one failure: closed */
    d_breaker_record(r1.b, key, D_OUT_ERROR, t0 + 2);
    assert_false(d_breaker_allow(r1.b, key, t0 + 3));  /* at once, locally */
    assert_int_equal(stored(key, &f, &u), 1);
    assert_int_equal(f, 2);
    assert_int_equal(u, t0 + 2 + OPEN_MS);
    sync1(&r2, key, t0 + 3);
    assert_false(d_breaker_allow(r2.b, key, t0 + 3));
    assert_false(d_breaker_closed(r2.b, key, t0 + 3));
    replica_free(&r1);
    replica_free(&r2);
}

/* A no_fill between two failures: not consecutive, the circuit stays
 * closed everywhere; the no_fill deleted the state. */
static void a_no_fill_is_not_a_failure(void **state)
{
    (void)state;
    replica r1, r2;
    replica_init(&r1, "d-1");
    replica_init(&r2, "d-2");
    char key[D_BREAKER_KEY_MAX];
    fresh_key("nofill", key, sizeof key);
    int64_t t0 = med_now_unix_ms(), f = 0, u = 0;
    d_breaker_record(r1.b, key, D_OUT_ERROR, t0);
    sync1(&r2, key, t0);
    d_breaker_record(r2.b, key, D_OUT_NO_FILL, t0 + 1);  /* the other replica's answer */
    assert_int_equal(stored(key, &f, &u), 0);
    sync1(&r1, key, t0 + 2);
    d_breaker_record(r1.b, key, D_OUT_TIMEOUT, t0 + 2);
    sync1(&r2, key, t0 + 3);
    assert_true(d_breaker_allow(r2.b, key, t0 + 3));
    assert_true(d_breaker_closed(r2.b, key, t0 + 3));
    assert_true(d_breaker_allow(r1.b, key, t0 + 3));
    assert_int_equal(stored(key, &f, &u), 1);
    assert_int_equal(f, 1);
    replica_free(&r1);
    replica_free(&r2);
}

/* After the open period exactly one replica gets the probe; a failed
 * probe reopens it; a successful one closes it for every replica. */
static void one_probe_then_close(void **state)
{
    (void)state;
    replica r1, r2;
    replica_init(&r1, "d-1");
    replica_init(&r2, "d-2");
    char key[D_BREAKER_KEY_MAX];
    fresh_key("probe", key, sizeof key);
    int64_t t0 = med_now_unix_ms(), f = 0, u = 0;
    open_circuit(&r1, key, t0);
    sync1(&r2, key, t0);
    int64_t t1 = t0 + OPEN_MS;
    assert_false(d_breaker_allow(r1.b, key, t1 - 1));
    assert_false(d_breaker_allow(r2.b, key, t1 - 1));
    int a2 = d_breaker_allow(r2.b, key, t1);
    int a1 = d_breaker_allow(r1.b, key, t1);
    assert_int_equal(a1 + a2, 1);
    assert_true(a2);
    assert_false(d_breaker_allow(r2.b, key, t1));   /* one probe, even on its holder */
    sync1(&r1, key, t1 + 1);
    assert_false(d_breaker_allow(r1.b, key, t1 + 1));
    /* the probe fails: open again for a whole period */
    d_breaker_record(r2.b, key, D_OUT_TIMEOUT, t1 + 5);
    assert_int_equal(stored(key, &f, &u), 1);
    assert_int_equal(u, t1 + 5 + OPEN_MS);
    sync1(&r1, key, t1 + 6);
    assert_false(d_breaker_allow(r1.b, key, t1 + 6));
    int64_t t2 = t1 + 5 + OPEN_MS;
    /* this time replica 1 asks first */
    assert_true(d_breaker_allow(r1.b, key, t2));
    assert_false(d_breaker_allow(r2.b, key, t2));
    d_breaker_record(r1.b, key, D_OUT_CANDIDATE, t2 + 10);
    assert_int_equal(stored(key, &f, &u), 0);
    assert_true(d_breaker_allow(r1.b, key, t2 + 11));
    sync1(&r2, key, t2 + 11);
    assert_true(d_breaker_allow(r2.b, key, t2 + 11));
    assert_true(d_breaker_closed(r2.b, key, t2 + 11));
    replica_free(&r1);
    replica_free(&r2);
}

/* Eight replicas ask for the probe at the same moment: one gets it. */
typedef struct racer {
    pthread_t th;
    replica r;
    const char *key;
    int64_t at;
    int allowed;
} racer;

static void *race(void *arg)
{
    racer *x = arg;
    x->allowed = d_breaker_allow(x->r.b, x->key, x->at);
    return NULL;
}

static void concurrent_claims_give_one_probe(void **state)
{
    (void)state;
    enum { N = 8 };
    racer x[N];
    char key[D_BREAKER_KEY_MAX];
    fresh_key("race", key, sizeof key);
    int64_t t0 = med_now_unix_ms();
    for (int i = 0; i < N; i++) {
        char name[16];
        snprintf(name, sizeof name, "d-%d", i);
        replica_init(&x[i].r, name);
        x[i].key = key;
        x[i].at = t0 + OPEN_MS;
    }
    open_circuit(&x[0].r, key, t0);
    for (int i = 0; i < N; i++) sync1(&x[i].r, key, t0 + 1);
    for (int i = 0; i < N; i++) assert_int_equal(pthread_create(&x[i].th, NULL, race, &x[i]), 0);
    int allowed = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(x[i].th, NULL);
        allowed += x[i].allowed;
    }
    assert_int_equal(allowed, 1);
    for (int i = 0; i < N; i++) replica_free(&x[i].r);
}

/* The Lua transitions are d_breaker.c's: one outcome sequence, the same
 * decisions from the process-local breaker and from Redis. */
static void redis_mirrors_the_local_breaker(void **state)
{
    (void)state;
    static const d_outcome_type seq[] = { D_OUT_ERROR, D_OUT_CANDIDATE, D_OUT_TIMEOUT, D_OUT_NO_FILL,
                                          D_OUT_ERROR, D_OUT_ERROR, D_OUT_ERROR, D_OUT_TIMEOUT,
                                          D_OUT_ERROR, D_OUT_CANDIDATE, D_OUT_ERROR, D_OUT_NO_FILL };
    replica r;
    replica_init(&r, "d-m");
    d_breakers *pure = calloc(1, sizeof *pure);
    assert_non_null(pure);
    pure->open_ms = OPEN_MS;
    char key[D_BREAKER_KEY_MAX];
    fresh_key("mirror", key, sizeof key);
    int64_t now = med_now_unix_ms();
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
        now += 200;   /* every 200 ms: some steps land after the open period */
        sync1(&r, key, now);
        int want = d_breaker_allow(pure, key, now), got = d_breaker_allow(r.b, key, now);
        assert_int_equal(got, want);
        if (!want) continue;
        d_breaker_record(pure, key, seq[i], now + 1);
        d_breaker_record(r.b, key, seq[i], now + 1);
        assert_int_equal(d_breaker_closed(r.b, key, now + 1), d_breaker_closed(pure, key, now + 1));
    }
    free(pure);
    replica_free(&r);
}

/* Redis stopped: every circuit counts as closed, and the outage costs a
 * timeout per second at most, not one per call. Redis back: shared again. */
static void redis_down_means_closed(void **state)
{
    (void)state;
    replica r1, r2;
    replica_init(&r1, "d-1");
    replica_init(&r2, "d-2");
    char key[D_BREAKER_KEY_MAX];
    fresh_key("down", key, sizeof key);
    int64_t t0 = med_now_unix_ms();
    open_circuit(&r1, key, t0);
    sync1(&r2, key, t0);
    assert_false(d_breaker_allow(r2.b, key, t0 + 1));
    assert_int_equal(th_infra("stop-one", "redis"), 0);
    long long start = th_now_ms();
    for (int i = 0; i < 200; i++) {
        sync1(&r2, key, t0 + 2);
        assert_true(d_breaker_allow(r2.b, key, t0 + 2));
        d_breaker_record(r2.b, key, D_OUT_ERROR, t0 + 2);   /* not even its own failures open it */
        assert_true(d_breaker_closed(r2.b, key, t0 + 2));
        assert_true(d_breaker_allow(r1.b, key, t0 + OPEN_MS));   /* the probe claim: no answer */
    }
    long long spent = th_now_ms() - start;
    int restarted = th_infra("start-one", "redis");
    assert_int_equal(restarted, 0);
    assert_true(spent < 1500);
    th_sleep_ms(1100);   /* the skip after a failure runs out */
    int64_t t1 = med_now_unix_ms(), f = 0, u = 0;
    sync1(&r1, key, t1);     /* reconnects: the restarted server is empty */
    assert_true(d_breaker_allow(r1.b, key, t1));
    open_circuit(&r1, key, t1);
    assert_int_equal(stored(key, &f, &u), 1);
    assert_int_equal(f, 2);
    sync1(&r2, key, t1);
    assert_false(d_breaker_allow(r2.b, key, t1 + 1));
    replica_free(&r1);
    replica_free(&r2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_failures_on_one_replica_open_it_for_all),
        cmocka_unit_test(a_no_fill_is_not_a_failure),
        cmocka_unit_test(one_probe_then_close),
        cmocka_unit_test(concurrent_claims_give_one_probe),
        cmocka_unit_test(redis_mirrors_the_local_breaker),
        cmocka_unit_test(redis_down_means_closed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
