/* Stage G: appends every stage's StageAudit (med.audit.*.v1) to
 * audit_records, a batch of fetched audits per statement per tenant.
 * Archive records, replay and reconciliation (spec 04 G.3..G.8) are the
 * async chain's part and not built yet. */
#include <stdlib.h>
#include <string.h>

#include "g_audit_row.h"
#include "g_audit_store.h"
#include "med/log.h"
#include "med/names.h"
#include "med/reason.h"
#include "med/relay.h"
#include "med/rows.h"

typedef struct g_batch {
    Mediation__V1__StageAudit **audits;
    g_audit_row *rows;
    size_t *idx;
    const char **tenants;
    unsigned char *taken;
} g_batch;

static void batch_free(g_batch *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        g_audit_row_free(&b->rows[i]);
        if (b->audits[i]) mediation__v1__stage_audit__free_unpacked(b->audits[i], NULL);
    }
    free(b->audits);
    free(b->rows);
    free(b->idx);
    free(b->tenants);
    free(b->taken);
}

/* Decodes and maps each message; a failure is that message's own result. */
static void build_rows(const med_relay_in *ins, size_t n, g_batch *b, med_rc *rcs, med_err *errs)
{
    for (size_t i = 0; i < n; i++) {
        b->audits[i] = mediation__v1__stage_audit__unpack(NULL, ins[i].len, ins[i].data);
        if (!b->audits[i]) {
            rcs[i] = med_err_set(&errs[i], MED_ERR_INVALID, MED_R_INFRA_DECODE_FAILED, NULL,
                                 "payload is not a valid StageAudit");
            continue;
        }
        const char *msg_id = med_header_get(ins[i].msg, MED_HDR_MSG_ID);
        rcs[i] = g_audit_row_build(b->audits[i], ins[i].headers, msg_id, &b->rows[i], &errs[i]);
        if (rcs[i] == MED_OK)
            rcs[i] = g_audit_row_set_bytes(&b->rows[i], ins[i].data, ins[i].len, &errs[i]);
    }
}

/* One statement per tenant: every good row of that tenant, then each
 * message of the group shares the statement's result. */
static void append_by_tenant(med_pg *pg, size_t n, g_batch *b, med_rc *rcs, med_err *errs)
{
    for (size_t i = 0; i < n; i++) b->tenants[i] = rcs[i] == MED_OK ? b->rows[i].tenant_id : NULL;
    size_t k;
    while ((k = med_rows_next_tenant_group(b->tenants, n, b->taken, b->idx)) > 0) {
        med_err e;
        med_err_clear(&e);
        med_rc rc = g_audit_store_append(pg, b->rows, b->idx, k, &e);
        for (size_t m = 0; m < k; m++) {
            rcs[b->idx[m]] = rc;
            if (rc != MED_OK) errs[b->idx[m]] = e;
        }
    }
}

static void g_append_batch(void *ud, const med_relay_in *ins, size_t n, med_relay_out *outs,
                           med_rc *rcs, med_err *errs)
{
    (void)ud;
    (void)outs;
    g_batch b = { calloc(n, sizeof *b.audits), calloc(n, sizeof *b.rows),
                  calloc(n, sizeof *b.idx), calloc(n, sizeof *b.tenants), calloc(n, 1) };
    if (!b.audits || !b.rows || !b.idx || !b.tenants || !b.taken) {
        for (size_t i = 0; i < n; i++)
            rcs[i] = med_err_set(&errs[i], MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "audit batch");
        batch_free(&b, 0);
        return;
    }
    build_rows(ins, n, &b, rcs, errs);
    /* The consumer is one thread: a plain flag is enough. */
    static int prepared;
    med_pg *pg = med_service_pg(ins[0].svc);
    med_err perr;
    if (!prepared && g_audit_store_prepare(pg, &perr) == MED_OK) prepared = 1;
    append_by_tenant(pg, n, &b, rcs, errs);
    batch_free(&b, n);
}

int main(void)
{
    const med_service_opts opts = { .name = "g_archive", .stage = MED_STAGE_G, .need_pg = 1 };
    return med_stage_main_batch(&opts, MED_STREAM_AUDIT, MED_SUBJ_AUDIT_ALL, g_append_batch, NULL);
}
