/* Stage A service glue: connections and settings the transform uses. The
 * consumer runs one thread, so one a_service per process is enough. */
#ifndef A_SERVICE_H
#define A_SERVICE_H

#include <stdint.h>
#include "a_emit.h"
#include "med/relay.h"

typedef struct a_service {
    int bound;                 /* handles taken from the running service */
    med_pg *pg;                /* NULL when PostgreSQL is not configured */
    med_redis *redis;
    med_rconfig *rconfig;
    const char *app_env;       /* Redis key namespace */
    int dedup_window_sec;
    int64_t soft_budget_ms, hard_budget_ms;
    a_emit_ctx emit;           /* opportunity_created first attempts (A.9) */
} a_service;

/* Messages handled together; a larger fetch is split into such slices. */
#define A_BATCH_MAX 128

/* A med_relay_batch_fn; ud is an a_service (zeroed before the first batch;
 * it binds itself to ins[0].svc then). Each message is decided on its own;
 * the opportunity rows of the batch are written in one statement per
 * tenant before any output leaves. */
void a_service_batch(void *ud, const med_relay_in *ins, size_t n, med_relay_out *outs,
                     med_rc *rcs, med_err *errs);

#endif
