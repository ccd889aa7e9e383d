#include "g_recompute.h"

#include <stdlib.h>
#include <string.h>

#include "med/reason.h"

#define ARCH(x) MEDIATION__V1__FTO_GARCHIVE_RECORD_LITE__##x
#define CLICK_UPGRADE_MS 120000

static int blank(const char *s)
{
    return !s || !*s || strcmp(s, "NA") == 0;
}

static int eq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

static char **copy_codes(med_arena *a, char *const *v, size_t n, size_t extra)
{
    char **c = MED_NEWN(a, char *, n + extra);
    if (c && n) memcpy(c, v, n * sizeof *c);
    return c;
}

static int event_slot(const g_fact *x)
{
    if (g_fact_is_impression(x)) return 0;
    if (strcmp(x->event_type, "click") == 0) return 1;
    if (g_fact_is_terminal_failure(x) || strcmp(x->attribution_type, "attr_error") == 0) return 2;
    if (strcmp(x->event_type, "interaction") == 0) return 3;
    if (strcmp(x->event_type, "postback") == 0) return 4;
    return -1;
}

/* ---- recorded side ---- */

static const char *billing_key_of(const Mediation__V1__FToGArchiveRecordLite *r)
{
    const Mediation__V1__ArchiveRelationKeysLite *k = r->relation_keys;
    if (k && k->billing_key_or_na_opt_case && !blank(k->billing_key_or_na)) return k->billing_key_or_na;
    return r->payload_case == ARCH(PAYLOAD_BILLABLE_FACT) && r->billable_fact ? r->billable_fact->billing_key : NULL;
}

void g_key_facts_recorded(med_arena *a, const g_opp *o, const g_assembled *g, g_key_facts *out)
{
    (void)o;
    memset(out, 0, sizeof *out);
    const Mediation__V1__GAuditRecordLite *r = g->rec;
    const Mediation__V1__WinnerSnapshotLite *w = r->winner_snapshot;
    out->winner = w && w->winner_adapter_id_or_na_opt_case ? w->winner_adapter_id_or_na : NULL;
    out->terminal_status = g->terminal_status;
    out->billing_keys = MED_NEWN(a, char *, g->n_arch);
    for (size_t i = 0; out->billing_keys && i < g->n_arch; i++) {
        const Mediation__V1__FToGArchiveRecordLite *x = g->arch[i];
        const char *st = x->record_status;
        if (!eq(x->record_type, "billable_fact") || !(eq(st, "committed") || eq(st, "new"))) continue;
        const char *k = billing_key_of(x);
        if (!blank(k)) out->billing_keys[out->n_billing_keys++] = (char *)k;
    }
    out->n_billing_keys = g_sorted_unique(out->billing_keys, out->n_billing_keys);
    out->reason_codes = copy_codes(a, g->key_reason_codes, g->n_key_reason_codes, 0);
    out->n_reason_codes = out->reason_codes ? g_sorted_unique(out->reason_codes, g->n_key_reason_codes) : 0;
    const Mediation__V1__KeyEventSummaryLite *k = r->key_event_summary;
    if (k) {
        out->event_counts[0] = k->impression_count;
        out->event_counts[1] = k->click_count;
        out->event_counts[2] = k->failure_count;
        out->event_counts[3] = k->interaction_count;
        out->event_counts[4] = k->postback_count;
    }
    out->render_status = r->render_result_snapshot ? r->render_result_snapshot->render_status : NULL;
}

/* ---- winner ---- */

static int e_blocks_render(const Mediation__V1__EStageAuditLite *e)
{
    if (!e) return 0;
    const Mediation__V1__RenderCapabilityGateSnapshotLite *gate = e->render_capability_gate_snapshot_lite;
    const Mediation__V1__ModeSelectionDecisionLite *sel = gate ? gate->selection_decision : NULL;
    if (sel && (blank(sel->selected_render_mode) || strcmp(sel->selected_render_mode, "none") == 0)) return 1;
    const Mediation__V1__EValidationSnapshotLite *v = e->e_validation_snapshot_lite;
    return v && eq(v->final_validation_action, "block");
}

