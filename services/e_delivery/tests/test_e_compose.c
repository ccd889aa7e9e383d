/* E.11 acceptance cases 1..13 over e_compose (one test per case). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "e_fixture.h"
#include "med/reason.h"
#include "mediation/v1/policy.pb-c.h"

static e_fx *fx(void)
{
    e_fx *f = e_fx_new();
    assert_non_null(f);
    return f;
}

static e_outcome *run(e_fx *f)
{
    e_outcome *o = e_fx_compose(f);
    assert_non_null(o);
    return o;
}

static void done(e_fx *f, e_outcome *o)
{
    free(o);
    free(f);
}

static void case01_fixture_served_native_with_webview_degrade(void **state)
{
    (void)state;
    e_fx *f = fx();
    e_outcome *o = run(f);
    assert_string_equal(o->dec.status, "served");
    assert_string_equal(o->dec.final_code, MED_R_E_RENDER_CANDIDATE_SELECTED);
    assert_string_equal(o->dec.canonical, "none");
    assert_int_equal(o->container.mode, E_MODE_NATIVE);
    assert_int_equal(o->val.n_degrade_path, 1);
    assert_int_equal(o->val.degrade_path[0].mode, E_MODE_WEBVIEW);
    assert_string_equal(o->val.degrade_path[0].reason_code, MED_R_E_MATERIAL_MISSING_REQUIRED);
    assert_string_equal(o->val.selection_mode, "top1_strict");
    assert_int_equal(o->ttl.render_ttl_ms, 7000);
    assert_int_equal(o->ttl.expire_at_ms, FX_T0 + 7000); /* 2026-02-22T06:00:07.000Z */
    assert_string_equal(o->dec.consistency_action, "pass_through");
    assert_string_equal(o->container.slot_id, "plc_feed");
    assert_string_equal(o->container.template_id, "default_native_template");
    free(o);
    e_fx_render_assets(f);
    o = run(f);
    assert_string_equal(o->dec.status, "served");
    assert_int_equal(o->container.mode, E_MODE_WEBVIEW);
    assert_int_equal(o->val.n_degrade_path, 0);
    assert_string_equal(o->container.host, "ads.example.com");
    done(f, o);
}

static void case02_null_auction_decision_is_error(void **state)
{
    (void)state;
    e_fx *f = fx();
    f->d.auction_decision_lite = NULL;
    e_outcome *o = run(f);
    assert_string_equal(o->dec.status, "error");
    assert_string_equal(o->dec.final_code, MED_R_E_ER_INVALID_COMPOSE_INPUT);
    assert_string_equal(o->dec.raw, MED_R_E_COMPOSE_MISSING_AUCTION_REQUIRED);
    assert_int_equal(o->container.mode, E_MODE_NONE);
    assert_int_equal(strncmp(o->response_reference, "resp_", 5), 0);
    assert_int_equal(strlen(o->response_reference), 25);
    done(f, o);
}

static void case03_winner_binding_and_inconsistent_list(void **state)
{
    (void)state;
    e_fx *f = fx();
    f->win.candidate_id = (char *)"cand_999";
    e_outcome *o = run(f);
    assert_string_equal(o->dec.status, "error");
    assert_string_equal(o->dec.raw, MED_R_E_COMPOSE_WINNER_BINDING_INVALID);
    free(o);
    f->win.candidate_id = (char *)"cand_001";
    f->d.n_normalized_candidates = 0; /* hasCandidate stays true */
    o = run(f);
    assert_string_equal(o->dec.raw, MED_R_E_COMPOSE_INCONSISTENT_AUCTION_RESULT);
    assert_string_equal(o->dec.final_code, MED_R_E_ER_INVALID_COMPOSE_INPUT);
    done(f, o);
}

static void case04_missing_device_defaults_to_native(void **state)
{
    (void)state;
    e_fx *f = fx();
    f->lite.device_capabilities_lite = NULL;
    e_outcome *o = run(f);
    assert_string_equal(o->dec.status, "served");
    assert_int_equal(o->container.mode, E_MODE_NATIVE);
    assert_true(e_warnings_has(&o->warnings, MED_R_E_COMPOSE_MISSING_DEVICE_CAPABILITIES));
    free(o);
    static const char *const webview_only[] = { "webview" };
    e_fx_placement_modes(f, webview_only, 1);
    o = run(f);
    assert_string_equal(o->dec.status, "error");
    assert_string_equal(o->dec.raw, MED_R_E_COMPOSE_MISSING_DEVICE_CAPABILITIES);
    assert_string_equal(o->dec.final_code, MED_R_E_ER_INVALID_COMPOSE_INPUT);
    done(f, o);
}

static void case05_unknown_render_modes(void **state)
{
    (void)state;
    e_fx *f = fx();
    static const char *const some_bad[] = { "native_card", "bad_mode" };
    e_fx_placement_modes(f, some_bad, 2);
    e_outcome *o = run(f);
    assert_string_equal(o->dec.status, "served");
    assert_true(e_warnings_has(&o->warnings, MED_R_E_COMPOSE_INVALID_RENDER_MODE));
    free(o);
    static const char *const all_bad[] = { "bad_mode_x" };
    e_fx_placement_modes(f, all_bad, 1);
    o = run(f);
    assert_string_equal(o->dec.status, "error");
    assert_string_equal(o->dec.raw, MED_R_E_COMPOSE_INVALID_RENDER_MODE);
    done(f, o);
}

