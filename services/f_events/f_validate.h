/* F.4 steps 1-9 for one event, and the lookup tables phase 2 fills.
 * f_phase_validate (f_work.h) runs them over the batch. */
#ifndef F_VALIDATE_H
#define F_VALIDATE_H

#include "f_dict.h"
#include "f_work.h"

/* 1 when ev carries a wrongly typed value for the camelCase field name. */
int f_ev_malformed(const Mediation__V1__SdkEvent *ev, const char *name);
/* F's type of ev: the wire type, failure for a terminal error. */
f_event_type f_ev_internal_type(const Mediation__V1__SdkEvent *ev);

/* Steps 1-9 for ew (ew->ev set). On a reject sets ew->status/reason; on
 * success fills layer, event_at_ms, the normalized event (ew->ev may be
 * replaced by an arena copy), dedup key and fingerprint. */
med_rc f_validate_event(f_batch_work *b, f_event_work *ew);

/* Row indices of the lookup tables, added when new (keys only). */
int f_table_dedup(f_batch_work *b, const f_event_work *ew);
int f_table_seq(f_batch_work *b, const char *scope);
int f_table_delivery(f_batch_work *b, const char *response_reference);
int f_table_closure(f_batch_work *b, const char *rr, const char *ra);

#endif
