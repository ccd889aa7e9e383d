/* H.2 resolution: H.10 cases 1-4 and the merge rules around them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "h_resolve.h"
#include "med/ids.h"
#include "med/jcs.h"
#include "med/reason.h"

#define GLOBAL_BASE                                                                    \
    "\"policyThresholdsRef\": \"policy:p1\", \"templateWhitelistRef\": \"template_whitelist:t1\", " \
    "\"blackWhiteListRef\": \"black_white_list:b1\", \"placementRef\": \"placement:pl1\", "  \
    "\"sdkMinVersion\": \"1.0.0\", \"missingMinVersionPolicy\": \"reject\""

/* Case 1's layers; the other tests start from them. */
#define CASE1_GLOBAL "{" GLOBAL_BASE ", \"routePolicyRef\": \"route_policy:g1\", \"ttlSec\": 300, " \
    "\"adapterMinVersionMap\": {\"cj\": \"2.1.0\", \"ps\": \"2.0.0\"}, \"experimentTagList\": [\"a\"]}"
#define CASE1_APP "{\"routePolicyRef\": \"route_policy:a5\", \"adapterMinVersionMap\": " \
    "{\"cj\": \"2.2.0\"}, \"experimentTagList\": [\"b\"]}"
#define CASE1_PLACEMENT "{\"ttlSec\": 120, \"adapterMinVersionMap\": {\"ih\": \"1.0.0\"}}"

/* Owns the parsed layers of one resolution. */
typedef struct fixture {
    h_res_input in;
    json_t *json[H_SCOPE_COUNT];
    h_res_output out;
} fixture;

static void set_layer(fixture *f, h_scope s, const char *text, const char *version)
{
    json_error_t jerr;
    json_decref(f->json[s]);
    f->json[s] = text ? json_loads(text, 0, &jerr) : NULL;
    if (text && !f->json[s])
        fail_msg("layer %d does not parse: %s", (int)s, jerr.text);
    f->in.layer[s] = (h_res_layer){text ? H_LAYER_OK : H_LAYER_ABSENT, version, "1.0.0", f->json[s]};
}

static void fixture_init(fixture *f, const char *global, const char *app, const char *placement)
{
    memset(f, 0, sizeof *f);
    f->in.request_key = "app_demo|plc_feed|prod|1.0.0";
    f->in.trace_key = "tr_0123456789abcdef";
    f->in.app_id = "app_demo";
    f->in.placement_id = "plc_feed";
    f->in.environment = "prod";
    f->in.schema_version = "1.0.0";
    f->in.resolve_at_ms = 1795428000000;
    f->in.contract_version = "h_resolve_v1";
    set_layer(f, H_SCOPE_GLOBAL, global, "gc-1");
    set_layer(f, H_SCOPE_APP, app, "ac-2");
    set_layer(f, H_SCOPE_PLACEMENT, placement, "pc-3");
}

static void fixture_resolve(fixture *f)
{
    med_err err;
    h_res_output_free(&f->out);
    assert_int_equal(h_resolve(&f->in, &f->out, &err), MED_OK);
}

static void fixture_free(fixture *f)
{
    h_res_output_free(&f->out);
    for (int s = 0; s < H_SCOPE_COUNT; s++)
        json_decref(f->json[s]);
}

static const json_t *eff(const fixture *f, const char *field)
{
    return json_object_get(f->out.effective_config, field);
}

static const h_res_provenance *prov(const fixture *f, const char *path)
{
    for (size_t i = 0; i < f->out.n_provenance; i++)
        if (strcmp(f->out.provenance[i].field_path, path) == 0)
            return &f->out.provenance[i];
    return NULL;
}

static int has_code(const fixture *f, const char *code)
{
    for (size_t i = 0; i < f->out.n_reason_codes; i++)
        if (strcmp(f->out.reason_codes[i], code) == 0)
            return 1;
    return 0;
}

static void assert_json_eq(const json_t *got, const char *want_text)
{
    json_error_t jerr;
    json_t *want = json_loads(want_text, JSON_DECODE_ANY, &jerr);
    assert_non_null(want);
    assert_true(json_equal((json_t *)got, want));
    json_decref(want);
}

