/* D.2 circuit breakers held in Redis, shared by every D replica. The
 * transitions are d_breaker.c's, run atomically by Lua scripts:
 *
 *   record  an outcome: a failure counts (opening the circuit at the
 *           threshold, or when the probe fails); a success or no_fill
 *           deletes the state (closed)
 *   claim   the half-open probe: the first caller after the open period
 *           gets a lease (the open period) and is the only replica to probe
 *   read    the state of many circuits in one round trip (once per batch)
 *
 * Key med:<APP_ENV>:d:breaker:<tenant>:<sourceId> (the circuit key of
 * d_breaker_key), value msgpack {failures, openUntilUnixMs,
 * probeUntilUnixMs, probeOwner, lastOp}, expiring the open period + 60 s
 * after its last write. Redis down or slow: every circuit closed, and the
 * link skips Redis for a second (d_redis_link.h). */
#ifndef D_BREAKER_STORE_H
#define D_BREAKER_STORE_H

#include <stddef.h>
#include <stdint.h>
#include "d_breaker.h"

#define D_BREAKER_STATE_GRACE_MS 60000

typedef struct d_breaker_store d_breaker_store;

/* env: APP_ENV (key prefix), borrowed for the store's life; owner: this
 * replica (instance), copied with a per-store nonce so two stores of one
 * process are two replicas. Connects lazily. NULL on ENOMEM. */
d_breaker_store *d_breaker_store_new(const char *host, int port, int timeout_ms, const char *env,
                                     const char *owner, int64_t open_ms);
void d_breaker_store_free(d_breaker_store *s);

/* The port to set in d_breakers.port (with d_breakers.open_ms = the same
 * open period); borrowed from s. */
const d_breaker_port *d_breaker_store_port(d_breaker_store *s);

/* Refreshes b's view of the circuits keys[0..n) (one round trip per 64
 * keys). Redis down: every one of them closed. */
void d_breaker_store_sync(d_breaker_store *s, d_breakers *b, const char *const *keys, size_t n,
                          int64_t now_ms);

/* The Redis key of a circuit key; -1 when it does not fit. */
int d_breaker_store_key(const char *env, const char *circuit_key, char *out, size_t cap);

#endif
