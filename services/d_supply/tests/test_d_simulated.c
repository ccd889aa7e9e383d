/* D.3 simulated adapter: every scripted outcome reaches D.5 / D.6 through
 * the path a network answer takes (normalize, classify, routeAction,
 * breaker), and nothing goes to the network. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "d_adapter.h"
#include "d_strlist.h"
#include "d_test_util.h"
#include "med/reason.h"

static void no_network(void *ud, const char *sid, const char *payload, int hop, d_response *resp,
                       char *body, size_t cap)
{
    (void)ud, (void)payload, (void)hop, (void)resp, (void)body, (void)cap;
    fail_msg("simulated source %s went to the network", sid);
}

/* A route_policy of simulated sources: "<id>|<tier>|<routingAttributes>". */
static void init_sim(d_fixture *f, const char *const *entries, int n, int timeout_ms)
{
    char *rp = strdup("{\"adapterRegistryVersion\":\"reg-1\",\"sources\":[");
    for (int i = 0; i < n; i++) {
        char id[16], tier[16];
        const char *ra = strchr(strchr(entries[i], '|') + 1, '|') + 1;
        sscanf(entries[i], "%15[^|]|%15[^|]", id, tier);
        char *next = NULL;
        assert_true(asprintf(&next,
                             "%s%s{\"sourceId\":\"%s\",\"adapterId\":\"sim\","
                             "\"sourceType\":\"simulated_inventory\",\"status\":\"active\","
                             "\"timeoutPolicyMs\":%d,\"supportedPlacementTypes\":[\"native_feed\"],"
                             "\"routingAttributes\":{\"routeTier\":\"%s\",\"sourcePriorityScore\":%d,%s}}",
                             rp, i ? "," : "", id, timeout_ms, tier, 100 - i, ra) > 0);
        free(rp);
        rp = next;
    }
    char *full = NULL;
    assert_true(asprintf(&full, "%s]}", rp) > 0);
    free(rp);
    d_fixture_init(f, full);
    free(full);
    assert_int_equal(f->reg.n_sources, n);
}

static void run(d_fixture *f, d_run *r)
{
    d_fixture_plan(f);
    int calls = -1;
    assert_int_equal(d_fixture_run(f, r, no_network, NULL, &calls), 0);
    assert_int_equal(calls, 0);
}

/* fill: one bid of simulatedPriceMicros in settlementCurrency, the
 * scripted creative, normalized and served like a network bid. */
static void test_fill_serves_through_normalization(void **state)
{
    (void)state;
    const char *e[] = { "sim_a|primary|\"simulatedOutcome\":\"fill\",\"simulatedPriceMicros\":1250000,"
                        "\"simulatedLatencyMs\":40,\"simulatedCreative\":{\"creativeId\":\"cr_1\","
                        "\"title\":\"Hi\",\"landingType\":\"deeplink\",\"adomain\":[\"ok.example\"]}" };
    d_fixture f;
    init_sim(&f, e, 1, 100);
    d_run r;
    run(&f, &r);
    assert_int_equal(r.end, D_END_SERVED);
    assert_int_equal(r.n_attempts, 1);
    assert_true(r.attempts[0].sent);
    assert_int_equal(r.attempts[0].outcome.type, D_OUT_CANDIDATE);
    assert_int_equal(r.attempts[0].outcome.elapsed_ms, 40);
    assert_int_equal(r.winners.n, 1);
    const d_candidate *c = &r.winners.items[0];
    assert_string_equal(c->source_id, "sim_a");
    assert_int_equal(c->bid_micros, 1250000);
    assert_string_equal(c->currency, "USD");
    assert_string_equal(c->creative_id, "cr_1");
    assert_string_equal(c->landing_type, "deeplink");
    assert_int_equal(c->latency_ms, 40);
    assert_string_equal(json_string_value(json_object_get(c->bid, "adm")), "{\"title\":\"Hi\"}");
    d_run_free(&r);
    d_fixture_free(&f);
}

/* fill without a creative: creativeId sim_<sourceId>, landing external. */
static void test_fill_defaults(void **state)
{
    (void)state;
    const char *e[] = { "sim_b|primary|\"simulatedOutcome\":\"fill\"" };
    d_fixture f;
    init_sim(&f, e, 1, 100);
    d_run r;
    run(&f, &r);
    assert_int_equal(r.end, D_END_SERVED);
    assert_string_equal(r.winners.items[0].creative_id, "sim_sim_b");
    assert_string_equal(r.winners.items[0].landing_type, "external");
    assert_int_equal(r.winners.items[0].bid_micros, 0);
    d_run_free(&r);
    d_fixture_free(&f);
}

