/* Readiness: a background thread probes each dependency (NATS, PostgreSQL,
 * Redis, plus any check a service adds) every interval and keeps the result,
 * so /readyz answers instantly and names what is missing. Probes use their
 * own connections, never the worker's. */
#ifndef MED_READINESS_H
#define MED_READINESS_H

#include <stddef.h>
#include "med/err.h"
#include "med/js.h"

typedef struct med_readiness med_readiness;

/* Returns 1 when the dependency answers. Runs on the probe thread. */
typedef int (*med_check_fn)(void *ud);

med_readiness *med_readiness_new(int interval_ms);
/* Add before med_readiness_start. name appears in /readyz output. */
med_rc med_readiness_add(med_readiness *r, const char *name, med_check_fn fn, void *ud);
/* Built-in checks; they keep their own connections. */
med_rc med_readiness_add_nats(med_readiness *r, med_js *js);
med_rc med_readiness_add_pg(med_readiness *r, const char *dsn);
med_rc med_readiness_add_redis(med_readiness *r, const char *host, int port);
/* Set by the service once start-up work (e.g. loading the config snapshot)
 * is done; until then /readyz says "starting". */
void med_readiness_set_started(med_readiness *r, int started);
int med_readiness_is_started(med_readiness *r);
med_rc med_readiness_start(med_readiness *r, med_err *err);
/* Runs every check once, synchronously (start-up and tests). */
void med_readiness_probe_now(med_readiness *r);
/* 1 when all checks pass and started; otherwise 0 and missing gets a
 * comma-separated list of failing names ("redis,postgres"). */
int med_readiness_ready(med_readiness *r, char *missing, size_t cap);
void med_readiness_free(med_readiness *r); /* stops the thread */

#endif
