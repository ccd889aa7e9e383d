/* Reconciliation reads and the replay_jobs write (spec 04 G.8), all inside
 * transactions of the query's tenant (row-level security).
 *
 * Which keys a window holds: the archive side is every archive_records row
 * with write_status 'written', record_status 'committed', record_type
 * 'billable_fact' whose created_at (ingest time; the table's partition key
 * and index) falls in the window. The ledger side is the billing_ledger
 * rows of those record keys, wherever they were claimed, plus the ledger
 * rows claimed (created_at) in the window whose fact is archived nowhere.
 * So every key belongs to exactly one window (its archived fact's, else
 * its claim's), and a fact archived at 23:59:59 and claimed at 00:00:01
 * never shows as missing on both days. A ledger row without record_key is
 * joined by billing_key. */
#ifndef G_RECON_STORE_H
#define G_RECON_STORE_H

#include <stddef.h>
#include "g_recon_compare.h"
#include "g_recon_jobs.h"
#include "g_recon_query.h"
#include "g_recon_report.h"
#include "med/arena.h"
#include "med/err.h"
#include "med/pg.h"

/* Registers the statements on pg (prepared lazily per connection). */
med_rc g_recon_store_prepare(med_pg *pg, med_err *err);

/* Streams the window's keys, in recordKey order, through a cursor into r
 * (initialised here; free with g_recon_result_free even on failure), then
 * finishes it. One statement, so both sides come from one snapshot. */
med_rc g_recon_store_compare(med_pg *pg, const g_recon_params *p, g_recon_result *r,
                             med_err *err);

/* dead_letter_records per stage with dead_at in the window (the DLQ trend),
 * sorted by stage; *out in the arena. */
med_rc g_recon_store_dlq_counts(med_pg *pg, const g_recon_params *p, med_arena *a,
                                g_recon_dlq_count **out, size_t *n_out, med_err *err);

/* Inserts the jobs (one statement; a job already there is left as it is),
 * then reads back each job's stored id, status and reason code into jobs,
 * so a rerun reports the job it created before, in its current state. */
med_rc g_recon_store_save_jobs(med_pg *pg, const char *tenant_id, g_recon_job *jobs, size_t n,
                               med_arena *a, med_err *err);

#endif
