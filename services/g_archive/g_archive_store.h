/* archive_records I/O (G.4). Ingest: one transaction per tenant per
 * fetched batch: claim the recordKeys (archive_record_keys), insert the
 * rows won in one statement, apply committed -> superseded, then, inside
 * a savepoint, lock the touched groups, let g_group_plan decide and apply
 * its plan in one statement. A write that fails there (statement timeout,
 * ...) leaves the ingested rows write_failed_retryable on the ladder
 * instead of losing them. Sweep: the same write for records whose
 * next_attempt_at passed (retries, waiting facts, the 15 min deadline). */
#ifndef G_ARCHIVE_STORE_H
#define G_ARCHIVE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "g_ack.h"
#include "g_archive_row.h"
#include "g_archive_state.h"
#include "med/pg.h"

typedef struct g_store_policy {
    int64_t window_ms;          /* G_ARCHIVE_COMPENSATION_SEC */
    int64_t recheck_ms;         /* how often a waiting fact's gate is re-read */
    int64_t write_timeout_ms;   /* G_ARCHIVE_WRITE_TIMEOUT_MS: statement timeout of a write */
} g_store_policy;

/* Where one record of the batch ended; result's strings point into the
 * buffers of this struct or into the row. */
typedef struct g_ingest_out {
    g_archive_result result;
    char stored_status[16];
    char reason[64];
    char group_state[32];
} g_ingest_out;

/* Registers the statements on pg (once per connection handle). */
med_rc g_archive_store_prepare(med_pg *pg, med_err *err);

/* rows[idx[k]] (k < n) all belong to tenant; outs[idx[k]] receives each
 * record's result. An error means nothing of the group was stored (the
 * caller retries the messages). */
med_rc g_archive_store_ingest(med_pg *pg, const char *tenant, const g_archive_row *rows,
                              const size_t *idx, size_t n, const g_store_policy *p,
                              g_ingest_out *outs, med_err *err);

/* A record G refused at ingest (g_ingest_invalid_record), kept in
 * dead_letter_records for operators. Strings borrowed; NULL allowed. */
typedef struct g_quarantine {
    const char *tenant_id;      /* '_platform' when unknown */
    const char *subject, *stream, *consumer, *msg_id;
    uint64_t stream_seq;
    uint64_t num_delivered;
    const char *reason_code, *last_error;
    const char *trace_key, *request_key, *opportunity_key;
    const uint8_t *payload;
    size_t payload_len;
} g_quarantine;

/* q[idx[k]] share tenant_id; one statement; a redelivered message is a
 * no-op (stream, consumer, stream_seq). */
med_rc g_archive_store_quarantine(med_pg *pg, const g_quarantine *q, const size_t *idx, size_t n,
                                  med_err *err);

/* One sweep: for each tenant with due records (at most max_tenants), one
 * transaction that writes, retries or fails them. *handled = records
 * changed. */
med_rc g_archive_store_sweep(med_pg *pg, const g_store_policy *p, int max_tenants, int *handled,
                             med_err *err);

#endif
