/* A.5 key derivation. */
#include "a_keys.h"

#include <stdio.h>
#include <string.h>

#include "med/ids.h"
#include "med/reason.h"

static int hash_of(char *out, size_t cap, const char *prefix, const char *a, const char *b,
                   size_t n)
{
    char buf[A_DEDUP_KEY_MAX + A_FIELD_MAX + 2];
    int len = snprintf(buf, sizeof buf, "%s|%s", a, b);
    if (len < 0 || (size_t)len >= sizeof buf) return -1;
    return med_hash_key(out, cap, prefix, buf, n) == 0 && med_key_format_valid(out) ? 0 : -1;
}

static med_rc key_failed(med_err *err, const char *which)
{
    return med_err_set(err, MED_ERR_INTERNAL, MED_R_A_TRG_INTERNAL_UNAVAILABLE, NULL,
                       "cannot derive %s", which);
}

static med_rc pick_trace_key(const a_keys_input *in, a_trace_init *out, med_err *err)
{
    const char *given = in->inherited_trace_key && *in->inherited_trace_key
                            ? in->inherited_trace_key : in->trace_hint;
    if (given && med_key_format_valid(given) && strlen(given) < sizeof out->trace_key) {
        snprintf(out->trace_key, sizeof out->trace_key, "%s", given);
        return MED_OK;
    }
    if (hash_of(out->trace_key, sizeof out->trace_key, "tr_", out->request_key,
                in->ingress_envelope_version, 16))
        return key_failed(err, "traceKey");
    return MED_OK;
}

med_rc a_keys_derive(const a_keys_input *in, a_trace_init *out, med_err *err)
{
    memset(out, 0, sizeof *out);
    char gen[16], slot[16], at[32];
    if (!in->dedup_key || !in->placement_id || !in->trigger_contract_version ||
        !in->ingress_envelope_version)
        return key_failed(err, "keys (input missing)");
    snprintf(gen, sizeof gen, "%d", (int)in->generation);
    snprintf(slot, sizeof slot, "%d", (int)in->slot_index);
    if (hash_of(out->request_key, sizeof out->request_key, "req_", in->dedup_key, gen, 16))
        return key_failed(err, "requestKey");
    if (hash_of(out->attempt_key, sizeof out->attempt_key, "att_", out->request_key,
                in->trigger_contract_version, 16))
        return key_failed(err, "attemptKey");
    med_rc rc = pick_trace_key(in, out, err);
    if (rc != MED_OK) return rc;
    if (hash_of(out->opportunity_key, sizeof out->opportunity_key, "opp_", out->request_key,
                in->placement_id, 16))
        return key_failed(err, "opportunityKey");
    if (hash_of(out->imp_key, sizeof out->imp_key, "imp_", out->opportunity_key, slot, 16))
        return key_failed(err, "impKey");
    if (!in->has_client_request_id) {
        med_format_utc_ms(in->request_at_ms, at, sizeof at);
        if (hash_of(out->generated_client_id, sizeof out->generated_client_id, "cli_",
                    out->request_key, at, 12))
            return key_failed(err, "generatedClientRequestId");
    }
    return MED_OK;
}

void a_keys_from_record(const a_dedup_record *rec, a_trace_init *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->trace_key, sizeof out->trace_key, "%s", rec->trace_key);
    snprintf(out->request_key, sizeof out->request_key, "%s", rec->request_key);
    snprintf(out->attempt_key, sizeof out->attempt_key, "%s", rec->attempt_key);
    snprintf(out->opportunity_key, sizeof out->opportunity_key, "%s", rec->opportunity_key);
    snprintf(out->imp_key, sizeof out->imp_key, "%s", rec->imp_key);
    snprintf(out->generated_client_id, sizeof out->generated_client_id, "%s",
             rec->generated_client_id);
}
