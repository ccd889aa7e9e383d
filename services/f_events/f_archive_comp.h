/* F.8 compensation driven by G's ArchiveWriteAck (I/O; the rules are in
 * f_archive_ack.c). One thread per F replica, with its own NATS and
 * PostgreSQL connections:
 *
 *   - takes G's answers on MED_SUBJ_F_ARCHIVE_ACK.> in the queue group
 *     MED_QUEUE_F_ARCHIVE_ACK (any replica may answer for any record: the
 *     state is in f_archive_compensation, migrations/0017, and the reply
 *     subject names the tenant and outbox row);
 *   - a retryable code opens (or refreshes) the record's row, first
 *     resend 1 s after the first failure; a non-retryable code makes it
 *     `conflicted` with that code; `written` ends it;
 *   - every F_COMP_TICK_MS, rows due are resent (same recordKey,
 *     attempt + 1, f_archive_resend_msg_id) under FOR UPDATE SKIP LOCKED,
 *     on the F.8 ladder from the first failure; past the window they end
 *     `conflicted` f_output_archive_compensation_exhausted (metric, log).
 *
 * Written rows are purged after F_COMP_KEEP_SEC; conflicted ones stay.
 *
 * An ack that never arrives loses nothing: a row still retrying is resent
 * until confirmed or exhausted, and G's own retries (G.4) keep the record
 * it already consumed. */
#ifndef F_ARCHIVE_COMP_H
#define F_ARCHIVE_COMP_H

#include <nats/nats.h>
#include <pthread.h>

#include "f_work.h"
#include "med/service.h"

#define F_COMP_TICK_MS 250
#define F_COMP_TENANTS 50
#define F_COMP_ROWS 50
#define F_COMP_ACK_BATCH 128           /* answers drained per pass */
#define F_COMP_KEEP_SEC 86400          /* written rows kept a day, then purged */
#define F_COMP_PURGE_EVERY_MS 60000

typedef struct f_archive_comp {
    med_service *svc;       /* borrowed */
    med_js *js;             /* owned */
    med_pg *pg;             /* owned */
    natsSubscription *sub;  /* owned */
    struct written_set *written; /* owned: `written` answers of the pass */
    f_windows windows;
    pthread_t thread;
    int running;
} f_archive_comp;

med_rc f_archive_comp_start(f_archive_comp *c, med_service *svc, med_err *err);
/* Joins the thread (after the stop flag is set) and closes connections. */
void f_archive_comp_stop(f_archive_comp *c);

#endif
