/* G.2 identity of an append, pure: the idempotency key (first present of
 * three forms), payloadDigest = sha256(JCS(auditRecord)) without the
 * transport fields, appendToken = "g_app_" + sha256(dedupKey|payloadDigest)[0:24],
 * and the 7 d window (inclusive) in which a key is a duplicate. */
#ifndef G_APPEND_KEY_H
#define G_APPEND_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "med/err.h"
#include "mediation/v1/audit.pb-c.h"

#define G_APPEND_TOKEN_PREFIX "g_app_"
#define G_APPEND_TOKEN_HEX 24
#define G_APPEND_TOKEN_LEN (sizeof G_APPEND_TOKEN_PREFIX - 1 + G_APPEND_TOKEN_HEX)
#define G_APPEND_KEY_MAX 512

/* sha256 hex of JCS(auditRecord) with its extensions left out (the other
 * transport fields, appendAt, requestId and idempotencyKey, live on the
 * request, not the record). */
med_rc g_append_digest(const Mediation__V1__GAuditRecordLite *rec, char out[65], med_err *err);
/* Length of JCS(auditRecord), extensions included (the G.2 size limit). */
med_rc g_append_jcs_len(const Mediation__V1__GAuditRecordLite *rec, size_t *len, med_err *err);

/* g_append_v1:idempotency:<idempotencyKey>, else
 * g_append_v1:audit_record_id:<auditRecordId>, else g_append_v2:computed:
 * + sha256(opportunityKey|traceKey|auditRecordId|auditRecordVersion|payloadDigest).
 * MED_ERR_INVALID when the key does not fit out. */
med_rc g_append_dedup_key(const Mediation__V1__GAppendRequestLite *req, const char *digest,
                          char *out, size_t cap, med_err *err);

/* "g_app_" + 24 hex; out holds G_APPEND_TOKEN_LEN + 1. */
void g_append_token(const char *dedup_key, const char *digest, char out[G_APPEND_TOKEN_LEN + 1]);

/* 1 while now is within window_ms of first sight (inclusive): a resend
 * is a duplicate; 0 after, when the key counts as new. */
int g_append_within_window(int64_t first_seen_ms, int64_t now_ms, int64_t window_ms);

#endif
