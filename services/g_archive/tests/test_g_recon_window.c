/* G.8 windows (hourly = last closed hour, daily = previous UTC day, or the
 * windowStart given) and the query checks of GET /v1/reconciliation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "g_recon_query.h"
#include "g_recon_window.h"
#include "med/reason.h"

static int64_t at(const char *s)
{
    int64_t ms = 0;
    assert_int_equal(g_recon_parse_utc_ms(s, &ms), 0);
    return ms;
}

static void default_hourly_is_last_closed_hour(void **state)
{
    (void)state;
    g_recon_window w;
    med_err e;
    assert_int_equal(g_recon_window_resolve("hourly", NULL, at("2026-03-10T10:20:00.123Z"), &w, &e),
                     MED_OK);
    assert_int_equal(w.granularity, G_RECON_HOURLY);
    assert_int_equal(w.start_ms, at("2026-03-10T09:00:00Z"));
    assert_int_equal(w.end_ms, at("2026-03-10T10:00:00Z"));
    /* exactly on the boundary: the hour that just closed */
    assert_int_equal(g_recon_window_resolve("hourly", "", at("2026-03-10T10:00:00Z"), &w, &e),
                     MED_OK);
    assert_int_equal(w.start_ms, at("2026-03-10T09:00:00Z"));
}

static void default_daily_is_previous_utc_day(void **state)
{
    (void)state;
    g_recon_window w;
    med_err e;
    assert_int_equal(g_recon_window_resolve("daily", NULL, at("2026-03-01T00:30:00Z"), &w, &e),
                     MED_OK);
    assert_int_equal(w.start_ms, at("2026-02-28T00:00:00Z"));
    assert_int_equal(w.end_ms, at("2026-03-01T00:00:00Z"));
    /* a leap year's February */
    assert_int_equal(g_recon_window_resolve("daily", NULL, at("2028-03-01T23:59:59Z"), &w, &e),
                     MED_OK);
    assert_int_equal(w.start_ms, at("2028-02-29T00:00:00Z"));
}

static void given_start_must_be_aligned_and_begun(void **state)
{
    (void)state;
    g_recon_window w;
    med_err e;
    int64_t now = at("2026-03-10T10:20:00Z");
    assert_int_equal(g_recon_window_resolve("hourly", "2026-03-10T08:00:00Z", now, &w, &e), MED_OK);
    assert_int_equal(w.end_ms - w.start_ms, G_RECON_HOUR_MS);
    assert_false(w.open);
    assert_int_equal(g_recon_window_resolve("hourly", "2026-03-10T09:30:00Z", now, &w, &e),
                     MED_ERR_INVALID);
    assert_string_equal(e.code, MED_R_G_RECON_INVALID_WINDOW_START);
    assert_string_equal(e.field, "windowStart");
    /* the hour in progress, named: compared so far, flagged open */
    assert_int_equal(g_recon_window_resolve("hourly", "2026-03-10T10:00:00Z", now, &w, &e), MED_OK);
    assert_true(w.open);
    /* the next hour has not begun */
    assert_int_equal(g_recon_window_resolve("hourly", "2026-03-10T11:00:00Z", now, &w, &e),
                     MED_ERR_INVALID);
    assert_string_equal(e.code, MED_R_G_RECON_WINDOW_NOT_CLOSED);
    assert_int_equal(g_recon_window_resolve("daily", "2026-03-09T01:00:00Z", now, &w, &e),
                     MED_ERR_INVALID);
    assert_string_equal(e.code, MED_R_G_RECON_INVALID_WINDOW_START);
    assert_int_equal(g_recon_window_resolve("daily", "2026-03-10T00:00:00Z", now, &w, &e), MED_OK);
    assert_true(w.open);
    assert_int_equal(g_recon_window_resolve("daily", "2026-03-11T00:00:00Z", now, &w, &e),
                     MED_ERR_INVALID);
    assert_string_equal(e.code, MED_R_G_RECON_WINDOW_NOT_CLOSED);
    /* an offset is an instant: 02:00+02:00 is midnight UTC */
    assert_int_equal(g_recon_window_resolve("daily", "2026-03-09T02:00:00+02:00", now, &w, &e),
                     MED_OK);
    assert_int_equal(w.start_ms, at("2026-03-09T00:00:00Z"));
}

