#include "e_store.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "med/b64url.h"
#include "med/ids.h"
#include "med/reason.h"
#include "med/pg_array.h"

#define SQL_LOAD "e_load_delivery"
#define SQL_CLAIM_MANY "e_claim_delivery_keys"
#define SQL_INSERT_MANY "e_insert_deliveries"
#define INSERT_TEXT_COLS 15
#define INSERT_COLS (INSERT_TEXT_COLS + 1)

med_rc e_store_prepare(med_pg *pg, med_err *err)
{
    med_rc rc = MED_OK;
    if (rc == MED_OK)
        rc = med_pg_prepare(pg, SQL_CLAIM_MANY,
            "INSERT INTO delivery_keys (response_reference, tenant_id, delivery_status, created_at) "
            "SELECT r.response_reference, r.tenant_id, r.delivery_status, now() "
            "FROM unnest($1::text[], $2::text[], $3::text[]) AS r(response_reference, tenant_id, "
            "delivery_status) ON CONFLICT DO NOTHING RETURNING response_reference", 3, err);
    if (rc == MED_OK)
        rc = med_pg_prepare(pg, SQL_INSERT_MANY,
            "INSERT INTO delivery_records (tenant_id, app_id, placement_id, response_reference, "
            "render_attempt_id, trace_key, request_key, attempt_key, opportunity_key, delivery_status, "
            "final_reason_code, render_mode, source_id, expire_at, anchor_hash, payload, delivery_pb, "
            "created_at) "
            "SELECT r.tenant_id, r.app_id, r.placement_id, r.response_reference, NULL, r.trace_key, "
            "r.request_key, r.attempt_key, r.opportunity_key, r.delivery_status, r.final_reason_code, "
            "r.render_mode, r.source_id, r.expire_at::timestamptz, r.anchor_hash, r.payload::jsonb, "
            "r.delivery_pb, now() "
            "FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], "
            "$7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], "
            "$14::text[], $15::text[], $16::bytea[]) AS r(tenant_id, app_id, placement_id, "
            "response_reference, trace_key, request_key, attempt_key, opportunity_key, "
            "delivery_status, final_reason_code, render_mode, source_id, expire_at, anchor_hash, "
            "payload, delivery_pb)", INSERT_COLS, err);
    if (rc == MED_OK)
        rc = med_pg_prepare(pg, SQL_LOAD,
            "SELECT med_delivery_pb_b64url(delivery_pb, payload) FROM delivery_records "
            "WHERE response_reference = $1 "
            "ORDER BY created_at LIMIT 1", 1, err);
    return rc;
}

/* payload: what a human (or F, for the price it bills when it reads this
 * row before the Delivery message) reads first; the Delivery itself is the
 * delivery_pb column. */
static char *payload_json(const e_store_row *row, med_err *err)
{
    const e_outcome *o = row->outcome;
    const Mediation__V1__AuctionDecisionLite *ad = o->in.d ? o->in.d->auction_decision_lite : NULL;
    int priced = strcmp(o->dec.status, "served") == 0 && ad && ad->price;
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s}",
                          "deliveryStatus", o->dec.status, "finalReasonCode", o->dec.final_code,
                          "composeSource", o->compose_source, "rawReasonCode", o->dec.raw,
                          "winnerPriceMicros", (json_int_t)(priced ? ad->price->value_micros : 0),
                          "winnerCurrency",
                          priced && ad->price->currency ? ad->price->currency : "");
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

/* ---- a batch: one claim and one insert statement per tenant ---- */

/* One row's columns, in the insert's order; the strings must outlive the
 * call (expire is the caller's buffer). */
static void row_add(med_pg_cols *c, const e_store_row *row, const char *payload, char *expire)
{
    const e_outcome *o = row->outcome;
    med_format_utc_ms(o->ttl.expire_at_ms, expire, 32);
    const char *source = o->container.mode != E_MODE_NONE && o->in.winner ? o->in.winner->source_id : NULL;
    const char *t[INSERT_TEXT_COLS] = {
        row->tenant_id, row->app_id ? row->app_id : "", row->placement_id ? row->placement_id : "",
        o->response_reference, o->keys.trace_key, o->keys.request_key, na_null(o->keys.attempt_key),
        o->keys.opportunity_key, o->dec.status, o->dec.final_code, e_mode_name(o->container.mode),
        source, expire, na_null(row->anchor_hash), payload,
    };
    for (int k = 0; k < INSERT_TEXT_COLS; k++) med_pg_array_add_str(&c->col[k], t[k]);
    med_pg_array_add(&c->col[INSERT_TEXT_COLS], row->delivery, row->delivery_len);
}

