/* ReconciliationQuery (med.g.reconcile.v1, GET /v1/reconciliation) ->
 * what to compare: tenant, window, tolerance, scope. Pure. */
#ifndef G_RECON_QUERY_H
#define G_RECON_QUERY_H

#include <stdint.h>
#include "g_recon_compare.h"
#include "g_recon_window.h"
#include "med/err.h"
#include "mediation/v1/replay.pb-c.h"

typedef struct g_recon_params {
    const char *tenant_id;        /* borrowed from the query */
    g_recon_window window;
    g_recon_scope scope;          /* hourly: presence, daily: full */
    int64_t tolerance_micros;     /* default 0 */
    int64_t received_at_ms;
} g_recon_params;

/* Checks in order: tenant (query tenant_id, else the auth context's),
 * granularity, windowStart, amountToleranceMicros >= 0. received_at is the
 * query's, else now_ms. Every failure is MED_ERR_INVALID with a
 * g_recon_* code (HTTP 400). */
med_rc g_recon_query_check(const Mediation__V1__ReconciliationQuery *q, int64_t now_ms,
                           g_recon_params *out, med_err *err);

/* HTTP status of a failed reconciliation: 400 for invalid input, 503 for a
 * dependency that is down or timed out (retry later), 500 otherwise. */
int g_recon_http_status(med_rc rc);

#endif
