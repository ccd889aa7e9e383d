#include "a_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "a_dedup_lua.h"
#include "med/reason.h"
#include "med/rows.h"

void a_store_dedup_key(const char *app_env, const char *tenant, const char *dedup_key, char *out,
                       size_t cap)
{
    snprintf(out, cap, "med:%s:a:dedup:%s:%s", app_env, tenant, dedup_key);
}

med_rc a_store_dedup_put(med_redis *r, const char *key, const a_dedup_record *rec,
                         int64_t ttl_ms, med_err *err)
{
    if (!r)
        return med_err_set(err, MED_ERR_UNAVAILABLE, MED_R_INFRA_REDIS_UNAVAILABLE, NULL,
                           "no redis connection");
    uint8_t *buf = NULL;
    size_t len = 0;
    med_rc rc = a_dedup_record_encode(rec, &buf, &len, err);
    if (rc != MED_OK) return rc;
    rc = med_redis_set(r, key, buf, len, ttl_ms, err);
    free(buf);
    return rc;
}

med_rc a_store_dedup_delete(med_redis *r, const char *key, med_err *err)
{
    if (!r) return MED_OK;
    return med_redis_del(r, key, err);
}

/* 1 = claimed, a string = the stored record, nil = no record. */
static med_rc claim_reply(med_redis_reply *reply, int *claimed, uint8_t **current,
                          size_t *current_len, med_err *err)
{
    int bad = reply->kind == MED_REDIS_REPLY_INT && reply->integer != 1;
    *claimed = reply->kind == MED_REDIS_REPLY_INT && reply->integer == 1;
    if (reply->kind == MED_REDIS_REPLY_BYTES) {
        *current = reply->bytes; /* ownership passes to the caller */
        *current_len = reply->len;
        reply->bytes = NULL;
    }
    med_redis_reply_clear(reply);
    if (bad)
        return med_err_set(err, MED_ERR_IO, MED_R_INFRA_REDIS_ERROR, NULL,
                           "dedup claim script: unexpected reply");
    return MED_OK;
}

med_rc a_store_dedup_claim(med_redis *r, const char *key, const uint8_t *expected,
                           size_t expected_len, const a_dedup_record *rec, int64_t ttl_ms,
                           int *claimed, uint8_t **current, size_t *current_len, med_err *err)
{
    *claimed = 0;
    *current = NULL;
    *current_len = 0;
    if (!r)
        return med_err_set(err, MED_ERR_UNAVAILABLE, MED_R_INFRA_REDIS_UNAVAILABLE, NULL,
                           "no redis connection");
    uint8_t *buf = NULL;
    size_t len = 0;
    if (rec) {
        med_rc rc = a_dedup_record_encode(rec, &buf, &len, err);
        if (rc != MED_OK) return rc;
    }
    char ttl[24];
    snprintf(ttl, sizeof ttl, "%lld", (long long)(ttl_ms > 0 ? ttl_ms : 1));
    const void *args[3] = { expected ? (const void *)expected : "", buf ? (const void *)buf : "",
                            ttl };
    size_t lens[3] = { expected ? expected_len : 0, len, strlen(ttl) };
    med_redis_reply reply;
    med_rc rc = med_redis_eval(r, A_DEDUP_CLAIM_LUA, 1, &key, 3, args, lens, &reply, err);
    free(buf);
    if (rc != MED_OK) return rc;
    return claim_reply(&reply, claimed, current, current_len, err);
}

#define STMT_OPP "a_opportunity_insert"
/* The claim trigger of opportunity_keys raises unique_violation for a key
 * stored before (another created_at): that is duplicate_noop. */
