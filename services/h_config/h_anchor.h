/* Version anchors (spec 04 H.6): the 18 versions a request is pinned to,
 * written once by H at ingress and only appended to at later freeze points.
 * Pure: callers bring the inputs and store the returned snapshot. */
#ifndef H_ANCHOR_H
#define H_ANCHOR_H

#include <jansson.h>
#include <stdint.h>
#include "h_gate.h"
#include "med/err.h"

/* Field order is the spec's listing; the JSON keys are the names below. */
typedef enum h_anchor_field {
    H_ANCHOR_SCHEMA_VERSION,
    H_ANCHOR_ROUTING_STRATEGY_VERSION,
    H_ANCHOR_PLACEMENT_CONFIG_VERSION,
    H_ANCHOR_GLOBAL_CONFIG_VERSION,
    H_ANCHOR_APP_CONFIG_VERSION_OR_NA,
    H_ANCHOR_PLACEMENT_SOURCE_VERSION_OR_NA,
    H_ANCHOR_CONFIG_RESOLUTION_CONTRACT_VERSION,
    H_ANCHOR_VERSION_GATE_CONTRACT_VERSION,
    H_ANCHOR_ENUM_DICT_VERSION,
    H_ANCHOR_MAPPING_RULE_VERSION,
    H_ANCHOR_POLICY_RULE_VERSION,
    H_ANCHOR_ROUTING_POLICY_VERSION,
    H_ANCHOR_DELIVERY_RULE_VERSION,
    H_ANCHOR_EVENT_CONTRACT_VERSION,
    H_ANCHOR_DEDUP_FINGERPRINT_VERSION,
    H_ANCHOR_CLOSURE_RULE_VERSION,
    H_ANCHOR_BILLING_RULE_VERSION,
    H_ANCHOR_ARCHIVE_CONTRACT_VERSION,
    H_ANCHOR_FIELD_COUNT
} h_anchor_field;

const char *h_anchor_field_name(h_anchor_field f); /* camelCase JSON key */

typedef enum h_freeze_point {
    H_FREEZE_INGRESS,
    H_FREEZE_ROUTING,
    H_FREEZE_DELIVERY,
    H_FREEZE_EVENT,
    H_FREEZE_COUNT
} h_freeze_point;

const char *h_freeze_point_name(h_freeze_point p); /* "freeze_point_ingress" ... */

#define H_ANCHOR_VALUE_MAX 128
#define H_ANCHOR_KEY_MAX 256
#define H_ANCHOR_MAX_CODES 2

/* "" = empty (not yet written). The OrNA fields hold "NA" when absent. */
typedef struct h_anchor_set {
    char value[H_ANCHOR_FIELD_COUNT][H_ANCHOR_VALUE_MAX];
} h_anchor_set;

typedef struct h_anchor_snapshot {
    char request_key[H_ANCHOR_KEY_MAX];
    char trace_key[H_ANCHOR_KEY_MAX];
    h_anchor_set anchor_set;
    char anchor_hash[65];
    h_freeze_point current_freeze_point;
    unsigned completed_mask; /* bit i = freeze point i completed */
    h_verdict anchor_action;
    const char *reason_codes[H_ANCHOR_MAX_CODES]; /* static reason strings */
    size_t n_reason_codes;
    int64_t injected_at_ms;
    char contract_version[H_ANCHOR_VALUE_MAX];
} h_anchor_snapshot;

/* values[f]: what this freeze point sees for field f (from the resolved
 * snapshot, gate decision and module refs); NULL or "" = not supplied, so
 * the previous value is forwarded. */
typedef struct h_anchor_input {
    const char *request_key;
    const char *trace_key;
    const char *values[H_ANCHOR_FIELD_COUNT];
    h_freeze_point freeze_point;
    int64_t inject_at_ms;
    const char *contract_version;
} h_anchor_input;

/* anchorHash = sha256(JCS(anchorSet)), the set as a flat object of the 18
 * keys. */
med_rc h_anchor_hash(const h_anchor_set *set, char out[65], med_err *err);
json_t *h_anchor_set_to_json(const h_anchor_set *set); /* NULL on OOM */

/* Injection (H.6, first hit decides). prev is the stored snapshot, NULL
 * only at the first (ingress) injection. It is never written: *out is a new
 * snapshot and, on reject, carries prev's anchor set unchanged. The anchor
 * decision (allow / degrade / reject) is in out->anchor_action with
 * MED_OK; a failure to compute (hashing) returns the error, err code
 * h_anchor_injection_failed, and out says reject with that code. */
med_rc h_anchor_inject(const h_anchor_input *in, const h_anchor_snapshot *prev,
                       h_anchor_snapshot *out, med_err *err);

/* versionAnchorSnapshot as JSON (new reference; NULL on OOM). */
json_t *h_anchor_snapshot_to_json(const h_anchor_snapshot *s);

#endif
