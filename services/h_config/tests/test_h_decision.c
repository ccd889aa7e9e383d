/* Config decision audit (spec 04 H.8, H.10 case 17 last sentence). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "h_decision.h"
#include "med/ids.h"
#include "med/reason.h"

static h_decision_input make_input(void)
{
    h_decision_input in = {.request_key = "req_0001abcd", .trace_key = "tr_0001abcd",
                           .resolve_id = "cfgres_0123456789abcdef",
                           .config_key = "app_demo|plc_feed|prod|1.1.0",
                           .anchor_hash = "ab12", .generated_at_ms = 1795429200000,
                           .contract_version = "cfgdec_v1"};
    return in;
}

static void set_stage(h_decision_input *in, h_decision_stage s, h_verdict v, const char *code)
{
    in->stages[s].result = v;
    in->stages[s].stage_reason_code = code;
}

static h_decision build(const h_decision_input *in)
{
    h_decision d;
    med_err err;
    med_err_clear(&err);
    assert_int_equal(h_decision_build(in, &d, &err), MED_OK);
    return d;
}

static void case17_gate_reject_primary_version_gate_failed(void **state)
{
    (void)state;
    h_decision_input in = make_input();
    set_stage(&in, H_DSTAGE_RESOLVE, H_DEGRADE, MED_R_H_CFG_SCOPE_UNAVAILABLE);
    set_stage(&in, H_DSTAGE_VERSION_GATE, H_REJECT, MED_R_H_GATE_SDK_BELOW_MIN_REJECT);
    h_decision d = build(&in);
    assert_int_equal(d.action, H_DECISION_REJECT);
    assert_string_equal(d.primary_reason_code, MED_R_H_CFG_DECISION_REJECT_VERSION_GATE_FAILED);
    /* secondary codes keep the action's prefix: the resolve degrade is not one */
    assert_int_equal(d.n_secondary, 0);
}

static void first_reject_stage_is_primary(void **state)
{
    (void)state;
    h_decision_input in = make_input();
    set_stage(&in, H_DSTAGE_VERSION_GATE, H_REJECT, MED_R_H_GATE_SCHEMA_INCOMPATIBLE_REJECT);
    set_stage(&in, H_DSTAGE_FINALIZE, H_REJECT, MED_R_H_ANCHOR_MUTATION_FORBIDDEN);
    h_decision d = build(&in);
    assert_string_equal(d.primary_reason_code, MED_R_H_CFG_DECISION_REJECT_VERSION_GATE_FAILED);
    assert_int_equal(d.n_secondary, 1);
    assert_string_equal(d.secondary_reason_codes[0], MED_R_H_CFG_DECISION_REJECT_ANCHOR_INVALID);
}

static void degrades_in_stage_order(void **state)
{
    (void)state;
    h_decision_input in = make_input();
    set_stage(&in, H_DSTAGE_CACHE, H_DEGRADE, MED_R_H_CFG_CACHE_STALE_GRACE_SERVED);
    set_stage(&in, H_DSTAGE_ROLLOUT, H_DEGRADE, "h_rollout_force_fallback_applied");
    set_stage(&in, H_DSTAGE_VERSION_GATE, H_DEGRADE, MED_R_H_GATE_ADAPTER_PARTIAL_DEGRADE);
    set_stage(&in, H_DSTAGE_RESOLVE, H_DEGRADE, MED_R_H_CFG_SCOPE_UNAVAILABLE);
    h_decision d = build(&in);
    assert_int_equal(d.action, H_DECISION_DEGRADE);
    assert_string_equal(d.primary_reason_code, MED_R_H_CFG_DECISION_DEGRADE_SCOPE_UNAVAILABLE);
    assert_int_equal(d.n_secondary, 3);
    assert_string_equal(d.secondary_reason_codes[0],
                        MED_R_H_CFG_DECISION_DEGRADE_PARTIAL_ADAPTER_COMPATIBLE);
    assert_string_equal(d.secondary_reason_codes[1],
                        MED_R_H_CFG_DECISION_DEGRADE_ROLLOUT_FORCE_FALLBACK);
    assert_string_equal(d.secondary_reason_codes[2],
                        MED_R_H_CFG_DECISION_DEGRADE_STALE_GRACE_SERVED);
    /* without resolve, the gate's degrade comes first */
    set_stage(&in, H_DSTAGE_RESOLVE, H_ALLOW, NULL);
    d = build(&in);
    assert_string_equal(d.primary_reason_code,
                        MED_R_H_CFG_DECISION_DEGRADE_PARTIAL_ADAPTER_COMPATIBLE);
    assert_int_equal(d.n_secondary, 2);
}

static void hit_codes(void **state)
{
    (void)state;
    h_decision_input in = make_input();
    h_decision d = build(&in);
    assert_int_equal(d.action, H_DECISION_HIT);
    assert_string_equal(d.primary_reason_code, MED_R_H_CFG_DECISION_HIT_EXACT_MATCH);
    assert_int_equal(d.n_secondary, 0);
    in.override_applied = true;
    d = build(&in);
    assert_string_equal(d.primary_reason_code, MED_R_H_CFG_DECISION_HIT_OVERRIDE_APPLIED);
    in.cache_revalidated_304 = true;
    d = build(&in);
    assert_string_equal(d.primary_reason_code, MED_R_H_CFG_DECISION_HIT_CACHE_REVALIDATED_304);
    assert_int_equal(d.n_secondary, 1);
    assert_string_equal(d.secondary_reason_codes[0], MED_R_H_CFG_DECISION_HIT_OVERRIDE_APPLIED);
}

