/* D.8 routeAuditSnapshotLite and D's stage audit body (plan, source
 * requests, traces, outcomes, mapping records). */
#include <stdio.h>
#include <string.h>
#include "d_names.h"
#include "d_output_int.h"
#include "med/reason.h"

#define ARR(a, T, n) ((T *)med_arena_alloc((a), ((n) ? (n) : 1) * sizeof(T)))

static Mediation__V1__RoutingHitSnapshotLite *hit_snapshot(med_arena *a, const d_output_in *in)
{
    const d_run *r = in->run;
    Mediation__V1__RoutingHitSnapshotLite *h =
        NEW(a, Mediation__V1__RoutingHitSnapshotLite, mediation__v1__routing_hit_snapshot_lite__init);
    if (!h) return NULL;
    int served = r->end == D_END_SERVED && r->winners.n;
    h->route_plan_id = S(a, d_out_plan_id(in));
    h->strategy_type = S(a, in->strategy ? in->strategy->strategy_type
                                         : d_strategy_name(in->ctx->strategy.type));
    h->hit_route_tier = S(a, d_tier_name(served ? r->final_tier : r->last_tier_sent));
    h->hit_source_id = S(a, d_run_final_source(r));
    h->hit_step_index = served ? r->hit_step_index : 0;
    return h;
}

static Mediation__V1__SourceFilterSnapshotLite *filter_snapshot(med_arena *a, const d_output_in *in)
{
    Mediation__V1__SourceFilterSnapshotLite *f = NEW(a, Mediation__V1__SourceFilterSnapshotLite,
                                                     mediation__v1__source_filter_snapshot_lite__init);
    if (!f) return NULL;
    const d_constraints *c = in->ctx->constraints;
    const d_plan *p = in->plan;
    f->source_selection_mode = S(a, d_selection_mode_name(c ? c->mode : D_SEL_ALL_EXCEPT_BLOCKED));
    f->allowed_source_ids = d_out_strs(a, c ? &c->allowed : NULL, &f->n_allowed_source_ids);
    f->blocked_source_ids = d_out_strs(a, c ? &c->blocked : NULL, &f->n_blocked_source_ids);
    f->filtered_out_source_ids = d_out_strs(a, p ? &p->filtered_out : NULL, &f->n_filtered_out_source_ids);
    f->ineligible_source_ids = d_out_strs(a, p ? &p->ineligible : NULL, &f->n_ineligible_source_ids);
    f->not_planned_source_ids = d_out_strs(a, p ? &p->not_planned : NULL, &f->n_not_planned_source_ids);
    f->effective_source_pool_ids =
        d_out_strs(a, p ? &p->effective_pool : NULL, &f->n_effective_source_pool_ids);
    return f;
}

static Mediation__V1__RouteSwitchesLite *switches(med_arena *a, const d_run *r)
{
    Mediation__V1__RouteSwitchesLite *s =
        NEW(a, Mediation__V1__RouteSwitchesLite, mediation__v1__route_switches_lite__init);
    if (!s) return NULL;
    s->switch_events = ARR(a, Mediation__V1__RouteSwitchEventLite *, r->n_switches);
    for (int i = 0; s->switch_events && i < r->n_switches; i++) {
        Mediation__V1__RouteSwitchEventLite *e =
            NEW(a, Mediation__V1__RouteSwitchEventLite, mediation__v1__route_switch_event_lite__init);
        if (!e) return NULL;
        e->from_source_id = S(a, r->switches[i].from);
        e->to_source_id = S(a, r->switches[i].to);
        e->switch_reason_code = S(a, r->switches[i].reason);
        e->switch_at_unix_ms = r->switches[i].at_unix_ms;
        s->switch_events[s->n_switch_events++] = e;
    }
    s->switch_count = (int32_t)s->n_switch_events;
    return s;
}

