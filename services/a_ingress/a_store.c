#include "a_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "a_dedup_lua.h"
#include "med/reason.h"
#include "med/pg_array.h"

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

static med_rc no_redis(med_err *err)
{
    return med_err_set(err, MED_ERR_UNAVAILABLE, MED_R_INFRA_REDIS_UNAVAILABLE, NULL,
                       "no redis connection");
}

/* The alias bytes for med_redis_eval; *buf NULL (and 0 keys added) when
 * there is no alias. */
static med_rc alias_bytes(const a_store_alias *alias, uint8_t **buf, size_t *len, med_err *err)
{
    *buf = NULL;
    *len = 0;
    if (!alias || !alias->key || !alias->alias_of) return MED_OK;
    return a_dedup_alias_encode(alias->alias_of, buf, len, err);
}

med_rc a_store_dedup_claim(med_redis *r, const char *key, const uint8_t *expected,
                           size_t expected_len, const a_dedup_record *rec, int64_t ttl_ms,
                           int *claimed, uint8_t **current, size_t *current_len, med_err *err)
{
    return a_store_dedup_claim_aliased(r, key, NULL, expected, expected_len, rec, ttl_ms, claimed,
                                       current, current_len, err);
}

static void ttl_text(int64_t ttl_ms, char *out, size_t cap)
{
    snprintf(out, cap, "%lld", (long long)(ttl_ms > 0 ? ttl_ms : 1));
}

med_rc a_store_dedup_claim_aliased(med_redis *r, const char *key, const a_store_alias *alias,
                                   const uint8_t *expected, size_t expected_len,
                                   const a_dedup_record *rec, int64_t ttl_ms, int *claimed,
                                   uint8_t **current, size_t *current_len, med_err *err)
{
    *claimed = 0;
    *current = NULL;
    *current_len = 0;
    if (!r) return no_redis(err);
    uint8_t *buf = NULL, *abuf = NULL;
    size_t len = 0, alen = 0;
    med_rc rc = rec ? a_dedup_record_encode(rec, &buf, &len, err) : MED_OK;
    if (rc == MED_OK && rec) rc = alias_bytes(alias, &abuf, &alen, err);
    if (rc != MED_OK) {
        free(buf);
        return rc;
    }
    char ttl[24];
    ttl_text(ttl_ms, ttl, sizeof ttl);
    const char *keys[2] = { key, abuf ? alias->key : NULL };
    const void *args[4] = { expected ? (const void *)expected : "", buf ? (const void *)buf : "",
                            ttl, abuf };
    size_t lens[4] = { expected ? expected_len : 0, len, strlen(ttl), alen };
    med_redis_reply reply;
    rc = med_redis_eval(r, A_DEDUP_CLAIM_LUA, abuf ? 2 : 1, keys, abuf ? 4 : 3, args, lens,
                        &reply, err);
    free(buf);
    free(abuf);
    if (rc != MED_OK) return rc;
    return claim_reply(&reply, claimed, current, current_len, err);
}

med_rc a_store_dedup_put_aliased(med_redis *r, const char *key, const a_store_alias *alias,
                                 const a_dedup_record *rec, int64_t ttl_ms, med_err *err)
{
    if (!r) return no_redis(err);
    uint8_t *buf = NULL, *abuf = NULL;
    size_t len = 0, alen = 0;
    med_rc rc = a_dedup_record_encode(rec, &buf, &len, err);
    if (rc == MED_OK) rc = alias_bytes(alias, &abuf, &alen, err);
    if (rc == MED_OK) {
        char ttl[24];
        ttl_text(ttl_ms, ttl, sizeof ttl);
        const char *keys[2] = { key, abuf ? alias->key : NULL };
        const void *args[3] = { buf, ttl, abuf };
        size_t lens[3] = { len, strlen(ttl), alen };
        med_redis_reply reply;
        rc = med_redis_eval(r, A_DEDUP_PUT_LUA, abuf ? 2 : 1, keys, abuf ? 3 : 2, args, lens,
                            &reply, err);
        if (rc == MED_OK) med_redis_reply_clear(&reply);
    }
    free(buf);
    free(abuf);
    return rc;
}

med_rc a_store_dedup_delete_aliased(med_redis *r, const char *key, const a_store_alias *alias,
                                    med_err *err)
{
    if (!r) return MED_OK;
    uint8_t *abuf = NULL;
    size_t alen = 0;
    med_rc rc = alias_bytes(alias, &abuf, &alen, err);
    if (rc != MED_OK) return rc;
    const char *keys[2] = { key, abuf ? alias->key : NULL };
    const void *args[1] = { abuf };
    size_t lens[1] = { alen };
    med_redis_reply reply;
    rc = med_redis_eval(r, A_DEDUP_DELETE_LUA, abuf ? 2 : 1, keys, abuf ? 1 : 0, args, lens,
                        &reply, err);
    if (rc == MED_OK) med_redis_reply_clear(&reply);
    free(abuf);
    return rc;
}

