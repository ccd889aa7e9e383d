#include "c_audit.h"

#include <string.h>
#include "c_pb.h"
#include "med/reason.h"

#define NEW(a, T, init) \
    T *p = med_arena_alloc((a), sizeof *p); \
    if (!p) return NULL; \
    init(p)

static Mediation__V1__PolicyHitRuleLite *hit_rule(med_arena *a, const c_gate_result *g)
{
    NEW(a, Mediation__V1__PolicyHitRuleLite, mediation__v1__policy_hit_rule_lite__init);
    p->gate = c_pb_str(g->gate);
    p->rule_id = c_pb_str(g->rule_id);
    p->rule_action = c_pb_str(c_action_name(g->action));
    p->reason_code = c_pb_str(g->reason_code);
    return p;
}

static Mediation__V1__PolicyDecisionActionLite *action(med_arena *a, const c_gate_result *g,
                                                       int step)
{
    NEW(a, Mediation__V1__PolicyDecisionActionLite, mediation__v1__policy_decision_action_lite__init);
    p->step = step;
    p->action = c_pb_str(c_action_name(g->action));
    p->source_gate = c_pb_str(g->gate);
    p->reason_code = c_pb_str(g->reason_code);
    return p;
}

static Mediation__V1__PolicyGateResultLite *gate_result(med_arena *a, const c_gate_result *g)
{
    NEW(a, Mediation__V1__PolicyGateResultLite, mediation__v1__policy_gate_result_lite__init);
    p->gate = c_pb_str(g->gate);
    p->action = c_pb_str(c_action_name(g->action));
    p->rule_id = c_pb_str(g->rule_id);
    p->risk_level = c_pb_str(c_risk_name(g->risk));
    p->reason_code = c_pb_str(g->reason_code);
    return p;
}

/* hitRules: every block and degrade, else the last allow as an explicit pass. */
static int build_hit_rules(med_arena *a, const c_eval *e, Mediation__V1__PolicyAuditSnapshotLite *s)
{
    s->hit_rules = med_arena_alloc(a, (e->n_steps ? e->n_steps : 1) * sizeof *s->hit_rules);
    if (!s->hit_rules) return 0;
    for (size_t i = 0; i < e->n_steps; i++) {
        c_action act = e->steps[i].action;
        if (act == C_ACT_ALLOW) continue;
        if (!(s->hit_rules[s->n_hit_rules++] = hit_rule(a, &e->steps[i]))) return 0;
    }
    if (s->n_hit_rules == 0 && e->n_steps > 0)
        if (!(s->hit_rules[s->n_hit_rules++] = hit_rule(a, &e->steps[e->n_steps - 1]))) return 0;
    return 1;
}

static int build_steps(med_arena *a, const c_eval *e, Mediation__V1__PolicyAuditSnapshotLite *s)
{
    size_t n = e->n_steps ? e->n_steps : 1;
    s->decision_actions = med_arena_alloc(a, n * sizeof *s->decision_actions);
    s->gate_results = med_arena_alloc(a, n * sizeof *s->gate_results);
    if (!s->decision_actions || !s->gate_results) return 0;
    for (size_t i = 0; i < e->n_steps; i++) {
        s->decision_actions[i] = action(a, &e->steps[i], (int)i + 1);
        s->gate_results[i] = gate_result(a, &e->steps[i]);
        if (!s->decision_actions[i] || !s->gate_results[i]) return 0;
    }
    s->n_decision_actions = s->n_gate_results = e->n_steps;
    return 1;
}

static Mediation__V1__PolicyFinalConclusionLite *conclusion(med_arena *a, const c_eval *e)
{
    NEW(a, Mediation__V1__PolicyFinalConclusionLite, mediation__v1__policy_final_conclusion_lite__init);
    const c_gate_result *w = &e->steps[e->winner];
    p->final_policy_action = c_pb_str(c_action_name(e->final_action));
    p->is_routable = e->is_routable;
    p->ad_decision_lite = c_pb_ad_decision(a, e);
    p->primary_policy_reason_code = c_pb_str(e->primary_code);
    p->winning_gate = c_pb_str(w->gate);
    p->winning_rule_id = c_pb_str(w->rule_id);
    p->constraints_lite = c_pb_constraints(a, &e->constraints);
    return p->ad_decision_lite && p->constraints_lite ? p : NULL;
}

static Mediation__V1__PolicyVersionSnapshotLite *versions(med_arena *a, const c_eval *e,
                                                          const Mediation__V1__NormalizedOpportunity *m)
{
    NEW(a, Mediation__V1__PolicyVersionSnapshotLite, mediation__v1__policy_version_snapshot_lite__init);
    const Mediation__V1__PolicySnapshotLite *s = e->snapshot;
    p->policy_snapshot_id = c_pb_str(c_pb_version(s, s ? s->policy_snapshot_id : NULL));
    p->policy_snapshot_version = c_pb_str(c_pb_version(s, s ? s->policy_snapshot_version : NULL));
    p->policy_pack_version = c_pb_str(c_pb_version(s, s ? s->policy_pack_version : NULL));
    p->policy_rule_version = c_pb_str(c_pb_version(s, s ? s->policy_rule_version : NULL));
    p->resolved_config_ref = c_pb_str(c_pb_version(s, s ? s->resolved_config_ref : NULL));
    p->config_hash = c_pb_str(c_pb_version(s, s ? s->config_hash : NULL));
    p->c_input_contract_version = c_pb_str(C_INPUT_CONTRACT_V1);
    p->schema_version = c_pb_str(m && m->schema_version && m->schema_version[0] ? m->schema_version : C_NA);
    const char *ed = m && m->normalization_summary ? m->normalization_summary->enum_dict_version : NULL;
    p->enum_dict_version = c_pb_str(ed && ed[0] ? ed : C_NA);
    return p;
}

