/* A.1 pipeline as pure steps around the one I/O the decision needs (the
 * dedup record): a_decide_front (decode .. L2 + dedup key), the caller's
 * dedup lookup, then a_decide_back (dedup state, keys, mapping, budget).
 * The result says which of three things A emits: a reject reply to the
 * inbox, a terminal ComposeInput to E, or a created opportunity. */
#ifndef A_DECIDE_H
#define A_DECIDE_H

#include <jansson.h>
#include <stdint.h>
#include "a_dedup.h"
#include "a_keys.h"
#include "a_request.h"
#include "a_rules.h"
#include "a_taxonomy.h"

typedef enum a_kind {
    A_KIND_REJECT_REPLY = 0,   /* contract reject / internal: 400 or 503 to the inbox */
    A_KIND_TERMINAL,           /* no_op, block, duplicate, config/budget reject: ComposeInput */
    A_KIND_CREATE,             /* create -> event -> seed */
} a_kind;

#define A_MAX_SECONDARY 6

typedef struct a_decision {
    a_kind kind;
    const char *reason_code;            /* primary */
    const char *secondary[A_MAX_SECONDARY];
    size_t n_secondary;
    const char *trigger_action, *error_action, *decision_outcome;
    const char *decision_action;        /* terminal: no_op | block | reject */
    const char *delivery_status_hint;   /* terminal: no_fill | error */
    int retryable;
    char field[128], message[256];      /* reject reply body */
    a_sensing sensing;
    int has_sensing;
    a_config_outcome cfg;
    a_dedup_key dkey;
    int has_dkey;
    a_dedup_decision dedup;
    int has_dedup, dedup_degraded;
    a_dedup_record first;               /* duplicates: the stored record */
    a_trace_init keys;
    int has_keys;
    a_budget budget;
    int has_budget;
} a_decision;

typedef struct a_decide_in {
    const char *med_app;                /* authenticated app (Med-App) */
    int64_t received_at_ms;
    int64_t now_ms;
    med_rconfig_status config_status;
    const json_t *placement_doc;        /* NULL when the snapshot has none */
    int dedup_window_sec;
    int64_t soft_budget_ms, hard_budget_ms;
    uint64_t stream_seq;                /* this message's stream sequence */
    const a_version_lists *versions;    /* NULL = defaults */
} a_decide_in;

/* Steps 1-3 (decode, L1, identity): 1 when the request goes on to the
 * config lookup, whose key comes from the parsed request; 0 when *d is a
 * final reject reply. Resets *d. */
int a_decide_parse(const a_decide_in *in, const char *body, size_t len, a_request *req,
                   a_decision *d);
/* Steps 4-5 (config matrix, L2) plus the dedup key, on a parsed request
 * and in->config_status / in->placement_doc: 1 when the request continues
 * to the dedup lookup, 0 when *d is final. */
int a_decide_config(const a_decide_in *in, a_request *req, a_decision *d);

/* a_decide_parse + a_decide_config with the config already known. */
int a_decide_front(const a_decide_in *in, const char *body, size_t len, a_request *req,
                   a_decision *d);

/* Steps 6-8. rec = the stored dedup record (NULL = none); redis_down: the
 * lookup failed (dedupDegraded). */
void a_decide_back(const a_decide_in *in, const a_request *req, const a_dedup_record *rec,
                   int redis_down, a_decision *d);

/* Redis and PostgreSQL both down (or keys failed): a_trg_internal_unavailable,
 * retryable reject reply (503). */
void a_decision_internal_unavailable(a_decision *d, const char *why);

/* The dedup record this decision leaves behind (inflight before create,
 * completed with the result after). */
void a_decision_record(const a_decision *d, const a_request *req, int64_t now_ms,
                       uint64_t stream_seq, const char *state, a_dedup_record *out);

/* A.4/A.5: the dedupKey ("cli:" + appId + ":" + generated client id)
 * under which the record this decision owns is also reachable, so an SDK
 * retrying with the id it was given back is decided on that record.
 * 1 and *out filled for a request without client id whose record this
 * decision writes (new, resume, expired retry); 0 otherwise. */
int a_decision_alias_key(const a_decision *d, const a_request *req, char *out, size_t cap);

#endif
