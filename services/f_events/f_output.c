/* Phase 6: the ACK (F.5), the archive records (F.8) and the batch audit,
 * from the decisions of phases 2-5. */
#include <string.h>

#include "f_ack.h"
#include "f_archive.h"
#include "f_dedup.h"
#include "f_dict.h"
#include "f_keys.h"
#include "f_validate.h"
#include "med/reason.h"

static Mediation__V1__DedupDecisionLite *dedup_decision(med_arena *a, const f_event_work *ew)
{
    if (!ew->dedup_key && !ew->fingerprint) return NULL;
    Mediation__V1__DedupDecisionLite *d = MED_NEW(a, Mediation__V1__DedupDecisionLite);
    if (!d) return NULL;
    *d = (Mediation__V1__DedupDecisionLite)MEDIATION__V1__DEDUP_DECISION_LITE__INIT;
    d->key_source = (char *)(ew->key_source ? ew->key_source : F_KEY_SOURCE_NONE);
    d->canonical_dedup_key = (char *)(ew->dedup_key ? ew->dedup_key : "");
    d->fingerprint = (char *)(ew->fingerprint ? ew->fingerprint : "");
    d->dedup_fingerprint_version = (char *)F_DEDUP_VERSION;
    d->dedup_outcome = (char *)(ew->dedup_outcome ? ew->dedup_outcome : "");
    d->dedup_layer = (char *)(ew->layer == F_LAYER_BILLING ? "billing" : "diagnostics");
    return d;
}

/* E.10 eToFEventLite: kept for accepted impressions, clicks and failures. */
static Mediation__V1__EToFEventLite *e_to_f(const f_batch_work *b, const f_event_work *ew)
{
    if (ew->status != F_ACK_ACCEPTED || !ew->internal_type) return NULL;
    f_event_type t = f_ev_internal_type(ew->ev);
    if (t != F_T_IMPRESSION && t != F_T_CLICK && t != F_T_FAILURE) return NULL;
    med_arena *a = (med_arena *)&b->arena;
    Mediation__V1__EToFEventLite *e = MED_NEW(a, Mediation__V1__EToFEventLite);
    if (!e) return NULL;
    const Mediation__V1__SdkEvent *ev = ew->ev;
    static const char *const render_type[] = {[F_T_IMPRESSION] = "ad_rendered",
                                              [F_T_CLICK] = "on_click",
                                              [F_T_FAILURE] = "ad_render_failed"};
    *e = (Mediation__V1__EToFEventLite)MEDIATION__V1__ETO_FEVENT_LITE__INIT;
    e->event_id = ev->event_id;
    e->event_type = (char *)ew->internal_type;
    e->source_render_event_type = (char *)render_type[t];
    e->response_reference = (char *)f_or_na(F_OPT(ev, response_reference));
    e->trace_key = ev->trace_key;
    e->request_key = ev->request_key;
    e->attempt_key = ev->attempt_key;
    e->opportunity_key = ev->opportunity_key;
    e->render_attempt_id = (char *)f_or_na(F_OPT(ev, render_attempt_id));
    e->idempotency_key = (char *)(F_OPT(ev, idempotency_key) ? F_OPT(ev, idempotency_key) : "");
    const f_delivery_row *d = ew->delivery_row >= 0 ? &b->deliveries[ew->delivery_row] : NULL;
    e->delivery_status_snapshot = (char *)(d && d->found && d->status ? d->status : "unknown");
    e->event_reason_code =
        (char *)(t == F_T_IMPRESSION ? "e_impression_reported"
                 : t == F_T_CLICK    ? "e_click_reported"
                                     : (F_OPT(ev, failure_reason_code) ? F_OPT(ev, failure_reason_code)
                                        : F_OPT(ev, error_code)        ? F_OPT(ev, error_code)
                                                                       : ""));
    e->event_at_unix_ms = ew->event_at_ms;
    e->event_contract_version = ev->event_version;
    return e;
}

static Mediation__V1__FEventDecisionLite *event_decision(f_batch_work *b, const f_event_work *ew,
                                                         Mediation__V1__EventAck *item)
{
    med_arena *a = &b->arena;
    Mediation__V1__FEventDecisionLite *d = MED_NEW(a, Mediation__V1__FEventDecisionLite);
    if (!d) return NULL;
    *d = (Mediation__V1__FEventDecisionLite)MEDIATION__V1__FEVENT_DECISION_LITE__INIT;
    d->event_index = ew->index;
    d->event_id = item->event_id;
    d->event_type = (char *)(ew->internal_type ? ew->internal_type
                             : F_REQ(ew->ev->event_type) ? ew->ev->event_type
                                                         : "");
    d->ack = item;
    d->dedup_decision = dedup_decision(a, ew);
    d->closure_decision = ew->closure_decision;
    d->fact_decision_audit = ew->fact_decision;
    d->billable_facts = ew->billable;
    d->n_billable_facts = ew->n_billable;
    d->attribution_facts = ew->attribution;
    d->n_attribution_facts = ew->n_attribution;
    d->raw_sub_enum_values_json = (char *)(ew->raw_sub_enums_json ? ew->raw_sub_enums_json : "");
    d->e_to_f_event = e_to_f(b, ew);
    return d;
}

static med_rc build_audit(f_batch_work *b)
{
    med_arena *a = &b->arena;
    Mediation__V1__FEventAuditLite *au = MED_NEW(a, Mediation__V1__FEventAuditLite);
    if (!au) return MED_ERR_NOMEM;
    *au = (Mediation__V1__FEventAuditLite)MEDIATION__V1__FEVENT_AUDIT_LITE__INIT;
    au->batch_id = b->req->batch_id;
    au->app_id = b->req->app_id;
    au->received_at_unix_ms = b->received_at_ms;
    au->overall_status = (char *)b->overall_status;
    au->decisions = MED_NEWN(a, Mediation__V1__FEventDecisionLite *, b->n_events);
    if (!au->decisions) return MED_ERR_NOMEM;
    for (size_t i = 0; i < b->n_events; i++) {
        au->decisions[i] = event_decision(b, &b->events[i], b->ack->ack_items[i]);
        if (!au->decisions[i]) return MED_ERR_NOMEM;
    }
    au->n_decisions = b->n_events;
    b->audit = au;
    return MED_OK;
}

med_rc f_phase_output(f_batch_work *b, med_err *err)
{
    if (!b->req || (b->n_events && !b->events))
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_PERMANENT_FAILURE, NULL,
                           "output needs a decided batch");
    med_rc rc = f_ack_build(b);
    for (size_t i = 0; rc == MED_OK && i < b->n_events; i++)
        rc = f_archive_event_records(b, &b->events[i]);
    if (rc == MED_OK) rc = f_archive_collect(b);
    if (rc == MED_OK) rc = build_audit(b);
    if (rc == MED_ERR_INTERNAL)
        return med_err_set(err, rc, MED_R_INFRA_PERMANENT_FAILURE, NULL,
                           "an event has no fact decision: run f_phase_decide first");
    if (rc != MED_OK || b->arena.failed)
        return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "out of memory");
    return MED_OK;
}
