/* The GET /v1/config server cache (H.3): one Redis entry per tenant and
 * configKey holding what a 200 needs besides the per-response times
 * (etag, expireAt, ttl, the rendered snapshot and version set). A
 * ConfigChanged evicts by moving the environment's generation marker:
 * entries written under another marker read as absent. Redis is only a
 * cache here: every failure degrades to "no entry", never to an error. */
#ifndef H_GET_ENTRY_H
#define H_GET_ENTRY_H

#include <stddef.h>
#include <stdint.h>
#include "med/err.h"
#include "med/redis.h"

#define H_GET_GEN_MAX 128
/* Entries outlive expireAt by the stale grace (H_CACHE_GRACE_MS) plus a
 * margin so the grace decision still finds them. */
#define H_GET_ENTRY_MARGIN_MS 60000

typedef struct h_get_entry {
    char etag[65];
    int64_t expire_at_ms;
    int ttl_sec;
    char gen[H_GET_GEN_MAX];     /* eviction marker the entry was built under */
    char *snapshot_json;         /* owned: resolvedConfigSnapshot text */
    char *versions_json;         /* owned: configVersionSnapshot text */
} h_get_entry;

void h_get_entry_clear(h_get_entry *e);
/* msgpack map {etag, expireAt, ttlSec, gen, snapshot, versions}. */
med_rc h_get_entry_encode(const h_get_entry *e, uint8_t **buf, size_t *len, med_err *err);
med_rc h_get_entry_decode(const uint8_t *buf, size_t len, h_get_entry *out, med_err *err);

/* Redis keys: med:h:cfg:<tenant>:<configKey> and med:h:cfg:gen:<env>. */
int h_get_entry_key(const char *tenant, const char *config_key, char *out, size_t cap);
int h_get_gen_key(const char *env, char *out, size_t cap);

/* The environment's current marker ("" when none yet). */
med_rc h_get_gen_read(med_redis *r, const char *env, char gen[H_GET_GEN_MAX], med_err *err);
/* MED_ERR_NOT_FOUND when absent, unreadable or built under another marker. */
med_rc h_get_entry_read(med_redis *r, const char *tenant, const char *config_key,
                        const char *gen, h_get_entry *out, med_err *err);
med_rc h_get_entry_write(med_redis *r, const char *tenant, const char *config_key,
                         const h_get_entry *e, int64_t now_ms, med_err *err);
/* New marker for env: every entry of that environment reads as absent. */
med_rc h_get_gen_bump(med_redis *r, const char *env, const char *marker, med_err *err);

#endif
