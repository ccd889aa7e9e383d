#include "b_signal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "med/emit_digest.h"
#include "med/ids.h"
#include "med/reason.h"

uint32_t b_sig_sampling_hash(const char *trace_key, const char *rule_version)
{
    char buf[512], hex[65], first[9];
    int n = snprintf(buf, sizeof buf, "%s|%s", trace_key, rule_version);
    med_sha256_hex(buf, (size_t)(n < (int)sizeof buf ? n : (int)sizeof buf - 1), hex);
    memcpy(first, hex, 8);
    first[8] = '\0';
    return (uint32_t)(strtoul(first, NULL, 16) % 10000u);
}

med_rc b_sig_decide(const char *trace_key, const char *rule_version, long long rate_bps,
                    int force, b_sig_decision *out, med_err *err)
{
    memset(out, 0, sizeof *out);
    if (rate_bps < 0 || rate_bps > 10000 || !rule_version || !rule_version[0]) {
        out->reason_code = MED_R_B_SIG_EVT_SAMPLING_RULE_INVALID;
        return med_err_set(err, MED_ERR_INVALID, out->reason_code, "sampleRateBps",
                           "sampling rule invalid (rate %lld)", rate_bps);
    }
    out->sampling_hash = b_sig_sampling_hash(trace_key, rule_version);
    out->forced = force;
    out->sampled_in = force || out->sampling_hash < (uint32_t)rate_bps;
    out->reason_code = out->sampled_in ? MED_R_B_SIG_EVT_SAMPLED_IN_EMIT
                                       : MED_R_B_SIG_EVT_SAMPLED_OUT_NO_EMIT;
    return MED_OK;
}

void b_sig_idempotency_key(const char *trace_key, const char *request_key,
                           const char *attempt_key, const char *opportunity_key,
                           const char *rule_version, const char *contract_version,
                           char out[65])
{
    char buf[1024];
    int n = snprintf(buf, sizeof buf, "%s|%s|%s|%s|signal_normalized|%s|%s", trace_key,
                     request_key, attempt_key, opportunity_key, rule_version, contract_version);
    med_sha256_hex(buf, (size_t)(n < (int)sizeof buf ? n : (int)sizeof buf - 1), out);
}

void b_sig_ack_decide(const char *stored_digest, const char *payload_digest, b_sig_ack *out)
{
    med_emit_digest_state st =
        stored_digest ? med_emit_digest_compare(stored_digest, strlen(stored_digest), payload_digest)
                      : MED_EMIT_DIGEST_NEW;
    if (st == MED_EMIT_DIGEST_NEW) {
        *out = (b_sig_ack){ "accepted", MED_R_B_SIG_EVT_ACK_ACCEPTED, 1 };
    } else if (st == MED_EMIT_DIGEST_CONFLICT) {
        *out = (b_sig_ack){ "rejected", MED_R_B_SIG_EVT_PAYLOAD_CONFLICT, 0 };
    } else {
        *out = (b_sig_ack){ "duplicate", MED_R_B_SIG_EVT_ACK_DUPLICATE, 0 };
    }
}

med_rc b_sig_digest(const Mediation__V1__SignalNormalizedEventLite *ev, char out[65],
                    med_err *err)
{
    Mediation__V1__SignalNormalizedEventLite c = *ev;
    c.event_key = (char *)"";
    c.event_at_unix_ms = 0;
    return med_emit_digest_pb(&c.base, out, err);
}
