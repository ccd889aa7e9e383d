/* D's service transform: one fetched batch of PolicyDecisions, routed
 * together so their outbound HTTP overlaps (med_relay_batch_fn). I/O lives
 * here and in d_http.c; every decision is taken by the pure d_* rules. */
#ifndef D_SERVICE_H
#define D_SERVICE_H

#include <stddef.h>
#include "d_breaker.h"
#include "d_breaker_store.h"
#include "d_http.h"
#include "d_store.h"
#include "med/rconfig.h"
#include "med/relay.h"

typedef struct d_service {
    med_rconfig *rconfig;            /* borrowed from the running service */
    d_http *http;                    /* owned (d_http_free after the run) */
    const char *environment;         /* config environment, borrowed */
    d_breakers breakers;             /* this replica's view of the circuits */
    d_breaker_store *breakers_shared; /* the circuits in Redis, owned (NULL: process-local) */
    d_store *store;                  /* D.9 redelivery guard, owned (d_store_free) */
    const char *app_env;             /* APP_ENV, the Redis key prefix, borrowed */
    int max_deliver;                 /* JS_MAX_DELIVER: the last delivery never waits */
} d_service;

/* ud is a d_service *, zeroed before the first batch: it binds itself to
 * ins[0].svc then (config client, D_MAX_RESPONSE_BYTES, environment,
 * the Redis redelivery guard and circuit breakers). */
void d_service_batch(void *ud, const med_relay_in *ins, size_t n, med_relay_out *outs,
                     med_rc *rcs, med_err *errs);

#endif
