/* Config failure matrix (spec 04 H.9, H.10 case 17). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "h_failure.h"
#include "med/jcs.h"
#include "med/reason.h"

enum { MOD_A, MOD_B, MOD_C, MOD_D, MOD_E, MOD_F, MOD_G, MOD_H };

static h_failure_input make_input(h_failure_scenario sc, bool snapshot)
{
    h_failure_input in = {.request_key = "req_0001abcd", .trace_key = "tr_0001abcd",
                          .scenario = sc, .has_stable_snapshot = snapshot,
                          .stable_snapshot_ref = snapshot ? "cfgres_0123456789abcdef" : NULL,
                          .last_stable_policy_id = "pol_stable_1", .anchor_hash = NULL,
                          .failure_detected_at_ms = 1795429200000, .detected_by_module = "A",
                          .generated_at_ms = 1795429200005};
    return in;
}

static h_failure_decision decide(const h_failure_input *in)
{
    h_failure_decision d;
    med_err err;
    med_err_clear(&err);
    assert_int_equal(h_failure_decide(in, &d, &err), MED_OK);
    return d;
}

static void case17_timeout_with_snapshot_fails_open(void **state)
{
    (void)state;
    h_failure_input in = make_input(H_FAIL_CONFIG_TIMEOUT, true);
    h_failure_decision d = decide(&in);
    assert_int_equal(d.mode, H_FAIL_OPEN);
    assert_string_equal(d.primary_reason_code, MED_R_H_CFG_FAIL_OPEN_TIMEOUT_STALE_GRACE);
    assert_int_equal(d.n_secondary, 0);
    assert_string_equal(d.module_action[MOD_A], "degrade on snapshot");
    assert_string_equal(d.module_action[MOD_D], "last stable policy, compatible adapters");
    assert_string_equal(d.module_action[MOD_H], "emit matrix snapshot");
}

static void case17_unavailable_without_snapshot_fails_closed(void **state)
{
    (void)state;
    h_failure_input in = make_input(H_FAIL_CONFIG_UNAVAILABLE, false);
    h_failure_decision d = decide(&in);
    assert_int_equal(d.mode, H_FAIL_CLOSED);
    assert_string_equal(d.primary_reason_code, MED_R_H_CFG_FAIL_CLOSED_NO_STABLE_SNAPSHOT);
    assert_string_equal(d.module_action[MOD_A], "reject");
    assert_string_equal(d.module_action[MOD_D], "blocked");
    assert_string_equal(d.module_action[MOD_E], "no_fill/error");
    in = make_input(H_FAIL_CONFIG_TIMEOUT, false);
    d = decide(&in);
    assert_string_equal(d.primary_reason_code, MED_R_H_CFG_FAIL_CLOSED_NO_STABLE_SNAPSHOT);
}

static void case17_version_invalid_no_supply_call_no_render(void **state)
{
    (void)state;
    for (int snap = 0; snap <= 1; snap++) {
        h_failure_input in = make_input(H_FAIL_CONFIG_VERSION_INVALID, snap);
        h_failure_decision d = decide(&in);
        assert_int_equal(d.mode, H_FAIL_CLOSED);
        assert_string_equal(d.primary_reason_code, MED_R_H_CFG_FAIL_CLOSED_VERSION_INVALID);
        assert_string_equal(d.module_action[MOD_A], "reject before B");
        assert_string_equal(d.module_action[MOD_D], "no supply call");
        assert_string_equal(d.module_action[MOD_E], "no render plan");
        assert_string_equal(d.module_action[MOD_H], "quarantine the version");
    }
}

static void unavailable_with_snapshot_restricted_modes(void **state)
{
    (void)state;
    h_failure_input in = make_input(H_FAIL_CONFIG_UNAVAILABLE, true);
    h_failure_decision d = decide(&in);
    assert_int_equal(d.mode, H_FAIL_OPEN);
    assert_string_equal(d.primary_reason_code, MED_R_H_CFG_FAIL_OPEN_UNAVAILABLE_STABLE_SNAPSHOT);
    assert_int_equal(d.n_secondary, 2);
    assert_string_equal(d.secondary_reason_codes[0],
                        MED_R_H_CFG_FAIL_OPEN_UNAVAILABLE_RESTRICTED_ROUTE_MODE);
    assert_string_equal(d.secondary_reason_codes[1],
                        MED_R_H_CFG_FAIL_OPEN_UNAVAILABLE_RESTRICTED_TEMPLATE_MODE);
    assert_string_equal(d.module_action[MOD_C], "strictest defaults");
    assert_string_equal(d.module_action[MOD_E], "stable templates only");
    assert_string_equal(d.module_action[MOD_G], "archive + index");
}

static void unknown_scenario_contract_violation(void **state)
{
    (void)state;
    assert_int_equal(h_failure_scenario_parse("config_exploded"), H_FAIL_UNKNOWN);
    assert_int_equal(h_failure_scenario_parse(NULL), H_FAIL_UNKNOWN);
    assert_int_equal(h_failure_scenario_parse("config_timeout"), H_FAIL_CONFIG_TIMEOUT);
    h_failure_input in = make_input(H_FAIL_UNKNOWN, true);
    h_failure_decision d = decide(&in);
    assert_int_equal(d.mode, H_FAIL_CLOSED);
    assert_string_equal(d.primary_reason_code, MED_R_H_CFG_FAIL_CLOSED_CONTRACT_VIOLATION);
}

static void snapshot_id_is_jcs_of_listed_fields(void **state)
{
    (void)state;
    h_failure_input in = make_input(H_FAIL_CONFIG_TIMEOUT, true);
    h_failure_decision d = decide(&in);
    json_t *fields = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "requestKey", "req_0001abcd",
        "traceKey", "tr_0001abcd", "configFailureScenario", "config_timeout", "failureMode",
        "fail_open", "primaryReasonCode", "h_cfg_fail_open_timeout_stale_grace",
        "stableSnapshotRefOrNA", "cfgres_0123456789abcdef", "lastStablePolicyIdOrNA",
        "pol_stable_1", "anchorHashOrNA", "NA", "failureDetectedAt", "2026-11-23T10:20:00.000Z");
    char hex[65];
    assert_int_equal(med_jcs_sha256(fields, hex, NULL), MED_OK);
    json_decref(fields);
    char want[32] = "cfgfail_";
    memcpy(want + 8, hex, 16);
    want[24] = '\0';
    assert_string_equal(d.snapshot_id, want);
    /* generatedAt is not part of the id: a retry keeps it */
    in.generated_at_ms += 1000;
    h_failure_decision again = decide(&in);
    assert_string_equal(again.snapshot_id, d.snapshot_id);
}

