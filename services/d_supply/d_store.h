/* D.9 redelivery guard, the Redis edge: per message, take the lock
 * med:<env>:d:lock:<tenant>:<opportunityKey>:<attemptKey> and read the
 * finished output med:<env>:d:out:..., let d_rd_decide say reuse / wait /
 * run, then store the output this delivery produced. Redis is a fast path:
 * when it does not answer the verdict is "run" and the stream's duplicate
 * window drops the second publish. Not thread-safe (one per consumer). */
#ifndef D_STORE_H
#define D_STORE_H

#include <stddef.h>
#include <stdint.h>
#include "d_redeliver.h"
#include "med/relay.h"

typedef struct d_store d_store;

/* Connects lazily (a Redis down at start-up is retried later); after a
 * failed round trip Redis is skipped for a second, so an outage costs one
 * timeout per second, not one per message. NULL on ENOMEM. */
d_store *d_store_new(const char *host, int port, int timeout_ms, int64_t ttl_ms);
void d_store_free(d_store *s);

/* Who asks, for what. Strings are borrowed for the call. */
typedef struct d_guard_in {
    const char *env;              /* APP_ENV: dev | ci | prod */
    const char *tenant;
    const char *opportunity_key, *attempt_key;
    const char *owner;            /* this instance, written into the lock */
    int64_t deadline_unix_ms;     /* d_rd_deadline of this delivery */
    int64_t now_unix_ms;
    int last_delivery;
} d_guard_in;

/* One message's guard, from d_store_begin to d_store_end. */
typedef struct d_guard {
    d_rd_verdict verdict;
    d_rd_record reuse;            /* REUSE: the stored output (owned) */
    char lock_key[320], out_key[320];
    uint8_t *lock_val;            /* our lock value, owned */
    size_t lock_len;
    int holds;                    /* this delivery owns the lock */
    int stored;                   /* its output is in Redis */
} d_guard;

/* Fills g (zeroed first). Never fails: Redis trouble is a verdict. */
void d_store_begin(d_store *s, const d_guard_in *in, d_guard *g);
/* Adds the stored publishes to out, data copied (REUSE). */
med_rc d_guard_republish(const d_guard *g, med_relay_out *out, med_err *err);
/* Stores the publishes in out when the verdict says so; a failure is
 * logged and leaves the stream's duplicate window as the only guard. */
void d_store_output(d_store *s, d_guard *g, const med_relay_out *out);
/* Releases a lock this delivery holds but filled no output for (it failed
 * before publishing: the next delivery must not wait for it), frees g. */
void d_store_end(d_store *s, d_guard *g);

#endif