typedef struct many_ctx {
    const e_store_row *const *rows;
    char **payloads;
    size_t n;
    uint8_t **stored;
    size_t *stored_len;
} many_ctx;

static med_rc claims_build(med_pg_cols *cols, const many_ctx *c, med_err *err)
{
    const uint32_t oids[3] = { MED_PG_OID_TEXT, MED_PG_OID_TEXT, MED_PG_OID_TEXT };
    med_pg_cols_init(cols, oids, 3);
    for (size_t i = 0; i < c->n; i++) {
        const e_outcome *o = c->rows[i]->outcome;
        med_pg_array_add_str(&cols->col[0], o->response_reference);
        med_pg_array_add_str(&cols->col[1], c->rows[i]->tenant_id);
        med_pg_array_add_str(&cols->col[2], o->dec.status);
    }
    return med_pg_cols_finish(cols, err);
}

static int claimed(const PGresult *res, const char *ref)
{
    for (int t = 0; t < PQntuples(res); t++)
        if (strcmp(PQgetvalue(res, t, 0), ref) == 0) return 1;
    return 0;
}

/* Inserts the rows whose claim this batch won; the others load theirs. */
static med_rc insert_winners(med_pg *pg, many_ctx *c, const PGresult *won, med_err *err)
{
    uint32_t oids[INSERT_COLS];
    for (int k = 0; k < INSERT_TEXT_COLS; k++) oids[k] = MED_PG_OID_TEXT;
    oids[INSERT_TEXT_COLS] = MED_PG_OID_BYTEA;
    med_pg_cols cols;
    med_pg_cols_init(&cols, oids, INSERT_COLS);
    char (*expire)[32] = calloc(c->n, sizeof *expire);
    med_rc rc = expire ? MED_OK : med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "rows");
    size_t winners = 0;
    for (size_t i = 0; rc == MED_OK && i < c->n; i++) {
        const char *ref = c->rows[i]->outcome->response_reference;
        if (!claimed(won, ref)) {
            rc = load_in_tx(pg, ref, &c->stored[i], &c->stored_len[i], err);
            if (rc == MED_ERR_NOT_FOUND)
                rc = med_err_set(err, MED_ERR_CONFLICT, MED_R_INFRA_PG_CONFLICT, NULL,
                                 "responseReference claimed without a readable row");
            continue;
        }
        row_add(&cols, c->rows[i], c->payloads[i], expire[i]);
        winners++;
    }
    if (rc == MED_OK && winners > 0) rc = med_pg_cols_finish(&cols, err);
    if (rc == MED_OK && winners > 0) {
        PGresult *res = med_pg_exec_cols(pg, SQL_INSERT_MANY, &cols, err);
        if (!res) rc = err->rc ? err->rc : MED_ERR_IO;
        PQclear(res);
    }
    med_pg_cols_free(&cols);
    free(expire);
    return rc;
}

static med_rc many_body(med_pg *pg, PGconn *conn, void *ud, med_err *err)
{
    (void)conn;
    many_ctx *c = ud;
    for (size_t i = 0; i < c->n; i++) {
        free(c->stored[i]);
        c->stored[i] = NULL;
        c->stored_len[i] = 0;
    }
    med_pg_cols claims;
    med_rc crc = claims_build(&claims, c, err);
    PGresult *won = crc == MED_OK ? med_pg_exec_cols(pg, SQL_CLAIM_MANY, &claims, err) : NULL;
    med_pg_cols_free(&claims);
    if (crc != MED_OK) return crc;
    if (!won) return err->rc ? err->rc : MED_ERR_IO;
    med_rc rc = insert_winners(pg, c, won, err);
    PQclear(won);
    return rc;
}

med_rc e_store_save_many(med_pg *pg, const e_store_row *const *rows, size_t n, uint8_t **stored,
                         size_t *stored_len, med_err *err)
{
    if (n == 0) return MED_OK;
    char **payloads = calloc(n, sizeof *payloads);
    med_rc rc = payloads ? MED_OK : med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "payloads");
    for (size_t i = 0; rc == MED_OK && i < n; i++) {
        stored[i] = NULL;
        stored_len[i] = 0;
        payloads[i] = payload_json(rows[i], err);
        if (!payloads[i]) rc = MED_ERR_NOMEM;
    }
    if (rc == MED_OK) {
        many_ctx c = { rows, payloads, n, stored, stored_len };
        rc = med_pg_tx(pg, rows[0]->tenant_id, 0, many_body, &c, err);
    }
    for (size_t i = 0; payloads && i < n; i++) free(payloads[i]);
    free(payloads);
    if (rc != MED_OK)
        for (size_t i = 0; i < n; i++) {
            free(stored[i]);
            stored[i] = NULL;
        }
    return rc;
}
