/* A.9 / B.10 EventEmitAck table, ladder and digest comparison. */
#include "med/emit_ack.h"

#include <stdio.h>
#include <string.h>

int64_t med_emit_retry_delay_ms(int attempt)
{
    static const int64_t ladder[] = { 1000, 5000, 30000, 120000 };
    if (attempt < 1) attempt = 1;
    return attempt <= 4 ? ladder[attempt - 1] : 120000;
}

static void set_ack(med_emit_ack *out, const char *status, const char *code)
{
    out->ack_status = status;
    out->ack_reason_code = code;
}

void med_emit_ack_decide(const med_emit_codes *codes, med_emit_outcome outcome, int attempt,
                         int64_t first_attempt_at_ms, int64_t now_ms, int64_t window_ms,
                         med_emit_ack *out)
{
    memset(out, 0, sizeof *out);
    out->attempt = attempt;
    out->acked_at_ms = now_ms;
    switch (outcome) {
    case MED_EMIT_ACK: set_ack(out, "accepted", codes->accepted); return;
    case MED_EMIT_ACK_DUPLICATE: set_ack(out, "duplicate", codes->duplicate); return;
    case MED_EMIT_FAILED: set_ack(out, "rejected", codes->non_retryable); return;
    case MED_EMIT_PAYLOAD_CONFLICT: set_ack(out, "rejected", codes->payload_conflict); return;
    case MED_EMIT_CONTRACT_INVALID:
        set_ack(out, "rejected",
                codes->contract_invalid ? codes->contract_invalid : codes->non_retryable);
        return;
    case MED_EMIT_RETRYABLE:
    default: break;
    }
    int64_t delay = med_emit_retry_delay_ms(attempt);
    if (now_ms - first_attempt_at_ms + delay > window_ms) {
        set_ack(out, "rejected", codes->retry_exhausted);
        out->exhausted = 1;
        return;
    }
    set_ack(out, "rejected", codes->retryable);
    out->retryable = 1;
    out->next_retry_at_ms = now_ms + delay;
}

med_emit_digest_state med_emit_digest_compare(const char *stored, size_t len,
                                              const char *digest)
{
    if (!stored) return MED_EMIT_DIGEST_NEW;
    size_t dl = strlen(digest);
    if (len < dl || memcmp(stored, digest, dl) != 0) return MED_EMIT_DIGEST_CONFLICT;
    if (len == dl) return MED_EMIT_DIGEST_RESEND;
    size_t sl = strlen(MED_EMIT_DIGEST_ACKED_SUFFIX);
    if (len == dl + sl && memcmp(stored + dl, MED_EMIT_DIGEST_ACKED_SUFFIX, sl) == 0)
        return MED_EMIT_DIGEST_ACKED;
    return MED_EMIT_DIGEST_CONFLICT;
}

void med_emit_digest_value(const char *digest, int acked, char *out, size_t cap)
{
    snprintf(out, cap, "%s%s", digest, acked ? MED_EMIT_DIGEST_ACKED_SUFFIX : "");
}
