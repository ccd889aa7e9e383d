/* ConfigChanged outbox relay (H.1, H.4 commit). The commit transaction
 * writes the message into its operation row (outbox_status 'pending');
 * this file publishes it on med.h.config.v1 with Nats-Msg-Id =
 * publishOperationId and only then marks it sent, so a crash in between
 * republishes and the stream's duplicate window drops the repeat. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h_publish.h"
#include "med/log.h"
#include "med/names.h"
#include "med/reason.h"

#define OUTBOX_BATCH 100

typedef struct outbox_item {
    char tenant[128];
    char op_id[128];
    uint8_t *payload;
    size_t len;
} outbox_item;

typedef struct outbox_batch {
    outbox_item items[OUTBOX_BATCH];
    int n;
    const char *only_op;   /* send_one: this operation only */
} outbox_batch;

static void batch_free(outbox_batch *b)
{
    for (int i = 0; i < b->n; i++) free(b->items[i].payload);
    b->n = 0;
}

static med_rc collect_rows(PGresult *res, outbox_batch *b, med_err *err)
{
    for (int i = 0; i < PQntuples(res) && b->n < OUTBOX_BATCH; i++) {
        outbox_item *it = &b->items[b->n];
        snprintf(it->tenant, sizeof it->tenant, "%s", PQgetvalue(res, i, 0));
        snprintf(it->op_id, sizeof it->op_id, "%s", PQgetvalue(res, i, 1));
        it->len = (size_t)PQgetlength(res, i, 2);
        it->payload = malloc(it->len ? it->len : 1);
        if (!it->payload)
            return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_PG_QUERY_FAILED, NULL, "oom");
        memcpy(it->payload, PQgetvalue(res, i, 2), it->len);
        b->n++;
    }
    return MED_OK;
}

/* Binary results: text columns come back as their bytes, bytea raw. */
static med_rc select_pending(med_pg *pg, PGconn *conn, void *ud, med_err *err)
{
    (void)pg;
    outbox_batch *b = ud;
    batch_free(b);
    PGresult *res;
    if (b->only_op) {
        const char *v[1] = {b->only_op};
        res = PQexecParams(conn,
            "SELECT tenant_id, publish_operation_id, outbox_payload FROM "
            "config_publish_operations WHERE publish_operation_id = $1 AND "
            "outbox_status = 'pending'", 1, NULL, v, NULL, NULL, 1);
    } else {
        res = PQexec(conn, "SELECT set_config('app.outbox_relay', 'h_config', true)");
        if (med_pg_result_err(res, conn, err) != MED_OK) {
            PQclear(res);
            return err->rc;
        }
        PQclear(res);
        res = PQexecParams(conn,
            "SELECT tenant_id, publish_operation_id, outbox_payload FROM "
            "config_publish_operations WHERE outbox_status = 'pending' ORDER BY created_at "
            "LIMIT 100", 0, NULL, NULL, NULL, NULL, 1);
    }
    med_rc rc = med_pg_result_err(res, conn, err);
    if (rc == MED_OK) rc = collect_rows(res, b, err);
    PQclear(res);
    return rc;
}

static med_rc mark_sent(med_pg *pg, PGconn *conn, void *ud, med_err *err)
{
    (void)pg;
    const char *v[1] = {ud};
    PGresult *res = PQexecParams(conn,
        "UPDATE config_publish_operations SET outbox_status = 'sent', outbox_sent_at = now() "
        "WHERE publish_operation_id = $1 AND outbox_status = 'pending'", 1, NULL, v, NULL, NULL, 0);
    med_rc rc = med_pg_result_err(res, conn, err);
    PQclear(res);
    return rc;
}

static med_rc send_item(med_pg *pg, med_js *js, outbox_item *it, med_err *err)
{
    natsMsg *msg = NULL;
    med_rc rc = med_js_msg_new(MED_SUBJ_H_CONFIG, it->payload, (int)it->len, NULL, &msg, err);
    if (rc != MED_OK) return rc;
    rc = med_js_publish(js, msg, it->op_id, NULL, err);
    natsMsg_Destroy(msg);
    if (rc != MED_OK) return rc;
    return med_pg_tx(pg, it->tenant, 0, mark_sent, it->op_id, err);
}

static med_rc send_batch(med_pg *pg, med_js *js, outbox_batch *b, int *sent, med_err *err)
{
    med_rc rc = MED_OK;
    for (int i = 0; i < b->n && rc == MED_OK; i++) {
        rc = send_item(pg, js, &b->items[i], err);
        if (rc == MED_OK && sent) (*sent)++;
    }
    return rc;
}

static med_rc drain_with(med_pg *pg, med_js *js, const char *tenant, outbox_batch *b, int *sent,
                         med_err *err)
{
    med_rc rc = med_pg_tx(pg, tenant, 0, select_pending, b, err);
    if (rc == MED_OK) rc = send_batch(pg, js, b, sent, err);
    batch_free(b);
    return rc;
}

med_rc h_outbox_drain(med_pg *pg, med_js *js, int *sent, med_err *err)
{
    outbox_batch *b = calloc(1, sizeof *b);
    if (!b) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_PG_QUERY_FAILED, NULL, "oom");
    if (sent) *sent = 0;
    int before;
    med_rc rc;
    do {
        before = sent ? *sent : 0;
        rc = drain_with(pg, js, NULL, b, sent, err);
    } while (rc == MED_OK && sent && *sent - before == OUTBOX_BATCH);
    free(b);
    return rc;
}

med_rc h_outbox_send_one(med_pg *pg, med_js *js, const char *tenant, const char *op_id,
                         med_err *err)
{
    outbox_batch *b = calloc(1, sizeof *b);
    if (!b) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_PG_QUERY_FAILED, NULL, "oom");
    b->only_op = op_id;
    med_rc rc = drain_with(pg, js, tenant, b, NULL, err);
    free(b);
    return rc;
}
