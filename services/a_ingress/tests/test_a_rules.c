/* A.6 / A.7 / A.8 acceptance cases 11, 12, 13 (spec 01 A.11). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "a_fixture.h"
#include "a_types.h"
#include "med/reason.h"

static int decide_with(med_rconfig_status st, int64_t elapsed, a_request *req, a_decision *d,
                       json_t **plc)
{
    *plc = fixture_placement(1);
    a_decide_in in = fixture_in(*plc);
    in.config_status = st;
    in.now_ms = in.received_at_ms + elapsed;
    return fixture_decide(&in, fixture_body(), NULL, 0, req, d);
}

static void case11_config_timeout_with_and_without_snapshot(void **state)
{
    (void)state;
    a_request req;
    a_decision d;
    json_t *plc;
    assert_int_equal(decide_with(MED_RCFG_STALE_TIMEOUT, 1, &req, &d, &plc), 1);
    assert_int_equal(d.kind, A_KIND_CREATE);
    assert_string_equal(d.error_action, A_ERR_DEGRADE);
    assert_string_equal(d.reason_code, MED_R_A_TRG_CONFIG_TIMEOUT_WITH_SNAPSHOT);
    assert_string_equal(d.cfg.failure_mode, "fail_open");
    assert_string_equal(d.cfg.h_code, MED_R_H_CFG_FAIL_OPEN_TIMEOUT_STALE_GRACE);
    assert_string_equal(d.secondary[0], MED_R_A_TRG_MAP_ANSWER_END_ELIGIBLE);
    a_request_free(&req);
    json_decref(plc);

    assert_int_equal(decide_with(MED_RCFG_NONE_TIMEOUT, 1, &req, &d, &plc), 0);
    assert_int_equal(d.kind, A_KIND_TERMINAL);
    assert_string_equal(d.reason_code, MED_R_A_TRG_CONFIG_TIMEOUT_NO_SNAPSHOT);
    assert_string_equal(d.trigger_action, A_ACT_REJECT);
    assert_string_equal(d.delivery_status_hint, "error");
    assert_string_equal(d.cfg.failure_mode, "fail_closed");
    assert_int_equal(d.has_keys, 1);   /* E answers under a request key */
    a_request_free(&req);
    json_decref(plc);
}

static void case12_version_invalid_fails_closed(void **state)
{
    (void)state;
    a_request req;
    a_decision d;
    json_t *plc;
    assert_int_equal(decide_with(MED_RCFG_VERSION_INVALID, 1, &req, &d, &plc), 0);
    assert_int_equal(d.kind, A_KIND_TERMINAL);
    assert_string_equal(d.reason_code, MED_R_A_TRG_CONFIG_VERSION_INVALID);
    assert_string_equal(d.cfg.failure_mode, "fail_closed");
    assert_string_equal(d.cfg.h_code, MED_R_H_CFG_FAIL_CLOSED_VERSION_INVALID);
    assert_string_equal(d.cfg.scenario, "config_version_invalid");
    a_request_free(&req);
    json_decref(plc);

    a_config_outcome o;
    a_config_classify(MED_RCFG_STALE_UNAVAILABLE, &o);
    assert_string_equal(o.a_code, MED_R_A_TRG_CONFIG_UNAVAILABLE_WITH_SNAPSHOT);
    assert_string_equal(o.h_code, MED_R_H_CFG_FAIL_OPEN_UNAVAILABLE_STABLE_SNAPSHOT);
    a_config_classify(MED_RCFG_NONE_UNAVAILABLE, &o);
    assert_string_equal(o.a_code, MED_R_A_TRG_CONFIG_UNAVAILABLE_NO_SNAPSHOT);
    assert_int_equal(o.reject, 1);
}

static void case13_budget_and_internal_unavailable(void **state)
{
    (void)state;
    a_request req;
    a_decision d;
    json_t *plc;
    assert_int_equal(decide_with(MED_RCFG_FRESH, 80, &req, &d, &plc), 1);
    assert_int_equal(d.kind, A_KIND_CREATE);
    assert_string_equal(d.reason_code, MED_R_A_TRG_SOFT_BUDGET_EXCEEDED);
    assert_string_equal(d.error_action, A_ERR_DEGRADE);
    assert_string_equal(d.budget.latency_decision, "soft_exceeded");
    assert_int_equal(d.budget.elapsed_ms, 80);
    a_request_free(&req);
    json_decref(plc);

    assert_int_equal(decide_with(MED_RCFG_FRESH, 151, &req, &d, &plc), 1);
    assert_int_equal(d.kind, A_KIND_TERMINAL);
    assert_string_equal(d.reason_code, MED_R_A_TRG_HARD_BUDGET_EXCEEDED);
    assert_string_equal(d.trigger_action, A_ACT_REJECT);
    assert_string_equal(d.delivery_status_hint, "error");
    a_request_free(&req);
    json_decref(plc);

    assert_int_equal(decide_with(MED_RCFG_FRESH, 150, &req, &d, &plc), 1);
    assert_string_equal(d.budget.latency_decision, "soft_exceeded");
    /* Redis down (degraded) and then PostgreSQL down at create */
    a_decision_internal_unavailable(&d, "redis and postgres down");
    assert_int_equal(d.kind, A_KIND_REJECT_REPLY);
    assert_string_equal(d.reason_code, MED_R_A_TRG_INTERNAL_UNAVAILABLE);
    assert_int_equal(d.retryable, 1);
    a_request_free(&req);
    json_decref(plc);
}

static void a8_code_table(void **state)
{
    (void)state;
    a_code_class c;
    assert_int_equal(a_code_classify(MED_R_A_TRG_INTERNAL_UNAVAILABLE, &c), 0);
    assert_int_equal(c.retryable, 1);
    assert_string_equal(c.trigger_action, A_ACT_REJECT);
    assert_int_equal(a_code_classify(MED_R_A_TRG_DUPLICATE_REUSED_RESULT, &c), 0);
    assert_string_equal(c.trigger_action, A_ACT_NO_OP);
    assert_string_equal(c.error_action, A_ERR_ALLOW);
    assert_int_equal(a_code_classify(MED_R_A_TRG_SOFT_BUDGET_EXCEEDED, &c), 0);
    assert_string_equal(c.error_action, A_ERR_DEGRADE);
    assert_int_equal(a_code_classify(MED_R_A_TRG_MAP_BLOCKED_BY_POLICY, &c), 0);
    assert_null(c.trigger_action);
    assert_int_equal(a_code_classify("b_missing_required_field", &c), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(case11_config_timeout_with_and_without_snapshot),
        cmocka_unit_test(case12_version_invalid_fails_closed),
        cmocka_unit_test(case13_budget_and_internal_unavailable),
        cmocka_unit_test(a8_code_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
