/* Canary rollout decision (spec 04 H.7; H.10 cases 15 and 16). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "h_rollout.h"
#include "med/ids.h"
#include "med/reason.h"

#define T0 ((int64_t)1795000000000)
#define MIN_MS 60000
#define N_KEYS 100000

static const char *const ADAPTERS[] = {"cj", "ih", "ps"};

/* Parses a rollout object built from JSON text; the test owns the result. */
static void load_policy(h_rollout_policy *p, const char *json)
{
    json_error_t jerr;
    json_t *doc = json_loads(json, 0, &jerr);
    assert_non_null(doc);
    med_err err;
    assert_int_equal(h_rollout_policy_parse(doc, p, &err), MED_OK);
    json_decref(doc);
}

static void load_percent_policy(h_rollout_policy *p, const char *percent)
{
    char json[256];
    snprintf(json, sizeof json,
             "{\"policyId\":\"rp_new\",\"lastStablePolicyId\":\"rp_stable\","
             "\"rolloutPercent\":%s}", percent);
    load_policy(p, json);
}

static h_rollout_input base_input(const h_rollout_policy *p)
{
    h_rollout_input in = {
        .request_key = "req_00000001",
        .trace_key = "tr_00000001",
        .app_id = "app_demo",
        .placement_id = "plc_feed",
        .sdk_version = "2.3.0",
        .adapter_ids = ADAPTERS,
        .n_adapter_ids = 3,
        .environment = "prod",
        .rollout_policy_version = "rpv_7",
        .rollout_at_ms = T0,
        .policy = p,
    };
    return in;
}

static void decide(const h_rollout_input *in, h_rollout_result *r)
{
    med_err err;
    assert_int_equal(h_rollout_decide(in, r, &err), MED_OK);
}

static bool has_code(const h_rollout_result *r, const char *code)
{
    for (size_t i = 0; i < r->n_reason_codes; i++)
        if (strcmp(r->reason_codes[i], code) == 0) return true;
    return false;
}

/* The split key and bucket recomputed from the spec's formula. */
static void expected_split(const char *joined, char hex[65], int64_t *bucket_bp)
{
    med_sha256_hex(joined, strlen(joined), hex);
    char first16[17];
    memcpy(first16, hex, 16);
    first16[16] = '\0';
    *bucket_bp = (int64_t)(strtoull(first16, NULL, 16) % 10000u);
}

/* ---- H.10 case 15 ---- */

static void test_deterministic_split(void **st)
{
    (void)st;
    h_rollout_policy p;
    load_percent_policy(&p, "50");
    h_rollout_input in = base_input(&p);
    in.user_bucket_hint = "user_42";
    h_rollout_result a, b;
    decide(&in, &a);
    decide(&in, &b);
    char hex[65];
    int64_t bucket;
    expected_split("app_demo|plc_feed|2.3.0|user_42|rpv_7", hex, &bucket);
    assert_string_equal(a.split_key, hex);
    assert_int_equal(a.bucket_bp, bucket);
    assert_string_equal(a.split_key, b.split_key);
    assert_int_equal(a.bucket_bp, b.bucket_bp);
    assert_int_equal(a.action, b.action);
    assert_int_equal(a.action, bucket < 5000 ? H_ROLLOUT_IN : H_ROLLOUT_OUT);
    assert_false(has_code(&a, MED_R_H_ROLLOUT_SPLIT_KEY_MISSING_FALLBACK_TRACE));
    /* the hint, not the trace, is the stable key */
    in.trace_key = "tr_other_trace";
    h_rollout_result c;
    decide(&in, &c);
    assert_string_equal(c.split_key, a.split_key);
    h_rollout_result_free(&a);
    h_rollout_result_free(&b);
    h_rollout_result_free(&c);
    h_rollout_policy_free(&p);
}

static void key_input(h_rollout_input *in, char *trace, size_t cap, int i)
{
    snprintf(trace, cap, "tr_%08d", i);
    in->trace_key = trace;
}

