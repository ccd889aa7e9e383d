/* Per-request decisions of GET /v1/config (H.5 gate, H.7 canary, H.8
 * audit). They are computed from the served resolvedConfigSnapshot text
 * (fresh or cached) plus the request, every time, and rendered beside the
 * snapshot: the snapshot, its etag and the cache entry never depend on
 * sdkVersion or adapters ("gate and audit only"). Pure apart from the
 * breaker reader the caller passes, so it unit-tests without servers. */
#ifndef H_GET_DECIDE_H
#define H_GET_DECIDE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "h_breaker.h"
#include "h_decision.h"
#include "h_gate.h"
#include "med/err.h"

#define H_GET_DECISION_CONTRACT "h_cfg_decision_audit_v1"
/* Redis key prefix of a canary breaker; + h_breaker_key(). Nothing writes
 * it yet (the outcome feed lands with D/E); absent reads as closed. */
#define H_GET_BREAKER_KEY_PREFIX "med:h:breaker:"

/* Fills *out with the breaker of key; returns 1 when one was found, 0 when
 * absent or unreadable (closed). */
typedef int (*h_get_breaker_reader)(void *ud, const char *breaker_key, h_breaker_state *out);

typedef struct h_get_decide_in {
    const char *snapshot_json;       /* served resolvedConfigSnapshot text */
    const char *versions_json;       /* configVersionSnapshot text, may be NULL */
    const char *config_key, *app_id, *placement_id, *environment;
    const char *schema_version, *sdk_version;
    const char *trace_key;           /* traceKeyOrNA; NULL = NA */
    const h_kv *adapters;            /* adapterVersionMapOrNA; n 0 = NA */
    size_t n_adapters;
    int http_status;                 /* 200 | 304 */
    const char *cache_decision;      /* h_cache_decision_name */
    const char *cache_code;          /* the cache's first reason code, NULL = none */
    h_get_breaker_reader breaker_reader; /* NULL = always closed */
    void *breaker_ud;
    int64_t now_ms;
} h_get_decide_in;

/* What the stages reduce to before the audit is built (unit-tested). */
typedef struct h_get_stage_facts {
    const char *resolution_status;   /* resolved | degraded | rejected */
    const char *resolve_code;        /* the snapshot's first reason code, NULL = none */
    h_verdict gate_action;
    const char *gate_code;           /* the gate's first reason code */
    int has_rollout;
    int rollout_force_fallback;
    const char *rollout_code;        /* the rollout's first reason code */
    int http_status;
    const char *cache_decision;
    const char *cache_code;
} h_get_stage_facts;

/* Maps facts to the five stage results of h_decision_build. */
void h_get_decide_stages(const h_get_stage_facts *f, h_decision_stage_result out[H_DSTAGE_COUNT],
                         int *revalidated_304);

typedef struct h_get_decisions {
    char *gate_json;    /* versionGateDecision text (owned) */
    char *rollout_json; /* rolloutDecision text (owned); NULL without a rollout object */
    char *audit_json;   /* configDecisionAudit text for the body (owned) */
    json_t *audit_full; /* hConfigDecisionAuditSnapshotLite (owned), for the StageAudit */
    char snapshot_id[H_DECISION_ID_LEN];
    char action[16];    /* hit | degrade | reject */
    const char *primary;                        /* static storage */
    const char *secondary[H_DSTAGE_COUNT];      /* static storage */
    size_t n_secondary;
} h_get_decisions;

/* MED_ERR_INVALID when the snapshot text does not parse or lacks its keys;
 * MED_ERR_NOMEM. Free with h_get_decisions_clear (also after failure). */
med_rc h_get_decide(const h_get_decide_in *in, h_get_decisions *out, med_err *err);
void h_get_decisions_clear(h_get_decisions *d);

#endif
