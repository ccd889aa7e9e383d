/* Canary breaker (spec 04 H.7; H.10 case 16, second sentence). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "h_breaker.h"
#include "med/reason.h"

/* Aligned to a slot start so slot arithmetic in the tests is exact. */
#define T0 ((int64_t)1795000000000 - ((int64_t)1795000000000 % H_BREAKER_SLOT_MS))
#define MIN_MS 60000

static h_breaker_thresholds error_rate_020(void)
{
    h_breaker_thresholds t;
    h_breaker_thresholds_off(&t);
    t.error_rate_bp = 2000;
    return t;
}

/* n requests at now, the last n_err of them errors. */
static bool feed(h_breaker_state *s, const h_breaker_thresholds *t, int n, int n_err, int64_t now)
{
    bool any_trip = false;
    for (int i = 0; i < n; i++) {
        h_breaker_outcome o = {.error = i >= n - n_err, .latency_ms = -1};
        bool tripped;
        med_err err;
        assert_int_equal(h_breaker_record(s, t, 0, &o, now, &tripped, &err), MED_OK);
        any_trip |= tripped;
    }
    return any_trip;
}

static void test_error_rate_025_opens(void **st)
{
    (void)st;
    h_breaker_state s;
    h_breaker_thresholds t = error_rate_020();
    h_breaker_init(&s);
    /* 3 good then 1 error: 0.25 >= 0.2 trips on the 4th record, not before */
    h_breaker_outcome ok = {.latency_ms = 20}, bad = {.error = true, .latency_ms = 20};
    bool tripped;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(h_breaker_record(&s, &t, 0, &ok, T0, &tripped, NULL), MED_OK);
        assert_false(tripped);
    }
    assert_int_equal(h_breaker_record(&s, &t, 0, &bad, T0 + 1000, &tripped, NULL), MED_OK);
    assert_true(tripped);
    assert_int_equal(s.mode, H_BREAKER_OPEN);
    assert_int_equal(s.opened_at_ms, T0 + 1000);
    assert_int_equal(s.trips, 1);
}

static void test_below_threshold_stays_closed(void **st)
{
    (void)st;
    h_breaker_state s;
    h_breaker_thresholds t = error_rate_020();
    h_breaker_init(&s);
    assert_false(feed(&s, &t, 6, 1, T0)); /* 0.1667 */
    assert_int_equal(s.mode, H_BREAKER_CLOSED);
    h_breaker_stats stats;
    h_breaker_stats_at(&s, T0, &stats);
    assert_int_equal(stats.requests, 6);
    assert_int_equal(stats.errors, 1);
}

static void test_cooldown_half_open(void **st)
{
    (void)st;
    h_breaker_state s;
    h_breaker_thresholds t = error_rate_020();
    h_breaker_init(&s);
    assert_true(feed(&s, &t, 4, 1, T0));
    assert_int_equal(h_breaker_mode_at(&s, 0, T0 + 10 * MIN_MS - 1), H_BREAKER_OPEN);
    assert_int_equal(h_breaker_mode_at(&s, 0, T0 + 10 * MIN_MS), H_BREAKER_HALF_OPEN);
    /* a policy cooldown replaces the default */
    assert_int_equal(h_breaker_mode_at(&s, 2 * MIN_MS, T0 + 2 * MIN_MS), H_BREAKER_HALF_OPEN);
    assert_int_equal(h_breaker_advance(&s, 0, T0 + 10 * MIN_MS), H_BREAKER_HALF_OPEN);
    assert_int_equal(s.mode, H_BREAKER_HALF_OPEN);
}

static void test_open_ignores_samples(void **st)
{
    (void)st;
    h_breaker_state s;
    h_breaker_thresholds t = error_rate_020();
    h_breaker_init(&s);
    assert_true(feed(&s, &t, 4, 4, T0));
    h_breaker_stats before, after;
    h_breaker_stats_at(&s, T0, &before);
    assert_false(feed(&s, &t, 10, 0, T0 + MIN_MS));
    h_breaker_stats_at(&s, T0 + MIN_MS, &after);
    assert_int_equal(after.requests, before.requests);
    assert_int_equal(s.opened_at_ms, T0); /* no re-trip, cooldown not extended */
}