/* Group setup: one pass over N_KEYS trace keys (no user hint) for every
 * percent of the stability test; the ramp and share tests read the
 * table. One pass keeps the file fast under valgrind. */
#define N_PERCENTS 5
static const char *const PERCENT_TEXT[N_PERCENTS] = {"1", "5", "20", "50", "99.5"};
static const double PERCENT_VALUE[N_PERCENTS] = {1, 5, 20, 50, 99.5};
enum { AT_5 = 1, AT_20 = 2 };
static uint8_t in_at[N_PERCENTS][N_KEYS];

static int decide_all_keys(void **st)
{
    (void)st;
    h_rollout_policy p[N_PERCENTS];
    for (size_t k = 0; k < N_PERCENTS; k++) load_percent_policy(&p[k], PERCENT_TEXT[k]);
    h_rollout_input in = base_input(NULL);
    char trace[32];
    for (int i = 0; i < N_KEYS; i++) {
        key_input(&in, trace, sizeof trace, i);
        for (size_t k = 0; k < N_PERCENTS; k++) {
            h_rollout_result r;
            in.policy = &p[k];
            decide(&in, &r);
            in_at[k][i] = r.action == H_ROLLOUT_IN;
            h_rollout_result_free(&r);
        }
    }
    for (size_t k = 0; k < N_PERCENTS; k++) h_rollout_policy_free(&p[k]);
    return 0;
}

static int count_in(size_t k)
{
    int n = 0;
    for (int i = 0; i < N_KEYS; i++) n += in_at[k][i];
    return n;
}

static void test_ramp_5_to_20_keeps_units(void **st)
{
    (void)st;
    int dropped = 0;
    for (int i = 0; i < N_KEYS; i++) dropped += in_at[AT_5][i] && !in_at[AT_20][i];
    print_message("ramp 5 -> 20 %%: %d in at 5 %%, %d in at 20 %%, %d dropped\n",
                  count_in(AT_5), count_in(AT_20), dropped);
    assert_int_equal(dropped, 0);
    assert_true(count_in(AT_20) > count_in(AT_5));
}

static void test_bucket_share_within_1pp(void **st)
{
    (void)st;
    for (size_t k = 0; k < N_PERCENTS; k++) {
        int in_count = count_in(k);
        double share = 100.0 * in_count / N_KEYS;
        print_message("rolloutPercent %5.2f: observed in_experiment share %6.3f %% (%d of %d)\n",
                      PERCENT_VALUE[k], share, in_count, N_KEYS);
        assert_true(share >= PERCENT_VALUE[k] - 1.0 && share <= PERCENT_VALUE[k] + 1.0);
    }
}

static void test_exclude_beats_include(void **st)
{
    (void)st;
    h_rollout_policy p;
    load_policy(&p, "{\"policyId\":\"rp_new\",\"lastStablePolicyId\":\"rp_stable\","
                    "\"rolloutPercent\":100,"
                    "\"include\":{\"appIds\":[\"app_demo\"]},"
                    "\"exclude\":{\"appIds\":[\"app_demo\"]}}");
    h_rollout_input in = base_input(&p);
    h_rollout_result r;
    decide(&in, &r);
    assert_int_equal(r.action, H_ROLLOUT_OUT);
    assert_true(has_code(&r, MED_R_H_ROLLOUT_SELECTOR_EXCLUDED));
    assert_false(has_code(&r, MED_R_H_ROLLOUT_SELECTOR_NOT_MATCHED));
    assert_string_equal(r.selected_policy_id, "rp_stable");
    assert_int_equal(r.n_allowed, 0);
    assert_int_equal(r.n_blocked, 3);
    h_rollout_result_free(&r);
    h_rollout_policy_free(&p);
}

