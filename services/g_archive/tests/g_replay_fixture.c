#include "g_replay_fixture.h"

#include <stdio.h>
#include <string.h>

#include "med/reason.h"

#define S(x) med_arena_strdup(a, (x))
#define NEWM(T, init) ({ T *p_ = MED_NEW(a, T); if (p_) init(p_); p_; })

void gfx_spec_default(med_arena *a, gfx_spec *s, const char *tag, int64_t at_ms)
{
    memset(s, 0, sizeof *s);
    s->tenant = "t1";
    s->app_id = "app_demo";
    s->placement_id = "plc_feed";
    s->trace_key = med_arena_printf(a, "tr_%s", tag);
    s->request_key = med_arena_printf(a, "rq_%s", tag);
    s->attempt_key = med_arena_printf(a, "at_%s", tag);
    s->opportunity_key = med_arena_printf(a, "op_%s", tag);
    s->response_reference = med_arena_printf(a, "resp_%s", tag);
    s->audit_at_ms = at_ms;
    s->delivery_status = "served";
    s->dispatch[0] = "net_a";
    s->outcome[0] = "candidate";
    s->price_micros = 1500000;
}

void gfx_spec_rendered(gfx_spec *s)
{
    s->facts[0] = (gfx_fact_spec){"ad_filled", "attr_ad_filled", "committed", s->audit_at_ms + 500, "ev_fill", MED_R_F_FACTS_MAPPED};
    s->facts[1] = (gfx_fact_spec){"impression", "attr_impression", "committed", s->audit_at_ms + 1000, "ev_imp", MED_R_F_FACTS_MAPPED};
    s->billable_impression = 1;
}

static Mediation__V1__TraceContext *trace(med_arena *a, const gfx_spec *s)
{
    Mediation__V1__TraceContext *t = NEWM(Mediation__V1__TraceContext, mediation__v1__trace_context__init);
    t->trace_key = S(s->trace_key);
    t->request_key = S(s->request_key);
    t->opportunity_key = S(s->opportunity_key);
    t->attempt_key = S(s->attempt_key);
    t->tenant_id = S(s->tenant);
    t->app_id = S(s->app_id);
    t->placement_id = S(s->placement_id);
    t->anchor_hash = S("ah_fixture");
    return t;
}

static Mediation__V1__VersionAnchorSnapshot *anchors(med_arena *a, const gfx_spec *s)
{
    Mediation__V1__VersionAnchorSnapshot *v = NEWM(Mediation__V1__VersionAnchorSnapshot, mediation__v1__version_anchor_snapshot__init);
    Mediation__V1__AnchorSet *x = NEWM(Mediation__V1__AnchorSet, mediation__v1__anchor_set__init);
    x->schema_version = S("1.0.0");
    x->routing_strategy_version = S("rs-1");
    x->placement_config_version = S("pc-1");
    x->global_config_version = S("g-1");
    x->mapping_rule_version = S("mp-1");
    x->policy_rule_version = S("pol-1");
    x->routing_policy_version = S("rp-1");
    x->delivery_rule_version = S("e_delivery_rule_v1");
    x->event_contract_version = S("f_event_contract_v1");
    x->dedup_fingerprint_version = S(s->drop_dedup_anchor ? "" : "f_dedup_v1");
    x->closure_rule_version = S("f_closure_rule_v1");
    x->billing_rule_version = S("f_billing_rule_v1");
    x->archive_contract_version = S("f_archive_contract_v1");
    v->anchor_set = x;
    v->anchor_hash = S("ah_fixture");
    v->request_key = S(s->request_key);
    v->trace_key = S(s->trace_key);
    return v;
}

