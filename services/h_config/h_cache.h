/* GET /v1/config cache rules (spec 04 H.3) as pure functions: the
 * If-None-Match header, the cache key, entry freshness and the answer
 * table. The handler does the I/O: it asks h_cache_needs_resolve, runs
 * h_resolve when told to, then h_cache_decide picks status and snapshot.
 *
 * Choices where H.3 is silent:
 * - A 304 still names the cacheDecision it would have had as a 200 (for
 *   audit and logs); only the status differs.
 * - A resolve that failed or was rejected while the entry is in grace
 *   answers 200 with the old snapshot even when the tag equals the old
 *   etag (the table says "200 old").
 * - An entry whose snapshot was not resolved ok counts as no entry. */
#ifndef H_CACHE_H
#define H_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include "med/err.h"

#define H_CACHE_GRACE_MS 60000   /* stale_grace lasts 60 s past expireAt */
#define H_CACHE_TAG_MAX 130      /* longest accepted entity-tag + NUL */

typedef enum h_cache_freshness {
    H_CACHE_FRESH = 0,    /* now < expireAt */
    H_CACHE_STALE_GRACE,  /* expireAt <= now < expireAt + 60 s */
    H_CACHE_EXPIRED,
} h_cache_freshness;

typedef enum h_cache_decision {
    H_CACHE_MISS = 0,
    H_CACHE_REVALIDATED_CHANGED,
    H_CACHE_REVALIDATED_NOT_MODIFIED,
    H_CACHE_STALE_SERVED,
    H_CACHE_NO_DECISION,  /* 503: nothing to serve */
} h_cache_decision;

typedef enum h_cache_serve {
    H_CACHE_SERVE_NONE = 0,  /* 503 */
    H_CACHE_SERVE_OLD,       /* the cached snapshot */
    H_CACHE_SERVE_NEW,       /* the fresh resolution */
} h_cache_serve;

typedef enum h_cache_resolve {
    H_CACHE_RESOLVE_NOT_RUN = 0,
    H_CACHE_RESOLVE_OK,       /* resolved or degraded: new_etag is set */
    H_CACHE_RESOLVE_FAILED,   /* store failure or rejected */
} h_cache_resolve;

typedef struct h_cache_entry {
    int present;
    int resolved_ok;
    const char *etag;        /* borrowed */
    int64_t expire_at_ms;
} h_cache_entry;

typedef struct h_cache_request {
    h_cache_entry entry;
    int64_t now_ms;
    const char *if_none_match;   /* raw header value, NULL when absent */
    h_cache_resolve resolve;
    const char *new_etag;        /* borrowed; with H_CACHE_RESOLVE_OK */
} h_cache_request;

typedef struct h_cache_answer {
    int http_status;             /* 200, 304 or 503 */
    h_cache_decision decision;
    h_cache_serve serve;
    const char *reason_codes[2]; /* MED_R_* constants, sorted */
    size_t n_reason_codes;
} h_cache_answer;

/* A single strong "<etag>" (surrounding spaces allowed) -> MED_OK with the
 * tag, unquoted, in tag. NULL/empty header -> MED_OK and tag "". Weak,
 * list, "*", unquoted or malformed -> MED_ERR_INVALID +
 * h_cfg_cache_invalid_etag_format and tag "": the caller goes on as if
 * the header were absent. cap >= 1. */
med_rc h_cache_parse_if_none_match(const char *header, char *tag, size_t cap, med_err *err);

/* configKey = appId|placementId|environment|schemaVersion (sdkVersion never
 * takes part). MED_ERR_INVALID when a part is missing or out is too small. */
med_rc h_cache_config_key(const char *app_id, const char *placement_id, const char *environment,
                          const char *schema_version, char *out, size_t cap, med_err *err);

int64_t h_cache_expire_at(int64_t response_at_ms, int64_t ttl_sec);
h_cache_freshness h_cache_freshness_at(int64_t expire_at_ms, int64_t now_ms);

/* 1 unless a usable entry is still fresh. */
int h_cache_needs_resolve(const h_cache_entry *entry, int64_t now_ms);

/* The H.3 table. MED_ERR_INVALID when a resolve was needed but req says
 * it did not run (or ran ok without an etag). */
med_rc h_cache_decide(const h_cache_request *req, h_cache_answer *ans, med_err *err);

/* miss | revalidated_changed | revalidated_not_modified | stale_served | NA */
const char *h_cache_decision_name(h_cache_decision d);

#endif
