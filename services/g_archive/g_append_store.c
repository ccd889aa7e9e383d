#include "g_append_store.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "med/reason.h"

/* An expired key (past the inclusive window: expires_at < now) is taken
 * over by the new record; a live one is left alone and not returned. */
#define STMT_CLAIM "g_app_claim"
#define SQL_CLAIM                                                                                  \
    "INSERT INTO idempotency_keys (tenant_id, scope, key, state, fingerprint, result, trace_key, "  \
    "expires_at) SELECT DISTINCT ON (r.key) current_setting('app.tenant_id'), 'g_append', r.key, "  \
    "'committed', r.digest, jsonb_build_object('appendToken', r.token), r.trace_key, "              \
    "now() + ($2::bigint * interval '1 millisecond') "                                             \
    "FROM jsonb_to_recordset($1::jsonb) AS r(i int, key text, digest text, token text, "           \
    "trace_key text) ORDER BY r.key, r.i "                                                          \
    "ON CONFLICT (tenant_id, scope, key) DO UPDATE SET state = 'committed', "                      \
    "fingerprint = EXCLUDED.fingerprint, result = EXCLUDED.result, trace_key = EXCLUDED.trace_key, " \
    "expires_at = EXCLUDED.expires_at, created_at = now(), updated_at = now() "                    \
    "WHERE idempotency_keys.expires_at < now() RETURNING key"

#define STMT_STORED "g_app_stored"
#define SQL_STORED                                                                                 \
    "SELECT key, fingerprint FROM idempotency_keys WHERE scope = 'g_append' "                      \
    "AND key IN (SELECT jsonb_array_elements_text($1::jsonb))"

#define STMT_INSERT "g_app_insert"
#define SQL_INSERT                                                                                 \
    "INSERT INTO audit_records (tenant_id, app_id, placement_id, audit_kind, audit_record_id, "     \
    "stage, trace_key, request_key, attempt_key, opportunity_key, response_reference, "            \
    "render_attempt_id, closure_key, idempotency_key, append_token, payload_digest, audit_at, "    \
    "anchor_hash, reason_code, outcome, payload, payload_pb) "                                     \
    "SELECT r.tenant_id, r.app_id, r.placement_id, 'audit_record', r.audit_record_id, r.stage, "   \
    "r.trace_key, r.request_key, r.attempt_key, r.opportunity_key, r.response_reference, "         \
    "r.render_attempt_id, r.closure_key, r.idempotency_key, r.append_token, r.payload_digest, "    \
    "to_timestamp(r.audit_at_ms / 1000.0), r.anchor_hash, 'g_append_accepted_committed', "         \
    "'accepted', r.payload, decode(r.payload_pb, 'hex') "                                          \
    "FROM jsonb_to_recordset($1::jsonb) AS r(tenant_id text, app_id text, placement_id text, "     \
    "audit_record_id text, stage text, trace_key text, request_key text, attempt_key text, "        \
    "opportunity_key text, response_reference text, render_attempt_id text, closure_key text, "    \
    "idempotency_key text, append_token text, payload_digest text, audit_at_ms bigint, "           \
    "anchor_hash text, payload jsonb, payload_pb text)"

med_rc g_append_store_prepare(med_pg *pg, med_err *err)
{
    med_rc rc = med_pg_prepare(pg, STMT_CLAIM, SQL_CLAIM, 2, err);
    if (rc == MED_OK) rc = med_pg_prepare(pg, STMT_STORED, SQL_STORED, 1, err);
    if (rc == MED_OK) rc = med_pg_prepare(pg, STMT_INSERT, SQL_INSERT, 1, err);
    return rc;
}

typedef struct write_q {
    g_append_job *jobs;
    const size_t *idx;
    size_t n;
    int64_t window_ms;
    unsigned char *won;
} write_q;

static const g_append_item *qitem(const write_q *q, size_t k) { return q->jobs[q->idx[k]].item; }

static char *dump(json_t *j)
{
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return s;
}

