/* Phase 4: F.4 steps 10-12, F.6 closures and F.7 facts for one batch,
 * against the rows the store loaded (and locked) in phase 3. Rows are
 * changed in place and marked dirty; the store writes them in phase 7. */
#include <stdlib.h>
#include <string.h>

#include "f_closure.h"
#include "f_decide.h"
#include "f_dedup.h"
#include "f_facts.h"
#include "f_keys.h"
#include "f_validate.h"
#include "med/reason.h"

/* ---- steps 10-12 ---- */

static void reject_after_claim(f_batch_work *b, f_event_work *ew, const char *reason)
{
    ew->status = F_ACK_REJECTED;
    ew->reason = reason;
    ew->retryable = 0;
    f_dedup_row *r = ew->dedup_row >= 0 ? &b->dedup[ew->dedup_row] : NULL;
    /* the claim would otherwise turn the client's corrected resend into a
     * duplicate of an event F never accepted */
    if (r && r->won && r->first_event == ew->index) r->release = 1;
}

static void step_dedup(f_batch_work *b, f_event_work *ew)
{
    if (ew->dedup_row < 0) return;
    const f_dedup_row *r = &b->dedup[ew->dedup_row];
    f_dedup_verdict v =
        f_dedup_row_verdict(r, ew->fingerprint, r->first_event == ew->index, &b->windows);
    ew->dedup_outcome = v.outcome;
    if (v.process) return;
    ew->status = v.status;
    ew->reason = v.reason;
    ew->retryable = v.retryable;
}

/* Step 11: integer >= 1, strictly above the scope's last accepted value
 * (the stored one, then the batch's own). */
static void step_seq(f_batch_work *b, f_event_work *ew)
{
    const Mediation__V1__SdkEvent *ev = ew->ev;
    if (!f_type_has_seq(f_ev_internal_type(ev))) return;
    if (!ev->event_seq_opt_case || ev->event_seq < 1 || ew->seq_row < 0) {
        reject_after_claim(b, ew, MED_R_F_EVENT_SEQ_INVALID);
        return;
    }
    f_seq_row *r = &b->seqs[ew->seq_row];
    int64_t last = r->dirty ? r->new_last : r->stored_last;
    if (ev->event_seq <= last) {
        reject_after_claim(b, ew, MED_R_F_EVENT_SEQ_INVALID);
        return;
    }
    r->new_last = ev->event_seq;
    r->dirty = 1;
}

static const f_delivery_row *delivery_of(const f_batch_work *b, const f_event_work *ew)
{
    return ew->delivery_row >= 0 && b->deliveries[ew->delivery_row].found
               ? &b->deliveries[ew->delivery_row]
               : NULL;
}

/* Step 12 (E.11 case 15): a no_fill / error Delivery rendered nothing. */
static void step_forbidden(f_batch_work *b, f_event_work *ew)
{
    if (f_ev_internal_type(ew->ev) != F_T_IMPRESSION) return;
    const f_delivery_row *d = delivery_of(b, ew);
    if (d && d->status && (strcmp(d->status, "no_fill") == 0 || strcmp(d->status, "error") == 0))
        reject_after_claim(b, ew, MED_R_F_EVENT_IMPRESSION_FORBIDDEN_STATUS);
}

static void steps_10_to_12(f_batch_work *b)
{
    for (size_t i = 0; i < b->n_events; i++) {
        f_event_work *ew = &b->events[i];
        if (ew->status != F_ACK_PENDING) continue;
        step_dedup(b, ew);
        if (ew->status == F_ACK_PENDING) step_seq(b, ew);
        if (ew->status == F_ACK_PENDING) step_forbidden(b, ew);
        if (ew->status == F_ACK_PENDING) ew->status = F_ACK_ACCEPTED;
    }
}

/* ---- F.6 order: impression, failure, rest; eventAt; eventId ---- */

static int rank(const f_event_work *ew)
{
    f_event_type t = f_ev_internal_type(ew->ev);
    return t == F_T_IMPRESSION ? 0 : t == F_T_FAILURE ? 1 : 2;
}

static int cmp_apply_order(const void *pa, const void *pb)
{
    const f_event_work *a = *(f_event_work *const *)pa, *b = *(f_event_work *const *)pb;
    if (rank(a) != rank(b)) return rank(a) - rank(b);
    if (a->event_at_ms != b->event_at_ms) return a->event_at_ms < b->event_at_ms ? -1 : 1;
    int c = strcmp(a->ev->event_id ? a->ev->event_id : "", b->ev->event_id ? b->ev->event_id : "");
    return c ? c : a->index - b->index;
}

