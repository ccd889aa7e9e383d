/* gAuditRecordLite (G.3) from the fragments of one attempt. Which fragment
 * feeds which field:
 *   keys, auditAt            the Delivery row (E), auditRecordId derived
 *   opportunityInputSnapshot A (ingress time, schema anchor, placement) and
 *                            B (placement type/surface, context digests
 *                            over B's mapping audit records)
 *   adapterParticipation     D's dispatch records joined with its source
 *                            requests, traces and mapping records; E's
 *                            dropped candidates as filter codes
 *   winnerSnapshot           the Delivery (served, price), E's selected
 *                            candidate, D's final route decision
 *   render / events          F's archive records (attribution facts)
 *   replay anchors           the archived version anchor snapshots. */
#include "g_assemble.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "g_replay_time.h"
#include "med/ids.h"
#include "med/reason.h"

#define ARCH(x) MEDIATION__V1__FTO_GARCHIVE_RECORD_LITE__##x
#define REC(x) MEDIATION__V1__GAUDIT_RECORD_LITE__##x
#define NA "NA"

const char *const g_record_types[3] = {"decision_audit", "billable_fact", "attribution_fact"};

static const char *nz(const char *s)
{
    return s ? s : "";
}

static int blank(const char *s)
{
    return !s || !*s || strcmp(s, NA) == 0;
}

/* ---- opportunityInputSnapshot ---- */

static const Mediation__V1__MappingAuditSnapshotLite *mapping(const g_frags *f)
{
    const Mediation__V1__StageAudit *b = f->stage[G_ST_B];
    return b && b->snapshot_case == MEDIATION__V1__STAGE_AUDIT__SNAPSHOT_B_AUDIT && b->b_audit
               ? b->b_audit->mapping_audit_snapshot_lite
               : NULL;
}

static const char *slot_value(const Mediation__V1__MappingAuditSnapshotLite *m, const char *slot)
{
    for (size_t i = 0; m && i < m->n_records; i++)
        if (m->records[i]->semantic_slot && strcmp(m->records[i]->semantic_slot, slot) == 0)
            return m->records[i]->normalized;
    return NULL;
}

/* sha256 over "slot=normalized\n" of every mapping record of one canonical
 * block (B sorts them by slot): equal contexts give equal digests without
 * storing the (redacted) values again. */
static char *context_digest(med_arena *a, const Mediation__V1__MappingAuditSnapshotLite *m, const char *block)
{
    if (!m) return med_arena_strdup(a, NA);
    size_t pl = strlen(block), len = 0, cap = 256;
    char *buf = malloc(cap);
    for (size_t i = 0; buf && i < m->n_records; i++) {
        const char *s = m->records[i]->semantic_slot, *v = nz(m->records[i]->normalized);
        if (!s || strncmp(s, block, pl) != 0 || s[pl] != '.') continue;
        size_t need = strlen(s) + strlen(v) + 3;
        if (len + need > cap) {
            char *n = realloc(buf, cap = (len + need) * 2);
            if (!n) {
                free(buf);
                return NULL;
            }
            buf = n;
        }
        len += (size_t)snprintf(buf + len, cap - len, "%s=%s\n", s, v);
    }
    char h[65];
    if (!buf) return NULL;
    med_sha256_hex(buf, len, h);
    free(buf);
    return med_arena_strdup(a, h);
}

static const Mediation__V1__VersionAnchorSnapshot *anchor_snapshot(const g_frags *f)
{
    if (f->delivery && f->delivery->version_anchor_snapshot) return f->delivery->version_anchor_snapshot;
    for (int i = G_ST_E; i >= G_ST_A; i--)
        if (f->stage[i] && f->stage[i]->version_anchor_snapshot) return f->stage[i]->version_anchor_snapshot;
    return NULL;
}

