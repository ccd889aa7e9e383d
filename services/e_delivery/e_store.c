#include "e_store.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "med/b64url.h"
#include "med/ids.h"
#include "med/reason.h"

#define SQL_CLAIM "e_claim_delivery_key"
#define SQL_INSERT "e_insert_delivery"
#define SQL_LOAD "e_load_delivery"

med_rc e_store_prepare(med_pg *pg, med_err *err)
{
    med_rc rc = med_pg_prepare(pg, SQL_CLAIM,
        "INSERT INTO delivery_keys (response_reference, tenant_id, delivery_status, created_at) "
        "VALUES ($1, $2, $3, now()) ON CONFLICT DO NOTHING RETURNING response_reference", 3, err);
    if (rc == MED_OK)
        rc = med_pg_prepare(pg, SQL_INSERT,
            "INSERT INTO delivery_records (tenant_id, app_id, placement_id, response_reference, "
            "render_attempt_id, trace_key, request_key, attempt_key, opportunity_key, delivery_status, "
            "final_reason_code, render_mode, source_id, expire_at, anchor_hash, payload, created_at) "
            "VALUES ($1, $2, $3, $4, NULL, $5, $6, $7, $8, $9, $10, $11, $12, $13::timestamptz, $14, "
            "$15::jsonb, now())", 15, err);
    if (rc == MED_OK)
        rc = med_pg_prepare(pg, SQL_LOAD,
            "SELECT payload->>'deliveryPb' FROM delivery_records WHERE response_reference = $1 "
            "ORDER BY created_at LIMIT 1", 1, err);
    return rc;
}

/* payload: the packed Delivery plus the fields a human reads first. */
static char *payload_json(const e_store_row *row, med_err *err)
{
    size_t cap = med_b64url_encoded_len(row->delivery_len) + 1;
    char *b64 = malloc(cap);
    if (!b64 || med_b64url_encode(row->delivery, row->delivery_len, b64, cap) < 0) {
        free(b64);
        med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "delivery payload");
        return NULL;
    }
    const e_outcome *o = row->outcome;
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s}", "deliveryPb", b64, "deliveryStatus",
                          o->dec.status, "finalReasonCode", o->dec.final_code, "composeSource",
                          o->compose_source, "rawReasonCode", o->dec.raw);
    free(b64);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text) med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "delivery payload");
    return text;
}

static const char *na_null(const char *s)
{
    return !s || !*s || strcmp(s, E_NA) == 0 ? NULL : s;
}

static med_rc decode_stored(const char *b64, uint8_t **out, size_t *out_len, med_err *err)
{
    size_t n = strlen(b64);
    uint8_t *buf = malloc(med_b64url_decoded_max(n) + 1);
    if (!buf) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "stored delivery");
    long got = med_b64url_decode(b64, n, buf, med_b64url_decoded_max(n) + 1);
    if (got < 0) {
        free(buf);
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_PG_INVALID, "payload.deliveryPb",
                           "stored Delivery is not base64url");
    }
    *out = buf;
    *out_len = (size_t)got;
    return MED_OK;
}

static med_rc load_in_tx(med_pg *pg, const char *ref, uint8_t **stored, size_t *stored_len,
                         med_err *err)
{
    const char *v[1] = { ref };
    PGresult *res = med_pg_exec_prepared(pg, SQL_LOAD, 1, v, err);
    if (!res) return err->rc ? err->rc : MED_ERR_IO;
    med_rc rc;
    if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0))
        rc = med_err_set(err, MED_ERR_NOT_FOUND, MED_R_INFRA_KEY_NOT_FOUND, NULL,
                         "no stored delivery for %s", ref);
    else
        rc = decode_stored(PQgetvalue(res, 0, 0), stored, stored_len, err);
    PQclear(res);
    return rc;
}

typedef struct save_ctx {
    const e_store_row *row;
    const char *payload;
    uint8_t **stored;
    size_t *stored_len;
} save_ctx;

static med_rc insert_row(med_pg *pg, const e_store_row *row, const char *payload, med_err *err)
{
    const e_outcome *o = row->outcome;
    char expire[32];
    med_format_utc_ms(o->ttl.expire_at_ms, expire, sizeof expire);
    const char *source = o->container.mode != E_MODE_NONE && o->in.winner ? o->in.winner->source_id : NULL;
    const char *v[15] = {
        row->tenant_id, row->app_id ? row->app_id : "", row->placement_id ? row->placement_id : "",
        o->response_reference, o->keys.trace_key, o->keys.request_key, na_null(o->keys.attempt_key),
        o->keys.opportunity_key, o->dec.status, o->dec.final_code,
        e_mode_name(o->container.mode), source, expire, na_null(row->anchor_hash), payload,
    };
    PGresult *res = med_pg_exec_prepared(pg, SQL_INSERT, 15, v, err);
    if (!res) return err->rc ? err->rc : MED_ERR_IO;
    PQclear(res);
    return MED_OK;
}

static med_rc save_body(med_pg *pg, PGconn *conn, void *ud, med_err *err)
{
    (void)conn;
    save_ctx *c = ud;
    const e_outcome *o = c->row->outcome;
    const char *v[3] = { o->response_reference, c->row->tenant_id, o->dec.status };
    PGresult *res = med_pg_exec_prepared(pg, SQL_CLAIM, 3, v, err);
    if (!res) return err->rc ? err->rc : MED_ERR_IO;
    int won = PQntuples(res) == 1;
    PQclear(res);
    if (won) return insert_row(pg, c->row, c->payload, err);
    med_rc rc = load_in_tx(pg, o->response_reference, c->stored, c->stored_len, err);
    if (rc == MED_ERR_NOT_FOUND) /* claimed by another tenant: never answer across tenants */
        return med_err_set(err, MED_ERR_CONFLICT, MED_R_INFRA_PG_CONFLICT, NULL,
                           "responseReference claimed without a readable row");
    return rc;
}

med_rc e_store_save_or_load(med_pg *pg, const e_store_row *row, uint8_t **stored,
                            size_t *stored_len, med_err *err)
{
    *stored = NULL;
    *stored_len = 0;
    char *payload = payload_json(row, err);
    if (!payload) return MED_ERR_NOMEM;
    save_ctx c = { row, payload, stored, stored_len };
    med_rc rc = med_pg_tx(pg, row->tenant_id, 0, save_body, &c, err);
    free(payload);
    if (rc != MED_OK) {
        free(*stored);
        *stored = NULL;
    }
    return rc;
}

typedef struct load_ctx {
    const char *ref;
    uint8_t **stored;
    size_t *stored_len;
} load_ctx;

static med_rc load_body(med_pg *pg, PGconn *conn, void *ud, med_err *err)
{
    (void)conn;
    load_ctx *c = ud;
    return load_in_tx(pg, c->ref, c->stored, c->stored_len, err);
}

med_rc e_store_load(med_pg *pg, const char *tenant_id, const char *ref, uint8_t **stored,
                    size_t *stored_len, med_err *err)
{
    *stored = NULL;
    *stored_len = 0;
    load_ctx c = { ref, stored, stored_len };
    return med_pg_tx(pg, tenant_id, 0, load_body, &c, err);
}
