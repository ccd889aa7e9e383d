/* B.10 signal_normalized on the wire: an in-process due-queue drained by
 * its own thread, so the event never delays the publish to C. Each item is
 * tried through common/emit_* (digest store med:<env>:b:idem:sig:<key>,
 * 10 min; PubAck -> b_sig_evt_ack_*), resent by the ladder 1 s, 5 s,
 * 30 s, 120 s, then 120 s within B_SIG_EMIT_WINDOW_SEC, and dropped with
 * b_sig_evt_retry_exhausted past it.
 *
 * The queue lives in memory only: a crash loses the events waiting in it.
 * That is accepted for a sampled diagnostics event (B.10 samples 1% by
 * default and nothing downstream depends on it); a seed redelivered after
 * the crash rebuilds the same event (same idempotency key and digest), so
 * the common case of a crash before the seed's ack still sends it. */
#ifndef B_EMIT_H
#define B_EMIT_H

#include <stdint.h>
#include <nats/nats.h>
#include "med/emit_ack.h"
#include "med/headers.h"
#include "med/service.h"

/* Events waiting at once; beyond it a new event is dropped (logged and
 * counted as b_sig_evt_ack_rejected_non_retryable). */
#define B_EMIT_QUEUE_MAX 10000

typedef struct b_emitter b_emitter;

/* b_sig_evt_* codes of the EventEmitAck table. */
extern const med_emit_codes b_emit_codes;

/* Starts the thread (its own Redis connection, the service's NATS). */
med_rc b_emitter_start(med_service *svc, b_emitter **out, med_err *err);

/* Queues attempt 1 (due at once). Takes msg (subject, payload, headers)
 * in every case; idempotency_key / digest are copied. */
void b_emitter_submit(b_emitter *e, natsMsg *msg, const char *idempotency_key,
                      const char *digest, const med_trace_headers *h);

/* Stops and joins the thread; events still queued are dropped (logged). */
void b_emitter_stop(b_emitter *e);

#endif
