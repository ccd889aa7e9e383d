/* D.4-D.7 execution with simulated sources: D.10 cases 9 to 18. */
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

typedef enum beh_kind { B_NOBID, B_BIDS, B_HANG, B_500, B_ID_MISMATCH, B_GARBAGE, B_OVERSIZED } beh_kind;

typedef struct beh {
    const char *sid;
    beh_kind kind;
    int64_t elapsed_ms;
    const char *bids;
} beh;

typedef struct script {
    const beh *b;
    int n;
    char called[32][D_ID_MAX];
    int n_called;
    int64_t tmax[32];
} script;

static void answer(void *ud, const char *sid, const char *payload, int hop, d_response *resp,
                   char *body, size_t cap)
{
    (void)hop;
    script *s = ud;
    json_error_t je;
    json_t *req = json_loads(payload, 0, &je);
    assert_non_null(req);
    s->tmax[s->n_called] = json_integer_value(json_object_get(req, "tmax"));
    json_decref(req);
    snprintf(s->called[s->n_called++], D_ID_MAX, "%s", sid);
    const beh *b = NULL;
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->b[i].sid, sid)) b = &s->b[i];
    assert_non_null(b);
    resp->transport = D_TR_OK;
    resp->http_status = 200;
    resp->elapsed_ms = b->elapsed_ms;
    switch (b->kind) {
    case B_NOBID: resp->http_status = 204; break;
    case B_BIDS: d_bid_body(payload, b->bids, body, cap); break;
    case B_HANG: resp->transport = D_TR_READ_TIMEOUT; resp->http_status = 0; break;
    case B_500: resp->http_status = 500; snprintf(body, cap, "oops"); break;
    case B_ID_MISMATCH: snprintf(body, cap, "{\"id\":\"other\",\"seatbid\":[]}"); break;
    case B_GARBAGE: snprintf(body, cap, "{\"seatbid\": [ {\"bid\": oops"); break;
    case B_OVERSIZED: resp->transport = D_TR_OVERSIZED; break;
    }
}

static void init_sources(d_fixture *f, char **entries, int n, const char *house)
{
    size_t len = 256 + (house ? strlen(house) : 0);
    for (int i = 0; i < n; i++) len += strlen(entries[i]) + 1;
    char *s = calloc(1, len);
    assert_non_null(s);
    strcat(s, "{\"adapterRegistryVersion\":\"reg-1\",\"sources\":[");
    for (int i = 0; i < n; i++) {
        if (i) strcat(s, ",");
        strcat(s, entries[i]);
        free(entries[i]);
    }
    strcat(s, "]");
    if (house) {
        strcat(s, ",\"houseAds\":");
        strcat(s, house);
    }
    strcat(s, "}");
    d_fixture_init(f, s);
    free(s);
}

static int run_script(d_fixture *f, d_run *r, script *s)
{
    d_fixture_plan(f);
    int calls = 0;
    assert_int_equal(d_fixture_run(f, r, answer, s, &calls), 0);
    return calls;
}

#define SCRIPT(arr) { .b = (arr), .n = (int)(sizeof(arr) / sizeof((arr)[0])) }

/* Case 9: tmax 1200, then min(2000, 1200). */
static void test_case09_budget_deduction(void **state)
{
    (void)state;
    char *e[] = { d_src_json("p1", "primary", 0, 1200, 1), d_src_json("s", "secondary", 0, 1200, 1) };
    d_fixture f;
    init_sources(&f, e, 2, NULL);
    f.ctx.route_budget_ms = 4500;
    f.ctx.strategy.strategy_timeout_ms = 3000;
    f.ctx.effective_budget_ms = 3000;
    const beh b[] = { { "p1", B_NOBID, 1000, NULL }, { "s", B_NOBID, 100, NULL } };
    script s = SCRIPT(b);
    d_run r;
    assert_int_equal(run_script(&f, &r, &s), 2);
    assert_int_equal(s.tmax[0], 1200);
    assert_int_equal(s.tmax[1], 1200);
    assert_int_equal(r.attempts[0].budget_before_ms, 3000);
    assert_int_equal(r.attempts[0].budget_after_ms, 2000);
    assert_int_equal(r.attempts[1].budget_before_ms, 2000);
    assert_int_equal(r.attempts[1].timeout_budget_ms, 1200);
    d_run_free(&r);
    d_fixture_free(&f);
}

