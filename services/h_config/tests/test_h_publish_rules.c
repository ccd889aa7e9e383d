/* H.4 pure rules: step-1 validation table, role matrix with prod approval,
 * scope bindings, auth window, idempotency key / payload hash determinism
 * and the state machine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "h_publish.h"

static const char *BASE_BODY =
    "{\"requestId\":\"req-1\",\"operatorId\":\"alice\",\"environment\":\"%s\","
    "\"actionType\":\"publish\",\"targetScope\":\"%s\",\"targetKey\":\"%s\","
    "\"changeSetId\":\"cs-1\",\"publishAt\":\"2026-11-23T10:00:00.000Z\","
    "\"publishContractVersion\":\"h_publish_v1\",%s"
    "\"baseVersionSnapshot\":{\"schemaVersion\":\"NA\",\"routingStrategyVersion\":\"NA\","
    "\"placementConfigVersion\":\"NA\"},"
    "\"targetVersionSnapshot\":{\"schemaVersion\":\"1.0.0\",\"routingStrategyVersion\":\"rs-1\","
    "\"placementConfigVersion\":\"pc-1\"},"
    "\"changeSet\":{\"documents\":[],\"layer\":{\"ttlSec\":120}}}";

static med_rc parse_with(const char *env, const char *scope, const char *key, const char *extra,
                         h_pub_req *r, med_err *err)
{
    char buf[4096];
    snprintf(buf, sizeof buf, BASE_BODY, env, scope, key, extra);
    med_err_clear(err);
    return h_pub_parse(buf, strlen(buf), r, err);
}

static void test_validation_table(void **state)
{
    (void)state;
    static const struct { const char *env, *scope, *key; med_rc rc; const char *field; } cases[] = {
        {"prod", "placement", "app_demo|plc_feed|prod", MED_OK, ""},
        {"staging", "app", "app_demo|staging", MED_OK, ""},
        {"prod", "global", "prod", MED_OK, ""},
        {"dev", "global", "dev", MED_ERR_INVALID, "environment"},
        {"prod", "tenant", "prod", MED_ERR_INVALID, "targetScope"},
        {"prod", "app", "app_demo|plc|prod", MED_ERR_INVALID, "targetKey"},
        {"prod", "placement", "app_demo|plc_feed|staging", MED_ERR_INVALID, "targetKey"},
        {"prod", "placement", "app_demo||prod", MED_ERR_INVALID, "targetKey"},
        {"prod", "global", "staging", MED_ERR_INVALID, "targetKey"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        h_pub_req r;
        med_err err;
        med_rc rc = parse_with(cases[i].env, cases[i].scope, cases[i].key, "", &r, &err);
        assert_int_equal(rc, cases[i].rc);
        if (rc != MED_OK) {
            assert_string_equal(err.code, "h_publish_validation_failed");
            assert_string_equal(err.field, cases[i].field);
        }
        h_pub_req_free(&r);
    }
    h_pub_req r;
    med_err err;
    assert_int_equal(h_pub_parse("[]", 2, &r, &err), MED_ERR_INVALID);
    h_pub_req_free(&r);
    assert_int_equal(parse_with("prod", "global", "prod", "\"dryRun\":\"yes\",", &r, &err),
                     MED_ERR_INVALID);
    assert_string_equal(err.field, "dryRun");
    h_pub_req_free(&r);
}

static void test_target_key_parts(void **state)
{
    (void)state;
    h_pub_req r;
    med_err err;
    assert_int_equal(parse_with("prod", "placement", "app_demo|plc_feed|prod", "", &r, &err), MED_OK);
    assert_string_equal(r.app_id, "app_demo");
    assert_string_equal(r.placement_id, "plc_feed");
    assert_string_equal(h_pub_unit_tenant(&r, "t1"), "t1");
    char unit[256];
    h_pub_release_unit(&r, unit, sizeof unit);
    assert_string_equal(unit, "prod|placement|app_demo|plc_feed|prod");
    h_pub_req_free(&r);
    assert_int_equal(parse_with("prod", "global", "prod", "", &r, &err), MED_OK);
    assert_string_equal(h_pub_unit_tenant(&r, "t1"), "_platform");
    h_pub_req_free(&r);
}

static char *ALL[] = {"*"};
static char *ENV_STAGING[] = {"staging"};
static char *APP_OTHER[] = {"app_other"};

static h_pub_auth auth_of(const char *principal, const char *authority)
{
    h_pub_auth a = {.actor_id = "alice", .authority = authority, .principal_role = principal,
                    .issued_ms = 1, .expires_ms = 4102444800000LL, .envs = ALL, .n_envs = 1,
                    .apps = ALL, .n_apps = 1, .placements = ALL, .n_placements = 1};
    return a;
}

static void test_role_matrix(void **state)
{
    (void)state;
    static const struct { const char *principal, *authority, *scope; med_rc rc; } m[] = {
        {"admin", "config_admin", "global", MED_OK},
        {"admin", "app_operator", "global", MED_ERR_INVALID},
        {"admin", "app_operator", "app", MED_OK},
        {"admin", "app_operator", "placement", MED_OK},
        {"admin", "placement_operator", "app", MED_ERR_INVALID},
        {"admin", "placement_operator", "placement", MED_OK},
        {"admin", "read_only", "placement", MED_ERR_INVALID},
        {"reviewer", "config_admin", "placement", MED_ERR_INVALID},
        {"publisher", "placement_operator", "placement", MED_OK},   /* staging: no approval */
        {"sdk", "config_admin", "global", MED_ERR_INVALID},
    };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
        const char *key = strcmp(m[i].scope, "global") == 0 ? "staging"
                        : strcmp(m[i].scope, "app") == 0 ? "a1|staging" : "a1|p1|staging";
        h_pub_req r;
        med_err err;
        assert_int_equal(parse_with("staging", m[i].scope, key, "", &r, &err), MED_OK);
        h_pub_auth a = auth_of(m[i].principal, m[i].authority);
        med_err_clear(&err);
        assert_int_equal(h_pub_check_role(&r, &a, &err), m[i].rc);
        if (m[i].rc != MED_OK) assert_string_equal(err.code, "h_publish_authz_denied");
        h_pub_req_free(&r);
    }
}

