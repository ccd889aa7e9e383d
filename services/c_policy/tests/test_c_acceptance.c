/* Spec 02 C.5 acceptance cases, one test each (case number in the name). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "c_constraints.h"
#include "c_fixture.h"
#include "med/names.h"
#include "med/reason.h"
#include "mediation/v1/audit.pb-c.h"
#include "mediation/v1/compose.pb-c.h"
#include "mediation/v1/policy.pb-c.h"

static void assert_gates(const c_eval *e, const char *const *gates, size_t n)
{
    assert_int_equal(e->n_steps, n);
    for (size_t i = 0; i < n; i++) assert_string_equal(e->steps[i].gate, gates[i]);
}

static void c5_01_granted_count1_no_flags_allows_to_d_only(void **state)
{
    (void)state;
    c_fx f;
    c_fx_init(&f);
    c_eval e;
    assert_int_equal(c_fx_run(&f, C_FX_NOW, &e), MED_OK);
    const char *gates[] = { C_GATE_COMPLIANCE, C_GATE_CONSENT, C_GATE_FREQUENCY, C_GATE_CATEGORY };
    assert_gates(&e, gates, 4);
    assert_int_equal(e.final_action, C_ACT_ALLOW);
    assert_string_equal(e.primary_code, MED_R_C_POLICY_PASS);
    assert_string_equal(e.steps[e.winner].rule_id, "category_allow_rule");
    assert_string_equal(e.short_circuit_action, C_SC_ALLOW);
    c_eval_free(&e);

    c_emit out;
    assert_int_equal(c_fx_process(&f, C_FX_NOW, &out), MED_OK);
    assert_int_equal(out.n, 2);
    const c_emit_item *d = c_fx_find(&out, MED_SUBJ_D_ROUTABLE);
    assert_non_null(d);
    assert_null(c_fx_find(&out, MED_SUBJ_E_COMPOSE));
    assert_non_null(c_fx_find(&out, C_SUBJ_AUDIT));
    assert_string_equal(d->msg_id, "c.route:opp_0123456789abcdef");
    Mediation__V1__PolicyDecision *pd = mediation__v1__policy_decision__unpack(NULL, d->len, d->data);
    assert_non_null(pd);
    assert_string_equal(pd->c_policy_decision_lite->final_policy_action, "allow");
    assert_true(pd->c_policy_decision_lite->is_routable);
    assert_int_equal(pd->policy_audit_snapshot_lite->n_decision_actions, 4);
    assert_string_equal(pd->policy_audit_snapshot_lite->decision_actions[3]->source_gate,
                        C_GATE_CATEGORY);
    assert_string_equal(pd->c_policy_decision_lite->state_update->to_state, "routed");
    assert_string_equal(pd->c_policy_decision_lite->state_update->state_reason_code, "policy_passed");
    mediation__v1__policy_decision__free_unpacked(pd, NULL);
    c_emit_free(&out);
}

static void c5_02_hard_blocked_blocks_to_e_only(void **state)
{
    (void)state;
    c_fx f;
    c_fx_init(&f);
    f.co.hard_blocked = 1;
    c_eval e;
    assert_int_equal(c_fx_run(&f, C_FX_NOW, &e), MED_OK);
    assert_int_equal(e.n_steps, 1);
    assert_int_equal(e.final_action, C_ACT_BLOCK);
    assert_string_equal(e.primary_code, MED_R_C_COMPLIANCE_HARD_BLOCK);
    assert_string_equal(e.to_state, "error");
    c_eval_free(&e);

    c_emit out;
    assert_int_equal(c_fx_process(&f, C_FX_NOW, &out), MED_OK);
    assert_null(c_fx_find(&out, MED_SUBJ_D_ROUTABLE));
    const c_emit_item *ce = c_fx_find(&out, MED_SUBJ_E_COMPOSE);
    assert_non_null(ce);
    assert_string_equal(ce->msg_id, "c.compose:opp_0123456789abcdef");
    Mediation__V1__ComposeInput *ci = mediation__v1__compose_input__unpack(NULL, ce->len, ce->data);
    assert_non_null(ci);
    assert_string_equal(ci->compose_source, "c_policy_block");
    const Mediation__V1__PolicyBlockedResultLite *r = ci->policy_blocked_result_lite;
    assert_string_equal(r->final_policy_action, "block");
    assert_false(r->ad_decision_lite->allow_ad);
    assert_string_equal(r->ad_decision_lite->decision_semantic, "no_ad");
    assert_string_equal(r->ad_decision_lite->no_ad_reason_code, MED_R_C_COMPLIANCE_HARD_BLOCK);
    assert_string_equal(r->state_update->to_state, "error");
    assert_string_equal(r->state_update->state_reason_code, "policy_blocked");
    assert_string_equal(ci->upstream_terminal->stage, "c");
    assert_string_equal(ci->upstream_terminal->decision_action, "block");
    assert_string_equal(ci->upstream_terminal->delivery_status_hint, "no_fill");
    assert_string_equal(ci->upstream_terminal->reason_code, MED_R_C_COMPLIANCE_HARD_BLOCK);
    mediation__v1__compose_input__free_unpacked(ci, NULL);
    c_emit_free(&out);
}

static void c5_03_outcome_blocked_by_policy_blocks_at_compliance(void **state)
{
    (void)state;
    c_fx f;
    c_fx_init(&f);
    f.oc.decision_outcome = (char *)"opportunity_blocked_by_policy";
    c_eval e;
    assert_int_equal(c_fx_run(&f, C_FX_NOW, &e), MED_OK);
    assert_int_equal(e.final_action, C_ACT_BLOCK);
    assert_string_equal(e.short_circuit_gate, C_GATE_COMPLIANCE);
    assert_string_equal(e.short_circuit_action, C_SC_BLOCK);
    assert_string_equal(e.primary_code, MED_R_C_COMPLIANCE_HARD_BLOCK);
    c_eval_free(&e);
}

static void c5_04_consent_denied_blocks_after_two_gates(void **state)
{
    (void)state;
    c_fx f;
    c_fx_init(&f);
    f.pc.consent_scope = (char *)"consent_denied";
    c_eval e;
    assert_int_equal(c_fx_run(&f, C_FX_NOW, &e), MED_OK);
    const char *gates[] = { C_GATE_COMPLIANCE, C_GATE_CONSENT };
    assert_gates(&e, gates, 2);
    assert_int_equal(e.final_action, C_ACT_BLOCK);
    assert_string_equal(e.primary_code, MED_R_C_CONSENT_SCOPE_BLOCKED);
    assert_string_equal(e.steps[1].rule_id, "consent_scope_block_rule");
    c_eval_free(&e);
}

static c_action run_count(c_fx *f, int64_t count, const char **code)
{
    c_fx_set_count(f, count);
    c_eval e;
    assert_int_equal(c_fx_run(f, C_FX_NOW, &e), MED_OK);
    c_action a = e.final_action;
    *code = e.primary_code;
    c_eval_free(&e);
    return a;
}

static void c5_05_frequency_hard_cap_and_threshold(void **state)
{
    (void)state;
    c_fx f;
    c_fx_init(&f);
    f.fq.hard_cap_opt_case = MEDIATION__V1__FREQUENCY_CAP_GATE_RULE__HARD_CAP_OPT_HARD_CAP;
    f.fq.hard_cap = 10;
    f.fq.degrade_threshold_opt_case =
        MEDIATION__V1__FREQUENCY_CAP_GATE_RULE__DEGRADE_THRESHOLD_OPT_DEGRADE_THRESHOLD;
    f.fq.degrade_threshold = 5;
    const char *code = NULL;
    assert_int_equal(run_count(&f, 11, &code), C_ACT_BLOCK);
    assert_string_equal(code, MED_R_C_FREQUENCY_HARD_CAP_BLOCK);
    assert_int_equal(run_count(&f, 10, &code), C_ACT_DEGRADE);
    assert_string_equal(code, MED_R_C_FREQUENCY_SOFT_CAP_DEGRADE);
    assert_int_equal(run_count(&f, 4, &code), C_ACT_ALLOW);
    assert_string_equal(code, MED_R_C_POLICY_PASS);
}

static void c5_06_degrade_conflict_smallest_rule_wins(void **state)
{
    (void)state;
    c_fx f;
    c_fx_init(&f);
    f.pc.consent_scope = (char *)"consent_limited";
    f.cs.degrade_rule_id = (char *)"z_rule_consent";
    f.cs.degrade_risk_level = (char *)"medium";
    f.fq.degrade_threshold_opt_case =
        MEDIATION__V1__FREQUENCY_CAP_GATE_RULE__DEGRADE_THRESHOLD_OPT_DEGRADE_THRESHOLD;
    f.fq.degrade_threshold = 5;
    f.fq.degrade_rule_id = (char *)"a_rule_frequency";
    f.fq.degrade_risk_level = (char *)"medium";
    c_fx_set_count(&f, 5);
    c_eval e;
    assert_int_equal(c_fx_run(&f, C_FX_NOW, &e), MED_OK);
    assert_int_equal(e.final_action, C_ACT_DEGRADE);
    assert_string_equal(e.steps[e.winner].rule_id, "a_rule_frequency");
    assert_string_equal(e.primary_code, MED_R_C_FREQUENCY_SOFT_CAP_DEGRADE);
    assert_string_equal(e.conflict_code, MED_R_C_POLICY_CONFLICT_RESOLVED);
    assert_int_equal(e.n_secondary, 2);
    assert_string_equal(e.secondary[0], MED_R_C_POLICY_CONFLICT_RESOLVED);
    assert_string_equal(e.secondary[1], MED_R_C_POLICY_DEGRADED_PASS);
    assert_true(e.constraints.non_personalized_only);
    assert_true(e.is_routable);
    assert_true(e.policy_degraded);
    assert_true(c_strlist_has(&e.constraints.reason_codes, MED_R_C_FREQUENCY_SOFT_CAP_DEGRADE));
    c_eval_free(&e);
}

static void c5_07_limited_and_restricted_hard_blocks_at_category(void **state)
{
    (void)state;
    c_fx f;
    c_fx_init(&f);
    f.pc.consent_scope = (char *)"consent_limited";
    c_fx_add_hard_category(&f, "restricted_hard");
    c_fx_add_flag(&f, "news");
    c_fx_add_flag(&f, "restricted_hard");
    c_eval e;
    assert_int_equal(c_fx_run(&f, C_FX_NOW, &e), MED_OK);
    const char *gates[] = { C_GATE_COMPLIANCE, C_GATE_CONSENT, C_GATE_FREQUENCY, C_GATE_CATEGORY };
    assert_gates(&e, gates, 4);
    assert_int_equal(e.final_action, C_ACT_BLOCK);
    assert_string_equal(e.short_circuit_gate, C_GATE_CATEGORY);
    assert_string_equal(e.primary_code, MED_R_C_CATEGORY_RESTRICTED_BLOCK);
    assert_string_equal(e.steps[3].rule_id, "category_block_restricted_hard");
    c_eval_free(&e);
}

static void c5_08_no_snapshot_rejects_with_na_versions(void **state)
{
    (void)state;
    c_fx f;
    c_fx_init(&f);
    f.msg.policy_snapshot_lite = NULL;
    c_emit out;
    assert_int_equal(c_fx_process(&f, C_FX_NOW, &out), MED_OK);
    assert_string_equal(out.primary_code, MED_R_C_POLICY_SNAPSHOT_MISSING);
    const c_emit_item *a = c_fx_find(&out, C_SUBJ_AUDIT);
    assert_non_null(a);
    Mediation__V1__StageAudit *sa = mediation__v1__stage_audit__unpack(NULL, a->len, a->data);
    assert_non_null(sa);
    const Mediation__V1__PolicyAuditSnapshotLite *pa = sa->c_audit;
    assert_non_null(pa);
    assert_string_equal(pa->version_snapshot->policy_snapshot_version, "NA");
    assert_string_equal(pa->version_snapshot->policy_rule_version, "NA");
    assert_string_equal(pa->short_circuit_snapshot->policy_pack_version, "NA");
    const Mediation__V1__ConstraintsLite *cl = pa->final_conclusion->constraints_lite;
    assert_string_equal(cl->constraint_set_version, "NA");
    assert_non_null(cl->category_constraints);
    assert_non_null(cl->personalization_constraints);
    assert_non_null(cl->render_constraints);
    assert_non_null(cl->source_constraints);
    assert_string_equal(cl->source_constraints->source_selection_mode, "all_except_blocked");
    mediation__v1__stage_audit__free_unpacked(sa, NULL);
    c_emit_free(&out);
}

static void c5_09_manual_source_is_invalid(void **state)
{
    (void)state;
    c_fx f;
    c_fx_init(&f);
    f.snap.snapshot_source = (char *)"manual";
    c_eval e;
    assert_int_equal(c_fx_run(&f, C_FX_NOW, &e), MED_ERR_INVALID);
    assert_int_equal(e.final_action, C_ACT_REJECT);
    assert_string_equal(e.primary_code, MED_R_C_POLICY_SNAPSHOT_INVALID);
    c_eval_free(&e);
}

static void c5_10_fail_closed_at_expiry_rejects(void **state)
{
    (void)state;
    c_fx f;
    c_fx_init(&f);
    f.snap.expire_at_or_na_unix_ms_opt_case =
        MEDIATION__V1__POLICY_SNAPSHOT_LITE__EXPIRE_AT_OR_NA_UNIX_MS_OPT_EXPIRE_AT_OR_NA_UNIX_MS;
    f.snap.expire_at_or_na_unix_ms = C_FX_NOW;
    c_eval e;
    assert_int_equal(c_fx_run(&f, C_FX_NOW, &e), MED_ERR_INVALID);
    assert_int_equal(e.final_action, C_ACT_REJECT);
    assert_string_equal(e.primary_code, MED_R_C_POLICY_SNAPSHOT_EXPIRED);
    c_eval_free(&e);
    /* One millisecond earlier the snapshot is still valid. */
    assert_int_equal(c_fx_run(&f, C_FX_NOW - 1, &e), MED_OK);
    assert_int_equal(e.final_action, C_ACT_ALLOW);
    c_eval_free(&e);
}