static Mediation__V1__BStageAuditLite *b_body(med_arena *a)
{
    static const char *const slots[][2] = {{"PlacementMeta.placementSurface", "chat"},
                                           {"PlacementMeta.placementType", "native_card"},
                                           {"PolicyContext.consentScope", "granted"},
                                           {"UserContext.actorType", "human"}};
    Mediation__V1__BStageAuditLite *b = NEWM(Mediation__V1__BStageAuditLite, mediation__v1__bstage_audit_lite__init);
    Mediation__V1__MappingAuditSnapshotLite *m =
        NEWM(Mediation__V1__MappingAuditSnapshotLite, mediation__v1__mapping_audit_snapshot_lite__init);
    m->records = MED_NEWN(a, Mediation__V1__MappingAuditRecordLite *, 4);
    for (size_t i = 0; i < 4; i++) {
        Mediation__V1__MappingAuditRecordLite *r =
            NEWM(Mediation__V1__MappingAuditRecordLite, mediation__v1__mapping_audit_record_lite__init);
        r->semantic_slot = S(slots[i][0]);
        r->normalized = S(slots[i][1]);
        m->records[m->n_records++] = r;
    }
    b->mapping_audit_snapshot_lite = m;
    return b;
}

static const char *outcome_code(const char *o)
{
    if (strcmp(o, "candidate") == 0) return MED_R_D_ROUTE_SHORT_CIRCUIT_SERVED;
    if (strcmp(o, "timeout") == 0) return MED_R_D_TO_READ_TIMEOUT;
    if (strcmp(o, "no_fill") == 0) return MED_R_D_NF_INVENTORY_UNAVAILABLE;
    return MED_R_D_ER_TRANSIENT_NETWORK;
}

static const char *winner_of(const gfx_spec *s)
{
    if (!s->delivery_status || strcmp(s->delivery_status, "served") != 0) return NULL;
    if (s->winner) return s->winner;
    for (int i = 0; i < GFX_MAX_DISPATCH && s->dispatch[i]; i++)
        if (!s->outcome[i] || strcmp(s->outcome[i], "candidate") == 0) return s->dispatch[i];
    return NULL;
}

static Mediation__V1__DSupplyAuditLite *d_body(med_arena *a, const gfx_spec *s)
{
    Mediation__V1__DSupplyAuditLite *d = NEWM(Mediation__V1__DSupplyAuditLite, mediation__v1__dsupply_audit_lite__init);
    Mediation__V1__RoutePlanLite *p = NEWM(Mediation__V1__RoutePlanLite, mediation__v1__route_plan_lite__init);
    Mediation__V1__ExecutionStrategyLite *es =
        NEWM(Mediation__V1__ExecutionStrategyLite, mediation__v1__execution_strategy_lite__init);
    Mediation__V1__RouteAuditSnapshotLite *ra =
        NEWM(Mediation__V1__RouteAuditSnapshotLite, mediation__v1__route_audit_snapshot_lite__init);
    Mediation__V1__FinalRouteDecisionLite *fd =
        NEWM(Mediation__V1__FinalRouteDecisionLite, mediation__v1__final_route_decision_lite__init);
    es->strategy_type = S(s->strategy ? s->strategy : "waterfall");
    p->execution_strategy_lite = es;
    p->routing_policy_version = S("rp-1");
    d->route_plan_lite = p;
    ra->dispatch_records = MED_NEWN(a, Mediation__V1__DispatchRecordLite *, GFX_MAX_DISPATCH);
    d->source_requests = MED_NEWN(a, Mediation__V1__SourceRequestLite *, GFX_MAX_DISPATCH);
    for (int i = 0; i < GFX_MAX_DISPATCH && s->dispatch[i]; i++) {
        const char *o = s->outcome[i] ? s->outcome[i] : "candidate";
        Mediation__V1__DispatchRecordLite *r =
            NEWM(Mediation__V1__DispatchRecordLite, mediation__v1__dispatch_record_lite__init);
        Mediation__V1__SourceRequestLite *q =
            NEWM(Mediation__V1__SourceRequestLite, mediation__v1__source_request_lite__init);
        r->step_index = i + 1;
        r->route_hop = i + 1;
        r->source_id = S(s->dispatch[i]);
        r->source_request_id = med_arena_printf(a, "sr_%s_%d", s->attempt_key, i);
        r->timeout_budget_ms = 300;
        r->outcome_type = S(o);
        r->reason_code = S(outcome_code(o));
        r->elapsed_ms = strcmp(o, "timeout") == 0 ? 300 : 40 + i;
        q->source_id = r->source_id;
        q->source_request_id = r->source_request_id;
        q->sent_at_unix_ms = s->audit_at_ms - 200 + i;
        q->timeout_budget_ms = 300;
        ra->dispatch_records[ra->n_dispatch_records++] = r;
        d->source_requests[d->n_source_requests++] = q;
    }
    const char *w = winner_of(s);
    fd->final_source_id = S(w ? w : "none");
    fd->final_outcome = S(w ? "served_candidate" : "no_fill");
    fd->final_reason_code = S(w ? MED_R_D_ROUTE_SHORT_CIRCUIT_SERVED : MED_R_D_ROUTE_NO_AVAILABLE_SOURCE);
    fd->selected_at_unix_ms = s->audit_at_ms - 20;
    ra->final_route_decision = fd;
    d->route_audit_snapshot_lite = ra;
    return d;
}