static Mediation__V1__OpportunityInputSnapshotLite *input_snapshot(med_arena *a, const g_opp *o)
{
    const g_frags *f = &o->f;
    Mediation__V1__OpportunityInputSnapshotLite *s = MED_NEW(a, Mediation__V1__OpportunityInputSnapshotLite);
    if (!s) return NULL;
    mediation__v1__opportunity_input_snapshot_lite__init(s);
    const Mediation__V1__VersionAnchorSnapshot *v = anchor_snapshot(f);
    const Mediation__V1__MappingAuditSnapshotLite *m = mapping(f);
    s->request_schema_version = med_arena_strdup(a, v && v->anchor_set && !blank(v->anchor_set->schema_version)
                                                        ? v->anchor_set->schema_version : NA);
    s->placement_key = med_arena_strdup(a, !blank(slot_value(m, "PlacementMeta.placementKey"))
                                               ? slot_value(m, "PlacementMeta.placementKey")
                                               : !blank(o->placement_id) ? o->placement_id : NA);
    const char *pt = slot_value(m, "PlacementMeta.placementType");
    const char *ps = slot_value(m, "PlacementMeta.placementSurface");
    s->placement_type = med_arena_strdup(a, blank(pt) ? NA : pt);
    s->placement_surface = med_arena_strdup(a, blank(ps) ? NA : ps);
    s->policy_context_digest = context_digest(a, m, "PolicyContext");
    s->user_context_digest = context_digest(a, m, "UserContext");
    s->opportunity_context_digest = context_digest(a, m, "OpportunityContext");
    const Mediation__V1__StageAudit *sa = f->stage[G_ST_A];
    s->ingress_received_at_unix_ms = sa ? sa->started_at_unix_ms : o->audit_at_ms;
    return s;
}

/* ---- adapterParticipation ---- */

const Mediation__V1__DSupplyAuditLite *g_frags_d_audit(const g_frags *f)
{
    const Mediation__V1__StageAudit *d = f->stage[G_ST_D];
    return d && d->snapshot_case == MEDIATION__V1__STAGE_AUDIT__SNAPSHOT_D_AUDIT ? d->d_audit : NULL;
}

const Mediation__V1__EStageAuditLite *g_frags_e_audit(const g_frags *f)
{
    const Mediation__V1__StageAudit *e = f->stage[G_ST_E];
    return e && e->snapshot_case == MEDIATION__V1__STAGE_AUDIT__SNAPSHOT_E_AUDIT ? e->e_audit : NULL;
}

static const Mediation__V1__SourceRequestLite *request_of(const Mediation__V1__DSupplyAuditLite *d, const char *id)
{
    for (size_t i = 0; d && i < d->n_source_requests; i++)
        if (d->source_requests[i]->source_request_id && strcmp(d->source_requests[i]->source_request_id, id) == 0)
            return d->source_requests[i];
    return NULL;
}

static const Mediation__V1__SourceTraceLite *trace_of(const Mediation__V1__DSupplyAuditLite *d, const char *id)
{
    for (size_t i = 0; d && i < d->n_source_traces; i++)
        if (d->source_traces[i]->source_request_id && strcmp(d->source_traces[i]->source_request_id, id) == 0)
            return d->source_traces[i];
    return NULL;
}

static const char *response_status(const char *outcome_type)
{
    if (strcmp(outcome_type, "candidate") == 0) return "responded";
    if (strcmp(outcome_type, "timeout") == 0) return "timeout";
    if (strcmp(outcome_type, "no_fill") == 0) return "no_bid";
    return "error";
}

static int seen(char **v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0) return 1;
    return 0;
}

/* Candidates of a source as D mapped them (one mapping record per
 * candidate field; "" candidate id = an outcome record). */
static void candidate_counts(const Mediation__V1__DSupplyAuditLite *d, const char *source, int32_t *received,
                             int32_t *accepted)
{
    const char *ids[64];
    int dropped[64];
    size_t n = 0;
    for (size_t i = 0; d && i < d->n_mapping_records; i++) {
        const Mediation__V1__CandidateMappingRecordLite *m = d->mapping_records[i];
        if (!m->source_id || strcmp(m->source_id, source) != 0 || blank(m->source_candidate_id)) continue;
        size_t k = 0;
        while (k < n && strcmp(ids[k], m->source_candidate_id) != 0) k++;
        if (k == n && n < 64) {
            ids[n] = m->source_candidate_id;
            dropped[n++] = 0;
        }
        if (k < n && m->mapping_action && strcmp(m->mapping_action, "drop") == 0) dropped[k] = 1;
    }
    *received = (int32_t)n;
    *accepted = 0;
    for (size_t k = 0; k < n; k++) *accepted += !dropped[k];
}

