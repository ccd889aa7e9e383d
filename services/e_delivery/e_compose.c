#include "e_compose.h"

#include <string.h>

#include "med/reason.h"

static const char *tc_field(const Mediation__V1__TraceContext *tc, int which)
{
    if (!tc) return NULL;
    switch (which) {
    case 0: return tc->trace_key;
    case 1: return tc->request_key;
    case 2: return tc->attempt_key;
    default: return tc->opportunity_key;
    }
}

/* dToE keys first (the Delivery's own keys), then the trace context, A's
 * trace init (first request's keys on a duplicate), C's keys, headers. */
static void pick_keys(const Mediation__V1__ComposeInput *ci, const e_header_keys *hk, e_keys *out)
{
    const Mediation__V1__DToEOutputLite *d =
        ci && ci->e_compose_input_lite ? ci->e_compose_input_lite->d_to_e_output_lite : NULL;
    const Mediation__V1__TraceContext *tc = ci ? ci->trace : NULL;
    const Mediation__V1__TraceInitLite *ti =
        ci && ci->a_trigger_sync_result_lite ? ci->a_trigger_sync_result_lite->trace_init_lite : NULL;
    const Mediation__V1__TraceKeys *ck =
        ci && ci->policy_blocked_result_lite ? ci->policy_blocked_result_lite->keys : NULL;
    const char *t[] = { d ? d->trace_key : NULL, tc_field(tc, 0), ti ? ti->trace_key : NULL,
                        ck ? ck->trace_key : NULL, hk ? hk->trace_key : NULL };
    const char *r[] = { d ? d->request_key : NULL, tc_field(tc, 1), ti ? ti->request_key : NULL,
                        ck ? ck->request_key : NULL, hk ? hk->request_key : NULL };
    const char *a[] = { d ? d->attempt_key : NULL, tc_field(tc, 2), ti ? ti->attempt_key : NULL,
                        ck ? ck->attempt_key : NULL, NULL };
    const char *o[] = { d ? d->opportunity_key : NULL, tc_field(tc, 3), ti ? ti->opportunity_key : NULL,
                        ck ? ck->opportunity_key : NULL, hk ? hk->opportunity_key : NULL };
    e_keys_pick(out, t, r, a, o, 5);
}

static int is(const char *s, const char *v)
{
    return s && strcmp(s, v) == 0;
}

/* ---- terminal inputs (A, B, C decided before D) ---- */

static const char *first_code(const char *a, const char *b, const char *c)
{
    if (!e_blank(a)) return a;
    if (!e_blank(b)) return b;
    return e_blank(c) ? NULL : c;
}

static void decide_a_terminal(const Mediation__V1__ComposeInput *ci, e_outcome *o)
{
    const Mediation__V1__ATriggerSyncResultLite *a = ci->a_trigger_sync_result_lite;
    const Mediation__V1__UpstreamTerminalLite *u = ci->upstream_terminal;
    const char *code = first_code(a ? a->reason_code : NULL, u ? u->reason_code : NULL, NULL);
    o->upstream_code = code;
    const char *hint = u ? u->delivery_status_hint : NULL;
    int is_error = is(hint, E_STATUS_ERROR) ||
                   (!is(hint, E_STATUS_NO_FILL) && a && is(a->trigger_action, "reject"));
    if (is_error)
        e_decision_add(&o->dec, "upstream", E_ACT_TERMINAL, code, MED_R_E_ER_UPSTREAM_ERROR);
    else if (is(code, MED_R_A_TRG_MAP_BLOCKED_BY_POLICY) || (u && is(u->decision_action, "block")))
        e_decision_add(&o->dec, "upstream", E_ACT_BLOCK, code, MED_R_E_NF_POLICY_BLOCKED);
    else
        e_decision_add(&o->dec, "upstream", E_ACT_PASS_THROUGH, code, MED_R_E_NF_NO_CANDIDATE_INPUT);
}

static void decide_b_reject(const Mediation__V1__ComposeInput *ci, e_outcome *o)
{
    const Mediation__V1__UpstreamTerminalLite *u = ci->upstream_terminal;
    o->upstream_code = u && !e_blank(u->reason_code) ? u->reason_code : NULL;
    e_decision_add(&o->dec, "upstream", E_ACT_TERMINAL, o->upstream_code, MED_R_E_ER_UPSTREAM_ERROR);
}