/* ---- per event: facts ---- */

static int is_click_expiry(const f_event_work *ew)
{
    return ew->ev->synthesized && F_REQ(ew->ev->internal_kind) &&
           strcmp(ew->ev->internal_kind, "click_expiry") == 0;
}

static f_fact_src src_of(const f_batch_work *b, const f_event_work *ew)
{
    const Mediation__V1__SdkEvent *ev = ew->ev;
    return (f_fact_src){F_REQ(ev->event_id),         ew->internal_type,
                        F_OPT(ev, response_reference), F_OPT(ev, render_attempt_id),
                        F_REQ(ev->opportunity_key),  F_REQ(ev->trace_key),
                        b->received_at_ms};
}

static med_rc add_attribution(f_batch_work *b, f_event_work *ew, const char *type)
{
    f_fact_src s = src_of(b, ew);
    Mediation__V1__AttributionFactLite *f = f_fact_attribution(&b->arena, &s, type);
    if (!f) return MED_ERR_NOMEM;
    if (!ew->attribution) ew->attribution = MED_NEWN(&b->arena, Mediation__V1__AttributionFactLite *, 2);
    if (!ew->attribution || ew->n_attribution >= 2) return MED_ERR_NOMEM;
    ew->attribution[ew->n_attribution++] = f;
    return MED_OK;
}

/* A billable fact and the claim that guards it (phase 5 inserts it). */
static med_rc add_billable(f_batch_work *b, f_event_work *ew, const f_fact_src *s,
                           const char *type, const f_delivery_row *d, int *claim_index)
{
    Mediation__V1__BillableFactLite *f =
        f_fact_billable(&b->arena, s, type, d->amount_micros, d->currency);
    if (!f) return MED_ERR_NOMEM;
    if (!ew->billable) ew->billable = MED_NEWN(&b->arena, Mediation__V1__BillableFactLite *, 2);
    if (!ew->billable || ew->n_billable >= 2 || ew->n_claims >= 2) return MED_ERR_NOMEM;
    ew->billable[ew->n_billable++] = f;
    f_billing_claim *c = &ew->claims[ew->n_claims];
    c->billing_key = f->billing_key;
    c->billable_type = type;
    c->source_event_id = s->event_id;
    c->amount_micros = d->amount_micros;
    c->won = 0;
    if (claim_index) *claim_index = (int)ew->n_claims;
    ew->n_claims++;
    return MED_OK;
}

/* The event's own billable facts (an upgraded pending click rides along
 * with its own decision). */
static size_t own_billables(const f_event_work *ew)
{
    size_t n = 0;
    const char *id = F_REQ(ew->ev->event_id);
    for (size_t i = 0; i < ew->n_billable; i++)
        if (id && strcmp(ew->billable[i]->source_event_id, id) == 0) n++;
    return n;
}

static med_rc set_decision(f_batch_work *b, f_event_work *ew, const char *reason, const char *conflict)
{
    ew->fact_decision = f_fact_decision(&b->arena, F_REQ(ew->ev->event_id),
                                        f_fact_action(own_billables(ew), ew->n_attribution), reason,
                                        conflict, b->now_ms);
    return ew->fact_decision ? MED_OK : MED_ERR_NOMEM;
}

static void clear_pending(f_closure_row *c)
{
    c->pending_click_event_id = NULL;
    c->pending_click_received_ms = 0;
    c->pending_click_dedup_key = NULL;
    c->pending_click_trace_key = NULL;
    c->dirty = 1;
}

static f_fact_src pending_click_src(const f_batch_work *b, const f_event_work *ew,
                                    const f_closure_row *c)
{
    f_fact_src s = src_of(b, ew);
    s.event_id = c->pending_click_event_id;
    s.event_type = "click";
    s.trace_key = c->pending_click_trace_key;
    s.fact_at_ms = c->pending_click_received_ms;
    return s;
}

static void remember_click(f_event_work *ew, const f_closure_row *c)
{
    ew->click.click_event_id = c->pending_click_event_id;
    ew->click.click_dedup_key = c->pending_click_dedup_key;
    ew->click.click_trace_key = c->pending_click_trace_key;
    ew->click.click_received_ms = c->pending_click_received_ms;
}