static char **filter_codes(med_arena *a, const g_frags *f, const char *source,
                           const Mediation__V1__DispatchRecordLite *dr, size_t *n)
{
    const Mediation__V1__EStageAuditLite *e = g_frags_e_audit(f);
    const Mediation__V1__CandidateConsumptionDecisionLite *c = e ? e->candidate_consumption_decision : NULL;
    size_t cap = 1 + (c ? c->n_dropped_candidate_refs : 0);
    char **v = MED_NEWN(a, char *, cap);
    *n = 0;
    if (!v) return NULL;
    /* a dispatch that brought no candidate was filtered by its own outcome */
    if (strcmp(nz(dr->outcome_type), "candidate") != 0 && !blank(dr->reason_code))
        v[(*n)++] = med_arena_strdup(a, dr->reason_code);
    for (size_t i = 0; c && i < c->n_dropped_candidate_refs; i++) {
        const Mediation__V1__DroppedCandidateRefLite *x = c->dropped_candidate_refs[i];
        if (x->source_id && strcmp(x->source_id, source) == 0 && !blank(x->drop_reason_code) &&
            !seen(v, *n, x->drop_reason_code))
            v[(*n)++] = med_arena_strdup(a, x->drop_reason_code);
    }
    return v;
}

static Mediation__V1__AdapterParticipationLite *participation(med_arena *a, const g_frags *f,
                                                              const Mediation__V1__DSupplyAuditLite *d,
                                                              const Mediation__V1__DispatchRecordLite *dr)
{
    Mediation__V1__AdapterParticipationLite *p = MED_NEW(a, Mediation__V1__AdapterParticipationLite);
    if (!p) return NULL;
    mediation__v1__adapter_participation_lite__init(p);
    const char *id = nz(dr->source_request_id);
    const Mediation__V1__SourceRequestLite *rq = request_of(d, id);
    const Mediation__V1__SourceTraceLite *tr = trace_of(d, id);
    p->adapter_id = med_arena_strdup(a, nz(dr->source_id));
    p->adapter_request_id = med_arena_strdup(a, id);
    p->request_sent_at_unix_ms = rq ? rq->sent_at_unix_ms : tr ? tr->sent_at_unix_ms : 0;
    p->response_status = (char *)response_status(nz(dr->outcome_type));
    p->timeout_threshold_ms = dr->timeout_budget_ms;
    p->did_timeout = strcmp(p->response_status, "timeout") == 0;
    if (!p->did_timeout) {
        p->response_received_at_or_na_unix_ms_opt_case =
            MEDIATION__V1__ADAPTER_PARTICIPATION_LITE__RESPONSE_RECEIVED_AT_OR_NA_UNIX_MS_OPT_RESPONSE_RECEIVED_AT_OR_NA_UNIX_MS;
        p->response_received_at_or_na_unix_ms = p->request_sent_at_unix_ms + dr->elapsed_ms;
        p->response_latency_ms_or_na_opt_case =
            MEDIATION__V1__ADAPTER_PARTICIPATION_LITE__RESPONSE_LATENCY_MS_OR_NA_OPT_RESPONSE_LATENCY_MS_OR_NA;
        p->response_latency_ms_or_na = dr->elapsed_ms;
    }
    if (tr && tr->http_status > 0) {
        p->response_code_or_na_opt_case = MEDIATION__V1__ADAPTER_PARTICIPATION_LITE__RESPONSE_CODE_OR_NA_OPT_RESPONSE_CODE_OR_NA;
        p->response_code_or_na = med_arena_printf(a, "%d", tr->http_status);
    }
    candidate_counts(d, p->adapter_id, &p->candidate_received_count, &p->candidate_accepted_count);
    p->filter_reason_codes = filter_codes(a, f, p->adapter_id, dr, &p->n_filter_reason_codes);
    return p;
}

