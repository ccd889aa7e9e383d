#include "med/pg_array.h"

#include <stdlib.h>
#include <string.h>

#include "med/reason.h"

/* ndim, flags, element oid, then one (length, lower bound) per dimension. */
#define HDR_LEN 20u

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static int reserve(med_pg_array *a, size_t more)
{
    if (a->nomem) return -1;
    if (a->len + more <= a->cap) return 0;
    size_t cap = a->cap ? a->cap : 256;
    while (cap < a->len + more) cap *= 2;
    uint8_t *b = realloc(a->buf, cap);
    if (!b) {
        a->nomem = 1;
        return -1;
    }
    a->buf = b;
    a->cap = cap;
    return 0;
}

void med_pg_array_init(med_pg_array *a, uint32_t elem_oid)
{
    memset(a, 0, sizeof *a);
    a->elem_oid = elem_oid;
    a->len = HDR_LEN;   /* the header is written by _finish */
}

void med_pg_array_add(med_pg_array *a, const void *data, size_t len)
{
    if (len > INT32_MAX) {
        a->nomem = 1;   /* no element can be that large on the wire */
        return;
    }
    if (reserve(a, 4 + (data ? len : 0)) != 0) return;
    put_u32(a->buf + a->len, data ? (uint32_t)len : UINT32_MAX);   /* -1 = NULL */
    a->len += 4;
    if (data) {
        if (len) memcpy(a->buf + a->len, data, len);
        a->len += len;
    } else {
        a->has_null = 1;
    }
    a->n++;
}

void med_pg_array_add_str(med_pg_array *a, const char *s)
{
    med_pg_array_add(a, s, s ? strlen(s) : 0);
}

void med_pg_array_add_int8(med_pg_array *a, int64_t v)
{
    uint8_t b[8];
    uint64_t u = (uint64_t)v;
    put_u32(b, (uint32_t)(u >> 32));
    put_u32(b + 4, (uint32_t)u);
    med_pg_array_add(a, b, sizeof b);
}

void med_pg_array_add_int4(med_pg_array *a, int32_t v)
{
    uint8_t b[4];
    put_u32(b, (uint32_t)v);
    med_pg_array_add(a, b, sizeof b);
}

void med_pg_array_add_bool(med_pg_array *a, int v)
{
    const uint8_t b = v ? 1 : 0;
    med_pg_array_add(a, &b, 1);
}

med_rc med_pg_array_finish(med_pg_array *a, med_err *err)
{
    if (reserve(a, 0) != 0)   /* allocates the header when nothing was added */
        return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "pg array");
    if (a->n == 0) {
        /* An empty array has no dimensions (and so no dimension header). */
        put_u32(a->buf, 0);
        put_u32(a->buf + 4, 0);
        put_u32(a->buf + 8, a->elem_oid);
        a->len = 12;
        return MED_OK;
    }
    put_u32(a->buf, 1);
    put_u32(a->buf + 4, a->has_null ? 1u : 0u);
    put_u32(a->buf + 8, a->elem_oid);
    put_u32(a->buf + 12, a->n);
    put_u32(a->buf + 16, 1);
    return MED_OK;
}

void med_pg_array_free(med_pg_array *a)
{
    if (!a) return;
    free(a->buf);
    a->buf = NULL;
    a->len = a->cap = 0;
    a->n = 0;
}

void med_pg_cols_init(med_pg_cols *c, const uint32_t *elem_oids, int n)
{
    c->n = n < 0 ? 0 : n > MED_PG_COLS_MAX ? MED_PG_COLS_MAX : n;
    for (int i = 0; i < c->n; i++) med_pg_array_init(&c->col[i], elem_oids[i]);
}

med_rc med_pg_cols_finish(med_pg_cols *c, med_err *err)
{
    for (int i = 0; i < c->n; i++) {
        med_rc rc = med_pg_array_finish(&c->col[i], err);
        if (rc != MED_OK) return rc;
        c->values[i] = (const char *)c->col[i].buf;
        c->lengths[i] = (int)c->col[i].len;
        c->formats[i] = 1;
    }
    return MED_OK;
}

void med_pg_cols_free(med_pg_cols *c)
{
    for (int i = 0; i < c->n; i++) med_pg_array_free(&c->col[i]);
}
