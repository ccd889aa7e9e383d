/* A.9 opportunity_created: idempotency key, event key, contract check, and
 * the EventEmitAck table with the resend ladder. Pure (a_event_key_new
 * reads the clock and random bytes it is given). */
#ifndef A_EVENT_H
#define A_EVENT_H

#include <stddef.h>
#include <stdint.h>
#include "med/emit_ack.h"
#include "med/err.h"
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

/* The EventEmitAck table is common/emit_ack (shared with B.10); A's
 * names for it and A's reason codes. */
typedef med_emit_outcome a_publish_outcome;
#define A_PUB_ACK MED_EMIT_ACK
#define A_PUB_ACK_DUPLICATE MED_EMIT_ACK_DUPLICATE
#define A_PUB_RETRYABLE MED_EMIT_RETRYABLE
#define A_PUB_FAILED MED_EMIT_FAILED
#define A_PUB_PAYLOAD_CONFLICT MED_EMIT_PAYLOAD_CONFLICT
#define A_PUB_CONTRACT_INVALID MED_EMIT_CONTRACT_INVALID

typedef med_emit_ack a_emit_ack;

/* a_oc_emit_* */
extern const med_emit_codes a_event_codes;

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

/* The event's payload digest: its proto encoding without the uuidv7
 * eventKey and the wall-clock eventAt / handoffToBAt (med/emit_digest.h). */
med_rc a_event_digest(const Mediation__V1__OpportunityCreatedEventLite *ev, char out[65],
                      med_err *err);

#endif
