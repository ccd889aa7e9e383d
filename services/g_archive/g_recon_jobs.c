#include "g_recon_jobs.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "med/ids.h"
#include "med/jcs.h"
#include "med/reason.h"

med_rc g_recon_job_identity(const char *tenant_id, const g_recon_window *w,
                            const char *record_key, med_arena *a, const char **job_key,
                            const char **job_id, med_err *err)
{
    char start[32];
    med_format_utc_ms(w->start_ms, start, sizeof start);
    char *key = med_arena_printf(a, "recon:%s:%s:%s", g_recon_granularity_name(w->granularity),
                                 start, record_key);
    char *seed = key ? med_arena_printf(a, "%s|%s", tenant_id, key) : NULL;
    char hex[65];
    if (seed) med_sha256_hex(seed, strlen(seed), hex);
    char *id = seed ? med_arena_printf(a, "%s%.*s", G_RECON_JOB_ID_PREFIX, G_RECON_JOB_ID_HEX, hex)
                    : NULL;
    if (!id) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "replay job id");
    *job_key = key;
    *job_id = id;
    return MED_OK;
}

static int put_str(json_t *o, const char *k, const char *v)
{
    return json_object_set_new(o, k, json_string(v ? v : ""));
}

/* The job's fixed query: everything a snapshot replay of this record needs,
 * so approving it later replays exactly what was disputed. */
static json_t *job_query(const g_recon_window *w, const g_recon_diff *d, const g_recon_job *j)
{
    char start[32], end[32];
    med_format_utc_ms(w->start_ms, start, sizeof start);
    med_format_utc_ms(w->end_ms, end, sizeof end);
    json_t *q = json_object(), *win = json_object();
    if (!q || !win) {
        json_decref(q);
        json_decref(win);
        return NULL;
    }
    int bad = put_str(win, "granularity", g_recon_granularity_name(w->granularity)) |
              put_str(win, "startAt", start) | put_str(win, "endAt", end) |
              json_object_set_new(q, "reconWindow", win) |
              put_str(q, "queryMode", G_RECON_JOB_QUERY_MODE) |
              put_str(q, "replayExecutionMode", G_RECON_JOB_MODE) |
              put_str(q, "replayPurpose", G_RECON_JOB_PURPOSE) |
              put_str(q, "recordKey", j->record_key) |
              put_str(q, "responseReference", j->response_reference) |
              put_str(q, "renderAttemptId", j->render_attempt_id) |
              put_str(q, "diffCode", d->code) |
              put_str(q, "archiveAnchorHash", j->archive_anchor_hash) |
              put_str(q, "billingAnchorHash", j->billing_anchor_hash) |
              put_str(q, "archiveVersionAnchorSnapshotRef",
                      d->has_archive ? d->archive.version_anchor_snapshot_ref : "") |
              put_str(q, "billingVersionAnchorSnapshotRef",
                      d->has_billing ? d->billing.version_anchor_snapshot_ref : "");
    if (bad) {
        json_decref(q);
        return NULL;
    }
    return q;
}

static med_rc set_query_json(const g_recon_window *w, const g_recon_diff *d, g_recon_job *j,
                             med_arena *a, med_err *err)
{
    json_t *q = job_query(w, d, j);
    if (!q) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "replay job query");
    char *text = NULL;
    size_t len = 0;
    med_rc rc = med_jcs_serialize(q, &text, &len, err);
    json_decref(q);
    if (rc != MED_OK) return rc;
    j->query_json = med_arena_adopt(a, text);
    if (!j->query_json)
        return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "replay job query");
    return MED_OK;
}

static med_rc build_one(const char *tenant_id, const g_recon_window *w, const g_recon_diff *d,
                        med_arena *a, g_recon_job *j, med_err *err)
{
    const g_recon_rec *primary = d->has_archive ? &d->archive : &d->billing;
    med_rc rc = g_recon_job_identity(tenant_id, w, d->record_key, a, &j->job_key, &j->job_id, err);
    if (rc != MED_OK) return rc;
    j->record_key = d->record_key;
    j->response_reference = primary->response_reference;
    j->render_attempt_id = primary->render_attempt_id;
    j->archive_anchor_hash = d->has_archive ? d->archive.anchor_hash : "";
    j->billing_anchor_hash = d->has_billing ? d->billing.anchor_hash : "";
    j->anchor_hash = d->anchor_hash;
    j->version_anchor_snapshot_ref = d->version_anchor_snapshot_ref;
    j->reason_code = d->code;
    j->status = G_RECON_JOB_STATUS_PENDING;
    j->execution_mode = G_RECON_JOB_MODE;
    j->purpose = G_RECON_JOB_PURPOSE;
    return set_query_json(w, d, j, a, err);
}

med_rc g_recon_jobs_build(const char *tenant_id, const g_recon_window *w,
                          const g_recon_result *r, med_arena *a, g_recon_job **out,
                          size_t *n_out, med_err *err)
{
    *out = NULL;
    *n_out = 0;
    if (r->n_diffs == 0) return MED_OK;
    g_recon_job *jobs = MED_NEWN(a, g_recon_job, r->n_diffs);
    if (!jobs) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "replay jobs");
    for (size_t i = 0; i < r->n_diffs; i++) {
        med_rc rc = build_one(tenant_id, w, &r->diffs[i], a, &jobs[i], err);
        if (rc != MED_OK) return rc;
    }
    *out = jobs;
    *n_out = r->n_diffs;
    return MED_OK;
}
