/* F's PostgreSQL I/O for one batch: the I/O phases 3, 5 and 7 of f_work.h
 * and the outbox row. Every function here runs inside a med_pg_tx of the
 * batch's tenant (row-level security), writes many rows per statement
 * (unnest of binary arrays, one per column: med_pg_cols), and takes row
 * locks in sorted key order so two batches sharing keys never deadlock.
 * None of them decides anything. */
#ifndef F_STORE_H
#define F_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "f_work.h"
#include "med/pg.h"

/* Outbox row kinds (f_outbox.kind) and their key prefixes. */
#define F_OUTBOX_BATCH "batch"
#define F_OUTBOX_TIMEOUT "timeout"
#define F_OUTBOX_CLICK_EXPIRY "click_expiry"
#define F_OUTBOX_DELIVERY "delivery"

/* A fresh outbox row is left to its publisher for this long before the
 * sweeper treats it as a lost publish. */
#define F_OUTBOX_GRACE_MS 5000

/* One f_outbox row. The byte buffers are malloc'd (f_outbox_row_free). */
typedef struct f_outbox_row {
    char key[256];               /* "<kind>:<id>" */
    char kind[16];
    char app_id[160];
    char batch_id[160];
    uint8_t *ack_pb;      size_t ack_len;      /* EventBatchAck, NULL for timer rows */
    uint8_t *records_pb;  size_t records_len;  /* FOutboxRecords */
    uint8_t *audit_pb;    size_t audit_len;    /* StageAudit, may be NULL */
    int record_count;
    int published;
    int attempts;                 /* publish attempts that failed so far */
    int64_t first_attempt_at_ms;  /* first failed attempt, 0 = none yet */
    int64_t created_at_ms;
} f_outbox_row;

void f_outbox_row_free(f_outbox_row *r);

/* Registers the statements on pg (once per med_pg). */
med_rc f_store_prepare(med_pg *pg, med_err *err);

/* Claims the outbox key for this transaction: *won = 1 when the row was
 * inserted now; 0 when it exists (committed by an earlier delivery of the
 * same batch; an uncommitted claim by another replica makes this wait for
 * its outcome). */
med_rc f_store_outbox_claim(med_pg *pg, const char *tenant_id, const char *key,
                            const char *kind, int *won, med_err *err);
/* Loads an outbox row; MED_ERR_NOT_FOUND when absent. */
med_rc f_store_outbox_load(med_pg *pg, const char *tenant_id, const char *key,
                           f_outbox_row *out, med_err *err);

/* Phase 3: claims the dedup keys of b->dedup, reads the lost ones, locks
 * and loads the seq rows and closure rows (inserting placeholders for
 * missing keys first), reads the Deliveries. owner names the claimer
 * (idempotency_keys.owner_ref). */
med_rc f_store_load(med_pg *pg, f_batch_work *b, const char *owner, med_err *err);

/* Phase 5: inserts every event's billing claims into billing_ledger (ON
 * CONFLICT DO NOTHING) and sets claims[].won. Does not call the rules:
 * the caller feeds each lost claim to f_phase_claim_lost. */
med_rc f_store_claim_billing(med_pg *pg, f_batch_work *b, med_err *err);

/* Phase 7: event_records for every event, dirty seq and closure rows,
 * placeholders removed, released dedup claims expired, billing rows linked
 * to their billable_fact recordKey, the outbox row filled (ob->key must be
 * the row claimed with f_store_outbox_claim). One statement. */
med_rc f_store_write(med_pg *pg, const f_batch_work *b, const f_outbox_row *ob, med_err *err);

/* Marks outbox rows published (keys: NULL-terminated list). */
med_rc f_store_outbox_mark_published(med_pg *pg, const char *tenant_id,
                                     const char *const *keys, size_t n, med_err *err);

/* ms since the epoch -> "1700000000.123" for to_timestamp(), into out. */
void f_store_epoch_text(int64_t ms, char *out, size_t cap);

#endif
