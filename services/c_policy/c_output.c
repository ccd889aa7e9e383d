#include "c_output.h"

#include <string.h>
#include "c_pb.h"
#include "med/names.h"

#define NEW(a, T, init) \
    T *p = med_arena_alloc((a), sizeof *p); \
    if (!p) return NULL; \
    init(p)

static const c_gate_result *winner(const c_eval *e)
{
    return &e->steps[e->winner];
}

static void set_versions(Mediation__V1__CPolicyDecisionLite *p, const c_eval *e)
{
    const Mediation__V1__PolicySnapshotLite *s = e->snapshot;
    p->policy_snapshot_id = c_pb_str(c_pb_version(s, s ? s->policy_snapshot_id : NULL));
    p->policy_snapshot_version = c_pb_str(c_pb_version(s, s ? s->policy_snapshot_version : NULL));
    p->policy_pack_version = c_pb_str(c_pb_version(s, s ? s->policy_pack_version : NULL));
    p->policy_rule_version = c_pb_str(c_pb_version(s, s ? s->policy_rule_version : NULL));
}

Mediation__V1__CPolicyDecisionLite *c_output_decision_lite(const c_out_ctx *c)
{
    const c_eval *e = c->e;
    NEW(c->arena, Mediation__V1__CPolicyDecisionLite, mediation__v1__cpolicy_decision_lite__init);
    p->keys = c_pb_keys(c->arena, &e->keys);
    p->final_policy_action = c_pb_str(c_action_name(e->final_action));
    p->is_routable = e->is_routable;
    p->policy_decision_reason_code = c_pb_str(e->primary_code);
    p->primary_policy_reason_code = c_pb_str(e->primary_code);
    p->secondary_policy_reason_codes = c_pb_strv(c->arena, e->secondary, e->n_secondary);
    p->n_secondary_policy_reason_codes = e->n_secondary;
    p->policy_conflict_reason_code = c_pb_str(e->conflict_code);
    p->winning_gate = c_pb_str(winner(e)->gate);
    p->winning_rule_id = c_pb_str(winner(e)->rule_id);
    p->short_circuit_action = c_pb_str(e->short_circuit_action);
    p->short_circuit_gate = c_pb_str(e->short_circuit_gate);
    p->short_circuit_reason_code = c_pb_str(e->primary_code);
    p->decision_timestamp_unix_ms = e->eval_end_ms;
    set_versions(p, e);
    p->constraints_lite = c_pb_constraints(c->arena, &e->constraints);
    p->ad_decision_lite = c_pb_ad_decision(c->arena, e);
    p->state_update = c_pb_state(c->arena, e);
    p->policy_warnings = c_pb_warnings(c->arena, e, c->msg, &p->n_policy_warnings);
    p->policy_degraded = e->policy_degraded;
    if (!p->keys || !p->secondary_policy_reason_codes || !p->constraints_lite ||
        !p->ad_decision_lite || !p->state_update || !p->policy_warnings)
        return NULL;
    return p;
}

static Mediation__V1__RoutableOpportunityLite *routable(const c_out_ctx *c)
{
    NEW(c->arena, Mediation__V1__RoutableOpportunityLite,
        mediation__v1__routable_opportunity_lite__init);
    p->keys = c_pb_keys(c->arena, &c->e->keys);
    p->blocks = c->msg->blocks;
    p->constraints_lite = c_pb_constraints(c->arena, &c->e->constraints);
    p->policy_degraded = c->e->policy_degraded;
    p->ad_decision_lite = c_pb_ad_decision(c->arena, c->e);
    return p->keys && p->constraints_lite && p->ad_decision_lite ? p : NULL;
}

Mediation__V1__PolicyDecision *c_output_policy_decision(
    const c_out_ctx *c, Mediation__V1__PolicyAuditSnapshotLite *audit)
{
    const Mediation__V1__NormalizedOpportunity *m = c->msg;
    NEW(c->arena, Mediation__V1__PolicyDecision, mediation__v1__policy_decision__init);
    p->trace = c->trace;
    p->c_policy_decision_lite = c_output_decision_lite(c);
    p->routable_opportunity_lite = routable(c);
    p->policy_audit_snapshot_lite = audit;
    /* Pass-through (00 decision 2): copied to D unread. */
    p->routing_context_lite = m->routing_context_lite;
    p->config_snapshot_lite = m->config_snapshot_lite;
    p->version_anchor_snapshot = m->version_anchor_snapshot;
    p->schema_version = c_pb_str(m->schema_version);
    p->d_input_contract_version = c_pb_str(C_D_INPUT_CONTRACT_V1);
    p->normalization_summary = m->normalization_summary;
    p->placement_spec_lite = m->placement_spec_lite;
    p->device_capabilities_lite = m->device_capabilities_lite;
    return p->c_policy_decision_lite && p->routable_opportunity_lite ? p : NULL;
}