static void c5_11_fail_open_expired_degrades_then_consent_blocks(void **state)
{
    (void)state;
    c_fx f;
    c_fx_init(&f);
    f.snap.failure_mode = (char *)"fail_open";
    f.snap.expire_at_or_na_unix_ms_opt_case =
        MEDIATION__V1__POLICY_SNAPSHOT_LITE__EXPIRE_AT_OR_NA_UNIX_MS_OPT_EXPIRE_AT_OR_NA_UNIX_MS;
    f.snap.expire_at_or_na_unix_ms = C_FX_NOW - 1000;
    c_eval e;
    assert_int_equal(c_fx_run(&f, C_FX_NOW, &e), MED_OK);
    assert_int_equal(e.final_action, C_ACT_DEGRADE);
    assert_string_equal(e.steps[e.winner].gate, C_GATE_SNAPSHOT_GUARD);
    assert_string_equal(e.steps[e.winner].rule_id, "snapshot_expired_fail_open_rule");
    assert_string_equal(e.primary_code, MED_R_C_POLICY_SNAPSHOT_EXPIRED);
    assert_true(e.is_routable);
    c_eval_free(&e);

    f.pc.consent_scope = (char *)"consent_denied";
    assert_int_equal(c_fx_run(&f, C_FX_NOW, &e), MED_OK);
    assert_int_equal(e.final_action, C_ACT_BLOCK);
    assert_string_equal(e.primary_code, MED_R_C_CONSENT_SCOPE_BLOCKED);
    assert_false(e.is_routable);
    c_eval_free(&e);
}