/* F.7: a pending click is billed if the impression bills within the
 * terminal wait of the click's receivedAt. A later one stays pending: the
 * scanner emits its f_billing_click_without_impression. */
static med_rc upgrade_pending_click(f_batch_work *b, f_event_work *ew, f_closure_row *c,
                                    const f_delivery_row *d)
{
    if (!c->pending_click_event_id || c->billed_click) return MED_OK;
    if (b->received_at_ms - c->pending_click_received_ms > b->windows.terminal_wait_ms) return MED_OK;
    f_fact_src s = pending_click_src(b, ew, c);
    med_rc rc = add_billable(b, ew, &s, F_BILLABLE_CLICK, d, &ew->click.claim);
    if (rc != MED_OK) return rc;
    remember_click(ew, c);
    ew->click.decision = f_fact_decision(&b->arena, s.event_id, F_ACTION_BILLABLE,
                                         MED_R_F_BILLING_CLICK_UPGRADED, F_CONFLICT_NONE, b->now_ms);
    c->billed_click = 1;
    clear_pending(c);
    return ew->click.decision ? MED_OK : MED_ERR_NOMEM;
}

/* F.7: a pending click whose closure ends in failure never bills. */
static med_rc pending_click_into_failure(f_batch_work *b, f_event_work *ew, f_closure_row *c)
{
    if (!c || !c->pending_click_event_id) return MED_OK;
    f_fact_src s = pending_click_src(b, ew, c);
    remember_click(ew, c);
    ew->click.attribution = f_fact_attribution(&b->arena, &s, F_ATTR_CLICK_NON_BILLABLE);
    ew->click.decision = f_fact_decision(&b->arena, s.event_id, F_ACTION_ATTRIBUTION,
                                         MED_R_F_BILLING_INELIGIBLE_TERMINAL_FAILURE,
                                         F_CONFLICT_TERMINAL, b->now_ms);
    clear_pending(c);
    return ew->click.attribution && ew->click.decision ? MED_OK : MED_ERR_NOMEM;
}

static med_rc impression_facts(f_batch_work *b, f_event_work *ew, f_closure_row *c)
{
    med_rc rc = add_attribution(b, ew, f_attribution_type_of(F_T_IMPRESSION));
    if (rc != MED_OK) return rc;
    const f_delivery_row *d = delivery_of(b, ew);
    if (c->billed_impression)
        return set_decision(b, ew, MED_R_F_BILLING_CONFLICT_DUPLICATE_IMPRESSION,
                            F_CONFLICT_BILLING_KEY);
    if (!d) return set_decision(b, ew, MED_R_F_BILLING_DELIVERY_NOT_FOUND, F_CONFLICT_NONE);
    if (!d->status || strcmp(d->status, "served") != 0)
        return set_decision(b, ew, MED_R_F_BILLING_INELIGIBLE_TERMINAL_NOT_SUCCESS, F_CONFLICT_NONE);
    f_fact_src s = src_of(b, ew);
    rc = add_billable(b, ew, &s, F_BILLABLE_IMPRESSION, d, NULL);
    if (rc != MED_OK) return rc;
    c->billed_impression = 1;
    c->dirty = 1;
    rc = upgrade_pending_click(b, ew, c, d);
    return rc == MED_OK ? set_decision(b, ew, MED_R_F_FACTS_MAPPED, F_CONFLICT_NONE) : rc;
}

static med_rc make_pending(f_batch_work *b, f_event_work *ew, f_closure_row *c)
{
    c->pending_click_event_id = F_REQ(ew->ev->event_id);
    c->pending_click_received_ms = b->received_at_ms;
    c->pending_click_dedup_key = ew->dedup_key;
    c->pending_click_trace_key = F_REQ(ew->ev->trace_key);
    c->dirty = 1;
    med_rc rc = add_attribution(b, ew, F_ATTR_CLICK_PENDING);
    return rc == MED_OK ? set_decision(b, ew, MED_R_F_FACTS_MAPPED, F_CONFLICT_NONE) : rc;
}

static med_rc non_billable_click(f_batch_work *b, f_event_work *ew, const char *reason,
                                 const char *conflict)
{
    med_rc rc = add_attribution(b, ew, F_ATTR_CLICK_NON_BILLABLE);
    return rc == MED_OK ? set_decision(b, ew, reason, conflict) : rc;
}

/* F.7 click rows, first match: terminal failure, a click already billed,
 * a billable impression (bill), another click pending, an impression
 * that did not bill, else pending. */
