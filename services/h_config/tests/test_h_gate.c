/* Version gate (spec 04 H.5, H.10 case 13). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "h_gate.h"
#include "med/reason.h"

static const char *const fully[] = {"1.2.0"};
static const char *const degrade[] = {"1.1.0"};
static const h_schema_policy schema_policy = {fully, 1, degrade, 1};
static const char *const grace_list[] = {"1.9.0"};
static const h_grace_policy grace = {true, grace_list, 1};

/* cj below its min, ih fine, zz unknown (no min entry). */
static const h_kv case13_adapters[] = {{"zz", "1.0.0"}, {"cj", "2.0.0"}, {"ih", "1.0.0"}};
static const h_kv mins[] = {{"cj", "2.1.0"}, {"ih", "1.0.0"}, {"ps", "2.0.0"}};

static h_gate_input case13_input(void)
{
    h_gate_input in = {
        .schema_version = "1.1.0",
        .sdk_version = "1.9.0",
        .adapter_versions = case13_adapters,
        .n_adapter_versions = 3,
        .sdk_min_version = "2.0.0",
        .adapter_min_versions = mins,
        .n_adapter_min_versions = 3,
        .missing_min_version_policy = "degrade_block_adapter",
        .schema_policy = &schema_policy,
        .grace_policy = &grace,
    };
    return in;
}

static h_gate_result run(const h_gate_input *in)
{
    h_gate_result r;
    med_err err;
    med_err_clear(&err);
    assert_int_equal(h_gate_evaluate(in, &r, &err), MED_OK);
    return r;
}

static void assert_only_code(const h_gate_result *r, const char *code)
{
    assert_int_equal(r->action, H_REJECT);
    assert_int_equal(r->n_reason_codes, 1);
    assert_string_equal(r->reason_codes[0], code);
    assert_int_equal(r->n_compatible, 0);
}

static void case13_degrade_four_codes_both_blocked(void **state)
{
    (void)state;
    h_gate_input in = case13_input();
    h_gate_result r = run(&in);
    assert_int_equal(r.action, H_DEGRADE);
    assert_int_equal(r.schema_gate, H_DEGRADE);
    assert_int_equal(r.sdk_gate, H_DEGRADE);
    assert_int_equal(r.adapter_gate, H_DEGRADE);
    assert_int_equal(r.n_reason_codes, 4);
    assert_string_equal(r.reason_codes[0], MED_R_H_GATE_SCHEMA_COMPATIBLE_DEGRADE);
    assert_string_equal(r.reason_codes[1], MED_R_H_GATE_SDK_BELOW_MIN_DEGRADE);
    assert_string_equal(r.reason_codes[2], MED_R_H_GATE_ADAPTER_PARTIAL_DEGRADE);
    assert_string_equal(r.reason_codes[3], MED_R_H_GATE_ADAPTER_MIN_VERSION_MISSING_BLOCKED);
    assert_int_equal(r.n_blocked, 2);
    assert_string_equal(r.blocked_adapters[0], "cj");
    assert_string_equal(r.blocked_adapters[1], "zz");
    assert_int_equal(r.n_compatible, 1);
    assert_string_equal(r.compatible_adapters[0], "ih");
    h_gate_result_free(&r);
}

static void case13_unknown_adapter_under_reject(void **state)
{
    (void)state;
    h_gate_input in = case13_input();
    in.missing_min_version_policy = "reject";
    h_gate_result r = run(&in);
    assert_only_code(&r, MED_R_H_GATE_ADAPTER_MIN_VERSION_MISSING_REJECT);
    /* earlier stages keep their verdicts; the adapter stage rejects */
    assert_int_equal(r.schema_gate, H_DEGRADE);
    assert_int_equal(r.sdk_gate, H_DEGRADE);
    assert_int_equal(r.adapter_gate, H_REJECT);
    assert_int_equal(r.n_blocked, 3);
    h_gate_result_free(&r);
}