static void test_h10_case1_layered_merge(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, CASE1_GLOBAL, CASE1_APP, CASE1_PLACEMENT);
    fixture_resolve(&f);
    assert_int_equal(f.out.status, H_RES_RESOLVED);
    assert_int_equal(f.out.n_reason_codes, 0);
    assert_string_equal(json_string_value(eff(&f, "routePolicyRef")), "route_policy:a5");
    assert_int_equal(prov(&f, "routePolicyRef")->winner_scope, H_SCOPE_APP);
    assert_string_equal(prov(&f, "routePolicyRef")->winner_version, "ac-2");
    assert_int_equal(json_integer_value(eff(&f, "ttlSec")), 120);
    assert_int_equal(prov(&f, "ttlSec")->winner_scope, H_SCOPE_PLACEMENT);
    assert_json_eq(eff(&f, "experimentTagList"), "[\"b\"]");
    assert_json_eq(eff(&f, "adapterMinVersionMap"),
                   "{\"cj\": \"2.2.0\", \"ih\": \"1.0.0\", \"ps\": \"2.0.0\"}");
    assert_int_equal(prov(&f, "adapterMinVersionMap.cj")->winner_scope, H_SCOPE_APP);
    assert_int_equal(prov(&f, "adapterMinVersionMap.ih")->winner_scope, H_SCOPE_PLACEMENT);
    assert_int_equal(prov(&f, "adapterMinVersionMap.ps")->winner_scope, H_SCOPE_GLOBAL);
    assert_false(prov(&f, "adapterMinVersionMap.ps")->has_fallback);
    assert_string_equal(f.out.applied.routing_strategy_version, "a5");
    assert_string_equal(f.out.applied.placement_config_version, "pc-3");
    assert_string_equal(f.out.applied.global_config_version, "gc-1");
    assert_string_equal(f.out.applied.app_config_version_or_na, "ac-2");
    assert_string_equal(f.out.applied.placement_source_version_or_na, "pl1");
    for (size_t i = 1; i < f.out.n_provenance; i++)
        assert_true(strcmp(f.out.provenance[i - 1].field_path, f.out.provenance[i].field_path) < 0);
    fixture_free(&f);
}

static void test_h10_case2_invalid_range_keeps_lower(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, CASE1_GLOBAL, "{\"ttlSec\": 180}", "{\"ttlSec\": -1}");
    fixture_resolve(&f);
    assert_int_equal(json_integer_value(eff(&f, "ttlSec")), 180);
    assert_int_equal(f.out.status, H_RES_DEGRADED);
    assert_true(has_code(&f, MED_R_H_CFG_INVALID_RANGE));
    const h_res_provenance *p = prov(&f, "ttlSec");
    assert_int_equal(p->winner_scope, H_SCOPE_APP);
    assert_true(p->has_fallback);
    assert_int_equal(p->fallback_scope, H_SCOPE_PLACEMENT);
    fixture_free(&f);
}

static void test_h10_case2_null_required_rejected(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, CASE1_GLOBAL, "{\"ttlSec\": 180}", "{\"sdkMinVersion\": null}");
    fixture_resolve(&f);
    assert_int_equal(f.out.status, H_RES_REJECTED);
    assert_true(has_code(&f, MED_R_H_CFG_MISSING_REQUIRED_AFTER_MERGE));
    assert_null(eff(&f, "sdkMinVersion"));
    assert_null(prov(&f, "sdkMinVersion"));
    fixture_free(&f);
}

static void test_h10_case2_invalid_type_degraded(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, CASE1_GLOBAL, "{\"ttlSec\": \"180\", \"routePolicyRef\": \"policy:x\"}", NULL);
    fixture_resolve(&f);
    assert_int_equal(f.out.status, H_RES_DEGRADED);
    assert_true(has_code(&f, MED_R_H_CFG_INVALID_TYPE));
    assert_true(has_code(&f, MED_R_H_CFG_INVALID_RANGE)); /* a ref of the wrong kind */
    assert_int_equal(json_integer_value(eff(&f, "ttlSec")), 300);
    assert_string_equal(f.out.applied.routing_strategy_version, "g1");
    assert_int_equal(prov(&f, "routePolicyRef")->fallback_scope, H_SCOPE_APP);
    fixture_free(&f);
}

static void test_h10_case3_global_unavailable_rejected(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, CASE1_GLOBAL, CASE1_APP, CASE1_PLACEMENT);
    f.in.layer[H_SCOPE_GLOBAL].state = H_LAYER_UNAVAILABLE;
    fixture_resolve(&f);
    assert_int_equal(f.out.status, H_RES_REJECTED);
    assert_true(has_code(&f, MED_R_H_CFG_GLOBAL_UNAVAILABLE_FAIL_CLOSED));
    assert_false(has_code(&f, MED_R_H_CFG_VERSION_INCOMPATIBLE));
    assert_int_equal(json_object_size(f.out.effective_config), 0);

    f.in.layer[H_SCOPE_GLOBAL].state = H_LAYER_OK;
    f.in.layer[H_SCOPE_GLOBAL].schema_version = "2.0.0";
    fixture_resolve(&f);
    assert_int_equal(f.out.status, H_RES_REJECTED);
    assert_true(has_code(&f, MED_R_H_CFG_GLOBAL_UNAVAILABLE_FAIL_CLOSED));
    assert_true(has_code(&f, MED_R_H_CFG_VERSION_INCOMPATIBLE));
    fixture_free(&f);
}