static med_rc prod_publisher(const char *extra, med_err *err)
{
    h_pub_req r;
    assert_int_equal(parse_with("prod", "placement", "a1|p1|prod", extra, &r, err), MED_OK);
    h_pub_auth a = auth_of("publisher", "placement_operator");
    med_err_clear(err);
    med_rc rc = h_pub_check_role(&r, &a, err);
    h_pub_req_free(&r);
    return rc;
}

static void test_prod_approval(void **state)
{
    (void)state;
    med_err err;
    assert_int_equal(prod_publisher("", &err), MED_ERR_INVALID);
    assert_string_equal(err.code, "h_publish_authz_denied");
    assert_int_equal(prod_publisher("\"dryRun\":true,", &err), MED_OK);
    assert_int_equal(prod_publisher("\"approvalContextLite\":{\"reviewerId\":\"bob\","
        "\"reviewerRole\":\"reviewer\",\"changeSetId\":\"cs-1\","
        "\"approvedAt\":\"2026-11-23T09:59:00.000Z\"},", &err), MED_OK);
    assert_int_equal(prod_publisher("\"approvalContextLite\":{\"reviewerId\":\"alice\","
        "\"reviewerRole\":\"reviewer\",\"changeSetId\":\"cs-1\","
        "\"approvedAt\":\"2026-11-23T09:59:00.000Z\"},", &err), MED_ERR_INVALID);
    assert_int_equal(prod_publisher("\"approvalContextLite\":{\"reviewerId\":\"bob\","
        "\"reviewerRole\":\"publisher\",\"changeSetId\":\"cs-1\","
        "\"approvedAt\":\"2026-11-23T09:59:00.000Z\"},", &err), MED_ERR_INVALID);
    assert_int_equal(prod_publisher("\"approvalContextLite\":{\"reviewerId\":\"bob\","
        "\"reviewerRole\":\"admin\",\"changeSetId\":\"cs-2\","
        "\"approvedAt\":\"2026-11-23T09:59:00.000Z\"},", &err), MED_ERR_INVALID);
    assert_int_equal(prod_publisher("\"approvalContextLite\":{\"reviewerId\":\"bob\","
        "\"reviewerRole\":\"admin\",\"changeSetId\":\"cs-1\","
        "\"approvedAt\":\"2026-11-23T10:00:01.000Z\"},", &err), MED_ERR_INVALID);
}

