/* GET /v1/config per-request decisions without servers: stage mapping
 * (gate degrade/reject, rollout force_fallback, 304, stale), the gate over
 * a served snapshot, the body placement and the StageAudit packing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "h_get_audit.h"
#include "h_get_body.h"
#include "h_get_decide.h"
#include "med/reason.h"

/* A served snapshot: global layer only, sdkMinVersion 1.0.0, net_a >=
 * 1.0.0, schema policy via a schema ref when with_schema. */
static char *snapshot(int with_schema, const char *missing_policy, const char *route_body)
{
    char *s = NULL;
    int n = asprintf(
        &s,
        "{\"resolveId\":\"cfgres_0123456789abcdef\",\"requestKey\":\"app|plc|staging|1.0.0\","
        "\"traceKey\":\"NA\",\"resolutionStatus\":\"resolved\",\"appliedVersions\":{},"
        "\"effectiveConfig\":{\"sdkMinVersion\":\"1.0.0\",\"adapterMinVersionMap\":"
        "{\"net_a\":\"1.0.0\"},\"missingMinVersionPolicy\":\"%s\",%s"
        "\"routePolicyRef\":\"route_policy:rp1\",\"ttlSec\":60},"
        "\"fieldProvenance\":[{\"fieldPath\":\"ttlSec\",\"winnerScope\":\"global\"}],"
        "\"reasonCodes\":[],\"etag\":\"e\",\"documents\":["
        "{\"kind\":\"schema\",\"version\":\"1.0.0\",\"body\":{\"schemaVersion\":\"1.0.0\","
        "\"schemaCompatibilityPolicy\":{\"fullySupported\":[\"1.0.0\"],"
        "\"compatibleDegrade\":[\"0.9.0\"]}}},"
        "{\"kind\":\"route_policy\",\"version\":\"rp1\",\"body\":%s}]}",
        missing_policy, with_schema ? "\"schemaPolicyRef\":\"schema:1.0.0\"," : "", route_body);
    assert_true(n > 0);
    return s;
}

static const h_kv ONE_ADAPTER[] = { { "net_a", "1.2.0" } };
static const h_kv TWO_ADAPTERS[] = { { "net_a", "1.2.0" }, { "net_b", "1.0.0" } };

static h_get_decide_in request(const char *snap, const char *sdk, const h_kv *ad, size_t n)
{
    return (h_get_decide_in){ .snapshot_json = snap,
                              .versions_json = "{\"schemaVersion\":\"1.0.0\"}",
                              .config_key = "app|plc|staging|1.0.0", .app_id = "app",
                              .placement_id = "plc", .environment = "staging",
                              .schema_version = "1.0.0", .sdk_version = sdk, .adapters = ad,
                              .n_adapters = n, .http_status = 200, .cache_decision = "miss",
                              .cache_code = MED_R_H_CFG_CACHE_MISS, .now_ms = 1700000000000 };
}

static json_t *parsed(const char *text)
{
    json_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    return j;
}

static const char *path_code(const json_t *audit, int stage)
{
    json_t *step = json_array_get(json_object_get(audit, "decisionPath"), (size_t)stage);
    return json_string_value(json_object_get(step, "stageReasonCodeOrNA"));
}

static void decide(const h_get_decide_in *in, h_get_decisions *d, json_t **gate, json_t **audit)
{
    med_err e;
    assert_int_equal(h_get_decide(in, d, &e), MED_OK);
    *gate = parsed(d->gate_json);
    *audit = parsed(d->audit_json);
}

