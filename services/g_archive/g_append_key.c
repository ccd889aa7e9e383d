#include "g_append_key.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "med/ids.h"
#include "med/jcs.h"
#include "med/pbjson.h"
#include "med/reason.h"

med_rc g_append_digest(const Mediation__V1__GAuditRecordLite *rec, char out[65], med_err *err)
{
    json_t *j = med_pb_to_json(&rec->base, "extensions");
    if (!j) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "append digest");
    med_rc rc = med_jcs_sha256(j, out, err);
    json_decref(j);
    return rc;
}

med_rc g_append_jcs_len(const Mediation__V1__GAuditRecordLite *rec, size_t *len, med_err *err)
{
    json_t *j = med_pb_to_json(&rec->base, NULL);
    if (!j) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "append size");
    char *text = NULL;
    med_rc rc = med_jcs_serialize(j, &text, len, err);
    json_decref(j);
    free(text);
    return rc;
}

static int present(const char *s) { return s && *s; }

static med_rc fits(int n, size_t cap, med_err *err)
{
    if (n < 0 || (size_t)n >= cap)
        return med_err_set(err, MED_ERR_INVALID, MED_R_G_APPEND_MISSING_REQUIRED, "idempotencyKey",
                           "idempotency key too long");
    return MED_OK;
}

med_rc g_append_dedup_key(const Mediation__V1__GAppendRequestLite *req, const char *digest,
                          char *out, size_t cap, med_err *err)
{
    if (req->idempotency_key_opt_case ==
            MEDIATION__V1__GAPPEND_REQUEST_LITE__IDEMPOTENCY_KEY_OPT_IDEMPOTENCY_KEY &&
        present(req->idempotency_key))
        return fits(snprintf(out, cap, "g_append_v1:idempotency:%s", req->idempotency_key), cap, err);
    const Mediation__V1__GAuditRecordLite *r = req->audit_record;
    if (r && present(r->audit_record_id))
        return fits(snprintf(out, cap, "g_append_v1:audit_record_id:%s", r->audit_record_id), cap, err);
    char *joined = NULL;
    int n = asprintf(&joined, "%s|%s|%s|%s|%s", r ? r->opportunity_key : "", r ? r->trace_key : "",
                     r ? r->audit_record_id : "", r ? r->audit_record_version : "", digest);
    if (n < 0) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "append key");
    char h[65];
    med_sha256_hex(joined, (size_t)n, h);
    free(joined);
    return fits(snprintf(out, cap, "g_append_v2:computed:%s", h), cap, err);
}

void g_append_token(const char *dedup_key, const char *digest, char out[G_APPEND_TOKEN_LEN + 1])
{
    /* Keys come from g_append_dedup_key (< G_APPEND_KEY_MAX), digests are
     * 64 hex: the joined text always fits; a longer input is cut, never
     * overrun. */
    char buf[G_APPEND_KEY_MAX + 1 + 65];
    int n = snprintf(buf, sizeof buf, "%s|%s", dedup_key, digest);
    size_t len = n < 0 ? 0 : ((size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
    char h[65];
    med_sha256_hex(buf, len, h);
    snprintf(out, G_APPEND_TOKEN_LEN + 1, "%s%.*s", G_APPEND_TOKEN_PREFIX, G_APPEND_TOKEN_HEX, h);
}

int g_append_within_window(int64_t first_seen_ms, int64_t now_ms, int64_t window_ms)
{
    return now_ms - first_seen_ms <= window_ms;
}
