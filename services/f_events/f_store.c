/* The outbox row (claim, load, published) and the helpers every f_store
 * file shares. See f_store.h. */
#include "f_store.h"
#include "f_store_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "med/reason.h"

/* ---- helpers ------------------------------------------------------------ */

med_rc f_store_exec(med_pg *pg, const char *stmt, int n, const char *const *vals,
                    PGresult **out, med_err *err)
{
    *out = med_pg_exec_prepared(pg, stmt, n, vals, err);
    if (*out) return MED_OK;
    return err && err->rc != MED_OK ? err->rc : MED_ERR_IO;
}

void f_params_text(f_params *p, const char *s)
{
    if (p->n >= F_PARAMS_MAX) {
        p->overflow = 1;
        return;
    }
    p->v[p->n] = s;
    p->len[p->n] = 0;
    p->fmt[p->n++] = 0;
}

void f_params_bytes(f_params *p, const uint8_t *data, size_t len)
{
    if (p->n >= F_PARAMS_MAX || len > INT32_MAX) {
        p->overflow = 1;
        return;
    }
    /* a present but empty value must not be a NULL pointer (SQL NULL) */
    p->v[p->n] = data ? (len ? (const char *)data : "") : NULL;
    p->len[p->n] = (int)len;
    p->fmt[p->n++] = 1;
}

void f_params_cols(f_params *p, const med_pg_cols *c)
{
    for (int i = 0; i < c->n; i++) {
        if (p->n >= F_PARAMS_MAX) {
            p->overflow = 1;
            return;
        }
        p->v[p->n] = c->values[i];
        p->len[p->n] = c->lengths[i];
        p->fmt[p->n++] = c->formats[i];
    }
}

med_rc f_store_exec_params(med_pg *pg, const char *stmt, const f_params *p, PGresult **out,
                           med_err *err)
{
    *out = NULL;
    if (p->overflow)
        return med_err_set(err, MED_ERR_INTERNAL, MED_R_INFRA_PG_QUERY_FAILED, NULL,
                           "%s: more than %d parameters", stmt, F_PARAMS_MAX);
    *out = med_pg_exec_prepared_bin(pg, stmt, p->n, p->v, p->len, p->fmt, err);
    if (*out) return MED_OK;
    return err && err->rc != MED_OK ? err->rc : MED_ERR_IO;
}

void f_store_add_ms(med_pg_array *a, int64_t ms)
{
    if (ms) med_pg_array_add_int8(a, ms);
    else med_pg_array_add(a, NULL, 0);
}

static int hex_nibble(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int f_store_unhex(const char *hex, uint8_t **out, size_t *len)
{
    size_t n = strlen(hex);
    if (n % 2) return -1;
    uint8_t *buf = malloc(n / 2 + 1);
    if (!buf) return -1;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hex_nibble(hex[2 * i]), lo = hex_nibble(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            free(buf);
            return -1;
        }
        buf[i] = (uint8_t)(hi << 4 | lo);
    }
    *out = buf;
    *len = n / 2;
    return 0;
}

int64_t f_store_int_at(const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col)) return 0;
    return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

char *f_store_str_at(med_arena *a, const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col)) return NULL;
    return med_arena_strdup(a, PQgetvalue(res, row, col));
}

void f_store_epoch_text(int64_t ms, char *out, size_t cap)
{
    snprintf(out, cap, "%" PRId64 ".%03d", ms / 1000, (int)(ms % 1000));
}

void f_outbox_row_free(f_outbox_row *r)
{
    if (!r) return;
    free(r->ack_pb);
    free(r->records_pb);
    free(r->audit_pb);
    r->ack_pb = r->records_pb = r->audit_pb = NULL;
    r->ack_len = r->records_len = r->audit_len = 0;
}

/* ---- statements ----------------------------------------------------------- */

static med_rc prepare_outbox(med_pg *pg, med_err *err)
{
    med_rc rc = med_pg_prepare(pg, F_SQL_OUTBOX_CLAIM,
        "INSERT INTO f_outbox (tenant_id, outbox_key, kind, next_attempt_at) "
        "VALUES ($1, $2, $3, now() + make_interval(secs => $4::float8 / 1000)) "
        "ON CONFLICT DO NOTHING RETURNING 1", 4, err);
    if (rc == MED_OK)
        rc = med_pg_prepare(pg, F_SQL_OUTBOX_LOAD,
            "SELECT kind, coalesce(app_id, ''), coalesce(batch_id, ''), "
            "encode(ack_pb, 'hex'), encode(records_pb, 'hex'), encode(audit_pb, 'hex'), "
            "record_count, published_at IS NOT NULL, attempts, "
            "(extract(epoch FROM first_attempt_at) * 1000)::bigint, "
            "(extract(epoch FROM created_at) * 1000)::bigint "
            "FROM f_outbox WHERE tenant_id = $1 AND outbox_key = $2", 2, err);
    if (rc == MED_OK)
        rc = med_pg_prepare(pg, F_SQL_OUTBOX_PUBLISHED,
            "UPDATE f_outbox SET published_at = now(), updated_at = now() "
            "WHERE tenant_id = $1 AND published_at IS NULL "
            "AND outbox_key = ANY($2::text[])", 2, err);
    return rc;
}