#define SQL_OPP                                                                             \
    "INSERT INTO opportunity_records (tenant_id, app_id, placement_id, opportunity_key, "   \
    "request_key, trace_key, attempt_key, create_opportunity_contract_version, dedup_key, " \
    "result_state, reason_code, resolved_config_snapshot_ref, anchor_hash, "                \
    "created_event_key, created_event_idempotency_key, created_event_status, "              \
    "created_event_attempts, created_event_first_attempt_at, created_event_last_at, "       \
    "created_event_next_at, created_event_payload, payload) "                               \
    "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,'received',$10,$11,$12,$13,$14,$15,1,"              \
    "to_timestamp($16::bigint / 1000.0), to_timestamp($16::bigint / 1000.0), "              \
    "to_timestamp($17::bigint / 1000.0), decode($18, 'hex'), $19::jsonb) "                  \
    "ON CONFLICT DO NOTHING"

#define STMT_OPP_MANY "a_opportunity_insert_many"
#define SQL_OPP_MANY                                                                        \
    "INSERT INTO opportunity_records (tenant_id, app_id, placement_id, opportunity_key, "   \
    "request_key, trace_key, attempt_key, create_opportunity_contract_version, dedup_key, " \
    "result_state, reason_code, resolved_config_snapshot_ref, anchor_hash, "                \
    "created_event_key, created_event_idempotency_key, created_event_status, "              \
    "created_event_attempts, created_event_first_attempt_at, created_event_last_at, "       \
    "created_event_next_at, created_event_payload, payload) "                               \
    "SELECT r.tenant_id, r.app_id, r.placement_id, r.opportunity_key, r.request_key, "      \
    "r.trace_key, r.attempt_key, r.contract_version, r.dedup_key, 'received', "             \
    "r.reason_code, r.resolved_config_ref, r.anchor_hash, r.event_key, "                    \
    "r.event_idempotency_key, r.event_status, 1, to_timestamp(r.event_first_ms / 1000.0), " \
    "to_timestamp(r.event_first_ms / 1000.0), to_timestamp(r.event_next_ms / 1000.0), "     \
    "decode(r.event_payload, 'hex'), r.payload "                                            \
    "FROM jsonb_to_recordset($1::jsonb) AS r(tenant_id text, app_id text, "                 \
    "placement_id text, opportunity_key text, request_key text, trace_key text, "           \
    "attempt_key text, contract_version text, dedup_key text, reason_code text, "           \
    "resolved_config_ref text, anchor_hash text, event_key text, "                          \
    "event_idempotency_key text, event_status text, event_first_ms bigint, "                \
    "event_next_ms bigint, event_payload text, payload jsonb) "                             \
    "ON CONFLICT DO NOTHING RETURNING opportunity_key"

med_rc a_store_prepare(med_pg *pg, med_err *err)
{
    med_rc rc = med_pg_prepare(pg, STMT_OPP, SQL_OPP, 19, err);
    if (rc == MED_OK) rc = med_pg_prepare(pg, STMT_OPP_MANY, SQL_OPP_MANY, 1, err);
    return rc;
}

typedef struct insert_q {
    const a_store_opportunity *o;
    int created;
} insert_q;

static med_rc insert_tx(med_pg *pg, PGconn *conn, void *ud, med_err *err)
{
    insert_q *q = ud;
    const a_store_opportunity *o = q->o;
    char first[24], next[24];
    snprintf(first, sizeof first, "%lld", (long long)o->event_first_ms);
    snprintf(next, sizeof next, "%lld", (long long)o->event_next_ms);
    const char *p[19] = { o->tenant_id, o->app_id, o->placement_id, o->opportunity_key,
                          o->request_key, o->trace_key, o->attempt_key, o->contract_version,
                          o->dedup_key, o->reason_code, o->resolved_config_ref, o->anchor_hash,
                          o->event_key, o->event_idempotency_key, o->event_status, first, next,
                          o->event_payload_hex ? o->event_payload_hex : "",
                          o->payload_json ? o->payload_json : "{}" };
    med_err ierr;
    med_err_clear(&ierr);
    PGresult *res = med_pg_exec_prepared(pg, STMT_OPP, 19, p, &ierr);
    if (!res) {
        if (ierr.rc == MED_ERR_CONFLICT) {
            q->created = 0;
            return MED_ERR_CONFLICT;
        }
        *err = ierr;
        return ierr.rc;
    }
    med_rc rc = med_pg_result_err(res, conn, err);
    if (rc == MED_OK) q->created = atoi(PQcmdTuples(res)) > 0;
    PQclear(res);
    return rc;
}

