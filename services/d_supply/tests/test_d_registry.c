/* D.2 adapter registry: D.10 cases 1 and 2, plus the demo config. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "d_adapter.h"
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

/* Registration order: bad enum, empty placements, a contract version no
 * adapter implements, paused without a reason. */
static void test_registration_checks(void **state)
{
    (void)state;
    const char *rp =
        "{\"sources\":["
        "{\"sourceId\":\"Bad-Id\",\"adapterId\":\"a\",\"sourceType\":\"alliance\",\"status\":\"active\","
        "\"endpoint\":\"http://x/\",\"timeoutPolicyMs\":100,\"supportedPlacementTypes\":[\"native_feed\"]},"
        "{\"sourceId\":\"e1\",\"adapterId\":\"a\",\"sourceType\":\"alliance\",\"status\":\"active\","
        "\"endpoint\":\"http://x/\",\"timeoutPolicyMs\":100,\"supportedPlacementTypes\":[]},"
        "{\"sourceId\":\"s1\",\"adapterId\":\"a\",\"sourceType\":\"alliance\",\"status\":\"active\","
        "\"endpoint\":\"http://x/\",\"adapterContractVersion\":\"d_adapter_contract_v9\","
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

static char *sim_entry(const char *id, const char *routing_attributes)
{
    char *s = NULL;
    int n = asprintf(&s,
                     "{\"sourceId\":\"%s\",\"adapterId\":\"sim\",\"sourceType\":\"simulated_inventory\","
                     "\"status\":\"active\",\"timeoutPolicyMs\":100,"
                     "\"supportedPlacementTypes\":[\"native_feed\"],\"routingAttributes\":%s}",
                     id, routing_attributes);
    assert_true(n > 0);
    return s;
}

/* simulated_inventory registers with the simulated adapter (no endpoint);
 * its simulated* fields are check 1 like every other field. */
static void test_simulated_registration(void **state)
{
    (void)state;
    const char *ra[] = {
        "{\"simulatedOutcome\":\"fill\",\"simulatedPriceMicros\":1500000,\"simulatedCreative\":{\"creativeId\":\"cr_sim\"}}",
        "{\"simulatedOutcome\":\"no_fill\",\"simulatedNbr\":8}",
        "{\"simulatedOutcome\":\"timeout\"}",
        "{\"simulatedOutcome\":\"error\",\"simulatedHttpStatus\":429,\"simulatedLatencyMs\":7}",
        "{\"routeTier\":\"primary\"}",                             /* no outcome */
        "{\"simulatedOutcome\":\"maybe\"}",                        /* not an outcome */
        "{\"simulatedOutcome\":\"error\",\"simulatedHttpStatus\":200}",
        "{\"simulatedOutcome\":\"fill\",\"simulatedPriceMicros\":-1}",
        "{\"simulatedOutcome\":\"fill\",\"simulatedCreative\":\"cr\"}",
    };
    const int n = (int)(sizeof ra / sizeof ra[0]);
    char *rp = strdup("{\"sources\":[");
    for (int i = 0; i < n; i++) {
        char id[8];
        snprintf(id, sizeof id, "s%d", i);
        char *e = sim_entry(id, ra[i]);
        char *next = NULL;
        assert_true(asprintf(&next, "%s%s%s", rp, i ? "," : "", e) > 0);
        free(rp);
        free(e);
        rp = next;
    }
    char *full = NULL;
    assert_true(asprintf(&full, "%s]}", rp) > 0);
    free(rp);
    d_fixture f;
    d_fixture_init(&f, full);
    free(full);
    for (int i = 0; i < 4; i++) assert_string_equal(code_of(&f.reg, i), MED_R_D_ADAPTER_REGISTERED);
    for (int i = 4; i < n; i++) assert_string_equal(code_of(&f.reg, i), MED_R_D_ADAPTER_REGISTRY_ENTRY_INVALID);
    assert_int_equal(f.reg.n_sources, 4);
    const d_source *s = f.reg.sources;
    assert_int_equal(s[0].adapter_kind, D_ADAPTER_SIMULATED);
    assert_int_equal(s[0].sim_outcome, D_SIM_FILL);
    assert_int_equal(s[0].sim_price_micros, 1500000);
    assert_int_equal(s[1].sim_outcome, D_SIM_NO_FILL);
    assert_true(s[1].sim_has_nbr);
    assert_int_equal(s[1].sim_nbr, 8);
    assert_int_equal(s[2].sim_outcome, D_SIM_TIMEOUT);
    assert_int_equal(s[2].sim_http_status, 500);   /* default */
    assert_int_equal(s[3].sim_http_status, 429);
    assert_int_equal(s[3].sim_latency_ms, 7);
    assert_non_null(json_object_get(f.reg.simulated, "s0"));
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
        cmocka_unit_test(test_simulated_registration),
        cmocka_unit_test(test_demo_route_policy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
