/* D.2 circuit breaker: the pure transitions (process-local), and the view
 * a replica keeps when a shared store (a port) holds the truth. The port
 * here is an in-memory store; tests/integration/d_breaker runs the same
 * against Redis. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "d_breaker.h"

#define T0 1700000000000LL

static d_breakers *local(void)
{
    d_breakers *b = calloc(1, sizeof *b);
    assert_non_null(b);
    b->open_ms = 1000;
    return b;
}

static void test_key_is_per_tenant(void **state)
{
    (void)state;
    char k[D_BREAKER_KEY_MAX];
    assert_int_equal(d_breaker_key("tn_a", "net_a", k, sizeof k), 0);
    assert_string_equal(k, "tn_a:net_a");
    assert_int_equal(d_breaker_key("", "net_a", k, sizeof k), 0);
    assert_string_equal(k, "NA:net_a");
    assert_int_equal(d_breaker_key("tn", "", k, sizeof k), -1);
    char big[200];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(d_breaker_key(big, "net_a", k, sizeof k), -1);

    d_breakers *b = local();
    d_breaker_record(b, "tn_a:net_a", D_OUT_ERROR, T0);
    d_breaker_record(b, "tn_a:net_a", D_OUT_TIMEOUT, T0);
    assert_false(d_breaker_allow(b, "tn_a:net_a", T0 + 1));
    assert_true(d_breaker_allow(b, "tn_b:net_a", T0 + 1));
    free(b);
}

/* Two consecutive failures open it; a no_fill in between breaks the run. */
static void test_two_consecutive_failures_open(void **state)
{
    (void)state;
    d_breakers *b = local();
    const char *k = "t:s";
    d_breaker_record(b, k, D_OUT_ERROR, T0);
    assert_true(d_breaker_closed(b, k, T0));
    d_breaker_record(b, k, D_OUT_NO_FILL, T0);
    d_breaker_record(b, k, D_OUT_TIMEOUT, T0);
    assert_true(d_breaker_closed(b, k, T0));
    assert_true(d_breaker_allow(b, k, T0));
    d_breaker_record(b, k, D_OUT_ERROR, T0 + 10);
    assert_false(d_breaker_closed(b, k, T0 + 10));
    assert_false(d_breaker_allow(b, k, T0 + 10));
    assert_false(d_breaker_allow(b, k, T0 + 1009));   /* open for open_ms */
    free(b);
}

/* After the open period: one probe; its failure reopens, its success closes. */
static void test_single_probe(void **state)
{
    (void)state;
    d_breakers *b = local();
    const char *k = "t:s";
    d_breaker_record(b, k, D_OUT_ERROR, T0);
    d_breaker_record(b, k, D_OUT_ERROR, T0);
    assert_true(d_breaker_allow(b, k, T0 + 1000));
    assert_false(d_breaker_allow(b, k, T0 + 1000));   /* the probe is in flight */
    d_breaker_record(b, k, D_OUT_TIMEOUT, T0 + 1100);
    assert_false(d_breaker_allow(b, k, T0 + 2099));
    assert_true(d_breaker_allow(b, k, T0 + 2100));
    d_breaker_record(b, k, D_OUT_NO_FILL, T0 + 2150);  /* answered: healthy */
    assert_true(d_breaker_closed(b, k, T0 + 2150));
    assert_true(d_breaker_allow(b, k, T0 + 2150));
    assert_true(d_breaker_allow(b, k, T0 + 2150));
    free(b);
}

static void test_default_open_period(void **state)
{
    (void)state;
    d_breakers *b = local();
    b->open_ms = 0;
    d_breaker_record(b, "t:s", D_OUT_ERROR, T0);
    d_breaker_record(b, "t:s", D_OUT_ERROR, T0);
    assert_false(d_breaker_allow(b, "t:s", T0 + D_BREAKER_OPEN_MS - 1));
    assert_true(d_breaker_allow(b, "t:s", T0 + D_BREAKER_OPEN_MS));
    free(b);
}

