/* D.2 adapter registry: D.10 cases 1 and 2, plus the demo config. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "d_registry.h"
#include "d_test_util.h"
#include "med/reason.h"

static const char *code_of(const d_registry *reg, int index)
{
    for (int i = 0; i < reg->n_issues; i++)
        if (reg->issues[i].index == index) return reg->issues[i].code;
    return NULL;
}

/* Case 1: an entry without error_normalize is rejected alone. */
static void test_case01_min_capability_missing(void **state)
{
    (void)state;
    const char *rp =
        "{\"adapterRegistryVersion\":\"reg-1\",\"sources\":["
        "{\"sourceId\":\"p1\",\"adapterId\":\"a1\",\"sourceType\":\"alliance\",\"status\":\"active\","
        "\"endpoint\":\"http://x/\",\"timeoutPolicyMs\":100,\"supportedPlacementTypes\":[\"native_feed\"],"
        "\"supportedCapabilities\":[\"request_adapt\",\"candidate_normalize\",\"source_trace\"]},"
        "{\"sourceId\":\"p2\",\"adapterId\":\"a2\",\"sourceType\":\"alliance\",\"status\":\"active\","
        "\"endpoint\":\"http://y/\",\"timeoutPolicyMs\":100,\"supportedPlacementTypes\":[\"native_feed\"],"
        "\"supportedCapabilities\":[\"request_adapt\",\"candidate_normalize\",\"error_normalize\","
        "\"source_trace\"]}]}";
    d_fixture f;
    d_fixture_init(&f, rp);
    assert_string_equal(code_of(&f.reg, 0), MED_R_D_ADAPTER_MIN_CAPABILITY_MISSING);
    assert_string_equal(code_of(&f.reg, 1), MED_R_D_ADAPTER_REGISTERED);
    assert_int_equal(f.reg.n_sources, 1);
    assert_string_equal(f.reg.sources[0].source_id, "p2");
    assert_int_equal(d_registry_find(&f.reg, "p1"), -1);
    /* the rejected source is ineligible in every plan */
    d_fixture_plan(&f);
    assert_int_equal(f.plan.ineligible.n, 1);
    assert_string_equal(f.plan.ineligible.items[0], "p1");
    d_fixture_free(&f);
}

/* Case 2: a repeated sourceId is rejected and plans use the first entry. */
static void test_case02_duplicate_source_id(void **state)
{
    (void)state;
    const char *rp =
        "{\"sources\":["
        "{\"sourceId\":\"p1\",\"adapterId\":\"first\",\"sourceType\":\"alliance\",\"status\":\"active\","
        "\"endpoint\":\"http://first/\",\"timeoutPolicyMs\":100,\"supportedPlacementTypes\":[\"native_feed\"]},"
        "{\"sourceId\":\"p1\",\"adapterId\":\"second\",\"sourceType\":\"alliance\",\"status\":\"active\","
        "\"endpoint\":\"http://second/\",\"timeoutPolicyMs\":900,\"supportedPlacementTypes\":[\"native_feed\"]}]}";
    d_fixture f;
    d_fixture_init(&f, rp);
    assert_string_equal(code_of(&f.reg, 0), MED_R_D_ADAPTER_REGISTERED);
    assert_string_equal(code_of(&f.reg, 1), MED_R_D_ADAPTER_SOURCE_ID_DUPLICATE);
    assert_int_equal(f.reg.n_sources, 1);
    assert_string_equal(f.reg.sources[0].adapter_id, "first");
    d_fixture_plan(&f);
    assert_int_equal(f.plan.n_steps, 1);
    assert_int_equal(f.plan.steps[0].timeout_budget_ms, 100);
    assert_int_equal(f.plan.ineligible.n, 0);
    d_fixture_free(&f);
}

/* Registration order: bad enum, empty placements, missing implementation,
 * paused without a reason. */
