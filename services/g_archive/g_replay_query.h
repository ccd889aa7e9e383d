/* Replay query (spec 04 G.5): validation in the spec's order with its codes
 * and HTTP statuses, the normalized queryEcho (JCS), queryHash, the cut
 * (resolvedReplayAsOfAt, or the cursor's), replayRunId and the resolved
 * execution mode. Pure. */
#ifndef G_REPLAY_QUERY_H
#define G_REPLAY_QUERY_H

#include <stdint.h>

#include "g_cursor.h"
#include "med/err.h"
#include "mediation/v1/replay.pb-c.h"

#define G_REPLAY_CONTRACT_VERSION "g_replay_v1"
#define G_REPLAY_MAX_PAGE 200
#define G_REPLAY_MAX_SPAN_MS (7LL * 86400 * 1000)

typedef enum g_query_mode { G_QM_BY_OPPORTUNITY = 0, G_QM_BY_TIME_RANGE } g_query_mode;
typedef enum g_sort_by { G_SORT_AUDIT_AT = 0, G_SORT_OUTPUT_AT, G_SORT_EVENT_AT } g_sort_by;
typedef enum g_exec_mode { G_EXEC_SNAPSHOT = 0, G_EXEC_RECOMPUTE } g_exec_mode;

/* The seven replay anchors of G.6 plus anchorHash, in this order. */
#define G_ANCHOR_COUNT 8
extern const char *const g_anchor_names[G_ANCHOR_COUNT];

/* A validated query. Strings are borrowed from the ReplayQuery it was
 * validated from unless noted; g_query_free releases the owned ones. */
typedef struct g_query {
    const Mediation__V1__ReplayQuery *raw;
    g_query_mode mode;
    int full;                     /* outputMode full */
    int page_size;
    g_sort_by sort_by;
    int desc;
    const char *opportunity_key;  /* by_opportunity: key (or its alias) */
    int64_t start_ms, end_ms;     /* by_time_range, inclusive */
    int64_t received_ms;
    int64_t cut_ms;               /* resolvedReplayAsOfAt */
    g_exec_mode exec;
    const char *purpose;          /* debug (default) | dispute | sampling */
    int include_raw;
    int has_cursor;
    g_cursor cursor;              /* owned */
    char *echo_json;              /* owned: JCS(queryEcho) */
    char query_hash[65];
    char run_id[24];              /* replay_ + 12 hex */
} g_query;

/* Fills out or fails with MED_ERR_INVALID (400) / MED_ERR_CONFLICT (409)
 * and the G.5 code of the first failing check. received_ms is the receipt
 * time (the default cut). On failure out holds nothing to free. */
med_rc g_query_validate(const Mediation__V1__ReplayQuery *q, int64_t received_ms, g_query *out,
                        med_err *err);
void g_query_free(g_query *q);

/* HTTP status of a replay failure code: 409 for the alias and version
 * anchor conflicts, 400 for the other g_replay_* codes, 503 otherwise. */
int g_replay_http_status(const char *code);

#endif