static int adapters(med_arena *a, const g_frags *f, Mediation__V1__GAuditRecordLite *r)
{
    const Mediation__V1__DSupplyAuditLite *d = g_frags_d_audit(f);
    const Mediation__V1__RouteAuditSnapshotLite *ra = d ? d->route_audit_snapshot_lite : NULL;
    size_t n = ra ? ra->n_dispatch_records : 0;
    r->adapter_participation = MED_NEWN(a, Mediation__V1__AdapterParticipationLite *, n);
    if (!r->adapter_participation) return -1;
    for (size_t i = 0; i < n; i++)
        if (!(r->adapter_participation[r->n_adapter_participation++] =
                  participation(a, f, d, ra->dispatch_records[i])))
            return -1;
    return 0;
}

/* ---- winnerSnapshot ---- */

static const Mediation__V1__CandidateConsumptionDecisionLite *consumption(const g_frags *f)
{
    const Mediation__V1__EStageAuditLite *e = g_frags_e_audit(f);
    if (e && e->candidate_consumption_decision) return e->candidate_consumption_decision;
    const Mediation__V1__Delivery *dl = f->delivery;
    return dl && dl->render_plan_lite ? dl->render_plan_lite->candidate_consumption_decision : NULL;
}

static const char *delivery_status(const g_frags *f)
{
    if (f->delivery && !blank(f->delivery->status)) return f->delivery->status;
    const Mediation__V1__EStageAuditLite *e = g_frags_e_audit(f);
    return e && !blank(e->delivery_status) ? e->delivery_status : NULL;
}

static const char *delivery_code(const g_frags *f)
{
    if (f->delivery && !blank(f->delivery->final_reason_code)) return f->delivery->final_reason_code;
    const Mediation__V1__EStageAuditLite *e = g_frags_e_audit(f);
    return e && !blank(e->final_reason_code) ? e->final_reason_code : NA;
}

#define WOPT(field, NAME) MEDIATION__V1__WINNER_SNAPSHOT_LITE__##NAME##_OPT_##NAME

static Mediation__V1__WinnerSnapshotLite *winner(med_arena *a, const g_frags *f)
{
    Mediation__V1__WinnerSnapshotLite *w = MED_NEW(a, Mediation__V1__WinnerSnapshotLite);
    if (!w) return NULL;
    mediation__v1__winner_snapshot_lite__init(w);
    const char *status = delivery_status(f);
    const Mediation__V1__CandidateConsumptionDecisionLite *c = consumption(f);
    const Mediation__V1__DSupplyAuditLite *d = g_frags_d_audit(f);
    const Mediation__V1__FinalRouteDecisionLite *fd =
        d && d->route_audit_snapshot_lite ? d->route_audit_snapshot_lite->final_route_decision : NULL;
    int served = status && strcmp(status, "served") == 0;
    const char *src = served && c && c->n_selected_candidate_refs ? c->selected_candidate_refs[0]->source_id
                      : served && fd                             ? fd->final_source_id
                                                                 : NULL;
    if (blank(src)) {
        w->winner_reason_code = med_arena_strdup(a, delivery_code(f));
        return w;
    }
    w->winner_adapter_id_or_na_opt_case = WOPT(winner_adapter_id_or_na, WINNER_ADAPTER_ID_OR_NA);
    w->winner_adapter_id_or_na = med_arena_strdup(a, src);
    if (c && c->n_selected_candidate_refs && !blank(c->selected_candidate_refs[0]->candidate_id)) {
        w->winner_candidate_ref_or_na_opt_case = WOPT(winner_candidate_ref_or_na, WINNER_CANDIDATE_REF_OR_NA);
        w->winner_candidate_ref_or_na = med_arena_strdup(a, c->selected_candidate_refs[0]->candidate_id);
    }
    if (f->delivery && f->delivery->winner_price_micros > 0) {
        w->winner_bid_price_or_na_opt_case = WOPT(winner_bid_price_or_na, WINNER_BID_PRICE_OR_NA);
        w->winner_bid_price_or_na = (double)f->delivery->winner_price_micros / 1e6;
    }
    if (f->delivery && !blank(f->delivery->winner_currency)) {
        w->winner_currency_or_na_opt_case = WOPT(winner_currency_or_na, WINNER_CURRENCY_OR_NA);
        w->winner_currency_or_na = med_arena_strdup(a, f->delivery->winner_currency);
    }
    w->winner_reason_code = med_arena_strdup(a, fd && !blank(fd->final_reason_code) ? fd->final_reason_code
                                                : c && !blank(c->consumption_reason_code) ? c->consumption_reason_code
                                                : delivery_code(f));
    if (fd && fd->selected_at_unix_ms) {
        w->winner_selected_at_or_na_unix_ms_opt_case = WOPT(winner_selected_at_or_na_unix_ms, WINNER_SELECTED_AT_OR_NA_UNIX_MS);
        w->winner_selected_at_or_na_unix_ms = fd->selected_at_unix_ms;
    }
    return w;
}

