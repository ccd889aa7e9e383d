/* Replay page cursor (spec 04 G.5): unpadded base64url of
 * JCS({v:1, queryHash, resolvedReplayAsOfAt, after:[sortValue, traceKey,
 * requestKey, attemptKey, auditRecordId]}). The next page starts strictly
 * after `after` in the query's order. Pure. */
#ifndef G_CURSOR_H
#define G_CURSOR_H

#include <stdint.h>

#include "med/err.h"

/* A position in a replay order. Strings are borrowed (g_sort_key) or owned
 * (inside g_cursor). */
typedef struct g_sort_key {
    int64_t sort_ms;
    const char *trace_key, *request_key, *attempt_key, *audit_record_id;
} g_sort_key;

/* Order of G.5: sort value by the query's order, ties by traceKey,
 * requestKey, attemptKey, auditRecordId, always ascending bytes. */
int g_sort_key_cmp(const g_sort_key *a, const g_sort_key *b, int desc);

typedef struct g_cursor {
    char query_hash[65];
    int64_t cut_ms;        /* resolvedReplayAsOfAt */
    g_sort_key after;      /* strings owned: g_cursor_free */
} g_cursor;

/* MED_ERR_INVALID g_replay_invalid_cursor when text is not base64url of
 * the JCS object above, v is not 1, or after is not [time, 4 strings]. */
med_rc g_cursor_decode(const char *text, g_cursor *out, med_err *err);
/* The cursor text (malloc'd) for a page ending at last. NULL on ENOMEM. */
char *g_cursor_encode(const char *query_hash, int64_t cut_ms, const g_sort_key *last);
void g_cursor_free(g_cursor *c);

#endif
