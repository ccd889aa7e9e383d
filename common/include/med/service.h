/* Service runtime shared by every stage's main.c: load config (prod
 * fail-fast), init logging, connect NATS (ensure streams), PostgreSQL and
 * Redis with retry, start readiness probes and the admin HTTP server, and
 * turn SIGTERM/SIGINT into a graceful stop flag. */
#ifndef MED_SERVICE_H
#define MED_SERVICE_H

#include <stdatomic.h>
#include "med/cfgsnap.h"
#include "med/config.h"
#include "med/consumer.h"
#include "med/err.h"
#include "med/js.h"
#include "med/pg.h"
#include "med/rconfig.h"
#include "med/readiness.h"
#include "med/redis.h"

typedef struct med_service med_service;

typedef struct med_service_opts {
    const char *name;      /* "a_ingress", "edge", ... (logs, metrics) */
    const char *stage;     /* "a".."h" or "edge" (subjects, DLQ) */
    int need_pg;           /* open a worker PostgreSQL connection */
    int need_redis;        /* open a worker Redis connection */
    int send_asap;         /* request/reply latency over batching */
    int need_config;       /* follow med.h.config.v1 into a config snapshot
                            * (med/cfgsnap.h); ready only once it holds the
                            * current state */
} med_service_opts;

/* Everything up to "ready to consume". On failure nothing is left running. */
med_rc med_service_start(const med_service_opts *opts, med_service **out, med_err *err);
/* Marks start-up work done: /readyz may now answer 200. With need_config
 * it first waits until the config snapshot caught up with MED_CONFIG (or a
 * stop was requested), so a stage never consumes, nor reports ready,
 * before it holds the current config; /readyz says "starting" meanwhile. */
void med_service_set_started(med_service *s);
const med_config *med_service_config(med_service *s);
med_js *med_service_js(med_service *s);
med_pg *med_service_pg(med_service *s);       /* NULL unless need_pg */
med_redis *med_service_redis(med_service *s); /* NULL unless need_redis */
/* NULL unless need_config. Acquire a snapshot per request. */
med_cfgsnap *med_service_cfgsnap(med_service *s);
/* Resolved-config client (med/rconfig.h) over this service's NATS
 * connection, following its config snapshot; NULL unless need_config.
 * Timeout from RCONFIG_TIMEOUT_MS. Thread-safe. */
med_rconfig *med_service_rconfig(med_service *s);
/* CONFIG_ENVIRONMENT of this deployment ("prod" when unset): the config
 * environment requests resolve under. */
const char *med_service_config_environment(med_service *s);
const char *med_service_instance(med_service *s);
const char *med_service_stage(med_service *s);
med_readiness *med_service_readiness(med_service *s);
const atomic_int *med_service_stop_flag(med_service *s);
int med_service_stopping(med_service *s);
/* Fills consumer options from config (JS_MAX_DELIVER, JS_BACKOFF_MS, ...). */
void med_service_consumer_opts(med_service *s, const char *stream, const char *durable,
                               const char *filter_subject, med_consumer_opts *out);
/* Extra connections for a thread of this service (libpq and a consumer's
 * NATS loop are one per thread): the service's DSN and retry settings,
 * statement_timeout_ms 0 = none; the NATS connection is named
 * "<instance>/<role>". The caller closes them (med_pg_close /
 * med_js_close). */
med_rc med_service_pg_open(med_service *s, int statement_timeout_ms, med_pg **out, med_err *err);
med_rc med_service_js_open(med_service *s, const char *role, int send_asap, med_js **out,
                           med_err *err);
/* Stops admin HTTP and probes, closes connections, frees. */
void med_service_free(med_service *s);

#endif
