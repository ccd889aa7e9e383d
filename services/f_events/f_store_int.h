/* Shared by f_store*.c only: statement names, row-JSON and hex helpers. */
#ifndef F_STORE_INT_H
#define F_STORE_INT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "f_store.h"

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

/* Dumps j (stolen) as compact JSON text into the arena; NULL + err on
 * allocation failure. */
char *f_store_json_text(med_arena *a, json_t *j, med_err *err);
/* row[column] = integer; 0 on success. */
int f_store_put_int(json_t *row, const char *column, int64_t v);
/* row[column] = integer, or null when v == 0. */
int f_store_put_ms(json_t *row, const char *column, int64_t v);
int f_store_put_bool(json_t *row, const char *column, int v);

/* Lowercase hex of data (malloc'd, NUL-terminated); NULL on ENOMEM.
 * len 0 -> "". */
char *f_store_hex(const uint8_t *data, size_t len);
/* Decodes hex text into a malloc'd buffer; -1 on bad input or ENOMEM. */
int f_store_unhex(const char *hex, uint8_t **out, size_t *len);

/* A PGresult value as int64 (0 when NULL). */
int64_t f_store_int_at(const PGresult *res, int row, int col);
/* The value as an arena string, NULL when SQL NULL. */
char *f_store_str_at(med_arena *a, const PGresult *res, int row, int col);

#endif