/* A full table reuses clean slots; failing circuits are never forgotten. */
static void test_full_table_reuses_clean_slots(void **state)
{
    (void)state;
    d_breakers *b = local();
    char k[32];
    for (int i = 0; i < D_BREAKER_MAX; i++) {
        snprintf(k, sizeof k, "t:s%d", i);
        d_breaker_record(b, k, i == 7 ? D_OUT_ERROR : D_OUT_NO_FILL, T0);
    }
    assert_int_equal(b->n, D_BREAKER_MAX);
    d_breaker_record(b, "t:new", D_OUT_ERROR, T0);
    d_breaker_record(b, "t:new", D_OUT_ERROR, T0);
    assert_false(d_breaker_allow(b, "t:new", T0));
    assert_true(d_breaker_dirty(b, "t:s7"));
    free(b);
}

/* ---- a replica's view over a shared store ---- */

typedef struct shared {
    int down;
    char key[4][D_BREAKER_KEY_MAX];
    d_breaker_view v[4];
    int owner[4];                 /* replica holding the probe */
    int n;
    int records, claims;
} shared;

typedef struct replica {
    shared *sh;
    int id;
    d_breaker_port port;
    d_breakers b;
} replica;

static int slot(shared *sh, const char *key, int add)
{
    for (int i = 0; i < sh->n; i++)
        if (!strcmp(sh->key[i], key)) return i;
    if (!add) return -1;
    assert_true(sh->n < 4);
    snprintf(sh->key[sh->n], D_BREAKER_KEY_MAX, "%s", key);
    memset(&sh->v[sh->n], 0, sizeof sh->v[0]);
    return sh->n++;
}

/* The same transition as the Lua script of d_breaker_store.c. */
static d_breaker_reply fake_record(void *ud, const char *key, int failure, int64_t now,
                                   d_breaker_view *out)
{
    replica *r = ud;
    shared *sh = r->sh;
    sh->records++;
    if (sh->down) return D_BRK_DOWN;
    if (!failure) {
        int i = slot(sh, key, 0);
        if (i >= 0) sh->key[i][0] = '\0';
        return D_BRK_CLOSED;
    }
    int i = slot(sh, key, 1);
    d_breaker_view *v = &sh->v[i];
    v->failures++;
    if (v->probe_until_ms > 0 || v->failures >= D_BREAKER_THRESHOLD) {
        v->open_until_ms = now + 1000;
        v->probe_until_ms = 0;
    }
    *out = *v;
    return D_BRK_STATE;
}

static d_breaker_reply fake_claim(void *ud, const char *key, int64_t now, d_breaker_view *out)
{
    replica *r = ud;
    shared *sh = r->sh;
    sh->claims++;
    if (sh->down) return D_BRK_DOWN;
    int i = slot(sh, key, 0);
    if (i < 0) return D_BRK_CLOSED;
    d_breaker_view *v = &sh->v[i];
    if (v->open_until_ms && now >= v->open_until_ms && v->probe_until_ms <= now) {
        v->probe_until_ms = now + 1000;
        sh->owner[i] = r->id;
        *out = *v;
        return D_BRK_CLAIMED;
    }
    *out = *v;
    return D_BRK_STATE;
}

static replica *replica_new(shared *sh, int id)
{
    replica *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->sh = sh;
    r->id = id;
    r->port = (d_breaker_port){ .record = fake_record, .claim = fake_claim, .ud = r };
    r->b.port = &r->port;
    r->b.open_ms = 1000;
    return r;
}

/* What the batch read does: the view replaced by the store's state. */
static void sync(replica *r, const char *key, int64_t now)
{
    int i = slot(r->sh, key, 0);
    if (r->sh->down) d_breaker_load(&r->b, key, D_BRK_DOWN, NULL, now);
    else if (i < 0) d_breaker_load(&r->b, key, D_BRK_CLOSED, NULL, now);
    else d_breaker_load(&r->b, key, D_BRK_STATE, &r->sh->v[i], now);
}