static med_rc click_facts(f_batch_work *b, f_event_work *ew, f_closure_row *c)
{
    if (c->state == F_CLOSURE_CLOSED_FAILURE)
        return non_billable_click(b, ew, MED_R_F_BILLING_INELIGIBLE_TERMINAL_FAILURE,
                                  F_CONFLICT_TERMINAL);
    if (c->billed_click)
        return non_billable_click(b, ew, MED_R_F_BILLING_CONFLICT_DUPLICATE_CLICK,
                                  F_CONFLICT_BILLING_KEY);
    if (c->billed_impression) {
        med_rc rc = add_attribution(b, ew, f_attribution_type_of(F_T_CLICK));
        const f_delivery_row *d = delivery_of(b, ew);
        if (rc != MED_OK) return rc;
        if (!d) return set_decision(b, ew, MED_R_F_BILLING_DELIVERY_NOT_FOUND, F_CONFLICT_NONE);
        f_fact_src s = src_of(b, ew);
        rc = add_billable(b, ew, &s, F_BILLABLE_CLICK, d, NULL);
        if (rc != MED_OK) return rc;
        c->billed_click = 1;
        c->dirty = 1;
        return set_decision(b, ew, MED_R_F_FACTS_MAPPED, F_CONFLICT_NONE);
    }
    if (c->pending_click_event_id)
        return non_billable_click(b, ew, MED_R_F_BILLING_CONFLICT_DUPLICATE_CLICK,
                                  F_CONFLICT_BILLING_KEY);
    if (c->state == F_CLOSURE_CLOSED_SUCCESS)
        return non_billable_click(b, ew, MED_R_F_BILLING_CLICK_WITHOUT_IMPRESSION, F_CONFLICT_NONE);
    return make_pending(b, ew, c);
}

static med_rc postback_facts(f_batch_work *b, f_event_work *ew, const f_closure_row *c)
{
    med_rc rc = add_attribution(b, ew, f_attribution_type_of(F_T_POSTBACK));
    if (rc != MED_OK) return rc;
    if (c && c->state == F_CLOSURE_CLOSED_FAILURE) {
        ew->conflicted = 1;
        return set_decision(b, ew, MED_R_F_BILLING_POSTBACK_CONFLICT, F_CONFLICT_TERMINAL);
    }
    return set_decision(b, ew, MED_R_F_FACTS_MAPPED, F_CONFLICT_NONE);
}

static med_rc accepted_facts(f_batch_work *b, f_event_work *ew, f_closure_row *c)
{
    f_event_type t = f_ev_internal_type(ew->ev);
    med_rc rc;
    switch (t) {
    case F_T_IMPRESSION: return c ? impression_facts(b, ew, c) : MED_ERR_INTERNAL;
    case F_T_CLICK: return c ? click_facts(b, ew, c) : MED_ERR_INTERNAL;
    case F_T_POSTBACK: return postback_facts(b, ew, c);
    case F_T_FAILURE:
        rc = add_attribution(b, ew, F_ATTR_FAILURE_TERMINAL);
        if (rc == MED_OK) rc = pending_click_into_failure(b, ew, c);
        return rc == MED_OK ? set_decision(b, ew, MED_R_F_FACTS_MAPPED, F_CONFLICT_NONE) : rc;
    default:
        rc = add_attribution(b, ew, f_attribution_type_of(t));
        if (rc != MED_OK) return rc;
        /* ad_filled on a closed closure: accepted, audited as ignored */
        if (ew->closure_decision &&
            strcmp(ew->closure_decision->reason_code, MED_R_F_TERMINAL_EVENT_IGNORED) == 0)
            return set_decision(b, ew, MED_R_F_TERMINAL_EVENT_IGNORED, F_CONFLICT_NONE);
        return set_decision(b, ew, MED_R_F_FACTS_MAPPED, F_CONFLICT_NONE);
    }
}

/* A closure conflict keeps the event as a conflicted attribution record,
 * never a bill. */
static med_rc conflict_facts(f_batch_work *b, f_event_work *ew, const char *conflict)
{
    f_event_type t = f_ev_internal_type(ew->ev);
    const char *type = f_attribution_type_of(t);
    if (t == F_T_IMPRESSION && strcmp(ew->reason, MED_R_F_BILLING_CONFLICT_DUPLICATE_IMPRESSION) == 0)
        type = F_ATTR_IMPRESSION_DUPLICATE;
    ew->conflicted = 1;
    med_rc rc = add_attribution(b, ew, type);
    return rc == MED_OK ? set_decision(b, ew, ew->reason, conflict) : rc;
}

