/* One-dimensional PostgreSQL arrays in the binary wire format (array_recv),
 * for batch statements of the form
 *   INSERT ... SELECT ... FROM unnest($1::text[], $2::bytea[], ...)
 * sent with med_pg_exec_cols / med_pg_exec_prepared_bin (parameter format 1).
 *
 * Why not a jsonb document per batch: the server lexes JSON one character
 * at a time, and bytea inside it travels as hex (twice the bytes, decoded
 * again). A profile of the request path put that parse at an eighth of
 * PostgreSQL's time. A binary array is length-prefixed bytes: no escaping
 * on either side.
 *
 * Usage: med_pg_array_init, one _add per element (NULL data = SQL NULL),
 * med_pg_array_finish, then pass a.buf / a.len; med_pg_array_free after.
 * An allocation failure is sticky: _finish returns MED_ERR_NOMEM. */
#ifndef MED_PG_ARRAY_H
#define MED_PG_ARRAY_H

#include <stddef.h>
#include <stdint.h>

#include "med/err.h"

#define MED_PG_OID_BYTEA 17u
#define MED_PG_OID_INT8 20u
#define MED_PG_OID_TEXT 25u
#define MED_PG_OID_BOOL 16u
#define MED_PG_OID_INT4 23u

typedef struct med_pg_array {
    uint8_t *buf;       /* owned; valid after a successful _finish */
    size_t len, cap;
    uint32_t elem_oid;
    uint32_t n;         /* elements added */
    int has_null;
    int nomem;
} med_pg_array;

void med_pg_array_init(med_pg_array *a, uint32_t elem_oid);
/* Appends len bytes (copied); data NULL appends a NULL element. */
void med_pg_array_add(med_pg_array *a, const void *data, size_t len);
/* A C string element (NULL -> SQL NULL). For text[] arrays. */
void med_pg_array_add_str(med_pg_array *a, const char *s);
/* An int8 element in network order. */
void med_pg_array_add_int8(med_pg_array *a, int64_t v);
/* An int4 element in network order. */
void med_pg_array_add_int4(med_pg_array *a, int32_t v);
/* A bool element (v != 0 -> true). */
void med_pg_array_add_bool(med_pg_array *a, int v);
/* Writes the header; MED_ERR_NOMEM (err filled) after a failed _add. */
med_rc med_pg_array_finish(med_pg_array *a, med_err *err);
void med_pg_array_free(med_pg_array *a);

/* A batch statement's parameters: one binary array per column, ready for
 * med_pg_exec_cols(pg, stmt, &c, err).
 * Add elements with med_pg_array_add*(&c.col[i], ...), row by row. */
#define MED_PG_COLS_MAX 32
typedef struct med_pg_cols {
    med_pg_array col[MED_PG_COLS_MAX];
    const char *values[MED_PG_COLS_MAX];
    int lengths[MED_PG_COLS_MAX], formats[MED_PG_COLS_MAX];
    int n;
} med_pg_cols;

/* n columns (<= MED_PG_COLS_MAX) of the given element types. */
void med_pg_cols_init(med_pg_cols *c, const uint32_t *elem_oids, int n);
/* Finishes every array and fills values/lengths/formats. */
med_rc med_pg_cols_finish(med_pg_cols *c, med_err *err);
void med_pg_cols_free(med_pg_cols *c);

#endif
