/* D.2 circuit breaker, one per source: two consecutive timeouts or errors
 * open it for the open period (D_BREAKER_OPEN_MS, 30 s), then a single
 * probe is let through. A no_fill is not a failure. The caller passes the
 * clock.
 *
 * d_breakers is this process's view of the circuits, keyed by an opaque
 * circuit key (D uses "<tenant>:<sourceId>", d_breaker_key). Alone it is
 * the whole breaker (process-local: unit tests, and D when its Redis edge
 * could not be built). With a port (d_breaker_store.c) the shared state in
 * Redis is the truth: the view is refreshed once per fetched batch
 * (d_breaker_load), and the two writes that matter across replicas go
 * through the port at once: an outcome that changes the state, and the
 * claim of the half-open probe (only one replica gets it). A port that does
 * not answer means Redis is down: every circuit counts as closed. */
#ifndef D_BREAKER_H
#define D_BREAKER_H

#include <stddef.h>
#include <stdint.h>
#include "d_types.h"

#define D_BREAKER_THRESHOLD 2
#define D_BREAKER_OPEN_MS 30000
#define D_BREAKER_MAX 256
#define D_BREAKER_KEY_MAX 160   /* tenant (<= 80) + ':' + sourceId (<= 64) */

/* One circuit as the shared store holds it. */
typedef struct d_breaker_view {
    int failures;                /* consecutive timeouts / errors */
    int64_t open_until_ms;       /* 0 = never opened since the last success */
    int64_t probe_until_ms;      /* a claimed probe's lease; 0 = none */
} d_breaker_view;

/* What the shared store answered. */
typedef enum d_breaker_reply {
    D_BRK_DOWN = 0,              /* no answer: Redis down, the circuit is closed */
    D_BRK_CLOSED,                /* no state stored: closed */
    D_BRK_STATE,                 /* the view is filled */
    D_BRK_CLAIMED,               /* the view is filled; this caller holds the probe */
} d_breaker_reply;

/* The shared store's two atomic transitions (d_breaker_store.c). */
typedef struct d_breaker_port {
    /* One dispatch outcome (failure 1 = timeout or error). */
    d_breaker_reply (*record)(void *ud, const char *key, int failure, int64_t now_ms,
                              d_breaker_view *out);
    /* The half-open probe: granted to exactly one caller per lease. */
    d_breaker_reply (*claim)(void *ud, const char *key, int64_t now_ms, d_breaker_view *out);
    void *ud;
} d_breaker_port;

typedef struct d_breaker_state {
    char key[D_BREAKER_KEY_MAX];
    int consecutive_failures;
    int64_t open_until_ms;       /* 0 = closed */
    int probing;                 /* half-open: the one probe is in flight */
} d_breaker_state;

typedef struct d_breakers {
    d_breaker_state items[D_BREAKER_MAX];
    int n;
    int64_t open_ms;                 /* 0: D_BREAKER_OPEN_MS */
    const d_breaker_port *port;      /* NULL: process-local; borrowed */
} d_breakers;

/* "<tenant>:<sourceId>" ("NA" for an empty tenant): circuits are per
 * tenant, since a sourceId is only unique inside one tenant's registry.
 * -1 when it does not fit. */
int d_breaker_key(const char *tenant, const char *source_id, char *out, size_t cap);

/* 1 when a dispatch may go out now (closed, or the half-open probe). */
int d_breaker_allow(d_breakers *b, const char *key, int64_t now_ms);
/* 1 when the circuit is closed (a retry may follow). */
int d_breaker_closed(const d_breakers *b, const char *key, int64_t now_ms);
/* Feeds the outcome of a dispatch that was sent. */
void d_breaker_record(d_breakers *b, const char *key, d_outcome_type t, int64_t now_ms);

/* Replaces the local view of key with what the shared store answered
 * (DOWN and CLOSED: closed). */
void d_breaker_load(d_breakers *b, const char *key, d_breaker_reply r, const d_breaker_view *v,
                    int64_t now_ms);
/* 1 when the local view holds anything but a clean closed circuit. */
int d_breaker_dirty(const d_breakers *b, const char *key);

#endif
