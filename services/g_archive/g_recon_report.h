/* The ReconciliationReport G answers on med.g.reconcile.v1: the counts,
 * pass, diffs by recordKey, replay jobs, and for hourly runs the drift and
 * DLQ trend; or an error body with its HTTP status. Pure: every pointer of
 * the built message lives in the arena given. */
#ifndef G_RECON_REPORT_H
#define G_RECON_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include "g_recon_compare.h"
#include "g_recon_jobs.h"
#include "g_recon_query.h"
#include "med/arena.h"
#include "med/err.h"
#include "mediation/v1/replay.pb-c.h"

typedef struct g_recon_dlq_count {
    const char *stage;
    int64_t count;        /* dead letters of the stage in the window */
} g_recon_dlq_count;

typedef struct g_recon_outcome {
    const g_recon_params *params;
    const g_recon_result *result;    /* finished */
    const g_recon_job *jobs;         /* jobs[i] belongs to result->diffs[i]; NULL = none */
    size_t n_jobs;
    const g_recon_dlq_count *dlq;    /* hourly only */
    size_t n_dlq;
    int64_t generated_at_ms;
} g_recon_outcome;

/* trace may be NULL. */
med_rc g_recon_report_build(const g_recon_outcome *o, Mediation__V1__TraceContext *trace,
                            med_arena *a, Mediation__V1__ReconciliationReport *out,
                            med_err *err);

/* An error answer: http_status and {code, message, field}. */
void g_recon_report_error(const med_err *e, int http_status, Mediation__V1__TraceContext *trace,
                          int64_t generated_at_ms, med_arena *a,
                          Mediation__V1__ReconciliationReport *out);

#endif
