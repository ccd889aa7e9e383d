/* tools/dlq's PostgreSQL side: dead_letter_records as the operator's
 * record of each dead letter seen (imported from MED_DLQ, a no-op when
 * already there) and of its re-drive. Runs as the application role, so
 * every statement is inside a transaction of the dead letter's tenant
 * (row-level security). Plain libpq with explicit transactions: a re-drive
 * publishes inside its transaction and must never be retried blindly. */
#ifndef DLQ_STORE_H
#define DLQ_STORE_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>

typedef struct dlq_status {
    int known;              /* a row exists */
    long long id;           /* dead_letter_records.id */
    char status[16];        /* open | redriven | discarded */
    char redriven_at[40];
    char redriven_by[64];
} dlq_status;

/* NULL (why filled) when the server is unreachable. */
PGconn *dlq_store_open(const char *dsn, char *why, size_t cap);

/* BEGIN and app.tenant_id = tenant (rolled back on failure). 0 on success. */
int dlq_store_begin(PGconn *pg, const char *tenant, char *why, size_t cap);

/* One transaction of tenant: imports rows (a JSON array of dlq_row_json
 * objects) and reads the status of each into out[i]. 0 on success. */
int dlq_store_sync(PGconn *pg, const char *tenant, const json_t *rows, dlq_status *out,
                   char *why, size_t cap);

/* The re-drive transaction: begin (tenant set), import the row if absent
 * and lock it (FOR UPDATE: two operators re-driving one dead letter run
 * one after the other), then mark or roll back. */
int dlq_store_begin_locked(PGconn *pg, const char *tenant, const json_t *row, dlq_status *st,
                           char *why, size_t cap);
int dlq_store_mark_redriven(PGconn *pg, long long id, const char *by, const char *note,
                            char *why, size_t cap);
int dlq_store_commit(PGconn *pg, char *why, size_t cap);
void dlq_store_rollback(PGconn *pg);

#endif
