/* H.3 GET cache: H.10 cases 5 and 6, the If-None-Match rules and the
 * answer table row by row. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "h_cache.h"
#include "h_resolve.h"
#include "med/reason.h"

#define T0 1795428000000LL
#define ETAG_A "3f5d0c1e9a7b4c2d8e6f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f"
#define ETAG_B "0000000000000000000000000000000000000000000000000000000000000001"

static const char *LAYER =
    "{\"policyThresholdsRef\": \"policy:p1\", \"routePolicyRef\": \"route_policy:r1\", "
    "\"templateWhitelistRef\": \"template_whitelist:t1\", \"blackWhiteListRef\": "
    "\"black_white_list:b1\", \"sdkMinVersion\": \"1.0.0\", \"adapterMinVersionMap\": "
    "{\"cj\": \"2.1.0\"}, \"missingMinVersionPolicy\": \"reject\", \"ttlSec\": %d}";

/* What a GET handler does for configKey: resolve with requestKey=configKey,
 * traceKey=NA. sdkVersion is not an input at all. */
static void resolve_for_get(int ttl, h_res_output *out)
{
    char key[256], text[1024];
    med_err err;
    assert_int_equal(h_cache_config_key("app_demo", "plc_feed", "prod", "1.0.0", key, sizeof key,
                                        &err), MED_OK);
    snprintf(text, sizeof text, LAYER, ttl);
    json_error_t jerr;
    json_t *layer = json_loads(text, 0, &jerr);
    assert_non_null(layer);
    h_res_input in = {
        .request_key = key, .trace_key = "NA", .app_id = "app_demo", .placement_id = "plc_feed",
        .environment = "prod", .schema_version = "1.0.0", .resolve_at_ms = T0,
        .contract_version = "h_resolve_v1",
    };
    in.layer[H_SCOPE_GLOBAL] = (h_res_layer){H_LAYER_OK, "gc-1", "1.0.0", layer};
    assert_int_equal(h_resolve(&in, out, &err), MED_OK);
    assert_int_equal(out->status, H_RES_RESOLVED);
    json_decref(layer);
}

static void decide(const h_cache_request *req, h_cache_answer *ans)
{
    med_err err;
    assert_int_equal(h_cache_decide(req, ans, &err), MED_OK);
}

static int has_code(const h_cache_answer *a, const char *code)
{
    for (size_t i = 0; i < a->n_reason_codes; i++)
        if (strcmp(a->reason_codes[i], code) == 0)
            return 1;
    return 0;
}

static void test_h10_case5_first_get_miss_then_304(void **state)
{
    (void)state;
    h_res_output first = {0}, again = {0};
    resolve_for_get(300, &first);
    /* first GET: no entry, no tag */
    h_cache_request req = {.now_ms = T0, .resolve = H_CACHE_RESOLVE_OK, .new_etag = first.etag};
    assert_int_equal(h_cache_needs_resolve(&req.entry, req.now_ms), 1);
    h_cache_answer ans;
    decide(&req, &ans);
    assert_int_equal(ans.http_status, 200);
    assert_int_equal(ans.decision, H_CACHE_MISS);
    assert_string_equal(h_cache_decision_name(ans.decision), "miss");
    assert_int_equal(ans.serve, H_CACHE_SERVE_NEW);
    assert_int_equal(ans.n_reason_codes, 1);
    assert_string_equal(ans.reason_codes[0], MED_R_H_CFG_CACHE_MISS);
    int64_t ttl = json_integer_value(json_object_get(first.effective_config, "ttlSec"));
    int64_t expire = h_cache_expire_at(T0, ttl);
    assert_int_equal(expire, T0 + 300000);

    /* repeat with its ETag and another sdkVersion: the key and the
     * resolution ignore sdkVersion, the entry is fresh -> 304 */
    resolve_for_get(300, &again);
    assert_string_equal(again.etag, first.etag);
    char etag_header[80];
    snprintf(etag_header, sizeof etag_header, "\"%s\"", first.etag);
    h_cache_request repeat = {
        .entry = {1, 1, first.etag, expire}, .now_ms = T0 + 1000, .if_none_match = etag_header,
    };
    assert_int_equal(h_cache_needs_resolve(&repeat.entry, repeat.now_ms), 0);
    decide(&repeat, &ans);
    assert_int_equal(ans.http_status, 304);
    assert_int_equal(ans.serve, H_CACHE_SERVE_OLD);
    assert_false(has_code(&ans, MED_R_H_CFG_CACHE_INVALID_ETAG_FORMAT));

    /* a weak tag counts as absent: 200 with the code */
    repeat.if_none_match = "W/\"x\"";
    decide(&repeat, &ans);
    assert_int_equal(ans.http_status, 200);
    assert_int_equal(ans.decision, H_CACHE_REVALIDATED_NOT_MODIFIED);
    assert_int_equal(ans.n_reason_codes, 2);
    assert_string_equal(ans.reason_codes[0], MED_R_H_CFG_CACHE_HIT_FRESH);
    assert_string_equal(ans.reason_codes[1], MED_R_H_CFG_CACHE_INVALID_ETAG_FORMAT);
    h_res_output_free(&first);
    h_res_output_free(&again);
}

