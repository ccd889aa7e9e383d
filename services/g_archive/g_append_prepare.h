/* One StageAudit carrying a gAppendRequestLite, made ready for the store
 * (G.2), pure: checks 1-4 and 6-7 in order, then its identity (payload
 * digest, idempotency key, appendToken) and its audit_records row. */
#ifndef G_APPEND_PREPARE_H
#define G_APPEND_PREPARE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "g_append_check.h"
#include "g_append_key.h"
#include "g_rate.h"
#include "med/err.h"
#include "med/headers.h"
#include "mediation/v1/audit.pb-c.h"

typedef struct g_append_item {
    const Mediation__V1__StageAudit *audit;   /* borrowed */
    const char *tenant;                       /* borrowed; NULL when unknown */
    g_append_row pre;                         /* first failure of rows 1-4 */
    g_append_row post;                        /* first failure of rows 6-7 */
    med_err err;                              /* detail of the first failure */
    char digest[65];
    char dedup_key[G_APPEND_KEY_MAX];
    char token[G_APPEND_TOKEN_LEN + 1];
} g_append_item;

/* subject: the message's subject (med.audit.<stage>.v1); rate may be NULL
 * (no limit). Counts the append against the tenant's rate only when rows
 * 1-3 passed. */
void g_append_prepare(const Mediation__V1__StageAudit *a, const char *subject, const char *tenant,
                      g_rate *rate, int64_t now_ms, g_append_item *out);

/* The audit_records row of an accepted append (audit_kind 'audit_record'),
 * the StageAudit's wire bytes as hex in payload_pb; i = batch index. */
json_t *g_append_row_json(const g_append_item *it, const med_trace_headers *h,
                          const char *payload_pb_hex, int i);

#endif