med_rc f_store_prepare(med_pg *pg, med_err *err)
{
    med_rc rc = prepare_outbox(pg, err);
    if (rc == MED_OK) rc = f_store_prepare_load(pg, err);
    if (rc == MED_OK) rc = f_store_prepare_write(pg, err);
    return rc;
}

/* ---- outbox ---------------------------------------------------------------- */

med_rc f_store_outbox_claim(med_pg *pg, const char *tenant_id, const char *key,
                            const char *kind, int *won, med_err *err)
{
    char grace[24];
    snprintf(grace, sizeof grace, "%d", F_OUTBOX_GRACE_MS);
    const char *v[4] = { tenant_id, key, kind, grace };
    PGresult *res = NULL;
    med_rc rc = f_store_exec(pg, F_SQL_OUTBOX_CLAIM, 4, v, &res, err);
    if (rc != MED_OK) return rc;
    *won = PQntuples(res) == 1;
    PQclear(res);
    return MED_OK;
}

static med_rc unhex_column(const PGresult *res, int col, uint8_t **out, size_t *len,
                           med_err *err)
{
    *out = NULL;
    *len = 0;
    if (PQgetisnull(res, 0, col)) return MED_OK;
    if (f_store_unhex(PQgetvalue(res, 0, col), out, len) != 0)
        return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "outbox bytes");
    return MED_OK;
}

med_rc f_store_outbox_load(med_pg *pg, const char *tenant_id, const char *key,
                           f_outbox_row *out, med_err *err)
{
    memset(out, 0, sizeof *out);
    const char *v[2] = { tenant_id, key };
    PGresult *res = NULL;
    med_rc rc = f_store_exec(pg, F_SQL_OUTBOX_LOAD, 2, v, &res, err);
    if (rc != MED_OK) return rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return med_err_set(err, MED_ERR_NOT_FOUND, MED_R_INFRA_KEY_NOT_FOUND, NULL,
                           "no outbox row %s", key);
    }
    snprintf(out->key, sizeof out->key, "%s", key);
    snprintf(out->kind, sizeof out->kind, "%s", PQgetvalue(res, 0, 0));
    snprintf(out->app_id, sizeof out->app_id, "%s", PQgetvalue(res, 0, 1));
    snprintf(out->batch_id, sizeof out->batch_id, "%s", PQgetvalue(res, 0, 2));
    rc = unhex_column(res, 3, &out->ack_pb, &out->ack_len, err);
    if (rc == MED_OK) rc = unhex_column(res, 4, &out->records_pb, &out->records_len, err);
    if (rc == MED_OK) rc = unhex_column(res, 5, &out->audit_pb, &out->audit_len, err);
    out->record_count = (int)f_store_int_at(res, 0, 6);
    out->published = strcmp(PQgetvalue(res, 0, 7), "t") == 0;
    out->attempts = (int)f_store_int_at(res, 0, 8);
    out->first_attempt_at_ms = f_store_int_at(res, 0, 9);
    out->created_at_ms = f_store_int_at(res, 0, 10);
    PQclear(res);
    if (rc != MED_OK) f_outbox_row_free(out);
    return rc;
}

med_rc f_store_outbox_mark_published(med_pg *pg, const char *tenant_id,
                                     const char *const *keys, size_t n, med_err *err)
{
    med_pg_cols c;
    med_pg_cols_init(&c, (const uint32_t[]){ MED_PG_OID_TEXT }, 1);
    for (size_t i = 0; i < n; i++) med_pg_array_add_str(&c.col[0], keys[i]);
    med_rc rc = med_pg_cols_finish(&c, err);
    f_params p = { .n = 0 };
    f_params_text(&p, tenant_id);
    f_params_cols(&p, &c);
    PGresult *res = NULL;
    if (rc == MED_OK) rc = f_store_exec_params(pg, F_SQL_OUTBOX_PUBLISHED, &p, &res, err);
    PQclear(res);
    med_pg_cols_free(&c);
    return rc;
}