static PGresult *claim(med_pg *pg, const write_q *q, med_err *err)
{
    json_t *arr = json_array();
    for (size_t k = 0; arr && k < q->n; k++) {
        const g_append_item *it = qitem(q, k);
        const char *trace = it->audit->append_request->audit_record->trace_key;
        json_t *o = json_pack("{s:i, s:s, s:s, s:s, s:s}", "i", (int)k, "key", it->dedup_key,
                              "digest", it->digest, "token", it->token, "trace_key", trace);
        if (!o || json_array_append_new(arr, o) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    char *text = dump(arr), window[32];
    if (!text) {
        med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "append claims");
        return NULL;
    }
    snprintf(window, sizeof window, "%lld", (long long)q->window_ms);
    const char *params[2] = { text, window };
    PGresult *res = med_pg_exec_prepared(pg, STMT_CLAIM, 2, params, err);
    free(text);
    return res;
}

/* Marks won[k] for the first occurrence of each key the claim returned. */
static void mark_won(write_q *q, const PGresult *res)
{
    for (size_t k = 0; k < q->n; k++) {
        q->won[k] = 0;
        int first = 1;
        for (size_t j = 0; j < k && first; j++)
            first = strcmp(qitem(q, j)->dedup_key, qitem(q, k)->dedup_key) != 0;
        for (int t = 0; first && t < PQntuples(res); t++)
            if (strcmp(PQgetvalue(res, t, 0), qitem(q, k)->dedup_key) == 0) q->won[k] = 1;
    }
}

static med_rc resolve(med_pg *pg, write_q *q, med_err *err)
{
    json_t *arr = json_array();
    for (size_t k = 0; arr && k < q->n; k++)
        if (json_array_append_new(arr, json_string(qitem(q, k)->dedup_key)) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    char *text = dump(arr);
    if (!text) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "append keys");
    const char *params[1] = { text };
    PGresult *res = med_pg_exec_prepared(pg, STMT_STORED, 1, params, err);
    free(text);
    if (!res) return err->rc ? err->rc : MED_ERR_IO;
    for (size_t k = 0; k < q->n; k++) {
        g_append_job *j = &q->jobs[q->idx[k]];
        const char *stored = NULL;
        for (int t = 0; t < PQntuples(res) && !stored; t++)
            if (strcmp(PQgetvalue(res, t, 0), j->item->dedup_key) == 0) stored = PQgetvalue(res, t, 1);
        if (q->won[k]) j->outcome = G_APPEND_NEW;
        else if (stored && strcmp(stored, j->item->digest) == 0) j->outcome = G_APPEND_DUPLICATE;
        else j->outcome = G_APPEND_CONFLICT;
    }
    PQclear(res);
    return MED_OK;
}

static med_rc insert_won(med_pg *pg, const write_q *q, med_err *err)
{
    json_t *arr = json_array();
    size_t count = 0;
    for (size_t k = 0; arr && k < q->n; k++) {
        if (!q->won[k]) continue;
        const g_append_job *j = &q->jobs[q->idx[k]];
        json_t *o = g_append_row_json(j->item, j->headers, j->payload_pb_hex, (int)k);
        if (!o || json_array_append_new(arr, o) != 0) {
            json_decref(arr);
            arr = NULL;
        }
        count++;
    }
    char *text = dump(arr);
    if (!text) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "append rows");
    med_rc rc = MED_OK;
    if (count) {
        const char *params[1] = { text };
        PGresult *res = med_pg_exec_prepared(pg, STMT_INSERT, 1, params, err);
        rc = res ? MED_OK : (err->rc ? err->rc : MED_ERR_IO);
        PQclear(res);
    }
    free(text);
    return rc;
}

static med_rc write_tx(med_pg *pg, PGconn *conn, void *ud, med_err *err)
{
    (void)conn;
    write_q *q = ud;
    PGresult *res = claim(pg, q, err);
    if (!res) return err->rc ? err->rc : MED_ERR_IO;
    mark_won(q, res);
    PQclear(res);
    med_rc rc = resolve(pg, q, err);
    if (rc == MED_OK) rc = insert_won(pg, q, err);
    return rc;
}

med_rc g_append_store_write(med_pg *pg, const char *tenant, g_append_job *jobs, const size_t *idx,
                            size_t n, int64_t window_ms, med_err *err)
{
    if (n == 0) return MED_OK;
    write_q q = { jobs, idx, n, window_ms, calloc(n, 1) };
    if (!q.won) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "append batch");
    med_rc rc = med_pg_tx(pg, tenant, 0, write_tx, &q, err);
    free(q.won);
    return rc;
}