static void test_replicas_share_through_the_port(void **state)
{
    (void)state;
    shared sh = { 0 };
    replica *r1 = replica_new(&sh, 1), *r2 = replica_new(&sh, 2);
    const char *k = "t:s";
    /* a success on a clean circuit costs no round trip */
    d_breaker_record(&r1->b, k, D_OUT_CANDIDATE, T0);
    assert_int_equal(sh.records, 0);
    d_breaker_record(&r1->b, k, D_OUT_ERROR, T0);
    d_breaker_record(&r1->b, k, D_OUT_ERROR, T0);
    assert_int_equal(sh.records, 2);
    assert_false(d_breaker_allow(&r1->b, k, T0 + 1));   /* visible locally at once */
    assert_true(d_breaker_allow(&r2->b, k, T0 + 1));    /* r2 has not read yet */
    sync(r2, k, T0 + 1);
    assert_false(d_breaker_allow(&r2->b, k, T0 + 1));
    assert_int_equal(sh.claims, 0);                     /* open: decided locally */
    /* after the open period exactly one replica probes */
    assert_true(d_breaker_allow(&r2->b, k, T0 + 1000));
    assert_false(d_breaker_allow(&r1->b, k, T0 + 1000));
    assert_false(d_breaker_allow(&r2->b, k, T0 + 1000));
    assert_int_equal(sh.claims, 2);
    assert_int_equal(sh.owner[0], 2);
    /* the probe succeeds: closed for both once r1 reads */
    d_breaker_record(&r2->b, k, D_OUT_NO_FILL, T0 + 1010);
    assert_true(d_breaker_closed(&r2->b, k, T0 + 1010));
    sync(r1, k, T0 + 1020);
    assert_true(d_breaker_allow(&r1->b, k, T0 + 1020));
    free(r1);
    free(r2);
}

/* Redis down: every circuit counts as closed, also the one this replica
 * saw open, and its own failures do not open it. */
static void test_store_down_means_closed(void **state)
{
    (void)state;
    shared sh = { 0 };
    replica *r = replica_new(&sh, 1);
    const char *k = "t:s";
    d_breaker_record(&r->b, k, D_OUT_ERROR, T0);
    d_breaker_record(&r->b, k, D_OUT_ERROR, T0);
    assert_false(d_breaker_allow(&r->b, k, T0 + 1));
    sh.down = 1;
    sync(r, k, T0 + 2);
    assert_true(d_breaker_allow(&r->b, k, T0 + 2));
    d_breaker_record(&r->b, k, D_OUT_ERROR, T0 + 3);
    d_breaker_record(&r->b, k, D_OUT_ERROR, T0 + 3);
    assert_true(d_breaker_closed(&r->b, k, T0 + 3));
    assert_true(d_breaker_allow(&r->b, k, T0 + 3));
    free(r);
}

/* An open circuit whose probe claim finds Redis down lets the step go. */
static void test_claim_down_allows(void **state)
{
    (void)state;
    shared sh = { 0 };
    replica *r = replica_new(&sh, 1);
    d_breaker_record(&r->b, "t:s", D_OUT_ERROR, T0);
    d_breaker_record(&r->b, "t:s", D_OUT_ERROR, T0);
    sh.down = 1;
    assert_true(d_breaker_allow(&r->b, "t:s", T0 + 1000));
    assert_true(d_breaker_allow(&r->b, "t:s", T0 + 1000));
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_is_per_tenant),
        cmocka_unit_test(test_two_consecutive_failures_open),
        cmocka_unit_test(test_single_probe),
        cmocka_unit_test(test_default_open_period),
        cmocka_unit_test(test_full_table_reuses_clean_slots),
        cmocka_unit_test(test_replicas_share_through_the_port),
        cmocka_unit_test(test_store_down_means_closed),
        cmocka_unit_test(test_claim_down_allows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