/* A badv domain drops the simulated bid as it would a network one. */
static void test_fill_policy_filtered(void **state)
{
    (void)state;
    const char *e[] = { "sim_c|primary|\"simulatedOutcome\":\"fill\",\"simulatedCreative\":"
                        "{\"creativeId\":\"cr\",\"adomain\":[\"bad.example\"]}" };
    d_fixture f;
    init_sim(&f, e, 1, 100);
    assert_int_equal(d_strlist_add(&f.cons.badv, "bad.example"), 0);
    d_run r;
    run(&f, &r);
    assert_int_equal(r.attempts[0].outcome.type, D_OUT_NO_FILL);
    assert_string_equal(r.attempts[0].outcome.reason_code, MED_R_D_NF_POLICY_FILTERED);
    assert_int_equal(r.end, D_END_EXHAUSTED_NO_FILL);
    d_run_free(&r);
    d_fixture_free(&f);
}

/* no_fill: inventory unavailable; with simulatedNbr the OpenRTB table. */
static void test_no_fill_and_nbr(void **state)
{
    (void)state;
    const char *e[] = { "sim_n|primary|\"simulatedOutcome\":\"no_fill\"",
                        "sim_t|secondary|\"simulatedOutcome\":\"no_fill\",\"simulatedNbr\":8" };
    d_fixture f;
    init_sim(&f, e, 2, 100);
    d_run r;
    run(&f, &r);
    assert_int_equal(r.n_attempts, 2);
    assert_int_equal(r.attempts[0].outcome.type, D_OUT_NO_FILL);
    assert_string_equal(r.attempts[0].outcome.reason_code, MED_R_D_NF_INVENTORY_UNAVAILABLE);
    assert_int_equal(r.attempts[0].outcome.action, D_ACT_FALLBACK_NEXT_SOURCE);
    assert_string_equal(r.attempts[1].outcome.reason_code, MED_R_D_NF_TARGETING_UNMATCHED);
    assert_int_equal(r.end, D_END_EXHAUSTED_NO_FILL);
    assert_string_equal(r.final_code, MED_R_D_NF_TARGETING_UNMATCHED);
    /* a no_fill is no failure: the circuit stays closed */
    char key[D_BREAKER_KEY_MAX];
    assert_int_equal(d_breaker_key(NULL, "sim_n", key, sizeof key), 0);
    assert_true(d_breaker_closed(&f.breakers, key, 0));
    d_run_free(&r);
    d_fixture_free(&f);
}

/* timeout: a read timeout that used the whole step budget, retried once,
 * then non_retryable; the plan clock moved by both budgets, nothing slept;
 * the two failures open the source's circuit. */
static void test_timeout_is_a_read_timeout(void **state)
{
    (void)state;
    const char *e[] = { "sim_to|primary|\"simulatedOutcome\":\"timeout\"",
                        "sim_ok|secondary|\"simulatedOutcome\":\"fill\"" };
    d_fixture f;
    init_sim(&f, e, 2, 400);
    d_run r;
    run(&f, &r);
    assert_int_equal(r.n_attempts, 3);
    const d_outcome *o1 = &r.attempts[0].outcome, *o2 = &r.attempts[1].outcome;
    assert_int_equal(o1->type, D_OUT_TIMEOUT);
    assert_string_equal(o1->reason_code, MED_R_D_TO_READ_TIMEOUT);
    assert_int_equal(o1->retryable, 1);
    assert_int_equal(o1->action, D_ACT_RETRY_SAME_SOURCE);
    assert_int_equal(o1->elapsed_ms, 400);
    assert_int_equal(r.attempts[1].route_hop, 2);
    assert_string_equal(o2->reason_code, MED_R_D_TO_READ_TIMEOUT);
    assert_int_equal(o2->retryable, 0);
    assert_int_equal(o2->action, D_ACT_FALLBACK_NEXT_SOURCE);
    /* 3000 ms route budget, two 400 ms timeouts spent */
    assert_int_equal(r.attempts[2].budget_before_ms, 2200);
    assert_int_equal(r.end, D_END_SERVED);
    char key[D_BREAKER_KEY_MAX];
    assert_int_equal(d_breaker_key(NULL, "sim_to", key, sizeof key), 0);
    assert_false(d_breaker_closed(&f.breakers, key, 0));
    d_run_free(&r);
    d_fixture_free(&f);
}

