/* Redis entries of the GET /v1/config cache (H.3). */
#include "h_get_entry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h_cache.h"
#include "med/mpack.h"
#include "med/reason.h"

#define KEY_PREFIX "med:h:cfg:"
#define GEN_PREFIX "med:h:cfg:gen:"

void h_get_entry_clear(h_get_entry *e)
{
    free(e->snapshot_json);
    free(e->versions_json);
    memset(e, 0, sizeof *e);
}

static int fits(int n, size_t cap)
{
    return n >= 0 && (size_t)n < cap ? 0 : -1;
}

int h_get_entry_key(const char *tenant, const char *config_key, char *out, size_t cap)
{
    return fits(snprintf(out, cap, KEY_PREFIX "%s:%s", tenant, config_key), cap);
}

int h_get_gen_key(const char *env, char *out, size_t cap)
{
    return fits(snprintf(out, cap, GEN_PREFIX "%s", env), cap);
}

med_rc h_get_entry_encode(const h_get_entry *e, uint8_t **buf, size_t *len, med_err *err)
{
    med_mmap *m = med_mmap_new();
    int bad = !m || med_mmap_set_str(m, "etag", e->etag) ||
              med_mmap_set_int(m, "expireAt", e->expire_at_ms) ||
              med_mmap_set_int(m, "ttlSec", e->ttl_sec) || med_mmap_set_str(m, "gen", e->gen) ||
              med_mmap_set_str(m, "snapshot", e->snapshot_json ? e->snapshot_json : "") ||
              med_mmap_set_str(m, "versions", e->versions_json ? e->versions_json : "");
    med_rc rc = bad ? med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "cache entry")
                    : med_mmap_encode(m, buf, len, err);
    med_mmap_free(m);
    return rc;
}

static const char *str_of(const med_mmap *m, const char *key)
{
    const med_mval *v = med_mmap_get(m, key);
    return v && v->type == MED_MVAL_STR ? v->u.s.ptr : NULL;
}

static int int_of(const med_mmap *m, const char *key, int64_t *out)
{
    const med_mval *v = med_mmap_get(m, key);
    if (!v || v->type != MED_MVAL_INT) return -1;
    *out = v->u.i;
    return 0;
}

static med_rc fill_entry(const med_mmap *m, h_get_entry *out, med_err *err)
{
    const char *etag = str_of(m, "etag"), *gen = str_of(m, "gen");
    const char *snap = str_of(m, "snapshot"), *vers = str_of(m, "versions");
    int64_t exp = 0, ttl = 0;
    if (!etag || !gen || !snap || !vers || !*snap || int_of(m, "expireAt", &exp) ||
        int_of(m, "ttlSec", &ttl) || strlen(etag) >= sizeof out->etag ||
        strlen(gen) >= sizeof out->gen || ttl < 1 || ttl > 86400)
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_DECODE_FAILED, NULL,
                           "cache entry lacks a field");
    snprintf(out->etag, sizeof out->etag, "%s", etag);
    snprintf(out->gen, sizeof out->gen, "%s", gen);
    out->expire_at_ms = exp;
    out->ttl_sec = (int)ttl;
    out->snapshot_json = strdup(snap);
    out->versions_json = strdup(vers);
    if (out->snapshot_json && out->versions_json) return MED_OK;
    h_get_entry_clear(out);
    return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "cache entry");
}

med_rc h_get_entry_decode(const uint8_t *buf, size_t len, h_get_entry *out, med_err *err)
{
    memset(out, 0, sizeof *out);
    med_mmap *m = NULL;
    med_rc rc = med_mmap_decode(buf, len, &m, err);
    if (rc == MED_OK) rc = fill_entry(m, out, err);
    med_mmap_free(m);
    return rc;
}

med_rc h_get_gen_read(med_redis *r, const char *env, char gen[H_GET_GEN_MAX], med_err *err)
{
    gen[0] = '\0';
    char key[256];
    if (h_get_gen_key(env, key, sizeof key) != 0)
        return med_err_set(err, MED_ERR_INVALID, MED_R_H_CFG_INVALID_RANGE, NULL, "environment");
    uint8_t *val = NULL;
    size_t len = 0;
    med_rc rc = med_redis_get(r, key, &val, &len, err);
    if (rc == MED_ERR_NOT_FOUND) return MED_OK;
    if (rc != MED_OK) return rc;
    if (len >= H_GET_GEN_MAX) len = H_GET_GEN_MAX - 1;
    memcpy(gen, val, len);
    gen[len] = '\0';
    free(val);
    return MED_OK;
}

med_rc h_get_entry_read(med_redis *r, const char *tenant, const char *config_key,
                        const char *gen, h_get_entry *out, med_err *err)
{
    memset(out, 0, sizeof *out);
    char key[1024];
    if (h_get_entry_key(tenant, config_key, key, sizeof key) != 0)
        return med_err_set(err, MED_ERR_NOT_FOUND, MED_R_H_CFG_CACHE_MISS, NULL, "key too long");
    uint8_t *val = NULL;
    size_t len = 0;
    med_rc rc = med_redis_get(r, key, &val, &len, err);
    if (rc != MED_OK) return rc;
    rc = h_get_entry_decode(val, len, out, err);
    free(val);
    if (rc == MED_OK && strcmp(out->gen, gen) != 0) {
        h_get_entry_clear(out);
        rc = med_err_set(err, MED_ERR_NOT_FOUND, MED_R_H_CFG_CACHE_MISS, NULL,
                         "entry predates the last config change");
    }
    return rc == MED_ERR_INVALID ? MED_ERR_NOT_FOUND : rc;
}

med_rc h_get_entry_write(med_redis *r, const char *tenant, const char *config_key,
                         const h_get_entry *e, int64_t now_ms, med_err *err)
{
    char key[1024];
    if (h_get_entry_key(tenant, config_key, key, sizeof key) != 0)
        return med_err_set(err, MED_ERR_INVALID, MED_R_H_CFG_INVALID_RANGE, NULL, "key too long");
    uint8_t *buf = NULL;
    size_t len = 0;
    med_rc rc = h_get_entry_encode(e, &buf, &len, err);
    int64_t keep = e->expire_at_ms - now_ms + H_CACHE_GRACE_MS + H_GET_ENTRY_MARGIN_MS;
    if (rc == MED_OK) rc = med_redis_set(r, key, buf, len, keep > 0 ? keep : 1, err);
    free(buf);
    return rc;
}

med_rc h_get_gen_bump(med_redis *r, const char *env, const char *marker, med_err *err)
{
    char key[256];
    if (h_get_gen_key(env, key, sizeof key) != 0)
        return med_err_set(err, MED_ERR_INVALID, MED_R_H_CFG_INVALID_RANGE, NULL, "environment");
    return med_redis_set(r, key, marker, strlen(marker), 0, err);
}
