/* Shared by F's stores only: statement names, the parameters of a
 * binary-format call, hex helpers. */
#ifndef F_STORE_INT_H
#define F_STORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "f_store.h"
#include "med/pg_array.h"

#define F_SQL_OUTBOX_CLAIM "f_outbox_claim"
#define F_SQL_OUTBOX_LOAD "f_outbox_load"
#define F_SQL_OUTBOX_PUBLISHED "f_outbox_published"
#define F_SQL_DEDUP_CLAIM "f_dedup_claim"
#define F_SQL_DEDUP_READ "f_dedup_read"
#define F_SQL_SEQ_LOCK "f_seq_lock"
#define F_SQL_CLOSURE_LOCK "f_closure_lock"
#define F_SQL_DELIVERY_READ "f_delivery_read"
#define F_SQL_BILLING_CLAIM "f_billing_claim"
#define F_SQL_BATCH_WRITE "f_batch_write"

med_rc f_store_prepare_load(med_pg *pg, med_err *err);
med_rc f_store_prepare_write(med_pg *pg, med_err *err);

/* Runs a prepared statement; *out (PQclear) on MED_OK. */
med_rc f_store_exec(med_pg *pg, const char *stmt, int n, const char *const *vals,
                    PGresult **out, med_err *err);

/* The parameters of one binary-format call, in $n order: text scalars,
 * bytea scalars and the array columns of med_pg_cols sets. Borrows every
 * pointer until the call. Too many parameters is reported by the call. */
#define F_PARAMS_MAX 64
typedef struct f_params {
    const char *v[F_PARAMS_MAX];
    int len[F_PARAMS_MAX], fmt[F_PARAMS_MAX];
    int n;
    int overflow;
} f_params;

/* A text parameter; NULL -> SQL NULL. */
void f_params_text(f_params *p, const char *s);
/* A bytea parameter, sent as is; data NULL -> SQL NULL. */
void f_params_bytes(f_params *p, const uint8_t *data, size_t len);
/* Every column of c (finished: med_pg_cols_finish). */
void f_params_cols(f_params *p, const med_pg_cols *c);
/* Runs a prepared statement with p; *out (PQclear) on MED_OK. */
med_rc f_store_exec_params(med_pg *pg, const char *stmt, const f_params *p, PGresult **out,
                           med_err *err);

/* An int8 element holding ms since the epoch; 0 (unset) -> NULL, which
 * to_timestamp() keeps NULL. */
void f_store_add_ms(med_pg_array *a, int64_t ms);

/* Decodes hex text into a malloc'd buffer; -1 on bad input or ENOMEM. */
int f_store_unhex(const char *hex, uint8_t **out, size_t *len);

/* A PGresult value as int64 (0 when NULL). */
int64_t f_store_int_at(const PGresult *res, int row, int col);
/* The value as an arena string, NULL when SQL NULL. */
char *f_store_str_at(med_arena *a, const PGresult *res, int row, int col);

#endif
