#include "c_decide.h"

#include <string.h>
#include "c_constraints.h"
#include "c_gates.h"
#include "med/reason.h"

static int rank(c_action a)
{
    return a == C_ACT_BLOCK ? 3 : a == C_ACT_DEGRADE ? 2 : 1;
}

/* 1 when b beats a. Only one block can be recorded (it ends evaluation),
 * so ties in rank matter for degrades only; among allows the later one
 * (the category allow rule) wins. */
static int beats(const c_gate_result *b, const c_gate_result *a)
{
    if (rank(b->action) != rank(a->action)) return rank(b->action) > rank(a->action);
    if (b->action == C_ACT_DEGRADE) {
        if (b->risk != a->risk) return b->risk > a->risk;
        return strcmp(b->rule_id, a->rule_id) < 0;
    }
    return b->action == C_ACT_ALLOW;
}

size_t c_decide_winner(const c_gate_result *steps, size_t n)
{
    size_t w = 0;
    for (size_t i = 1; i < n; i++)
        if (beats(&steps[i], &steps[w])) w = i;
    return w;
}

static void add_secondary(c_eval *e, const char *code)
{
    if (!code || strcmp(code, e->primary_code) == 0) return;
    for (size_t i = 0; i < e->n_secondary; i++)
        if (strcmp(e->secondary[i], code) == 0) return;
    if (e->n_secondary < C_MAX_SECONDARY) e->secondary[e->n_secondary++] = code;
}

/* Primary, conflict and secondary codes from the recorded steps. */
static void derive_codes(c_eval *e)
{
    const c_gate_result *w = &e->steps[e->winner];
    e->final_action = w->action;
    e->primary_code = w->reason_code;
    int differ = 0;
    for (size_t i = 1; i < e->n_steps; i++) differ |= e->steps[i].action != e->steps[0].action;
    e->conflict_code = differ ? MED_R_C_POLICY_CONFLICT_RESOLVED : e->primary_code;
    e->n_secondary = 0;
    if (differ) add_secondary(e, MED_R_C_POLICY_CONFLICT_RESOLVED);
    for (size_t i = 0; i < e->n_steps; i++)
        if (i != e->winner && e->steps[i].action == e->final_action)
            add_secondary(e, e->steps[i].reason_code);
}

/* C.4 action map. */
static void map_action(c_eval *e)
{
    switch (e->final_action) {
    case C_ACT_ALLOW:
        e->is_routable = 1;
        e->to_state = C_STATE_ROUTED;
        e->state_reason = "policy_passed";
        break;
    case C_ACT_DEGRADE:
        e->is_routable = 1;
        e->policy_degraded = 1;
        e->to_state = C_STATE_ROUTED;
        e->state_reason = "policy_degraded_pass";
        break;
    case C_ACT_BLOCK:
        e->to_state = C_STATE_ERROR;
        e->state_reason = "policy_blocked";
        break;
    case C_ACT_REJECT:
        e->to_state = C_STATE_ERROR;
        e->state_reason = "policy_rejected";
        break;
    }
    e->short_circuit_action =
        e->final_action == C_ACT_BLOCK || e->final_action == C_ACT_REJECT ? C_SC_BLOCK : C_SC_ALLOW;
    e->short_circuit_gate = e->steps[e->winner].gate;
}

/* Degrade effects and the primary code on degrade/block (C.4). */
static med_rc finish_constraints(c_eval *e, med_err *err)
{
    for (size_t i = 0; i < e->n_steps; i++)
        if (e->steps[i].action == C_ACT_DEGRADE && e->steps[i].non_personalized_only)
            e->constraints.non_personalized_only = 1;
    if (e->final_action == C_ACT_DEGRADE || e->final_action == C_ACT_BLOCK)
        return c_constraints_add_reason(&e->constraints, e->primary_code, err);
    return MED_OK;
}

static void run_gates(const c_input *in, c_eval *e)
{
    const Mediation__V1__PolicyConstraintsLite *pc = in->snapshot->policy_constraints_lite;
    const Mediation__V1__CanonicalBlocks *b = in->msg->blocks;
    const Mediation__V1__PolicyContext *pol = b->policy_context;
    if (in->snapshot_expired) c_guard_snapshot_expired(&e->steps[e->n_steps++]);
    c_gate_compliance(pc->compliance_gate, b->opportunity_context, &e->steps[e->n_steps]);
    if (e->steps[e->n_steps++].action == C_ACT_BLOCK) return;
    c_gate_consent_auth(pc->consent_auth_gate, pol->consent_scope, &e->steps[e->n_steps]);
    if (e->steps[e->n_steps++].action == C_ACT_BLOCK) return;
    c_gate_frequency_cap(pc->frequency_cap_gate, in->frequency_count, &e->steps[e->n_steps]);
    if (e->steps[e->n_steps++].action == C_ACT_BLOCK) return;
    c_gate_category(pc->category_gate, pol->restricted_category_flags,
                    pol->n_restricted_category_flags, &e->steps[e->n_steps++]);
}

