/* G.5's replay query as the edge builds it (06 section 5): from the JSON
 * body of POST /v1/replay or from the dotted parameters of GET /v1/replay,
 * into one mediation.v1.ReplayQuery. The same query sent either way gives
 * the same message. Pure: no HTTP, no NATS.
 *
 * The edge transports, stage G validates: strings go as sent (an unknown
 * enum value, an unparsable time or cursor is G's 400). The edge refuses
 * only what the message cannot carry:
 *   - a member or parameter that is not a G.5 field: 400
 *     edge_field_invalid_value, field = its path (a misspelt filter must
 *     not silently widen the result); authContextLite is ignored;
 *   - a boolean that is not true/false, a string/list/object member of
 *     another JSON type: 400 edge_field_wrong_type, field = its path;
 *   - a GET parameter given twice (except the lists, which concatenate)
 *     or a pinnedVersions name given twice: 400 edge_query_malformed.
 * pagination.pageSize that is not an integer in 1..2^31-1 (non-numeric,
 * 0, negative, fractional, a JSON string, too large) travels as
 * EDGE_RQ_PAGE_SIZE_INVALID, which G reports as
 * g_replay_invalid_pagination (0 stays "absent", as in the proto).
 * JSON null is the same as an absent member. A group object present but
 * empty ("filters": {}) still sets its sub-message; on GET a group exists
 * when one of its parameters does. */
#ifndef EDGE_REPLAY_QUERY_H
#define EDGE_REPLAY_QUERY_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "edge_fields.h"
#include "med/arena.h"
#include "med/err.h"
#include "med/headers.h"
#include "mediation/v1/replay.pb-c.h"

#define EDGE_RQ_PAGE_SIZE_INVALID (-1)

#define EDGE_RQ_ID(id, group, member, kind) EDGE_RQ_##id,
typedef enum edge_rq_id { EDGE_RQ_FIELDS(EDGE_RQ_ID) EDGE_RQ__COUNT } edge_rq_id;
#undef EDGE_RQ_ID

/* Owns the message: every sub-message and string lives in the arena. */
typedef struct edge_replay_query {
    med_arena arena;
    Mediation__V1__ReplayQuery msg;
    size_t cap[EDGE_RQ__COUNT]; /* room of each list (grown by doubling) */
    size_t pinned_cap;
    unsigned char seen[EDGE_RQ__COUNT]; /* GET: scalar parameters given once */
} edge_replay_query;

/* Who asks, as the edge established it (06 section 4). */
typedef struct edge_query_caller {
    const char *tenant;                   /* the token's, or EDGE_DEV_TENANT */
    Mediation__V1__AuthContextLite *auth; /* borrowed */
    int raw_read_allowed;                 /* admin (or auth off) */
    const char *http_method;              /* "GET" | "POST" */
    const med_trace_headers *trace;       /* may be NULL */
} edge_query_caller;

void edge_replay_query_init(edge_replay_query *rq);
void edge_replay_query_free(edge_replay_query *rq);
/* body: the parsed POST body (an object). */
med_rc edge_replay_query_from_json(const json_t *body, edge_replay_query *rq, med_err *err);
/* q: the raw query string after '?'. */
med_rc edge_replay_query_from_params(const char *q, size_t len, edge_replay_query *rq,
                                     med_err *err);
/* The packed ReplayQuery for med.g.replay.v1 with the caller's tenant,
 * auth, method, raw-read right, trace and receipt time; *out malloc'd. */
med_rc edge_replay_request_pack(edge_replay_query *rq, const edge_query_caller *who,
                                int64_t now_ms, uint8_t **out, size_t *len, med_err *err);
/* GET /v1/reconciliation parameters (granularity, windowStart; anything
 * else refused like above) -> packed ReconciliationQuery. */
med_rc edge_recon_request_pack(const char *q, size_t qlen, const edge_query_caller *who,
                               int64_t now_ms, uint8_t **out, size_t *len, med_err *err);

#endif
