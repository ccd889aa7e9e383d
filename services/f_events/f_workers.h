/* F's EventBatch workers: n loops over med.f.events.v1, all bound to the
 * durable stage_f, each on its own thread with its own PostgreSQL
 * connection, JetStream context and Redis connection. A batch's work is
 * mostly waiting on PostgreSQL round trips (one transaction per batch), so
 * one loop per process leaves the cores idle; the workers of a process are
 * to each other exactly what replicas are (row locks and claims decide,
 * tested with two replicas in the f_store suite). */
#ifndef F_WORKERS_H
#define F_WORKERS_H

#include <pthread.h>

#include "f_service.h"

#define F_WORKERS_MAX 16

typedef struct f_worker {
    f_service fs;
    med_pg *pg_owned;           /* NULL for worker 0 (the service's connection) */
    med_js *js_owned;           /* NULL for worker 0 */
    pthread_t thread;
    int running;
    med_rc rc;
    med_err err;
} f_worker;

typedef struct f_workers {
    med_service *svc;           /* borrowed */
    f_worker w[F_WORKERS_MAX];
    int n;
} f_workers;

/* Connects and prepares n workers (1..F_WORKERS_MAX), then starts their
 * threads. On failure nothing is left running or open. */
med_rc f_workers_start(f_workers *ws, med_service *svc, int n, med_err *err);

/* Waits for every worker to return (they follow the service's stop flag;
 * one that fails on its own raises SIGTERM for the rest), then closes
 * them. The first worker error, if any, is returned in err. */
med_rc f_workers_join(f_workers *ws, med_err *err);

#endif
