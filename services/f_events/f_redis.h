/* F's Redis fast path (F.5: "Redis holds locks (SET NX) and committed keys
 * (TTL = window) in front of a database unique row per key"): per batch,
 * one pipelined round trip before the transaction (take the in-flight
 * locks, read the committed markers) and one after the commit (set the
 * committed markers, release the locks).
 *
 * It never decides: the claim rows in PostgreSQL do (f_store_load). What
 * Redis knows only shows up in metrics (f_dedup_fastpath_total) and logs,
 * so flushing or losing Redis changes latency and those counters, never an
 * outcome (00 decision 5). Own hiredis connection, not thread-safe; one
 * per consumer thread. */
#ifndef F_REDIS_H
#define F_REDIS_H

#include <stddef.h>

#include "f_work.h"

typedef struct f_redis f_redis;

/* What the pre-commit round trip saw, per batch. */
typedef struct f_redis_seen {
    size_t keys;              /* dedup keys asked about */
    size_t committed;         /* a committed marker existed */
    size_t locked_elsewhere;  /* another batch held the in-flight lock */
    unsigned char *acquired;  /* per b->dedup row: this batch took the lock (malloc'd) */
    int available;            /* 0: Redis did not answer (degraded) */
} f_redis_seen;

/* NULL only on allocation failure; a server that is down is retried at
 * most once per second by the calls below. */
f_redis *f_redis_new(const char *host, int port, int timeout_ms);
void f_redis_free(f_redis *r);

/* Before the transaction. owner identifies the batch (its outbox key). */
void f_redis_before(f_redis *r, const f_batch_work *b, const char *owner, f_redis_seen *seen);
/* After the commit: committed markers for the claims the batch won and
 * kept (TTL = the key's remaining window), locks it took released. */
void f_redis_after(f_redis *r, const f_batch_work *b, const char *owner, const f_redis_seen *seen);
void f_redis_seen_free(f_redis_seen *seen);

#endif