static void snapshot_renders_as_json(void **state)
{
    (void)state;
    h_failure_input in = make_input(H_FAIL_CONFIG_VERSION_INVALID, false);
    h_failure_decision d = decide(&in);
    json_t *j = h_failure_decision_to_json(&d);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "snapshotId")), d.snapshot_id);
    assert_string_equal(json_string_value(json_object_get(j, "failureMode")), "fail_closed");
    assert_string_equal(json_string_value(json_object_get(j, "stableSnapshotRefOrNA")), "NA");
    assert_string_equal(json_string_value(json_object_get(j, "moduleDAction")), "no supply call");
    assert_string_equal(json_string_value(json_object_get(j, "moduleEAction")), "no render plan");
    assert_string_equal(json_string_value(json_object_get(j, "detectedByModule")), "A");
    assert_int_equal(json_array_size(json_object_get(j, "secondaryReasonCodes")), 0);
    assert_string_equal(json_string_value(json_object_get(j, "generatedAt")),
                        "2026-11-23T10:20:00.005Z");
    json_decref(j);
}

static void missing_keys_invalid(void **state)
{
    (void)state;
    h_failure_input in = make_input(H_FAIL_CONFIG_TIMEOUT, true);
    in.request_key = "";
    h_failure_decision d;
    med_err err;
    assert_int_equal(h_failure_decide(&in, &d, &err), MED_ERR_INVALID);
    assert_string_equal(err.code, MED_R_H_CFG_FAIL_CLOSED_CONTRACT_VIOLATION);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(case17_timeout_with_snapshot_fails_open),
        cmocka_unit_test(case17_unavailable_without_snapshot_fails_closed),
        cmocka_unit_test(case17_version_invalid_no_supply_call_no_render),
        cmocka_unit_test(unavailable_with_snapshot_restricted_modes),
        cmocka_unit_test(unknown_scenario_contract_violation),
        cmocka_unit_test(snapshot_id_is_jcs_of_listed_fields),
        cmocka_unit_test(snapshot_renders_as_json),
        cmocka_unit_test(missing_keys_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
