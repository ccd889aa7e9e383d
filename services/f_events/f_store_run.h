/* One batch, phases 2..7, in one PostgreSQL transaction (00 decision 4:
 * committed before the ACK). med_pg_tx retries the whole transaction on
 * serialization failure, deadlock or a lost connection, so every attempt
 * rebuilds the batch from its input: phases mutate it. */
#ifndef F_STORE_RUN_H
#define F_STORE_RUN_H

#include "f_store.h"
#include "f_store_pack.h"
#include "f_work.h"

typedef struct f_run f_run;

/* Fills run->b for one attempt, inside the transaction: the envelope
 * (phase 1) and/or the timer's synthesized events, then phase 2. Sets
 * run->skipped when there is nothing to do, and may set run->outbox_key
 * (timer runs derive it from what they locked). */
typedef med_rc (*f_run_build_fn)(f_run *run, med_pg *pg, med_err *err);

struct f_run {
    /* inputs (borrowed) */
    const char *tenant_id;
    const char *app_id;
    const char *owner;             /* claimer id (idempotency_keys.owner_ref) */
    int64_t received_at_ms;
    f_windows windows;
    int event_id_global_verified;
    const char *anchor_hash;
    f_pack_ctx pack;
    char outbox_key[256];
    const char *outbox_kind;       /* F_OUTBOX_* */
    f_run_build_fn build;
    void *build_ud;
    /* outputs */
    f_batch_work b;                /* the last attempt's batch (f_run_free) */
    int b_live;
    int skipped;                   /* build found nothing to do: nothing written */
    int envelope_rejected;         /* b->envelope_reason set: nothing written */
    int replayed;                  /* the outbox row existed: ob is the stored row */
    f_outbox_row ob;
};

/* Runs the transaction. MED_OK: committed (or skipped / rejected /
 * replayed, see the flags). Other rc: nothing committed; a retryable rc
 * (UNAVAILABLE, TIMEOUT, IO) means the store is unreachable (503). */
med_rc f_run_batch(med_pg *pg, f_run *run, med_err *err);
void f_run_free(f_run *run);

#endif