static void test_registration_checks(void **state)
{
    (void)state;
    const char *rp =
        "{\"sources\":["
        "{\"sourceId\":\"Bad-Id\",\"adapterId\":\"a\",\"sourceType\":\"alliance\",\"status\":\"active\","
        "\"endpoint\":\"http://x/\",\"timeoutPolicyMs\":100,\"supportedPlacementTypes\":[\"native_feed\"]},"
        "{\"sourceId\":\"e1\",\"adapterId\":\"a\",\"sourceType\":\"alliance\",\"status\":\"active\","
        "\"endpoint\":\"http://x/\",\"timeoutPolicyMs\":100,\"supportedPlacementTypes\":[]},"
        "{\"sourceId\":\"s1\",\"adapterId\":\"a\",\"sourceType\":\"simulated_inventory\",\"status\":\"active\","
        "\"timeoutPolicyMs\":100,\"supportedPlacementTypes\":[\"native_feed\"]},"
        "{\"sourceId\":\"z1\",\"adapterId\":\"a\",\"sourceType\":\"alliance\",\"status\":\"paused\","
        "\"endpoint\":\"http://x/\",\"timeoutPolicyMs\":100,\"supportedPlacementTypes\":[\"native_feed\"]}]}";
    d_fixture f;
    d_fixture_init(&f, rp);
    assert_string_equal(code_of(&f.reg, 0), MED_R_D_ADAPTER_REGISTRY_ENTRY_INVALID);
    assert_string_equal(code_of(&f.reg, 1), MED_R_D_ADAPTER_SUPPORTED_PLACEMENT_EMPTY);
    assert_string_equal(code_of(&f.reg, 2), MED_R_D_ADAPTER_CONTRACT_METHOD_MISSING);
    assert_string_equal(code_of(&f.reg, 3), MED_R_D_ADAPTER_STATUS_REASON_REQUIRED);
    assert_int_equal(f.reg.n_sources, 0);
    d_fixture_free(&f);
}

/* The demo route_policy: two networks (priority rank) and the built-in
 * house source as the fallback. */
static void test_demo_route_policy(void **state)
{
    (void)state;
    FILE *fp = fopen(MED_SOURCE_ROOT "/deploy/config/demo/01-global-prod.json", "r");
    assert_non_null(fp);
    json_error_t je;
    json_t *doc = json_loadf(fp, 0, &je);
    fclose(fp);
    assert_non_null(doc);
    json_t *docs = json_object_get(json_object_get(doc, "changeSet"), "documents");
    json_t *rp = NULL;
    size_t i;
    json_t *d;
    json_array_foreach(docs, i, d)
        if (!strcmp(json_string_value(json_object_get(d, "kind")), "route_policy"))
            rp = json_object_get(d, "body");
    assert_non_null(rp);
    char *text = json_dumps(rp, JSON_COMPACT);
    json_decref(doc);
    d_fixture f;
    d_fixture_init(&f, text);
    free(text);
    assert_int_equal(f.reg.n_sources, 3);
    assert_string_equal(f.reg.registry_version, "reg-1");
    assert_int_equal(f.reg.sources[2].type, D_SRC_HOUSE);
    f.ctx.placement_type = "chat_inline"; /* the demo placement plc_feed */
    d_fixture_plan(&f);
    assert_int_equal(f.plan.n_steps, 3);
    assert_string_equal(d_fixture_step_source(&f, 0), "src_net_a");
    assert_string_equal(d_fixture_step_source(&f, 1), "src_net_b");
    assert_string_equal(d_fixture_step_source(&f, 2), D_HOUSE_SOURCE_ID);
    assert_int_equal(f.plan.steps[2].tier, D_TIER_FALLBACK);
    d_fixture_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_case01_min_capability_missing),
        cmocka_unit_test(test_case02_duplicate_source_id),
        cmocka_unit_test(test_registration_checks),
        cmocka_unit_test(test_demo_route_policy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