static Mediation__V1__EStageAuditLite *e_body(med_arena *a, const gfx_spec *s)
{
    Mediation__V1__EStageAuditLite *e = NEWM(Mediation__V1__EStageAuditLite, mediation__v1__estage_audit_lite__init);
    Mediation__V1__CandidateConsumptionDecisionLite *c =
        NEWM(Mediation__V1__CandidateConsumptionDecisionLite, mediation__v1__candidate_consumption_decision_lite__init);
    c->selection_mode = S("top1_strict");
    const char *w = winner_of(s);
    if (w) {
        Mediation__V1__SelectedCandidateRefLite *r =
            NEWM(Mediation__V1__SelectedCandidateRefLite, mediation__v1__selected_candidate_ref_lite__init);
        r->source_id = S(w);
        r->candidate_id = med_arena_printf(a, "cand_%s", w);
        r->render_mode = S("native_card");
        c->selected_candidate_refs = MED_NEWN(a, Mediation__V1__SelectedCandidateRefLite *, 1);
        c->selected_candidate_refs[c->n_selected_candidate_refs++] = r;
    }
    if (s->e_dropped) {
        Mediation__V1__DroppedCandidateRefLite *x =
            NEWM(Mediation__V1__DroppedCandidateRefLite, mediation__v1__dropped_candidate_ref_lite__init);
        x->source_id = S(s->e_dropped);
        x->candidate_id = med_arena_printf(a, "cand_%s", s->e_dropped);
        x->drop_reason_code = S(MED_R_E_NF_NO_CANDIDATE);
        c->dropped_candidate_refs = MED_NEWN(a, Mediation__V1__DroppedCandidateRefLite *, 1);
        c->dropped_candidate_refs[c->n_dropped_candidate_refs++] = x;
    }
    c->consumption_reason_code = S(w ? MED_R_E_RENDER_CANDIDATE_SELECTED : MED_R_E_NF_NO_CANDIDATE);
    e->candidate_consumption_decision = c;
    e->response_reference = S(s->response_reference);
    e->delivery_status = S(s->delivery_status);
    e->final_reason_code = S(w ? MED_R_E_RENDER_CANDIDATE_SELECTED : MED_R_E_NF_NO_CANDIDATE);
    return e;
}

Mediation__V1__StageAudit *gfx_audit(med_arena *a, const gfx_spec *s, char stage)
{
    Mediation__V1__StageAudit *sa = NEWM(Mediation__V1__StageAudit, mediation__v1__stage_audit__init);
    char st[2] = {stage, 0};
    sa->trace = trace(a, s);
    sa->stage = S(st);
    sa->kind = S("decision");
    sa->anchor_hash = S("ah_fixture");
    sa->version_anchor_snapshot = anchors(a, s);
    sa->started_at_unix_ms = s->audit_at_ms - 300 + (stage - 'a') * 10;
    sa->finished_at_unix_ms = sa->started_at_unix_ms + 5;
    sa->audit_id = med_arena_printf(a, "%c.audit:%s", stage, s->attempt_key);
    switch (stage) {
    case 'a':
        sa->snapshot_case = MEDIATION__V1__STAGE_AUDIT__SNAPSHOT_A_AUDIT;
        sa->a_audit = NEWM(Mediation__V1__AStageAuditLite, mediation__v1__astage_audit_lite__init);
        break;
    case 'b':
        sa->snapshot_case = MEDIATION__V1__STAGE_AUDIT__SNAPSHOT_B_AUDIT;
        sa->b_audit = b_body(a);
        break;
    case 'd':
        sa->snapshot_case = MEDIATION__V1__STAGE_AUDIT__SNAPSHOT_D_AUDIT;
        sa->d_audit = d_body(a, s);
        break;
    case 'e':
        sa->snapshot_case = MEDIATION__V1__STAGE_AUDIT__SNAPSHOT_E_AUDIT;
        sa->e_audit = e_body(a, s);
        break;
    default:
        break;
    }
    return sa;
}