static void test_trip_in_half_open_reopens(void **st)
{
    (void)st;
    h_breaker_state s;
    h_breaker_thresholds t = error_rate_020();
    h_breaker_init(&s);
    assert_true(feed(&s, &t, 4, 1, T0));
    int64_t probe = T0 + 10 * MIN_MS;
    /* half-open starts with an empty window: 10 good probes keep it half-open */
    assert_false(feed(&s, &t, 10, 0, probe));
    assert_int_equal(s.mode, H_BREAKER_HALF_OPEN);
    assert_true(feed(&s, &t, 3, 3, probe + 1000)); /* 3/13 = 0.23 */
    assert_int_equal(s.mode, H_BREAKER_OPEN);
    assert_int_equal(s.opened_at_ms, probe + 1000);
    assert_int_equal(s.trips, 2);
    /* a fresh cooldown from the re-trip */
    assert_int_equal(h_breaker_mode_at(&s, 0, probe + 1000 + 10 * MIN_MS - 1), H_BREAKER_OPEN);
    assert_int_equal(h_breaker_mode_at(&s, 0, probe + 1000 + 10 * MIN_MS), H_BREAKER_HALF_OPEN);
}

static void test_half_open_never_closes_alone(void **st)
{
    (void)st;
    h_breaker_state s;
    h_breaker_thresholds t = error_rate_020();
    h_breaker_init(&s);
    assert_true(feed(&s, &t, 1, 1, T0));
    assert_false(feed(&s, &t, 50, 0, T0 + 60 * MIN_MS));
    assert_int_equal(h_breaker_mode_at(&s, 0, T0 + 24 * 60 * MIN_MS), H_BREAKER_HALF_OPEN);
    h_breaker_reset(&s);
    assert_int_equal(s.mode, H_BREAKER_CLOSED);
    assert_int_equal(s.trips, 0);
    h_breaker_stats stats;
    h_breaker_stats_at(&s, T0 + 60 * MIN_MS, &stats);
    assert_int_equal(stats.requests, 0);
}

static void test_window_slides(void **st)
{
    (void)st;
    h_breaker_state s;
    h_breaker_thresholds t = error_rate_020();
    h_breaker_init(&s);
    /* 1 error in 10 at T0, then at +4:59 (same window) 10 good: 0.05 */
    assert_false(feed(&s, &t, 10, 1, T0));
    h_breaker_stats stats;
    h_breaker_stats_at(&s, T0 + 5 * MIN_MS - 1, &stats);
    assert_int_equal(stats.requests, 10);
    h_breaker_stats_at(&s, T0 + 5 * MIN_MS, &stats);
    assert_int_equal(stats.requests, 0); /* expired after 5 min */
    /* new traffic reuses the slot of the expired one: only the new counts */
    assert_false(feed(&s, &t, 4, 0, T0 + 5 * MIN_MS));
    h_breaker_stats_at(&s, T0 + 5 * MIN_MS, &stats);
    assert_int_equal(stats.requests, 4);
    assert_int_equal(stats.errors, 0);
    /* inside the window old traffic still dilutes: (1+1)/(10+4) = 0.14 */
    h_breaker_init(&s);
    assert_false(feed(&s, &t, 10, 1, T0));
    assert_false(feed(&s, &t, 4, 1, T0 + 4 * MIN_MS));
    /* once it expired the same 4 with 1 error stand alone: 0.25 trips */
    h_breaker_init(&s);
    assert_false(feed(&s, &t, 10, 1, T0));
    assert_true(feed(&s, &t, 4, 1, T0 + 5 * MIN_MS));
}

static void test_latency_p95(void **st)
{
    (void)st;
    h_breaker_state s;
    h_breaker_thresholds t;
    h_breaker_thresholds_off(&t);
    t.p95_latency_ms = 1000;
    h_breaker_init(&s);
    for (int i = 0; i < 100; i++) {
        h_breaker_outcome o = {.latency_ms = i < 95 ? 120 : 4000};
        bool tripped;
        assert_int_equal(h_breaker_record(&s, &t, 0, &o, T0, &tripped, NULL), MED_OK);
        assert_false(tripped);
    }
    h_breaker_stats stats;
    h_breaker_stats_at(&s, T0, &stats);
    assert_int_equal(stats.p95_latency_ms, 100); /* bucket [100,150) */
    h_breaker_outcome slow = {.latency_ms = 1000};
    bool tripped = false;
    for (int i = 0; i < 10 && !tripped; i++)
        assert_int_equal(h_breaker_record(&s, &t, 0, &slow, T0, &tripped, NULL), MED_OK);
    assert_true(tripped); /* p95 reaches the 1000 bucket */
}

