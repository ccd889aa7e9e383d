#include "e_store.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "med/b64url.h"
#include "med/ids.h"
#include "med/reason.h"
#include "med/rows.h"

#define SQL_LOAD "e_load_delivery"
#define SQL_CLAIM_MANY "e_claim_delivery_keys"
#define SQL_INSERT_MANY "e_insert_deliveries"

med_rc e_store_prepare(med_pg *pg, med_err *err)
{
    med_rc rc = MED_OK;
    if (rc == MED_OK)
        rc = med_pg_prepare(pg, SQL_CLAIM_MANY,
            "INSERT INTO delivery_keys (response_reference, tenant_id, delivery_status, created_at) "
            "SELECT r.response_reference, r.tenant_id, r.delivery_status, now() "
            "FROM jsonb_to_recordset($1::jsonb) AS r(response_reference text, tenant_id text, "
            "delivery_status text) ON CONFLICT DO NOTHING RETURNING response_reference", 1, err);
    if (rc == MED_OK)
        rc = med_pg_prepare(pg, SQL_INSERT_MANY,
            "INSERT INTO delivery_records (tenant_id, app_id, placement_id, response_reference, "
            "render_attempt_id, trace_key, request_key, attempt_key, opportunity_key, delivery_status, "
            "final_reason_code, render_mode, source_id, expire_at, anchor_hash, payload, created_at) "
            "SELECT r.tenant_id, r.app_id, r.placement_id, r.response_reference, NULL, r.trace_key, "
            "r.request_key, r.attempt_key, r.opportunity_key, r.delivery_status, r.final_reason_code, "
            "r.render_mode, r.source_id, r.expire_at::timestamptz, r.anchor_hash, r.payload, now() "
            "FROM jsonb_to_recordset($1::jsonb) AS r(tenant_id text, app_id text, placement_id text, "
            "response_reference text, trace_key text, request_key text, attempt_key text, "
            "opportunity_key text, delivery_status text, final_reason_code text, render_mode text, "
            "source_id text, expire_at text, anchor_hash text, payload jsonb)", 1, err);
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
    /* the price F bills when it reads this row before the Delivery message */
    const Mediation__V1__AuctionDecisionLite *ad = o->in.d ? o->in.d->auction_decision_lite : NULL;
    int priced = strcmp(o->dec.status, "served") == 0 && ad && ad->price;
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s}", "deliveryPb", b64,
                          "deliveryStatus", o->dec.status, "finalReasonCode", o->dec.final_code,
                          "composeSource", o->compose_source, "rawReasonCode", o->dec.raw,
                          "winnerPriceMicros", (json_int_t)(priced ? ad->price->value_micros : 0),
                          "winnerCurrency",
                          priced && ad->price->currency ? ad->price->currency : "");
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

static json_t *record_json(const e_store_row *row, const char *payload)
{
    const e_outcome *o = row->outcome;
    char expire[32];
    med_format_utc_ms(o->ttl.expire_at_ms, expire, sizeof expire);
    const char *source = o->container.mode != E_MODE_NONE && o->in.winner ? o->in.winner->source_id : NULL;
    json_error_t je;
    json_t *j = json_object(), *p = json_loads(payload, 0, &je);
    int bad = !j || !p || med_rows_put(j, "tenant_id", row->tenant_id) ||
              med_rows_put(j, "app_id", row->app_id ? row->app_id : "") ||
              med_rows_put(j, "placement_id", row->placement_id ? row->placement_id : "") ||
              med_rows_put(j, "response_reference", o->response_reference) ||
              med_rows_put(j, "trace_key", o->keys.trace_key) || med_rows_put(j, "request_key", o->keys.request_key) ||
              med_rows_put(j, "attempt_key", na_null(o->keys.attempt_key)) ||
              med_rows_put(j, "opportunity_key", o->keys.opportunity_key) ||
              med_rows_put(j, "delivery_status", o->dec.status) ||
              med_rows_put(j, "final_reason_code", o->dec.final_code) ||
              med_rows_put(j, "render_mode", e_mode_name(o->container.mode)) || med_rows_put(j, "source_id", source) ||
              med_rows_put(j, "expire_at", expire) || med_rows_put(j, "anchor_hash", na_null(row->anchor_hash));
    if (!bad && json_object_set_new(j, "payload", p) == 0) return j;
    if (bad) json_decref(p);
    json_decref(j);
    return NULL;
}

typedef struct many_ctx {
    const e_store_row *const *rows;
    char **payloads;
    size_t n;
    uint8_t **stored;
    size_t *stored_len;
} many_ctx;

static char *claims_json(const many_ctx *c)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < c->n; i++) {
        const e_outcome *o = c->rows[i]->outcome;
        json_t *j = json_pack("{s:s, s:s, s:s}", "response_reference", o->response_reference,
                              "tenant_id", c->rows[i]->tenant_id, "delivery_status", o->dec.status);
        if (!j || json_array_append_new(arr, j) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    char *t = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    return t;
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
    json_t *arr = json_array();
    med_rc rc = arr ? MED_OK : med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "rows");
    for (size_t i = 0; rc == MED_OK && i < c->n; i++) {
        const char *ref = c->rows[i]->outcome->response_reference;
        if (!claimed(won, ref)) {
            rc = load_in_tx(pg, ref, &c->stored[i], &c->stored_len[i], err);
            if (rc == MED_ERR_NOT_FOUND)
                rc = med_err_set(err, MED_ERR_CONFLICT, MED_R_INFRA_PG_CONFLICT, NULL,
                                 "responseReference claimed without a readable row");
            continue;
        }
        json_t *j = record_json(c->rows[i], c->payloads[i]);
        if (!j || json_array_append_new(arr, j) != 0)
            rc = med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "rows");
    }
    char *text = rc == MED_OK && json_array_size(arr) > 0 ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    if (rc != MED_OK || !text) return rc;
    const char *v[1] = { text };
    PGresult *res = med_pg_exec_prepared(pg, SQL_INSERT_MANY, 1, v, err);
    free(text);
    if (!res) return err->rc ? err->rc : MED_ERR_IO;
    PQclear(res);
    return MED_OK;
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
    char *claims = claims_json(c);
    if (!claims) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "claims");
    const char *v[1] = { claims };
    PGresult *won = med_pg_exec_prepared(pg, SQL_CLAIM_MANY, 1, v, err);
    free(claims);
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
