/* C.4 policyAuditSnapshotLite, and the check that it holds every required
 * field (a defect otherwise: nothing may be published). */
#ifndef C_AUDIT_H
#define C_AUDIT_H

#include "med/arena.h"
#include "c_types.h"
#include "med/err.h"
#include "mediation/v1/policy.pb-c.h"

/* Built in the arena from e; msg (may be NULL) gives the input anchors and
 * mapping warnings. NULL when out of memory. */
Mediation__V1__PolicyAuditSnapshotLite *c_audit_build(med_arena *a, const c_eval *e,
                                                      const Mediation__V1__NormalizedOpportunity *msg);

/* MED_OK when every required field of C.4 is present; otherwise
 * MED_ERR_INTERNAL naming the first missing field. */
med_rc c_audit_validate(const Mediation__V1__PolicyAuditSnapshotLite *s, med_err *err);

#endif
