/* Canary rollout decision (spec 04 H.7). Pure: same inputs, same answer on
 * every replica and after restarts.
 *
 * Percentages are integer basis points (1.00 % = 100 bp) from parse to
 * compare, so a ramp 5 -> 20 % never drops a unit that was in. */
#ifndef H_ROLLOUT_H
#define H_ROLLOUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "h_breaker.h"
#include "med/err.h"

#define H_ROLLOUT_FULL_BP 10000

/* An id list; present == false means "no selector" (no filter). */
typedef struct h_rollout_ids {
    bool present;
    const char **ids;
    size_t n;
} h_rollout_ids;

typedef struct h_rollout_selector {
    h_rollout_ids app_ids, placement_ids, adapter_ids;
} h_rollout_selector;

typedef struct h_rollout_adapter_pct {
    const char *adapter_id;
    int64_t bp;    /* valid only when pct_valid */
    bool pct_valid; /* a number 0..100 with at most 2 decimals */
} h_rollout_adapter_pct;

/* Parsed `rollout` object of a route_policy document. Strings borrow from
 * the json_t, which the policy keeps a reference to. An unusable percent
 * does not fail the parse: it is a decision (h_rollout_invalid_percent). */
typedef struct h_rollout_policy {
    json_t *doc;
    const char *policy_id;
    const char *last_stable_policy_id;
    int64_t rollout_bp;
    bool rollout_pct_parsed; /* a number, maybe out of range (101) */
    bool rollout_pct_valid;  /* parsed and 0..100 */
    int64_t control_bp; /* parsed and checked; does not change the action */
    bool control_pct_valid;
    h_rollout_adapter_pct *adapter_pcts;
    size_t n_adapter_pcts;
    h_rollout_selector include, exclude;
    const char *min_sdk_version;  /* NULL = no lower bound */
    const char *max_sdk_version;  /* NULL = "NA", no upper bound */
    h_breaker_thresholds thresholds;
    int64_t cooldown_ms;
} h_rollout_policy;

/* The JSON shape (all optional except policyId and lastStablePolicyId):
 *   { "policyId", "lastStablePolicyId",
 *     "rolloutPercent", "controlPercent": number or decimal string,
 *     "adapterRolloutPercentMap": { adapterId: percent },
 *     "include" / "exclude": { "appIds", "placementIds", "adapterIds": [..] },
 *     "minSdkVersion", "maxSdkVersionOrNA": SemVer, null or "NA",
 *     "breakerThresholds": { "errorRate", "noFillRate" (0..1, 4 dp),
 *                            "p95LatencyMs", "criticalReasonCodeCount" },
 *     "cooldownMs" (default 600000) }
 * MED_ERR_INVALID: h_rollout_policy_not_found (not an object, ids missing),
 * h_cfg_invalid_type (a field of the wrong type, bad SemVer),
 * h_cfg_invalid_range (negative threshold or cooldown). Free with
 * h_rollout_policy_free, also after a failed parse. */
med_rc h_rollout_policy_parse(json_t *rollout, h_rollout_policy *out, med_err *err);
void h_rollout_policy_free(h_rollout_policy *p);

/* A decimal number (JSON integer, real or string like "99.50") scaled by
 * 10^decimals into *out; -1 when not a number, more decimals than allowed
 * or too large. Range is the caller's business. */
int h_rollout_parse_scaled(const json_t *v, int decimals, int64_t *out);

/* NULL or "" strings are missing. policy NULL = not found; breaker NULL =
 * closed. user_bucket_hint NULL = NA. */
typedef struct h_rollout_input {
    const char *request_key;
    const char *trace_key;
    const char *app_id;
    const char *placement_id;
    const char *sdk_version;
    const char *const *adapter_ids;
    size_t n_adapter_ids;
    const char *environment;
    const char *rollout_policy_version;
    int64_t rollout_at_ms;
    const char *user_bucket_hint;
    const h_rollout_policy *policy;
    const h_breaker_state *breaker;
} h_rollout_input;

typedef enum h_rollout_action {
    H_ROLLOUT_IN = 0,
    H_ROLLOUT_OUT = 1,
    H_ROLLOUT_FORCE_FALLBACK = 2
} h_rollout_action;
/* "in_experiment" / "out_of_experiment" / "force_fallback" */
const char *h_rollout_action_name(h_rollout_action a);

#define H_ROLLOUT_MAX_CODES 4

/* Strings borrow from the input and policy. split_key is "" when inputs
 * were missing (bucket_bp is then -1). effective_bp is the percent the
 * bucket is compared with: 0 while the breaker is open, at most 1.00 %
 * while it is half-open, else the policy's (even when out of range).
 * in_experiment selects policyId; the other actions lastStablePolicyId.
 * Out of experiment by bucket leaves every adapter allowed (the stable
 * policy runs them all); exclusion, a failed include and force_fallback
 * block every adapter. In experiment with no adapter left (a request
 * without adapters too) is force_fallback with h_rollout_in_experiment and
 * h_rollout_force_fallback_applied. Adapter selectors narrow the canary's
 * adapters; they end the experiment only when they cover every adapter
 * (exclude) or none (include). */
typedef struct h_rollout_result {
    h_rollout_action action;
    const char *selected_policy_id; /* NULL when no policy */
    char split_key[65];
    int64_t bucket_bp;
    int64_t effective_bp; /* -1 when unknown (no policy, unparseable percent) */
    const char *reason_codes[H_ROLLOUT_MAX_CODES];
    size_t n_reason_codes;
    const char **allowed_adapters; /* input order */
    size_t n_allowed;
    const char **blocked_adapters; /* input order */
    size_t n_blocked;
} h_rollout_result;

/* Decisions (force_fallback included) are MED_OK; only MED_ERR_NOMEM and
 * MED_ERR_INVALID (NULL in/out) fail. Free with h_rollout_result_free. */
med_rc h_rollout_decide(const h_rollout_input *in, h_rollout_result *out, med_err *err);
void h_rollout_result_free(h_rollout_result *r);

/* The bucket of a key: uint64 of its first 16 hex chars mod 10000; -1 when
 * the key is shorter or not hex. */
int64_t h_rollout_bucket_bp(const char *hex_key);

/* {"rolloutAction","selectedPolicyId","splitKey","bucketValue",
 *  "rolloutPercent","allowedAdapters","blockedAdapters","reasonCodes"}.
 * bucketValue and rolloutPercent are reals with 2 decimals: dump with
 * H_ROLLOUT_JSON_FLAGS (or h_rollout_result_render) so they print as
 * 12.34, not 12.339999999999999. NULL on ENOMEM. */
#define H_ROLLOUT_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(10))
json_t *h_rollout_result_to_json(const h_rollout_result *r);
/* malloc'd compact JSON; NULL on ENOMEM. */
char *h_rollout_result_render(const h_rollout_result *r);

#endif
