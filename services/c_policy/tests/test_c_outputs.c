/* C.4 outputs on the wire: pass-through to D, audit to G, forwarded B
 * rejects and undecodable input to E. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "c_fixture.h"
#include "med/names.h"
#include "med/reason.h"
#include "mediation/v1/audit.pb-c.h"
#include "mediation/v1/compose.pb-c.h"
#include "mediation/v1/policy.pb-c.h"

static Mediation__V1__PolicyDecision *decision_of(const c_emit *out)
{
    const c_emit_item *d = c_fx_find(out, MED_SUBJ_D_ROUTABLE);
    assert_non_null(d);
    Mediation__V1__PolicyDecision *pd = mediation__v1__policy_decision__unpack(NULL, d->len, d->data);
    assert_non_null(pd);
    return pd;
}

static void c4_routable_carries_pass_through_to_d(void **state)
{
    (void)state;
    c_fx f;
    c_fx_init(&f);
    c_emit out;
    assert_int_equal(c_fx_process(&f, C_FX_NOW, &out), MED_OK);
    Mediation__V1__PolicyDecision *pd = decision_of(&out);
    assert_string_equal(pd->d_input_contract_version, "d_input_contract_v1");
    assert_string_equal(pd->schema_version, "1.0.0");
    assert_string_equal(pd->routing_context_lite->routing_policy_version, "rs-1");
    assert_string_equal(pd->config_snapshot_lite->config_snapshot_id, "cfgsnap_0001");
    assert_string_equal(pd->version_anchor_snapshot->anchor_hash, "anchor_0001");
    assert_string_equal(pd->normalization_summary->enum_dict_version, "enum-1");
    assert_string_equal(pd->placement_spec_lite->placement_key, "plc_feed");
    assert_string_equal(pd->device_capabilities_lite->platform_type, "ios");
    const Mediation__V1__RoutableOpportunityLite *r = pd->routable_opportunity_lite;
    assert_string_equal(r->keys->attempt_key, "att_0123456789abcdef");
    assert_string_equal(r->blocks->policy_context->consent_scope, "consent_granted");
    assert_true(r->ad_decision_lite->allow_ad);
    assert_string_equal(r->ad_decision_lite->decision_semantic, "serve_ad");
    assert_int_equal(r->constraints_lite->category_constraints->n_bcat, 2);
    /* The trace gained this stage's hop. */
    assert_int_equal(pd->trace->n_hops, 1);
    assert_string_equal(pd->trace->hops[0]->stage, "c");
    assert_string_equal(pd->c_policy_decision_lite->policy_snapshot_version, "pol-1");
    assert_string_equal(pd->c_policy_decision_lite->policy_rule_version, "rule-1");
    mediation__v1__policy_decision__free_unpacked(pd, NULL);
    c_emit_free(&out);
}

static void c4_degrade_is_routable_with_policy_degraded(void **state)
{
    (void)state;
    c_fx f;
    c_fx_init(&f);
    f.pc.consent_scope = (char *)"consent_limited";
    c_emit out;
    assert_int_equal(c_fx_process(&f, C_FX_NOW, &out), MED_OK);
    Mediation__V1__PolicyDecision *pd = decision_of(&out);
    assert_true(pd->routable_opportunity_lite->policy_degraded);
    assert_true(pd->c_policy_decision_lite->policy_degraded);
    assert_string_equal(pd->c_policy_decision_lite->state_update->state_reason_code,
                        "policy_degraded_pass");
    const Mediation__V1__ConstraintsLite *cl = pd->routable_opportunity_lite->constraints_lite;
    assert_true(cl->personalization_constraints->non_personalized_only);
    assert_int_equal(cl->n_constraint_reason_codes, 1);
    assert_string_equal(cl->constraint_reason_codes[0], MED_R_C_POLICY_DEGRADED_PASS);
    mediation__v1__policy_decision__free_unpacked(pd, NULL);
    c_emit_free(&out);
}

