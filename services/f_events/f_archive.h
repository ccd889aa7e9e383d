/* F.8 fToGArchiveRecordLite: the records of an event and their write order. */
#ifndef F_ARCHIVE_H
#define F_ARCHIVE_H

#include "f_work.h"

#define F_REC_DECISION_AUDIT "decision_audit"
#define F_REC_BILLABLE_FACT "billable_fact"
#define F_REC_ATTRIBUTION_FACT "attribution_fact"

/* ew->records: decision_audit(s), then billable_fact(s), then
 * attribution_fact(s). Needs ew->fact_decision (phase 4). */
med_rc f_archive_event_records(f_batch_work *b, f_event_work *ew);
/* recordKey of the billable_fact record f_archive_event_records will build
 * for fact f of ew: phase 5 stores it with the fact's billing claim, so
 * the ledger row is written once, already linked. In b's arena; NULL on
 * allocation failure or a fact without billing key. */
const char *f_archive_billable_record_key(f_batch_work *b, const f_event_work *ew,
                                          const Mediation__V1__BillableFactLite *f);
/* b->records: every event's records in F.8 write order. */
med_rc f_archive_collect(f_batch_work *b);
/* F.8 write-order comparison: group (closureKeyOrNA|traceKey), type
 * (decision_audit, billable_fact, attribution_fact), outputAt, recordKey. */
int f_archive_write_order(const Mediation__V1__FToGArchiveRecordLite *a,
                          const Mediation__V1__FToGArchiveRecordLite *b);
/* After F's own commit: every record still `new` becomes `committed` (the
 * status G writes for a decided record). */
void f_archive_mark_committed(f_batch_work *b);

#endif
