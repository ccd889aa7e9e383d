/* The batch transaction (see f_store_run.h). */
#include "f_store_run.h"

#include <stdio.h>
#include <string.h>

#include "f_archive.h"
#include "med/ids.h"
#include "med/reason.h"

static void run_reset(f_run *run)
{
    if (run->b_live) f_batch_free(&run->b);
    run->b_live = 0;
    f_outbox_row_free(&run->ob);
    memset(&run->ob, 0, sizeof run->ob);
    run->skipped = run->envelope_rejected = run->replayed = 0;
}

static void batch_start(f_run *run)
{
    f_batch_init(&run->b, run->tenant_id, run->app_id, run->received_at_ms, &run->windows);
    run->b_live = 1;
    run->b.event_id_global_verified = run->event_id_global_verified;
    run->b.anchor_hash = run->anchor_hash;
    run->b.now_ms = med_now_unix_ms();
}

/* Phase 5: claims, then each lost one back through the rules. */
static med_rc billing(med_pg *pg, f_batch_work *b, med_err *err)
{
    med_rc rc = f_store_claim_billing(pg, b, err);
    for (size_t i = 0; rc == MED_OK && i < b->n_events; i++)
        for (size_t k = 0; rc == MED_OK && k < b->events[i].n_claims; k++)
            if (!b->events[i].claims[k].won) rc = f_phase_claim_lost(b, i, k, err);
    return rc;
}

/* Phases 3..7 once the outbox key is ours. */
static med_rc decide_and_write(med_pg *pg, f_run *run, med_err *err)
{
    f_batch_work *b = &run->b;
    med_rc rc = f_store_load(pg, b, run->owner, err);
    if (rc == MED_OK) rc = f_phase_decide(b, err);
    if (rc == MED_OK) rc = billing(pg, b, err);
    if (rc == MED_OK) rc = f_phase_output(b, err);
    if (rc != MED_OK) return rc;
    /* Records leave F only after this transaction commits: what is
     * published is F's committed decision (F.8 new -> committed). */
    f_archive_mark_committed(b);
    snprintf(run->ob.key, sizeof run->ob.key, "%s", run->outbox_key);
    snprintf(run->ob.kind, sizeof run->ob.kind, "%s", run->outbox_kind);
    rc = f_pack_batch(b, &run->pack, &run->ob, err);
    if (rc == MED_OK) rc = f_store_write(pg, b, &run->ob, err);
    return rc;
}

static med_rc tx_body(med_pg *pg, PGconn *conn, void *ud, med_err *err)
{
    (void)conn;
    f_run *run = ud;
    run_reset(run);
    batch_start(run);
    med_rc rc = run->build(run, pg, err);
    if (rc != MED_OK || run->skipped) return rc;
    if (run->b.envelope_reason) {
        run->envelope_rejected = 1;
        return MED_OK;
    }
    if (run->b.arena.failed)
        return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "batch arena");
    int won = 0;
    rc = f_store_outbox_claim(pg, run->tenant_id, run->outbox_key, run->outbox_kind, &won, err);
    if (rc != MED_OK) return rc;
    if (!won) {
        run->replayed = 1;
        return f_store_outbox_load(pg, run->tenant_id, run->outbox_key, &run->ob, err);
    }
    return decide_and_write(pg, run, err);
}

med_rc f_run_batch(med_pg *pg, f_run *run, med_err *err)
{
    if (!run->tenant_id || !run->build || !run->outbox_kind)
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_PG_QUERY_FAILED, NULL,
                           "batch run without tenant, builder or outbox kind");
    return med_pg_tx(pg, run->tenant_id, 3, tx_body, run, err);
}

void f_run_free(f_run *run)
{
    run_reset(run);
}