/* Case 10: read timeout at the deadline, one retry, then non_retryable and
 * switch reason timeout. */
static void test_case10_hanging_primary(void **state)
{
    (void)state;
    char *e[] = { d_src_json("p1", "primary", 0, 300, 1), d_src_json("s", "secondary", 0, 300, 1) };
    d_fixture f;
    init_sources(&f, e, 2, NULL);
    const beh b[] = { { "p1", B_HANG, 300, NULL }, { "s", B_NOBID, 10, NULL } };
    script s = SCRIPT(b);
    d_run r;
    assert_int_equal(run_script(&f, &r, &s), 3);
    assert_int_equal(r.n_attempts, 3);
    assert_string_equal(r.attempts[0].outcome.reason_code, MED_R_D_TO_READ_TIMEOUT);
    assert_int_equal(r.attempts[0].outcome.action, D_ACT_RETRY_SAME_SOURCE);
    assert_int_equal(r.attempts[0].outcome.retryable, 1);
    assert_int_equal(r.attempts[1].route_hop, 2);
    assert_string_equal(r.attempts[1].outcome.reason_code, MED_R_D_TO_READ_TIMEOUT);
    assert_int_equal(r.attempts[1].outcome.retryable, 0);
    assert_int_equal(r.attempts[1].outcome.action, D_ACT_FALLBACK_NEXT_SOURCE);
    assert_string_not_equal(r.attempts[0].source_request_id, r.attempts[1].source_request_id);
    assert_int_equal(r.n_switches, 1);
    assert_string_equal(r.switches[0].from, "p1");
    assert_string_equal(r.switches[0].to, "s");
    assert_string_equal(r.switches[0].reason, "timeout");
    assert_int_equal(r.end, D_END_EXHAUSTED_NO_FILL);
    d_run_free(&r);
    d_fixture_free(&f);
}

/* Case 11: primary timeout, house fallback with one creative: served from
 * the fallback tier. */
static void test_case11_house_fallback_serves(void **state)
{
    (void)state;
    char *e[] = { d_src_json("p1", "primary", 0, 300, 1) };
    d_fixture f;
    init_sources(&f, e, 1,
                 "[{\"creativeId\":\"house_001\",\"placementTypes\":[\"native_feed\"],"
                 "\"title\":\"t\",\"clickUrl\":\"https://example.com\"}]");
    const beh b[] = { { "p1", B_HANG, 300, NULL } };
    script s = SCRIPT(b);
    d_run r;
    assert_int_equal(run_script(&f, &r, &s), 2);
    assert_int_equal(r.end, D_END_SERVED);
    assert_int_equal(r.final_tier, D_TIER_FALLBACK);
    assert_true(r.fallback_used);
    assert_int_equal(r.winners.n, 1);
    assert_string_equal(r.winners.items[0].creative_id, "house_001");
    assert_string_equal(r.winners.items[0].source_id, "house_ads");
    assert_int_equal(r.winners.items[0].bid_micros, 0);
    assert_string_equal(r.switches[r.n_switches - 1].reason, "strategy_fallback");
    d_run_free(&r);
    d_fixture_free(&f);
}

