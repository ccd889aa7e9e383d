/* One attempt of an emitted event (A.9 opportunity_created, B.10
 * signal_normalized): digest check, synchronous JetStream publish under
 * Nats-Msg-Id = eventIdempotencyKey, the real PubAck mapped to the
 * EventEmitAck table, the digest marked acked, the ack counted. The
 * caller keeps the attempt count and schedules the resend. */
#ifndef MED_EMIT_PUBLISH_H
#define MED_EMIT_PUBLISH_H

#include <stdint.h>
#include <nats/nats.h>
#include "med/emit_ack.h"
#include "med/err.h"
#include "med/js.h"
#include "med/log.h"
#include "med/redis.h"

/* med_emit_acks_total{stage,reason}: every ack of an emitted event by
 * its ackReasonCode (retry_exhausted is the alert series). */
#define MED_M_EMIT_ACKS      "med_emit_acks_total"
#define MED_M_EMIT_ACKS_HELP "publish ACKs of emitted events (A.9/B.10) by stage and ackReasonCode"

/* Publish result -> outcome. Retryable: timeout, no responders, the
 * connection down, and JetStream saying the stream or cluster is not
 * available (not found, offline, no quorum, out of resources, store
 * failed, JetStream disabled). Anything else is final. */
med_emit_outcome med_emit_classify(natsStatus s, jsErrCode jerr, int duplicate);

/* Synchronous publish of msg (not consumed) with Nats-Msg-Id msg_id;
 * timeout_ms 0 = the connection's publish timeout. err says why when the
 * outcome is not an ack. */
med_emit_outcome med_emit_publish(med_js *js, natsMsg *msg, const char *msg_id,
                                  int64_t timeout_ms, med_err *err);

typedef struct med_emit_event {
    const char *stage;             /* "a" | "b": metric label and log */
    const med_emit_codes *codes;
    natsMsg *msg;                  /* subject, payload, headers; caller owns */
    const char *msg_id;            /* eventIdempotencyKey */
    const char *digest;            /* med_emit_digest_pb of the event */
    const char *digest_key;        /* med_emit_digest_key(...) */
    int64_t window_ms;             /* resend window, also the digest TTL */
    int attempt;                   /* 1-based */
    int64_t first_attempt_at_ms;
    int64_t publish_timeout_ms;    /* 0 = the connection's */
    const med_log_ctx *log;        /* tenant / trace of the event */
} med_emit_event;

/* Runs the attempt and fills ack (decided at the time the publish ended).
 * redis NULL or down: sent without the digest check (logged). An
 * exhausted window is logged at error level as an alert. */
void med_emit_try(med_js *js, med_redis *redis, const med_emit_event *ev, med_emit_ack *ack);

/* Counts one ack in med_emit_acks_total (med_emit_try does it itself). */
void med_emit_count(const char *stage, const char *reason_code);

#endif