static void c5_12_routed_state_rejects_with_input_guard(void **state)
{
    (void)state;
    c_fx f;
    c_fx_init(&f);
    f.msg.state = (char *)"routed";
    c_eval e;
    assert_int_equal(c_fx_run(&f, C_FX_NOW, &e), MED_ERR_INVALID);
    const char *gates[] = { C_GATE_INPUT_GUARD };
    assert_gates(&e, gates, 1);
    assert_string_equal(e.primary_code, MED_R_C_INVALID_INPUT_STATE);
    assert_string_equal(e.steps[0].rule_id, "input_guard_rule");
    assert_string_equal(e.short_circuit_action, C_SC_BLOCK);
    assert_string_equal(e.state_reason, "policy_rejected");
    c_eval_free(&e);

    c_emit out;
    assert_int_equal(c_fx_process(&f, C_FX_NOW, &out), MED_OK);
    const c_emit_item *ce = c_fx_find(&out, MED_SUBJ_E_COMPOSE);
    assert_non_null(ce);
    Mediation__V1__ComposeInput *ci = mediation__v1__compose_input__unpack(NULL, ce->len, ce->data);
    assert_non_null(ci);
    assert_string_equal(ci->upstream_terminal->decision_action, "reject");
    assert_string_equal(ci->upstream_terminal->delivery_status_hint, "error");
    mediation__v1__compose_input__free_unpacked(ci, NULL);
    c_emit_free(&out);
}