static void test_include_not_matched(void **st)
{
    (void)st;
    h_rollout_policy p;
    load_policy(&p, "{\"policyId\":\"rp_new\",\"lastStablePolicyId\":\"rp_stable\","
                    "\"rolloutPercent\":100,\"minSdkVersion\":\"2.10.0\","
                    "\"maxSdkVersionOrNA\":\"NA\"}");
    h_rollout_input in = base_input(&p);
    h_rollout_result r;
    decide(&in, &r); /* 2.3.0 < 2.10.0 */
    assert_int_equal(r.action, H_ROLLOUT_OUT);
    assert_true(has_code(&r, MED_R_H_ROLLOUT_SELECTOR_NOT_MATCHED));
    assert_int_equal(r.n_blocked, 3);
    h_rollout_result_free(&r);
    in.sdk_version = "2.10.0";
    decide(&in, &r);
    assert_int_equal(r.action, H_ROLLOUT_IN);
    h_rollout_result_free(&r);
    h_rollout_policy_free(&p);
}

/* ---- H.10 case 16 ---- */

static void test_percent_101_without_user_key(void **st)
{
    (void)st;
    h_rollout_policy p;
    load_percent_policy(&p, "101");
    h_rollout_input in = base_input(&p);
    h_rollout_result r;
    decide(&in, &r);
    assert_int_equal(r.action, H_ROLLOUT_FORCE_FALLBACK);
    assert_string_equal(r.selected_policy_id, "rp_stable");
    assert_int_equal(r.n_reason_codes, 3);
    assert_string_equal(r.reason_codes[0], MED_R_H_ROLLOUT_SPLIT_KEY_MISSING_FALLBACK_TRACE);
    assert_string_equal(r.reason_codes[1], MED_R_H_ROLLOUT_INVALID_PERCENT);
    assert_string_equal(r.reason_codes[2], MED_R_H_ROLLOUT_FORCE_FALLBACK_APPLIED);
    assert_int_equal(r.n_allowed, 0);
    assert_int_equal(r.n_blocked, 3);
    char hex[65];
    int64_t bucket;
    expected_split("app_demo|plc_feed|2.3.0|tr_00000001|rpv_7", hex, &bucket);
    assert_string_equal(r.split_key, hex);
    h_rollout_result_free(&r);
    h_rollout_policy_free(&p);
}

static void test_breaker_open_then_half_open(void **st)
{
    (void)st;
    h_rollout_policy p;
    load_policy(&p, "{\"policyId\":\"rp_new\",\"lastStablePolicyId\":\"rp_stable\","
                    "\"rolloutPercent\":\"100.00\","
                    "\"breakerThresholds\":{\"errorRate\":0.2}}");
    assert_int_equal(p.thresholds.error_rate_bp, 2000);
    assert_int_equal(p.cooldown_ms, 600000);
    h_breaker_state b;
    h_breaker_init(&b);
    /* error_rate 0.25 >= 0.2 */
    for (int i = 0; i < 4; i++) {
        h_breaker_outcome o = {.error = i == 3, .latency_ms = -1};
        assert_int_equal(h_breaker_record(&b, &p.thresholds, p.cooldown_ms, &o, T0, NULL, NULL),
                         MED_OK);
    }
    assert_int_equal(b.mode, H_BREAKER_OPEN);
    h_rollout_input in = base_input(&p);
    in.breaker = &b;
    in.rollout_at_ms = T0 + MIN_MS;
    h_rollout_result r;
    decide(&in, &r);
    assert_int_equal(r.action, H_ROLLOUT_FORCE_FALLBACK);
    assert_true(has_code(&r, MED_R_H_ROLLOUT_CIRCUIT_BREAKER_TRIGGERED));
    assert_true(has_code(&r, MED_R_H_ROLLOUT_FORCE_FALLBACK_APPLIED));
    assert_string_equal(r.selected_policy_id, "rp_stable");
    assert_int_equal(r.effective_bp, 0);
    h_rollout_result_free(&r);

    /* after the 10-min cooldown: half-open, percent 1.00 */
    in.rollout_at_ms = T0 + 10 * MIN_MS;
    decide(&in, &r);
    assert_int_equal(r.effective_bp, 100);
    assert_int_equal(r.action, r.bucket_bp < 100 ? H_ROLLOUT_IN : H_ROLLOUT_OUT);
    char *json = h_rollout_result_render(&r);
    assert_non_null(json);
    assert_non_null(strstr(json, "\"rolloutPercent\":1.0"));
    free(json);
    h_rollout_result_free(&r);

    /* only about 1 % of units are in while half-open */
    char trace[32];
    int in_count = 0;
    for (int i = 0; i < 10000; i++) {
        key_input(&in, trace, sizeof trace, i);
        decide(&in, &r);
        in_count += r.action == H_ROLLOUT_IN;
        h_rollout_result_free(&r);
    }
    assert_true(in_count >= 50 && in_count <= 150);
    h_rollout_policy_free(&p);
}

