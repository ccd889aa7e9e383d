#include "a_emit_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "med/reason.h"
#include "med/rows.h"

#define STMT_RESULTS "a_oc_emit_results"
/* The payload stays only while a resend may come (next_at set). */
#define SQL_SET_OUTCOME                                                                 \
    "created_event_status = r.status, created_event_reason_code = r.reason, "           \
    "created_event_attempts = r.attempt, "                                              \
    "created_event_last_at = to_timestamp(r.at_ms / 1000.0), "                          \
    "created_event_next_at = CASE WHEN r.next_ms > 0 "                                  \
    "THEN to_timestamp(r.next_ms / 1000.0) END, "                                       \
    "created_event_payload = CASE WHEN r.next_ms > 0 THEN o.created_event_payload END, " \
    "updated_at = now() "
#define SQL_RESULTS                                                                     \
    "UPDATE opportunity_records o SET " SQL_SET_OUTCOME                                 \
    "FROM jsonb_to_recordset($1::jsonb) AS r(opportunity_key text, contract_version text, " \
    "event_key text, status text, reason text, attempt int, at_ms bigint, next_ms bigint) " \
    "WHERE o.tenant_id = current_setting('app.tenant_id', true) "                       \
    "AND o.opportunity_key = r.opportunity_key "                                        \
    "AND o.create_opportunity_contract_version = r.contract_version "                   \
    "AND o.created_event_key = r.event_key"

#define STMT_ROW_RESULT "a_oc_emit_row_result"
#define SQL_ROW_RESULT                                                                  \
    "UPDATE opportunity_records o SET " SQL_SET_OUTCOME                                 \
    "FROM (SELECT $3::text AS status, $4::text AS reason, $5::int AS attempt, "         \
    "$6::bigint AS at_ms, $7::bigint AS next_ms) r "                                    \
    "WHERE o.id = $1::bigint AND o.created_at = $2::timestamptz"

#define STMT_DUE_TENANTS "a_oc_emit_due_tenants"
#define SQL_DUE_TENANTS \
    "SELECT tenant_id FROM a_oc_emit_due_tenants(to_timestamp($1::bigint / 1000.0), $2::int)"

#define STMT_DUE_ROWS "a_oc_emit_due_rows"
#define SQL_DUE_ROWS                                                                    \
    "SELECT id::text, created_at::text, tenant_id, app_id, placement_id, opportunity_key, " \
    "request_key, trace_key, coalesce(anchor_hash, ''), "                               \
    "create_opportunity_contract_version, created_event_key, "                          \
    "created_event_idempotency_key, created_event_attempts, "                           \
    "(extract(epoch FROM created_event_first_attempt_at) * 1000)::bigint, "             \
    "created_event_payload FROM opportunity_records "                                   \
    "WHERE created_event_next_at <= to_timestamp($1::bigint / 1000.0) "                 \
    "ORDER BY created_event_next_at LIMIT $2::int FOR UPDATE SKIP LOCKED"

med_rc a_emit_store_prepare(med_pg *pg, med_err *err)
{
    med_rc rc = med_pg_prepare(pg, STMT_RESULTS, SQL_RESULTS, 1, err);
    if (rc == MED_OK) rc = med_pg_prepare(pg, STMT_ROW_RESULT, SQL_ROW_RESULT, 7, err);
    if (rc == MED_OK) rc = med_pg_prepare(pg, STMT_DUE_TENANTS, SQL_DUE_TENANTS, 2, err);
    if (rc == MED_OK) rc = med_pg_prepare(pg, STMT_DUE_ROWS, SQL_DUE_ROWS, 2, err);
    return rc;
}

/* ---- first attempts ---- */

static json_t *result_json(const a_emit_result *r)
{
    json_t *j = json_object();
    const med_emit_ack *a = r->ack;
    int bad = !j || med_rows_put(j, "opportunity_key", r->opportunity_key) ||
              med_rows_put(j, "contract_version", r->contract_version) ||
              med_rows_put(j, "event_key", r->event_key) ||
              med_rows_put(j, "status", a->ack_status) ||
              med_rows_put(j, "reason", a->ack_reason_code) ||
              json_object_set_new(j, "attempt", json_integer(a->attempt)) ||
              json_object_set_new(j, "at_ms", json_integer(a->acked_at_ms)) ||
              json_object_set_new(j, "next_ms", json_integer(a->next_retry_at_ms));
    if (!bad) return j;
    json_decref(j);
    return NULL;
}

static med_rc exec_text(med_pg *pg, PGconn *conn, const char *stmt, int n, const char *const *p,
                        med_err *err)
{
    PGresult *res = med_pg_exec_prepared(pg, stmt, n, p, err);
    if (!res) return err->rc;
    med_rc rc = med_pg_result_err(res, conn, err);
    PQclear(res);
    return rc;
}