static void c5_13_no_attempt_key_takes_header_keys(void **state)
{
    (void)state;
    c_fx f;
    c_fx_init(&f);
    f.tc.attempt_key = (char *)"";
    f.tc.trace_key = (char *)"";
    f.trace.attempt_key = (char *)"";
    f.msg.opportunity_key = (char *)"";
    c_eval e;
    assert_int_equal(c_fx_run(&f, C_FX_NOW, &e), MED_ERR_INVALID);
    assert_string_equal(e.primary_code, MED_R_C_MISSING_REQUIRED_FIELD);
    assert_string_equal(e.keys.trace_key, "tr_fromheader00001");
    assert_string_equal(e.keys.opportunity_key, "opp_fromheader0001");
    assert_string_equal(e.keys.attempt_key, "NA");
    c_eval_free(&e);

    c_emit out;
    assert_int_equal(c_fx_process(&f, C_FX_NOW, &out), MED_OK);
    const c_emit_item *ce = c_fx_find(&out, MED_SUBJ_E_COMPOSE);
    assert_non_null(ce);
    assert_string_equal(ce->msg_id, "c.compose:opp_fromheader0001");
    c_emit_free(&out);
}

static void c5_14_blocked_sources_leave_allowlist(void **state)
{
    (void)state;
    c_fx f;
    c_fx_init(&f);
    f.sc.source_selection_mode = (char *)"allowlist_only";
    f.allowed[0] = (char *)"a";
    f.allowed[1] = (char *)"b";
    f.sc.n_allowed_source_ids = 2;
    f.blocked[0] = (char *)"b";
    f.blocked[1] = (char *)"c";
    f.sc.n_blocked_source_ids = 2;
    c_eval e;
    assert_int_equal(c_fx_run(&f, C_FX_NOW, &e), MED_OK);
    assert_int_equal(e.constraints.allowed_source_ids.n, 1);
    assert_string_equal(e.constraints.allowed_source_ids.v[0], "a");
    c_eval_free(&e);

    f.allowed[0] = (char *)"a";
    f.sc.n_allowed_source_ids = 1;
    f.blocked[0] = (char *)"a";
    f.sc.n_blocked_source_ids = 1;
    assert_int_equal(c_fx_run(&f, C_FX_NOW, &e), MED_OK);
    assert_int_equal(e.constraints.allowed_source_ids.n, 0);
    assert_string_equal(e.constraints.source_selection_mode, "allowlist_only");
    c_eval_free(&e);
}