med_rc a_store_opportunity_insert(med_pg *pg, const a_store_opportunity *o, int *created,
                                  med_err *err)
{
    insert_q q = { o, 0 };
    med_rc rc = med_pg_tx(pg, o->tenant_id, 0, insert_tx, &q, err);
    if (rc == MED_ERR_CONFLICT) {
        /* The claim refused the key: stored before, row untouched. */
        *created = 0;
        return MED_OK;
    }
    *created = q.created;
    return rc;
}

static json_t *row_json(const a_store_opportunity *o)
{
    json_error_t je;
    json_t *j = json_object(), *payload = json_loads(o->payload_json ? o->payload_json : "{}", 0, &je);
    int bad = !j || !payload || med_rows_put(j, "tenant_id", o->tenant_id) || med_rows_put(j, "app_id", o->app_id) ||
              med_rows_put(j, "placement_id", o->placement_id) ||
              med_rows_put(j, "opportunity_key", o->opportunity_key) ||
              med_rows_put(j, "request_key", o->request_key) || med_rows_put(j, "trace_key", o->trace_key) ||
              med_rows_put(j, "attempt_key", o->attempt_key) ||
              med_rows_put(j, "contract_version", o->contract_version) ||
              med_rows_put(j, "dedup_key", o->dedup_key) || med_rows_put(j, "reason_code", o->reason_code) ||
              med_rows_put(j, "resolved_config_ref", o->resolved_config_ref) ||
              med_rows_put(j, "anchor_hash", o->anchor_hash) || med_rows_put(j, "event_key", o->event_key) ||
              med_rows_put(j, "event_idempotency_key", o->event_idempotency_key) ||
              med_rows_put(j, "event_status", o->event_status) ||
              json_object_set_new(j, "event_first_ms", json_integer(o->event_first_ms)) ||
              json_object_set_new(j, "event_next_ms", json_integer(o->event_next_ms)) ||
              med_rows_put(j, "event_payload", o->event_payload_hex ? o->event_payload_hex : "");
    if (!bad && json_object_set_new(j, "payload", payload) == 0) return j;
    if (bad) json_decref(payload);
    json_decref(j);
    return NULL;
}

typedef struct many_q {
    const char *json;
    a_store_opportunity *const *rows;
    size_t n;
    int *created;
} many_q;

static med_rc many_tx(med_pg *pg, PGconn *conn, void *ud, med_err *err)
{
    many_q *q = ud;
    const char *p[1] = { q->json };
    PGresult *res = med_pg_exec_prepared(pg, STMT_OPP_MANY, 1, p, err);
    if (!res) return err->rc;
    med_rc rc = med_pg_result_err(res, conn, err);
    for (size_t i = 0; rc == MED_OK && i < q->n; i++) {
        q->created[i] = 0;
        for (int t = 0; t < PQntuples(res); t++)
            if (strcmp(PQgetvalue(res, t, 0), q->rows[i]->opportunity_key) == 0) q->created[i] = 1;
    }
    PQclear(res);
    return rc;
}

med_rc a_store_opportunity_insert_many(med_pg *pg, a_store_opportunity *const *rows, size_t n,
                                       int *created, med_err *err)
{
    if (n == 0) return MED_OK;
    if (n == 1) return a_store_opportunity_insert(pg, rows[0], &created[0], err);
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        json_t *o = row_json(rows[i]);
        if (!o || json_array_append_new(arr, o) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    char *text = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    if (!text) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "opportunity rows");
    many_q q = { text, rows, n, created };
    med_err e;
    med_err_clear(&e);
    med_rc rc = med_pg_tx(pg, rows[0]->tenant_id, 0, many_tx, &q, &e);
    free(text);
    if (rc != MED_ERR_CONFLICT) {
        if (rc != MED_OK) *err = e;
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        rc = a_store_opportunity_insert(pg, rows[i], &created[i], err);
        if (rc != MED_OK) return rc;
    }
    return MED_OK;
}