/* E dropped every candidate it saw from this source. */
static int source_dropped(const Mediation__V1__EStageAuditLite *e, const Mediation__V1__DSupplyAuditLite *d,
                          const char *source)
{
    const Mediation__V1__CandidateConsumptionDecisionLite *c = e ? e->candidate_consumption_decision : NULL;
    size_t dropped = 0, mapped = 0;
    for (size_t i = 0; c && i < c->n_dropped_candidate_refs; i++)
        dropped += eq(c->dropped_candidate_refs[i]->source_id, source);
    const char *seen_ids[64];
    for (size_t i = 0; d && i < d->n_mapping_records; i++) {
        const Mediation__V1__CandidateMappingRecordLite *m = d->mapping_records[i];
        if (!eq(m->source_id, source) || blank(m->source_candidate_id)) continue;
        size_t k = 0;
        while (k < mapped && strcmp(seen_ids[k], m->source_candidate_id) != 0) k++;
        if (k == mapped && mapped < 64) seen_ids[mapped++] = m->source_candidate_id;
    }
    return dropped > 0 && dropped >= (mapped ? mapped : 1);
}

static int dispatch_cmp(const void *pa, const void *pb)
{
    const Mediation__V1__DispatchRecordLite *x = *(Mediation__V1__DispatchRecordLite *const *)pa;
    const Mediation__V1__DispatchRecordLite *y = *(Mediation__V1__DispatchRecordLite *const *)pb;
    if (x->step_index != y->step_index) return x->step_index < y->step_index ? -1 : 1;
    return x->route_hop < y->route_hop ? -1 : x->route_hop > y->route_hop;
}

static const char *strategy_of(const Mediation__V1__DSupplyAuditLite *d)
{
    const Mediation__V1__RoutePlanLite *p = d->route_plan_lite;
    if (p && p->execution_strategy_lite && !blank(p->execution_strategy_lite->strategy_type))
        return p->execution_strategy_lite->strategy_type;
    const Mediation__V1__RouteAuditSnapshotLite *ra = d->route_audit_snapshot_lite;
    return ra && ra->routing_hit_snapshot ? ra->routing_hit_snapshot->strategy_type : "waterfall";
}

static const Mediation__V1__DispatchRecordLite *recompute_winner(med_arena *a, const g_frags *f,
                                                                 const char *recorded)
{
    const Mediation__V1__DSupplyAuditLite *d = g_frags_d_audit(f);
    const Mediation__V1__EStageAuditLite *e = g_frags_e_audit(f);
    const Mediation__V1__RouteAuditSnapshotLite *ra = d ? d->route_audit_snapshot_lite : NULL;
    if (!ra || !ra->n_dispatch_records || e_blocks_render(e)) return NULL;
    Mediation__V1__DispatchRecordLite **v = MED_NEWN(a, Mediation__V1__DispatchRecordLite *, ra->n_dispatch_records);
    size_t n = 0;
    for (size_t i = 0; v && i < ra->n_dispatch_records; i++)
        if (eq(ra->dispatch_records[i]->outcome_type, "candidate")) v[n++] = ra->dispatch_records[i];
    if (!n) return NULL;
    qsort(v, n, sizeof *v, dispatch_cmp);
    const Mediation__V1__CandidateConsumptionDecisionLite *c = e ? e->candidate_consumption_decision : NULL;
    int top1 = c && eq(c->selection_mode, "top1_strict");
    if (eq(strategy_of(d), "waterfall")) {
        if (top1) n = 1; /* E scans the first fill only */
    } else {
        /* price ranking is not archived: the recorded winner stands iff it
         * filled and E kept its candidate */
        for (size_t i = 0; recorded && i < n; i++)
            if (eq(v[i]->source_id, recorded) && !source_dropped(e, d, recorded)) return v[i];
        if (top1 && c->n_dropped_candidate_refs) return NULL;
    }
    for (size_t i = 0; i < n; i++)
        if (!source_dropped(e, d, v[i]->source_id)) return v[i];
    return NULL;
}

/* ---- F.6 / F.7 rerun ---- */

typedef enum { CL_NONE = 0, CL_OPEN, CL_SUCCESS, CL_FAIL_REAL, CL_FAIL_SYNTH } cl_state;