Mediation__V1__Delivery *gfx_delivery(med_arena *a, const gfx_spec *s)
{
    Mediation__V1__Delivery *d = NEWM(Mediation__V1__Delivery, mediation__v1__delivery__init);
    const char *w = winner_of(s);
    d->trace = trace(a, s);
    d->status = S(s->delivery_status);
    d->response_reference = S(s->response_reference);
    d->final_reason_code = S(w ? MED_R_E_RENDER_CANDIDATE_SELECTED : MED_R_E_NF_NO_CANDIDATE);
    d->opportunity_key = S(s->opportunity_key);
    d->trace_key = S(s->trace_key);
    d->request_key = S(s->request_key);
    d->attempt_key = S(s->attempt_key);
    d->version_anchor_snapshot = anchors(a, s);
    d->delivered_at_unix_ms = s->audit_at_ms;
    d->winner_price_micros = w ? s->price_micros : 0;
    d->winner_currency = S(w ? "USD" : "");
    return d;
}

static Mediation__V1__FToGArchiveRecordLite *record(med_arena *a, const gfx_spec *s, const char *type,
                                                   const char *status, const char *payload_key, int64_t at)
{
    Mediation__V1__FToGArchiveRecordLite *r =
        NEWM(Mediation__V1__FToGArchiveRecordLite, mediation__v1__fto_garchive_record_lite__init);
    Mediation__V1__ArchivePayloadRefLite *p = NEWM(Mediation__V1__ArchivePayloadRefLite, mediation__v1__archive_payload_ref_lite__init);
    Mediation__V1__ArchiveSourceKeysLite *k = NEWM(Mediation__V1__ArchiveSourceKeysLite, mediation__v1__archive_source_keys_lite__init);
    Mediation__V1__ArchiveRelationKeysLite *rel =
        NEWM(Mediation__V1__ArchiveRelationKeysLite, mediation__v1__archive_relation_keys_lite__init);
    Mediation__V1__ArchiveVersionAnchorsLite *v =
        NEWM(Mediation__V1__ArchiveVersionAnchorsLite, mediation__v1__archive_version_anchors_lite__init);
    r->record_key = med_arena_printf(a, "rk_%s_%s_%s", type, s->attempt_key, payload_key);
    r->record_type = S(type);
    r->record_status = S(status ? status : "committed");
    p->payload_type = S(type);
    p->payload_key = S(payload_key);
    k->trace_key = S(s->trace_key);
    k->request_key = S(s->request_key);
    k->attempt_key = S(s->attempt_key);
    k->opportunity_key = S(s->opportunity_key);
    k->response_reference_or_na_opt_case = MEDIATION__V1__ARCHIVE_SOURCE_KEYS_LITE__RESPONSE_REFERENCE_OR_NA_OPT_RESPONSE_REFERENCE_OR_NA;
    k->response_reference_or_na = S(s->response_reference);
    k->render_attempt_id_or_na_opt_case = MEDIATION__V1__ARCHIVE_SOURCE_KEYS_LITE__RENDER_ATTEMPT_ID_OR_NA_OPT_RENDER_ATTEMPT_ID_OR_NA;
    k->render_attempt_id_or_na = med_arena_printf(a, "ra_%s", s->attempt_key);
    rel->closure_key_or_na_opt_case = MEDIATION__V1__ARCHIVE_RELATION_KEYS_LITE__CLOSURE_KEY_OR_NA_OPT_CLOSURE_KEY_OR_NA;
    rel->closure_key_or_na = med_arena_printf(a, "%s|ra_%s", s->response_reference, s->attempt_key);
    rel->canonical_dedup_key = med_arena_printf(a, "f_dedup_v1:computed:%s", payload_key);
    v->event_contract_version = S("f_event_contract_v1");
    v->mapping_rule_version = S("f_mapping_rule_v1");
    v->dedup_fingerprint_version = S(s->drop_dedup_anchor ? "" : "f_dedup_v1");
    v->closure_rule_version = S("f_closure_rule_v1");
    v->billing_rule_version = S("f_billing_rule_v1");
    v->archive_contract_version = S("f_archive_contract_v1");
    r->payload_ref = p;
    r->source_keys = k;
    r->relation_keys = rel;
    r->version_anchors = v;
    r->decision_reason_code = S(MED_R_F_FACTS_MAPPED);
    r->output_at_unix_ms = at + 5;
    r->anchor_hash = S("ah_fixture");
    return r;
}