/* A timeout whose step budget was cut by the route budget is terminal. */
static void test_timeout_on_a_cut_budget(void **state)
{
    (void)state;
    const char *e[] = { "sim_to|primary|\"simulatedOutcome\":\"timeout\"" };
    d_fixture f;
    init_sim(&f, e, 1, 400);
    f.ctx.effective_budget_ms = 300;
    d_run r;
    run(&f, &r);
    assert_int_equal(r.attempts[0].timeout_budget_ms, 300);
    assert_string_equal(r.attempts[0].outcome.reason_code, MED_R_D_TO_ROUTE_BUDGET_EXHAUSTED);
    assert_int_equal(r.attempts[0].outcome.action, D_ACT_TERMINAL);
    d_run_free(&r);
    d_fixture_free(&f);
}

/* error: simulatedHttpStatus through the D.6 HTTP table. */
static void test_error_statuses(void **state)
{
    (void)state;
    const char *e[] = { "e5|primary|\"simulatedOutcome\":\"error\"",
                        "e4|secondary|\"simulatedOutcome\":\"error\",\"simulatedHttpStatus\":401" };
    d_fixture f;
    init_sim(&f, e, 2, 100);
    d_run r;
    run(&f, &r);
    assert_int_equal(r.n_attempts, 3);
    assert_string_equal(r.attempts[0].outcome.reason_code, MED_R_D_ER_UPSTREAM_5XX);
    assert_int_equal(r.attempts[0].outcome.http_status, 500);
    assert_int_equal(r.attempts[0].outcome.action, D_ACT_RETRY_SAME_SOURCE);
    assert_string_equal(r.attempts[1].outcome.reason_code, MED_R_D_ER_UPSTREAM_5XX);
    assert_string_equal(r.attempts[2].outcome.reason_code, MED_R_D_EN_AUTH_FAILED);
    assert_int_equal(r.attempts[2].outcome.retryable, 0);
    assert_int_equal(r.end, D_END_ALL_ERRORS);
    d_run_free(&r);
    d_fixture_free(&f);
}

/* A latency beyond the step budget is a late answer: dropped, a timeout. */
static void test_late_answer_is_a_timeout(void **state)
{
    (void)state;
    const char *e[] = { "late|primary|\"simulatedOutcome\":\"fill\",\"simulatedLatencyMs\":250" };
    d_fixture f;
    init_sim(&f, e, 1, 100);
    d_run r;
    run(&f, &r);
    assert_int_equal(r.attempts[0].outcome.type, D_OUT_TIMEOUT);
    assert_string_equal(r.attempts[0].outcome.reason_code, MED_R_D_TO_SOURCE_DEADLINE_EXCEEDED);
    assert_int_equal(r.winners.n, 0);
    d_run_free(&r);
    d_fixture_free(&f);
}

/* The breaker gates simulated sources: after two errors the next plan's
 * step ends as d_er_dependency_unavailable without an answer. */
static void test_open_circuit_gates_a_simulated_source(void **state)
{
    (void)state;
    const char *e[] = { "e5|primary|\"simulatedOutcome\":\"error\"",
                        "ok|secondary|\"simulatedOutcome\":\"fill\"" };
    d_fixture f;
    init_sim(&f, e, 2, 100);
    d_run r;
    run(&f, &r);
    assert_int_equal(r.end, D_END_SERVED);
    d_run_free(&r);
    d_plan_clear(&f.plan);
    run(&f, &r);
    assert_string_equal(r.attempts[0].outcome.reason_code, MED_R_D_ER_DEPENDENCY_UNAVAILABLE);
    assert_false(r.attempts[0].sent);
    assert_int_equal(r.attempts[0].outcome.action, D_ACT_FALLBACK_NEXT_SOURCE);
    assert_int_equal(r.end, D_END_SERVED);
    d_run_free(&r);
    d_fixture_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fill_serves_through_normalization),
        cmocka_unit_test(test_fill_defaults),
        cmocka_unit_test(test_fill_policy_filtered),
        cmocka_unit_test(test_no_fill_and_nbr),
        cmocka_unit_test(test_timeout_is_a_read_timeout),
        cmocka_unit_test(test_timeout_on_a_cut_budget),
        cmocka_unit_test(test_error_statuses),
        cmocka_unit_test(test_late_answer_is_a_timeout),
        cmocka_unit_test(test_open_circuit_gates_a_simulated_source),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