/* C's code: a block maps per E.8, a C reject or a forwarded B reject is an
 * upstream error, any other block is a policy block (00 decision 1). */
static void decide_c_block(const Mediation__V1__ComposeInput *ci, e_outcome *o)
{
    const Mediation__V1__PolicyBlockedResultLite *p = ci->policy_blocked_result_lite;
    const Mediation__V1__UpstreamTerminalLite *u = ci->upstream_terminal;
    const Mediation__V1__DToEOutputLite *d =
        ci->e_compose_input_lite ? ci->e_compose_input_lite->d_to_e_output_lite : NULL;
    const char *route_code = d && d->route_conclusion ? d->route_conclusion->final_reason_code : NULL;
    if (p && p->forwarded_b_reject) {
        o->upstream_code = first_code(p->b_reason_code, u ? u->reason_code : NULL, NULL);
        e_decision_add(&o->dec, "upstream", E_ACT_TERMINAL, o->upstream_code, MED_R_E_ER_UPSTREAM_ERROR);
        return;
    }
    const char *code = first_code(p ? p->primary_policy_reason_code : NULL, p ? p->no_ad_reason_code : NULL,
                                  first_code(u ? u->reason_code : NULL, route_code, NULL));
    o->upstream_code = code;
    const char *canon = e_canonical_of(code);
    if (is(canon, MED_R_E_ER_UPSTREAM_ERROR) || (p && is(p->final_policy_action, "reject")))
        e_decision_add(&o->dec, "upstream", E_ACT_TERMINAL, code, MED_R_E_ER_UPSTREAM_ERROR);
    else
        e_decision_add(&o->dec, "upstream", E_ACT_BLOCK, code,
                       strncmp(canon, "e_nf_", 5) == 0 ? canon : MED_R_E_NF_POLICY_BLOCKED);
}

/* A terminal input has no route: its upstream decision stands in for one,
 * so the Delivery passes it through (E.9 "no_fill or error: unchanged"). */
static void terminal_route(e_outcome *o)
{
    const char *canon = o->dec.n_actions ? o->dec.actions[o->dec.n_actions - 1].canonical : "";
    o->dec.route_outcome = strncmp(canon, "e_er_", 5) == 0 ? "error" : "no_fill";
    o->dec.route_final_code = o->upstream_code ? o->upstream_code : E_NONE;
}

/* ---- d_route ---- */

static void add_route_actions(e_outcome *o)
{
    if (o->in.served) return;
    if (is(o->in.route_outcome, "error"))
        e_decision_add(&o->dec, "input", E_ACT_TERMINAL,
                       e_blank(o->in.route_final_code) ? o->in.route_outcome : o->in.route_final_code,
                       MED_R_E_ER_UPSTREAM_ERROR);
    else
        e_decision_add(&o->dec, "input", E_ACT_PASS_THROUGH, MED_R_E_NO_CANDIDATE_INPUT,
                       MED_R_E_NF_NO_CANDIDATE_INPUT);
}

static void add_gate_actions(e_outcome *o)
{
    const e_gate *g = &o->gate;
    if (g->n_eligible == 0) {
        e_decision_add(&o->dec, "gate", E_ACT_DEGRADE, g->final_gate_code, MED_R_E_NF_CAPABILITY_GATE_REJECTED);
        return;
    }
    for (int i = 0; i < g->n_chain && g->chain[i] != g->eligible[0]; i++) {
        const e_mode_eval *ev = e_gate_eval_of(g, g->chain[i]);
        e_decision_add(&o->dec, "gate", E_ACT_DEGRADE, ev->reason_code, E_NONE);
    }
}

static void add_validation_actions(e_outcome *o)
{
    const e_validation *v = &o->val;
    for (int i = 0; i < v->n_stages; i++) {
        const e_stage_rec *s = &v->stages[i];
        if (strcmp(s->action, E_ACTION_DEGRADE) == 0)
            e_decision_add(&o->dec, s->stage_name, E_ACT_DEGRADE, s->reason_code, E_NONE);
        else if (strcmp(s->action, E_ACTION_BLOCK) == 0)
            e_decision_add(&o->dec, s->stage_name,
                           strcmp(s->stage_name, E_STAGE_MATERIAL) == 0 ? E_ACT_DROP : E_ACT_BLOCK,
                           s->reason_code, e_canonical_of(s->reason_code));
    }
    if (v->mode == E_MODE_NONE && o->in.served)
        e_decision_add(&o->dec, "consumption", E_ACT_DROP, v->consumption_code,
                       MED_R_E_NF_ALL_CANDIDATE_REJECTED);
}

