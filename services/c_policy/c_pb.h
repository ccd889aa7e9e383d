/* Protobuf building blocks shared by the audit and output builders:
 * strings are borrowed (never copied) from the c_eval and the input
 * message, which must outlive packing; containers come from the arena.
 * Every builder returns NULL when the arena is out of memory. */
#ifndef C_PB_H
#define C_PB_H

#include "med/arena.h"
#include "c_types.h"
#include "mediation/v1/common.pb-c.h"

/* protobuf-c only reads strings when packing, so a borrowed const string
 * can be stored in its char * fields. NULL becomes "". */
char *c_pb_str(const char *s);

/* The policy version of the snapshot, or "NA" without one. */
const char *c_pb_version(const Mediation__V1__PolicySnapshotLite *s, const char *field_value);

char **c_pb_strv(med_arena *a, const char *const *v, size_t n);
Mediation__V1__TraceKeys *c_pb_keys(med_arena *a, const c_keys *k);
Mediation__V1__ConstraintsLite *c_pb_constraints(med_arena *a, const c_constraints *c);
Mediation__V1__AdDecisionLite *c_pb_ad_decision(med_arena *a, const c_eval *e);
Mediation__V1__StateTransitionLite *c_pb_state(med_arena *a, const c_eval *e);
/* e's own warnings followed by the input's mapping warnings (msg may be NULL). */
Mediation__V1__WarningLite **c_pb_warnings(med_arena *a, const c_eval *e,
                                           const Mediation__V1__NormalizedOpportunity *msg,
                                           size_t *n);

#endif
