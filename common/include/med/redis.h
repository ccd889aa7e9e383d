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

/* A Lua script's reply (med_redis_eval): Lua false is NIL, a number or
 * true INT, a string BYTES (bytes malloc'd with one spare NUL; release
 * with med_redis_reply_clear). */
typedef enum med_redis_reply_kind {
    MED_REDIS_REPLY_NIL = 0,
    MED_REDIS_REPLY_INT,
    MED_REDIS_REPLY_BYTES,
} med_redis_reply_kind;

typedef struct med_redis_reply {
    med_redis_reply_kind kind;
    long long integer;
    uint8_t *bytes;
    size_t len;
} med_redis_reply;

void med_redis_reply_clear(med_redis_reply *reply);

/* Runs the Lua script `lua` (static text: the handle keeps its address)
 * with nkeys keys and nargs (<= 64 in all) binary arguments.
 * The script is loaded (SCRIPT LOAD) once per med_redis and then run by
 * EVALSHA; a server that answers NOSCRIPT (SCRIPT FLUSH, a restart, a
 * failover) gets EVAL with the text, which caches it there again. A table
 * reply is INFRA_REDIS_ERROR. On an I/O error the call is repeated once
 * (see redis_command): scripts that write must be safe to run twice. */
med_rc med_redis_eval(med_redis *r, const char *lua, size_t nkeys, const char *const *keys,
                      size_t nargs, const void *const *args, const size_t *arg_lens,
                      med_redis_reply *out, med_err *err);

#endif
