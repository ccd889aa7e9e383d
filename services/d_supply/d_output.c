#include "d_output.h"
#include "d_native.h"
#include "d_output_int.h"

#include <string.h>
#include "d_names.h"
#include "med/reason.h"

d_end_view d_out_end(const d_run *r)
{
    switch (r->end) {
    case D_END_SERVED:
        return (d_end_view){ "served_candidate", "deliver", "served", MED_R_D_ROUTE_SHORT_CIRCUIT_SERVED };
    case D_END_EXHAUSTED_NO_FILL:
        return (d_end_view){ "no_fill", "no_fill", "no_fill", MED_R_D_ROUTE_SHORT_CIRCUIT_EXHAUSTED };
    case D_END_ALL_ERRORS:
        return (d_end_view){ "error", "terminal_error", "error", MED_R_D_ROUTE_SHORT_CIRCUIT_EXHAUSTED };
    case D_END_BUDGET:
        return (d_end_view){ "no_fill", "no_fill", "no_fill", MED_R_D_ROUTE_BUDGET_EXHAUSTED };
    case D_END_NO_SOURCE:
        return (d_end_view){ "no_fill", "no_fill", "no_fill", MED_R_D_ROUTE_NO_AVAILABLE_SOURCE };
    default:
        return (d_end_view){ "error", "terminal_error", "error", r->final_code };
    }
}

const char *d_out_plan_id(const d_output_in *in)
{
    return in->plan ? in->plan->route_plan_id : "NA";
}

Mediation__V1__TraceKeys *d_out_keys(med_arena *a, const d_ctx *c)
{
    Mediation__V1__TraceKeys *k = NEW(a, Mediation__V1__TraceKeys, mediation__v1__trace_keys__init);
    if (!k) return NULL;
    k->trace_key = S(a, c->trace_key);
    k->request_key = S(a, c->request_key);
    k->attempt_key = S(a, c->attempt_key);
    k->opportunity_key = S(a, c->opportunity_key);
    return k;
}

const char *d_out_source_name(const d_ctx *c, int idx)
{
    return c->reg && idx >= 0 && idx < c->reg->n_sources ? c->reg->sources[idx].source_id : "none";
}

char **d_out_strs(med_arena *a, const d_str_list *l, size_t *n)
{
    *n = l ? l->n : 0;
    char **v = med_arena_alloc(a, (*n ? *n : 1) * sizeof *v);
    for (size_t i = 0; v && i < *n; i++) v[i] = S(a, l->items[i]);
    return v;
}

static char **json_strs(med_arena *a, const json_t *arr, size_t *n)
{
    *n = json_array_size(arr);
    char **v = med_arena_alloc(a, (*n ? *n : 1) * sizeof *v);
    for (size_t i = 0; v && i < *n; i++) v[i] = S(a, json_string_value(json_array_get(arr, i)));
    return v;
}

static Mediation__V1__RenderPayloadLite *render_payload(med_arena *a, const json_t *bid)
{
    Mediation__V1__RenderPayloadLite *p =
        NEW(a, Mediation__V1__RenderPayloadLite, mediation__v1__render_payload_lite__init);
    if (!p) return NULL;
    p->adm = S(a, json_string_value(json_object_get(bid, "adm")));
    p->nurl = S(a, json_string_value(json_object_get(bid, "nurl")));
    p->burl = S(a, json_string_value(json_object_get(bid, "burl")));
    p->adomain = json_strs(a, json_object_get(bid, "adomain"), &p->n_adomain);
    p->cat = json_strs(a, json_object_get(bid, "cat"), &p->n_cat);
    return p;
}

/* Native markup becomes the asset references and destination E renders a
 * native card from; other markup leaves them empty. */
static void native_assets(med_arena *a, const json_t *bid, Mediation__V1__NormalizedCandidateLite *o)
{
    d_native n;
    if (d_native_parse(json_string_value(json_object_get(bid, "adm")), &n) == 0) {
        char **refs = med_arena_alloc(a, n.n_assets * sizeof *refs);
        for (size_t i = 0; refs && i < n.n_assets; i++) refs[i] = S(a, n.assets[i]);
        if (refs) {
            o->asset_refs = refs;
            o->n_asset_refs = n.n_assets;
        }
        if (n.destination) o->destination_ref = S(a, n.destination);
    }
    d_native_free(&n);
}

