#include "g_audit_store.h"

#include <string.h>

#include "med/reason.h"
#include "med/pg_array.h"

/* One statement whatever the batch size (prepared once): every column is
 * a binary array, unnested in step, so neither side escapes or parses a
 * document per row. DISTINCT ON drops a key repeated inside the batch. */
#define STMT_APPEND "g_audit_append"
#define N_TEXT_COLS 15
#define SQL_APPEND                                                                           \
    "INSERT INTO audit_records (tenant_id, app_id, placement_id, audit_kind, stage, "        \
    "reason_code, outcome, trace_key, request_key, opportunity_key, attempt_key, "           \
    "response_reference, idempotency_key, anchor_hash, payload, payload_pb) "                \
    "SELECT DISTINCT ON (r.idempotency_key) r.tenant_id, r.app_id, r.placement_id, "         \
    "r.audit_kind, r.stage, r.reason_code, r.outcome, r.trace_key, r.request_key, "          \
    "r.opportunity_key, r.attempt_key, r.response_reference, r.idempotency_key, "            \
    "r.anchor_hash, r.payload::jsonb, r.payload_pb "                                         \
    "FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], "   \
    "$7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], "            \
    "$13::text[], $14::text[], $15::text[], $16::bytea[]) AS r(tenant_id, app_id, "          \
    "placement_id, audit_kind, stage, reason_code, outcome, trace_key, request_key, "        \
    "opportunity_key, attempt_key, response_reference, idempotency_key, anchor_hash, "       \
    "payload, payload_pb) "                                                                  \
    "WHERE NOT EXISTS (SELECT 1 FROM audit_records e WHERE e.tenant_id = r.tenant_id "       \
    "AND e.idempotency_key = r.idempotency_key "                                             \
    "AND e.created_at > now() - interval '7 days')"

/* The text columns of a row, in the statement's order. */
static void row_texts(const g_audit_row *r, const char *v[N_TEXT_COLS])
{
    const char *t[N_TEXT_COLS] = {
        r->tenant_id, r->app_id, r->placement_id, r->audit_kind, r->stage,
        r->reason_code, r->outcome, r->trace_key, r->request_key, r->opportunity_key,
        r->attempt_key, r->response_reference, r->idempotency_key, r->anchor_hash, r->payload,
    };
    memcpy(v, t, sizeof t);
}

static med_rc columns_build(med_pg_cols *c, const g_audit_row *rows, const size_t *idx, size_t n,
                            med_err *err)
{
    uint32_t oids[N_TEXT_COLS + 1];
    for (int k = 0; k < N_TEXT_COLS; k++) oids[k] = MED_PG_OID_TEXT;
    oids[N_TEXT_COLS] = MED_PG_OID_BYTEA;
    med_pg_cols_init(c, oids, N_TEXT_COLS + 1);
    for (size_t i = 0; i < n; i++) {
        const g_audit_row *r = &rows[idx[i]];
        const char *v[N_TEXT_COLS];
        row_texts(r, v);
        for (int k = 0; k < N_TEXT_COLS; k++) med_pg_array_add_str(&c->col[k], v[k]);
        med_pg_array_add(&c->col[N_TEXT_COLS], r->payload_pb, r->payload_pb_len);
    }
    return med_pg_cols_finish(c, err);
}

static med_rc append_tx(med_pg *pg, PGconn *conn, void *ud, med_err *err)
{
    const med_pg_cols *c = ud;
    PGresult *res = med_pg_exec_cols(pg, STMT_APPEND, c, err);
    if (!res) return err->rc;
    med_rc rc = med_pg_result_err(res, conn, err);
    PQclear(res);
    return rc;
}

med_rc g_audit_store_prepare(med_pg *pg, med_err *err)
{
    return med_pg_prepare(pg, STMT_APPEND, SQL_APPEND, N_TEXT_COLS + 1, err);
}

med_rc g_audit_store_append(med_pg *pg, const g_audit_row *rows, const size_t *idx, size_t n,
                            med_err *err)
{
    if (n == 0) return MED_OK;
    med_pg_cols c;
    med_rc rc = columns_build(&c, rows, idx, n, err);
    if (rc == MED_OK) rc = med_pg_tx(pg, rows[idx[0]].tenant_id, 0, append_tx, &c, err);
    med_pg_cols_free(&c);
    return rc;
}
