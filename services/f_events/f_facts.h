/* F.7 facts: the event -> fact mapping and the fact messages. */
#ifndef F_FACTS_H
#define F_FACTS_H

#include "f_dict.h"
#include "f_work.h"

#define F_BILLABLE_IMPRESSION "billable_impression"
#define F_BILLABLE_CLICK "billable_click"

#define F_ACTION_BILLABLE "billable_emit"
#define F_ACTION_ATTRIBUTION "attribution_emit"
#define F_ACTION_BOTH "both_emit"
#define F_ACTION_DROP "drop"

#define F_ATTR_IMPRESSION_DUPLICATE "attr_impression_duplicate"
#define F_ATTR_CLICK_PENDING "attr_click_pending"
#define F_ATTR_CLICK_NON_BILLABLE "attr_click_non_billable"
#define F_ATTR_FAILURE_TERMINAL "attr_failure_terminal"

/* Where a fact comes from (an event, or a pending click it resolves). */
typedef struct f_fact_src {
    const char *event_id;
    const char *event_type;        /* F's type (failure for a terminal error) */
    const char *response_reference; /* may be NULL */
    const char *render_attempt_id;  /* may be NULL */
    const char *opportunity_key;
    const char *trace_key;
    int64_t fact_at_ms;
} f_fact_src;

/* The attribution type of an accepted event with no conflict
 * (attr_<type>, attr_failure_terminal for a failure). */
const char *f_attribution_type_of(f_event_type t);

Mediation__V1__AttributionFactLite *f_fact_attribution(med_arena *a, const f_fact_src *s,
                                                       const char *attribution_type);
Mediation__V1__BillableFactLite *f_fact_billable(med_arena *a, const f_fact_src *s,
                                                 const char *billable_type, int64_t amount_micros,
                                                 const char *currency);
Mediation__V1__FactDecisionAuditLite *f_fact_decision(med_arena *a, const char *source_event_id,
                                                      const char *action, const char *reason,
                                                      const char *conflict, int64_t decided_at_ms);
/* A copy of d with another decisionReasonCode (the supersede announcement). */
Mediation__V1__FactDecisionAuditLite *f_fact_decision_copy(med_arena *a,
                                                           const Mediation__V1__FactDecisionAuditLite *d,
                                                           const char *reason);
/* billable_emit / attribution_emit / both_emit / drop from what is there. */
const char *f_fact_action(size_t n_billable, size_t n_attribution);

#endif