static void decide_routed(const Mediation__V1__ComposeInput *ci, int64_t now_ms, e_outcome *o)
{
    med_err err;
    med_err_clear(&err);
    const Mediation__V1__EComposeInputLite *lite = ci ? ci->e_compose_input_lite : NULL;
    int is_c = is(o->compose_source, E_SOURCE_C_POLICY_BLOCK);
    o->input_ok = e_input_check(lite, now_ms, &o->in, &err) == MED_OK;
    o->warnings = o->in.warnings;
    e_ui_resolve(o->in.placement, &o->ui);
    e_decision_init(&o->dec, o->in.route_outcome, o->in.route_final_code);
    if (!o->input_ok) {
        const char *raw = med_reason_lookup(err.code);
        e_decision_add(&o->dec, "input", E_ACT_TERMINAL, raw, e_canonical_of(raw));
    }
    if (is_c) {
        decide_c_block(ci, o);
        return;
    }
    if (!o->input_ok) return;
    o->upstream_code = e_blank(o->in.route_final_code) ? NULL : o->in.route_final_code;
    e_gate_evaluate(&o->in, &o->gate);
    e_validate(&o->in, &o->gate, &o->ui, &o->val);
    add_route_actions(o);
    if (!o->in.served) return;
    add_gate_actions(o);
    add_validation_actions(o);
    if (o->val.mode != E_MODE_NONE && !e_plan_tracking_ok(o->response_reference, o->keys.trace_key))
        e_decision_add(&o->dec, "tracking", E_ACT_TERMINAL, MED_R_E_TRACKING_INJECTION_MISSING,
                       MED_R_E_ER_TRACKING_CONTRACT_BROKEN);
}

void e_compose(const Mediation__V1__ComposeInput *ci, const e_header_keys *hk, int64_t now_ms,
               e_outcome *out)
{
    memset(out, 0, sizeof *out);
    out->decided_at_ms = now_ms;
    out->val.mode = E_MODE_NONE;
    out->container.mode = E_MODE_NONE;
    pick_keys(ci, hk, &out->keys);
    e_response_reference(&out->keys, out->response_reference);
    out->compose_source = ci && !e_blank(ci->compose_source) ? ci->compose_source : E_SOURCE_D_ROUTE;
    e_decision_init(&out->dec, NULL, NULL);
    if (!ci) {
        e_decision_add(&out->dec, "input", E_ACT_TERMINAL, MED_R_E_COMPOSE_INVALID_STRUCTURE,
                       MED_R_E_ER_INVALID_COMPOSE_INPUT);
    } else if (is(out->compose_source, E_SOURCE_A_TERMINAL)) {
        decide_a_terminal(ci, out);
        terminal_route(out);
    } else if (is(out->compose_source, E_SOURCE_B_REJECT)) {
        decide_b_reject(ci, out);
        terminal_route(out);
    } else if (is(out->compose_source, E_SOURCE_C_POLICY_BLOCK) &&
               (!ci->e_compose_input_lite || !ci->e_compose_input_lite->d_to_e_output_lite)) {
        /* C never routes: a block without a route part is decided on the
         * block result alone; one that carries a route part is checked. */
        decide_c_block(ci, out);
        terminal_route(out);
    } else {
        decide_routed(ci, now_ms, out);
    }
    if (!out->input_ok) {
        out->in.compose_request_at_ms = now_ms;
        out->in.render_ttl_ms = E_DEFAULT_RENDER_TTL_MS;
    }
    e_decision_finish(&out->dec, out->val.mode != E_MODE_NONE);
    e_mode used = strcmp(out->dec.status, E_STATUS_SERVED) == 0 ? out->val.mode : E_MODE_NONE;
    if (used != E_MODE_NONE) e_plan_container(used, &out->in, &out->ui, &out->container);
    e_plan_ttl(out->in.compose_request_at_ms, out->in.render_ttl_ms, &out->ttl, &out->warnings);
}
