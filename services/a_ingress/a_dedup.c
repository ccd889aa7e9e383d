/* A.4 dedup keys, record codec and window decision. */
#include "a_dedup.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "med/ids.h"
#include "med/mpack.h"
#include "med/reason.h"

void a_dedup_compute(const char *app_id, const char *session_id, const char *placement_id,
                     const char *canonical_trigger_type, int64_t trigger_at_ms,
                     const char *client_request_id, a_dedup_key *out)
{
    char at[32], fp[A_DEDUP_KEY_MAX + 64];
    med_format_utc_ms(trigger_at_ms, at, sizeof at);
    int n = snprintf(fp, sizeof fp, "%s|%s|%s|%s|%s", app_id, session_id, placement_id,
                     canonical_trigger_type, at);
    size_t len = n < 0 ? 0 : (size_t)n >= sizeof fp ? sizeof fp - 1 : (size_t)n;
    med_sha256_hex(fp, len, out->computed_dedup_key);
    if (client_request_id) {
        snprintf(out->dedup_key, sizeof out->dedup_key, "cli:%s:%s", app_id, client_request_id);
        out->source = A_DEDUP_SRC_CLIENT;
    } else {
        snprintf(out->dedup_key, sizeof out->dedup_key, "fp:%s", out->computed_dedup_key);
        out->source = A_DEDUP_SRC_COMPUTED;
    }
}

void a_dedup_alias_key(const char *app_id, const char *generated_client_id, char *out, size_t cap)
{
    snprintf(out, cap, "cli:%s:%s", app_id, generated_client_id);
}

#define A_ALIAS_FIELD "aliasOf"
#define A_ALIAS_TARGET_PREFIX "fp:"

med_rc a_dedup_alias_encode(const char *alias_of, uint8_t **out, size_t *len, med_err *err)
{
    if (!alias_of || strncmp(alias_of, A_ALIAS_TARGET_PREFIX, 3) != 0)
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_DECODE_FAILED, NULL,
                           "only a computed record can be aliased");
    med_mmap *m = med_mmap_new();
    med_rc rc = !m || med_mmap_set_str(m, A_ALIAS_FIELD, alias_of) != 0
                    ? med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "dedup alias")
                    : med_mmap_encode(m, out, len, err);
    med_mmap_free(m);
    return rc;
}

/* 1 when the map is an alias of a computed record. */
static int alias_of_map(const med_mmap *m, char *alias_of, size_t cap)
{
    const med_mval *v = med_mmap_get(m, A_ALIAS_FIELD);
    if (!v || v->type != MED_MVAL_STR || v->u.s.len >= cap || v->u.s.len <= 3 ||
        memcmp(v->u.s.ptr, A_ALIAS_TARGET_PREFIX, 3) != 0)
        return 0;
    memcpy(alias_of, v->u.s.ptr, v->u.s.len);
    alias_of[v->u.s.len] = '\0';
    return 1;
}

a_dedup_bytes a_dedup_bytes_read(const uint8_t *buf, size_t len, a_dedup_record *rec,
                                 char *alias_of, size_t cap)
{
    med_err e;
    if (cap) alias_of[0] = '\0';
    if (!buf) return A_DEDUP_BYTES_NONE;
    if (a_dedup_record_decode(buf, len, rec, &e) == MED_OK) return A_DEDUP_BYTES_RECORD;
    med_mmap *m = NULL;
    if (med_mmap_decode(buf, len, &m, &e) != MED_OK) return A_DEDUP_BYTES_NONE;
    int alias = alias_of_map(m, alias_of, cap);
    med_mmap_free(m);
    return alias ? A_DEDUP_BYTES_ALIAS : A_DEDUP_BYTES_NONE;
}

const char *a_dedup_state_name(a_dedup_state s)
{
    switch (s) {
    case A_DEDUP_INFLIGHT_DUPLICATE: return "inflight_duplicate";
    case A_DEDUP_REUSED_RESULT: return "reused_result";
    case A_DEDUP_EXPIRED_RETRY: return "expired_retry";
    case A_DEDUP_NEW:
    case A_DEDUP_RESUME:
    default: return "new";
    }
}

typedef struct str_field {
    const char *name;
    size_t off;
    size_t cap;
} str_field;

#define SF(n, f) {n, offsetof(a_dedup_record, f), sizeof(((a_dedup_record *)0)->f)}
static const str_field str_fields[] = {
    SF("state", state), SF("requestKey", request_key), SF("attemptKey", attempt_key),
    SF("traceKey", trace_key), SF("opportunityKey", opportunity_key), SF("impKey", imp_key),
    SF("generatedClientRequestId", generated_client_id), SF("appId", app_id),
    SF("sessionId", session_id), SF("placementId", placement_id),
    SF("triggerAction", trigger_action), SF("decisionOutcome", decision_outcome),
    SF("reasonCode", reason_code), SF("opportunityRef", opportunity_ref),
};
#undef SF
#define N_STR_FIELDS (sizeof str_fields / sizeof str_fields[0])

