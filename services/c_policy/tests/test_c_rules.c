/* C.2 / C.3 / C.4 rules beyond the acceptance cases: check order, gate
 * defaults and overrides, degrade resolution, constraints cleaning. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "c_constraints.h"
#include "c_fixture.h"
#include "c_gates.h"
#include "c_input.h"
#include "med/reason.h"

static const char *reject_code(c_fx *f)
{
    static char code[64];
    c_eval e;
    med_rc rc = c_fx_run(f, C_FX_NOW, &e);
    snprintf(code, sizeof code, "%s", rc == MED_OK ? "ok" : e.primary_code);
    c_eval_free(&e);
    return code;
}

static void c2_checks_run_in_spec_order(void **state)
{
    (void)state;
    c_fx f;
    c_fx_init(&f);
    /* Missing field (2) beats bad anchor (3), state (4), enum (5), snapshot (6). */
    f.pm.placement_surface = (char *)"";
    f.msg.c_input_contract_version = (char *)"c_input_contract_v9";
    f.msg.state = (char *)"routed";
    f.uc.actor_type = (char *)"end_user";
    f.msg.policy_snapshot_lite = NULL;
    assert_string_equal(reject_code(&f), MED_R_C_MISSING_REQUIRED_FIELD);
    f.pm.placement_surface = (char *)"feed_surface";
    assert_string_equal(reject_code(&f), MED_R_C_INVALID_VERSION_ANCHOR);
    f.msg.c_input_contract_version = (char *)"c_input_contract_v1";
    assert_string_equal(reject_code(&f), MED_R_C_INVALID_INPUT_STATE);
    f.msg.state = (char *)"received";
    assert_string_equal(reject_code(&f), MED_R_C_INVALID_REQUIRED_ENUM);
    f.uc.actor_type = (char *)"human";
    assert_string_equal(reject_code(&f), MED_R_C_POLICY_SNAPSHOT_MISSING);
}

static void c2_raw_alias_enum_is_rejected(void **state)
{
    (void)state;
    c_fx f;
    c_fx_init(&f);
    f.oc.hit_type = (char *)"intent_hit";
    assert_string_equal(reject_code(&f), MED_R_C_INVALID_REQUIRED_ENUM);
    f.oc.hit_type = (char *)"workflow_hit";
    f.pc.consent_scope = (char *)"unknown_consent_scope"; /* accepted, degrades */
    assert_string_equal(reject_code(&f), "ok");
    f.uc.session_state = (char *)"unknown_session_state"; /* not accepted */
    assert_string_equal(reject_code(&f), MED_R_C_INVALID_REQUIRED_ENUM);
    f.uc.session_state = (char *)"active";
    f.pm.placement_type = (char *)"in_message"; /* B alias of chat_inline */
    assert_string_equal(reject_code(&f), MED_R_C_INVALID_REQUIRED_ENUM);
}

static void c2_snapshot_field_checks(void **state)
{
    (void)state;
    c_fx f;
    c_fx_init(&f);
    f.snap.config_hash = (char *)"has space";
    assert_string_equal(reject_code(&f), MED_R_C_POLICY_SNAPSHOT_INVALID);
    c_fx_init(&f);
    f.snap.failure_mode = (char *)"fail_sometimes";
    assert_string_equal(reject_code(&f), MED_R_C_POLICY_SNAPSHOT_INVALID);
    c_fx_init(&f);
    f.cs.degrade_risk_level = (char *)"extreme";
    assert_string_equal(reject_code(&f), MED_R_C_POLICY_SNAPSHOT_INVALID);
    c_fx_init(&f);
    f.sc.source_selection_mode = (char *)"allowlist_only"; /* with no entries */
    assert_string_equal(reject_code(&f), MED_R_C_POLICY_SNAPSHOT_INVALID);
    c_fx_init(&f);
    f.snap.policy_rule_version = (char *)"rule 1";
    assert_string_equal(reject_code(&f), MED_R_C_POLICY_SNAPSHOT_INVALID);
}

