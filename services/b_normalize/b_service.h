/* Turns one normalization result into the relay outputs: the
 * NormalizedOpportunity to C (or, on a B reject, a b_reject ComposeInput to
 * E: 00 decision 1), the decision StageAudit, and the signal_normalized
 * StageAudit when sampled in. Packing only, no I/O. */
#ifndef B_SERVICE_H
#define B_SERVICE_H

#include "b_normalize.h"
#include "med/relay.h"

/* The signal_normalized StageAudit, packed: it leaves B through the
 * emitter (b_emit.h), after and independent of the relay outputs. */
typedef struct b_signal_msg {
    uint8_t *data;       /* malloc'd; NULL when not sampled in */
    size_t len;
    char digest[65];     /* b_sig_digest of the event */
} b_signal_msg;

/* Idempotency keys: b.norm:<opportunityKey>, b.compose:<key>,
 * b.audit:<key>; the relay outputs are the output to C (or E) and the
 * decision audit. When sig is non-NULL and the event is sampled in, it
 * gets the event (Nats-Msg-Id = eventIdempotencyKey, B.10). */
med_rc b_service_emit(const med_relay_in *in, const Mediation__V1__OpportunitySeed *seed,
                      b_normalize_out *res, med_relay_out *out, b_signal_msg *sig,
                      med_err *err);

/* "evt_b_sig_" + a uuidv7 (time-ordered random id) into out (cap >= 47). */
int b_service_event_key(int64_t now_ms, char *out, size_t cap);

#endif