med_rc a_dedup_record_encode(const a_dedup_record *r, uint8_t **out, size_t *len, med_err *err)
{
    med_mmap *m = med_mmap_new();
    int bad = !m;
    for (size_t i = 0; !bad && i < N_STR_FIELDS; i++)
        bad = med_mmap_set_str(m, str_fields[i].name, (const char *)r + str_fields[i].off) != 0;
    bad = bad || med_mmap_set_int(m, "firstSeenAtMs", r->first_seen_at_ms) != 0 ||
          med_mmap_set_int(m, "generation", r->generation) != 0 ||
          med_mmap_set_int(m, "ownerStreamSeq", (int64_t)r->owner_stream_seq) != 0;
    med_rc rc = bad ? med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "dedup record")
                    : med_mmap_encode(m, out, len, err);
    med_mmap_free(m);
    return rc;
}

static void copy_mstr(const med_mval *v, char *dst, size_t cap)
{
    dst[0] = '\0';
    if (!v || v->type != MED_MVAL_STR) return;
    size_t n = v->u.s.len < cap ? v->u.s.len : cap - 1;
    memcpy(dst, v->u.s.ptr, n);
    dst[n] = '\0';
}

static int64_t mint(const med_mmap *m, const char *key, int *ok)
{
    const med_mval *v = med_mmap_get(m, key);
    if (!v || v->type != MED_MVAL_INT) {
        *ok = 0;
        return 0;
    }
    return v->u.i;
}

med_rc a_dedup_record_decode(const uint8_t *buf, size_t len, a_dedup_record *out, med_err *err)
{
    memset(out, 0, sizeof *out);
    med_mmap *m = NULL;
    med_rc rc = med_mmap_decode(buf, len, &m, err);
    if (rc != MED_OK) return rc;
    for (size_t i = 0; i < N_STR_FIELDS; i++)
        copy_mstr(med_mmap_get(m, str_fields[i].name), (char *)out + str_fields[i].off,
                  str_fields[i].cap);
    int ok = 1;
    out->first_seen_at_ms = mint(m, "firstSeenAtMs", &ok);
    out->generation = (int32_t)mint(m, "generation", &ok);
    out->owner_stream_seq = (uint64_t)mint(m, "ownerStreamSeq", &ok);
    med_mmap_free(m);
    if (!ok || (strcmp(out->state, A_DEDUP_INFLIGHT) != 0 &&
                strcmp(out->state, A_DEDUP_COMPLETED) != 0))
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_DECODE_FAILED, NULL,
                           "dedup record incomplete");
    return MED_OK;
}

static int same_scope(const a_dedup_record *rec, const char *app, const char *sess,
                      const char *plc)
{
    return app && sess && plc && strcmp(rec->app_id, app) == 0 &&
           strcmp(rec->session_id, sess) == 0 && strcmp(rec->placement_id, plc) == 0;
}

void a_dedup_decide(const a_dedup_record *rec, int64_t now_ms, int window_sec, uint64_t my_seq,
                    const char *app_id, const char *session_id, const char *placement_id,
                    a_dedup_decision *out)
{
    memset(out, 0, sizeof *out);
    out->first_seen_at_ms = now_ms;
    if (!rec) return;
    if (now_ms - rec->first_seen_at_ms > (int64_t)window_sec * 1000) {
        out->state = A_DEDUP_EXPIRED_RETRY;
        out->generation = rec->generation + 1;
        out->keep_trace_key = same_scope(rec, app_id, session_id, placement_id);
        return;
    }
    out->generation = rec->generation;
    out->first_seen_at_ms = rec->first_seen_at_ms;
    /* The owner's redelivery (crash before the ack) is never a duplicate of
     * itself, also once it completed: it republishes under the same
     * Nats-Msg-Ids and the stream drops the copies. */
    if (my_seq != 0 && rec->owner_stream_seq == my_seq)
        out->state = A_DEDUP_RESUME;
    else if (strcmp(rec->state, A_DEDUP_COMPLETED) == 0)
        out->state = A_DEDUP_REUSED_RESULT;
    else
        out->state = A_DEDUP_INFLIGHT_DUPLICATE;
}

a_dedup_claim a_dedup_claim_for(int create, int degraded, const a_dedup_decision *dd,
                                int record_seen)
{
    if (!create || degraded) return A_DEDUP_CLAIM_NONE;
    if (dd->state != A_DEDUP_NEW && dd->state != A_DEDUP_EXPIRED_RETRY) return A_DEDUP_CLAIM_NONE;
    return record_seen ? A_DEDUP_CLAIM_IF_UNCHANGED : A_DEDUP_CLAIM_IF_ABSENT;
}
