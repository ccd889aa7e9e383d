/* G.2 append checks, pure, in the spec's order; the first failure decides.
 * Rows 4 (rate limit) and 5 (store reachable) and 8 (same key, other
 * digest) need state; the caller evaluates them and g_append_resolve puts
 * every answer back into the spec's order. */
#ifndef G_APPEND_CHECK_H
#define G_APPEND_CHECK_H

#include <stddef.h>

#include "med/backoff.h"
#include "med/err.h"
#include "mediation/v1/audit.pb-c.h"

#define G_APPEND_CONTRACT_V1 "g_append_v1"
#define G_APPEND_MAX_RECORD_BYTES (512u * 1024u)

/* The rows of the G.2 check table; G_APPEND_PASS = no failure. */
typedef enum g_append_row {
    G_APPEND_PASS = 0,
    G_APPEND_ROW_ENVELOPE = 1,
    G_APPEND_ROW_VERSION = 2,
    G_APPEND_ROW_AUTH = 3,
    G_APPEND_ROW_RATE = 4,
    G_APPEND_ROW_STORE = 5,
    G_APPEND_ROW_MATRIX = 6,
    G_APPEND_ROW_SIZE = 7,
    G_APPEND_ROW_CONFLICT = 8,
} g_append_row;

/* What the caller hears (gAppendAckLite) and what the JetStream message
 * gets: acked on success, nak'ed with backoff on rows 4-5, else
 * terminated to med.dlq.g.v1. */
typedef struct g_append_verdict {
    const char *ack_status;      /* accepted | queued | rejected */
    const char *reason;          /* ackReasonCode */
    int retryable;
    med_disposition disposition;
    int with_token;              /* appendToken iff not rejected */
} g_append_verdict;

g_append_verdict g_append_verdict_reject(g_append_row row);
/* accepted: g_append_accepted_committed, or the duplicate no-op. */
g_append_verdict g_append_verdict_accept(int duplicate);

/* Row 1 then row 2: requestId, auditRecord, appendAt,
 * appendContractVersion present; version g_append_v1. */
g_append_row g_append_check_envelope(const Mediation__V1__GAppendRequestLite *req, med_err *err);

/* Row 3. Callers are the platform's own stages, publishing on
 * med.audit.<stage>.v1: authenticated = the subject names a known stage,
 * the StageAudit claims that same stage, and it is on behalf of a tenant. */
g_append_row g_append_check_caller(const char *subject, const Mediation__V1__StageAudit *a,
                                   const char *tenant, med_err *err);
/* "med.audit.<stage>.v1" -> stage into out; -1 when the subject is not one. */
int g_audit_subject_stage(const char *subject, char *out, size_t cap);

/* Row 6: the G.3 field matrix and its cross-checks; err->field names the
 * first offending field. */
g_append_row g_append_check_record(const Mediation__V1__GAuditRecordLite *r, med_err *err);

/* Row 7 on the canonical size of the record. */
g_append_row g_append_check_size(size_t jcs_len, med_err *err);

/* The first failing row in the spec's order, from: pre = rows 1-4 (first
 * failure or PASS), store_ok = row 5 passed, post = rows 6-7, conflict =
 * row 8. */
g_append_row g_append_resolve(g_append_row pre, int store_ok, g_append_row post, int conflict);

#endif