static Mediation__V1__DispatchRecordLite *dispatch_record(med_arena *a, const d_output_in *in,
                                                          const d_attempt *at)
{
    Mediation__V1__DispatchRecordLite *d =
        NEW(a, Mediation__V1__DispatchRecordLite, mediation__v1__dispatch_record_lite__init);
    if (!d) return NULL;
    const d_outcome *o = &at->outcome;
    d->step_index = o->step_index;
    d->route_hop = at->route_hop;
    d->source_id = S(a, d_out_source_name(in->ctx, o->source));
    d->source_request_id = S(a, at->source_request_id);
    d->timeout_budget_ms = at->timeout_budget_ms;
    d->budget_before_ms = at->budget_before_ms;
    d->budget_after_ms = at->budget_after_ms;
    d->outcome_type = S(a, d_outcome_type_name(o->type));
    d->retry_class = S(a, o->retryable ? "retryable" : "non_retryable");
    d->reason_code = S(a, o->reason_code);
    d->route_action = S(a, d_route_action_name(o->action));
    d->elapsed_ms = o->elapsed_ms;
    return d;
}

static Mediation__V1__TieBreakSnapshotLite *tie_break(med_arena *a, const d_output_in *in)
{
    Mediation__V1__TieBreakSnapshotLite *t =
        NEW(a, Mediation__V1__TieBreakSnapshotLite, mediation__v1__tie_break_snapshot_lite__init);
    if (!t || !in->plan) return t;
    const d_plan *p = in->plan;
    t->entries = ARR(a, Mediation__V1__TieBreakEntryLite *, p->n_tiebreak);
    for (int i = 0; t->entries && i < p->n_tiebreak; i++) {
        const d_source *s = &in->ctx->reg->sources[p->tiebreak[i].source];
        Mediation__V1__TieBreakEntryLite *e =
            NEW(a, Mediation__V1__TieBreakEntryLite, mediation__v1__tie_break_entry_lite__init);
        if (!e) return NULL;
        e->source_id = S(a, s->source_id);
        e->route_tier = S(a, d_tier_name(s->route_tier));
        e->source_priority_score = s->priority_score;
        e->historical_success_rate = s->success_rate;
        if (s->has_p95) {
            e->p95_latency_ms_opt_case = MEDIATION__V1__TIE_BREAK_ENTRY_LITE__P95_LATENCY_MS_OPT_P95_LATENCY_MS;
            e->p95_latency_ms = s->p95_latency_ms;
        }
        if (s->has_cost) {
            e->cost_weight_opt_case = MEDIATION__V1__TIE_BREAK_ENTRY_LITE__COST_WEIGHT_OPT_COST_WEIGHT;
            e->cost_weight = s->cost_weight;
        }
        e->rank = p->tiebreak[i].rank;
        t->entries[t->n_entries++] = e;
    }
    return t;
}

static Mediation__V1__RouteShortCircuitSnapshotLite *short_circuit(med_arena *a, const d_output_in *in)
{
    Mediation__V1__RouteShortCircuitSnapshotLite *s = NEW(a, Mediation__V1__RouteShortCircuitSnapshotLite,
                                                          mediation__v1__route_short_circuit_snapshot_lite__init);
    if (!s) return NULL;
    d_end_view e = d_out_end(in->run);
    s->route_plan_id = S(a, d_out_plan_id(in));
    s->trigger_step_index = in->run->trigger_step_index;
    s->action = S(a, e.action);
    s->code = S(a, e.sc_code);
    s->budget_before_ms = in->run->sc_budget_before;
    s->budget_after_ms = in->run->sc_budget_after;
    s->rule_version = S(a, D_ROUTE_PLAN_RULE_VERSION);
    return s;
}

