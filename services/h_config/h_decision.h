/* Config decision audit (spec 04 H.8): one hit / degrade / reject verdict
 * over the five H stages of a request, with its reason codes, and the
 * hConfigDecisionAuditSnapshotLite sent to G before B runs. */
#ifndef H_DECISION_H
#define H_DECISION_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include "h_gate.h"
#include "med/err.h"

typedef enum h_decision_stage {
    H_DSTAGE_RESOLVE,
    H_DSTAGE_VERSION_GATE,
    H_DSTAGE_ROLLOUT,
    H_DSTAGE_CACHE,
    H_DSTAGE_FINALIZE,
    H_DSTAGE_COUNT
} h_decision_stage;

const char *h_decision_stage_name(h_decision_stage s); /* "resolve", "version_gate", ... */

typedef enum h_decision_action {
    H_DECISION_HIT,
    H_DECISION_DEGRADE,
    H_DECISION_REJECT
} h_decision_action;
const char *h_decision_action_name(h_decision_action a); /* "hit" / "degrade" / "reject" */

/* stage_reason_code: the stage's own code for decisionPath (e.g.
 * h_gate_sdk_below_min_reject), NULL = "NA". decision_code: the
 * h_cfg_decision_ code this stage stands for; NULL = the stage's default:
 *   resolve      reject: reject_schema_incompatible when the stage code is
 *                h_cfg_version_incompatible, else reject_missing_required;
 *                degrade: degrade_scope_unavailable
 *   version_gate reject: reject_version_gate_failed;
 *                degrade: degrade_partial_adapter_compatible
 *   rollout      reject: reject_policy_not_found;
 *                degrade: degrade_rollout_force_fallback
 *   cache        reject: reject_contract_invalid;
 *                degrade: degrade_stale_grace_served
 *   finalize     reject: reject_anchor_invalid for an h_anchor_ stage code,
 *                else reject_contract_invalid; degrade: no default.
 * A given decision_code must carry the prefix of the stage's result
 * (h_cfg_decision_reject_ / h_cfg_decision_degrade_). */
typedef struct h_decision_stage_result {
    h_verdict result;
    const char *stage_reason_code;
    const char *decision_code;
} h_decision_stage_result;

/* Borrowed. JSON parts may be NULL (rendered null / {}). */
typedef struct h_decision_input {
    const char *request_key;
    const char *trace_key;
    const char *resolve_id;
    const char *config_key;
    const char *anchor_hash; /* NULL = "NA" */
    h_decision_stage_result stages[H_DSTAGE_COUNT];
    bool override_applied;       /* some field's winnerScope is app or placement */
    bool cache_revalidated_304;  /* the GET answered 304 */
    const json_t *selected_version_snapshot;
    const char *rollout_policy_version; /* NULL = "NA" */
    const json_t *selector_digest;
    const json_t *gate_digest;
    const json_t *cache_digest;
    const json_t *freeze_state;
    int64_t generated_at_ms;
    const char *contract_version;
} h_decision_input;

#define H_DECISION_ID_LEN 24 /* "cfgdec_" + 16 hex + NUL */

typedef struct h_decision {
    const h_decision_input *in; /* borrowed; must outlive the decision */
    h_decision_action action;
    const char *primary_reason_code;
    const char *secondary_reason_codes[H_DSTAGE_COUNT];
    size_t n_secondary;
    const char *stage_decision_code[H_DSTAGE_COUNT]; /* NULL for allow stages */
    char snapshot_id[H_DECISION_ID_LEN];
} h_decision;

/* MED_ERR_INVALID + h_cfg_decision_reject_contract_invalid when keys are
 * missing or a stage's decision code is unknown / of the wrong action. */
med_rc h_decision_build(const h_decision_input *in, h_decision *out, med_err *err);

/* hConfigDecisionAuditSnapshotLite (new reference; NULL on OOM). */
json_t *h_decision_to_json(const h_decision *d);

#endif