static void c3_negative_count_is_invalid_structure(void **state)
{
    (void)state;
    c_fx f;
    c_fx_init(&f);
    c_fx_set_count(&f, -1);
    assert_string_equal(reject_code(&f), MED_R_C_INVALID_STRUCTURE);
}

static void c3_count_falls_back_to_request_meta_then_zero(void **state)
{
    (void)state;
    c_fx f;
    c_fx_init(&f);
    f.fq.hard_cap_opt_case = MEDIATION__V1__FREQUENCY_CAP_GATE_RULE__HARD_CAP_OPT_HARD_CAP;
    f.fq.hard_cap = 6;
    f.pc.frequency_count_opt_case = MEDIATION__V1__POLICY_CONTEXT__FREQUENCY_COUNT_OPT__NOT_SET;
    f.rm.frequency_count_opt_case = MEDIATION__V1__REQUEST_META__FREQUENCY_COUNT_OPT_FREQUENCY_COUNT;
    f.rm.frequency_count = 7;
    c_eval e;
    assert_int_equal(c_fx_run(&f, C_FX_NOW, &e), MED_OK);
    assert_int_equal(e.final_action, C_ACT_BLOCK);
    c_eval_free(&e);
    f.rm.frequency_count_opt_case = MEDIATION__V1__REQUEST_META__FREQUENCY_COUNT_OPT__NOT_SET;
    assert_int_equal(c_fx_run(&f, C_FX_NOW, &e), MED_OK);
    assert_int_equal(e.final_action, C_ACT_ALLOW);
    assert_int_equal(e.warnings.n, 1);
    assert_string_equal(e.warnings.v[0].reason_code, MED_R_C_OPTIONAL_MISSING_IGNORED);
    c_eval_free(&e);
}

static void c3_configured_rule_ids_replace_defaults(void **state)
{
    (void)state;
    c_gate_result r;
    Mediation__V1__CategoryGateRule rule = MEDIATION__V1__CATEGORY_GATE_RULE__INIT;
    char *hard[] = { (char *)"IAB25" };
    char *flags[] = { (char *)"IAB1", (char *)"IAB25" };
    rule.hard_blocked_categories = hard;
    rule.n_hard_blocked_categories = 1;
    c_gate_category(&rule, flags, 2, &r);
    assert_string_equal(r.rule_id, "category_block_IAB25");
    assert_string_equal(c_risk_name(r.risk), "high");
    rule.rule_id = (char *)"bwl_block";
    c_gate_category(&rule, flags, 2, &r);
    assert_string_equal(r.rule_id, "bwl_block");
    c_gate_category(&rule, flags, 1, &r);
    assert_int_equal(r.action, C_ACT_ALLOW);
    assert_string_equal(r.rule_id, "category_allow_rule");
}

static void c3_category_degrade_default_risk_low(void **state)
{
    (void)state;
    c_gate_result r;
    Mediation__V1__CategoryGateRule rule = MEDIATION__V1__CATEGORY_GATE_RULE__INIT;
    char *soft[] = { (char *)"IAB7" };
    char *flags[] = { (char *)"IAB7" };
    rule.degraded_categories = soft;
    rule.n_degraded_categories = 1;
    c_gate_category(&rule, flags, 1, &r);
    assert_int_equal(r.action, C_ACT_DEGRADE);
    assert_int_equal(r.risk, C_RISK_LOW);
    assert_string_equal(r.rule_id, "category_degrade_IAB7");
    assert_string_equal(r.reason_code, MED_R_C_CATEGORY_SOFT_RISK_DEGRADE);
}

static void c3_higher_risk_degrade_beats_smaller_rule_id(void **state)
{
    (void)state;
    c_gate_result s[3];
    memset(s, 0, sizeof s);
    s[0].action = C_ACT_DEGRADE;
    s[0].risk = C_RISK_MEDIUM;
    strcpy(s[0].rule_id, "a_rule");
    s[1].action = C_ACT_DEGRADE;
    s[1].risk = C_RISK_HIGH;
    strcpy(s[1].rule_id, "z_rule");
    s[2].action = C_ACT_ALLOW;
    strcpy(s[2].rule_id, "category_allow_rule");
    assert_int_equal(c_decide_winner(s, 3), 1);
}