/* ---- other rules ---- */

static void test_half_open_never_raises_percent(void **st)
{
    (void)st;
    h_rollout_policy p;
    load_percent_policy(&p, "0.5");
    h_breaker_state b;
    h_breaker_init(&b);
    b.mode = H_BREAKER_OPEN;
    b.opened_at_ms = T0;
    h_rollout_input in = base_input(&p);
    in.breaker = &b;
    in.rollout_at_ms = T0 + 10 * MIN_MS;
    h_rollout_result r;
    decide(&in, &r);
    assert_int_equal(r.effective_bp, 50);
    h_rollout_result_free(&r);
    h_rollout_policy_free(&p);
}

static void test_sdk_max_bound(void **st)
{
    (void)st;
    h_rollout_policy p;
    load_policy(&p, "{\"policyId\":\"rp_new\",\"lastStablePolicyId\":\"rp_stable\","
                    "\"rolloutPercent\":100,\"maxSdkVersionOrNA\":\"2.3.0\"}");
    h_rollout_input in = base_input(&p);
    h_rollout_result r;
    decide(&in, &r);
    assert_int_equal(r.action, H_ROLLOUT_IN); /* max is inclusive */
    h_rollout_result_free(&r);
    in.sdk_version = "2.3.1";
    decide(&in, &r);
    assert_true(has_code(&r, MED_R_H_ROLLOUT_SELECTOR_NOT_MATCHED));
    h_rollout_result_free(&r);
    in.sdk_version = "not-a-version";
    decide(&in, &r);
    assert_true(has_code(&r, MED_R_H_ROLLOUT_SELECTOR_NOT_MATCHED));
    h_rollout_result_free(&r);
    h_rollout_policy_free(&p);
}


static void test_policy_missing(void **st)
{
    (void)st;
    h_rollout_input in = base_input(NULL);
    h_rollout_result r;
    decide(&in, &r);
    assert_int_equal(r.action, H_ROLLOUT_FORCE_FALLBACK);
    assert_true(has_code(&r, MED_R_H_ROLLOUT_POLICY_NOT_FOUND));
    assert_true(has_code(&r, MED_R_H_ROLLOUT_FORCE_FALLBACK_APPLIED));
    assert_null(r.selected_policy_id);
    assert_int_equal(r.n_blocked, 3);
    char *json = h_rollout_result_render(&r);
    assert_non_null(strstr(json, "\"splitKey\":null"));
    free(json);
    h_rollout_result_free(&r);

    h_rollout_policy p;
    load_percent_policy(&p, "50");
    in = base_input(&p);
    in.app_id = "";
    decide(&in, &r);
    assert_true(has_code(&r, MED_R_H_ROLLOUT_POLICY_NOT_FOUND));
    assert_string_equal(r.selected_policy_id, "rp_stable");
    h_rollout_result_free(&r);
    h_rollout_policy_free(&p);
}