static Mediation__V1__NormalizedCandidateLite *candidate(med_arena *a, const d_ctx *ctx,
                                                         const d_candidate *c, int64_t now)
{
    Mediation__V1__NormalizedCandidateLite *o =
        NEW(a, Mediation__V1__NormalizedCandidateLite, mediation__v1__normalized_candidate_lite__init);
    Mediation__V1__PricingLite *pr = NEW(a, Mediation__V1__PricingLite, mediation__v1__pricing_lite__init);
    Mediation__V1__CreativeRefLite *cr =
        NEW(a, Mediation__V1__CreativeRefLite, mediation__v1__creative_ref_lite__init);
    Mediation__V1__CandidateNormalizeMetaLite *m = NEW(a, Mediation__V1__CandidateNormalizeMetaLite,
                                                       mediation__v1__candidate_normalize_meta_lite__init);
    char **flags = med_arena_alloc(a, sizeof *flags);
    if (!o || !pr || !cr || !m || !flags) return NULL;
    o->source_id = S(a, c->source_id);
    o->source_candidate_id = S(a, c->candidate_id);
    o->keys = d_out_keys(a, ctx);
    o->candidate_status = S(a, "eligible");
    pr->bid_value = c->bid_value;
    pr->currency = S(a, c->currency);
    pr->bid_value_micros = c->bid_micros;
    o->pricing = pr;
    cr->creative_id = S(a, c->creative_id);
    cr->landing_type = S(a, c->landing_type);
    o->creative_ref = cr;
    flags[0] = S(a, "pass");
    o->policy_flags = flags;
    o->n_policy_flags = 1;
    m->candidate_normalize_version = S(a, D_CANDIDATE_NORMALIZE_VERSION);
    m->mapping_profile_version = S(a, D_MAPPING_PROFILE_VERSION);
    m->normalized_at_unix_ms = now;
    o->normalize_meta = m;
    if (c->has_quality) {
        o->quality_score_opt_case = MEDIATION__V1__NORMALIZED_CANDIDATE_LITE__QUALITY_SCORE_OPT_QUALITY_SCORE;
        o->quality_score = c->quality_score;
    }
    if (c->has_latency) {
        o->latency_ms_opt_case = MEDIATION__V1__NORMALIZED_CANDIDATE_LITE__LATENCY_MS_OPT_LATENCY_MS;
        o->latency_ms = c->latency_ms;
    }
    o->route_tier_opt_case = MEDIATION__V1__NORMALIZED_CANDIDATE_LITE__ROUTE_TIER_OPT_ROUTE_TIER;
    o->route_tier = S(a, d_tier_name(c->tier));
    o->render_payload_lite = render_payload(a, c->bid);
    o->compose_source = S(a, "d_route");
    native_assets(a, c->bid, o);
    return o;
}

static Mediation__V1__AuctionDecisionLite *auction(med_arena *a, const d_output_in *in)
{
    const d_run *r = in->run;
    const d_ctx *c = in->ctx;
    int served = r->end == D_END_SERVED && r->winners.n > 0;
    const d_candidate *w = served ? &r->winners.items[0] : NULL;
    Mediation__V1__AuctionDecisionLite *d =
        NEW(a, Mediation__V1__AuctionDecisionLite, mediation__v1__auction_decision_lite__init);
    Mediation__V1__AuctionWinnerLite *win =
        NEW(a, Mediation__V1__AuctionWinnerLite, mediation__v1__auction_winner_lite__init);
    Mediation__V1__AuctionPriceLite *p =
        NEW(a, Mediation__V1__AuctionPriceLite, mediation__v1__auction_price_lite__init);
    Mediation__V1__CreativeRefLite *h =
        NEW(a, Mediation__V1__CreativeRefLite, mediation__v1__creative_ref_lite__init);
    Mediation__V1__AuctionDebugRefLite *dbg =
        NEW(a, Mediation__V1__AuctionDebugRefLite, mediation__v1__auction_debug_ref_lite__init);
    Mediation__V1__DecisionVersionRefsLite *v =
        NEW(a, Mediation__V1__DecisionVersionRefsLite, mediation__v1__decision_version_refs_lite__init);
    if (!d || !win || !p || !h || !dbg || !v) return NULL;
    d->served = served;
    win->source_id = S(a, w ? w->source_id : "none");
    win->candidate_id = S(a, w ? w->candidate_id : "none");
    p->value = w ? w->bid_value : 0;
    p->value_micros = w ? w->bid_micros : 0;
    p->currency = S(a, w ? w->currency : "NA");
    h->creative_id = S(a, w ? w->creative_id : "none");
    h->landing_type = S(a, w ? w->landing_type : "none");
    v->routing_policy_version = S(a, c->routing_policy_version);
    v->execution_strategy_version = S(a, c->strategy.version);
    v->config_snapshot_id = S(a, c->config_snapshot_id);
    dbg->route_plan_id = S(a, d_out_plan_id(in));
    dbg->route_audit_snapshot_ref = med_arena_printf(a, "%s:%s", c->trace_key, c->attempt_key);
    dbg->decision_version_refs = v;
    d->winner = win;
    d->price = p;
    d->creative_handle = h;
    d->debug_ref = dbg;
    return d;
}