static Mediation__V1__RouteVersionSnapshotLite *versions(med_arena *a, const d_output_in *in)
{
    Mediation__V1__RouteVersionSnapshotLite *v = NEW(a, Mediation__V1__RouteVersionSnapshotLite,
                                                     mediation__v1__route_version_snapshot_lite__init);
    if (!v) return NULL;
    const d_ctx *c = in->ctx;
    v->routing_policy_version = S(a, c->routing_policy_version);
    v->fallback_profile_version = S(a, c->fallback_profile_version);
    v->adapter_registry_version = S(a, c->reg ? c->reg->registry_version : "NA");
    v->route_plan_rule_version = S(a, D_ROUTE_PLAN_RULE_VERSION);
    v->execution_strategy_version = S(a, c->strategy.version);
    v->config_snapshot_lite = d_out_config(a, c);
    return v;
}

Mediation__V1__RouteAuditSnapshotLite *d_out_route_audit(med_arena *a, const d_output_in *in)
{
    const d_run *r = in->run;
    Mediation__V1__RouteAuditSnapshotLite *au = NEW(a, Mediation__V1__RouteAuditSnapshotLite,
                                                    mediation__v1__route_audit_snapshot_lite__init);
    Mediation__V1__FinalRouteDecisionLite *fd = NEW(a, Mediation__V1__FinalRouteDecisionLite,
                                                    mediation__v1__final_route_decision_lite__init);
    Mediation__V1__RouteSnapshotMetaLite *meta =
        NEW(a, Mediation__V1__RouteSnapshotMetaLite, mediation__v1__route_snapshot_meta_lite__init);
    if (!au || !fd || !meta) return NULL;
    au->trace_keys = d_out_keys(a, in->ctx);
    au->routing_hit_snapshot = hit_snapshot(a, in);
    au->source_filter_snapshot = filter_snapshot(a, in);
    au->route_switches = switches(a, r);
    fd->final_source_id = S(a, d_run_final_source(r));
    fd->final_route_tier = S(a, d_tier_name(r->final_tier));
    fd->final_outcome = S(a, d_out_end(r).outcome);
    fd->final_reason_code = S(a, r->final_code);
    fd->selected_at_unix_ms = in->now_unix_ms;
    au->final_route_decision = fd;
    au->dispatch_records = ARR(a, Mediation__V1__DispatchRecordLite *, r->n_attempts);
    for (int i = 0; au->dispatch_records && i < r->n_attempts; i++)
        au->dispatch_records[au->n_dispatch_records++] = dispatch_record(a, in, &r->attempts[i]);
    au->short_circuit_snapshot = short_circuit(a, in);
    au->tie_break_snapshot = tie_break(a, in);
    au->version_snapshot = versions(a, in);
    meta->route_audit_schema_version = S(a, D_ROUTE_AUDIT_SCHEMA_VERSION);
    meta->generated_at_unix_ms = in->now_unix_ms;
    au->snapshot_meta = meta;
    return au;
}

static Mediation__V1__WarningLite *warning(med_arena *a, const char *code, const char *field,
                                           const char *orig, const char *corrected)
{
    Mediation__V1__WarningLite *w = NEW(a, Mediation__V1__WarningLite, mediation__v1__warning_lite__init);
    if (!w) return NULL;
    w->reason_code = S(a, code);
    w->field_path = S(a, field);
    w->action = S(a, "degrade");
    w->original_value = S(a, orig);
    w->corrected_value = S(a, corrected);
    w->rule_version = S(a, D_ROUTE_PLAN_RULE_VERSION);
    return w;
}

Mediation__V1__WarningLite **d_out_warnings(med_arena *a, const d_output_in *in, size_t *n)
{
    const d_run *r = in->run;
    Mediation__V1__WarningLite **w = ARR(a, Mediation__V1__WarningLite *, 1 + r->n_attempts);
    *n = 0;
    if (!w) return NULL;
    if (in->budget_corrected)
        w[(*n)++] = warning(a, MED_R_D_INVALID_ROUTE_BUDGET_CORRECTED, "routingContextLite.routeBudgetMs",
                            "<=0", med_arena_printf(a, "%lld", (long long)in->ctx->route_budget_ms));
    for (int i = 0; i < r->n_attempts; i++)
        if (r->attempts[i].outcome.conflict_resolved)
            w[(*n)++] = warning(a, MED_R_D_ERROR_MAPPING_CONFLICT_RESOLVED, "nbr",
                                d_out_source_name(in->ctx, r->attempts[i].outcome.source), "bids");
    return w;
}

