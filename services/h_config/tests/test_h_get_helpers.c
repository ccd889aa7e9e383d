/* GET /v1/config helpers without servers: target keys, ref parsing and
 * collection, request checks, cache entry round trip, body rendering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "h_get_body.h"
#include "h_get_entry.h"
#include "h_get_layers.h"
#include "h_get_request.h"
#include "h_get_resolve.h"
#include "med/reason.h"

static void target_keys_follow_h1(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(h_get_target_key(H_GET_GLOBAL, "a", "p", "prod", out, sizeof out), 0);
    assert_string_equal(out, "prod");
    assert_int_equal(h_get_target_key(H_GET_APP, "a", "p", "prod", out, sizeof out), 0);
    assert_string_equal(out, "a|prod");
    assert_int_equal(h_get_target_key(H_GET_PLACEMENT, "a", "p", "prod", out, sizeof out), 0);
    assert_string_equal(out, "a|p|prod");
    assert_int_equal(h_get_target_key(H_GET_PLACEMENT, "a", "p", "prod", out, 4), -1);
}

static void ref_split_accepts_kind_version_only(void **state)
{
    (void)state;
    char kind[H_GET_KIND_MAX], ver[H_GET_VER_MAX];
    med_err e;
    assert_int_equal(h_get_ref_split("route_policy:rs-1", kind, ver, &e), MED_OK);
    assert_string_equal(kind, "route_policy");
    assert_string_equal(ver, "rs-1");
    assert_int_equal(h_get_ref_split("policy:a:b", kind, ver, &e), MED_OK);
    assert_string_equal(ver, "a:b");
    assert_int_equal(h_get_ref_split("nocolon", kind, ver, &e), MED_ERR_INVALID);
    assert_int_equal(h_get_ref_split(":v", kind, ver, &e), MED_ERR_INVALID);
    assert_int_equal(h_get_ref_split("k:", kind, ver, &e), MED_ERR_INVALID);
    assert_int_equal(h_get_ref_split(NULL, kind, ver, &e), MED_ERR_INVALID);
}

static void collect_refs_sorted_unique_strings_only(void **state)
{
    (void)state;
    json_t *cfg = json_pack("{s:s, s:s, s:s, s:n, s:i, s:s, s:s}", "routePolicyRef",
                            "route_policy:rs-1", "policyThresholdsRef", "policy:p1",
                            "blackWhiteListRef", "policy:p1", "placementRef", "ttlSecRef", 5,
                            "sdkMinVersion", "1.0.0", "templateWhitelistRef", "");
    json_t *refs = NULL;
    med_err e;
    assert_int_equal(h_get_collect_refs(cfg, &refs, &e), MED_OK);
    assert_int_equal(json_array_size(refs), 2);
    assert_string_equal(json_string_value(json_array_get(refs, 0)), "policy:p1");
    assert_string_equal(json_string_value(json_array_get(refs, 1)), "route_policy:rs-1");
    json_decref(refs);
    json_decref(cfg);
}

static void params_required_and_environment(void **state)
{
    (void)state;
    h_get_params p = { "app", "plc", "prod", "1.0.0", "2.0.0", "2026-11-23T10:00:00.000Z" };
    int64_t at = 0;
    med_err e;
    assert_int_equal(h_get_params_check(&p, &at, &e), MED_OK);
    assert_true(at > 0);
    h_get_params miss = p;
    miss.app_id = "";
    assert_int_equal(h_get_params_check(&miss, &at, &e), MED_ERR_INVALID);
    assert_string_equal(e.code, MED_R_H_CFG_MISSING_REQUIRED_AFTER_MERGE);
    assert_string_equal(e.field, "appId");
    miss = p;
    miss.sdk_version = NULL;
    assert_int_equal(h_get_params_check(&miss, &at, &e), MED_ERR_INVALID);
    assert_string_equal(e.field, "sdkVersion");
    h_get_params env = p;
    env.environment = "dev";
    assert_int_equal(h_get_params_check(&env, &at, &e), MED_ERR_INVALID);
    assert_string_equal(e.code, MED_R_H_CFG_INVALID_RANGE);
    h_get_params when = p;
    when.request_at = "yesterday";
    assert_int_equal(h_get_params_check(&when, &at, &e), MED_ERR_INVALID);
    assert_string_equal(e.field, "requestAt");
}

static void cache_entry_round_trips(void **state)
{
    (void)state;
    h_get_entry in = { .expire_at_ms = 1234567, .ttl_sec = 120 };
    strcpy(in.etag, "abc");
    strcpy(in.gen, "op_1:5");
    in.snapshot_json = strdup("{\"x\":1}");
    in.versions_json = strdup("{\"schemaVersion\":\"1.0.0\"}");
    uint8_t *buf = NULL;
    size_t len = 0;
    med_err e;
    assert_int_equal(h_get_entry_encode(&in, &buf, &len, &e), MED_OK);
    h_get_entry out;
    assert_int_equal(h_get_entry_decode(buf, len, &out, &e), MED_OK);
    assert_string_equal(out.etag, "abc");
    assert_string_equal(out.gen, "op_1:5");
    assert_int_equal(out.expire_at_ms, 1234567);
    assert_int_equal(out.ttl_sec, 120);
    assert_string_equal(out.snapshot_json, in.snapshot_json);
    assert_string_equal(out.versions_json, in.versions_json);
    h_get_entry_clear(&out);
    assert_int_not_equal(h_get_entry_decode(buf, len - 3, &out, &e), MED_OK);
    free(buf);
    h_get_entry_clear(&in);
}

static void ok_body_keeps_snapshot_bytes_and_times_last(void **state)
{
    (void)state;
    const char *codes[] = { MED_R_H_CFG_CACHE_MISS, MED_R_H_CFG_CACHE_INVALID_ETAG_FORMAT };
    h_get_ok in = { .config_key = "a|p|prod|1.0.0", .etag = "e1", .ttl_sec = 60,
                    .cache_decision = "miss", .codes = codes, .n_codes = 2,
                    .versions_json = "{\"v\":1}", .snapshot_json = "{\"b\":2,\"a\":1}",
                    .expire_at_ms = 60000, .response_at_ms = 0 };
    char *body = NULL;
    med_err e;
    assert_int_equal(h_get_body_ok(&in, &body, &e), MED_OK);
    assert_non_null(strstr(body, "\"resolvedConfigSnapshot\":{\"b\":2,\"a\":1}"));
    assert_non_null(strstr(body, "\"reasonCodes\":[\"h_cfg_cache_invalid_etag_format\","
                                 "\"h_cfg_cache_miss\"]"));
    const char *tail = "\"expireAt\":\"1970-01-01T00:01:00.000Z\","
                       "\"responseAt\":\"1970-01-01T00:00:00.000Z\"}";
    assert_string_equal(body + strlen(body) - strlen(tail), tail);
    json_error_t je;
    json_t *parsed = json_loads(body, JSON_REJECT_DUPLICATES, &je);
    assert_non_null(parsed);
    assert_string_equal(json_string_value(json_object_get(parsed, "status")), "ok");
    json_decref(parsed);
    free(body);
}

static void error_body_shape(void **state)
{
    (void)state;
    char *body = NULL;
    med_err e;
    assert_int_equal(h_get_body_error("h_cfg_invalid_range", "bad", "environment", &body, &e),
                     MED_OK);
    assert_string_equal(body, "{\"error\":{\"code\":\"h_cfg_invalid_range\",\"message\":\"bad\","
                              "\"field\":\"environment\"}}");
    free(body);
    assert_int_equal(h_get_body_error("x", "y", NULL, &body, &e), MED_OK);
    assert_non_null(strstr(body, "\"field\":null"));
    free(body);
}

static void res_input_maps_rows_to_layers(void **state)
{
    (void)state;
    h_get_layers ls;
    memset(&ls, 0, sizeof ls);
    ls.l[H_GET_GLOBAL].found = 1;
    ls.l[H_GET_GLOBAL].layer = json_object();
    strcpy(ls.l[H_GET_GLOBAL].schema, "1.0.0");
    strcpy(ls.l[H_GET_GLOBAL].placement, "gc-1");
    h_get_query q = { .tenant = "t", .app_id = "a", .placement_id = "p",
                      .environment = "prod", .schema_version = "1.0.0",
                      .config_key = "a|p|prod|1.0.0", .resolve_at_ms = 5 };
    h_res_input in;
    h_get_res_input(&q, &ls, &in);
    assert_string_equal(in.request_key, "a|p|prod|1.0.0");
    assert_string_equal(in.trace_key, "NA");
    assert_int_equal(in.layer[H_SCOPE_GLOBAL].state, H_LAYER_OK);
    assert_string_equal(in.layer[H_SCOPE_GLOBAL].version, "gc-1");
    assert_string_equal(in.layer[H_SCOPE_GLOBAL].schema_version, "1.0.0");
    assert_int_equal(in.layer[H_SCOPE_APP].state, H_LAYER_ABSENT);
    assert_int_equal(in.layer[H_SCOPE_PLACEMENT].state, H_LAYER_ABSENT);
    h_get_layers_free(&ls);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(target_keys_follow_h1),
        cmocka_unit_test(ref_split_accepts_kind_version_only),
        cmocka_unit_test(collect_refs_sorted_unique_strings_only),
        cmocka_unit_test(params_required_and_environment),
        cmocka_unit_test(cache_entry_round_trips),
        cmocka_unit_test(ok_body_keeps_snapshot_bytes_and_times_last),
        cmocka_unit_test(error_body_shape),
        cmocka_unit_test(res_input_maps_rows_to_layers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