static void test_no_fill_and_critical(void **st)
{
    (void)st;
    h_breaker_state s;
    h_breaker_thresholds t;
    h_breaker_thresholds_off(&t);
    t.no_fill_rate_bp = 5000;
    h_breaker_init(&s);
    h_breaker_outcome nf = {.no_fill = true, .latency_ms = -1}, ok = {.latency_ms = -1};
    bool tripped;
    assert_int_equal(h_breaker_record(&s, &t, 0, &ok, T0, &tripped, NULL), MED_OK);
    assert_false(tripped);
    assert_int_equal(h_breaker_record(&s, &t, 0, &nf, T0, &tripped, NULL), MED_OK);
    assert_true(tripped); /* 0.5 >= 0.5 */

    h_breaker_thresholds_off(&t);
    t.critical_reason_code_count = 3;
    h_breaker_init(&s);
    h_breaker_outcome crit = {.critical_reason_codes = 2, .latency_ms = -1};
    assert_int_equal(h_breaker_record(&s, &t, 0, &crit, T0, &tripped, NULL), MED_OK);
    assert_false(tripped);
    assert_int_equal(h_breaker_record(&s, &t, 0, &crit, T0, &tripped, NULL), MED_OK);
    assert_true(tripped);
}

static void test_msgpack_round_trip(void **st)
{
    (void)st;
    h_breaker_state s, back;
    h_breaker_thresholds t = error_rate_020();
    h_breaker_init(&s);
    feed(&s, &t, 20, 1, T0);
    h_breaker_outcome o = {.latency_ms = 777, .critical_reason_codes = 1};
    assert_int_equal(h_breaker_record(&s, &t, 0, &o, T0 + 90000, NULL, NULL), MED_OK);
    assert_true(feed(&s, &t, 5, 5, T0 + 120000));
    uint8_t *buf = NULL;
    size_t len = 0;
    med_err err;
    assert_int_equal(h_breaker_encode(&s, &buf, &len, &err), MED_OK);
    assert_int_equal(h_breaker_decode(buf, len, &back, &err), MED_OK);
    assert_memory_equal(&s, &back, sizeof s);
    /* truncated or altered bytes are refused, never misread */
    assert_int_equal(h_breaker_decode(buf, len - 1, &back, &err), MED_ERR_INVALID);
    assert_string_equal(err.code, MED_R_INFRA_DECODE_FAILED);
    free(buf);
}

static void test_decode_rejects_foreign_maps(void **st)
{
    (void)st;
    static const uint8_t empty_map[] = {0x80};
    static const uint8_t not_map[] = {0x01};
    h_breaker_state back;
    med_err err;
    assert_int_equal(h_breaker_decode(empty_map, sizeof empty_map, &back, &err), MED_ERR_INVALID);
    assert_string_equal(err.code, MED_R_INFRA_DECODE_FAILED);
    assert_int_not_equal(h_breaker_decode(not_map, sizeof not_map, &back, &err), MED_OK);
}

static void test_key(void **st)
{
    (void)st;
    char *k = NULL;
    med_err err;
    assert_int_equal(h_breaker_key("app_1", "plc_1", "rp_3", &k, &err), MED_OK);
    assert_string_equal(k, "app_1|plc_1|rp_3");
    free(k);
    assert_int_equal(h_breaker_key("app_1", "", "rp_3", &k, &err), MED_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_rate_025_opens),
        cmocka_unit_test(test_below_threshold_stays_closed),
        cmocka_unit_test(test_cooldown_half_open),
        cmocka_unit_test(test_open_ignores_samples),
        cmocka_unit_test(test_trip_in_half_open_reopens),
        cmocka_unit_test(test_half_open_never_closes_alone),
        cmocka_unit_test(test_window_slides),
        cmocka_unit_test(test_latency_p95),
        cmocka_unit_test(test_no_fill_and_critical),
        cmocka_unit_test(test_msgpack_round_trip),
        cmocka_unit_test(test_decode_rejects_foreign_maps),
        cmocka_unit_test(test_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