static med_rc results_tx(med_pg *pg, PGconn *conn, void *ud, med_err *err)
{
    const char *p[1] = { ud };
    return exec_text(pg, conn, STMT_RESULTS, 1, p, err);
}

med_rc a_emit_store_results(med_pg *pg, const char *tenant_id, const a_emit_result *const *rs,
                            size_t n, med_err *err)
{
    if (n == 0) return MED_OK;
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        json_t *o = result_json(rs[i]);
        if (!o || json_array_append_new(arr, o) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    char *text = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    if (!text) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "emit results");
    med_rc rc = med_pg_tx(pg, tenant_id, 0, results_tx, text, err);
    free(text);
    return rc;
}

/* ---- sweep ---- */

typedef struct sweep_q {
    int64_t now_ms;
    int limit;
    a_emit_resend_fn fn;
    void *ud;
    int handled;
} sweep_q;

static void due_from_row(PGresult *res, int t, a_emit_due *d, unsigned char **payload)
{
    memset(d, 0, sizeof *d);
    d->tenant_id = PQgetvalue(res, t, 2);
    d->app_id = PQgetvalue(res, t, 3);
    d->placement_id = PQgetvalue(res, t, 4);
    d->opportunity_key = PQgetvalue(res, t, 5);
    d->request_key = PQgetvalue(res, t, 6);
    d->trace_key = PQgetvalue(res, t, 7);
    d->anchor_hash = PQgetvalue(res, t, 8);
    d->contract_version = PQgetvalue(res, t, 9);
    d->event_key = PQgetvalue(res, t, 10);
    d->idempotency_key = PQgetvalue(res, t, 11);
    d->attempts = atoi(PQgetvalue(res, t, 12));
    d->first_attempt_ms = strtoll(PQgetvalue(res, t, 13), NULL, 10);
    *payload = NULL;
    if (!PQgetisnull(res, t, 14)) {
        size_t n = 0;
        *payload = PQunescapeBytea((const unsigned char *)PQgetvalue(res, t, 14), &n);
        d->payload = *payload;
        d->payload_len = *payload ? n : 0;
    }
}

static med_rc record_row(med_pg *pg, PGconn *conn, PGresult *res, int t, const med_emit_ack *a,
                         med_err *err)
{
    char attempt[16], at[24], next[24];
    snprintf(attempt, sizeof attempt, "%d", a->attempt);
    snprintf(at, sizeof at, "%lld", (long long)a->acked_at_ms);
    snprintf(next, sizeof next, "%lld", (long long)a->next_retry_at_ms);
    const char *p[7] = { PQgetvalue(res, t, 0), PQgetvalue(res, t, 1), a->ack_status,
                         a->ack_reason_code, attempt, at, next };
    return exec_text(pg, conn, STMT_ROW_RESULT, 7, p, err);
}

static med_rc sweep_tx(med_pg *pg, PGconn *conn, void *ud, med_err *err)
{
    sweep_q *q = ud;
    char now[24], limit[16];
    snprintf(now, sizeof now, "%lld", (long long)q->now_ms);
    snprintf(limit, sizeof limit, "%d", q->limit);
    const char *p[2] = { now, limit };
    PGresult *res = med_pg_exec_prepared(pg, STMT_DUE_ROWS, 2, p, err);
    if (!res) return err->rc;
    med_rc rc = med_pg_result_err(res, conn, err);
    for (int t = 0; rc == MED_OK && t < PQntuples(res); t++) {
        a_emit_due d;
        unsigned char *payload;
        due_from_row(res, t, &d, &payload);
        med_emit_ack ack;
        q->fn(q->ud, &d, &ack);
        PQfreemem(payload);
        rc = record_row(pg, conn, res, t, &ack, err);
        if (rc == MED_OK) q->handled++;
    }
    PQclear(res);
    return rc;
}

med_rc a_emit_store_sweep(med_pg *pg, int64_t now_ms, int max_tenants, int per_tenant,
                          a_emit_resend_fn fn, void *ud, int *handled, med_err *err)
{
    *handled = 0;
    char now[24], maxt[16];
    snprintf(now, sizeof now, "%lld", (long long)now_ms);
    snprintf(maxt, sizeof maxt, "%d", max_tenants);
    const char *p[2] = { now, maxt };
    PGresult *tenants = med_pg_exec_prepared(pg, STMT_DUE_TENANTS, 2, p, err);
    if (!tenants) return err->rc;
    med_rc rc = med_pg_result_err(tenants, NULL, err);
    for (int t = 0; rc == MED_OK && t < PQntuples(tenants); t++) {
        sweep_q q = { now_ms, per_tenant, fn, ud, 0 };
        /* One attempt per transaction body: a retried transaction would
         * resend, which the stream's duplicate window absorbs. */
        rc = med_pg_tx(pg, PQgetvalue(tenants, t, 0), 1, sweep_tx, &q, err);
        *handled += q.handled;
    }
    PQclear(tenants);
    return rc;
}