med_rc a_store_dedup_read(med_redis *r, const char *key, uint8_t **bytes, size_t *len,
                          med_err *err)
{
    *bytes = NULL;
    *len = 0;
    if (!r) return no_redis(err);
    med_rc rc = med_redis_get(r, key, bytes, len, err);
    if (rc == MED_ERR_NOT_FOUND) {
        med_err_clear(err);
        return MED_OK;
    }
    return rc;
}

/* One statement for one row or a batch (prepared once): every column a
 * binary array unnested in step, so neither side escapes or parses a
 * document per row. The claim trigger of opportunity_keys raises
 * unique_violation for a key stored before (another created_at): that is
 * duplicate_noop. */
#define STMT_OPP_MANY "a_opportunity_insert_many"
#define N_TEXT 15
#define N_COLS (N_TEXT + 4)
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
    "r.event_payload, r.payload::jsonb "                                                    \
    "FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], "  \
    "$7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], "           \
    "$13::text[], $14::text[], $15::text[], $16::int8[], $17::int8[], $18::bytea[], "       \
    "$19::text[]) AS r(tenant_id, app_id, placement_id, opportunity_key, request_key, "     \
    "trace_key, attempt_key, contract_version, dedup_key, reason_code, "                    \
    "resolved_config_ref, anchor_hash, event_key, event_idempotency_key, event_status, "    \
    "event_first_ms, event_next_ms, event_payload, payload) "                               \
    "ON CONFLICT DO NOTHING RETURNING opportunity_key"

med_rc a_store_prepare(med_pg *pg, med_err *err)
{
    return med_pg_prepare(pg, STMT_OPP_MANY, SQL_OPP_MANY, N_COLS, err);
}

static void row_add(med_pg_cols *c, const a_store_opportunity *o)
{
    const char *t[N_TEXT] = {
        o->tenant_id, o->app_id, o->placement_id, o->opportunity_key, o->request_key,
        o->trace_key, o->attempt_key, o->contract_version, o->dedup_key, o->reason_code,
        o->resolved_config_ref, o->anchor_hash, o->event_key, o->event_idempotency_key,
        o->event_status,
    };
    for (int k = 0; k < N_TEXT; k++) med_pg_array_add_str(&c->col[k], t[k]);
    med_pg_array_add_int8(&c->col[N_TEXT], o->event_first_ms);
    med_pg_array_add_int8(&c->col[N_TEXT + 1], o->event_next_ms);
    med_pg_array_add(&c->col[N_TEXT + 2], o->event_payload ? (const void *)o->event_payload : "",
                     o->event_payload ? o->event_payload_len : 0);
    med_pg_array_add_str(&c->col[N_TEXT + 3], o->payload_json ? o->payload_json : "{}");
}

static med_rc columns_build(med_pg_cols *c, const a_store_opportunity *const *rows, size_t n,
                            med_err *err)
{
    uint32_t oids[N_COLS];
    for (int k = 0; k < N_TEXT; k++) oids[k] = MED_PG_OID_TEXT;
    oids[N_TEXT] = oids[N_TEXT + 1] = MED_PG_OID_INT8;
    oids[N_TEXT + 2] = MED_PG_OID_BYTEA;
    oids[N_TEXT + 3] = MED_PG_OID_TEXT;
    med_pg_cols_init(c, oids, N_COLS);
    for (size_t i = 0; i < n; i++) row_add(c, rows[i]);
    return med_pg_cols_finish(c, err);
}

typedef struct many_q {
    med_pg_cols cols;
    const a_store_opportunity *const *rows;
    size_t n;
    int *created;
} many_q;

static med_rc many_tx(med_pg *pg, PGconn *conn, void *ud, med_err *err)
{
    many_q *q = ud;
    PGresult *res = med_pg_exec_cols(pg, STMT_OPP_MANY, &q->cols, err);
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

/* MED_ERR_CONFLICT: the claim refused a key of these rows (stored before). */
static med_rc insert_rows(med_pg *pg, const a_store_opportunity *const *rows, size_t n,
                          int *created, med_err *err)
{
    many_q q = { .rows = rows, .n = n, .created = created };
    med_rc rc = columns_build(&q.cols, rows, n, err);
    if (rc == MED_OK) rc = med_pg_tx(pg, rows[0]->tenant_id, 0, many_tx, &q, err);
    med_pg_cols_free(&q.cols);
    return rc;
}

med_rc a_store_opportunity_insert(med_pg *pg, const a_store_opportunity *o, int *created,
                                  med_err *err)
{
    med_err e;
    med_err_clear(&e);
    med_rc rc = insert_rows(pg, &o, 1, created, &e);
    if (rc == MED_ERR_CONFLICT) {
        /* The claim refused the key: stored before, row untouched. */
        *created = 0;
        return MED_OK;
    }
    if (rc != MED_OK) *err = e;
    return rc;
}

med_rc a_store_opportunity_insert_many(med_pg *pg, a_store_opportunity *const *rows, size_t n,
                                       int *created, med_err *err)
{
    if (n == 0) return MED_OK;
    med_err e;
    med_err_clear(&e);
    med_rc rc = insert_rows(pg, (const a_store_opportunity *const *)rows, n, created, &e);
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
