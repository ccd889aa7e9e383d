/* The EventEmitAck table shared by A's opportunity_created (A.9) and B's
 * signal_normalized (B.10): publish outcome -> ackStatus/ackReasonCode,
 * the resend ladder (1 s, 5 s, 30 s, 120 s, then 120 s) and its window,
 * and the payload-digest comparison. Pure: each stage passes its own
 * reason codes and window. */
#ifndef MED_EMIT_ACK_H
#define MED_EMIT_ACK_H

#include <stddef.h>
#include <stdint.h>

typedef enum med_emit_outcome {
    MED_EMIT_ACK = 0,
    MED_EMIT_ACK_DUPLICATE,     /* PubAck duplicate=true, or the digest store says acked */
    MED_EMIT_RETRYABLE,         /* timeout, no responders, stream unavailable */
    MED_EMIT_FAILED,            /* any other publish error */
    MED_EMIT_PAYLOAD_CONFLICT,  /* key known with another digest: never sent */
    MED_EMIT_CONTRACT_INVALID,  /* event misses a required field: never sent */
} med_emit_outcome;

/* One stage's reason codes. contract_invalid may be NULL (the stage has no
 * such code): non_retryable is used instead. */
typedef struct med_emit_codes {
    const char *accepted, *duplicate, *retryable, *non_retryable;
    const char *payload_conflict, *contract_invalid, *retry_exhausted;
} med_emit_codes;

typedef struct med_emit_ack {
    const char *ack_status;      /* accepted | duplicate | rejected */
    const char *ack_reason_code;
    int retryable;               /* 1: a resend is due at next_retry_at_ms */
    int exhausted;               /* 1: the window ran out (alert) */
    int attempt;                 /* 1-based */
    int64_t next_retry_at_ms;    /* 0 = no resend */
    int64_t acked_at_ms;         /* when the outcome was decided */
} med_emit_ack;

/* Delay before attempt n+1: 1 s, 5 s, 30 s, 120 s, then 120 s. */
int64_t med_emit_retry_delay_ms(int attempt);

/* The ack of attempt `attempt` finished at now_ms, of an event first tried
 * at first_attempt_at_ms. A retryable rejection schedules the next attempt
 * unless elapsed + nextDelay > window_ms: then retry_exhausted. */
void med_emit_ack_decide(const med_emit_codes *codes, med_emit_outcome outcome, int attempt,
                         int64_t first_attempt_at_ms, int64_t now_ms, int64_t window_ms,
                         med_emit_ack *out);

/* What the digest store says about a payload. */
typedef enum med_emit_digest_state {
    MED_EMIT_DIGEST_NEW = 0,    /* key unknown: claimed now, send */
    MED_EMIT_DIGEST_RESEND,     /* same digest, not acked yet: send again */
    MED_EMIT_DIGEST_ACKED,      /* same digest, already accepted: duplicate, no send */
    MED_EMIT_DIGEST_CONFLICT,   /* another digest: payload_conflict, never sent */
    MED_EMIT_DIGEST_UNKNOWN,    /* store unreachable: send, the stream's
                                 * Nats-Msg-Id window is the only guard */
} med_emit_digest_state;

#define MED_EMIT_DIGEST_ACKED_SUFFIX ":acked"

/* Compares a stored value ("<digest>" or "<digest>:acked", not
 * NUL-terminated, len bytes; NULL = no value) with a 64-hex digest. */
med_emit_digest_state med_emit_digest_compare(const char *stored, size_t len,
                                              const char *digest);

/* "<digest>" or "<digest>:acked" into out (cap >= 71). */
void med_emit_digest_value(const char *digest, int acked, char *out, size_t cap);

#endif