/* ---- events and render result (as F archived them) ---- */

typedef struct g_terminal {
    const g_fact *fact;     /* the terminal event, or NULL (open) */
    const g_fact *filled;   /* first ad_filled of its closure */
} g_terminal;

/* The archived verdict: the earliest counted impression, else the earliest
 * counted terminal failure (F's record statuses already applied F.6). */
static g_terminal archived_terminal(const g_fact *v, size_t n)
{
    g_terminal t = {0};
    for (int pass = 0; pass < 2 && !t.fact; pass++)
        for (size_t i = 0; i < n; i++) {
            if (!g_fact_counted(&v[i]) || blank(v[i].closure_key)) continue;
            int hit = pass == 0 ? g_fact_is_impression(&v[i]) : g_fact_is_terminal_failure(&v[i]);
            if (hit && (!t.fact || v[i].at_ms < t.fact->at_ms)) t.fact = &v[i];
        }
    for (size_t i = 0; t.fact && i < n; i++)
        if (strcmp(v[i].event_type, "ad_filled") == 0 && g_fact_counted(&v[i]) &&
            ((!t.fact->closure_key && !v[i].closure_key) ||
             (t.fact->closure_key && v[i].closure_key && strcmp(t.fact->closure_key, v[i].closure_key) == 0)) &&
            (!t.filled || v[i].at_ms < t.filled->at_ms))
            t.filled = &v[i];
    return t;
}

#define KOPT(NAME) MEDIATION__V1__KEY_EVENT_SUMMARY_LITE__##NAME##_OPT_##NAME

static Mediation__V1__KeyEventSummaryLite *event_summary(med_arena *a, const g_opp *o, const g_fact *v, size_t n,
                                                          const g_terminal *t)
{
    Mediation__V1__KeyEventSummaryLite *k = MED_NEW(a, Mediation__V1__KeyEventSummaryLite);
    if (!k) return NULL;
    mediation__v1__key_event_summary_lite__init(k);
    k->event_window_start_at_unix_ms = o->audit_at_ms;
    k->event_window_end_at_unix_ms = o->audit_at_ms;
    for (size_t i = 0; i < n; i++) {
        if (!g_fact_counted(&v[i])) continue;
        const char *et = v[i].event_type;
        k->impression_count += g_fact_is_impression(&v[i]);
        k->click_count += strcmp(et, "click") == 0;
        k->failure_count += g_fact_is_terminal_failure(&v[i]) || strcmp(v[i].attribution_type, "attr_error") == 0;
        k->interaction_count += strcmp(et, "interaction") == 0;
        k->postback_count += strcmp(et, "postback") == 0;
        if (v[i].at_ms > k->event_window_end_at_unix_ms) k->event_window_end_at_unix_ms = v[i].at_ms;
    }
    if (t->fact) {
        k->terminal_event_type_or_na_opt_case = KOPT(TERMINAL_EVENT_TYPE_OR_NA);
        k->terminal_event_type_or_na = (char *)(g_fact_is_impression(t->fact) ? "impression" : "failure");
        k->terminal_event_at_or_na_unix_ms_opt_case = KOPT(TERMINAL_EVENT_AT_OR_NA_UNIX_MS);
        k->terminal_event_at_or_na_unix_ms = t->fact->at_ms;
    }
    return k;
}