static void test_h10_case6_stale_grace_then_503(void **state)
{
    (void)state;
    h_res_output first = {0};
    resolve_for_get(5, &first);
    int64_t ttl = json_integer_value(json_object_get(first.effective_config, "ttlSec"));
    h_cache_request req = {
        .entry = {1, 1, first.etag, h_cache_expire_at(T0, ttl)},
        .now_ms = T0 + 6000, .resolve = H_CACHE_RESOLVE_FAILED, /* the store fails */
    };
    h_cache_answer ans;
    assert_int_equal(h_cache_needs_resolve(&req.entry, req.now_ms), 1);
    decide(&req, &ans);
    assert_int_equal(ans.http_status, 200);
    assert_int_equal(ans.decision, H_CACHE_STALE_SERVED);
    assert_string_equal(h_cache_decision_name(ans.decision), "stale_served");
    assert_int_equal(ans.serve, H_CACHE_SERVE_OLD);
    assert_string_equal(ans.reason_codes[0], MED_R_H_CFG_CACHE_STALE_GRACE_SERVED);

    req.now_ms = T0 + 71000;
    decide(&req, &ans);
    assert_int_equal(ans.http_status, 503);
    assert_int_equal(ans.serve, H_CACHE_SERVE_NONE);
    assert_int_equal(ans.n_reason_codes, 1);
    assert_string_equal(ans.reason_codes[0], MED_R_H_CFG_CACHE_EXPIRED_REVALIDATE_FAILED);
    h_res_output_free(&first);
}

static void assert_tag_invalid(const char *header)
{
    char tag[H_CACHE_TAG_MAX] = "junk";
    med_err err;
    assert_int_equal(h_cache_parse_if_none_match(header, tag, sizeof tag, &err), MED_ERR_INVALID);
    assert_string_equal(err.code, MED_R_H_CFG_CACHE_INVALID_ETAG_FORMAT);
    assert_string_equal(tag, "");
}

static void assert_tag_valid(const char *header, const char *want)
{
    char tag[H_CACHE_TAG_MAX];
    med_err err;
    assert_int_equal(h_cache_parse_if_none_match(header, tag, sizeof tag, &err), MED_OK);
    assert_string_equal(tag, want);
}

static void test_h_cache_if_none_match_forms(void **state)
{
    (void)state;
    assert_tag_valid("\"" ETAG_A "\"", ETAG_A);
    assert_tag_valid("  \"abc\"\t", "abc");
    assert_tag_valid(NULL, "");
    assert_tag_valid("   ", "");
    assert_tag_invalid("W/\"x\"");
    assert_tag_invalid("\"a\", \"b\"");
    assert_tag_invalid("\"a\",\"b\"");
    assert_tag_invalid("abc");
    assert_tag_invalid("*");
    assert_tag_invalid("\"\"");
    assert_tag_invalid("\"abc");
    assert_tag_invalid("\"a b\"");
    char longer[200];
    memset(longer, 'a', sizeof longer);
    longer[0] = '"';
    longer[150] = '"';
    longer[151] = '\0';
    assert_tag_invalid(longer);
}

