/* Stage A's dedup claim script (services/a_ingress/a_dedup_lua.c) against
 * a real Redis: concurrent claims of one key, compare-and-set for an
 * expired retry, and the NOSCRIPT fallback after SCRIPT FLUSH. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>
#include <cmocka.h>

#include <hiredis/hiredis.h>

#include "a_store.h"
#include "harness.h"

#define ROUNDS 100
#define TTL_MS 240000

static char prefix[64];

static void record(a_dedup_record *rec, uint64_t seq, int64_t first_seen, int32_t gen)
{
    memset(rec, 0, sizeof *rec);
    snprintf(rec->state, sizeof rec->state, "%s", A_DEDUP_INFLIGHT);
    rec->first_seen_at_ms = first_seen;
    rec->generation = gen;
    rec->owner_stream_seq = seq;
    snprintf(rec->request_key, sizeof rec->request_key, "req_%016llx", (unsigned long long)seq);
    snprintf(rec->app_id, sizeof rec->app_id, "app-1");
}

typedef struct claimer {
    med_redis *r;
    const char *key;
    uint64_t seq;
    pthread_barrier_t *go;
    int claimed;
    a_dedup_state state;
    med_rc rc;
} claimer;

/* One request's A.4 step: claim as new, else decide on what was stored. */
static void *claim_thread(void *arg)
{
    claimer *c = arg;
    a_dedup_record rec;
    record(&rec, c->seq, 1000, 0);
    uint8_t *cur = NULL;
    size_t len = 0;
    med_err err = { 0 };
    pthread_barrier_wait(c->go);
    c->rc = a_store_dedup_claim(c->r, c->key, NULL, 0, &rec, TTL_MS, &c->claimed, &cur, &len,
                                &err);
    c->state = A_DEDUP_NEW;
    if (c->rc == MED_OK && !c->claimed) {
        a_dedup_record stored;
        a_dedup_decision d;
        if (cur && a_dedup_record_decode(cur, len, &stored, &err) == MED_OK) {
            a_dedup_decide(&stored, 2000, 120, c->seq, "app-1", "s", "p", &d);
            c->state = d.state;
        } else {
            c->state = (a_dedup_state)-1;
        }
    }
    free(cur);
    return NULL;
}

static void test_concurrent_claims_one_new(void **state)
{
    (void)state;
    med_redis *a = th_redis_connect(), *b = th_redis_connect();
    for (int i = 0; i < ROUNDS; i++) {
        char key[128];
        snprintf(key, sizeof key, "%srace:%d", prefix, i);
        pthread_barrier_t go;
        pthread_barrier_init(&go, NULL, 2);
        claimer ca = { .r = a, .key = key, .seq = 10, .go = &go };
        claimer cb = { .r = b, .key = key, .seq = 20, .go = &go };
        pthread_t ta, tb;
        assert_int_equal(pthread_create(&ta, NULL, claim_thread, &ca), 0);
        assert_int_equal(pthread_create(&tb, NULL, claim_thread, &cb), 0);
        pthread_join(ta, NULL);
        pthread_join(tb, NULL);
        pthread_barrier_destroy(&go);
        assert_int_equal(ca.rc, MED_OK);
        assert_int_equal(cb.rc, MED_OK);
        assert_int_equal(ca.claimed + cb.claimed, 1);
        /* the loser saw the winner's record: an in-flight duplicate */
        a_dedup_state loser = ca.claimed ? cb.state : ca.state;
        assert_int_equal(loser, A_DEDUP_INFLIGHT_DUPLICATE);
        med_err err = { 0 };
        assert_int_equal(med_redis_del(a, key, &err), MED_OK);
    }
    med_redis_close(a);
    med_redis_close(b);
}

static med_rc claim(med_redis *r, const char *key, const uint8_t *exp, size_t exp_len,
                    const a_dedup_record *rec, int *claimed, uint8_t **cur, size_t *len)
{
    med_err err = { 0 };
    return a_store_dedup_claim(r, key, exp, exp_len, rec, TTL_MS, claimed, cur, len, &err);
}

/* Expired retry: replaces only the bytes it decided on; a record changed
 * meanwhile is returned instead. Read-only calls never write. */
static void test_compare_and_set(void **state)
{
    (void)state;
    med_redis *r = th_redis_connect();
    char key[128];
    snprintf(key, sizeof key, "%scas", prefix);
    a_dedup_record old, retry, other;
    record(&old, 1, 1000, 0);
    record(&retry, 2, 200000, 1);
    record(&other, 3, 200001, 1);
    int claimed = -1;
    uint8_t *cur = NULL;
    size_t len = 0;
    assert_int_equal(claim(r, key, NULL, 0, NULL, &claimed, &cur, &len), MED_OK);
    assert_int_equal(claimed, 0);
    assert_null(cur); /* read only, nothing stored */
    assert_int_equal(claim(r, key, NULL, 0, &old, &claimed, &cur, &len), MED_OK);
    assert_int_equal(claimed, 1);
    /* the same write again (a repeated command) is still this caller's claim */
    assert_int_equal(claim(r, key, NULL, 0, &old, &claimed, &cur, &len), MED_OK);
    assert_int_equal(claimed, 1);
    assert_int_equal(claim(r, key, NULL, 0, NULL, &claimed, &cur, &len), MED_OK);
    assert_non_null(cur);
    uint8_t *seen = cur;
    size_t seen_len = len;
    /* another replica's expired retry wins first */
    assert_int_equal(claim(r, key, seen, seen_len, &other, &claimed, &cur, &len), MED_OK);
    assert_int_equal(claimed, 1);
    assert_int_equal(claim(r, key, seen, seen_len, &retry, &claimed, &cur, &len), MED_OK);
    assert_int_equal(claimed, 0);
    a_dedup_record back;
    med_err err = { 0 };
    assert_int_equal(a_dedup_record_decode(cur, len, &back, &err), MED_OK);
    assert_int_equal(back.owner_stream_seq, 3);
    free(cur);
    free(seen);
    assert_int_equal(med_redis_del(r, key, &err), MED_OK);
    med_redis_close(r);
}

static void test_noscript_fallback(void **state)
{
    (void)state;
    med_redis *r = th_redis_connect();
    char key[128];
    snprintf(key, sizeof key, "%snoscript", prefix);
    a_dedup_record rec;
    record(&rec, 5, 1000, 0);
    int claimed = -1;
    uint8_t *cur = NULL;
    size_t len = 0;
    assert_int_equal(claim(r, key, NULL, 0, NULL, &claimed, &cur, &len), MED_OK); /* loads */
    redisContext *raw = redisConnect(th_env("REDIS_HOST"), atoi(th_env("REDIS_PORT")));
    assert_non_null(raw);
    redisReply *reply = redisCommand(raw, "SCRIPT FLUSH");
    assert_non_null(reply);
    freeReplyObject(reply);
    assert_int_equal(claim(r, key, NULL, 0, &rec, &claimed, &cur, &len), MED_OK);
    assert_int_equal(claimed, 1);
    reply = redisCommand(raw, "PTTL %s", key);
    assert_non_null(reply);
    assert_true(reply->integer > 230000 && reply->integer <= TTL_MS);
    freeReplyObject(reply);
    redisFree(raw);
    med_err err = { 0 };
    assert_int_equal(med_redis_del(r, key, &err), MED_OK);
    med_redis_close(r);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    snprintf(prefix, sizeof prefix, "med-a-claim-test:%d:", (int)getpid());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_claims_one_new),
        cmocka_unit_test(test_compare_and_set),
        cmocka_unit_test(test_noscript_fallback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