static void sdk_below_min_is_gate_reject(void **state)
{
    (void)state;
    char *s = snapshot(1, "reject", "{\"sources\":[]}");
    h_get_decide_in in = request(s, "0.9.0", ONE_ADAPTER, 1);
    h_get_decisions d;
    json_t *g, *a;
    decide(&in, &d, &g, &a);
    assert_string_equal(json_string_value(json_object_get(g, "gateAction")), "reject");
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(g, "reasonCodes"), 0)),
        MED_R_H_GATE_SDK_BELOW_MIN_REJECT);
    assert_string_equal(d.action, "reject");
    assert_string_equal(d.primary, MED_R_H_CFG_DECISION_REJECT_VERSION_GATE_FAILED);
    assert_string_equal(path_code(a, H_DSTAGE_VERSION_GATE), MED_R_H_GATE_SDK_BELOW_MIN_REJECT);
    assert_null(d.rollout_json); /* the route policy has no rollout object */
    assert_int_equal(strncmp(d.snapshot_id, "cfgdec_", 7), 0);
    json_decref(g);
    json_decref(a);
    h_get_decisions_clear(&d);

    /* a good sdkVersion passes every gate: a hit */
    in = request(s, "2.0.0", ONE_ADAPTER, 1);
    decide(&in, &d, &g, &a);
    assert_string_equal(json_string_value(json_object_get(g, "gateAction")), "allow");
    assert_string_equal(d.action, "hit");
    assert_string_equal(d.primary, MED_R_H_CFG_DECISION_HIT_EXACT_MATCH);
    json_decref(g);
    json_decref(a);
    h_get_decisions_clear(&d);
    free(s);
}

static void unknown_adapter_blocked_is_gate_degrade(void **state)
{
    (void)state;
    char *s = snapshot(1, "degrade_block_adapter", "{\"sources\":[]}");
    h_get_decide_in in = request(s, "2.0.0", TWO_ADAPTERS, 2);
    h_get_decisions d;
    json_t *g, *a;
    decide(&in, &d, &g, &a);
    assert_string_equal(json_string_value(json_object_get(g, "gateAction")), "degrade");
    assert_string_equal(json_string_value(json_array_get(json_object_get(g, "blockedAdapters"), 0)),
                        "net_b");
    assert_string_equal(d.action, "degrade");
    assert_string_equal(d.primary, MED_R_H_CFG_DECISION_DEGRADE_PARTIAL_ADAPTER_COMPATIBLE);
    json_decref(g);
    json_decref(a);
    h_get_decisions_clear(&d);
    free(s);
}

/* The schema document is found by a layer ref or, without one, by the
 * request's schemaVersion (06 section 2). Neither here: policy not found. */
static void no_schema_document_is_policy_not_found(void **state)
{
    (void)state;
    char *s = snapshot(0, "reject", "{\"sources\":[]}");
    h_get_decide_in in = request(s, "2.0.0", ONE_ADAPTER, 1);
    in.schema_version = "2.0.0"; /* the snapshot only holds schema:1.0.0 */
    h_get_decisions d;
    json_t *g, *a;
    decide(&in, &d, &g, &a);
    assert_string_equal(json_string_value(json_object_get(g, "gateAction")), "reject");
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(g, "reasonCodes"), 0)),
        MED_R_H_GATE_POLICY_NOT_FOUND);
    assert_string_equal(d.primary, MED_R_H_CFG_DECISION_REJECT_VERSION_GATE_FAILED);
    json_decref(g);
    json_decref(a);
    h_get_decisions_clear(&d);
    free(s);
}

/* Without a ref, the request's schemaVersion names the schema document. */
static void schema_document_found_by_schema_version(void **state)
{
    (void)state;
    char *s = snapshot(0, "reject", "{\"sources\":[]}");
    h_get_decide_in in = request(s, "2.0.0", ONE_ADAPTER, 1);
    h_get_decisions d;
    json_t *g, *a;
    decide(&in, &d, &g, &a);
    assert_string_equal(json_string_value(json_object_get(g, "gateAction")), "allow");
    json_decref(g);
    json_decref(a);
    h_get_decisions_clear(&d);
    free(s);
}

