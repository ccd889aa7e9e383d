/* A.5 traceInitLite: the keys A mints, and their inheritance. Pure. */
#ifndef A_KEYS_H
#define A_KEYS_H

#include <stdint.h>
#include "a_dedup.h"
#include "med/err.h"

typedef struct a_trace_init {
    char trace_key[A_FIELD_MAX];
    char request_key[A_KEY_MAX];
    char attempt_key[A_KEY_MAX];
    char opportunity_key[A_KEY_MAX];
    char imp_key[A_KEY_MAX];
    char generated_client_id[A_KEY_MAX];   /* "" = NA */
} a_trace_init;

typedef struct a_keys_input {
    const char *dedup_key;
    int32_t generation;
    const char *trigger_contract_version;
    const char *ingress_envelope_version;
    const char *placement_id;
    const char *trace_hint;           /* valid traceHintOrNA or NULL */
    const char *inherited_trace_key;  /* expired_retry keeping the trace, or NULL */
    int has_client_request_id;
    int64_t request_at_ms;
    int32_t slot_index;               /* MVP: 0 */
} a_keys_input;

/* requestKey = req_ + h16(dedupKey|generation), attemptKey = att_ +
 * h16(requestKey|triggerContractVersion), traceKey = inherited, else the
 * hint, else tr_ + h16(requestKey|ingressEnvelopeVersion), opportunityKey =
 * opp_ + h16(requestKey|placementId), impKey = imp_ +
 * h16(opportunityKey|slotIndex), generated client id = cli_ +
 * h12(requestKey|requestAt) when the request had none. A key that cannot
 * be made or fails the key format -> a_trg_internal_unavailable
 * (MED_ERR_INTERNAL: retryable by contract). */
med_rc a_keys_derive(const a_keys_input *in, a_trace_init *out, med_err *err);

/* inflight_duplicate / reused_result: every key of the first request. */
void a_keys_from_record(const a_dedup_record *rec, a_trace_init *out);

#endif