typedef struct closure {
    const char *key;
    cl_state state;
    int superseded, billed_imp, billed_click, pending;
    int64_t pending_at;
    const g_fact *terminal;
} closure;

static int prio(const g_fact *x)
{
    return g_fact_is_impression(x) ? 0 : g_fact_is_terminal_failure(x) ? 1 : 2;
}

static int fact_cmp(const void *pa, const void *pb)
{
    const g_fact *x = *(const g_fact *const *)pa, *y = *(const g_fact *const *)pb;
    if (x->at_ms != y->at_ms) return x->at_ms < y->at_ms ? -1 : 1;
    if (prio(x) != prio(y)) return prio(x) - prio(y);
    return strcmp(x->source_event_id, y->source_event_id);
}

static int included(const g_fact *x)
{
    return g_fact_counted(x) || eq(x->record_status, "superseded") || eq(x->record_status, "conflicted");
}

static int synthesized(const g_fact *x)
{
    return strncmp(x->source_event_id, "evt_timeout_", 12) == 0 ||
           strcmp(x->reason_code, MED_R_F_TERMINAL_TIMEOUT_AUTOFILL) == 0;
}

static closure *closure_for(closure *cs, size_t *n, const char *key)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(cs[i].key, key) == 0) return &cs[i];
    cs[*n] = (closure){.key = key};
    return &cs[(*n)++];
}

typedef struct rerun {
    closure *cs;
    size_t n_cs;
    char **bills;
    size_t n_bills;
} rerun;

static void bill(med_arena *a, rerun *r, const closure *c, const char *type)
{
    char *k = med_arena_printf(a, "%s|%s", c->key, type);
    if (k) r->bills[r->n_bills++] = k;
}

static void on_impression(med_arena *a, rerun *r, closure *c, const g_fact *x, int served)
{
    int closes = c->state == CL_NONE || c->state == CL_OPEN || (c->state == CL_FAIL_SYNTH && !c->superseded);
    if (!closes) return;
    c->superseded |= c->state == CL_FAIL_SYNTH;
    c->state = CL_SUCCESS;
    c->terminal = x;
    if (!served || c->billed_imp) return;
    c->billed_imp = 1;
    bill(a, r, c, "billable_impression");
    if (c->pending && !c->billed_click && x->at_ms - c->pending_at <= CLICK_UPGRADE_MS) {
        c->billed_click = 1;
        bill(a, r, c, "billable_click");
    }
}

static void step(med_arena *a, rerun *r, const g_fact *x, int served)
{
    closure *c = closure_for(r->cs, &r->n_cs, x->closure_key);
    if (g_fact_is_impression(x)) {
        on_impression(a, r, c, x, served);
    } else if (g_fact_is_terminal_failure(x)) {
        if (c->state == CL_NONE || c->state == CL_OPEN) {
            c->state = synthesized(x) ? CL_FAIL_SYNTH : CL_FAIL_REAL;
            c->terminal = x;
        }
    } else if (strcmp(x->event_type, "ad_filled") == 0) {
        if (c->state == CL_NONE) c->state = CL_OPEN;
    } else if (strcmp(x->event_type, "click") == 0 && c->state != CL_FAIL_REAL && c->state != CL_FAIL_SYNTH) {
        if (c->billed_imp && !c->billed_click) {
            c->billed_click = 1;
            bill(a, r, c, "billable_click");
        } else if (!c->billed_imp && !c->pending) {
            c->pending = 1;
            c->pending_at = x->at_ms;
        }
    }
}

static const g_fact *rerun_closures(med_arena *a, const g_opp *o, rerun *r)
{
    g_fact *facts = NULL;
    size_t nf = g_facts_collect(a, &o->f, &facts);
    const g_fact **v = MED_NEWN(a, const g_fact *, nf);
    r->cs = MED_NEWN(a, closure, nf);
    size_t max_bills = 2 * nf;
    r->bills = MED_NEWN(a, char *, max_bills);
    if (!v || !r->cs || !r->bills) return NULL;
    size_t n = 0;
    for (size_t i = 0; i < nf; i++)
        if (included(&facts[i]) && !blank(facts[i].closure_key)) v[n++] = &facts[i];
    qsort(v, n, sizeof *v, fact_cmp);
    const char *status = g_assemble_delivery_status(&o->f);
    for (size_t i = 0; i < n; i++) step(a, r, v[i], eq(status, "served"));
    const g_fact *t = NULL;
    for (size_t i = 0; i < r->n_cs; i++)
        if (r->cs[i].state == CL_SUCCESS && (!t || !g_fact_is_impression(t) || r->cs[i].terminal->at_ms < t->at_ms))
            t = r->cs[i].terminal;
    for (size_t i = 0; !t && i < r->n_cs; i++)
        if (r->cs[i].state == CL_FAIL_REAL || r->cs[i].state == CL_FAIL_SYNTH) t = r->cs[i].terminal;
    return t;
}

