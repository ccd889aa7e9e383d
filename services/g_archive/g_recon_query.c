#include "g_recon_query.h"

#include <string.h>

#include "med/reason.h"

static const char *query_tenant(const Mediation__V1__ReconciliationQuery *q)
{
    if (q->tenant_id && *q->tenant_id) return q->tenant_id;
    if (q->auth && q->auth->tenant_id && *q->auth->tenant_id) return q->auth->tenant_id;
    return NULL;
}

med_rc g_recon_query_check(const Mediation__V1__ReconciliationQuery *q, int64_t now_ms,
                           g_recon_params *out, med_err *err)
{
    memset(out, 0, sizeof *out);
    out->tenant_id = query_tenant(q);
    if (!out->tenant_id)
        return med_err_set(err, MED_ERR_INVALID, MED_R_G_RECON_MISSING_REQUIRED, "tenantId",
                           "the query carries no tenant");
    out->received_at_ms = q->received_at_unix_ms > 0 ? q->received_at_unix_ms : now_ms;
    const char *start = q->window_start_opt_case ==
                                MEDIATION__V1__RECONCILIATION_QUERY__WINDOW_START_OPT_WINDOW_START
                            ? q->window_start
                            : NULL;
    med_rc rc = g_recon_window_resolve(q->granularity, start, out->received_at_ms, &out->window, err);
    if (rc != MED_OK) return rc;
    out->scope = out->window.granularity == G_RECON_DAILY ? G_RECON_SCOPE_FULL
                                                         : G_RECON_SCOPE_PRESENCE;
    if (q->amount_tolerance_micros_opt_case ==
        MEDIATION__V1__RECONCILIATION_QUERY__AMOUNT_TOLERANCE_MICROS_OPT_AMOUNT_TOLERANCE_MICROS)
        out->tolerance_micros = q->amount_tolerance_micros;
    if (out->tolerance_micros < 0)
        return med_err_set(err, MED_ERR_INVALID, MED_R_G_RECON_INVALID_TOLERANCE,
                           "amountToleranceMicros", "amountToleranceMicros must be >= 0");
    return MED_OK;
}

int g_recon_http_status(med_rc rc)
{
    switch (rc) {
    case MED_OK: return 200;
    case MED_ERR_INVALID: return 400;
    case MED_ERR_UNAVAILABLE:
    case MED_ERR_TIMEOUT:
    case MED_ERR_IO: return 503;
    default: return 500;
    }
}
