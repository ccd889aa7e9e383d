/* A.9 opportunity_created: idempotency key, event key, contract check, and
 * the EventEmitAck table with the resend ladder. Pure (a_event_key_new
 * reads the clock and random bytes it is given). */
#ifndef A_EVENT_H
#define A_EVENT_H

#include <stddef.h>
#include <stdint.h>
#include "mediation/v1/opportunity.pb-c.h"

#define A_EVENT_TYPE_CREATED "opportunity_created"
#define A_EVENT_WINDOW_MS (15 * 60 * 1000)

/* sha256(requestKey|opportunityKey|attemptKey|opportunity_created|version). */
void a_event_idempotency_key(const char *request_key, const char *opportunity_key,
                             const char *attempt_key, const char *event_contract_version,
                             char out[65]);

/* "evt_oc_" + UUIDv7 (RFC 9562) from unix ms and 10 random bytes. */
void a_event_key_from(int64_t unix_ms, const uint8_t rnd[10], char *out, size_t cap);

/* NULL when every required field is there, else the first missing one. */
const char *a_event_missing_field(const Mediation__V1__OpportunityCreatedEventLite *ev);

typedef enum a_publish_outcome {
    A_PUB_ACK = 0,
    A_PUB_ACK_DUPLICATE,
    A_PUB_RETRYABLE,          /* timeout, no responders, stream unavailable */
    A_PUB_FAILED,             /* any other publish error */
    A_PUB_PAYLOAD_CONFLICT,   /* key known with another digest: never sent */
    A_PUB_CONTRACT_INVALID,   /* event misses a required field: never sent */
} a_publish_outcome;

typedef struct a_emit_ack {
    const char *ack_status;      /* accepted | duplicate | rejected */
    const char *ack_reason_code;
    int retryable;
    int attempt;                 /* 1-based */
    int64_t next_retry_at_ms;    /* 0 = no resend */
} a_emit_ack;

/* Ladder 1 s, 5 s, 30 s, 120 s, then 120 s; delay before attempt n+1. */
int64_t a_event_retry_delay_ms(int attempt);

/* The ack for attempt `attempt` made at now_ms of an event first tried at
 * first_attempt_at_ms. A retryable rejection schedules the next attempt
 * unless elapsed + nextDelay > window_ms: then retry_exhausted. */
void a_event_ack(a_publish_outcome outcome, int attempt, int64_t first_attempt_at_ms,
                 int64_t now_ms, int64_t window_ms, a_emit_ack *out);

/* Payload digest = sha256 of the deterministic proto encoding; a stored
 * digest ("" = none) that differs is a payload conflict. */
int a_event_payload_conflicts(const char *stored_digest, const char *digest);

#endif