/* Each accepted event once, by its sourceEventId. */
static void recount(med_arena *a, const g_opp *o, int32_t counts[G_EVENT_COUNTS])
{
    g_fact *facts = NULL;
    size_t nf = g_facts_collect(a, &o->f, &facts);
    for (size_t i = 0; i < nf; i++) {
        int s = event_slot(&facts[i]), dup = 0;
        if (s < 0 || !g_fact_counted(&facts[i])) continue;
        for (size_t k = 0; k < i && !dup; k++)
            dup = g_fact_counted(&facts[k]) && event_slot(&facts[k]) == s &&
                  strcmp(facts[k].source_event_id, facts[i].source_event_id) == 0;
        counts[s] += !dup;
    }
}

static void recompute_codes(med_arena *a, const g_opp *o, const g_assembled *g, const char *winner_code,
                            const g_fact *terminal, g_key_facts *out)
{
    const Mediation__V1__GAuditRecordLite *r = g->rec;
    size_t cap = 2;
    for (size_t i = 0; i < r->n_adapter_participation; i++) cap += r->adapter_participation[i]->n_filter_reason_codes;
    out->reason_codes = MED_NEWN(a, char *, cap);
    if (!out->reason_codes) return;
    size_t n = 0;
    if (!blank(winner_code)) out->reason_codes[n++] = (char *)winner_code;
    const char *status = g_assemble_delivery_status(&o->f);
    if (terminal && !g_fact_is_impression(terminal) && !blank(terminal->reason_code))
        out->reason_codes[n++] = (char *)terminal->reason_code;
    else if (!terminal && status && !eq(status, "served") && !blank(g_assemble_delivery_code(&o->f)))
        out->reason_codes[n++] = (char *)g_assemble_delivery_code(&o->f);
    for (size_t i = 0; i < r->n_adapter_participation; i++)
        for (size_t k = 0; k < r->adapter_participation[i]->n_filter_reason_codes; k++)
            if (!blank(r->adapter_participation[i]->filter_reason_codes[k]))
                out->reason_codes[n++] = r->adapter_participation[i]->filter_reason_codes[k];
    out->n_reason_codes = g_sorted_unique(out->reason_codes, n);
}

void g_key_facts_recompute(med_arena *a, const g_opp *o, const g_assembled *g, g_key_facts *out)
{
    memset(out, 0, sizeof *out);
    const Mediation__V1__WinnerSnapshotLite *w = g->rec->winner_snapshot;
    const char *recorded = w && w->winner_adapter_id_or_na_opt_case ? w->winner_adapter_id_or_na : NULL;
    const Mediation__V1__DispatchRecordLite *win = recompute_winner(a, &o->f, recorded);
    out->winner = win ? win->source_id : NULL;
    const char *winner_code = !win                          ? g_assemble_delivery_code(&o->f)
                              : eq(win->source_id, recorded) ? w->winner_reason_code
                                                             : win->reason_code;
    rerun r = {0};
    const g_fact *t = rerun_closures(a, o, &r);
    out->terminal_status = !t ? "open" : g_fact_is_impression(t) ? "impression" : "failure";
    out->render_status = !t ? "not_rendered" : g_fact_is_impression(t) ? "rendered" : "failed";
    out->billing_keys = r.bills;
    out->n_billing_keys = r.bills ? g_sorted_unique(r.bills, r.n_bills) : 0;
    recompute_codes(a, o, g, winner_code, t, out);
    recount(a, o, out->event_counts);
}
