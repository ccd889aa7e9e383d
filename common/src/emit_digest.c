/* Digest store of emitted events: SET NX to claim, GET to compare. */
#include "med/emit_digest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "med/ids.h"
#include "med/pbtrace.h"
#include "med/reason.h"

void med_emit_digest_key(const char *app_env, const char *stage, const char *kind,
                         const char *idempotency_key, char *out, size_t cap)
{
    snprintf(out, cap, "med:%s:%s:idem:%s:%s", app_env, stage, kind, idempotency_key);
}

med_rc med_emit_digest_pb(const ProtobufCMessage *m, char out[65], med_err *err)
{
    uint8_t *buf = NULL;
    size_t n = 0;
    med_rc rc = med_pb_pack(m, &buf, &n, err);
    if (rc != MED_OK) return rc;
    med_sha256_hex(buf, n, out);
    free(buf);
    return MED_OK;
}

/* GET and compare; *gone = 1 when the key expired since the SET NX. */
static med_rc compare_stored(med_redis *r, const char *key, const char *digest,
                             med_emit_digest_state *state, int *gone, med_err *err)
{
    uint8_t *v = NULL;
    size_t n = 0;
    *gone = 0;
    med_rc rc = med_redis_get(r, key, &v, &n, err);
    if (rc == MED_ERR_NOT_FOUND) {
        *gone = 1;
        return MED_OK;
    }
    if (rc != MED_OK) return rc;
    *state = med_emit_digest_compare((const char *)v, n, digest);
    free(v);
    return MED_OK;
}

med_rc med_emit_digest_claim(med_redis *r, const char *key, const char *digest, int64_t ttl_ms,
                             med_emit_digest_state *state, med_err *err)
{
    *state = MED_EMIT_DIGEST_UNKNOWN;
    if (!r)
        return med_err_set(err, MED_ERR_UNAVAILABLE, MED_R_INFRA_REDIS_UNAVAILABLE, NULL,
                           "no redis connection");
    /* Two rounds: a key that expires between SET NX and GET is claimed again. */
    for (int round = 0; round < 2; round++) {
        int acquired = 0, gone = 0;
        med_rc rc = med_redis_set_nx(r, key, digest, strlen(digest), ttl_ms, &acquired, err);
        if (rc != MED_OK) return rc;
        if (acquired) {
            *state = MED_EMIT_DIGEST_NEW;
            return MED_OK;
        }
        rc = compare_stored(r, key, digest, state, &gone, err);
        if (rc != MED_OK) {
            *state = MED_EMIT_DIGEST_UNKNOWN;
            return rc;
        }
        if (!gone) return MED_OK;
    }
    *state = MED_EMIT_DIGEST_UNKNOWN;
    return med_err_set(err, MED_ERR_UNAVAILABLE, MED_R_INFRA_REDIS_ERROR, NULL,
                       "digest key %s keeps expiring", key);
}

med_rc med_emit_digest_mark_acked(med_redis *r, const char *key, const char *digest,
                                  int64_t ttl_ms, med_err *err)
{
    if (!r)
        return med_err_set(err, MED_ERR_UNAVAILABLE, MED_R_INFRA_REDIS_UNAVAILABLE, NULL,
                           "no redis connection");
    char v[80];
    med_emit_digest_value(digest, 1, v, sizeof v);
    return med_redis_set(r, key, v, strlen(v), ttl_ms, err);
}

med_redis *med_emit_redis_get(med_emit_redis *h)
{
    if (h->r || !h->host || !h->host[0]) return h->r;
    int64_t now = med_mono_ms();
    if (now < h->next_try_ms) return NULL;
    med_err e;
    med_err_clear(&e);
    if (med_redis_connect(h->host, h->port, 500, &h->r, &e) != MED_OK) {
        h->r = NULL;
        h->next_try_ms = now + 1000;
    }
    return h->r;
}

void med_emit_redis_close(med_emit_redis *h)
{
    med_redis_close(h->r);
    h->r = NULL;
}
