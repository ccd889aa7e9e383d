/* StageAudit -> one audit_records row (spec 04 G.2 append, the part the
 * request path needs now): the columns the replay and reconciliation
 * queries filter on, and the whole audit as JSON in payload. Pure. */
#ifndef G_AUDIT_ROW_H
#define G_AUDIT_ROW_H

#include "med/err.h"
#include "med/headers.h"
#include "mediation/v1/audit.pb-c.h"

/* Column values; strings point into the StageAudit / headers given to
 * g_audit_row_build except payload, which is malloc'd (g_audit_row_free). */
typedef struct g_audit_row {
    const char *tenant_id;
    const char *app_id;
    const char *placement_id;
    const char *audit_kind;       /* StageAudit.kind */
    const char *stage;
    const char *reason_code;      /* primary */
    const char *outcome;          /* decision_action */
    const char *trace_key, *request_key, *opportunity_key, *attempt_key;
    const char *response_reference;
    const char *idempotency_key;  /* the audit's Nats-Msg-Id (audit_id) */
    const char *anchor_hash;
    char *payload;                /* JSON summary (stage, kind, codes, action) */
    char *payload_pb_hex;         /* G.2 appends: the protobuf bytes, hex */
    const uint8_t *payload_pb;    /* plain audits: the bytes as received, */
    size_t payload_pb_len;        /* borrowed from the message */
} g_audit_row;

/* MED_ERR_INVALID (g_audit_missing_tenant / ..._missing_id) when the row
 * could not be attributed; the caller dead-letters those. */
med_rc g_audit_row_build(const Mediation__V1__StageAudit *a, const med_trace_headers *h,
                         const char *msg_id, g_audit_row *out, med_err *err);
/* Keeps the audit's wire bytes (as received) in the row, as hex (for the
 * G.2 append's JSON document). */
med_rc g_audit_row_set_bytes(g_audit_row *r, const uint8_t *data, size_t len, med_err *err);
void g_audit_row_free(g_audit_row *r);

#endif