static void attribution(med_arena *a, const gfx_spec *s, const gfx_fact_spec *f, Mediation__V1__FToGArchiveRecordLite *r)
{
    Mediation__V1__AttributionFactLite *x = NEWM(Mediation__V1__AttributionFactLite, mediation__v1__attribution_fact_lite__init);
    x->fact_id = med_arena_printf(a, "attr_%s_%s", s->attempt_key, f->source_event_id);
    x->attribution_type = S(f->attribution_type);
    x->source_event_id = med_arena_printf(a, "%s_%s", f->source_event_id, s->attempt_key);
    x->event_type = S(f->event_type);
    x->response_reference_or_na_opt_case = MEDIATION__V1__ATTRIBUTION_FACT_LITE__RESPONSE_REFERENCE_OR_NA_OPT_RESPONSE_REFERENCE_OR_NA;
    x->response_reference_or_na = S(s->response_reference);
    x->render_attempt_id_or_na_opt_case = MEDIATION__V1__ATTRIBUTION_FACT_LITE__RENDER_ATTEMPT_ID_OR_NA_OPT_RENDER_ATTEMPT_ID_OR_NA;
    x->render_attempt_id_or_na = med_arena_printf(a, "ra_%s", s->attempt_key);
    x->opportunity_key = S(s->opportunity_key);
    x->trace_key = S(s->trace_key);
    x->attribution_key = med_arena_printf(a, "ak_%s_%s", s->attempt_key, f->source_event_id);
    x->fact_at_unix_ms = f->at_ms;
    x->fact_version = S("f_fact_v1");
    r->payload_case = MEDIATION__V1__FTO_GARCHIVE_RECORD_LITE__PAYLOAD_ATTRIBUTION_FACT;
    r->attribution_fact = x;
    r->relation_keys->attribution_key_or_na_opt_case =
        MEDIATION__V1__ARCHIVE_RELATION_KEYS_LITE__ATTRIBUTION_KEY_OR_NA_OPT_ATTRIBUTION_KEY_OR_NA;
    r->relation_keys->attribution_key_or_na = x->attribution_key;
    if (f->reason_code) r->decision_reason_code = S(f->reason_code);
}

static void decision(med_arena *a, const gfx_spec *s, const gfx_fact_spec *f, Mediation__V1__FToGArchiveRecordLite *r)
{
    Mediation__V1__FactDecisionAuditLite *x =
        NEWM(Mediation__V1__FactDecisionAuditLite, mediation__v1__fact_decision_audit_lite__init);
    x->source_event_id = med_arena_printf(a, "%s_%s", f->source_event_id, s->attempt_key);
    x->mapping_rule_version = S("f_mapping_rule_v1");
    x->decision_action = S(strcmp(f->event_type, "impression") == 0 ? "both_emit" : "attribution_emit");
    x->decision_reason_code = S(f->reason_code ? f->reason_code : MED_R_F_FACTS_MAPPED);
    x->conflict_decision = S("none");
    x->decided_at_unix_ms = f->at_ms + 2;
    r->payload_case = MEDIATION__V1__FTO_GARCHIVE_RECORD_LITE__PAYLOAD_DECISION_AUDIT;
    r->decision_audit = x;
}