static void test_h10_case3_app_unavailable_degraded(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, CASE1_GLOBAL, CASE1_APP, CASE1_PLACEMENT);
    f.in.layer[H_SCOPE_APP].state = H_LAYER_UNAVAILABLE;
    fixture_resolve(&f);
    assert_int_equal(f.out.status, H_RES_DEGRADED);
    assert_int_equal(f.out.n_reason_codes, 1);
    assert_string_equal(f.out.reason_codes[0], MED_R_H_CFG_SCOPE_UNAVAILABLE);
    assert_string_equal(json_string_value(eff(&f, "routePolicyRef")), "route_policy:g1");
    assert_string_equal(f.out.applied.app_config_version_or_na, "NA");
    assert_int_equal(json_integer_value(eff(&f, "ttlSec")), 120);
    fixture_free(&f);
}

static char *snapshot_canon(const fixture *f)
{
    json_t *snap;
    char *s;
    med_err err;
    assert_int_equal(h_res_snapshot_json(&f->out, &snap, &err), MED_OK);
    assert_int_equal(med_jcs_serialize(snap, &s, NULL, &err), MED_OK);
    json_decref(snap);
    return s;
}

static void test_h10_case4_replicas_byte_identical(void **state)
{
    (void)state;
    fixture a, b;
    fixture_init(&a, CASE1_GLOBAL, CASE1_APP, CASE1_PLACEMENT);
    /* the same content, other key order and spacing, as another replica
     * might have read it */
    fixture_init(&b, "{\"experimentTagList\":[\"a\"],\"adapterMinVersionMap\":{\"ps\":\"2.0.0\","
                     "\"cj\":\"2.1.0\"},\"ttlSec\":300,\"routePolicyRef\":\"route_policy:g1\","
                     GLOBAL_BASE "}", CASE1_APP, CASE1_PLACEMENT);
    fixture_resolve(&a);
    fixture_resolve(&b);
    char *sa = snapshot_canon(&a), *sb = snapshot_canon(&b);
    assert_string_equal(sa, sb);
    assert_string_equal(a.out.etag, b.out.etag);
    assert_non_null(strstr(sa, "\"resolvedAt\":\"2026-11-23T"));
    free(sa);
    free(sb);
    fixture_free(&a);
    fixture_free(&b);
}

static void test_h10_case4_hash_formulas(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, CASE1_GLOBAL, CASE1_APP, CASE1_PLACEMENT);
    fixture_resolve(&f);
    char want[65], buf[512], id[32];
    med_err err;
    assert_int_equal(med_jcs_sha256(f.out.effective_config, want, &err), MED_OK);
    assert_string_equal(f.out.config_hash, want);
    snprintf(buf, sizeof buf, "%s|1.0.0|gc-1|ac-2|pl1|pc-3|a5", f.out.config_hash);
    med_sha256_hex(buf, strlen(buf), want);
    assert_string_equal(f.out.etag, want);
    snprintf(buf, sizeof buf, "app_demo|plc_feed|prod|1.0.0|tr_0123456789abcdef|%s|h_resolve_v1",
             f.out.etag);
    assert_int_equal(med_hash_key(id, sizeof id, "cfgres_", buf, 16), 0);
    assert_string_equal(f.out.resolve_id, id);
    fixture_free(&f);
}

/* Resolves with one change applied and returns whether the etag moved. */
static int etag_differs(const char *base_etag, const char *global, const char *app,
                        const char *placement, const char *schema, const char *gv,
                        const char *av, const char *pv)
{
    fixture f;
    fixture_init(&f, global, app, placement);
    f.in.schema_version = schema;
    for (int s = 0; s < H_SCOPE_COUNT; s++)
        f.in.layer[s].schema_version = schema;
    f.in.layer[H_SCOPE_GLOBAL].version = gv;
    f.in.layer[H_SCOPE_APP].version = av;
    f.in.layer[H_SCOPE_PLACEMENT].version = pv;
    fixture_resolve(&f);
    assert_int_equal(f.out.status, H_RES_RESOLVED);
    int differs = strcmp(base_etag, f.out.etag) != 0;
    fixture_free(&f);
    return differs;
}