static void c4_audit_always_published_with_c_audit(void **state)
{
    (void)state;
    c_fx f;
    c_fx_init(&f);
    c_emit out;
    assert_int_equal(c_fx_process(&f, C_FX_NOW, &out), MED_OK);
    const c_emit_item *a = c_fx_find(&out, C_SUBJ_AUDIT);
    assert_non_null(a);
    assert_string_equal(a->subject, "med.audit.c.v1");
    assert_string_equal(a->msg_id, "c.audit:opp_0123456789abcdef");
    Mediation__V1__StageAudit *sa = mediation__v1__stage_audit__unpack(NULL, a->len, a->data);
    assert_non_null(sa);
    assert_string_equal(sa->stage, "c");
    assert_string_equal(sa->decision_action, "allow");
    assert_string_equal(sa->primary_reason_code, MED_R_C_POLICY_PASS);
    assert_int_equal(sa->snapshot_case, MEDIATION__V1__STAGE_AUDIT__SNAPSHOT_C_AUDIT);
    const Mediation__V1__PolicyAuditSnapshotLite *pa = sa->c_audit;
    /* No block or degrade: the last allow is the explicit pass. */
    assert_int_equal(pa->n_hit_rules, 1);
    assert_string_equal(pa->hit_rules[0]->rule_id, "category_allow_rule");
    assert_int_equal(pa->policy_evaluation_start_at_unix_ms, C_FX_NOW);
    assert_string_equal(pa->version_snapshot->c_input_contract_version, "c_input_contract_v1");
    assert_string_equal(pa->short_circuit_snapshot->short_circuit_action, "short_circuit_allow");
    mediation__v1__stage_audit__free_unpacked(sa, NULL);
    c_emit_free(&out);
}

static void c4_b_reject_forwarded_unevaluated(void **state)
{
    (void)state;
    c_fx f;
    c_fx_init(&f);
    f.msg.normalize_accepted = 0;
    f.msg.state = (char *)"error";
    f.msg.reason_code = (char *)"b_missing_required_field";
    c_emit out;
    assert_int_equal(c_fx_process(&f, C_FX_NOW, &out), MED_OK);
    assert_null(c_fx_find(&out, MED_SUBJ_D_ROUTABLE));
    const c_emit_item *ce = c_fx_find(&out, MED_SUBJ_E_COMPOSE);
    assert_non_null(ce);
    Mediation__V1__ComposeInput *ci = mediation__v1__compose_input__unpack(NULL, ce->len, ce->data);
    assert_non_null(ci);
    assert_string_equal(ci->compose_source, "b_reject");
    assert_true(ci->policy_blocked_result_lite->forwarded_b_reject);
    assert_string_equal(ci->policy_blocked_result_lite->b_reason_code, "b_missing_required_field");
    assert_string_equal(ci->upstream_terminal->stage, "b");
    assert_string_equal(ci->upstream_terminal->delivery_status_hint, "error");
    mediation__v1__compose_input__free_unpacked(ci, NULL);
    assert_non_null(c_fx_find(&out, C_SUBJ_AUDIT));
    c_emit_free(&out);
}

static void c4_undecodable_input_rejected_with_header_keys(void **state)
{
    (void)state;
    const uint8_t junk[] = { 0xff, 0xff, 0xff, 0xff, 0x0f };
    c_process_in in = { .data = junk, .len = sizeof junk,
                        .hdr = { .trace_key = "tr_hdr000000000001", .request_key = "req_hdr00000000001",
                                 .opportunity_key = "opp_hdr00000000001" },
                        .stage = "c", .instance = "c-test", .now_ms = C_FX_NOW };
    c_emit out;
    med_err err;
    assert_int_equal(c_process(&in, &out, &err), MED_OK);
    assert_string_equal(out.primary_code, MED_R_C_INVALID_STRUCTURE);
    const c_emit_item *ce = c_fx_find(&out, MED_SUBJ_E_COMPOSE);
    assert_non_null(ce);
    assert_string_equal(ce->msg_id, "c.compose:opp_hdr00000000001");
    Mediation__V1__ComposeInput *ci = mediation__v1__compose_input__unpack(NULL, ce->len, ce->data);
    assert_non_null(ci);
    const Mediation__V1__PolicyBlockedResultLite *r = ci->policy_blocked_result_lite;
    assert_string_equal(r->keys->trace_key, "tr_hdr000000000001");
    assert_string_equal(r->keys->attempt_key, "NA");
    assert_string_equal(r->final_policy_action, "reject");
    assert_string_equal(r->constraints_lite->constraint_set_version, "NA");
    mediation__v1__compose_input__free_unpacked(ci, NULL);
    c_emit_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(c4_routable_carries_pass_through_to_d),
        cmocka_unit_test(c4_degrade_is_routable_with_policy_degraded),
        cmocka_unit_test(c4_audit_always_published_with_c_audit),
        cmocka_unit_test(c4_b_reject_forwarded_unevaluated),
        cmocka_unit_test(c4_undecodable_input_rejected_with_header_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