static Mediation__V1__PolicyBlockedResultLite *blocked_result(const c_out_ctx *c)
{
    const c_eval *e = c->e;
    NEW(c->arena, Mediation__V1__PolicyBlockedResultLite,
        mediation__v1__policy_blocked_result_lite__init);
    p->keys = c_pb_keys(c->arena, &e->keys);
    p->final_policy_action = c_pb_str(c_action_name(e->final_action));
    p->no_ad_reason_code = c_pb_str(e->primary_code);
    p->winning_gate = c_pb_str(winner(e)->gate);
    p->winning_rule_id = c_pb_str(winner(e)->rule_id);
    p->constraints_lite = c_pb_constraints(c->arena, &e->constraints);
    p->ad_decision_lite = c_pb_ad_decision(c->arena, e);
    p->primary_policy_reason_code = c_pb_str(e->primary_code);
    p->state_update = c_pb_state(c->arena, e);
    return p->keys && p->constraints_lite && p->ad_decision_lite && p->state_update ? p : NULL;
}

static Mediation__V1__UpstreamTerminalLite *terminal(med_arena *a, const char *stage,
                                                     const char *action, const char *code,
                                                     char **secondary, size_t n_secondary,
                                                     const char *hint)
{
    NEW(a, Mediation__V1__UpstreamTerminalLite, mediation__v1__upstream_terminal_lite__init);
    p->stage = c_pb_str(stage);
    p->decision_action = c_pb_str(action);
    p->reason_code = c_pb_str(code);
    p->error_action = c_pb_str(action);
    p->secondary_reason_codes = secondary;
    p->n_secondary_reason_codes = n_secondary;
    p->delivery_status_hint = c_pb_str(hint);
    p->retryable = 0;
    return p;
}

/* E's placement/device inputs travel with a terminal too, so E can shape
 * the no-fill Delivery for the placement. */
static Mediation__V1__EComposeInputLite *compose_placeholders(const c_out_ctx *c,
                                                              const char *source)
{
    NEW(c->arena, Mediation__V1__EComposeInputLite, mediation__v1__ecompose_input_lite__init);
    Mediation__V1__ComposeContextLite *ctx = med_arena_alloc(c->arena, sizeof *ctx);
    if (!ctx) return NULL;
    mediation__v1__compose_context_lite__init(ctx);
    ctx->compose_source_opt_case = MEDIATION__V1__COMPOSE_CONTEXT_LITE__COMPOSE_SOURCE_OPT_COMPOSE_SOURCE;
    ctx->compose_source = c_pb_str(source);
    ctx->compose_request_at_unix_ms_opt_case =
        MEDIATION__V1__COMPOSE_CONTEXT_LITE__COMPOSE_REQUEST_AT_UNIX_MS_OPT_COMPOSE_REQUEST_AT_UNIX_MS;
    ctx->compose_request_at_unix_ms = c->now_ms;
    p->compose_context_lite = ctx;
    if (c->msg) {
        p->placement_spec_lite = c->msg->placement_spec_lite;
        p->device_capabilities_lite = c->msg->device_capabilities_lite;
    }
    return p;
}

static Mediation__V1__ComposeInput *compose(const c_out_ctx *c, const char *source)
{
    NEW(c->arena, Mediation__V1__ComposeInput, mediation__v1__compose_input__init);
    p->trace = c->trace;
    p->compose_source = c_pb_str(source);
    p->e_compose_input_lite = compose_placeholders(c, source);
    p->version_anchor_snapshot = c->msg ? c->msg->version_anchor_snapshot : NULL;
    p->published_at_unix_ms = c->now_ms;
    return p->e_compose_input_lite ? p : NULL;
}

Mediation__V1__ComposeInput *c_output_compose_block(const c_out_ctx *c)
{
    const c_eval *e = c->e;
    Mediation__V1__ComposeInput *ci = compose(c, C_COMPOSE_SOURCE_BLOCK);
    if (!ci) return NULL;
    ci->policy_blocked_result_lite = blocked_result(c);
    int block = e->final_action == C_ACT_BLOCK;
    char **sec = c_pb_strv(c->arena, e->secondary, e->n_secondary);
    if (!sec) return NULL;
    /* 00 decision 1: a policy block is a no_fill Delivery; a reject is an
     * error. */
    ci->upstream_terminal = terminal(c->arena, MED_STAGE_C, c_action_name(e->final_action),
                                     e->primary_code, sec, e->n_secondary,
                                     block ? "no_fill" : "error");
    return ci->policy_blocked_result_lite && ci->upstream_terminal ? ci : NULL;
}