static Mediation__V1__RoutePlanLite *plan_lite(med_arena *a, const d_output_in *in)
{
    const d_plan *p = in->plan;
    Mediation__V1__RoutePlanLite *pl =
        NEW(a, Mediation__V1__RoutePlanLite, mediation__v1__route_plan_lite__init);
    if (!pl || !p) return pl;
    const d_ctx *c = in->ctx;
    pl->route_plan_id = S(a, p->route_plan_id);
    pl->keys = d_out_keys(a, c);
    pl->routing_policy_version = S(a, c->routing_policy_version);
    pl->fallback_profile_version = S(a, c->fallback_profile_version);
    pl->config_snapshot_lite = d_out_config(a, c);
    pl->execution_strategy_lite = (Mediation__V1__ExecutionStrategyLite *)in->strategy;
    pl->route_steps = ARR(a, Mediation__V1__RouteStepLite *, p->n_steps);
    for (int i = 0; pl->route_steps && i < p->n_steps; i++) {
        const d_step *st = &p->steps[i];
        Mediation__V1__RouteStepLite *s =
            NEW(a, Mediation__V1__RouteStepLite, mediation__v1__route_step_lite__init);
        if (!s) return NULL;
        s->step_index = st->step_index;
        s->route_tier = S(a, d_tier_name(st->tier));
        s->source_id = S(a, d_out_source_name(c, st->source));
        s->entry_condition = S(a, st->entry_condition);
        s->timeout_budget_ms = st->timeout_budget_ms;
        s->max_retry_count = st->max_retry_count;
        s->dispatch_mode = S(a, st->batch_index ? "parallel_batch" : "sequential");
        s->step_status = S(a, d_step_status_name(st->status));
        s->batch_index = st->batch_index;
        pl->route_steps[pl->n_route_steps++] = s;
    }
    pl->planned_at_unix_ms = in->run->start_unix_ms;
    pl->route_plan_status = S(a, p->terminated ? "terminated" : "completed");
    return pl;
}

static Mediation__V1__SourceTraceLite *source_trace(med_arena *a, const d_output_in *in,
                                                    const d_attempt *at)
{
    Mediation__V1__SourceTraceLite *t =
        NEW(a, Mediation__V1__SourceTraceLite, mediation__v1__source_trace_lite__init);
    if (!t) return NULL;
    t->source_id = S(a, d_out_source_name(in->ctx, at->outcome.source));
    t->source_request_id = S(a, at->source_request_id);
    t->route_hop = at->route_hop;
    t->sent_at_unix_ms = at->sent_at_unix_ms;
    t->transport_status = S(a, d_transport_name(at->outcome.transport));
    t->http_status = at->outcome.http_status;
    t->elapsed_ms = at->outcome.elapsed_ms;
    t->network_phase = S(a, at->sent ? "response" : "not_sent");
    t->response_bytes = at->response_bytes;
    t->reason_code = S(a, at->outcome.reason_code);
    t->deadline_unix_ms = at->deadline_unix_ms;
    return t;
}

