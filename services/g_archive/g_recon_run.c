#include "g_recon_run.h"

#include <string.h>

#include "g_recon_store.h"
#include "med/ids.h"
#include "med/reason.h"

typedef struct run_state {
    g_recon_params params;
    g_recon_result result;
    g_recon_job *jobs;
    size_t n_jobs;
    g_recon_dlq_count *dlq;
    size_t n_dlq;
} run_state;

/* Daily diffs of a closed day become replay jobs (pending approval);
 * hourly facts may still be in flight, so the hourly run only measures
 * drift and the DLQ trend, and a day in progress creates no jobs. */
static med_rc follow_up(med_pg *pg, run_state *st, med_arena *a, med_err *err)
{
    const g_recon_params *p = &st->params;
    if (p->window.granularity == G_RECON_HOURLY)
        return g_recon_store_dlq_counts(pg, p, a, &st->dlq, &st->n_dlq, err);
    if (p->window.open) return MED_OK;
    med_rc rc = g_recon_jobs_build(p->tenant_id, &p->window, &st->result, a, &st->jobs,
                                   &st->n_jobs, err);
    if (rc == MED_OK) rc = g_recon_store_save_jobs(pg, p->tenant_id, st->jobs, st->n_jobs, a, err);
    return rc;
}

static med_rc run_checked(med_pg *pg, run_state *st, int64_t now_ms, med_arena *a,
                          Mediation__V1__TraceContext *trace,
                          Mediation__V1__ReconciliationReport *out, med_err *err)
{
    med_rc rc = g_recon_store_compare(pg, &st->params, &st->result, err);
    if (rc == MED_OK) rc = follow_up(pg, st, a, err);
    if (rc != MED_OK) return rc;
    g_recon_outcome o = {.params = &st->params, .result = &st->result, .jobs = st->jobs,
                         .n_jobs = st->n_jobs, .dlq = st->dlq, .n_dlq = st->n_dlq,
                         .generated_at_ms = now_ms};
    return g_recon_report_build(&o, trace, a, out, err);
}

med_rc g_recon_run(med_pg *pg, const Mediation__V1__ReconciliationQuery *q, int64_t now_ms,
                   med_arena *a, Mediation__V1__ReconciliationReport *out, med_err *err)
{
    run_state st;
    memset(&st, 0, sizeof st);
    g_recon_result_init(&st.result, G_RECON_SCOPE_FULL, 0);
    med_rc rc = g_recon_query_check(q, now_ms, &st.params, err);
    if (rc == MED_OK) rc = run_checked(pg, &st, now_ms, a, q->trace, out, err);
    if (rc != MED_OK) {
        int status = g_recon_http_status(rc);
        med_err shown = *err;
        /* a dependency failure answers with G's own code, the cause in the message */
        if (status >= 500)
            med_err_set(&shown, rc, MED_R_G_RECON_INTERNAL_UNAVAILABLE, NULL,
                        "reconciliation unavailable: %s", err->code);
        g_recon_report_error(&shown, status, q->trace, now_ms, a, out);
    }
    g_recon_result_free(&st.result);
    return rc;
}
