/* Config failure matrix (spec 04 H.9): what every module does when config
 * cannot be had, and the hConfigFailureDecisionSnapshotLite H emits. */
#ifndef H_FAILURE_H
#define H_FAILURE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include "med/err.h"

typedef enum h_failure_scenario {
    H_FAIL_CONFIG_TIMEOUT,
    H_FAIL_CONFIG_UNAVAILABLE,
    H_FAIL_CONFIG_VERSION_INVALID,
    H_FAIL_UNKNOWN,
} h_failure_scenario;

/* Any string other than the three named scenarios (NULL too) is unknown. */
h_failure_scenario h_failure_scenario_parse(const char *s);
const char *h_failure_scenario_name(h_failure_scenario s); /* unknown: "unknown" */

typedef enum h_failure_mode { H_FAIL_OPEN, H_FAIL_CLOSED } h_failure_mode;
const char *h_failure_mode_name(h_failure_mode m); /* "fail_open" / "fail_closed" */

#define H_FAILURE_MODULES 8 /* A..H */
#define H_FAILURE_MAX_SECONDARY 2
#define H_FAILURE_ID_LEN 25 /* "cfgfail_" + 16 hex + NUL */

/* Strings are borrowed; NULL or "" optional refs become "NA".
 * has_stable_snapshot: a verified snapshot (etag, configHash) that is fresh
 * or in stale grace; the caller decides, this module only reads it. */
typedef struct h_failure_input {
    const char *request_key;
    const char *trace_key;
    h_failure_scenario scenario;
    bool has_stable_snapshot;
    const char *stable_snapshot_ref;
    const char *last_stable_policy_id;
    const char *anchor_hash;
    int64_t failure_detected_at_ms;
    const char *detected_by_module; /* "A".."H" */
    int64_t generated_at_ms;
} h_failure_input;

/* All strings static or borrowed from the input. */
typedef struct h_failure_decision {
    const h_failure_input *in; /* borrowed; must outlive the decision */
    h_failure_mode mode;
    const char *primary_reason_code;
    const char *secondary_reason_codes[H_FAILURE_MAX_SECONDARY];
    size_t n_secondary;
    const char *module_action[H_FAILURE_MODULES]; /* index 0 = A */
    char snapshot_id[H_FAILURE_ID_LEN];
} h_failure_decision;

/* Fills *out from the matrix. MED_ERR_INVALID when request/trace key or
 * detected_by_module is missing; the hash failing is an error too. */
med_rc h_failure_decide(const h_failure_input *in, h_failure_decision *out, med_err *err);

/* hConfigFailureDecisionSnapshotLite (new reference; NULL on OOM). */
json_t *h_failure_decision_to_json(const h_failure_decision *d);

#endif