static void test_adapter_split(void **st)
{
    (void)st;
    h_rollout_policy p;
    load_policy(&p, "{\"policyId\":\"rp_new\",\"lastStablePolicyId\":\"rp_stable\","
                    "\"rolloutPercent\":100,"
                    "\"adapterRolloutPercentMap\":{\"cj\":0,\"ih\":\"100\"},"
                    "\"exclude\":{\"adapterIds\":[\"ps\"]}}");
    h_rollout_input in = base_input(&p);
    h_rollout_result r;
    decide(&in, &r);
    assert_int_equal(r.action, H_ROLLOUT_IN);
    assert_string_equal(r.selected_policy_id, "rp_new");
    assert_int_equal(r.n_allowed, 1);
    assert_string_equal(r.allowed_adapters[0], "ih");
    assert_int_equal(r.n_blocked, 2);
    assert_string_equal(r.blocked_adapters[0], "cj");
    assert_string_equal(r.blocked_adapters[1], "ps");
    h_rollout_result_free(&r);
    /* in with no adapter left -> force_fallback */
    in.n_adapter_ids = 1; /* cj only */
    decide(&in, &r);
    assert_int_equal(r.action, H_ROLLOUT_FORCE_FALLBACK);
    assert_true(has_code(&r, MED_R_H_ROLLOUT_IN_EXPERIMENT));
    assert_true(has_code(&r, MED_R_H_ROLLOUT_FORCE_FALLBACK_APPLIED));
    assert_string_equal(r.selected_policy_id, "rp_stable");
    h_rollout_result_free(&r);
    h_rollout_policy_free(&p);
}

static void test_adapter_invalid_percent(void **st)
{
    (void)st;
    h_rollout_policy p;
    load_policy(&p, "{\"policyId\":\"rp_new\",\"lastStablePolicyId\":\"rp_stable\","
                    "\"rolloutPercent\":10,\"adapterRolloutPercentMap\":{\"cj\":-1}}");
    h_rollout_input in = base_input(&p);
    h_rollout_result r;
    decide(&in, &r);
    assert_int_equal(r.action, H_ROLLOUT_FORCE_FALLBACK);
    assert_true(has_code(&r, MED_R_H_ROLLOUT_INVALID_PERCENT));
    h_rollout_result_free(&r);
    h_rollout_policy_free(&p);
}

static void test_out_of_experiment_allows_adapters(void **st)
{
    (void)st;
    h_rollout_policy p;
    load_percent_policy(&p, "0");
    h_rollout_input in = base_input(&p);
    h_rollout_result r;
    decide(&in, &r);
    assert_int_equal(r.action, H_ROLLOUT_OUT);
    assert_true(has_code(&r, MED_R_H_ROLLOUT_OUT_OF_EXPERIMENT));
    assert_string_equal(r.selected_policy_id, "rp_stable");
    assert_int_equal(r.n_allowed, 3);
    assert_int_equal(r.n_blocked, 0);
    h_rollout_result_free(&r);
    h_rollout_policy_free(&p);
}

static int64_t scaled(const char *json, int decimals)
{
    json_t *v = json_loads(json, JSON_DECODE_ANY, NULL);
    assert_non_null(v);
    int64_t out = -12345;
    int rc = h_rollout_parse_scaled(v, decimals, &out);
    json_decref(v);
    return rc == 0 ? out : -12345;
}

static void test_percent_parsing(void **st)
{
    (void)st;
    assert_int_equal(scaled("5", 2), 500);
    assert_int_equal(scaled("99.5", 2), 9950);
    assert_int_equal(scaled("0.07", 2), 7);
    assert_int_equal(scaled("33.33", 2), 3333);
    assert_int_equal(scaled("\"99.50\"", 2), 9950);
    assert_int_equal(scaled("\"1\"", 2), 100);
    assert_int_equal(scaled("\"-0.5\"", 2), -50);
    assert_int_equal(scaled("0.25", 4), 2500);
    assert_int_equal(scaled("12.345", 2), -12345);
    assert_int_equal(scaled("\"12.345\"", 2), -12345);
    assert_int_equal(scaled("\"1e2\"", 2), -12345);
    assert_int_equal(scaled("\" 5\"", 2), -12345);
    assert_int_equal(scaled("\"5.\"", 2), -12345);
    assert_int_equal(scaled("\"\"", 2), -12345);
    assert_int_equal(scaled("true", 2), -12345);
    assert_int_equal(scaled("1e300", 2), -12345);
    assert_int_equal(scaled("9223372036854775807", 2), -12345);
}