Mediation__V1__ComposeInput *c_output_compose_b_reject(const c_out_ctx *c, const c_keys *keys)
{
    const Mediation__V1__NormalizedOpportunity *m = c->msg;
    Mediation__V1__ComposeInput *ci = compose(c, C_COMPOSE_SOURCE_B_REJECT);
    Mediation__V1__PolicyBlockedResultLite *r = med_arena_alloc(c->arena, sizeof *r);
    if (!ci || !r) return NULL;
    mediation__v1__policy_blocked_result_lite__init(r);
    r->keys = c_pb_keys(c->arena, keys);
    r->final_policy_action = c_pb_str("reject");
    r->no_ad_reason_code = c_pb_str(m->reason_code);
    r->forwarded_b_reject = 1;
    r->b_reason_code = c_pb_str(m->reason_code);
    ci->policy_blocked_result_lite = r;
    ci->upstream_terminal = terminal(c->arena, MED_STAGE_B, "reject", m->reason_code,
                                     m->secondary_reason_codes, m->n_secondary_reason_codes,
                                     "error");
    return r->keys && ci->upstream_terminal ? ci : NULL;
}

static Mediation__V1__ReasonCode *reason(med_arena *a, const c_gate_result *g, const char *rule_version)
{
    NEW(a, Mediation__V1__ReasonCode, mediation__v1__reason_code__init);
    p->code = c_pb_str(g->reason_code);
    p->stage = c_pb_str(MED_STAGE_C);
    p->action = c_pb_str(c_action_name(g->action));
    p->message = c_pb_str(g->gate);
    p->rule_version = c_pb_str(rule_version);
    return p;
}

static int audit_decision(const c_out_ctx *c, Mediation__V1__StageAudit *sa)
{
    const c_eval *e = c->e;
    const Mediation__V1__PolicySnapshotLite *s = e->snapshot;
    const char *rv = c_pb_version(s, s ? s->policy_rule_version : NULL);
    sa->primary_reason_code = c_pb_str(e->primary_code);
    sa->decision_action = c_pb_str(c_action_name(e->final_action));
    sa->secondary_reason_codes = c_pb_strv(c->arena, e->secondary, e->n_secondary);
    sa->n_secondary_reason_codes = e->n_secondary;
    sa->reason_codes = med_arena_alloc(c->arena, (e->n_steps ? e->n_steps : 1) * sizeof *sa->reason_codes);
    if (!sa->secondary_reason_codes || !sa->reason_codes) return 0;
    for (size_t i = 0; i < e->n_steps; i++)
        if (!(sa->reason_codes[sa->n_reason_codes++] = reason(c->arena, &e->steps[i], rv))) return 0;
    sa->started_at_unix_ms = e->eval_start_ms;
    sa->finished_at_unix_ms = e->eval_end_ms;
    return 1;
}

Mediation__V1__StageAudit *c_output_stage_audit(const c_out_ctx *c,
                                                Mediation__V1__PolicyAuditSnapshotLite *audit,
                                                const char *audit_id, const char *instance)
{
    const Mediation__V1__NormalizedOpportunity *m = c->msg;
    NEW(c->arena, Mediation__V1__StageAudit, mediation__v1__stage_audit__init);
    p->trace = c->trace;
    p->stage = c_pb_str(MED_STAGE_C);
    p->kind = c_pb_str("decision");
    p->version_anchor_snapshot = m ? m->version_anchor_snapshot : NULL;
    p->anchor_hash = c_pb_str(p->version_anchor_snapshot ? p->version_anchor_snapshot->anchor_hash
                              : c->trace ? c->trace->anchor_hash : NULL);
    p->emitted_at_unix_ms = c->now_ms;
    p->audit_id = c_pb_str(audit_id);
    p->instance = c_pb_str(instance);
    if (c->e) {
        if (!audit_decision(c, p)) return NULL;
        p->snapshot_case = MEDIATION__V1__STAGE_AUDIT__SNAPSHOT_C_AUDIT;
        p->c_audit = audit;
    } else {
        /* Forwarded B reject: B's code, no C decision. */
        p->primary_reason_code = c_pb_str(m ? m->reason_code : NULL);
        p->decision_action = c_pb_str("forward_b_reject");
        p->started_at_unix_ms = p->finished_at_unix_ms = c->now_ms;
    }
    return p;
}