static void c5_15_same_message_twice_same_bytes_and_id(void **state)
{
    (void)state;
    c_fx f;
    c_fx_init(&f);
    c_emit a, b;
    assert_int_equal(c_fx_process(&f, C_FX_NOW, &a), MED_OK);
    assert_int_equal(c_fx_process(&f, C_FX_NOW, &b), MED_OK);
    assert_int_equal(a.n, b.n);
    for (int i = 0; i < a.n; i++) {
        assert_string_equal(a.v[i].subject, b.v[i].subject);
        /* Same Nats-Msg-Id: the stream's duplicate window keeps one. */
        assert_string_equal(a.v[i].msg_id, b.v[i].msg_id);
        assert_int_equal(a.v[i].len, b.v[i].len);
        assert_memory_equal(a.v[i].data, b.v[i].data, a.v[i].len);
    }
    assert_non_null(c_fx_find(&a, MED_SUBJ_D_ROUTABLE));
    c_emit_free(&a);
    c_emit_free(&b);
}

static void c5_16_no_redis_pg_or_h_still_evaluates(void **state)
{
    (void)state;
    /* c_process runs with no service, connection or config client at all:
     * the snapshot in the message is the only policy input. */
    c_fx f;
    c_fx_init(&f);
    c_fx_add_hard_category(&f, "IAB25");
    c_fx_add_flag(&f, "IAB25");
    c_emit out;
    assert_int_equal(c_fx_process(&f, C_FX_NOW, &out), MED_OK);
    assert_string_equal(out.final_action, "block");
    assert_string_equal(out.primary_code, MED_R_C_CATEGORY_RESTRICTED_BLOCK);
    c_emit_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(c5_01_granted_count1_no_flags_allows_to_d_only),
        cmocka_unit_test(c5_02_hard_blocked_blocks_to_e_only),
        cmocka_unit_test(c5_03_outcome_blocked_by_policy_blocks_at_compliance),
        cmocka_unit_test(c5_04_consent_denied_blocks_after_two_gates),
        cmocka_unit_test(c5_05_frequency_hard_cap_and_threshold),
        cmocka_unit_test(c5_06_degrade_conflict_smallest_rule_wins),
        cmocka_unit_test(c5_07_limited_and_restricted_hard_blocks_at_category),
        cmocka_unit_test(c5_08_no_snapshot_rejects_with_na_versions),
        cmocka_unit_test(c5_09_manual_source_is_invalid),
        cmocka_unit_test(c5_10_fail_closed_at_expiry_rejects),
        cmocka_unit_test(c5_11_fail_open_expired_degrades_then_consent_blocks),
        cmocka_unit_test(c5_12_routed_state_rejects_with_input_guard),
        cmocka_unit_test(c5_13_no_attempt_key_takes_header_keys),
        cmocka_unit_test(c5_14_blocked_sources_leave_allowlist),
        cmocka_unit_test(c5_15_same_message_twice_same_bytes_and_id),
        cmocka_unit_test(c5_16_no_redis_pg_or_h_still_evaluates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