static void test_h10_case4_each_vs_part_changes_etag(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, CASE1_GLOBAL, CASE1_APP, CASE1_PLACEMENT);
    fixture_resolve(&f);
    const char *e = f.out.etag;
    const char *G = CASE1_GLOBAL, *A = CASE1_APP, *P = CASE1_PLACEMENT;
    /* control: nothing changed */
    assert_false(etag_differs(e, G, A, P, "1.0.0", "gc-1", "ac-2", "pc-3"));
    assert_true(etag_differs(e, G, A, P, "1.1.0", "gc-1", "ac-2", "pc-3"));
    assert_true(etag_differs(e, G, A, P, "1.0.0", "gc-9", "ac-2", "pc-3"));
    assert_true(etag_differs(e, G, A, P, "1.0.0", "gc-1", "ac-9", "pc-3"));
    assert_true(etag_differs(e, G, A, P, "1.0.0", "gc-1", "ac-2", "pc-9"));
    assert_true(etag_differs(e, G, A,
        "{\"ttlSec\": 120, \"adapterMinVersionMap\": {\"ih\": \"1.0.0\"}, "
        "\"placementRef\": \"placement:pl9\"}", "1.0.0", "gc-1", "ac-2", "pc-3"));
    assert_true(etag_differs(e, G,
        "{\"routePolicyRef\": \"route_policy:a6\", \"adapterMinVersionMap\": "
        "{\"cj\": \"2.2.0\"}, \"experimentTagList\": [\"b\"]}", P, "1.0.0", "gc-1", "ac-2", "pc-3"));
    fixture_free(&f);
}

static void test_h_resolve_null_clears_map_key(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, CASE1_GLOBAL, "{\"adapterMinVersionMap\": {\"ps\": null, \"cj\": \"2.3.0\"}}",
                 NULL);
    fixture_resolve(&f);
    assert_int_equal(f.out.status, H_RES_RESOLVED);
    assert_json_eq(eff(&f, "adapterMinVersionMap"), "{\"cj\": \"2.3.0\"}");
    assert_null(prov(&f, "adapterMinVersionMap.ps"));
    assert_int_equal(prov(&f, "adapterMinVersionMap.cj")->winner_scope, H_SCOPE_APP);
    assert_string_equal(f.out.applied.placement_config_version, "NA");
    fixture_free(&f);
}

static void test_h_resolve_null_clears_optional_field(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, CASE1_GLOBAL, "{\"experimentTagList\": null}", NULL);
    fixture_resolve(&f);
    assert_int_equal(f.out.status, H_RES_RESOLVED);
    assert_null(eff(&f, "experimentTagList"));
    assert_null(prov(&f, "experimentTagList"));
    fixture_free(&f);
}

static void test_h_resolve_invalid_map_entry_skipped(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, CASE1_GLOBAL, NULL, "{\"adapterMinVersionMap\": {\"cj\": \"2.0\", \"ps\": 3}}");
    fixture_resolve(&f);
    assert_int_equal(f.out.status, H_RES_DEGRADED);
    assert_true(has_code(&f, MED_R_H_CFG_INVALID_RANGE));
    assert_true(has_code(&f, MED_R_H_CFG_INVALID_TYPE));
    assert_json_eq(eff(&f, "adapterMinVersionMap"), "{\"cj\": \"2.1.0\", \"ps\": \"2.0.0\"}");
    const h_res_provenance *p = prov(&f, "adapterMinVersionMap.cj");
    assert_int_equal(p->winner_scope, H_SCOPE_GLOBAL);
    assert_int_equal(p->fallback_scope, H_SCOPE_PLACEMENT);
    fixture_free(&f);
}

static void test_h_resolve_unknown_field_dropped(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, CASE1_GLOBAL, "{\"bidFloor\": 1.5}", NULL);
    fixture_resolve(&f);
    assert_int_equal(f.out.status, H_RES_RESOLVED);
    assert_int_equal(f.out.n_reason_codes, 1);
    assert_string_equal(f.out.reason_codes[0], MED_R_H_CFG_UNKNOWN_FIELD_DROPPED);
    assert_null(eff(&f, "bidFloor"));
    fixture_free(&f);
}