static void bad_granularity_and_start(void **state)
{
    (void)state;
    g_recon_window w;
    med_err e;
    int64_t now = at("2026-03-10T10:20:00Z");
    assert_int_equal(g_recon_window_resolve("", NULL, now, &w, &e), MED_ERR_INVALID);
    assert_string_equal(e.code, MED_R_G_RECON_MISSING_REQUIRED);
    assert_string_equal(e.field, "granularity");
    assert_int_equal(g_recon_window_resolve("weekly", NULL, now, &w, &e), MED_ERR_INVALID);
    assert_string_equal(e.code, MED_R_G_RECON_INVALID_GRANULARITY);
    assert_int_equal(g_recon_window_resolve("Hourly", NULL, now, &w, &e), MED_ERR_INVALID);
    assert_string_equal(e.code, MED_R_G_RECON_INVALID_GRANULARITY);
    const char *bad[] = {"yesterday", "2026-03-09", "2026-02-30T00:00:00Z",
                         "2026-03-09T00:00:00", "2026-03-09T24:00:00Z", "2026-03-09T00:00:00.Z"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(g_recon_window_resolve("daily", bad[i], now, &w, &e), MED_ERR_INVALID);
        assert_string_equal(e.code, MED_R_G_RECON_INVALID_WINDOW_START);
    }
}

static void query_check_order_and_defaults(void **state)
{
    (void)state;
    Mediation__V1__ReconciliationQuery q = MEDIATION__V1__RECONCILIATION_QUERY__INIT;
    g_recon_params p;
    med_err e;
    int64_t now = at("2026-03-10T10:20:00Z");
    q.granularity = "weekly";
    assert_int_equal(g_recon_query_check(&q, now, &p, &e), MED_ERR_INVALID);
    assert_string_equal(e.code, MED_R_G_RECON_MISSING_REQUIRED); /* tenant first */
    assert_string_equal(e.field, "tenantId");
    Mediation__V1__AuthContextLite auth = MEDIATION__V1__AUTH_CONTEXT_LITE__INIT;
    auth.tenant_id = "t_auth";
    q.auth = &auth;
    assert_int_equal(g_recon_query_check(&q, now, &p, &e), MED_ERR_INVALID);
    assert_string_equal(e.code, MED_R_G_RECON_INVALID_GRANULARITY);
    q.granularity = "daily";
    assert_int_equal(g_recon_query_check(&q, now, &p, &e), MED_OK);
    assert_string_equal(p.tenant_id, "t_auth");
    assert_int_equal(p.scope, G_RECON_SCOPE_FULL);
    assert_int_equal(p.tolerance_micros, 0);
    assert_int_equal(p.window.start_ms, at("2026-03-09T00:00:00Z"));
    q.tenant_id = "t_query";
    q.received_at_unix_ms = at("2026-03-12T05:00:00Z"); /* the receipt time wins over now */
    q.granularity = "hourly";
    q.amount_tolerance_micros_opt_case =
        MEDIATION__V1__RECONCILIATION_QUERY__AMOUNT_TOLERANCE_MICROS_OPT_AMOUNT_TOLERANCE_MICROS;
    q.amount_tolerance_micros = 1000;
    assert_int_equal(g_recon_query_check(&q, now, &p, &e), MED_OK);
    assert_string_equal(p.tenant_id, "t_query");
    assert_int_equal(p.scope, G_RECON_SCOPE_PRESENCE);
    assert_int_equal(p.tolerance_micros, 1000);
    assert_int_equal(p.window.start_ms, at("2026-03-12T04:00:00Z"));
    q.amount_tolerance_micros = -1;
    assert_int_equal(g_recon_query_check(&q, now, &p, &e), MED_ERR_INVALID);
    assert_string_equal(e.code, MED_R_G_RECON_INVALID_TOLERANCE);
    q.amount_tolerance_micros = 0;
    q.window_start_opt_case = MEDIATION__V1__RECONCILIATION_QUERY__WINDOW_START_OPT_WINDOW_START;
    q.window_start = "nope";
    assert_int_equal(g_recon_query_check(&q, now, &p, &e), MED_ERR_INVALID);
    assert_string_equal(e.code, MED_R_G_RECON_INVALID_WINDOW_START);
    assert_int_equal(g_recon_http_status(MED_ERR_INVALID), 400);
    assert_int_equal(g_recon_http_status(MED_ERR_UNAVAILABLE), 503);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(default_hourly_is_last_closed_hour),
        cmocka_unit_test(default_daily_is_previous_utc_day),
        cmocka_unit_test(given_start_must_be_aligned_and_begun),
        cmocka_unit_test(bad_granularity_and_start),
        cmocka_unit_test(query_check_order_and_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
