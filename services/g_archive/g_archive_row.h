/* ArchiveRecord -> one archive_records row (G.4), pure: the columns
 * replay and reconciliation (G.8) read, payloadDigest =
 * sha256(JCS(record - extensions)), the record packed (payload_pb, what
 * replay unpacks) and a small JSON summary of it (payload). */
#ifndef G_ARCHIVE_ROW_H
#define G_ARCHIVE_ROW_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "g_archive_state.h"
#include "med/err.h"
#include "med/headers.h"
#include "med/pg_array.h"
#include "mediation/v1/archive.pb-c.h"

/* Strings borrow from the ArchiveRecord / headers given to
 * g_archive_row_build, except payload, version_anchors (malloc'd JSON
 * text) and payload_pb (malloc'd bytes), freed by g_archive_row_free.
 * "NA" keys are NULL. */
typedef struct g_archive_row {
    const char *tenant_id, *app_id, *placement_id;
    const char *record_key;
    g_record_type type;
    g_record_status status;
    const char *payload_type, *payload_key;
    char payload_digest[65];
    const char *event_id, *source_event_id;
    const char *trace_key, *request_key, *attempt_key, *opportunity_key;
    const char *response_reference, *render_attempt_id;
    const char *closure_key, *billing_key, *attribution_key, *canonical_dedup_key;
    const char *decision_reason_code;
    const char *conflict_with_record_key, *superseded_record_key;
    int64_t output_at_ms;
    int billable;                 /* committed billable_fact */
    int64_t amount_micros;        /* billable_fact only */
    const char *currency;
    const char *anchor_hash;
    char group_key[512];          /* closureKeyOrNA|traceKey */
    char *payload;                /* the summary as JSON (g_archive_summary) */
    char *version_anchors;        /* versionAnchors as JSON */
    uint8_t *payload_pb;          /* the FToGArchiveRecordLite packed */
    size_t payload_pb_len;
} g_archive_row;

/* payloadDigest of a record: sha256 hex of JCS(record without extensions). */
med_rc g_archive_digest(const Mediation__V1__FToGArchiveRecordLite *r, char out[65], med_err *err);

/* payload of a row: what an operator filters on and no column holds:
 * recordType, recordStatus as ingested, decisionReasonCode, and the
 * content's kind (decisionAction / billableType / eventType +
 * attributionType). NULL on allocation failure. */
json_t *g_archive_summary(const Mediation__V1__FToGArchiveRecordLite *r);

/* Tenant: Med-Tenant, else the record's trace. NULL when neither. */
const char *g_archive_tenant(const Mediation__V1__ArchiveRecord *rec, const med_trace_headers *h);

/* rec must have passed g_archive_check. */
med_rc g_archive_row_build(const Mediation__V1__ArchiveRecord *rec, const med_trace_headers *h,
                           g_archive_row *out, med_err *err);
void g_archive_row_free(g_archive_row *r);

/* F.8: committed -> superseded applies to one kind of record only, the
 * attribution_fact of a synthesized timeout failure
 * (f_terminal_timeout_autofill), announced by a decision_audit naming it
 * in supersededRecordKey. 1 when r is such an announcement or such a
 * target: only then can its batch supersede anything. */
int g_archive_row_takes_part_in_supersede(const g_archive_row *r);

/* The columns of archive_records the ingest statement takes, one binary
 * array each (g_archive_store.c unnests them in this order; at most
 * MED_PG_COLS_MAX). The tenant is not one: every row of an ingest call is
 * the transaction's tenant (app.tenant_id, which row-level security
 * enforces anyway). ws is the write status a row is inserted with (NULL:
 * the default, pending). */
enum { G_COL_APP, G_COL_PLACEMENT, G_COL_RECORD_KEY, G_COL_RECORD_TYPE,
       G_COL_RECORD_STATUS, G_COL_PAYLOAD_TYPE, G_COL_PAYLOAD_KEY, G_COL_PAYLOAD_DIGEST,
       G_COL_EVENT_ID, G_COL_SOURCE_EVENT_ID, G_COL_TRACE, G_COL_REQUEST, G_COL_ATTEMPT,
       G_COL_OPPORTUNITY, G_COL_RESPONSE_REFERENCE, G_COL_RENDER_ATTEMPT, G_COL_CLOSURE,
       G_COL_BILLING_KEY, G_COL_ATTRIBUTION_KEY, G_COL_DEDUP_KEY, G_COL_DECISION_REASON,
       G_COL_CONFLICT_WITH, G_COL_SUPERSEDED, G_COL_OUTPUT_AT_MS, G_COL_BILLABLE, G_COL_AMOUNT,
       G_COL_CURRENCY, G_COL_ANCHOR, G_COL_VERSION_ANCHORS, G_COL_PAYLOAD, G_COL_WS, G_COL_PAYLOAD_PB,
       G_COL_N };

/* c gets G_COL_N empty columns of the right element types. */
void g_archive_row_cols_init(med_pg_cols *c);
/* Appends the row to every column of c. */
void g_archive_row_cols_add(med_pg_cols *c, const g_archive_row *r, const char *ws);

#endif