static Mediation__V1__NormalizedSourceOutcomeLite *outcome(med_arena *a, const d_output_in *in,
                                                           const d_attempt *at)
{
    Mediation__V1__NormalizedSourceOutcomeLite *o = NEW(a, Mediation__V1__NormalizedSourceOutcomeLite,
                                                        mediation__v1__normalized_source_outcome_lite__init);
    Mediation__V1__NormalizeMetaLite *m =
        NEW(a, Mediation__V1__NormalizeMetaLite, mediation__v1__normalize_meta_lite__init);
    if (!o || !m) return NULL;
    const d_outcome *src = &at->outcome;
    o->source_id = S(a, d_out_source_name(in->ctx, src->source));
    o->keys = d_out_keys(a, in->ctx);
    o->outcome_type = S(a, d_outcome_type_name(src->type));
    o->retry_class = S(a, src->retryable ? "retryable" : "non_retryable");
    o->reason_code = S(a, src->reason_code);
    o->route_action = S(a, d_route_action_name(src->action));
    m->error_normalize_version = S(a, D_ERROR_NORMALIZE_VERSION);
    m->mapping_profile_version = S(a, D_MAPPING_PROFILE_VERSION);
    m->normalized_at_unix_ms = in->now_unix_ms;
    o->normalize_meta = m;
    if (src->http_status) {
        o->http_status_opt_case = MEDIATION__V1__NORMALIZED_SOURCE_OUTCOME_LITE__HTTP_STATUS_OPT_HTTP_STATUS;
        o->http_status = src->http_status;
    }
    if (src->has_nbr) {
        o->raw_code_opt_case = MEDIATION__V1__NORMALIZED_SOURCE_OUTCOME_LITE__RAW_CODE_OPT_RAW_CODE;
        o->raw_code = med_arena_printf(a, "nbr=%d", src->nbr);
    }
    o->elapsed_ms_opt_case = MEDIATION__V1__NORMALIZED_SOURCE_OUTCOME_LITE__ELAPSED_MS_OPT_ELAPSED_MS;
    o->elapsed_ms = src->elapsed_ms;
    o->step_index = src->step_index;
    o->route_hop = src->route_hop;
    return o;
}

static Mediation__V1__CandidateMappingRecordLite *mapping(med_arena *a, const d_mapping *m)
{
    Mediation__V1__CandidateMappingRecordLite *r = NEW(a, Mediation__V1__CandidateMappingRecordLite,
                                                       mediation__v1__candidate_mapping_record_lite__init);
    if (!r) return NULL;
    r->source_id = S(a, m->source_id);
    r->source_candidate_id = S(a, m->candidate_id);
    r->field_path = S(a, m->field_path);
    r->raw_value = S(a, m->raw_value);
    r->normalized_value = S(a, m->normalized_value);
    r->mapping_action = S(a, m->mapping_action);
    r->rule_version = S(a, D_MAPPING_PROFILE_VERSION);
    r->reason_code = S(a, m->reason_code);
    return r;
}

med_rc d_out_fill_audit(med_arena *a, const d_output_in *in, const Mediation__V1__DToEOutputLite *dto,
                        Mediation__V1__DSupplyAuditLite *au)
{
    const d_run *r = in->run;
    au->route_plan_lite = plan_lite(a, in);
    au->route_audit_snapshot_lite = dto->route_audit_snapshot_lite;
    au->source_traces = ARR(a, Mediation__V1__SourceTraceLite *, r->n_attempts);
    au->source_outcomes = ARR(a, Mediation__V1__NormalizedSourceOutcomeLite *, r->n_attempts);
    for (int i = 0; au->source_traces && au->source_outcomes && i < r->n_attempts; i++) {
        au->source_traces[au->n_source_traces++] = source_trace(a, in, &r->attempts[i]);
        au->source_outcomes[au->n_source_outcomes++] = outcome(a, in, &r->attempts[i]);
    }
    au->mapping_records = ARR(a, Mediation__V1__CandidateMappingRecordLite *, r->mappings.n);
    for (size_t i = 0; au->mapping_records && i < r->mappings.n; i++)
        au->mapping_records[au->n_mapping_records++] = mapping(a, &r->mappings.items[i]);
    au->warnings = dto->warnings;
    au->n_warnings = dto->n_warnings;
    au->check_reason_code = S(a, in->check_code ? in->check_code : "");
    au->route_conclusion = dto->route_conclusion;
    return a->failed ? MED_ERR_NOMEM : MED_OK;
}