static void snapshot_id_stable_across_calls(void **state)
{
    (void)state;
    h_decision_input in = make_input();
    h_decision a = build(&in);
    set_stage(&in, H_DSTAGE_VERSION_GATE, H_REJECT, NULL);
    in.generated_at_ms += 5000;
    h_decision b = build(&in);
    assert_string_equal(a.snapshot_id, b.snapshot_id);
    char want[H_DECISION_ID_LEN];
    assert_int_equal(med_hash_key(want, sizeof want, "cfgdec_",
                                  "req_0001abcd|tr_0001abcd|cfgres_0123456789abcdef|ab12", 16),
                     0);
    assert_string_equal(a.snapshot_id, want);
    in.anchor_hash = "ab13";
    h_decision c = build(&in);
    assert_string_not_equal(c.snapshot_id, a.snapshot_id);
    in.anchor_hash = NULL;
    c = build(&in);
    assert_int_equal(med_hash_key(want, sizeof want, "cfgdec_",
                                  "req_0001abcd|tr_0001abcd|cfgres_0123456789abcdef|NA", 16),
                     0);
    assert_string_equal(c.snapshot_id, want);
}

static void explicit_and_invalid_decision_codes(void **state)
{
    (void)state;
    h_decision_input in = make_input();
    in.stages[H_DSTAGE_RESOLVE].result = H_REJECT;
    in.stages[H_DSTAGE_RESOLVE].decision_code = MED_R_H_CFG_DECISION_REJECT_POLICY_NOT_FOUND;
    h_decision d = build(&in);
    assert_string_equal(d.primary_reason_code, MED_R_H_CFG_DECISION_REJECT_POLICY_NOT_FOUND);
    med_err err;
    in.stages[H_DSTAGE_RESOLVE].decision_code = MED_R_H_CFG_DECISION_DEGRADE_SCOPE_UNAVAILABLE;
    assert_int_equal(h_decision_build(&in, &d, &err), MED_ERR_INVALID);
    assert_string_equal(err.code, MED_R_H_CFG_DECISION_REJECT_CONTRACT_INVALID);
    in = make_input();
    set_stage(&in, H_DSTAGE_FINALIZE, H_DEGRADE, MED_R_H_ANCHOR_SWITCH_DETECTED_POST_ROUTE);
    assert_int_equal(h_decision_build(&in, &d, &err), MED_ERR_INVALID);
    in = make_input();
    in.resolve_id = NULL;
    assert_int_equal(h_decision_build(&in, &d, &err), MED_ERR_INVALID);
}

static void audit_snapshot_renders_as_json(void **state)
{
    (void)state;
    h_decision_input in = make_input();
    set_stage(&in, H_DSTAGE_VERSION_GATE, H_REJECT, MED_R_H_GATE_SDK_BELOW_MIN_REJECT);
    json_t *versions = json_pack("{s:s}", "schemaVersion", "1.1.0");
    json_t *freeze = json_pack("{s:s}", "currentFreezePoint", "freeze_point_ingress");
    in.selected_version_snapshot = versions;
    in.freeze_state = freeze;
    h_decision d = build(&in);
    json_t *j = h_decision_to_json(&d);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "snapshotId")), d.snapshot_id);
    assert_string_equal(json_string_value(json_object_get(j, "decisionAction")), "reject");
    assert_string_equal(json_string_value(json_object_get(j, "primaryReasonCode")),
                        MED_R_H_CFG_DECISION_REJECT_VERSION_GATE_FAILED);
    json_t *path = json_object_get(j, "decisionPath");
    assert_int_equal(json_array_size(path), 5);
    json_t *gate = json_array_get(path, 1);
    assert_string_equal(json_string_value(json_object_get(gate, "stageName")), "version_gate");
    assert_string_equal(json_string_value(json_object_get(gate, "stageResult")), "reject");
    assert_string_equal(json_string_value(json_object_get(gate, "stageReasonCodeOrNA")),
                        MED_R_H_GATE_SDK_BELOW_MIN_REJECT);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(path, 0), "stageReasonCodeOrNA")), "NA");
    json_t *sv = json_object_get(j, "selectedVersionSnapshot");
    assert_string_equal(json_string_value(json_object_get(sv, "schemaVersion")), "1.1.0");
    assert_string_equal(json_string_value(json_object_get(sv, "rolloutPolicyVersionOrNA")), "NA");
    json_t *ad = json_object_get(j, "anchorDigest");
    assert_string_equal(json_string_value(json_object_get(ad, "anchorHash")), "ab12");
    assert_true(json_equal(json_object_get(ad, "freezeState"), freeze));
    assert_true(json_is_null(json_object_get(j, "gateDigest")));
    assert_string_equal(json_string_value(json_object_get(j, "generatedAt")),
                        "2026-11-23T10:20:00.000Z");
    json_decref(j);
    json_decref(versions);
    json_decref(freeze);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(case17_gate_reject_primary_version_gate_failed),
        cmocka_unit_test(first_reject_stage_is_primary),
        cmocka_unit_test(degrades_in_stage_order),
        cmocka_unit_test(hit_codes),
        cmocka_unit_test(snapshot_id_stable_across_calls),
        cmocka_unit_test(explicit_and_invalid_decision_codes),
        cmocka_unit_test(audit_snapshot_renders_as_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