/* Case 12: the budget is spent before step 3. */
static void test_case12_budget_spent_before_step3(void **state)
{
    (void)state;
    char *e[] = { d_src_json("p1", "primary", 2, 600, 1), d_src_json("p2", "primary", 1, 600, 1),
                  d_src_json("s", "secondary", 0, 600, 1) };
    d_fixture f;
    init_sources(&f, e, 3, NULL);
    f.ctx.effective_budget_ms = 1000;
    const beh b[] = { { "p1", B_NOBID, 500, NULL }, { "p2", B_NOBID, 500, NULL },
                      { "s", B_NOBID, 1, NULL } };
    script s = SCRIPT(b);
    d_run r;
    assert_int_equal(run_script(&f, &r, &s), 2);
    assert_int_equal(r.end, D_END_BUDGET);
    assert_string_equal(r.final_code, MED_R_D_ROUTE_BUDGET_EXHAUSTED);
    assert_int_equal(r.trigger_step_index, 3);
    assert_int_equal(f.plan.steps[2].status, D_STEP_SKIPPED);
    d_run_free(&r);
    d_fixture_free(&f);
}

/* Case 13: every source returns 500: each retried once, fallback runs,
 * error / d_er_upstream_5xx from the fallback tier. */
static void test_case13_all_5xx(void **state)
{
    (void)state;
    char *e[] = { d_src_json("p1", "primary", 0, 100, 1), d_src_json("s", "secondary", 0, 100, 1),
                  d_src_json("f", "fallback", 0, 100, 1) };
    d_fixture f;
    init_sources(&f, e, 3, NULL);
    const beh b[] = { { "p1", B_500, 10, NULL }, { "s", B_500, 10, NULL }, { "f", B_500, 10, NULL } };
    script s = SCRIPT(b);
    d_run r;
    assert_int_equal(run_script(&f, &r, &s), 6);
    const char *want[] = { "p1", "p1", "s", "s", "f", "f" };
    for (int i = 0; i < 6; i++) {
        assert_string_equal(s.called[i], want[i]);
        assert_string_equal(r.attempts[i].outcome.reason_code, MED_R_D_ER_UPSTREAM_5XX);
    }
    assert_int_equal(r.end, D_END_ALL_ERRORS);
    assert_string_equal(r.final_code, MED_R_D_ER_UPSTREAM_5XX);
    assert_int_equal(r.final_tier, D_TIER_FALLBACK);
    assert_true(r.fallback_used);
    assert_string_equal(d_run_final_source(&r), "none");
    d_run_free(&r);
    d_fixture_free(&f);
}

/* Case 14: all sources answer 204. */
static void test_case14_all_no_bid(void **state)
{
    (void)state;
    char *e[] = { d_src_json("p1", "primary", 0, 100, 1), d_src_json("f", "fallback", 0, 100, 1) };
    d_fixture f;
    init_sources(&f, e, 2, NULL);
    f.ctx.strategy.fallback_policy = D_FB_ON_NO_FILL_ONLY;
    const beh b[] = { { "p1", B_NOBID, 10, NULL }, { "f", B_NOBID, 10, NULL } };
    script s = SCRIPT(b);
    d_run r;
    assert_int_equal(run_script(&f, &r, &s), 2);
    assert_int_equal(r.end, D_END_EXHAUSTED_NO_FILL);
    assert_string_equal(r.final_code, MED_R_D_NF_INVENTORY_UNAVAILABLE);
    assert_int_equal(r.final_tier, D_TIER_NONE);
    assert_int_equal(r.winners.n, 0);
    d_run_free(&r);
    d_fixture_free(&f);
}

/* on_no_fill_only: an error before the fallback keeps it closed. */
static void test_fallback_on_no_fill_only_skips_after_error(void **state)
{
    (void)state;
    char *e[] = { d_src_json("p1", "primary", 0, 100, 1), d_src_json("f", "fallback", 0, 100, 1) };
    d_fixture f;
    init_sources(&f, e, 2, NULL);
    f.ctx.strategy.fallback_policy = D_FB_ON_NO_FILL_ONLY;
    const beh b[] = { { "p1", B_GARBAGE, 10, NULL }, { "f", B_NOBID, 10, NULL } };
    script s = SCRIPT(b);
    d_run r;
    assert_int_equal(run_script(&f, &r, &s), 1);
    assert_int_equal(r.end, D_END_ALL_ERRORS);
    assert_false(r.fallback_used);
    assert_int_equal(f.plan.steps[1].status, D_STEP_SKIPPED);
    d_run_free(&r);
    d_fixture_free(&f);
}