static void test_operator_window_scope(void **state)
{
    (void)state;
    h_pub_req r;
    med_err err;
    assert_int_equal(parse_with("prod", "placement", "a1|p1|prod", "", &r, &err), MED_OK);
    h_pub_auth a = auth_of("admin", "config_admin");
    assert_int_equal(h_pub_check_operator(&r, &a, &err), MED_OK);
    a.actor_id = "mallory";
    assert_int_equal(h_pub_check_operator(&r, &a, &err), MED_ERR_INVALID);
    assert_string_equal(err.code, "h_publish_auth_operator_mismatch");
    a = auth_of("admin", "config_admin");
    int64_t at = r.publish_at_ms;
    a.issued_ms = at - 1000;
    a.expires_ms = at + 60000;
    assert_int_equal(h_pub_check_auth_window(&r, &a, at, &err), MED_OK);
    assert_int_equal(h_pub_check_auth_window(&r, &a, at + 60000 + 9000, &err), MED_OK);
    assert_int_equal(h_pub_check_auth_window(&r, &a, at + 60000 + 11000, &err), MED_ERR_INVALID);
    assert_string_equal(err.code, "h_publish_auth_context_invalid");
    a.issued_ms = at + 11000;
    assert_int_equal(h_pub_check_auth_window(&r, &a, at, &err), MED_ERR_INVALID);
    a = auth_of("admin", "config_admin");
    assert_int_equal(h_pub_check_scope(&r, &a, &err), MED_OK);
    a.envs = ENV_STAGING;
    assert_int_equal(h_pub_check_scope(&r, &a, &err), MED_ERR_INVALID);
    assert_string_equal(err.code, "h_publish_authz_denied_scope");
    a = auth_of("admin", "config_admin");
    a.apps = APP_OTHER;
    assert_int_equal(h_pub_check_scope(&r, &a, &err), MED_ERR_INVALID);
    h_pub_req_free(&r);
}

static void test_idempotency_determinism(void **state)
{
    (void)state;
    h_pub_req r1, r2;
    med_err err;
    char k1[65], k2[65], h1[65], h2[65];
    assert_int_equal(parse_with("prod", "global", "prod", "", &r1, &err), MED_OK);
    /* same content, other key order and whitespace */
    const char *other =
        "{ \"publishContractVersion\":\"h_publish_v1\", \"requestId\":\"req-2\","
        "\"operatorId\":\"alice\",\"environment\":\"prod\",\"actionType\":\"publish\","
        "\"targetScope\":\"global\",\"targetKey\":\"prod\",\"changeSetId\":\"cs-1\","
        "\"publishAt\":\"2026-11-23T10:00:00.000Z\","
        "\"targetVersionSnapshot\":{\"placementConfigVersion\":\"pc-1\",\"schemaVersion\":\"1.0.0\","
        "\"routingStrategyVersion\":\"rs-1\"},"
        "\"baseVersionSnapshot\":{\"schemaVersion\":\"NA\",\"routingStrategyVersion\":\"NA\","
        "\"placementConfigVersion\":\"NA\"},\"changeSet\":{\"layer\":{}}}";
    assert_int_equal(h_pub_parse(other, strlen(other), &r2, &err), MED_OK);
    assert_int_equal(h_pub_idem_key(&r1, k1, &err), MED_OK);
    assert_int_equal(h_pub_idem_key(&r2, k2, &err), MED_OK);
    assert_string_equal(k1, k2);
    assert_int_equal(h_pub_payload_hash(&r1, h1, &err), MED_OK);
    assert_int_equal(h_pub_payload_hash(&r2, h2, &err), MED_OK);
    assert_string_equal(h1, h2);
    r2.change_set_id = "cs-2";
    assert_int_equal(h_pub_idem_key(&r2, k2, &err), MED_OK);
    assert_string_not_equal(k1, k2);
    assert_int_equal(h_pub_payload_hash(&r2, h2, &err), MED_OK);
    assert_string_not_equal(h1, h2);
    h_pub_req_free(&r1);
    h_pub_req_free(&r2);
    /* an explicit key wins over the derived one; the hash still differs */
    assert_int_equal(parse_with("prod", "global", "prod", "\"publishIdempotencyKeyOrNA\":\"k-1\",",
                                &r1, &err), MED_OK);
    assert_int_equal(h_pub_idem_key(&r1, k2, &err), MED_OK);
    assert_string_not_equal(k1, k2);
    h_pub_req_free(&r1);
    /* a dry run does not hold the key of the publish that follows it */
    assert_int_equal(parse_with("prod", "global", "prod", "\"dryRun\":true,", &r1, &err), MED_OK);
    assert_int_equal(h_pub_idem_key(&r1, k2, &err), MED_OK);
    assert_string_not_equal(k1, k2);
    h_pub_req_free(&r1);
}

