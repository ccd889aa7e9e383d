#include "g_recon_report.h"

#include <string.h>

#include "med/reason.h"

static char *s(med_arena *a, const char *v)
{
    return med_arena_strdup(a, v ? v : "");
}

static Mediation__V1__ReconRecordLite *rec_lite(med_arena *a, const g_recon_rec *r)
{
    Mediation__V1__ReconRecordLite *m = MED_NEW(a, Mediation__V1__ReconRecordLite);
    if (!m) return NULL;
    mediation__v1__recon_record_lite__init(m);
    m->record_key = s(a, r->record_key);
    m->response_reference = s(a, r->response_reference);
    m->render_attempt_id = s(a, r->render_attempt_id);
    m->billable = r->billable != 0;
    m->amount_micros = r->amount_micros;
    m->anchor_hash = s(a, r->anchor_hash);
    m->version_anchor_snapshot_ref = s(a, r->version_anchor_snapshot_ref);
    return m;
}

static Mediation__V1__ReconDiffLite *diff_lite(med_arena *a, const g_recon_diff *d,
                                               const g_recon_job *job)
{
    Mediation__V1__ReconDiffLite *m = MED_NEW(a, Mediation__V1__ReconDiffLite);
    if (!m) return NULL;
    mediation__v1__recon_diff_lite__init(m);
    m->record_key = s(a, d->record_key);
    m->diff_code = s(a, d->code);
    if (d->has_archive) m->archive_record = rec_lite(a, &d->archive);
    if (d->has_billing) m->billing_record = rec_lite(a, &d->billing);
    m->version_anchor_snapshot_ref = s(a, d->version_anchor_snapshot_ref);
    m->anchor_hash = s(a, d->anchor_hash);
    m->amount_diff_micros = d->amount_diff_micros;
    if (job) m->replay_job_id = s(a, job->job_id);
    return m;
}

static Mediation__V1__ReplayJobLite *job_lite(med_arena *a, const g_recon_job *j)
{
    Mediation__V1__ReplayJobLite *m = MED_NEW(a, Mediation__V1__ReplayJobLite);
    if (!m) return NULL;
    mediation__v1__replay_job_lite__init(m);
    m->replay_job_id = s(a, j->job_id);
    m->record_key = s(a, j->record_key);
    m->response_reference = s(a, j->response_reference);
    m->render_attempt_id = s(a, j->render_attempt_id);
    m->archive_anchor_hash = s(a, j->archive_anchor_hash);
    m->billing_anchor_hash = s(a, j->billing_anchor_hash);
    m->reason_code = s(a, j->reason_code);
    m->status = s(a, j->status);
    m->replay_execution_mode = s(a, j->execution_mode);
    m->replay_purpose = s(a, j->purpose);
    return m;
}

static void add_diffs(const g_recon_outcome *o, med_arena *a,
                      Mediation__V1__ReconciliationReport *out)
{
    const g_recon_result *r = o->result;
    if (r->n_diffs == 0) return;
    out->diffs = MED_NEWN(a, Mediation__V1__ReconDiffLite *, r->n_diffs);
    if (!out->diffs) return;
    for (size_t i = 0; i < r->n_diffs; i++)
        out->diffs[i] = diff_lite(a, &r->diffs[i], i < o->n_jobs && o->jobs ? &o->jobs[i] : NULL);
    out->n_diffs = r->n_diffs;
}

static void add_jobs(const g_recon_outcome *o, med_arena *a,
                     Mediation__V1__ReconciliationReport *out)
{
    if (!o->jobs || o->n_jobs == 0) return;
    out->replay_jobs = MED_NEWN(a, Mediation__V1__ReplayJobLite *, o->n_jobs);
    if (!out->replay_jobs) return;
    for (size_t i = 0; i < o->n_jobs; i++) out->replay_jobs[i] = job_lite(a, &o->jobs[i]);
    out->n_replay_jobs = o->n_jobs;
}

static void add_dlq(const g_recon_outcome *o, med_arena *a,
                    Mediation__V1__ReconciliationReport *out)
{
    if (!o->dlq || o->n_dlq == 0) return;
    out->dlq_depth_by_stage =
        MED_NEWN(a, Mediation__V1__ReconciliationReport__DlqDepthByStageEntry *, o->n_dlq);
    if (!out->dlq_depth_by_stage) return;
    for (size_t i = 0; i < o->n_dlq; i++) {
        Mediation__V1__ReconciliationReport__DlqDepthByStageEntry *e =
            MED_NEW(a, Mediation__V1__ReconciliationReport__DlqDepthByStageEntry);
        if (!e) return;
        mediation__v1__reconciliation_report__dlq_depth_by_stage_entry__init(e);
        e->key = s(a, o->dlq[i].stage);
        e->value = o->dlq[i].count;
        out->dlq_depth_by_stage[i] = e;
    }
    out->n_dlq_depth_by_stage = o->n_dlq;
}

med_rc g_recon_report_build(const g_recon_outcome *o, Mediation__V1__TraceContext *trace,
                            med_arena *a, Mediation__V1__ReconciliationReport *out,
                            med_err *err)
{
    mediation__v1__reconciliation_report__init(out);
    const g_recon_params *p = o->params;
    const g_recon_result *r = o->result;
    out->trace = trace;
    out->http_status = 200;
    out->granularity = s(a, g_recon_granularity_name(p->window.granularity));
    out->window_start_unix_ms = p->window.start_ms;
    out->window_end_unix_ms = p->window.end_ms;
    out->window_open = p->window.open;
    out->total_archive_records = r->total_archive;
    out->total_billing_records = r->total_billing;
    out->matched_count = r->matched;
    out->diff_count = r->diff_count;
    out->pass = r->pass != 0;
    out->generated_at_unix_ms = o->generated_at_ms;
    out->amount_tolerance_micros = p->tolerance_micros;
    out->missing_record_drift = r->missing_drift;
    add_diffs(o, a, out);
    add_jobs(o, a, out);
    add_dlq(o, a, out);
    if (a->failed)
        return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "reconciliation report");
    return MED_OK;
}

void g_recon_report_error(const med_err *e, int http_status, Mediation__V1__TraceContext *trace,
                          int64_t generated_at_ms, med_arena *a,
                          Mediation__V1__ReconciliationReport *out)
{
    mediation__v1__reconciliation_report__init(out);
    out->trace = trace;
    out->http_status = http_status;
    out->generated_at_unix_ms = generated_at_ms;
    Mediation__V1__ErrorBodyLite *b = MED_NEW(a, Mediation__V1__ErrorBodyLite);
    if (!b) return;
    mediation__v1__error_body_lite__init(b);
    b->code = s(a, e && e->code[0] ? e->code : MED_R_G_RECON_INTERNAL_UNAVAILABLE);
    b->message = s(a, e ? e->message : "");
    if (e && e->field[0]) {
        b->field_opt_case = MEDIATION__V1__ERROR_BODY_LITE__FIELD_OPT_FIELD;
        b->field = s(a, e->field);
    }
    out->error = b;
}