static void test_policy_parse_errors(void **st)
{
    (void)st;
    static const struct {
        const char *json;
        const char *code;
    } cases[] = {
        {"[]", "h_rollout_policy_not_found"},
        {"{\"policyId\":\"rp\"}", "h_rollout_policy_not_found"},
        {"{\"policyId\":\"rp\",\"lastStablePolicyId\":\"s\",\"include\":[]}", "h_cfg_invalid_type"},
        {"{\"policyId\":\"rp\",\"lastStablePolicyId\":\"s\",\"exclude\":{\"appIds\":[1]}}",
         "h_cfg_invalid_type"},
        {"{\"policyId\":\"rp\",\"lastStablePolicyId\":\"s\",\"minSdkVersion\":\"2.0\"}",
         "h_cfg_invalid_type"},
        {"{\"policyId\":\"rp\",\"lastStablePolicyId\":\"s\","
         "\"breakerThresholds\":{\"errorRate\":1.5}}", "h_cfg_invalid_range"},
        {"{\"policyId\":\"rp\",\"lastStablePolicyId\":\"s\",\"cooldownMs\":-1}",
         "h_cfg_invalid_range"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *doc = json_loads(cases[i].json, JSON_DECODE_ANY, NULL);
        assert_non_null(doc);
        h_rollout_policy p;
        med_err err;
        assert_int_equal(h_rollout_policy_parse(doc, &p, &err), MED_ERR_INVALID);
        assert_string_equal(err.code, cases[i].code);
        h_rollout_policy_free(&p);
        json_decref(doc);
    }
}

static void test_render_json(void **st)
{
    (void)st;
    h_rollout_policy p;
    load_percent_policy(&p, "100");
    h_rollout_input in = base_input(&p);
    in.user_bucket_hint = "user_42";
    h_rollout_result r;
    decide(&in, &r);
    json_t *o = h_rollout_result_to_json(&r);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "rolloutAction")), "in_experiment");
    assert_string_equal(json_string_value(json_object_get(o, "selectedPolicyId")), "rp_new");
    assert_string_equal(json_string_value(json_object_get(o, "splitKey")), r.split_key);
    assert_true(json_real_value(json_object_get(o, "bucketValue")) == (double)r.bucket_bp / 100.0);
    assert_true(json_real_value(json_object_get(o, "rolloutPercent")) == 100.0);
    assert_int_equal(json_array_size(json_object_get(o, "allowedAdapters")), 3);
    assert_int_equal(json_array_size(json_object_get(o, "blockedAdapters")), 0);
    assert_string_equal(json_string_value(json_array_get(json_object_get(o, "reasonCodes"), 0)),
                        "h_rollout_in_experiment");
    json_decref(o);
    h_rollout_result_free(&r);
    h_rollout_policy_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deterministic_split),
        cmocka_unit_test(test_ramp_5_to_20_keeps_units),
        cmocka_unit_test(test_bucket_share_within_1pp),
        cmocka_unit_test(test_exclude_beats_include),
        cmocka_unit_test(test_include_not_matched),
        cmocka_unit_test(test_percent_101_without_user_key),
        cmocka_unit_test(test_breaker_open_then_half_open),
        cmocka_unit_test(test_half_open_never_raises_percent),
        cmocka_unit_test(test_sdk_max_bound),
        cmocka_unit_test(test_policy_missing),
        cmocka_unit_test(test_adapter_split),
        cmocka_unit_test(test_adapter_invalid_percent),
        cmocka_unit_test(test_out_of_experiment_allows_adapters),
        cmocka_unit_test(test_percent_parsing),
        cmocka_unit_test(test_policy_parse_errors),
        cmocka_unit_test(test_render_json),
    };
    return cmocka_run_group_tests(tests, decide_all_keys, NULL);
}