#define ROPT(NAME) MEDIATION__V1__RENDER_RESULT_SNAPSHOT_LITE__##NAME##_OPT_##NAME

static Mediation__V1__RenderResultSnapshotLite *render_result(med_arena *a, const g_frags *f, const g_terminal *t)
{
    Mediation__V1__RenderResultSnapshotLite *r = MED_NEW(a, Mediation__V1__RenderResultSnapshotLite);
    if (!r) return NULL;
    mediation__v1__render_result_snapshot_lite__init(r);
    const char *status = delivery_status(f);
    if (!t->fact) {
        r->render_status = (char *)"not_rendered";
        if (status && strcmp(status, "served") != 0) {
            r->render_reason_code_or_na_opt_case = ROPT(RENDER_REASON_CODE_OR_NA);
            r->render_reason_code_or_na = med_arena_strdup(a, delivery_code(f));
        }
        return r;
    }
    int ok = g_fact_is_impression(t->fact);
    r->render_status = (char *)(ok ? "rendered" : "failed");
    const char *ra = t->fact->render_attempt_id;
    r->render_attempt_id_or_na_opt_case = ROPT(RENDER_ATTEMPT_ID_OR_NA);
    r->render_attempt_id_or_na = med_arena_strdup(a, blank(ra) ? t->fact->source_event_id : ra);
    if (t->filled) {
        r->render_start_at_or_na_unix_ms_opt_case = ROPT(RENDER_START_AT_OR_NA_UNIX_MS);
        r->render_start_at_or_na_unix_ms = t->filled->at_ms;
        r->render_latency_ms_or_na_opt_case = ROPT(RENDER_LATENCY_MS_OR_NA);
        r->render_latency_ms_or_na = t->fact->at_ms - t->filled->at_ms;
    }
    r->render_end_at_or_na_unix_ms_opt_case = ROPT(RENDER_END_AT_OR_NA_UNIX_MS);
    r->render_end_at_or_na_unix_ms = t->fact->at_ms;
    if (!ok && !blank(t->fact->reason_code)) {
        r->render_reason_code_or_na_opt_case = ROPT(RENDER_REASON_CODE_OR_NA);
        r->render_reason_code_or_na = med_arena_strdup(a, t->fact->reason_code);
    }
    return r;
}

/* ---- replay anchors ---- */

static const char *arch_anchor(const g_frags *f, int which)
{
    for (size_t i = 0; i < f->n_arch; i++) {
        const Mediation__V1__ArchiveVersionAnchorsLite *v = f->arch[i].rec->version_anchors;
        const char *s = !v ? NULL : which == 0 ? v->event_contract_version : v->dedup_fingerprint_version;
        if (!blank(s)) return s;
    }
    return "";
}

Mediation__V1__ReplayAnchorsLite *g_assemble_anchors(med_arena *a, const g_frags *f)
{
    Mediation__V1__ReplayAnchorsLite *r = MED_NEW(a, Mediation__V1__ReplayAnchorsLite);
    if (!r) return NULL;
    mediation__v1__replay_anchors_lite__init(r);
    const Mediation__V1__VersionAnchorSnapshot *v = anchor_snapshot(f);
    const Mediation__V1__AnchorSet *s = v ? v->anchor_set : NULL;
#define A(field) r->field = med_arena_strdup(a, s ? nz(s->field) : "")
    A(schema_version);
    A(mapping_rule_version);
    A(routing_policy_version);
    A(policy_rule_version);
    A(delivery_rule_version);
    A(event_contract_version);
    A(dedup_fingerprint_version);
#undef A
    if (blank(r->event_contract_version)) r->event_contract_version = med_arena_strdup(a, arch_anchor(f, 0));
    if (blank(r->dedup_fingerprint_version)) r->dedup_fingerprint_version = med_arena_strdup(a, arch_anchor(f, 1));
    r->anchor_hash = med_arena_strdup(a, v ? nz(v->anchor_hash) : "");
    return r;
}

/* ---- keyReasonCodes ---- */

