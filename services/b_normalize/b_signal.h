/* B.10 signal_normalized: stable-hash sampling on traceKey, the event's
 * idempotency key, and the publish-ACK decision against a stored digest. */
#ifndef B_SIGNAL_H
#define B_SIGNAL_H

#include <stdint.h>
#include "med/err.h"
#include "mediation/v1/opportunity.pb-c.h"

typedef struct b_sig_decision {
    uint32_t sampling_hash;
    int sampled_in;
    int forced;                /* debugHints.debugForceSample */
    const char *reason_code;   /* sampled_in_emit | sampled_out_no_emit | rule_invalid */
} b_sig_decision;

/* uint32(first 8 hex of sha256(traceKey|ruleVersion)) mod 10000. */
uint32_t b_sig_sampling_hash(const char *trace_key, const char *rule_version);
/* A rate outside 0..10000 or an empty version -> MED_ERR_INVALID
 * b_sig_evt_sampling_rule_invalid (nothing sent; the output is unaffected). */
med_rc b_sig_decide(const char *trace_key, const char *rule_version, long long rate_bps,
                    int force, b_sig_decision *out, med_err *err);
/* sha256(traceKey|requestKey|attemptKey|opportunityKey|signal_normalized|
 * samplingRuleVersion|signalNormalizedEventContractVersion). */
void b_sig_idempotency_key(const char *trace_key, const char *request_key,
                           const char *attempt_key, const char *opportunity_key,
                           const char *rule_version, const char *contract_version,
                           char out[65]);

typedef struct b_sig_ack {
    const char *status;        /* accepted | duplicate | rejected */
    const char *reason_code;
    int publish;               /* 1: send the event */
} b_sig_ack;

/* stored_digest: the payload digest already kept under the key (NULL when
 * none). Same digest -> duplicate (no second publish); another digest ->
 * b_sig_evt_payload_conflict. */
void b_sig_ack_decide(const char *stored_digest, const char *payload_digest, b_sig_ack *out);

/* The event's payload digest: its proto encoding without the uuidv7
 * eventKey and the wall-clock eventAt (med/emit_digest.h), so a
 * redelivered seed that rebuilds the same event is a repeat. */
med_rc b_sig_digest(const Mediation__V1__SignalNormalizedEventLite *ev, char out[65],
                    med_err *err);

#endif
