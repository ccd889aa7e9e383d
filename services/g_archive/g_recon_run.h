/* One reconciliation request end to end: check the query, compare the
 * window, for a daily window record a replay job per diff, for an hourly
 * one read the DLQ trend, and build the report (or the error answer). */
#ifndef G_RECON_RUN_H
#define G_RECON_RUN_H

#include <stdint.h>
#include "med/arena.h"
#include "med/err.h"
#include "med/pg.h"
#include "mediation/v1/replay.pb-c.h"

/* Always fills *out (HTTP 200 report, or 4xx/5xx with an error body);
 * every pointer of it lives in the arena or in q. Returns the run's rc
 * (err filled when not MED_OK) for logs and metrics. */
med_rc g_recon_run(med_pg *pg, const Mediation__V1__ReconciliationQuery *q, int64_t now_ms,
                   med_arena *a, Mediation__V1__ReconciliationReport *out, med_err *err);

#endif