size_t g_key_reason_codes(med_arena *a, const Mediation__V1__GAuditRecordLite *r, char ***out)
{
    size_t cap = 2;
    for (size_t i = 0; i < r->n_adapter_participation; i++) cap += r->adapter_participation[i]->n_filter_reason_codes;
    char **v = MED_NEWN(a, char *, cap);
    size_t n = 0;
    *out = v;
    if (!v) return 0;
    const char *w = r->winner_snapshot ? r->winner_snapshot->winner_reason_code : NULL;
    if (!blank(w)) v[n++] = (char *)w;
    const Mediation__V1__RenderResultSnapshotLite *rr = r->render_result_snapshot;
    if (rr && rr->render_reason_code_or_na_opt_case && !blank(rr->render_reason_code_or_na) &&
        !seen(v, n, rr->render_reason_code_or_na))
        v[n++] = rr->render_reason_code_or_na;
    for (size_t i = 0; i < r->n_adapter_participation; i++) {
        const Mediation__V1__AdapterParticipationLite *p = r->adapter_participation[i];
        for (size_t k = 0; k < p->n_filter_reason_codes; k++)
            if (!blank(p->filter_reason_codes[k]) && !seen(v, n, p->filter_reason_codes[k]))
                v[n++] = p->filter_reason_codes[k];
    }
    return n;
}

/* ---- archive records in gate order (G.4), optional keys ---- */

static int type_rank(const char *t)
{
    for (int i = 0; i < 3; i++)
        if (t && strcmp(t, g_record_types[i]) == 0) return i;
    return 3;
}

static int gate_cmp(const void *pa, const void *pb)
{
    const Mediation__V1__FToGArchiveRecordLite *x = *(Mediation__V1__FToGArchiveRecordLite *const *)pa;
    const Mediation__V1__FToGArchiveRecordLite *y = *(Mediation__V1__FToGArchiveRecordLite *const *)pb;
    int d = type_rank(x->record_type) - type_rank(y->record_type);
    if (d) return d;
    if (x->output_at_unix_ms != y->output_at_unix_ms) return x->output_at_unix_ms < y->output_at_unix_ms ? -1 : 1;
    return strcmp(nz(x->record_key), nz(y->record_key));
}

static int archive_lists(med_arena *a, const g_frags *f, g_assembled *out)
{
    out->arch = MED_NEWN(a, Mediation__V1__FToGArchiveRecordLite *, f->n_arch);
    out->fda = MED_NEWN(a, Mediation__V1__FactDecisionAuditLite *, f->n_arch);
    if (!out->arch || !out->fda) return -1;
    for (size_t i = 0; i < f->n_arch; i++) out->arch[out->n_arch++] = f->arch[i].rec;
    qsort(out->arch, out->n_arch, sizeof *out->arch, gate_cmp);
    for (size_t i = 0; i < out->n_arch; i++) {
        const Mediation__V1__FToGArchiveRecordLite *r = out->arch[i];
        int t = type_rank(r->record_type);
        if (t < 3) out->count_by_type[t]++;
        if (r->payload_case == ARCH(PAYLOAD_DECISION_AUDIT) && r->decision_audit)
            out->fda[out->n_fda++] = r->decision_audit;
    }
    return 0;
}

static const char *first_relation(const g_assembled *g, int which)
{
    for (size_t i = 0; i < g->n_arch; i++) {
        const Mediation__V1__FToGArchiveRecordLite *r = g->arch[i];
        const Mediation__V1__ArchiveRelationKeysLite *k = r->relation_keys;
        if (!k || strcmp(nz(r->record_status), "rejected") == 0) continue;
        if (which == 1 && strcmp(nz(r->record_type), "billable_fact") == 0 && k->billing_key_or_na_opt_case &&
            !blank(k->billing_key_or_na) && strcmp(nz(r->record_status), "committed") == 0)
            return k->billing_key_or_na;
        if (which == 2 && k->attribution_key_or_na_opt_case && !blank(k->attribution_key_or_na))
            return k->attribution_key_or_na;
    }
    return NULL;
}

