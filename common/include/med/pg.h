/* PostgreSQL access: one connection per med_pg (not thread-safe; use one per
 * thread). Reconnects on a broken connection; every write goes through
 * med_pg_tx, which sets app.tenant_id locally so row-level security
 * applies. */
#ifndef MED_PG_H
#define MED_PG_H

#include <libpq-fe.h>
#include "med/err.h"

typedef struct med_pg med_pg;

typedef struct med_pg_opts {
    const char *dsn;
    int connect_retries;     /* attempts at start-up; 0 -> 1 */
    int retry_wait_ms;       /* between attempts; 0 -> 500 */
    int statement_timeout_ms;/* 0 -> none */
} med_pg_opts;

med_rc med_pg_connect(const med_pg_opts *opts, med_pg **out, med_err *err);
void med_pg_close(med_pg *pg);
/* The live connection, reconnecting first if it is broken; NULL + err
 * INFRA_PG_UNAVAILABLE when the server is down. */
PGconn *med_pg_conn(med_pg *pg, med_err *err);
/* SELECT 1 round trip. */
med_rc med_pg_ping(med_pg *pg, med_err *err);

/* Registers a prepared statement; it is (re)prepared lazily on each new
 * connection. name must be unique per med_pg. */
med_rc med_pg_prepare(med_pg *pg, const char *name, const char *sql, int nparams,
                      med_err *err);
/* Runs a prepared statement; result owned by the caller (PQclear). NULL on
 * failure with err filled (conflict on unique violation = MED_ERR_CONFLICT). */
PGresult *med_pg_exec_prepared(med_pg *pg, const char *name, int nparams,
                               const char *const *values, med_err *err);
/* The same with per-parameter lengths and formats (1 = binary, e.g. a
 * med_pg_array); lengths is read for binary parameters only. Text results. */
PGresult *med_pg_exec_prepared_bin(med_pg *pg, const char *name, int nparams,
                                   const char *const *values, const int *lengths,
                                   const int *formats, med_err *err);
/* A batch statement whose parameters are the (finished) binary array
 * columns of c, in order (med/pg_array.h). Same result contract. */
struct med_pg_cols;
PGresult *med_pg_exec_cols(med_pg *pg, const char *name, const struct med_pg_cols *c,
                           med_err *err);

/* BEGIN; SELECT set_config('app.tenant_id', tenant, true); fn; COMMIT.
 * Rolls back when fn fails. Retries the whole transaction (up to
 * max_attempts, 0 -> 3) on serialization failure, deadlock or a lost
 * connection; never on fn's own MED_ERR_INVALID/CONFLICT. tenant_id NULL
 * means a platform-level transaction (no tenant set). Inside fn use conn or
 * med_pg_exec_prepared (same session: it never reconnects mid-transaction);
 * nested med_pg_tx is refused. A COMMIT lost with the connection is retried
 * too, so bodies must be idempotent (unique keys), as all writes here are. */
typedef med_rc (*med_pg_tx_fn)(med_pg *pg, PGconn *conn, void *ud, med_err *err);
med_rc med_pg_tx(med_pg *pg, const char *tenant_id, int max_attempts,
                 med_pg_tx_fn fn, void *ud, med_err *err);

/* Maps a failed PGresult/SQLSTATE to med_rc (23505 -> CONFLICT, 40001/40P01
 * -> IO retryable, connection loss -> UNAVAILABLE, 22xxx/23xxx -> INVALID).
 * Also: OK/tuples/copy statuses -> MED_OK; NULL result or a failure without
 * SQLSTATE (raised by libpq: the socket broke) -> UNAVAILABLE. */
med_rc med_pg_result_rc(const PGresult *res);
/* The SQLSTATE part of that mapping: 23505 -> CONFLICT; 40001, 40P01 -> IO;
 * 57014 (statement timeout) -> TIMEOUT; 08xxx, 53xxx, 57P0x (server gone,
 * out of resources, shutting down) and NULL -> UNAVAILABLE; other 22xxx,
 * 23xxx -> INVALID; 42xxx, 25xxx (caller bugs) -> INTERNAL; rest -> IO. */
med_rc med_pg_sqlstate_rc(const char *sqlstate);
/* med_pg_result_rc plus err filled with a reason code (INFRA_PG_CONFLICT,
 * _INVALID, _UNAVAILABLE, _TIMEOUT, _RETRYABLE for 40001/40P01, otherwise
 * _QUERY_FAILED) and the server's primary message (never DETAIL, which
 * echoes row values). A broken conn makes it UNAVAILABLE whatever the
 * result says; conn may be NULL. Transaction bodies should report their
 * statement failures with this so med_pg_tx knows what to retry. */
med_rc med_pg_result_err(const PGresult *res, const PGconn *conn, med_err *err);

#endif