static Mediation__V1__PolicyShortCircuitSnapshotLite *short_circuit(med_arena *a, const c_eval *e)
{
    NEW(a, Mediation__V1__PolicyShortCircuitSnapshotLite,
        mediation__v1__policy_short_circuit_snapshot_lite__init);
    const Mediation__V1__PolicySnapshotLite *s = e->snapshot;
    p->short_circuit_gate = c_pb_str(e->short_circuit_gate);
    p->short_circuit_action = c_pb_str(e->short_circuit_action);
    p->short_circuit_reason_code = c_pb_str(e->primary_code);
    p->policy_pack_version = c_pb_str(c_pb_version(s, s ? s->policy_pack_version : NULL));
    p->policy_rule_version = c_pb_str(c_pb_version(s, s ? s->policy_rule_version : NULL));
    return p;
}

static int build_issue(med_arena *a, const c_eval *e, Mediation__V1__PolicyAuditSnapshotLite *s)
{
    if (!e->has_issue) return 1;
    Mediation__V1__PolicyInputIssueLite *p = med_arena_alloc(a, sizeof *p);
    s->input_issues = med_arena_alloc(a, sizeof *s->input_issues);
    if (!p || !s->input_issues) return 0;
    mediation__v1__policy_input_issue_lite__init(p);
    p->field_path = c_pb_str(e->issue.field_path);
    p->raw_value = c_pb_str(e->issue.raw_value);
    p->action = c_pb_str(c_action_name(C_ACT_REJECT));
    p->reason_code = c_pb_str(e->issue.reason_code);
    p->rule_version = c_pb_str(
        c_pb_version(e->snapshot, e->snapshot ? e->snapshot->policy_rule_version : NULL));
    s->input_issues[0] = p;
    s->n_input_issues = 1;
    return 1;
}

Mediation__V1__PolicyAuditSnapshotLite *c_audit_build(med_arena *a, const c_eval *e,
                                                      const Mediation__V1__NormalizedOpportunity *msg)
{
    NEW(a, Mediation__V1__PolicyAuditSnapshotLite, mediation__v1__policy_audit_snapshot_lite__init);
    p->keys = c_pb_keys(a, &e->keys);
    p->policy_evaluation_start_at_unix_ms = e->eval_start_ms;
    p->policy_evaluation_end_at_unix_ms = e->eval_end_ms;
    p->final_conclusion = conclusion(a, e);
    p->version_snapshot = versions(a, e, msg);
    p->short_circuit_snapshot = short_circuit(a, e);
    p->state_update = c_pb_state(a, e);
    p->secondary_policy_reason_codes = c_pb_strv(a, e->secondary, e->n_secondary);
    p->n_secondary_policy_reason_codes = e->n_secondary;
    p->policy_warnings = c_pb_warnings(a, e, msg, &p->n_policy_warnings);
    if (!p->keys || !p->final_conclusion || !p->version_snapshot || !p->short_circuit_snapshot ||
        !p->state_update || !p->secondary_policy_reason_codes || !p->policy_warnings)
        return NULL;
    if (!build_hit_rules(a, e, p) || !build_steps(a, e, p) || !build_issue(a, e, p)) return NULL;
    return p;
}

static int set(const char *s) { return s && s[0]; }

static med_rc defect(const char *field, med_err *err)
{
    return med_err_set(err, MED_ERR_INTERNAL, MED_R_C_POLICY_ENGINE_ERROR, field,
                       "policy audit lacks a required field");
}

med_rc c_audit_validate(const Mediation__V1__PolicyAuditSnapshotLite *s, med_err *err)
{
    if (!s) return defect("policyAuditSnapshotLite", err);
    const Mediation__V1__TraceKeys *k = s->keys;
    if (!k || !set(k->trace_key) || !set(k->request_key) || !set(k->attempt_key) ||
        !set(k->opportunity_key))
        return defect("keys", err);
    if (s->policy_evaluation_start_at_unix_ms <= 0 || s->policy_evaluation_end_at_unix_ms <= 0)
        return defect("policyEvaluationStartAt", err);
    if (s->n_hit_rules == 0) return defect("hitRules", err);
    if (s->n_decision_actions == 0) return defect("decisionActions", err);
    const Mediation__V1__PolicyFinalConclusionLite *f = s->final_conclusion;
    if (!f || !set(f->final_policy_action) || !set(f->primary_policy_reason_code) ||
        !set(f->winning_gate) || !f->ad_decision_lite || !f->constraints_lite)
        return defect("finalConclusion", err);
    const Mediation__V1__PolicyVersionSnapshotLite *v = s->version_snapshot;
    if (!v || !set(v->policy_rule_version) || !set(v->config_hash) || !set(v->schema_version))
        return defect("versionSnapshot", err);
    const Mediation__V1__PolicyShortCircuitSnapshotLite *c = s->short_circuit_snapshot;
    if (!c || !set(c->short_circuit_gate) || !set(c->short_circuit_action))
        return defect("shortCircuitSnapshot", err);
    if (!s->state_update || !set(s->state_update->to_state)) return defect("stateUpdate", err);
    return MED_OK;
}
