/* G.4 ingest check of an ArchiveRecord (F's fToGArchiveRecordLite), pure.
 * A record missing a required field is quarantined
 * (g_ingest_invalid_record): never archived, never billed. */
#ifndef G_ARCHIVE_CHECK_H
#define G_ARCHIVE_CHECK_H

#include "med/err.h"
#include "mediation/v1/archive.pb-c.h"

/* MED_OK, or MED_ERR_INVALID + g_ingest_invalid_record with the first
 * missing field's JSON path in err->field. Required: recordKey,
 * recordType and recordStatus (known values), payloadRef {payloadType,
 * payloadKey}, sourceKeys {traceKey}, relationKeys {canonicalDedupKey},
 * versionAnchors (all six), decisionReasonCode, outputAt. */
med_rc g_archive_check(const Mediation__V1__ArchiveRecord *rec, med_err *err);

#endif
