/* Redis access (hiredis, synchronous). One connection per med_redis, not
 * thread-safe. Reconnects on error. Values are opaque bytes (msgpack by
 * convention, see mpack.h). Redis is a cache in front of PostgreSQL's unique
 * constraints: callers must treat MED_ERR_UNAVAILABLE as "degrade", never as
 * "the key is free".
 *
 * Failures: MED_ERR_UNAVAILABLE + INFRA_REDIS_UNAVAILABLE when the server
 * cannot be reached even after one reconnect (or says LOADING/BUSY/...);
 * MED_ERR_IO + INFRA_REDIS_ERROR for other server errors. hiredis writes
 * with write(2): the process must ignore SIGPIPE (med_service does). */
#ifndef MED_REDIS_H
#define MED_REDIS_H

#include <stddef.h>
#include <stdint.h>
#include "med/err.h"

typedef struct med_redis med_redis;

med_rc med_redis_connect(const char *host, int port, int timeout_ms,
                         med_redis **out, med_err *err);
void med_redis_close(med_redis *r);
med_rc med_redis_ping(med_redis *r, med_err *err);

/* *val is malloc'd (caller frees); MED_ERR_NOT_FOUND when absent. */
med_rc med_redis_get(med_redis *r, const char *key, uint8_t **val, size_t *len,
                     med_err *err);
/* ttl_ms <= 0: no expiry. */
med_rc med_redis_set(med_redis *r, const char *key, const void *val, size_t len,
                     int64_t ttl_ms, med_err *err);
/* SET NX PX: *acquired = 1 when this call created the key (a lock). */
med_rc med_redis_set_nx(med_redis *r, const char *key, const void *val, size_t len,
                        int64_t ttl_ms, int *acquired, med_err *err);
/* Deletes only if the current value equals val (safe lock release, Lua). */
med_rc med_redis_del_if_equal(med_redis *r, const char *key, const void *val,
                              size_t len, int *deleted, med_err *err);
med_rc med_redis_del(med_redis *r, const char *key, med_err *err);

#endif
