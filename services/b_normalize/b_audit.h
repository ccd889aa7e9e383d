/* B.8 mapping audit: record order and the completeness rules without which
 * an output is invalid and not published. */
#ifndef B_AUDIT_H
#define B_AUDIT_H

#include "med/err.h"
#include "mediation/v1/opportunity.pb-c.h"

/* Sorts the records by semantic_slot (byte order). */
void b_audit_sort(Mediation__V1__MappingAuditSnapshotLite *s);
/* The 8 meta fields (b_mapping_audit_missing_snapshot_meta) and each
 * record's fields (b_mapping_audit_missing_record_field). */
med_rc b_audit_validate(const Mediation__V1__MappingAuditSnapshotLite *s, med_err *err);

#endif