static void case13_sdk_two_parts_invalid_format(void **state)
{
    (void)state;
    h_gate_input in = case13_input();
    in.sdk_version = "2.0";
    h_gate_result r = run(&in);
    assert_only_code(&r, MED_R_H_GATE_INVALID_VERSION_FORMAT);
    assert_int_equal(r.schema_gate, H_REJECT);
    assert_int_equal(r.sdk_gate, H_REJECT);
    assert_int_equal(r.adapter_gate, H_REJECT);
    h_gate_result_free(&r);
}

static void all_blocked_reject(void **state)
{
    (void)state;
    static const h_kv low[] = {{"cj", "1.0.0"}, {"ps", "1.9.9"}};
    h_gate_input in = case13_input();
    in.schema_version = "1.2.0";
    in.sdk_version = "2.0.0";
    in.adapter_versions = low;
    in.n_adapter_versions = 2;
    h_gate_result r = run(&in);
    assert_only_code(&r, MED_R_H_GATE_ADAPTER_ALL_BLOCKED_REJECT);
    assert_int_equal(r.schema_gate, H_ALLOW);
    assert_int_equal(r.sdk_gate, H_ALLOW);
    assert_int_equal(r.adapter_gate, H_REJECT);
    assert_int_equal(r.n_blocked, 2);
    assert_string_equal(r.blocked_adapters[0], "cj");
    assert_string_equal(r.blocked_adapters[1], "ps");
    h_gate_result_free(&r);
}

static void all_pass(void **state)
{
    (void)state;
    /* "Zed" < "cj" in byte order (uppercase first) */
    static const h_kv ok[] = {{"ps", "2.0.0"}, {"cj", "2.10.0"}, {"Zed", "1.0.0"}};
    static const h_kv ok_mins[] = {{"cj", "2.9.0"}, {"ps", "2.0.0"}, {"Zed", "1.0.0-rc.1"}};
    h_gate_input in = case13_input();
    in.schema_version = "1.2.0";
    in.sdk_version = "2.0.0";
    in.adapter_versions = ok;
    in.adapter_min_versions = ok_mins;
    h_gate_result r = run(&in);
    assert_int_equal(r.action, H_ALLOW);
    assert_int_equal(r.schema_gate, H_ALLOW);
    assert_int_equal(r.sdk_gate, H_ALLOW);
    assert_int_equal(r.adapter_gate, H_ALLOW);
    assert_int_equal(r.n_reason_codes, 1);
    assert_string_equal(r.reason_codes[0], MED_R_H_GATE_ALL_PASS);
    assert_int_equal(r.n_blocked, 0);
    assert_int_equal(r.n_compatible, 3);
    assert_string_equal(r.compatible_adapters[0], "Zed");
    assert_string_equal(r.compatible_adapters[1], "cj");
    assert_string_equal(r.compatible_adapters[2], "ps");
    h_gate_result_free(&r);
}

static void schema_incompatible_rejects_first(void **state)
{
    (void)state;
    h_gate_input in = case13_input();
    in.schema_version = "0.9.0";
    in.sdk_version = "1.0.0"; /* would also reject: schema decides */
    h_gate_result r = run(&in);
    assert_only_code(&r, MED_R_H_GATE_SCHEMA_INCOMPATIBLE_REJECT);
    assert_int_equal(r.sdk_gate, H_REJECT);
    h_gate_result_free(&r);
}

static void sdk_below_min_without_grace_hit(void **state)
{
    (void)state;
    h_gate_input in = case13_input();
    in.sdk_version = "1.8.0"; /* not in allowedSdkVersions */
    h_gate_result r = run(&in);
    assert_only_code(&r, MED_R_H_GATE_SDK_BELOW_MIN_REJECT);
    assert_int_equal(r.schema_gate, H_DEGRADE);
    h_gate_result_free(&r);
    in.sdk_version = "1.9.0";
    in.grace_policy = NULL;
    r = run(&in);
    assert_only_code(&r, MED_R_H_GATE_SDK_BELOW_MIN_REJECT);
    h_gate_result_free(&r);
}