static void optional_keys(med_arena *a, const g_assembled *g, const g_terminal *t,
                          Mediation__V1__GAuditRecordLite *r)
{
    if (t->fact && !blank(t->fact->closure_key)) {
        r->closure_key_or_na_opt_case = REC(CLOSURE_KEY_OR_NA_OPT_CLOSURE_KEY_OR_NA);
        r->closure_key_or_na = med_arena_strdup(a, t->fact->closure_key);
    }
    const char *b = first_relation(g, 1), *at = first_relation(g, 2);
    if (b) {
        r->billing_key_or_na_opt_case = REC(BILLING_KEY_OR_NA_OPT_BILLING_KEY_OR_NA);
        r->billing_key_or_na = med_arena_strdup(a, b);
    }
    if (at) {
        r->attribution_key_or_na_opt_case = REC(ATTRIBUTION_KEY_OR_NA_OPT_ATTRIBUTION_KEY_OR_NA);
        r->attribution_key_or_na = med_arena_strdup(a, at);
    }
    char tag[G_TIME_TEXT_CAP];
    g_time_format(r->audit_at_unix_ms, tag);
    r->time_range_tag = med_arena_printf(a, "%.13s", tag); /* the auditAt hour */
}

static void keys(med_arena *a, const g_opp *o, Mediation__V1__GAuditRecordLite *r)
{
    r->audit_record_id = med_arena_strdup(a, o->audit_record_id);
    r->opportunity_key = med_arena_strdup(a, nz(o->opportunity_key));
    r->trace_key = med_arena_strdup(a, nz(o->trace_key));
    r->request_key = med_arena_strdup(a, nz(o->request_key));
    r->attempt_key = med_arena_strdup(a, nz(o->attempt_key));
    if (!blank(o->response_reference)) {
        r->response_reference_or_na_opt_case = REC(RESPONSE_REFERENCE_OR_NA_OPT_RESPONSE_REFERENCE_OR_NA);
        r->response_reference_or_na = med_arena_strdup(a, o->response_reference);
    }
    r->audit_at_unix_ms = o->audit_at_ms;
    r->audit_record_version = (char *)G_AUDIT_RECORD_VERSION;
    r->audit_rule_version = (char *)G_AUDIT_RULE_VERSION;
    r->audit_contract_version = (char *)G_AUDIT_CONTRACT_VERSION;
}

int64_t g_assemble_event_at(med_arena *a, const g_opp *o)
{
    g_fact *facts = NULL;
    size_t nf = g_facts_collect(a, &o->f, &facts);
    g_terminal t = archived_terminal(facts, nf);
    return t.fact ? t.fact->at_ms : o->audit_at_ms;
}

const char *g_assemble_delivery_status(const g_frags *f)
{
    return delivery_status(f);
}

const char *g_assemble_delivery_code(const g_frags *f)
{
    return delivery_code(f);
}

med_rc g_assemble(med_arena *a, const g_opp *o, g_assembled *out, med_err *err)
{
    memset(out, 0, sizeof *out);
    const g_frags *f = &o->f;
    Mediation__V1__GAuditRecordLite *r = MED_NEW(a, Mediation__V1__GAuditRecordLite);
    if (!r) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "audit record");
    mediation__v1__gaudit_record_lite__init(r);
    keys(a, o, r);
    g_fact *facts = NULL;
    size_t nf = g_facts_collect(a, f, &facts);
    g_terminal t = archived_terminal(facts, nf);
    r->opportunity_input_snapshot = input_snapshot(a, o);
    int bad = adapters(a, f, r) || archive_lists(a, f, out);
    r->winner_snapshot = winner(a, f);
    r->render_result_snapshot = render_result(a, f, &t);
    r->key_event_summary = event_summary(a, o, facts, nf, &t);
    r->replay_anchors = g_assemble_anchors(a, f);
    if (!bad) optional_keys(a, out, &t, r);
    out->rec = r;
    out->terminal_status = t.fact ? r->key_event_summary->terminal_event_type_or_na : "open";
    out->event_at_ms = t.fact ? t.fact->at_ms : o->audit_at_ms;
    out->missing_snapshot = !f->delivery && !f->stage[G_ST_E];
    out->n_key_reason_codes = g_key_reason_codes(a, r, &out->key_reason_codes);
    if (bad || a->failed) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "audit record");
    return MED_OK;
}
