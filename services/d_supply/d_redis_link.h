/* D's lazy Redis connection with an outage back-off, shared by the edges
 * that keep short state there (d_store.c: D.9 guard; d_breaker_store.c:
 * D.2 circuits). A connection that cannot be made, or a round trip the
 * server does not answer, makes the link skip Redis for a second: an
 * outage costs one timeout per second, not one per message. Not
 * thread-safe (one per consumer loop). */
#ifndef D_REDIS_LINK_H
#define D_REDIS_LINK_H

#include <stdint.h>
#include "med/err.h"
#include "med/redis.h"

#define D_REDIS_RETRY_MS 1000

typedef struct d_redis_link {
    char *host;                /* owned */
    int port;
    int timeout_ms;
    const char *what;          /* log prefix, static */
    med_redis *r;              /* NULL until connected */
    int64_t next_try_mono_ms;  /* skip Redis until then after a failure */
} d_redis_link;

/* 0, or -1 on ENOMEM. host NULL or "" = 127.0.0.1. */
int d_redis_link_init(d_redis_link *l, const char *host, int port, int timeout_ms, const char *what);
void d_redis_link_clear(d_redis_link *l);
/* The connection, or NULL while Redis is being skipped. */
med_redis *d_redis_link_get(d_redis_link *l);
/* Logs a failed call; an unreachable Redis is skipped for a while, a
 * server error (a script's bug, a wrong type) is not. */
void d_redis_link_failed(d_redis_link *l, const char *op, const med_err *e);

#endif
