/* F.7: factId and attributionKey follow the spec's formulas; facts are
 * never updated, so everything is computed once here. */
#include "f_facts.h"

#include "f_closure.h"
#include "f_keys.h"

const char *f_attribution_type_of(f_event_type t)
{
    switch (t) {
    case F_T_OPPORTUNITY_CREATED: return "attr_opportunity_created";
    case F_T_AUCTION_STARTED: return "attr_auction_started";
    case F_T_AD_FILLED: return "attr_ad_filled";
    case F_T_IMPRESSION: return "attr_impression";
    case F_T_CLICK: return "attr_click";
    case F_T_INTERACTION: return "attr_interaction";
    case F_T_POSTBACK: return "attr_postback";
    case F_T_ERROR: return "attr_error";
    case F_T_FAILURE: return F_ATTR_FAILURE_TERMINAL;
    default: return "attr_unknown";
    }
}

Mediation__V1__AttributionFactLite *f_fact_attribution(med_arena *a, const f_fact_src *s,
                                                       const char *attribution_type)
{
    Mediation__V1__AttributionFactLite *f = MED_NEW(a, Mediation__V1__AttributionFactLite);
    if (!f) return NULL;
    *f = (Mediation__V1__AttributionFactLite)MEDIATION__V1__ATTRIBUTION_FACT_LITE__INIT;
    f->fact_id = f_fact_id(a, "attr", s->event_id, s->trace_key, attribution_type);
    f->attribution_type = (char *)attribution_type;
    f->source_event_id = (char *)s->event_id;
    f->event_type = (char *)s->event_type;
    if (s->response_reference) {
        f->response_reference_or_na_opt_case =
            MEDIATION__V1__ATTRIBUTION_FACT_LITE__RESPONSE_REFERENCE_OR_NA_OPT_RESPONSE_REFERENCE_OR_NA;
        f->response_reference_or_na = (char *)s->response_reference;
    }
    if (s->render_attempt_id) {
        f->render_attempt_id_or_na_opt_case =
            MEDIATION__V1__ATTRIBUTION_FACT_LITE__RENDER_ATTEMPT_ID_OR_NA_OPT_RENDER_ATTEMPT_ID_OR_NA;
        f->render_attempt_id_or_na = (char *)s->render_attempt_id;
    }
    f->opportunity_key = (char *)f_or_na(s->opportunity_key);
    f->trace_key = (char *)f_or_na(s->trace_key);
    f->attribution_key = f_attribution_key(a, attribution_type, s->event_type,
                                           s->response_reference, s->render_attempt_id, s->event_id);
    f->fact_at_unix_ms = s->fact_at_ms;
    f->fact_version = (char *)F_FACT_VERSION;
    return f->fact_id && f->attribution_key ? f : NULL;
}

Mediation__V1__BillableFactLite *f_fact_billable(med_arena *a, const f_fact_src *s,
                                                 const char *billable_type, int64_t amount_micros,
                                                 const char *currency)
{
    Mediation__V1__BillableFactLite *f = MED_NEW(a, Mediation__V1__BillableFactLite);
    if (!f) return NULL;
    *f = (Mediation__V1__BillableFactLite)MEDIATION__V1__BILLABLE_FACT_LITE__INIT;
    f->fact_id = f_fact_id(a, "bill", s->event_id, s->trace_key, billable_type);
    f->billable_type = (char *)billable_type;
    f->source_event_id = (char *)s->event_id;
    f->response_reference = (char *)s->response_reference;
    f->render_attempt_id = (char *)s->render_attempt_id;
    f->opportunity_key = (char *)f_or_na(s->opportunity_key);
    f->trace_key = (char *)f_or_na(s->trace_key);
    f->billing_key = f_billing_key(a, s->response_reference, s->render_attempt_id, billable_type);
    f->fact_at_unix_ms = s->fact_at_ms;
    f->fact_version = (char *)F_FACT_VERSION;
    f->amount_micros = amount_micros;
    f->currency = (char *)(currency ? currency : "");
    return f->fact_id && f->billing_key ? f : NULL;
}

Mediation__V1__FactDecisionAuditLite *f_fact_decision(med_arena *a, const char *source_event_id,
                                                      const char *action, const char *reason,
                                                      const char *conflict, int64_t decided_at_ms)
{
    Mediation__V1__FactDecisionAuditLite *d = MED_NEW(a, Mediation__V1__FactDecisionAuditLite);
    if (!d) return NULL;
    *d = (Mediation__V1__FactDecisionAuditLite)MEDIATION__V1__FACT_DECISION_AUDIT_LITE__INIT;
    d->source_event_id = (char *)(source_event_id ? source_event_id : "");
    d->mapping_rule_version = (char *)F_MAPPING_RULE_VERSION;
    d->decision_action = (char *)action;
    d->decision_reason_code = (char *)reason;
    d->conflict_decision = (char *)(conflict ? conflict : F_CONFLICT_NONE);
    d->decided_at_unix_ms = decided_at_ms;
    return d;
}

Mediation__V1__FactDecisionAuditLite *f_fact_decision_copy(med_arena *a,
                                                           const Mediation__V1__FactDecisionAuditLite *d,
                                                           const char *reason)
{
    Mediation__V1__FactDecisionAuditLite *c = MED_NEW(a, Mediation__V1__FactDecisionAuditLite);
    if (!c) return NULL;
    *c = *d;
    c->decision_reason_code = (char *)reason;
    return c;
}

const char *f_fact_action(size_t n_billable, size_t n_attribution)
{
    if (n_billable && n_attribution) return F_ACTION_BOTH;
    if (n_billable) return F_ACTION_BILLABLE;
    if (n_attribution) return F_ACTION_ATTRIBUTION;
    return F_ACTION_DROP;
}