static void set_common(c_eval *e, const c_keys *keys, const char *from_state, int64_t now)
{
    e->keys = *keys;
    e->eval_start_ms = now;
    e->eval_end_ms = now;
    e->from_state = from_state && from_state[0] ? from_state : C_NA;
}

void c_decide_evaluate(const c_input *in, int64_t eval_now, c_eval *e)
{
    med_err err;
    med_err_clear(&err);
    set_common(e, &in->keys, in->msg->state, eval_now);
    e->snapshot = in->snapshot;
    if (c_constraints_build(in->snapshot, &e->constraints, &e->warnings, &err) != MED_OK) {
        c_decide_engine_error(in, eval_now, e);
        return;
    }
    run_gates(in, e);
    e->winner = c_decide_winner(e->steps, e->n_steps);
    derive_codes(e);
    map_action(e);
    if (finish_constraints(e, &err) != MED_OK) c_decide_engine_error(in, eval_now, e);
}

static void issue_from(c_eval *e, const c_keys *keys, const Mediation__V1__NormalizedOpportunity *m,
                       const med_err *why)
{
    e->has_issue = 1;
    e->issue.reason_code = e->primary_code;
    c_copy(e->issue.field_path, sizeof e->issue.field_path, why->field);
    /* The raw value is shown only where it is a plain scalar C read. */
    const char *raw = C_NA;
    if (m && strcmp(why->field, "state") == 0) raw = m->state;
    if (strcmp(why->field, "blocks.traceContext.attemptKey") == 0) raw = keys->attempt_key;
    c_copy(e->issue.raw_value, sizeof e->issue.raw_value, raw);
}

void c_decide_reject(const Mediation__V1__NormalizedOpportunity *msg, const c_keys *keys,
                     const med_err *why, int snapshot_valid, int64_t eval_now, c_eval *e)
{
    med_err err;
    med_err_clear(&err);
    c_constraints_free(&e->constraints);
    set_common(e, keys, msg ? msg->state : NULL, eval_now);
    e->snapshot = msg ? msg->policy_snapshot_lite : NULL;
    if (c_constraints_build(snapshot_valid ? e->snapshot : NULL, &e->constraints, &e->warnings,
                            &err) != MED_OK)
        (void)c_constraints_build(NULL, &e->constraints, &e->warnings, &err);
    memset(e->steps, 0, sizeof e->steps);
    e->n_steps = 1;
    e->winner = 0;
    c_gate_result *g = &e->steps[0];
    g->gate = C_GATE_INPUT_GUARD;
    g->action = C_ACT_REJECT;
    c_copy(g->rule_id, sizeof g->rule_id, "input_guard_rule");
    g->risk = C_RISK_HIGH;
    g->reason_code = why->code[0] ? med_reason_lookup(why->code) : NULL;
    if (!g->reason_code) g->reason_code = MED_R_C_POLICY_ENGINE_ERROR;
    e->is_routable = 0;
    e->policy_degraded = 0;
    derive_codes(e);
    map_action(e);
    issue_from(e, keys, msg, why);
}

void c_decide_engine_error(const c_input *in, int64_t eval_now, c_eval *e)
{
    med_err why;
    med_err_set(&why, MED_ERR_INTERNAL, MED_R_C_POLICY_ENGINE_ERROR, "", "policy engine error");
    if (!in->fail_open) {
        c_decide_reject(in->msg, &in->keys, &why, 1, eval_now, e);
        return;
    }
    med_err err;
    med_err_clear(&err);
    c_constraints_free(&e->constraints);
    set_common(e, &in->keys, in->msg->state, eval_now);
    e->snapshot = in->snapshot;
    if (c_constraints_build(in->snapshot, &e->constraints, &e->warnings, &err) != MED_OK)
        (void)c_constraints_build(NULL, &e->constraints, &e->warnings, &err);
    memset(e->steps, 0, sizeof e->steps);
    e->n_steps = 1;
    e->winner = 0;
    c_gate_result *g = &e->steps[0];
    g->gate = C_GATE_ENGINE_GUARD;
    g->action = C_ACT_DEGRADE;
    c_copy(g->rule_id, sizeof g->rule_id, "engine_guard_rule");
    g->risk = C_RISK_HIGH;
    g->reason_code = MED_R_C_POLICY_ENGINE_ERROR;
    g->non_personalized_only = 1;
    derive_codes(e);
    map_action(e);
    e->constraints.non_personalized_only = 1;
    /* Best effort: the code is also listed when memory allows. */
    (void)c_constraints_add_reason(&e->constraints, e->primary_code, &err);
}