static void test_h_cache_config_key_and_freshness(void **state)
{
    (void)state;
    char key[64], tiny[8];
    med_err err;
    assert_int_equal(h_cache_config_key("app_demo", "plc_feed", "staging", "1.2.0", key,
                                        sizeof key, &err), MED_OK);
    assert_string_equal(key, "app_demo|plc_feed|staging|1.2.0");
    assert_int_equal(h_cache_config_key("app_demo", "", "prod", "1.0.0", key, sizeof key, &err),
                     MED_ERR_INVALID);
    assert_int_equal(h_cache_config_key("app_demo", "plc_feed", "prod", "1.0.0", tiny,
                                        sizeof tiny, &err), MED_ERR_INVALID);
    int64_t exp = h_cache_expire_at(T0, 5);
    assert_int_equal(h_cache_freshness_at(exp, exp - 1), H_CACHE_FRESH);
    assert_int_equal(h_cache_freshness_at(exp, exp), H_CACHE_STALE_GRACE);
    assert_int_equal(h_cache_freshness_at(exp, exp + 59999), H_CACHE_STALE_GRACE);
    assert_int_equal(h_cache_freshness_at(exp, exp + 60000), H_CACHE_EXPIRED);
}

static void test_h_cache_fresh_other_tag_hit(void **state)
{
    (void)state;
    h_cache_request req = {.entry = {1, 1, ETAG_A, T0 + 5000}, .now_ms = T0,
                           .if_none_match = "\"" ETAG_B "\""};
    h_cache_answer ans;
    decide(&req, &ans);
    assert_int_equal(ans.http_status, 200);
    assert_int_equal(ans.decision, H_CACHE_REVALIDATED_NOT_MODIFIED);
    assert_int_equal(ans.serve, H_CACHE_SERVE_OLD);
    assert_string_equal(ans.reason_codes[0], MED_R_H_CFG_CACHE_HIT_FRESH);
}

static void test_h_cache_not_fresh_resolved_rows(void **state)
{
    (void)state;
    h_cache_answer ans;
    /* same etag again */
    h_cache_request req = {.entry = {1, 1, ETAG_A, T0}, .now_ms = T0 + 1000,
                           .resolve = H_CACHE_RESOLVE_OK, .new_etag = ETAG_A};
    decide(&req, &ans);
    assert_int_equal(ans.http_status, 200);
    assert_int_equal(ans.decision, H_CACHE_REVALIDATED_NOT_MODIFIED);
    assert_string_equal(ans.reason_codes[0], MED_R_H_CFG_CACHE_REVALIDATED_NOT_MODIFIED);
    /* changed */
    req.new_etag = ETAG_B;
    decide(&req, &ans);
    assert_int_equal(ans.http_status, 200);
    assert_int_equal(ans.decision, H_CACHE_REVALIDATED_CHANGED);
    assert_int_equal(ans.serve, H_CACHE_SERVE_NEW);
    assert_string_equal(ans.reason_codes[0], MED_R_H_CFG_CACHE_REVALIDATED_CHANGED);
    /* the client already holds the new etag */
    req.if_none_match = "\"" ETAG_B "\"";
    decide(&req, &ans);
    assert_int_equal(ans.http_status, 304);
    /* the client holds the old one, which changed */
    req.if_none_match = "\"" ETAG_A "\"";
    decide(&req, &ans);
    assert_int_equal(ans.http_status, 200);
    /* an entry that was not resolved ok is no entry */
    req.entry.resolved_ok = 0;
    decide(&req, &ans);
    assert_int_equal(ans.decision, H_CACHE_MISS);
}

static void test_h_cache_failed_without_entry_503(void **state)
{
    (void)state;
    h_cache_request req = {.now_ms = T0, .resolve = H_CACHE_RESOLVE_FAILED};
    h_cache_answer ans;
    decide(&req, &ans);
    assert_int_equal(ans.http_status, 503);
    assert_string_equal(ans.reason_codes[0], MED_R_H_CFG_CACHE_EXPIRED_REVALIDATE_FAILED);
    med_err err;
    req.resolve = H_CACHE_RESOLVE_NOT_RUN;
    assert_int_equal(h_cache_decide(&req, &ans, &err), MED_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_h10_case5_first_get_miss_then_304),
        cmocka_unit_test(test_h10_case6_stale_grace_then_503),
        cmocka_unit_test(test_h_cache_if_none_match_forms),
        cmocka_unit_test(test_h_cache_config_key_and_freshness),
        cmocka_unit_test(test_h_cache_fresh_other_tag_hit),
        cmocka_unit_test(test_h_cache_not_fresh_resolved_rows),
        cmocka_unit_test(test_h_cache_failed_without_entry_503),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