static void rollout_force_fallback_is_degrade(void **state)
{
    (void)state;
    /* no traceKey and no bucket hint: the canary cannot split -> fallback */
    char *s = snapshot(1, "reject",
                       "{\"sources\":[{\"adapterId\":\"net_a\"}],\"rollout\":{\"policyId\":"
                       "\"canary\",\"lastStablePolicyId\":\"stable\",\"rolloutPercent\":50}}");
    h_get_decide_in in = request(s, "2.0.0", NULL, 0);
    h_get_decisions d;
    med_err e;
    assert_int_equal(h_get_decide(&in, &d, &e), MED_OK);
    assert_non_null(d.rollout_json);
    json_t *r = parsed(d.rollout_json);
    assert_string_equal(json_string_value(json_object_get(r, "rolloutAction")), "force_fallback");
    assert_string_equal(json_string_value(json_object_get(r, "selectedPolicyId")), "stable");
    json_decref(r);
    /* no adapters reported: the gate's adapter stage has nothing to judge
     * and passes, so the canary's fallback is the decision's primary code */
    assert_string_equal(d.action, "degrade");
    assert_string_equal(d.primary, MED_R_H_CFG_DECISION_DEGRADE_ROLLOUT_FORCE_FALLBACK);
    h_get_decisions_clear(&d);

    /* a gate reject still wins over the rollout degrade */
    in = request(s, "0.5.0", NULL, 0);
    assert_int_equal(h_get_decide(&in, &d, &e), MED_OK);
    assert_string_equal(d.action, "reject");
    int found = 0;
    for (size_t i = 0; i < d.n_secondary; i++)
        found |= strcmp(d.secondary[i], MED_R_H_CFG_DECISION_DEGRADE_ROLLOUT_FORCE_FALLBACK) == 0;
    assert_false(found); /* degrade codes do not ride on a reject */
    h_get_decisions_clear(&d);

    /* with a trace key the split runs: in or out, never force_fallback */
    in = request(s, "2.0.0", ONE_ADAPTER, 1);
    in.trace_key = "trace-1";
    assert_int_equal(h_get_decide(&in, &d, &e), MED_OK);
    r = parsed(d.rollout_json);
    assert_string_not_equal(json_string_value(json_object_get(r, "rolloutAction")),
                            "force_fallback");
    json_decref(r);
    h_get_decisions_clear(&d);
    free(s);
}

static h_get_stage_facts hit_facts(void)
{
    return (h_get_stage_facts){ .resolution_status = "resolved", .gate_action = H_ALLOW,
                                .gate_code = MED_R_H_GATE_ALL_PASS, .http_status = 200,
                                .cache_decision = "miss", .cache_code = MED_R_H_CFG_CACHE_MISS };
}

static void build(const h_get_stage_facts *f, h_decision *d)
{
    h_decision_input in = { .request_key = "k", .trace_key = "NA", .resolve_id = "r",
                            .config_key = "k", .contract_version = H_GET_DECISION_CONTRACT };
    int r304 = 0;
    h_get_decide_stages(f, in.stages, &r304);
    in.cache_revalidated_304 = r304 != 0;
    med_err e;
    assert_int_equal(h_decision_build(&in, d, &e), MED_OK);
}

static void stage_mapping(void **state)
{
    (void)state;
    h_decision d;
    h_get_stage_facts f = hit_facts();
    f.rollout_force_fallback = f.has_rollout = 1;
    f.rollout_code = MED_R_H_ROLLOUT_FORCE_FALLBACK_APPLIED;
    build(&f, &d);
    assert_int_equal(d.action, H_DECISION_DEGRADE);
    assert_string_equal(d.primary_reason_code, MED_R_H_CFG_DECISION_DEGRADE_ROLLOUT_FORCE_FALLBACK);

    f = hit_facts();
    f.http_status = 304;
    build(&f, &d);
    assert_int_equal(d.action, H_DECISION_HIT);
    assert_string_equal(d.primary_reason_code, MED_R_H_CFG_DECISION_HIT_CACHE_REVALIDATED_304);

    f = hit_facts();
    f.cache_decision = "stale_served";
    build(&f, &d);
    assert_string_equal(d.primary_reason_code, MED_R_H_CFG_DECISION_DEGRADE_STALE_GRACE_SERVED);

    f = hit_facts();
    f.gate_action = H_DEGRADE;
    f.gate_code = MED_R_H_GATE_SDK_BELOW_MIN_DEGRADE;
    build(&f, &d);
    assert_string_equal(d.primary_reason_code,
                        MED_R_H_CFG_DECISION_DEGRADE_PARTIAL_ADAPTER_COMPATIBLE);

    f = hit_facts();
    f.resolution_status = "degraded";
    f.gate_action = H_REJECT;
    f.gate_code = MED_R_H_GATE_SDK_BELOW_MIN_REJECT;
    build(&f, &d);
    assert_int_equal(d.action, H_DECISION_REJECT);
    assert_string_equal(d.primary_reason_code, MED_R_H_CFG_DECISION_REJECT_VERSION_GATE_FAILED);
}

