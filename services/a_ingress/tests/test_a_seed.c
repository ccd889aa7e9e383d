/* Seed building blocks (A.9 seed, docs/chain-brief.md lites): source slots
 * and config-derived lites from documents shaped like deploy/config/demo. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "a_fixture.h"
#include "a_lites.h"
#include "a_slots.h"

static const char *TW = "{\"native_feed\": {\"allowedRenderModes\": [\"native_card\"], "
                        "\"uiConstraintProfile\": {\"maxHeightPx\": 320, \"closeable\": true}, "
                        "\"disclosurePolicy\": {\"label\": \"Ad\"}, \"maxRenderCount\": 1, "
                        "\"renderTtlMs\": 1800000}}";
static const char *BWL = "{\"sourceSelectionMode\": \"allowlist_only\", \"allowedSourceIds\": "
                         "[\"src_net_a\"], \"blockedSourceIds\": [], \"bcat\": [\"IAB25\"], "
                         "\"badv\": [\"blocked.example\"]}";
static const char *POL = "{\"policyPackVersion\": \"pack-1\", \"policyRuleVersion\": \"rule-1\", "
                         "\"failureMode\": \"fail_closed\", \"ttlSec\": 300, "
                         "\"policyConstraintsLite\": {\"frequencyCapGate\": {\"hardCap\": 6}}}";
static const char *ROUTE = "{\"routingPolicyVersion\": \"rs-1\", \"routeBudgetMs\": 300, "
                           "\"fallbackProfileVersion\": \"fb-1\", \"executionStrategyLite\": "
                           "{\"strategyType\": \"waterfall\", \"parallelFanout\": 2}}";

static void app_explicit_slot_from_body(void **state)
{
    (void)state;
    json_t *b = fixture_body();
    set_ac(b, "deviceIdOrNA", "dev_1");
    set_ac(b, "language", "en");
    json_object_set_new(json_object_get(b, "appContext"), "numericSignals",
                        json_pack("{s:f}", "scrollDepth", 0.5));
    json_object_set_new(json_object_get(b, "appContext"), "actorType", json_integer(3));
    json_object_set_new(b, "intentScoreOrNA", json_real(0.75));
    json_object_set_new(b, "experimentTagsOrNA", json_pack("[s]", "exp_a"));
    char *txt = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    a_request req;
    med_err e;
    assert_int_equal(a_request_parse(txt, strlen(txt), NULL, &req, &e), MED_OK);
    free(txt);
    req.request_at_ms = 1771696800000LL;
    med_arena ar = {0};
    Mediation__V1__SourceSlotLite *s = a_slot_app_explicit(&ar, &req);
    assert_non_null(s);
    assert_string_equal(s->app_id, F_APP);
    assert_string_equal(s->device_id, "dev_1");
    assert_string_equal(s->intent_score, "0.75");
    assert_string_equal(s->actor_type, "3");
    assert_int_equal(s->n_numeric_signals, 1);
    assert_string_equal(s->numeric_signals[0]->value, "0.5");
    assert_string_equal(s->app_context->language, "en");
    assert_int_equal(s->n_experiment_tags, 1);
    assert_int_equal(s->input_updated_at_unix_ms, 1771696800000LL);
    assert_int_equal(ar.failed, 0);
    med_arena_free(&ar);
    a_request_free(&req);
}

static void config_lites_from_documents(void **state)
{
    (void)state;
    json_t *tw = json_loads(TW, 0, NULL), *bwl = json_loads(BWL, 0, NULL);
    json_t *pol = json_loads(POL, 0, NULL), *route = json_loads(ROUTE, 0, NULL);
    json_t *plc = fixture_placement(1);
    med_arena ar = {0};
    a_snapshot_ids ids = {"cfgsnap_1", "cfgres_1", "hash1", 1000};
    Mediation__V1__PlacementSpecLite *ps = a_lite_placement_spec(&ar, plc, tw, F_PLACEMENT, "pc-1");
    assert_string_equal(ps->placement_type, "native_feed");
    assert_int_equal(ps->n_allowed_render_modes, 1);
    assert_int_equal(ps->ui_constraint_profile->max_height_px, 320);
    assert_string_equal(ps->disclosure_policy->label, "Ad");
    assert_int_equal(ps->render_ttl_ms, 1800000);
    Mediation__V1__PolicySnapshotLite *p = a_lite_policy(&ar, pol, bwl, "policy:pol-1", &ids);
    assert_string_equal(p->policy_rule_version, "rule-1");
    assert_int_equal(p->expire_at_or_na_unix_ms, 1000 + 300000);
    assert_int_equal(p->policy_constraints_lite->frequency_cap_gate->hard_cap, 6);
    Mediation__V1__SourceConstraints *sc =
        p->policy_constraints_lite->constraints_lite->source_constraints;
    assert_string_equal(sc->source_selection_mode, "allowlist_only");
    assert_int_equal(sc->n_allowed_source_ids, 1);
    Mediation__V1__RoutingContextLite *r = a_lite_routing(&ar, route);
    assert_string_equal(r->routing_policy_version, "rs-1");
    assert_int_equal(r->execution_strategy_lite->parallel_fanout, 2);
    assert_null(a_lite_device_caps(&ar, NULL, "2.1.0"));
    Mediation__V1__SourceSlotLite *pc = a_slot_placement_config(&ar, plc, 5);
    assert_string_equal(pc->placement_type, "native_feed");
    Mediation__V1__SourceSlotLite *dp = a_slot_default_policy(&ar, pol, 5);
    assert_int_equal(dp->placement_type_opt_case, 0);   /* {} slot */
    assert_int_equal(ar.failed, 0);
    med_arena_free(&ar);
    json_decref(tw);
    json_decref(bwl);
    json_decref(pol);
    json_decref(route);
    json_decref(plc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(app_explicit_slot_from_body),
        cmocka_unit_test(config_lites_from_documents),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
