/* D.7 route plan: D.10 cases 3, 4, 5 and 6. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "d_strlist.h"
#include "d_test_util.h"
#include "med/reason.h"

static char *policy_of(char **entries, int n)
{
    size_t len = 64;
    for (int i = 0; i < n; i++) len += strlen(entries[i]) + 1;
    char *s = calloc(1, len);
    assert_non_null(s);
    strcat(s, "{\"adapterRegistryVersion\":\"reg-1\",\"sources\":[");
    for (int i = 0; i < n; i++) {
        if (i) strcat(s, ",");
        strcat(s, entries[i]);
        free(entries[i]);
    }
    strcat(s, "]}");
    return s;
}

static void init_with(d_fixture *f, char **entries, int n)
{
    char *rp = policy_of(entries, n);
    d_fixture_init(f, rp);
    free(rp);
}

/* Case 3: a paused source is ineligible and gets no step. */
static void test_case03_paused_source_ineligible(void **state)
{
    (void)state;
    char *paused = NULL;
    assert_true(asprintf(&paused,
                         "{\"sourceId\":\"p2\",\"adapterId\":\"a\",\"sourceType\":\"alliance\","
                         "\"status\":\"paused\",\"statusReasonCode\":\"ops_pause\","
                         "\"endpoint\":\"http://x/\",\"timeoutPolicyMs\":100,"
                         "\"supportedPlacementTypes\":[\"native_feed\"]}") > 0);
    char *e[] = { d_src_json("p1", "primary", 0, 100, 1), paused };
    d_fixture f;
    init_with(&f, e, 2);
    d_fixture_plan(&f);
    assert_int_equal(f.plan.ineligible.n, 1);
    assert_string_equal(f.plan.ineligible.items[0], "p2");
    assert_int_equal(d_fixture_step_of(&f, "p2"), -1);
    assert_int_equal(f.plan.n_steps, 1);
    d_fixture_free(&f);
}

/* Case 4: tie-break by cost, tiers in order, blocked primary filtered,
 * same routePlanId when planned again. */
static void test_case04_waterfall_tie_break_and_stable_id(void **state)
{
    (void)state;
    char *e[] = { d_src_json("f", "fallback", 0, 100, 1), d_src_json("s", "secondary", 0, 100, 1),
                  d_src_json("p2", "primary", 5, 100, 3), d_src_json("p1", "primary", 5, 100, 2),
                  d_src_json("pb", "primary", 100, 100, 1) };
    d_fixture f;
    init_with(&f, e, 5);
    assert_int_equal(d_strlist_add(&f.cons.blocked, "pb"), 0);
    d_fixture_plan(&f);
    assert_int_equal(f.plan.n_steps, 4);
    const char *want[] = { "p1", "p2", "s", "f" };
    for (int i = 0; i < 4; i++) {
        assert_string_equal(d_fixture_step_source(&f, i), want[i]);
        assert_int_equal(f.plan.steps[i].step_index, i + 1);
        assert_int_equal(f.plan.steps[i].max_retry_count, 1);
        assert_int_equal(f.plan.steps[i].batch_index, 0);
    }
    assert_string_equal(f.plan.steps[0].entry_condition, "on_plan_start");
    assert_string_equal(f.plan.steps[1].entry_condition, "on_previous_step_no_candidate");
    assert_string_equal(f.plan.steps[2].entry_condition, "on_primary_no_candidate");
    assert_string_equal(f.plan.steps[3].entry_condition, "on_prior_tiers_no_candidate");
    assert_int_equal(f.plan.filtered_out.n, 1);
    assert_string_equal(f.plan.filtered_out.items[0], "pb");
    assert_int_equal(strncmp(f.plan.route_plan_id, "rp_", 3), 0);
    assert_int_equal(strlen(f.plan.route_plan_id), 23);
    char first[32];
    snprintf(first, sizeof first, "%s", f.plan.route_plan_id);
    d_plan_clear(&f.plan);
    d_fixture_plan(&f);
    assert_string_equal(f.plan.route_plan_id, first);
    /* another opportunity gets another plan id */
    f.ctx.opportunity_key = "op_other0000000000";
    d_plan_clear(&f.plan);
    d_fixture_plan(&f);
    assert_string_not_equal(f.plan.route_plan_id, first);
    d_fixture_free(&f);
}

static void no_call(void *ud, const char *sid, const char *payload, int hop, d_response *resp,
                    char *body, size_t cap)
{
    (void)ud; (void)sid; (void)payload; (void)hop; (void)body; (void)cap;
    resp->transport = D_TR_OK;
    resp->http_status = 204;
}

/* Case 5: allowlist of two blocked sources: no_fill, no available source,
 * zero HTTP calls. */
static void test_case05_allowlist_all_blocked(void **state)
{
    (void)state;
    char *e[] = { d_src_json("p1", "primary", 0, 100, 1), d_src_json("p2", "primary", 0, 100, 1) };
    d_fixture f;
    init_with(&f, e, 2);
    f.cons.mode = D_SEL_ALLOWLIST_ONLY;
    d_strlist_add(&f.cons.allowed, "p1");
    d_strlist_add(&f.cons.allowed, "p2");
    d_strlist_add(&f.cons.blocked, "p1");
    d_strlist_add(&f.cons.blocked, "p2");
    d_fixture_plan(&f);
    assert_true(f.plan.terminated);
    assert_int_equal(f.plan.filtered_out.n, 2);
    d_run r;
    int calls = -1;
    assert_int_equal(d_fixture_run(&f, &r, no_call, NULL, &calls), 0);
    assert_int_equal(calls, 0);
    assert_int_equal(r.end, D_END_NO_SOURCE);
    assert_string_equal(r.final_code, MED_R_D_ROUTE_NO_AVAILABLE_SOURCE);
    assert_int_equal(r.n_attempts, 0);
    d_run_free(&r);
    d_fixture_free(&f);
}

/* Case 6: bidding with fanout 2 over three primaries. */
static void test_case06_bidding_fanout(void **state)
{
    (void)state;
    char *e[] = { d_src_json("p1", "primary", 3, 100, 1), d_src_json("p2", "primary", 2, 100, 1),
                  d_src_json("p3", "primary", 1, 100, 1) };
    d_fixture f;
    init_with(&f, e, 3);
    f.ctx.strategy.type = D_STRAT_BIDDING;
    f.ctx.strategy.parallel_fanout = 2;
    d_fixture_plan(&f);
    assert_int_equal(f.plan.n_steps, 2);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(f.plan.steps[i].batch_index, 1);
        assert_int_equal(f.plan.steps[i].max_retry_count, 0);
    }
    assert_string_equal(d_fixture_step_source(&f, 0), "p1");
    assert_string_equal(d_fixture_step_source(&f, 1), "p2");
    assert_int_equal(f.plan.not_planned.n, 1);
    assert_string_equal(f.plan.not_planned.items[0], "p3");
    assert_int_equal(f.plan.effective_pool.n, 2);
    d_fixture_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_case03_paused_source_ineligible),
        cmocka_unit_test(test_case04_waterfall_tie_break_and_stable_id),
        cmocka_unit_test(test_case05_allowlist_all_blocked),
        cmocka_unit_test(test_case06_bidding_fanout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
