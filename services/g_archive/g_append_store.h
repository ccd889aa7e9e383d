/* G.2 append I/O: one transaction per tenant per fetched batch. Claims
 * each idempotency key in idempotency_keys (scope 'g_append', expiring
 * window_ms after first sight; an expired key is taken over as new), reads
 * the stored digests, and inserts the audit_records row of every key won,
 * all in three statements whatever the batch size. */
#ifndef G_APPEND_STORE_H
#define G_APPEND_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "g_append_prepare.h"
#include "med/headers.h"
#include "med/pg.h"

typedef enum g_append_outcome {
    G_APPEND_NEW = 0,        /* written: g_append_accepted_committed */
    G_APPEND_DUPLICATE,      /* same key, same digest, within the window */
    G_APPEND_CONFLICT,       /* same key, other digest: stored record kept */
} g_append_outcome;

/* One append of the batch. */
typedef struct g_append_job {
    const g_append_item *item;        /* passed every pure check */
    const med_trace_headers *headers;
    const char *payload_pb_hex;       /* the StageAudit's bytes */
    g_append_outcome outcome;         /* filled by g_append_store_write */
} g_append_job;

med_rc g_append_store_prepare(med_pg *pg, med_err *err);

/* jobs[idx[k]] (k < n) share tenant. An error means nothing was written
 * (the messages are retried: G.2 row 5). */
med_rc g_append_store_write(med_pg *pg, const char *tenant, g_append_job *jobs, const size_t *idx,
                            size_t n, int64_t window_ms, med_err *err);

#endif
