#include "g_audit_store.h"

#include <jansson.h>
#include <stdlib.h>

#include "med/reason.h"
#include "med/rows.h"

/* jsonb_to_recordset keeps the statement fixed whatever the batch size, so
 * it is prepared once; DISTINCT ON drops a key repeated inside the batch. */
#define STMT_APPEND "g_audit_append"
#define SQL_APPEND                                                                           \
    "INSERT INTO audit_records (tenant_id, app_id, placement_id, audit_kind, stage, "        \
    "reason_code, outcome, trace_key, request_key, opportunity_key, attempt_key, "           \
    "response_reference, idempotency_key, anchor_hash, payload, payload_pb) "                \
    "SELECT DISTINCT ON (r.idempotency_key) r.tenant_id, r.app_id, r.placement_id, "         \
    "r.audit_kind, r.stage, r.reason_code, r.outcome, r.trace_key, r.request_key, "          \
    "r.opportunity_key, r.attempt_key, r.response_reference, r.idempotency_key, "            \
    "r.anchor_hash, r.payload, decode(r.payload_pb, 'hex') "                                 \
    "FROM jsonb_to_recordset($1::jsonb) AS r(tenant_id text, app_id text, "                  \
    "placement_id text, audit_kind text, stage text, reason_code text, outcome text, "       \
    "trace_key text, request_key text, opportunity_key text, attempt_key text, "             \
    "response_reference text, idempotency_key text, anchor_hash text, payload jsonb, "      \
    "payload_pb text) "                                                                      \
    "WHERE NOT EXISTS (SELECT 1 FROM audit_records e WHERE e.tenant_id = r.tenant_id "       \
    "AND e.idempotency_key = r.idempotency_key "                                             \
    "AND e.created_at > now() - interval '7 days')"

static json_t *row_json(const g_audit_row *r)
{
    json_error_t je;
    json_t *o = json_object(), *payload = json_loads(r->payload, 0, &je);
    int bad = !o || !payload;
    bad = bad || med_rows_put(o, "tenant_id", r->tenant_id) || med_rows_put(o, "app_id", r->app_id) ||
          med_rows_put(o, "placement_id", r->placement_id) || med_rows_put(o, "audit_kind", r->audit_kind) ||
          med_rows_put(o, "stage", r->stage) || med_rows_put(o, "reason_code", r->reason_code) ||
          med_rows_put(o, "outcome", r->outcome) || med_rows_put(o, "trace_key", r->trace_key) ||
          med_rows_put(o, "request_key", r->request_key) ||
          med_rows_put(o, "opportunity_key", r->opportunity_key) ||
          med_rows_put(o, "attempt_key", r->attempt_key) ||
          med_rows_put(o, "response_reference", r->response_reference) ||
          med_rows_put(o, "idempotency_key", r->idempotency_key) ||
          med_rows_put(o, "anchor_hash", r->anchor_hash) || med_rows_put(o, "payload_pb", r->payload_pb_hex);
    if (!bad && json_object_set_new(o, "payload", payload) != 0) bad = 1;
    else payload = NULL;
    json_decref(payload);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

typedef struct append_q {
    const char *json;
} append_q;

static med_rc append_tx(med_pg *pg, PGconn *conn, void *ud, med_err *err)
{
    append_q *q = ud;
    const char *params[1] = { q->json };
    PGresult *res = med_pg_exec_prepared(pg, STMT_APPEND, 1, params, err);
    if (!res) return err->rc;
    med_rc rc = med_pg_result_err(res, conn, err);
    PQclear(res);
    return rc;
}

med_rc g_audit_store_prepare(med_pg *pg, med_err *err)
{
    return med_pg_prepare(pg, STMT_APPEND, SQL_APPEND, 1, err);
}

med_rc g_audit_store_append(med_pg *pg, const g_audit_row *rows, const size_t *idx, size_t n,
                            med_err *err)
{
    if (n == 0) return MED_OK;
    med_rc rc;
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        json_t *o = row_json(&rows[idx[i]]);
        if (!o || json_array_append_new(arr, o) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    char *text = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    if (!text) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "audit batch");
    append_q q = { text };
    rc = med_pg_tx(pg, rows[idx[0]].tenant_id, 0, append_tx, &q, err);
    free(text);
    return rc;
}
