/* Per-service admin HTTP server (h2o evloop on its own thread):
 * GET /healthz -> 200 {"status":"ok"} while the process runs,
 * GET /readyz  -> 200 {"status":"ready"} or 503
 *                 {"status":"not_ready","missing":["redis",...]},
 * GET /metrics -> Prometheus text (metrics.h). */
#ifndef MED_ADMIN_HTTP_H
#define MED_ADMIN_HTTP_H

#include "med/err.h"
#include "med/readiness.h"

typedef struct med_admin med_admin;

/* port 0 picks a free port (see med_admin_port). r is borrowed and must
 * outlive the server. */
med_rc med_admin_start(const char *host, int port, med_readiness *r,
                       const char *service, med_admin **out, med_err *err);
int med_admin_port(const med_admin *a);
void med_admin_stop(med_admin *a); /* joins the thread, frees */

#endif