static void test_state_machine(void **state)
{
    (void)state;
    assert_true(h_pub_transition_ok("draft", "validated"));
    assert_true(h_pub_transition_ok("validated", "published"));
    assert_true(h_pub_transition_ok("validated", "rollback"));
    assert_true(h_pub_transition_ok("rollback", "rolled_back"));
    assert_true(h_pub_transition_ok("published", "rollback"));
    assert_false(h_pub_transition_ok("draft", "published"));
    assert_false(h_pub_transition_ok("draft", "rolled_back"));
    assert_false(h_pub_transition_ok("published", "published"));
    assert_false(h_pub_transition_ok("rolled_back", "published"));
    assert_int_equal(h_pub_http_status("h_publish_base_version_conflict"), 409);
    assert_int_equal(h_pub_http_status("h_publish_rollback_target_not_found"), 404);
    assert_int_equal(h_pub_http_status("h_publish_compensation_failed"), 500);
    assert_int_equal(h_pub_http_status("h_publish_dry_run_validated"), 200);
    assert_true(h_pub_code_retryable("h_publish_compensation_triggered"));
    assert_false(h_pub_code_retryable("h_publish_compensation_failed"));
}

static void test_documents(void **state)
{
    (void)state;
    h_pub_req r;
    med_err err;
    assert_int_equal(parse_with("prod", "global", "prod", "", &r, &err), MED_OK);
    json_t *cs = r.change_set;
    json_object_set_new(cs, "documents", json_pack("[{s:s,s:s,s:{s:s,s:[]}}]", "kind",
        "route_policy", "version", "rs-1", "body", "routingPolicyVersion", "rs-1", "sources"));
    json_object_set_new(json_object_get(cs, "layer"), "routePolicyRef", json_string("route_policy:rs-1"));
    assert_int_equal(h_pub_check_change_set(&r, &err), MED_OK);
    json_object_set_new(json_object_get(cs, "layer"), "routePolicyRef", json_string("policy:rs-1"));
    assert_int_equal(h_pub_check_change_set(&r, &err), MED_ERR_INVALID);
    assert_string_equal(err.field, "changeSet.layer.routePolicyRef");
    json_object_set_new(json_object_get(cs, "layer"), "routePolicyRef", json_null());
    json_object_del(json_object_get(json_array_get(json_object_get(cs, "documents"), 0), "body"),
                    "sources");
    assert_int_equal(h_pub_check_change_set(&r, &err), MED_ERR_INVALID);
    assert_string_equal(err.field, "changeSet.documents[0].body.sources");
    h_pub_req_free(&r);
}

static void test_time_parse(void **state)
{
    (void)state;
    int64_t ms;
    assert_int_equal(h_parse_utc_ms("1970-01-01T00:00:01.5Z", &ms), 0);
    assert_int_equal(ms, 1500);
    assert_int_equal(h_parse_utc_ms("1970-01-01T01:00:00+01:00", &ms), 0);
    assert_int_equal(ms, 0);
    assert_int_not_equal(h_parse_utc_ms("1970-01-01 00:00:00Z", &ms), 0);
    assert_int_not_equal(h_parse_utc_ms("1970-01-01T00:00:00", &ms), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validation_table),
        cmocka_unit_test(test_target_key_parts),
        cmocka_unit_test(test_role_matrix),
        cmocka_unit_test(test_prod_approval),
        cmocka_unit_test(test_operator_window_scope),
        cmocka_unit_test(test_idempotency_determinism),
        cmocka_unit_test(test_state_machine),
        cmocka_unit_test(test_documents),
        cmocka_unit_test(test_time_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