/* ---- per event: closure ---- */

static int closure_input(const f_event_work *ew, f_closure_input *in)
{
    switch (f_ev_internal_type(ew->ev)) {
    case F_T_AD_FILLED: *in = F_CI_AD_FILLED; return 1;
    case F_T_IMPRESSION: *in = F_CI_IMPRESSION; return 1;
    case F_T_FAILURE: *in = ew->ev->synthesized ? F_CI_SYNTH_FAILURE : F_CI_FAILURE; return 1;
    default: return 0;
    }
}

static Mediation__V1__ClosureDecisionLite *closure_decision(f_batch_work *b, const f_closure_row *c,
                                                            f_closure_state from,
                                                            const f_closure_verdict *v)
{
    Mediation__V1__ClosureDecisionLite *d = MED_NEW(&b->arena, Mediation__V1__ClosureDecisionLite);
    if (!d) return NULL;
    *d = (Mediation__V1__ClosureDecisionLite)MEDIATION__V1__CLOSURE_DECISION_LITE__INIT;
    d->closure_key_or_na_opt_case =
        MEDIATION__V1__CLOSURE_DECISION_LITE__CLOSURE_KEY_OR_NA_OPT_CLOSURE_KEY_OR_NA;
    d->closure_key_or_na = (char *)c->closure_key;
    d->from_state = (char *)f_closure_state_name(from);
    d->to_state = (char *)f_closure_state_name(v->to_state);
    d->terminal_source = (char *)f_terminal_source_name(v->to_source);
    d->start_signal_missing = v->start_signal_missing;
    d->reason_code = (char *)v->reason;
    d->opened_at_unix_ms = c->opened_at_ms;
    return d;
}

static void open_closure(f_batch_work *b, f_closure_row *c, const Mediation__V1__SdkEvent *ev)
{
    c->opened_at_ms = b->received_at_ms;
    c->open_trace_key = F_REQ(ev->trace_key);
    c->open_request_key = F_REQ(ev->request_key);
    c->open_attempt_key = F_REQ(ev->attempt_key);
    c->open_opportunity_key = F_REQ(ev->opportunity_key);
    c->open_event_version = F_REQ(ev->event_version);
}

static med_rc apply_closure(f_batch_work *b, f_event_work *ew, f_closure_row *c, f_closure_input in,
                            const char **conflict)
{
    f_closure_state from = c->state;
    f_closure_verdict v = f_closure_apply(from, c->source, in);
    *conflict = v.conflict;
    ew->closure_decision = closure_decision(b, c, from, &v);
    if (!ew->closure_decision) return MED_ERR_NOMEM;
    if (v.status == F_ACK_DUPLICATE) {
        ew->status = F_ACK_DUPLICATE;
        ew->reason = v.reason;
        return MED_OK;
    }
    if (v.supersede) {
        ew->supersedes_record_key =
            c->timeout_record_key
                ? c->timeout_record_key
                : f_timeout_record_key(&b->arena, b->req->app_id, c->response_reference,
                                       c->render_attempt_id);
        c->superseded_once = 1;
    }
    if (in == F_CI_SYNTH_FAILURE && !c->timeout_record_key) {
        c->timeout_record_key = f_timeout_record_key(&b->arena, b->req->app_id,
                                                     c->response_reference, c->render_attempt_id);
        c->dirty = 1;
    }
    if (from == F_CLOSURE_NONE && in == F_CI_AD_FILLED) open_closure(b, c, ew->ev);
    if (from != v.to_state || c->source != v.to_source) c->dirty = 1;
    c->state = v.to_state;
    c->source = v.to_source;
    ew->closure_decision->opened_at_unix_ms = c->opened_at_ms;
    return MED_OK;
}

static med_rc decide_accepted(f_batch_work *b, f_event_work *ew)
{
    f_closure_row *c = ew->closure_row >= 0 ? &b->closures[ew->closure_row] : NULL;
    f_closure_input in;
    const char *conflict = F_CONFLICT_NONE;
    if (c && closure_input(ew, &in)) {
        med_rc rc = apply_closure(b, ew, c, in, &conflict);
        if (rc != MED_OK) return rc;
    }
    if (ew->status == F_ACK_DUPLICATE) return conflict_facts(b, ew, conflict);
    return accepted_facts(b, ew, c);
}

