/* Version gate (spec 04 H.5): schema -> sdk -> adapter, each allow, degrade
 * or reject. Pure: inputs are borrowed, the result owns only its arrays. */
#ifndef H_GATE_H
#define H_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include "med/err.h"

/* allow < degrade < reject; the worse one wins. Also used by anchors and
 * the decision audit, which share the three words. */
typedef enum h_verdict { H_ALLOW = 0, H_DEGRADE = 1, H_REJECT = 2 } h_verdict;
const char *h_verdict_name(h_verdict v); /* "allow" / "degrade" / "reject" */

typedef struct h_kv {
    const char *key;
    const char *value;
} h_kv;

typedef struct h_schema_policy {
    const char *const *fully_supported;
    size_t n_fully_supported;
    const char *const *compatible_degrade;
    size_t n_compatible_degrade;
} h_schema_policy;

/* A grace hit needs allow_below_min and the sdkVersion listed (byte-equal)
 * in allowed_sdk_versions: an empty list grants nothing. */
typedef struct h_grace_policy {
    bool allow_below_min;
    const char *const *allowed_sdk_versions;
    size_t n_allowed_sdk_versions;
} h_grace_policy;

/* NULL or "" strings are missing. adapter_versions must hold >= 1 entry (a
 * request without adapters has nothing to gate: missing input). Adapter ids
 * are unique. schema_policy NULL = h_gate_policy_not_found; grace NULL =
 * no grace. missing_min_version_policy is "reject" or
 * "degrade_block_adapter"; anything else is h_gate_policy_not_found. */
typedef struct h_gate_input {
    const char *schema_version;
    const char *sdk_version;
    const h_kv *adapter_versions;
    size_t n_adapter_versions;
    const char *sdk_min_version;
    const h_kv *adapter_min_versions; /* NULL = map missing */
    size_t n_adapter_min_versions;
    const char *missing_min_version_policy;
    const h_schema_policy *schema_policy;
    const h_grace_policy *grace_policy;
    /* GET /v1/config with adapterVersionMapOrNA = NA (H.3: optional): the
     * SDK reported no adapters, so there is nothing for the adapter stage to
     * judge; it passes with empty lists instead of failing the pre-check.
     * The per-opportunity gate at A never sets this. */
    bool adapters_not_reported;
} h_gate_input;

#define H_GATE_MAX_CODES 5

/* Adapter ids borrow from the input. On reject compatible is empty and
 * blocked lists every adapter (D never runs). */
typedef struct h_gate_result {
    h_verdict action;
    h_verdict schema_gate, sdk_gate, adapter_gate;
    const char *reason_codes[H_GATE_MAX_CODES];
    size_t n_reason_codes;
    const char **compatible_adapters; /* byte order */
    size_t n_compatible;
    const char **blocked_adapters; /* byte order */
    size_t n_blocked;
} h_gate_result;

/* Gate decisions (including reject) are MED_OK; only MED_ERR_NOMEM /
 * MED_ERR_INVALID (NULL arguments) fail. Free with h_gate_result_free. */
med_rc h_gate_evaluate(const h_gate_input *in, h_gate_result *out, med_err *err);
void h_gate_result_free(h_gate_result *r);

#endif
