/* The HTTP bodies of GET /v1/config (H.3, 06 section 6). The 200 body
 * splices the cached snapshot text in unchanged, then the per-request
 * decisions (versionGateDecision, rolloutDecision, configDecisionAudit),
 * and puts the two per-response times last, so two answers from the same
 * versions and request differ only in expireAt/responseAt. */
#ifndef H_GET_BODY_H
#define H_GET_BODY_H

#include <stddef.h>
#include <stdint.h>
#include "med/err.h"

#define H_GET_CONTRACT_VERSION "h_get_config_v1"

typedef struct h_get_ok {
    const char *config_key, *etag;
    int ttl_sec;
    const char *cache_decision;      /* miss | revalidated_changed | ... */
    const char *const *codes;        /* reasonCodes (sorted here) */
    size_t n_codes;
    const char *versions_json;       /* configVersionSnapshot, JSON text */
    const char *snapshot_json;       /* resolvedConfigSnapshot, JSON text */
    int64_t expire_at_ms, response_at_ms;
    /* Per-request decisions (h_get_decide), rendered after the snapshot so
     * its bytes never move; NULL = member left out. */
    const char *gate_json;           /* versionGateDecision */
    const char *rollout_json;        /* rolloutDecision */
    const char *audit_json;          /* configDecisionAudit */
} h_get_ok;

/* *out malloc'd, NUL-terminated. */
med_rc h_get_body_ok(const h_get_ok *in, char **out, med_err *err);
/* {"error":{"code","message","field"}}; field NULL or "" -> null. */
med_rc h_get_body_error(const char *code, const char *message, const char *field, char **out,
                        med_err *err);

#endif