static void case06_only_contract_anchor_is_error(void **state)
{
    (void)state;
    e_fx *f = fx();
    f->va.d_output_contract_version = f->va.schema_version = f->va.placement_config_version = (char *)"";
    f->va.render_policy_version = f->va.device_capability_profile_version = (char *)"";
    f->va.routing_policy_version = f->va.constraint_set_version = (char *)"";
    f->cons.constraint_set_version = (char *)"";
    e_outcome *o = run(f);
    assert_string_equal(o->dec.status, "error");
    assert_string_equal(o->dec.final_code, MED_R_E_ER_INVALID_VERSION_ANCHOR);
    assert_string_equal(o->dec.raw, MED_R_E_COMPOSE_INVALID_VERSION_ANCHOR);
    done(f, o);
}

static void case07_ttl_and_count_corrected(void **state)
{
    (void)state;
    e_fx *f = fx();
    const int64_t t620 = FX_T0 + 20 * 60 * 1000; /* 2026-02-22T06:20:00.000Z */
    f->ctx.compose_request_at_unix_ms = t620;
    f->ctx.render_ttl_ms = 0;
    f->pl.max_render_count = 0;
    e_outcome *o = run(f);
    assert_string_equal(o->dec.status, "served");
    assert_int_equal(o->ttl.render_ttl_ms, 5000);
    assert_int_equal(o->ttl.expire_at_ms, t620 + 5000); /* 06:20:05.000Z */
    assert_true(e_warnings_has(&o->warnings, MED_R_E_TTL_CORRECTED_DEFAULT));
    assert_int_equal(o->in.max_render_count, 1);
    assert_int_equal(o->container.max_card_count, 1);
    assert_true(e_warnings_has(&o->warnings, MED_R_E_COMPOSE_INVALID_NUMERIC_CORRECTED));
    done(f, o);
}

static void case08_policy_disallowed_mode_and_video_first(void **state)
{
    (void)state;
    e_fx *f = fx();
    static const char *const three[] = { "native_card", "webview", "mraid_container" };
    e_fx_placement_modes(f, three, 3);
    e_fx_device_all(f);
    e_fx_render_assets(f);
    f->disallow[0] = (char *)"mraid_container";
    f->rcons.n_disallow_render_modes = 1;
    e_outcome *o = run(f);
    assert_string_equal(o->dec.status, "served");
    assert_int_equal(o->container.mode, E_MODE_WEBVIEW);
    assert_int_equal(o->gate.n_eligible, 2);
    assert_int_equal(o->gate.eligible[0], E_MODE_WEBVIEW);
    assert_int_equal(o->gate.eligible[1], E_MODE_NATIVE);
    assert_int_equal(o->val.n_degrade_path, 1);
    assert_int_equal(o->val.degrade_path[0].mode, E_MODE_MRAID);
    assert_string_equal(o->val.degrade_path[0].reason_code, MED_R_E_GATE_POLICY_MODE_DISALLOWED);
    free(o);
    static const char *const four[] = { "native_card", "webview", "mraid_container", "video_vast_container" };
    e_fx_placement_modes(f, four, 4);
    o = run(f);
    assert_int_equal(o->container.mode, E_MODE_VIDEO);
    assert_int_equal(o->container.video_width, 640);
    done(f, o);
}

static void case09_device_without_modes_no_fill(void **state)
{
    (void)state;
    e_fx *f = fx();
    e_fx_device_modes(f, NULL, 0);
    e_outcome *o = run(f);
    assert_string_equal(o->dec.status, "no_fill");
    assert_string_equal(o->dec.final_code, MED_R_E_NF_CAPABILITY_GATE_REJECTED);
    assert_string_equal(o->dec.consistency_action, "override_by_e");
    assert_string_equal(o->dec.consistency_code, MED_R_E_CANDIDATE_NOT_RENDERABLE_AFTER_COMPOSE);
    assert_string_equal(o->gate.final_gate_code, MED_R_E_GATE_ALL_MODES_REJECTED);
    assert_int_equal(o->container.mode, E_MODE_NONE);
    done(f, o);
}

static void case10_hard_blocked_winner_no_substitute(void **state)
{
    (void)state;
    e_fx *f = fx();
    e_fx_runner_up(f);
    e_fx_flag(f, 0, "hard_block");
    e_outcome *o = run(f);
    assert_string_equal(o->dec.status, "no_fill");
    assert_string_equal(o->dec.final_code, MED_R_E_NF_POLICY_BLOCKED);
    assert_string_equal(o->dec.raw, MED_R_E_POLICY_HARD_BLOCKED);
    assert_int_equal(o->container.mode, E_MODE_NONE);
    assert_int_equal(o->val.n_dropped, 2);
    assert_ptr_equal(o->val.dropped[0].cand, &f->cand[1]);
    assert_string_equal(o->val.dropped[0].reason_code, MED_R_E_CANDIDATE_NOT_SELECTED);
    assert_string_equal(o->dec.fail_strategy, "fail_closed");
    done(f, o);
}