static Mediation__V1__FToGArchiveRecordLite *billable(med_arena *a, const gfx_spec *s, int64_t at)
{
    Mediation__V1__FToGArchiveRecordLite *r = record(a, s, "billable_fact", "committed", "bill_imp", at);
    Mediation__V1__BillableFactLite *x = NEWM(Mediation__V1__BillableFactLite, mediation__v1__billable_fact_lite__init);
    x->fact_id = med_arena_printf(a, "bill_%s", s->attempt_key);
    x->billable_type = S("billable_impression");
    x->source_event_id = med_arena_printf(a, "ev_imp_%s", s->attempt_key);
    x->response_reference = S(s->response_reference);
    x->render_attempt_id = med_arena_printf(a, "ra_%s", s->attempt_key);
    x->billing_key = med_arena_printf(a, "%s|ra_%s|billable_impression", s->response_reference, s->attempt_key);
    x->fact_at_unix_ms = at;
    x->amount_micros = s->price_micros;
    x->currency = S("USD");
    r->payload_case = MEDIATION__V1__FTO_GARCHIVE_RECORD_LITE__PAYLOAD_BILLABLE_FACT;
    r->billable_fact = x;
    r->relation_keys->billing_key_or_na_opt_case = MEDIATION__V1__ARCHIVE_RELATION_KEYS_LITE__BILLING_KEY_OR_NA_OPT_BILLING_KEY_OR_NA;
    r->relation_keys->billing_key_or_na = x->billing_key;
    return r;
}

size_t gfx_archive(med_arena *a, const gfx_spec *s, Mediation__V1__FToGArchiveRecordLite ***out)
{
    Mediation__V1__FToGArchiveRecordLite **v = MED_NEWN(a, Mediation__V1__FToGArchiveRecordLite *, 2 * GFX_MAX_FACTS + 1);
    size_t n = 0;
    int64_t imp_at = 0;
    for (int i = 0; i < GFX_MAX_FACTS && s->facts[i].event_type; i++) {
        const gfx_fact_spec *f = &s->facts[i];
        Mediation__V1__FToGArchiveRecordLite *d = record(a, s, "decision_audit", "committed", f->source_event_id, f->at_ms);
        decision(a, s, f, d);
        Mediation__V1__FToGArchiveRecordLite *r = record(a, s, "attribution_fact", f->record_status, f->source_event_id, f->at_ms);
        attribution(a, s, f, r);
        v[n++] = d;
        v[n++] = r;
        if (strcmp(f->event_type, "impression") == 0 && !imp_at) imp_at = f->at_ms;
    }
    if (s->billable_impression) v[n++] = billable(a, s, imp_at ? imp_at : s->audit_at_ms);
    *out = v;
    return n;
}

void gfx_opp(med_arena *a, const gfx_spec *s, g_opp *o)
{
    memset(o, 0, sizeof *o);
    o->response_reference = S(s->response_reference);
    o->attempt_key = S(s->attempt_key);
    o->trace_key = S(s->trace_key);
    o->request_key = S(s->request_key);
    o->opportunity_key = S(s->opportunity_key);
    o->app_id = S(s->app_id);
    o->placement_id = S(s->placement_id);
    o->audit_at_ms = s->audit_at_ms;
    o->arch_match = 1;
    g_assemble_record_id(o);
    static const char stages[] = "abde";
    for (int i = 0; stages[i]; i++) g_frags_offer_audit(&o->f, gfx_audit(a, s, stages[i]), s->audit_at_ms + i, i);
    o->f.delivery = gfx_delivery(a, s);
    Mediation__V1__FToGArchiveRecordLite **recs = NULL;
    size_t n = gfx_archive(a, s, &recs);
    med_err e;
    for (size_t i = 0; i < n; i++) {
        g_frags_add_archive(a, &o->f, recs[i], "written", s->audit_at_ms + 2000, &e);
        if (!o->has_output || recs[i]->output_at_unix_ms < o->min_output_ms) {
            o->has_output = 1;
            o->min_output_ms = recs[i]->output_at_unix_ms;
        }
    }
    o->loaded = 1;
}