/* Case 15: 2.4 beats 2.1 across a batch; ranked order kept. */
static void test_case15_highest_bid_wins(void **state)
{
    (void)state;
    char *e[] = { d_src_json("p1", "primary", 1, 100, 1), d_src_json("p2", "primary", 0, 100, 1) };
    d_fixture f;
    init_sources(&f, e, 2, NULL);
    f.ctx.strategy.type = D_STRAT_BIDDING;
    f.ctx.strategy.parallel_fanout = 2;
    const beh b[] = { { "p1", B_BIDS, 40, "[{\"id\":\"b1\",\"price\":2.1,\"crid\":\"cr-21\"}]" },
                      { "p2", B_BIDS, 50, "[{\"id\":\"b2\",\"price\":2.4,\"crid\":\"cr-24\"}]" } };
    script s = SCRIPT(b);
    d_run r;
    assert_int_equal(run_script(&f, &r, &s), 2);
    assert_int_equal(r.end, D_END_SERVED);
    assert_string_equal(r.final_code, MED_R_D_ROUTE_SHORT_CIRCUIT_SERVED);
    assert_int_equal(r.winners.n, 2);
    assert_int_equal(r.winners.items[0].bid_micros, 2400000);
    assert_string_equal(r.winners.items[0].creative_id, "cr-24");
    assert_int_equal(r.winners.items[1].bid_micros, 2100000);
    assert_int_equal(r.hit_step_index, 2);
    assert_int_equal(r.final_tier, D_TIER_PRIMARY);
    assert_false(r.fallback_used);
    d_run_free(&r);
    d_fixture_free(&f);
}

static int has_mapping(const d_run *r, const char *code)
{
    for (size_t i = 0; i < r->mappings.n; i++)
        if (!strcmp(r->mappings.items[i].reason_code, code)) return 1;
    return 0;
}

/* Case 16 (first half): a repeated bid id is dropped, the first kept. */
static void test_case16_duplicate_bid_dropped(void **state)
{
    (void)state;
    char *e[] = { d_src_json("p1", "primary", 0, 100, 1) };
    d_fixture f;
    init_sources(&f, e, 1, NULL);
    const beh b[] = { { "p1", B_BIDS, 10,
                        "[{\"id\":\"b1\",\"price\":1.0,\"crid\":\"first\"},"
                        "{\"id\":\"b1\",\"price\":3.0,\"crid\":\"second\"}]" } };
    script s = SCRIPT(b);
    d_run r;
    run_script(&f, &r, &s);
    assert_int_equal(r.end, D_END_SERVED);
    assert_int_equal(r.winners.n, 1);
    assert_string_equal(r.winners.items[0].creative_id, "first");
    assert_true(has_mapping(&r, MED_R_D_CANDIDATE_DUPLICATE_DROPPED));
    d_run_free(&r);
    d_fixture_free(&f);
}

/* Case 17: id mismatch -> contract mismatch without retry; garbage and
 * oversized -> malformed. */
