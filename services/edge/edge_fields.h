/* The spec's JSON names the edge reads or writes on the events, replay and
 * reconciliation routes, defined once: F.2 / F.5 (03-modules-e-f.md),
 * G.5 / G.6 / G.8 (04-modules-g-h.md), 06-config-identity-http.md
 * section 5. The GET parameter of a replay field is its JSON path with
 * dots ("pagination.pageSize"), so one table serves both forms.
 * Names of protobuf-derived members (ackItems[] items, resultMeta, ...)
 * come from the descriptors through med/pbjson.h; the lists below only
 * pick which of them an answer carries. */
#ifndef EDGE_FIELDS_H
#define EDGE_FIELDS_H

/* ---- POST /v1/events (F.2 envelope) ------------------------------------ */
#define EDGE_EVENTS_APP_ID "appId"

/* ---- G.5 replay query --------------------------------------------------- */
/* Object members that group other fields (GET: the part before the dot). */
#define EDGE_RQ_PAGINATION "pagination"
#define EDGE_RQ_SORT "sort"
#define EDGE_RQ_TIME_RANGE "timeRange"
#define EDGE_RQ_FILTERS "filters"
/* name -> version object (GET: pinnedVersions.<name>=<version>). */
#define EDGE_RQ_PINNED_VERSIONS "pinnedVersions"
/* 06 section 4: a client-sent authContextLite is ignored, not refused. */
#define EDGE_RQ_CLIENT_AUTH "authContextLite"
/* GET list values are comma-separated: filters.adapterIdIn=a,b */
#define EDGE_RQ_LIST_SEP ','

/* X(id, group or NULL, member, kind). Kinds: STR (string as sent), PAGE
 * (pageSize, see EDGE_RQ_PAGE_SIZE_INVALID), BOOL (true|false), LIST
 * (array of strings). pinnedVersions is handled on its own. */
#define EDGE_RQ_FIELDS(X)                                             \
    X(QUERY_MODE, NULL, "queryMode", STR)                             \
    X(OUTPUT_MODE, NULL, "outputMode", STR)                           \
    X(PAGE_SIZE, EDGE_RQ_PAGINATION, "pageSize", PAGE)                \
    X(PAGE_TOKEN, EDGE_RQ_PAGINATION, "pageTokenOrNA", STR)           \
    X(SORT_BY, EDGE_RQ_SORT, "sortBy", STR)                           \
    X(SORT_ORDER, EDGE_RQ_SORT, "sortOrder", STR)                     \
    X(CONTRACT_VERSION, NULL, "replayContractVersion", STR)           \
    X(OPPORTUNITY_KEY, NULL, "opportunityKey", STR)                   \
    X(OPPORTUNITY_ID, NULL, "opportunityId", STR)                     \
    X(START_AT, EDGE_RQ_TIME_RANGE, "startAt", STR)                   \
    X(END_AT, EDGE_RQ_TIME_RANGE, "endAt", STR)                       \
    X(TRACE_KEY, EDGE_RQ_FILTERS, "traceKey", STR)                    \
    X(REQUEST_KEY, EDGE_RQ_FILTERS, "requestKey", STR)                \
    X(ATTEMPT_KEY, EDGE_RQ_FILTERS, "attemptKey", STR)                \
    X(RESPONSE_REFERENCE, EDGE_RQ_FILTERS, "responseReference", STR)  \
    X(ADAPTER_ID_IN, EDGE_RQ_FILTERS, "adapterIdIn", LIST)            \
    X(RECORD_TYPE_IN, EDGE_RQ_FILTERS, "recordTypeIn", LIST)          \
    X(RECORD_STATUS_IN, EDGE_RQ_FILTERS, "recordStatusIn", LIST)      \
    X(HAS_TIMEOUT_ONLY, EDGE_RQ_FILTERS, "hasTimeoutOnly", BOOL)      \
    X(HAS_CONFLICT_ONLY, EDGE_RQ_FILTERS, "hasConflictOnly", BOOL)    \
    X(INCLUDE_RAW_PAYLOAD, NULL, "includeRawPayload", BOOL)           \
    X(CURSOR, NULL, "cursor", STR)                                    \
    X(REPLAY_AS_OF_AT, NULL, "replayAsOfAt", STR)                     \
    X(REPLAY_EXECUTION_MODE, NULL, "replayExecutionMode", STR)        \
    X(REPLAY_PURPOSE, NULL, "replayPurpose", STR)

#define EDGE_RQ_BOOL_TRUE "true"
#define EDGE_RQ_BOOL_FALSE "false"

/* ---- GET /v1/reconciliation (06 section 5) ------------------------------ */
#define EDGE_RECON_GRANULARITY "granularity"
#define EDGE_RECON_WINDOW_START "windowStart"

/* ---- answers ------------------------------------------------------------ */
/* F.5 eventBatchAckLite, in this order; ackItems[] items are EventAck. */
#define EDGE_ACK_MEMBERS(X) X("batchId") X("receivedAt") X("overallStatus") X("ackItems")
/* G.6 gReplayResultLite, in this order ("items" is built by the edge). */
#define EDGE_REPLAY_ITEMS "items"
#define EDGE_REPLAY_RESULT_MEMBERS(X)                                                 \
    X("queryEcho") X("resultMeta") X(EDGE_REPLAY_ITEMS) X("emptyResult") X("generatedAt") \
    X("replayDiffSummaryLite")
/* Per-item diff (ReplayItemDiffLite) of rule_recompute or a pin mismatch. */
#define EDGE_REPLAY_ITEM_DIFF "diff"
/* Full-mode item member holding the (redacted) raw payload. */
#define EDGE_REPLAY_RAW_PAYLOAD "rawPayload"
/* Members of G's reconciliation reply that are transport, not report. */
#define EDGE_RECON_TRANSPORT_MEMBERS(X) X("httpStatus") X("error")

#endif
