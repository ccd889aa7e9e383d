/* Replay jobs from reconciliation diffs (spec 04 G.8 "Rerun"): each diff of
 * a daily run becomes one replay_jobs row, snapshot_replay / dispute, by
 * recordKey with responseReference, renderAttemptId and both sides'
 * anchors fixed, status pending_approval: it runs only after an operator
 * approved it. The id is derived from tenant, window and recordKey, so
 * rerunning the same window finds the job it created before instead of
 * adding a second one. Pure. */
#ifndef G_RECON_JOBS_H
#define G_RECON_JOBS_H

#include <stddef.h>
#include "g_recon_compare.h"
#include "g_recon_window.h"
#include "med/arena.h"
#include "med/err.h"

#define G_RECON_JOB_STATUS_PENDING "pending_approval"
#define G_RECON_JOB_MODE           "snapshot_replay"
#define G_RECON_JOB_PURPOSE        "dispute"
#define G_RECON_JOB_QUERY_MODE     "by_record_key"
#define G_RECON_JOB_ID_PREFIX      "rjob_"
#define G_RECON_JOB_ID_HEX         24

/* Strings live in the arena passed to g_recon_jobs_build. */
typedef struct g_recon_job {
    const char *job_id;               /* rjob_ + sha256(tenant|job_key)[0:24] */
    const char *job_key;              /* recon:<granularity>:<windowStart>:<recordKey> */
    const char *record_key;
    const char *response_reference;   /* the archive's, else the ledger's */
    const char *render_attempt_id;
    const char *archive_anchor_hash;  /* "" when that side is missing */
    const char *billing_anchor_hash;
    const char *version_anchor_snapshot_ref;
    const char *anchor_hash;          /* the diff's (archive's, else ledger's) */
    const char *reason_code;          /* the diff code */
    const char *status;               /* pending_approval */
    const char *execution_mode;       /* snapshot_replay */
    const char *purpose;              /* dispute */
    const char *query_json;           /* JCS of the job's fixed query */
} g_recon_job;

/* job_key and job_id of one recordKey in a window, into the arena. */
med_rc g_recon_job_identity(const char *tenant_id, const g_recon_window *w,
                            const char *record_key, med_arena *a, const char **job_key,
                            const char **job_id, med_err *err);

/* One job per diff, in the diffs' order. *out is in the arena. */
med_rc g_recon_jobs_build(const char *tenant_id, const g_recon_window *w,
                          const g_recon_result *r, med_arena *a, g_recon_job **out,
                          size_t *n_out, med_err *err);

#endif