static void test_case17_contract_mismatch_and_malformed(void **state)
{
    (void)state;
    char *e[] = { d_src_json("p1", "primary", 3, 100, 1), d_src_json("p2", "primary", 2, 100, 1),
                  d_src_json("p3", "primary", 1, 100, 1) };
    d_fixture f;
    init_sources(&f, e, 3, NULL);
    const beh b[] = { { "p1", B_ID_MISMATCH, 10, NULL }, { "p2", B_GARBAGE, 10, NULL },
                      { "p3", B_OVERSIZED, 10, NULL } };
    script s = SCRIPT(b);
    d_run r;
    assert_int_equal(run_script(&f, &r, &s), 3);
    assert_string_equal(r.attempts[0].outcome.reason_code, MED_R_D_EN_CONTRACT_MISMATCH);
    assert_int_equal(r.attempts[0].outcome.retryable, 0);
    assert_int_equal(r.attempts[0].outcome.action, D_ACT_FALLBACK_NEXT_SOURCE);
    assert_string_equal(r.attempts[1].outcome.reason_code, MED_R_D_EN_MALFORMED_RESPONSE);
    assert_string_equal(r.attempts[2].outcome.reason_code, MED_R_D_EN_MALFORMED_RESPONSE);
    assert_int_equal(r.end, D_END_ALL_ERRORS);
    d_run_free(&r);
    d_fixture_free(&f);
}

/* Case 18: two failures in a row open the circuit; the next step is an
 * error without a call. */
static void test_case18_circuit_opens(void **state)
{
    (void)state;
    char *e[] = { d_src_json("p1", "primary", 1, 100, 1), d_src_json("s", "secondary", 0, 100, 1) };
    d_fixture f;
    init_sources(&f, e, 2, NULL);
    const beh b[] = { { "p1", B_500, 10, NULL }, { "s", B_NOBID, 10, NULL } };
    script s = SCRIPT(b);
    d_run r;
    assert_int_equal(run_script(&f, &r, &s), 3);
    d_run_free(&r);
    d_plan_clear(&f.plan);
    script s2 = SCRIPT(b);
    d_fixture_plan(&f);
    int calls = 0;
    assert_int_equal(d_fixture_run(&f, &r, answer, &s2, &calls), 0);
    assert_int_equal(calls, 1);
    assert_string_equal(s2.called[0], "s");
    assert_string_equal(r.attempts[0].outcome.reason_code, MED_R_D_ER_DEPENDENCY_UNAVAILABLE);
    assert_int_equal(r.attempts[0].outcome.retryable, 1);
    assert_int_equal(r.attempts[0].outcome.action, D_ACT_FALLBACK_NEXT_SOURCE);
    assert_false(r.attempts[0].sent);
    d_run_free(&r);
    d_fixture_free(&f);
}

/* D.5 policy filter: a badv domain drops the bid; no_fill policy_filtered. */
static void test_policy_filtered_bid(void **state)
{
    (void)state;
    char *e[] = { d_src_json("p1", "primary", 0, 100, 1) };
    d_fixture f;
    init_sources(&f, e, 1, NULL);
    d_strlist_add(&f.cons.badv, "blocked.example");
    const beh b[] = { { "p1", B_BIDS, 10,
                        "[{\"id\":\"b1\",\"price\":1.0,\"crid\":\"c\",\"adomain\":[\"blocked.example\"]}]" } };
    script s = SCRIPT(b);
    d_run r;
    run_script(&f, &r, &s);
    assert_int_equal(r.end, D_END_EXHAUSTED_NO_FILL);
    assert_string_equal(r.final_code, MED_R_D_NF_POLICY_FILTERED);
    d_run_free(&r);
    d_fixture_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_case09_budget_deduction),
        cmocka_unit_test(test_case10_hanging_primary),
        cmocka_unit_test(test_case11_house_fallback_serves),
        cmocka_unit_test(test_case12_budget_spent_before_step3),
        cmocka_unit_test(test_case13_all_5xx),
        cmocka_unit_test(test_case14_all_no_bid),
        cmocka_unit_test(test_fallback_on_no_fill_only_skips_after_error),
        cmocka_unit_test(test_case15_highest_bid_wins),
        cmocka_unit_test(test_case16_duplicate_bid_dropped),
        cmocka_unit_test(test_case17_contract_mismatch_and_malformed),
        cmocka_unit_test(test_case18_circuit_opens),
        cmocka_unit_test(test_policy_filtered_bid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