/* A rejected or dedup-duplicate event: only its audit (F.8). */
static med_rc decide_dropped(f_batch_work *b, f_event_work *ew)
{
    const char *reason = ew->reason;
    if (is_click_expiry(ew)) reason = MED_R_F_BILLING_CLICK_WITHOUT_IMPRESSION;
    ew->fact_decision = f_fact_decision(&b->arena, F_REQ(ew->ev->event_id), F_ACTION_DROP, reason,
                                        F_CONFLICT_NONE, b->now_ms);
    return ew->fact_decision ? MED_OK : MED_ERR_NOMEM;
}

static med_rc decide_in_order(f_batch_work *b)
{
    f_event_work **order = MED_NEWN(&b->arena, f_event_work *, b->n_events);
    if (!order) return MED_ERR_NOMEM;
    size_t n = 0;
    for (size_t i = 0; i < b->n_events; i++)
        if (b->events[i].status == F_ACK_ACCEPTED && !is_click_expiry(&b->events[i]))
            order[n++] = &b->events[i];
    qsort(order, n, sizeof *order, cmp_apply_order);
    for (size_t i = 0; i < n; i++) {
        med_rc rc = decide_accepted(b, order[i]);
        if (rc != MED_OK) return rc;
    }
    for (size_t i = 0; i < b->n_events; i++) {
        f_event_work *ew = &b->events[i];
        if (ew->fact_decision) continue;
        med_rc rc = decide_dropped(b, ew);
        if (rc != MED_OK) return rc;
    }
    return MED_OK;
}

med_rc f_phase_decide(f_batch_work *b, med_err *err)
{
    if (!b->req || !b->events)
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_PERMANENT_FAILURE, NULL,
                           "decide needs a validated batch");
    steps_10_to_12(b);
    med_rc rc = decide_in_order(b);
    if (rc == MED_ERR_NOMEM || b->arena.failed)
        return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "out of memory");
    if (rc != MED_OK)
        return med_err_set(err, rc, MED_R_INFRA_PERMANENT_FAILURE, NULL,
                           "an event lost its closure row between phases");
    return MED_OK;
}

/* ---- phase 5 feedback ---- */

static void drop_billable(f_event_work *ew, const char *billing_key)
{
    size_t k = 0;
    for (size_t i = 0; i < ew->n_billable; i++)
        if (strcmp(ew->billable[i]->billing_key, billing_key) != 0) ew->billable[k++] = ew->billable[i];
    ew->n_billable = k;
}

med_rc f_phase_claim_lost(f_batch_work *b, size_t event, size_t claim, med_err *err)
{
    if (event >= b->n_events || claim >= b->events[event].n_claims)
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_PERMANENT_FAILURE, NULL,
                           "no claim %zu on event %zu", claim, event);
    f_event_work *ew = &b->events[event];
    f_billing_claim *c = &ew->claims[claim];
    c->won = 0;
    drop_billable(ew, c->billing_key);
    int impression = strcmp(c->billable_type, F_BILLABLE_IMPRESSION) == 0;
    const char *reason = impression ? MED_R_F_BILLING_CONFLICT_DUPLICATE_IMPRESSION
                                    : MED_R_F_BILLING_CONFLICT_DUPLICATE_CLICK;
    if ((int)claim == ew->click.claim) {
        /* the upgraded pending click: another click of the closure billed */
        ew->click.decision = f_fact_decision(&b->arena, c->source_event_id, F_ACTION_DROP, reason,
                                             F_CONFLICT_BILLING_KEY, b->now_ms);
        ew->click.claim = -1;
    } else {
        /* attribution only, as the F.7 duplicate row of the same type */
        for (size_t i = 0; i < ew->n_attribution; i++) {
            f_fact_src s = src_of(b, ew);
            Mediation__V1__AttributionFactLite *f = f_fact_attribution(
                &b->arena, &s, impression ? F_ATTR_IMPRESSION_DUPLICATE : F_ATTR_CLICK_NON_BILLABLE);
            if (f) ew->attribution[i] = f;
        }
        ew->fact_decision = f_fact_decision(&b->arena, F_REQ(ew->ev->event_id),
                                            f_fact_action(own_billables(ew), ew->n_attribution),
                                            reason, F_CONFLICT_BILLING_KEY, b->now_ms);
    }
    if (b->arena.failed || !ew->fact_decision)
        return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "out of memory");
    return MED_OK;
}
