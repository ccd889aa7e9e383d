/* A.9 event identity and the EventEmitAck table. */
#include "a_event.h"

#include <stdio.h>
#include <string.h>

#include "a_types.h"
#include "med/emit_digest.h"
#include "med/ids.h"
#include "med/reason.h"

void a_event_idempotency_key(const char *request_key, const char *opportunity_key,
                             const char *attempt_key, const char *event_contract_version,
                             char out[65])
{
    char buf[4 * A_FIELD_MAX + 32];
    int n = snprintf(buf, sizeof buf, "%s|%s|%s|%s|%s", request_key, opportunity_key,
                     attempt_key, A_EVENT_TYPE_CREATED, event_contract_version);
    size_t len = n < 0 ? 0 : (size_t)n >= sizeof buf ? sizeof buf - 1 : (size_t)n;
    med_sha256_hex(buf, len, out);
}

void a_event_key_from(int64_t unix_ms, const uint8_t rnd[10], char *out, size_t cap)
{
    uint8_t u[16];
    uint64_t ms = (uint64_t)unix_ms;
    for (int i = 0; i < 6; i++) u[i] = (uint8_t)(ms >> (40 - 8 * i));
    memcpy(u + 6, rnd, 10);
    u[6] = (uint8_t)(0x70 | (u[6] & 0x0f));   /* version 7 */
    u[8] = (uint8_t)(0x80 | (u[8] & 0x3f));   /* RFC 9562 variant */
    snprintf(out, cap,
             "evt_oc_%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
             u[13], u[14], u[15]);
}

static int empty(const char *s)
{
    return !s || !*s;
}

const char *a_event_missing_field(const Mediation__V1__OpportunityCreatedEventLite *ev)
{
    if (!ev) return "event";
    if (empty(ev->event_key)) return "eventKey";
    if (empty(ev->event_idempotency_key)) return "eventIdempotencyKey";
    if (empty(ev->event_type)) return "eventType";
    if (ev->event_at_unix_ms <= 0) return "eventAt";
    if (empty(ev->request_key)) return "requestKey";
    if (empty(ev->opportunity_key)) return "opportunityKey";
    if (empty(ev->trace_key)) return "traceKey";
    if (empty(ev->attempt_key)) return "attemptKey";
    if (empty(ev->placement_id)) return "placementId";
    if (ev->n_imp_seed_refs == 0) return "impSeedRefs";
    if (empty(ev->create_opportunity_contract_version)) return "createOpportunityContractVersion";
    if (empty(ev->opportunity_event_contract_version)) return "opportunityEventContractVersion";
    return NULL;
}

const med_emit_codes a_event_codes = {
    .accepted = MED_R_A_OC_EMIT_ACCEPTED,
    .duplicate = MED_R_A_OC_EMIT_DUPLICATE_NOOP,
    .retryable = MED_R_A_OC_EMIT_REJECTED_RETRYABLE,
    .non_retryable = MED_R_A_OC_EMIT_REJECTED_NON_RETRYABLE,
    .payload_conflict = MED_R_A_OC_EMIT_PAYLOAD_CONFLICT,
    .contract_invalid = MED_R_A_OC_EMIT_CONTRACT_INVALID,
    .retry_exhausted = MED_R_A_OC_EMIT_RETRY_EXHAUSTED,
};

int64_t a_event_retry_delay_ms(int attempt)
{
    return med_emit_retry_delay_ms(attempt);
}

void a_event_ack(a_publish_outcome outcome, int attempt, int64_t first_attempt_at_ms,
                 int64_t now_ms, int64_t window_ms, a_emit_ack *out)
{
    med_emit_ack_decide(&a_event_codes, outcome, attempt, first_attempt_at_ms, now_ms, window_ms,
                        out);
}

int a_event_payload_conflicts(const char *stored_digest, const char *digest)
{
    if (!stored_digest || !*stored_digest || !digest) return 0;
    return med_emit_digest_compare(stored_digest, strlen(stored_digest), digest) ==
           MED_EMIT_DIGEST_CONFLICT;
}

med_rc a_event_digest(const Mediation__V1__OpportunityCreatedEventLite *ev, char out[65],
                      med_err *err)
{
    Mediation__V1__OpportunityCreatedEventLite c = *ev;
    c.event_key = (char *)"";
    c.event_at_unix_ms = 0;
    c.handoff_to_b_at_unix_ms = 0;
    return med_emit_digest_pb(&c.base, out, err);
}