static void decisions_follow_the_snapshot_in_the_body(void **state)
{
    (void)state;
    const char *codes[] = { MED_R_H_CFG_CACHE_MISS };
    h_get_ok ok = { .config_key = "k", .etag = "e", .ttl_sec = 60, .cache_decision = "miss",
                    .codes = codes, .n_codes = 1, .versions_json = "{}",
                    .snapshot_json = "{\"x\":1}", .gate_json = "{\"g\":1}",
                    .audit_json = "{\"a\":1}" };
    char *body = NULL;
    med_err e;
    assert_int_equal(h_get_body_ok(&ok, &body, &e), MED_OK);
    assert_non_null(strstr(body, "\"resolvedConfigSnapshot\":{\"x\":1},"
                                 "\"versionGateDecision\":{\"g\":1},"
                                 "\"configDecisionAudit\":{\"a\":1},\"expireAt\""));
    free(body);
}

static void audit_packs_as_stage_audit(void **state)
{
    (void)state;
    char *s = snapshot(1, "reject", "{\"sources\":[]}");
    h_get_decide_in in = request(s, "2.0.0", ONE_ADAPTER, 1);
    in.http_status = 304;
    h_get_decisions d;
    med_err e;
    assert_int_equal(h_get_decide(&in, &d, &e), MED_OK);
    assert_string_equal(d.primary, MED_R_H_CFG_DECISION_HIT_CACHE_REVALIDATED_304);
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(h_get_audit_pack(&d, NULL, "h1", "id1", 5, &buf, &len, &e), MED_OK);
    Mediation__V1__StageAudit *a = mediation__v1__stage_audit__unpack(NULL, len, buf);
    assert_non_null(a);
    assert_string_equal(a->stage, "h");
    assert_string_equal(a->decision_action, "hit");
    assert_int_equal(a->snapshot_case, MEDIATION__V1__STAGE_AUDIT__SNAPSHOT_H_AUDIT);
    assert_string_equal(a->h_audit->h_config_decision_audit_snapshot_lite->snapshot_id,
                        d.snapshot_id);
    assert_string_equal(a->snapshot_type, H_GET_AUDIT_SNAPSHOT_TYPE);
    json_t *full = json_loadb((const char *)a->snapshot_json.data, a->snapshot_json.len, 0, NULL);
    assert_non_null(full);
    assert_string_equal(json_string_value(json_object_get(full, "snapshotId")), d.snapshot_id);
    json_decref(full);
    mediation__v1__stage_audit__free_unpacked(a, NULL);
    free(buf);
    h_get_decisions_clear(&d);
    free(s);
}

static void unreadable_snapshot_is_invalid(void **state)
{
    (void)state;
    h_get_decide_in in = request("not json", "2.0.0", ONE_ADAPTER, 1);
    h_get_decisions d;
    med_err e;
    assert_int_equal(h_get_decide(&in, &d, &e), MED_ERR_INVALID);
    assert_null(d.gate_json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sdk_below_min_is_gate_reject),
        cmocka_unit_test(unknown_adapter_blocked_is_gate_degrade),
        cmocka_unit_test(no_schema_document_is_policy_not_found),
        cmocka_unit_test(schema_document_found_by_schema_version),
        cmocka_unit_test(rollout_force_fallback_is_degrade),
        cmocka_unit_test(stage_mapping),
        cmocka_unit_test(decisions_follow_the_snapshot_in_the_body),
        cmocka_unit_test(audit_packs_as_stage_audit),
        cmocka_unit_test(unreadable_snapshot_is_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