static void c3_consent_limited_without_degrade_allows(void **state)
{
    (void)state;
    c_gate_result r;
    Mediation__V1__ConsentAuthGateRule rule = MEDIATION__V1__CONSENT_AUTH_GATE_RULE__INIT;
    rule.degrade_on_limited_opt_case =
        MEDIATION__V1__CONSENT_AUTH_GATE_RULE__DEGRADE_ON_LIMITED_OPT_DEGRADE_ON_LIMITED;
    rule.degrade_on_limited = 0;
    c_gate_consent_auth(&rule, "consent_limited", &r);
    assert_int_equal(r.action, C_ACT_ALLOW);
    c_gate_consent_auth(NULL, "consent_limited", &r);
    assert_int_equal(r.action, C_ACT_DEGRADE);
    assert_true(r.non_personalized_only);
}

static void c2_engine_error_fail_open_degrades_fail_closed_rejects(void **state)
{
    (void)state;
    c_fx f;
    c_fx_init(&f);
    f.snap.failure_mode = (char *)"fail_open";
    c_input in;
    c_eval e;
    c_eval_init(&e);
    med_err err;
    assert_int_equal(c_input_check(&f.msg, NULL, C_FX_NOW, &in, &e.warnings, &err), MED_OK);
    c_decide_engine_error(&in, C_FX_NOW, &e);
    assert_int_equal(e.final_action, C_ACT_DEGRADE);
    assert_string_equal(e.steps[e.winner].gate, C_GATE_ENGINE_GUARD);
    assert_string_equal(e.primary_code, MED_R_C_POLICY_ENGINE_ERROR);
    assert_true(e.constraints.non_personalized_only);
    assert_true(e.is_routable);
    c_eval_free(&e);

    in.fail_open = 0;
    c_eval_init(&e);
    c_decide_engine_error(&in, C_FX_NOW, &e);
    assert_int_equal(e.final_action, C_ACT_REJECT);
    assert_string_equal(e.primary_code, MED_R_C_POLICY_ENGINE_ERROR);
    c_eval_free(&e);
}

static void c4_constraints_dedupe_and_drop_unknown_render_modes(void **state)
{
    (void)state;
    c_fx f;
    c_fx_init(&f);
    f.render_modes[0] = (char *)"webview";
    f.render_modes[1] = (char *)"native_card";
    f.render_modes[2] = (char *)"video_vast_container";
    f.rnd.n_disallow_render_modes = 3;
    c_constraints c;
    c_warnings w = { .n = 0 };
    med_err err;
    assert_int_equal(c_constraints_build(&f.snap, &c, &w, &err), MED_OK);
    assert_int_equal(c.bcat.n, 2);
    assert_int_equal(c.disallow_render_modes.n, 2);
    assert_string_equal(c.disallow_render_modes.v[1], "video_vast_container");
    assert_int_equal(w.n, 1);
    assert_string_equal(w.v[0].original_value, "native_card");
    assert_string_equal(c.constraint_set_version, "pol-1");
    c_constraints_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(c2_checks_run_in_spec_order),
        cmocka_unit_test(c2_raw_alias_enum_is_rejected),
        cmocka_unit_test(c2_snapshot_field_checks),
        cmocka_unit_test(c3_negative_count_is_invalid_structure),
        cmocka_unit_test(c3_count_falls_back_to_request_meta_then_zero),
        cmocka_unit_test(c3_configured_rule_ids_replace_defaults),
        cmocka_unit_test(c3_category_degrade_default_risk_low),
        cmocka_unit_test(c3_higher_risk_degrade_beats_smaller_rule_id),
        cmocka_unit_test(c3_consent_limited_without_degrade_allows),
        cmocka_unit_test(c2_engine_error_fail_open_degrades_fail_closed_rejects),
        cmocka_unit_test(c4_constraints_dedupe_and_drop_unknown_render_modes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
