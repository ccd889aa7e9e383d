/* Stage A service glue: connections and settings the transform uses. The
 * consumer runs one thread, so one a_service per process is enough. */
#ifndef A_SERVICE_H
#define A_SERVICE_H

#include <stdint.h>
#include "med/relay.h"

typedef struct a_service {
    int bound;                 /* handles taken from the running service */
    med_pg *pg;                /* NULL when PostgreSQL is not configured */
    med_redis *redis;
    med_rconfig *rconfig;
    const char *app_env;       /* Redis key namespace */
    int dedup_window_sec;
    int64_t soft_budget_ms, hard_budget_ms;
    char tenant[160];          /* the message being handled */
} a_service;

/* A med_relay_transform_fn; ud is an a_service (zeroed before the first
 * message; it binds itself to in->svc then). */
med_rc a_service_transform(void *ud, const med_relay_in *in, med_relay_out *out, med_err *err);
void a_service_bind_tenant(a_service *s, const char *tenant);

#endif
