/* Readiness probes: results, the missing list, "started", the probe
 * thread, and the built-in PostgreSQL/Redis checks against dead ports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "med/http_util.h"
#include "med/readiness.h"

typedef struct fake_dep {
    atomic_int up;
    atomic_int calls;
} fake_dep;

static int fake_check(void *ud)
{
    fake_dep *d = ud;
    atomic_fetch_add(&d->calls, 1);
    return atomic_load(&d->up);
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static void ready_needs_every_check_and_started(void **state)
{
    (void)state;
    fake_dep a = { 1, 0 }, b = { 0, 0 };
    med_readiness *r = med_readiness_new(1000);
    assert_non_null(r);
    assert_int_equal(med_readiness_add(r, "alpha", fake_check, &a), MED_OK);
    assert_int_equal(med_readiness_add(r, "beta", fake_check, &b), MED_OK);
    assert_int_equal(med_readiness_add(r, "bad,name", fake_check, &b), MED_ERR_INVALID);
    char missing[64];
    /* Nothing probed yet: everything counts as missing. */
    assert_int_equal(med_readiness_ready(r, missing, sizeof missing), 0);
    assert_string_equal(missing, "alpha,beta");
    med_readiness_probe_now(r);
    assert_int_equal(med_readiness_ready(r, missing, sizeof missing), 0);
    assert_string_equal(missing, "beta");
    atomic_store(&b.up, 1);
    med_readiness_probe_now(r);
    assert_int_equal(med_readiness_ready(r, missing, sizeof missing), 0); /* not started */
    assert_string_equal(missing, "");
    assert_false(med_readiness_is_started(r));
    med_readiness_set_started(r, 1);
    assert_int_equal(med_readiness_ready(r, missing, sizeof missing), 1);
    med_readiness_free(r);
}

static void readyz_body_names_what_is_missing(void **state)
{
    (void)state;
    fake_dep a = { 1, 0 }, redis = { 0, 0 };
    med_readiness *r = med_readiness_new(1000);
    med_readiness_add(r, "nats", fake_check, &a);
    med_readiness_add(r, "redis", fake_check, &redis);
    med_readiness_probe_now(r);
    int status = 0;
    char *body = NULL;
    size_t len = 0;
    med_err e;
    assert_int_equal(med_http_readyz_body(r, &status, &body, &len, &e), MED_OK);
    assert_int_equal(status, 503);
    assert_string_equal(body, "{\"status\":\"starting\",\"missing\":[\"redis\"]}");
    free(body);
    med_readiness_set_started(r, 1);
    assert_int_equal(med_http_readyz_body(r, &status, &body, &len, &e), MED_OK);
    assert_string_equal(body, "{\"status\":\"not_ready\",\"missing\":[\"redis\"]}");
    free(body);
    atomic_store(&redis.up, 1);
    med_readiness_probe_now(r);
    assert_int_equal(med_http_readyz_body(r, &status, &body, &len, &e), MED_OK);
    assert_int_equal(status, 200);
    assert_string_equal(body, "{\"status\":\"ready\"}");
    free(body);
    med_readiness_free(r);
}

static void probe_thread_follows_a_dependency(void **state)
{
    (void)state;
    fake_dep d = { 0, 0 };
    med_readiness *r = med_readiness_new(20);
    med_readiness_add(r, "dep", fake_check, &d);
    med_readiness_set_started(r, 1);
    med_err e;
    assert_int_equal(med_readiness_start(r, &e), MED_OK);
    /* Adding after start is refused: the thread reads the list unlocked. */
    assert_int_equal(med_readiness_add(r, "late", fake_check, &d), MED_ERR_INVALID);
    sleep_ms(100);
    assert_int_equal(med_readiness_ready(r, NULL, 0), 0);
    atomic_store(&d.up, 1);
    int ready = 0;
    for (int i = 0; i < 100 && !ready; i++) {
        sleep_ms(10);
        ready = med_readiness_ready(r, NULL, 0);
    }
    assert_true(ready);
    assert_true(atomic_load(&d.calls) >= 3);
    med_readiness_free(r); /* joins promptly despite the interval */
}

static void builtin_checks_report_dead_servers(void **state)
{
    (void)state;
    med_readiness *r = med_readiness_new(1000);
    assert_int_equal(med_readiness_add_pg(r, "host=127.0.0.1 port=1 dbname=x user=x"), MED_OK);
    assert_int_equal(med_readiness_add_redis(r, "127.0.0.1", 1), MED_OK);
    assert_int_equal(med_readiness_add_redis(r, "127.0.0.1", 0), MED_ERR_INVALID);
    med_readiness_set_started(r, 1);
    med_readiness_probe_now(r);
    char missing[64];
    assert_int_equal(med_readiness_ready(r, missing, sizeof missing), 0);
    assert_string_equal(missing, "postgres,redis");
    med_readiness_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ready_needs_every_check_and_started),
        cmocka_unit_test(readyz_body_names_what_is_missing),
        cmocka_unit_test(probe_thread_follows_a_dependency),
        cmocka_unit_test(builtin_checks_report_dead_servers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