static Mediation__V1__RouteConclusionLite *conclusion(med_arena *a, const d_output_in *in)
{
    d_end_view e = d_out_end(in->run);
    Mediation__V1__RouteConclusionLite *c =
        NEW(a, Mediation__V1__RouteConclusionLite, mediation__v1__route_conclusion_lite__init);
    if (!c) return NULL;
    c->route_plan_id = S(a, d_out_plan_id(in));
    c->config_snapshot_id = S(a, in->ctx->config_snapshot_id);
    c->strategy_type = S(a, in->strategy ? in->strategy->strategy_type
                                         : d_strategy_name(in->ctx->strategy.type));
    c->route_outcome = S(a, e.outcome);
    c->final_route_tier = S(a, d_tier_name(in->run->final_tier));
    c->final_action = S(a, e.action);
    c->final_reason_code = S(a, in->run->final_code);
    c->fallback_used = in->run->fallback_used;
    return c;
}

static Mediation__V1__DVersionAnchorsLite *anchors(med_arena *a, const d_ctx *c)
{
    Mediation__V1__DVersionAnchorsLite *v =
        NEW(a, Mediation__V1__DVersionAnchorsLite, mediation__v1__dversion_anchors_lite__init);
    if (!v) return NULL;
    v->d_output_contract_version = S(a, D_OUTPUT_CONTRACT_VERSION);
    v->routing_policy_version = S(a, c->routing_policy_version);
    v->fallback_profile_version = S(a, c->fallback_profile_version);
    v->candidate_normalize_version = S(a, D_CANDIDATE_NORMALIZE_VERSION);
    v->error_normalize_version = S(a, D_ERROR_NORMALIZE_VERSION);
    v->constraint_set_version = S(a, c->constraint_set_version);
    v->execution_strategy_version = S(a, c->strategy.version);
    v->config_snapshot_id = S(a, c->config_snapshot_id);
    return v;
}

Mediation__V1__ConfigSnapshotLite *d_out_config(med_arena *a, const d_ctx *c)
{
    Mediation__V1__ConfigSnapshotLite *s =
        NEW(a, Mediation__V1__ConfigSnapshotLite, mediation__v1__config_snapshot_lite__init);
    if (!s) return NULL;
    s->config_snapshot_id = S(a, c->config_snapshot_id);
    s->resolved_config_ref = S(a, c->resolved_config_ref);
    s->config_hash = S(a, c->config_hash);
    s->effective_at_unix_ms = c->config_effective_at_ms;
    return s;
}


static med_rc fill_dto(med_arena *a, const d_output_in *in, Mediation__V1__DToEOutputLite *o)
{
    const d_ctx *c = in->ctx;
    const d_run *r = in->run;
    d_end_view e = d_out_end(r);
    o->opportunity_key = S(a, c->opportunity_key);
    o->trace_key = S(a, c->trace_key);
    o->request_key = S(a, c->request_key);
    o->attempt_key = S(a, c->attempt_key);
    size_t n = r->end == D_END_SERVED ? r->winners.n : 0;
    o->normalized_candidates = med_arena_alloc(a, (n ? n : 1) * sizeof *o->normalized_candidates);
    for (size_t i = 0; o->normalized_candidates && i < n; i++)
        o->normalized_candidates[i] = candidate(a, c, &r->winners.items[i], in->now_unix_ms);
    o->n_normalized_candidates = n;
    o->has_candidate = n > 0;
    o->candidate_count = (int32_t)n;
    o->auction_decision_lite = auction(a, in);
    o->policy_constraints_lite = (Mediation__V1__ConstraintsLite *)in->constraints;
    o->route_conclusion = conclusion(a, in);
    Mediation__V1__StateTransitionLite *st =
        NEW(a, Mediation__V1__StateTransitionLite, mediation__v1__state_transition_lite__init);
    if (st) {
        st->from_state = S(a, "routed");
        st->to_state = S(a, e.state);
        st->state_reason_code = S(a, r->final_code);
        st->state_rule_version = S(a, D_ROUTE_PLAN_RULE_VERSION);
        st->transition_at_unix_ms = in->now_unix_ms;
    }
    o->state_update = st;
    o->version_anchors = anchors(a, c);
    o->route_audit_snapshot_lite = d_out_route_audit(a, in);
    if (n > 0) o->winning_candidate_ref = o->auction_decision_lite ? o->auction_decision_lite->winner : NULL;
    o->warnings = d_out_warnings(a, in, &o->n_warnings);
    return a->failed ? MED_ERR_NOMEM : MED_OK;
}