static void case11_disclosure_block_and_soft_risk_degrade(void **state)
{
    (void)state;
    e_fx *f = fx();
    f->disc.must_be_visible_opt_case = MEDIATION__V1__DISCLOSURE_POLICY_LITE__MUST_BE_VISIBLE_OPT_MUST_BE_VISIBLE;
    f->disc.must_be_visible = 0;
    e_outcome *o = run(f);
    assert_string_equal(o->dec.status, "no_fill");
    assert_string_equal(o->dec.final_code, MED_R_E_NF_DISCLOSURE_BLOCKED);
    assert_string_equal(o->dec.fail_strategy, "fail_closed");
    assert_string_equal(o->val.final_code, MED_R_E_DISCLOSURE_ALL_REJECTED);
    free(o);
    f->disc.must_be_visible = 1;
    e_fx_render_assets(f);
    e_fx_flag(f, 0, "soft_risk");
    o = run(f);
    assert_string_equal(o->dec.status, "served");
    assert_int_equal(o->container.mode, E_MODE_NATIVE);
    assert_int_equal(o->val.n_adjust, 1);
    assert_string_equal(o->val.adjustments[0].from, "webview");
    assert_string_equal(o->val.adjustments[0].to, "native_card");
    done(f, o);
}

static void case12_route_no_fill_and_error_pass_through(void **state)
{
    (void)state;
    e_fx *f = fx();
    e_fx_route_failed(f, "no_fill", "d_nf_inventory_unavailable");
    e_outcome *o = run(f);
    assert_string_equal(o->dec.status, "no_fill");
    assert_string_equal(o->dec.final_code, MED_R_E_NF_NO_CANDIDATE_INPUT);
    assert_string_equal(o->dec.consistency_action, "pass_through");
    assert_int_equal(o->val.scanned, 0);
    free(o);
    e_fx_route_failed(f, "error", "d_en_unknown");
    o = run(f);
    assert_string_equal(o->dec.status, "error");
    assert_string_equal(o->dec.final_code, MED_R_E_ER_UPSTREAM_ERROR);
    assert_string_equal(o->dec.consistency_action, "pass_through");
    done(f, o);
}

static void case13_c_policy_block_codes(void **state)
{
    (void)state;
    e_fx *f = fx();
    Mediation__V1__PolicyBlockedResultLite pb;
    mediation__v1__policy_blocked_result_lite__init(&pb);
    pb.final_policy_action = (char *)"block";
    pb.primary_policy_reason_code = (char *)"c_consent_scope_blocked";
    f->ci.compose_source = (char *)"c_policy_block";
    f->ci.policy_blocked_result_lite = &pb;
    f->ci.e_compose_input_lite = NULL;
    e_outcome *o = run(f);
    assert_string_equal(o->dec.status, "no_fill");
    assert_string_equal(o->dec.final_code, MED_R_E_NF_POLICY_BLOCKED);
    assert_string_equal(o->upstream_code, "c_consent_scope_blocked");
    assert_string_equal(o->dec.consistency_action, "pass_through");
    free(o);
    pb.primary_policy_reason_code = (char *)"c_frequency_hard_cap_block";
    o = run(f);
    assert_string_equal(o->dec.final_code, MED_R_E_NF_FREQUENCY_CAPPED);
    free(o);
    /* the placeholder input, broken (a blank anchor), and no candidates */
    f->ci.e_compose_input_lite = &f->lite;
    e_fx_route_failed(f, "no_fill", "c_frequency_hard_cap_block");
    f->va.render_policy_version = (char *)"";
    o = run(f);
    assert_string_equal(o->dec.status, "error");
    assert_string_equal(o->dec.final_code, MED_R_E_ER_INVALID_VERSION_ANCHOR);
    free(o);
    f->va.render_policy_version = (char *)"rp_1";
    o = run(f);
    assert_string_equal(o->dec.status, "no_fill");
    assert_string_equal(o->dec.final_code, MED_R_E_NF_FREQUENCY_CAPPED);
    done(f, o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(case01_fixture_served_native_with_webview_degrade),
        cmocka_unit_test(case02_null_auction_decision_is_error),
        cmocka_unit_test(case03_winner_binding_and_inconsistent_list),
        cmocka_unit_test(case04_missing_device_defaults_to_native),
        cmocka_unit_test(case05_unknown_render_modes),
        cmocka_unit_test(case06_only_contract_anchor_is_error),
        cmocka_unit_test(case07_ttl_and_count_corrected),
        cmocka_unit_test(case08_policy_disallowed_mode_and_video_first),
        cmocka_unit_test(case09_device_without_modes_no_fill),
        cmocka_unit_test(case10_hard_blocked_winner_no_substitute),
        cmocka_unit_test(case11_disclosure_block_and_soft_risk_degrade),
        cmocka_unit_test(case12_route_no_fill_and_error_pass_through),
        cmocka_unit_test(case13_c_policy_block_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