static void missing_input_and_policy(void **state)
{
    (void)state;
    h_gate_input in = case13_input();
    in.schema_version = "";
    h_gate_result r = run(&in);
    assert_only_code(&r, MED_R_H_GATE_MISSING_REQUIRED_VERSION);
    h_gate_result_free(&r);
    in = case13_input();
    in.schema_policy = NULL;
    r = run(&in);
    assert_only_code(&r, MED_R_H_GATE_POLICY_NOT_FOUND);
    h_gate_result_free(&r);
    in = case13_input();
    in.missing_min_version_policy = "maybe";
    r = run(&in);
    assert_only_code(&r, MED_R_H_GATE_POLICY_NOT_FOUND);
    h_gate_result_free(&r);
    static const h_kv no_id[] = {{"cj", "2.2.0"}, {NULL, "1.0.0"}};
    in = case13_input();
    in.adapter_versions = no_id;
    in.n_adapter_versions = 2;
    r = run(&in);
    assert_only_code(&r, MED_R_H_GATE_MISSING_REQUIRED_VERSION);
    h_gate_result_free(&r);
}

/* GET with adapterVersionMapOrNA = NA: schema and sdk are still judged,
 * the adapter stage has nothing to judge; at A (flag off) the same empty map
 * is still missing input. */
static void adapters_not_reported_skip_the_adapter_stage(void **state)
{
    (void)state;
    h_gate_input in = case13_input();
    in.schema_version = "1.2.0"; /* fully supported */
    in.sdk_version = "2.1.0";    /* above the minimum */
    in.adapter_versions = NULL;
    in.n_adapter_versions = 0;
    in.adapters_not_reported = true;
    h_gate_result r = run(&in);
    assert_int_equal(r.action, H_ALLOW);
    assert_int_equal(r.adapter_gate, H_ALLOW);
    assert_int_equal(r.n_compatible, 0);
    assert_int_equal(r.n_blocked, 0);
    assert_int_equal(r.n_reason_codes, 1);
    assert_string_equal(r.reason_codes[0], MED_R_H_GATE_ALL_PASS);
    h_gate_result_free(&r);
    in.sdk_version = "1.0.0"; /* below min, no grace hit: still a reject */
    r = run(&in);
    assert_int_equal(r.action, H_REJECT);
    assert_only_code(&r, MED_R_H_GATE_SDK_BELOW_MIN_REJECT);
    h_gate_result_free(&r);
    in.sdk_version = "2.1.0";
    in.adapters_not_reported = false;
    r = run(&in);
    assert_only_code(&r, MED_R_H_GATE_MISSING_REQUIRED_VERSION);
    h_gate_result_free(&r);
}

static void bad_adapter_version_rejects_at_adapter_stage(void **state)
{
    (void)state;
    static const h_kv bad[] = {{"cj", "2.2"}, {"ih", "1.0.0"}};
    h_gate_input in = case13_input();
    in.adapter_versions = bad;
    in.n_adapter_versions = 2;
    h_gate_result r = run(&in);
    assert_only_code(&r, MED_R_H_GATE_INVALID_VERSION_FORMAT);
    assert_int_equal(r.schema_gate, H_DEGRADE);
    assert_int_equal(r.sdk_gate, H_DEGRADE);
    assert_int_equal(r.adapter_gate, H_REJECT);
    h_gate_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(case13_degrade_four_codes_both_blocked),
        cmocka_unit_test(case13_unknown_adapter_under_reject),
        cmocka_unit_test(case13_sdk_two_parts_invalid_format),
        cmocka_unit_test(all_blocked_reject),
        cmocka_unit_test(all_pass),
        cmocka_unit_test(schema_incompatible_rejects_first),
        cmocka_unit_test(sdk_below_min_without_grace_hit),
        cmocka_unit_test(missing_input_and_policy),
        cmocka_unit_test(bad_adapter_version_rejects_at_adapter_stage),
        cmocka_unit_test(adapters_not_reported_skip_the_adapter_stage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