static void test_h_resolve_reason_codes_sorted_unique(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, CASE1_GLOBAL, "{\"x\": 1, \"y\": 2, \"ttlSec\": true, \"sdkMinVersion\": 7}",
                 CASE1_PLACEMENT);
    f.in.layer[H_SCOPE_PLACEMENT].state = H_LAYER_UNAVAILABLE;
    fixture_resolve(&f);
    assert_int_equal(f.out.status, H_RES_DEGRADED);
    assert_int_equal(f.out.n_reason_codes, 3);
    assert_string_equal(f.out.reason_codes[0], MED_R_H_CFG_INVALID_TYPE);
    assert_string_equal(f.out.reason_codes[1], MED_R_H_CFG_SCOPE_UNAVAILABLE);
    assert_string_equal(f.out.reason_codes[2], MED_R_H_CFG_UNKNOWN_FIELD_DROPPED);
    json_t *snap;
    med_err err;
    assert_int_equal(h_res_snapshot_json(&f.out, &snap, &err), MED_OK);
    assert_json_eq(json_object_get(snap, "reasonCodes"),
                   "[\"h_cfg_invalid_type\", \"h_cfg_scope_unavailable\", "
                   "\"h_cfg_unknown_field_dropped\"]");
    assert_string_equal(json_string_value(json_object_get(snap, "resolutionStatus")), "degraded");
    json_decref(snap);
    fixture_free(&f);
}

static void test_h_resolve_request_fields_checked(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, CASE1_GLOBAL, NULL, NULL);
    f.in.environment = "dev";
    fixture_resolve(&f);
    assert_int_equal(f.out.status, H_RES_REJECTED);
    assert_true(has_code(&f, MED_R_H_CFG_INVALID_RANGE));
    f.in.environment = "staging";
    f.in.placement_id = "";
    fixture_resolve(&f);
    assert_int_equal(f.out.status, H_RES_REJECTED);
    assert_int_equal(f.out.n_reason_codes, 1);
    assert_string_equal(f.out.reason_codes[0], MED_R_H_CFG_MISSING_REQUIRED_AFTER_MERGE);
    fixture_free(&f);
}

static void test_h_resolve_snapshot_names(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, CASE1_GLOBAL, CASE1_APP, NULL);
    fixture_resolve(&f);
    json_t *snap;
    med_err err;
    assert_int_equal(h_res_snapshot_json(&f.out, &snap, &err), MED_OK);
    assert_string_equal(json_string_value(json_object_get(snap, "resolveId")), f.out.resolve_id);
    assert_int_equal(strncmp(f.out.resolve_id, "cfgres_", 7), 0);
    assert_int_equal(strlen(f.out.resolve_id), 23);
    assert_json_eq(json_object_get(snap, "appliedVersions"),
                   "{\"schemaVersion\": \"1.0.0\", \"routingStrategyVersion\": \"a5\", "
                   "\"placementConfigVersion\": \"NA\", \"globalConfigVersion\": \"gc-1\", "
                   "\"appConfigVersionOrNA\": \"ac-2\", \"placementSourceVersionOrNA\": \"pl1\"}");
    json_t *p0 = json_array_get(json_object_get(snap, "fieldProvenance"), 0);
    assert_json_eq(p0, "{\"fieldPath\": \"adapterMinVersionMap.cj\", \"winnerScope\": \"app\", "
                       "\"winnerVersion\": \"ac-2\", \"fallbackFromScopeOrNA\": \"NA\"}");
    assert_string_equal(json_string_value(json_object_get(snap, "resolvedAt")),
                        "2026-11-23T10:00:00.000Z");
    assert_true(json_equal(json_object_get(snap, "effectiveConfig"), f.out.effective_config));
    json_decref(snap);
    fixture_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_h10_case1_layered_merge),
        cmocka_unit_test(test_h10_case2_invalid_range_keeps_lower),
        cmocka_unit_test(test_h10_case2_null_required_rejected),
        cmocka_unit_test(test_h10_case2_invalid_type_degraded),
        cmocka_unit_test(test_h10_case3_global_unavailable_rejected),
        cmocka_unit_test(test_h10_case3_app_unavailable_degraded),
        cmocka_unit_test(test_h10_case4_replicas_byte_identical),
        cmocka_unit_test(test_h10_case4_hash_formulas),
        cmocka_unit_test(test_h10_case4_each_vs_part_changes_etag),
        cmocka_unit_test(test_h_resolve_null_clears_map_key),
        cmocka_unit_test(test_h_resolve_null_clears_optional_field),
        cmocka_unit_test(test_h_resolve_invalid_map_entry_skipped),
        cmocka_unit_test(test_h_resolve_unknown_field_dropped),
        cmocka_unit_test(test_h_resolve_reason_codes_sorted_unique),
        cmocka_unit_test(test_h_resolve_request_fields_checked),
        cmocka_unit_test(test_h_resolve_snapshot_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