med_rc d_output_build(const d_output_in *in, d_output *out, med_err *err)
{
    memset(out, 0, sizeof *out);
    med_arena *a = &out->arena;
    out->dto = NEW(a, Mediation__V1__DToEOutputLite, mediation__v1__dto_eoutput_lite__init);
    out->audit = NEW(a, Mediation__V1__DSupplyAuditLite, mediation__v1__dsupply_audit_lite__init);
    if (!out->dto || !out->audit || fill_dto(a, in, out->dto) != MED_OK ||
        d_out_fill_audit(a, in, out->dto, out->audit) != MED_OK) {
        d_output_free(out);
        return med_err_set(err, MED_ERR_NOMEM, MED_R_D_ROUTE_AUDIT_MISSING_REQUIRED_FIELD, NULL,
                           "ENOMEM building D output");
    }
    return MED_OK;
}

void d_output_free(d_output *out)
{
    /* policy_constraints_lite is borrowed from the input: never freed here. */
    med_arena_free(&out->arena);
    out->dto = NULL;
    out->audit = NULL;
}

static int eq(const char *a, const char *b) { return a && b && !strcmp(a, b); }

const char *d_output_check_invariants(const Mediation__V1__DToEOutputLite *o)
{
    const Mediation__V1__AuctionDecisionLite *ad = o->auction_decision_lite;
    const Mediation__V1__RouteConclusionLite *rc = o->route_conclusion;
    const Mediation__V1__RouteAuditSnapshotLite *au = o->route_audit_snapshot_lite;
    if (!ad || !rc || !o->state_update || !au || !au->final_route_decision || !ad->winner ||
        !ad->price || !ad->creative_handle || !ad->debug_ref)
        return MED_R_D_ROUTE_AUDIT_MISSING_REQUIRED_FIELD;
    int served = o->has_candidate;
    if (ad->served != served || eq(rc->route_outcome, "served_candidate") != served ||
        eq(o->state_update->to_state, "served") != served)
        return MED_R_D_ROUTE_AUDIT_INCONSISTENT_CONCLUSION;                      /* 1 */
    if ((size_t)o->candidate_count != o->n_normalized_candidates || (served && o->candidate_count < 1))
        return MED_R_D_ROUTE_AUDIT_INCONSISTENT_CONCLUSION;                      /* 2 */
    if (served) {                                                                /* 3 */
        const Mediation__V1__NormalizedCandidateLite *w = o->normalized_candidates[0];
        if (!eq(ad->winner->source_id, w->source_id) ||
            !eq(ad->winner->candidate_id, w->source_candidate_id) ||
            ad->price->value_micros != w->pricing->bid_value_micros ||
            !eq(ad->creative_handle->creative_id, w->creative_ref->creative_id))
            return MED_R_D_ROUTE_AUDIT_INCONSISTENT_CONCLUSION;
    } else if (!eq(ad->winner->source_id, "none") || ad->price->value != 0 ||
               !eq(ad->price->currency, "NA") || !eq(ad->creative_handle->creative_id, "none")) {
        return MED_R_D_ROUTE_AUDIT_INCONSISTENT_CONCLUSION;                      /* 4 */
    }
    const char *want = eq(rc->route_outcome, "served_candidate") ? "deliver"
                       : eq(rc->route_outcome, "no_fill")        ? "no_fill"
                       : eq(rc->route_outcome, "error")          ? "terminal_error" : NULL;
    if (!want) return MED_R_D_ROUTE_AUDIT_INVALID_ROUTE_OUTCOME;
    if (!eq(rc->final_action, want) || (served && eq(rc->final_route_tier, "none")))
        return MED_R_D_ROUTE_AUDIT_INVALID_ROUTE_TIER;                          /* 5 */
    if (!rc->final_reason_code || !rc->final_reason_code[0] ||
        !eq(rc->final_reason_code, o->state_update->state_reason_code) ||
        !eq(rc->final_reason_code, au->final_route_decision->final_reason_code))
        return MED_R_D_ROUTE_AUDIT_INCONSISTENT_CONCLUSION;                      /* 6 */
    if (!eq(rc->route_plan_id, ad->debug_ref->route_plan_id) || !au->routing_hit_snapshot ||
        !eq(rc->route_plan_id, au->routing_hit_snapshot->route_plan_id) ||
        !eq(rc->strategy_type, au->routing_hit_snapshot->strategy_type) ||
        !eq(rc->config_snapshot_id, ad->debug_ref->decision_version_refs->config_snapshot_id))
        return MED_R_D_ROUTE_AUDIT_INCONSISTENT_CONCLUSION;                      /* 7 */
    if (au->route_switches && (size_t)au->route_switches->switch_count != au->route_switches->n_switch_events)
        return MED_R_D_ROUTE_AUDIT_INVALID_SWITCH_REASON_CODE;
    return NULL;
}
