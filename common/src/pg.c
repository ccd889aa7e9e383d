/* PostgreSQL access (see pg.h). A med_pg owns one libpq connection, the list
 * of statements registered with med_pg_prepare, and a generation counter
 * that grows with every new server session: a statement is prepared on the
 * current session when its recorded generation is stale. */
#include "med/pg.h"
#include "med/pg_array.h"
#include "med/log.h"
#include "med/names.h"
#include "med/reason.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PG_DEFAULT_WAIT_MS 500
#define PG_DEFAULT_TX_ATTEMPTS 3
#define PG_TX_BACKOFF_MS 25
#define PG_TX_BACKOFF_CAP_MS 400

typedef struct pg_stmt {
    char *name;
    char *sql;
    int nparams;
    uint64_t prepared_gen; /* 0: not prepared on any session yet */
} pg_stmt;

struct med_pg {
    char *dsn;
    int connect_retries;
    int retry_wait_ms;
    int statement_timeout_ms;
    PGconn *conn;
    uint64_t gen;  /* session generation, starts at 1 */
    int in_tx;     /* med_pg_tx running: never reconnect under its feet */
    pg_stmt *stmts;
    size_t n_stmts;
    size_t cap_stmts;
};

static void pg_sleep_ms(int ms)
{
    if (ms <= 0) return;
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Server text is one line or more; err->message holds only the first. */
static void pg_copy_line(char *dst, size_t cap, const char *src)
{
    size_t n = 0;
    if (src)
        while (src[n] && src[n] != '\n' && n + 1 < cap) n++;
    if (n) memcpy(dst, src, n);
    dst[n] = '\0';
}

/* ---- result classification ------------------------------------------- */

med_rc med_pg_sqlstate_rc(const char *sqlstate)
{
    if (!sqlstate || strlen(sqlstate) != 5) return MED_ERR_UNAVAILABLE;
    if (strcmp(sqlstate, "23505") == 0) return MED_ERR_CONFLICT;
    if (strcmp(sqlstate, "40001") == 0 || strcmp(sqlstate, "40P01") == 0) return MED_ERR_IO;
    if (strcmp(sqlstate, "57014") == 0) return MED_ERR_TIMEOUT;
    /* 08 connection exception, 53 insufficient resources (too many
     * connections, disk full), 57P0x server shutting down or starting. */
    if (strncmp(sqlstate, "08", 2) == 0 || strncmp(sqlstate, "53", 2) == 0 ||
        strncmp(sqlstate, "57P", 3) == 0)
        return MED_ERR_UNAVAILABLE;
    if (strncmp(sqlstate, "22", 2) == 0 || strncmp(sqlstate, "23", 2) == 0) return MED_ERR_INVALID;
    /* 42 (syntax, undefined object, privilege) and 25 (bad transaction
     * state) are bugs in the caller: retrying cannot help. */
    if (strncmp(sqlstate, "42", 2) == 0 || strncmp(sqlstate, "25", 2) == 0) return MED_ERR_INTERNAL;
    return MED_ERR_IO;
}

med_rc med_pg_result_rc(const PGresult *res)
{
    if (!res) return MED_ERR_UNAVAILABLE;
    switch (PQresultStatus(res)) {
    case PGRES_COMMAND_OK:
    case PGRES_TUPLES_OK:
    case PGRES_EMPTY_QUERY:
    case PGRES_SINGLE_TUPLE:
    case PGRES_COPY_IN:
    case PGRES_COPY_OUT:
    case PGRES_COPY_BOTH:
        return MED_OK;
    default:
        break;
    }
    /* A failure without SQLSTATE was raised by libpq itself: the server
     * vanished mid-query or the socket broke. */
    return med_pg_sqlstate_rc(PQresultErrorField(res, PG_DIAG_SQLSTATE));
}

static const char *pg_rc_reason(med_rc rc, const char *sqlstate)
{
    switch (rc) {
    case MED_ERR_CONFLICT: return MED_R_INFRA_PG_CONFLICT;
    case MED_ERR_INVALID: return MED_R_INFRA_PG_INVALID;
    case MED_ERR_UNAVAILABLE: return MED_R_INFRA_PG_UNAVAILABLE;
    case MED_ERR_TIMEOUT: return MED_R_INFRA_PG_TIMEOUT;
    default: break;
    }
    if (sqlstate && (strcmp(sqlstate, "40001") == 0 || strcmp(sqlstate, "40P01") == 0))
        return MED_R_INFRA_PG_RETRYABLE;
    return MED_R_INFRA_PG_QUERY_FAILED;
}

med_rc med_pg_result_err(const PGresult *res, const PGconn *conn, med_err *err)
{
    med_rc rc = med_pg_result_rc(res);
    if (rc == MED_OK) return MED_OK;
    if (conn && PQstatus(conn) == CONNECTION_BAD) rc = MED_ERR_UNAVAILABLE;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    /* The primary message only: DETAIL would echo the row's values. */
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (!msg && conn) msg = PQerrorMessage(conn);
    char line[200];
    pg_copy_line(line, sizeof line, msg ? msg : "no result");
    return med_err_set(err, rc, pg_rc_reason(rc, state), "", "postgres %s: %s",
                       state ? state : "-----", line);
}

/* ---- connection --------------------------------------------------------- */

static med_rc pg_unavailable(const PGconn *conn, med_err *err)
{
    char line[200];
    pg_copy_line(line, sizeof line, conn ? PQerrorMessage(conn) : "out of memory");
    return med_err_set(err, MED_ERR_UNAVAILABLE, MED_R_INFRA_PG_UNAVAILABLE, "",
                       "postgres unavailable: %s", line);
}

/* Per-session settings, applied to every new session. */
static med_rc pg_session_init(med_pg *pg, med_err *err)
{
    pg->gen++;
    if (pg->statement_timeout_ms <= 0) return MED_OK;
    char sql[64];
    snprintf(sql, sizeof sql, "SET statement_timeout = %d", pg->statement_timeout_ms);
    PGresult *res = PQexec(pg->conn, sql);
    med_rc rc = med_pg_result_err(res, pg->conn, err);
    PQclear(res);
    return rc;
}

static med_rc pg_open(med_pg *pg, med_err *err)
{
    if (pg->conn) {
        PQreset(pg->conn);
    } else {
        pg->conn = PQconnectdb(pg->dsn);
    }
    if (!pg->conn || PQstatus(pg->conn) != CONNECTION_OK) return pg_unavailable(pg->conn, err);
    med_rc rc = pg_session_init(pg, err);
    if (rc != MED_OK) {
        /* A session without its settings must not be handed out. */
        PQfinish(pg->conn);
        pg->conn = NULL;
    }
    return rc;
}

med_rc med_pg_connect(const med_pg_opts *opts, med_pg **out, med_err *err)
{
    if (!opts || !opts->dsn || !out)
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_PG_UNAVAILABLE, "", "no dsn");
    *out = NULL;
    med_pg *pg = calloc(1, sizeof *pg);
    if (!pg || !(pg->dsn = strdup(opts->dsn))) {
        free(pg);
        return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, "", "med_pg");
    }
    pg->connect_retries = opts->connect_retries > 0 ? opts->connect_retries : 1;
    pg->retry_wait_ms = opts->retry_wait_ms > 0 ? opts->retry_wait_ms : PG_DEFAULT_WAIT_MS;
    pg->statement_timeout_ms = opts->statement_timeout_ms;
    med_rc rc = MED_ERR_UNAVAILABLE;
    for (int attempt = 1; attempt <= pg->connect_retries; attempt++) {
        rc = pg_open(pg, err);
        if (rc != MED_ERR_UNAVAILABLE) break;
        if (attempt < pg->connect_retries) pg_sleep_ms(pg->retry_wait_ms);
    }
    if (rc != MED_OK) {
        med_pg_close(pg);
        return rc;
    }
    *out = pg;
    return MED_OK;
}

void med_pg_close(med_pg *pg)
{
    if (!pg) return;
    if (pg->conn) PQfinish(pg->conn);
    for (size_t i = 0; i < pg->n_stmts; i++) {
        free(pg->stmts[i].name);
        free(pg->stmts[i].sql);
    }
    free(pg->stmts);
    free(pg->dsn);
    free(pg);
}

PGconn *med_pg_conn(med_pg *pg, med_err *err)
{
    if (!pg) {
        med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_PG_UNAVAILABLE, "", "no med_pg");
        return NULL;
    }
    if (pg->conn && PQstatus(pg->conn) == CONNECTION_OK) return pg->conn;
    /* Inside a transaction a fresh session would silently run the rest of
     * it in autocommit; med_pg_tx reconnects between attempts instead. */
    if (pg->in_tx) {
        pg_unavailable(pg->conn, err);
        return NULL;
    }
    if (pg_open(pg, err) != MED_OK) return NULL;
    MED_LOGI(NULL, "postgres: reconnected (session %llu)", (unsigned long long)pg->gen);
    return pg->conn;
}

med_rc med_pg_ping(med_pg *pg, med_err *err)
{
    PGconn *conn = med_pg_conn(pg, err);
    if (!conn) return MED_ERR_UNAVAILABLE;
    PGresult *res = PQexec(conn, "SELECT 1");
    med_rc rc = med_pg_result_err(res, conn, err);
    PQclear(res);
    return rc;
}

/* ---- prepared statements ------------------------------------------------ */

static pg_stmt *pg_stmt_find(med_pg *pg, const char *name)
{
    for (size_t i = 0; i < pg->n_stmts; i++)
        if (strcmp(pg->stmts[i].name, name) == 0) return &pg->stmts[i];
    return NULL;
}

static med_rc pg_stmt_add(med_pg *pg, const char *name, const char *sql, int nparams,
                          med_err *err)
{
    if (pg->n_stmts == pg->cap_stmts) {
        size_t cap = pg->cap_stmts ? pg->cap_stmts * 2 : 8;
        pg_stmt *grown = realloc(pg->stmts, cap * sizeof *grown);
        if (!grown) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, "", "stmt list");
        pg->stmts = grown;
        pg->cap_stmts = cap;
    }
    pg_stmt s = { strdup(name), strdup(sql), nparams, 0 };
    if (!s.name || !s.sql) {
        free(s.name);
        free(s.sql);
        return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, "", "stmt copy");
    }
    pg->stmts[pg->n_stmts++] = s;
    return MED_OK;
}

static med_rc pg_stmt_ensure(med_pg *pg, PGconn *conn, pg_stmt *s, med_err *err)
{
    if (s->prepared_gen == pg->gen) return MED_OK;
    PGresult *res = PQprepare(conn, s->name, s->sql, s->nparams, NULL);
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    /* 42P05: the session already has it (prepared by hand): fine. */
    med_rc rc = state && strcmp(state, "42P05") == 0 ? MED_OK : med_pg_result_err(res, conn, err);
    PQclear(res);
    if (rc == MED_OK) s->prepared_gen = pg->gen;
    return rc;
}

med_rc med_pg_prepare(med_pg *pg, const char *name, const char *sql, int nparams,
                      med_err *err)
{
    if (!pg || !name || !*name || !sql || nparams < 0)
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_PG_QUERY_FAILED, "", "bad arguments");
    if (pg_stmt_find(pg, name))
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_PG_QUERY_FAILED, "",
                           "statement %s registered twice", name);
    med_rc rc = pg_stmt_add(pg, name, sql, nparams, err);
    if (rc != MED_OK) return rc;
    /* Prepare now when we can, so a typo fails at start-up rather than on
     * the first request; while the server is down it waits for first use. */
    if (!pg->conn || PQstatus(pg->conn) != CONNECTION_OK) return MED_OK;
    pg_stmt *s = &pg->stmts[pg->n_stmts - 1];
    rc = pg_stmt_ensure(pg, pg->conn, s, err);
    if (rc == MED_OK || rc == MED_ERR_UNAVAILABLE) return MED_OK;
    free(s->name);
    free(s->sql);
    pg->n_stmts--;
    return rc;
}

PGresult *med_pg_exec_prepared(med_pg *pg, const char *name, int nparams,
                               const char *const *values, med_err *err)
{
    return med_pg_exec_prepared_bin(pg, name, nparams, values, NULL, NULL, err);
}

PGresult *med_pg_exec_cols(med_pg *pg, const char *name, const med_pg_cols *c, med_err *err)
{
    return med_pg_exec_prepared_bin(pg, name, c->n, c->values, c->lengths, c->formats, err);
}

PGresult *med_pg_exec_prepared_bin(med_pg *pg, const char *name, int nparams,
                                   const char *const *values, const int *lengths,
                                   const int *formats, med_err *err)
{
    PGconn *conn = med_pg_conn(pg, err);
    if (!conn) return NULL;
    pg_stmt *s = name ? pg_stmt_find(pg, name) : NULL;
    if (!s) {
        med_err_set(err, MED_ERR_INTERNAL, MED_R_INFRA_PG_QUERY_FAILED, "",
                    "statement %s not registered", name ? name : "(null)");
        return NULL;
    }
    if (s->nparams != nparams) {
        med_err_set(err, MED_ERR_INTERNAL, MED_R_INFRA_PG_QUERY_FAILED, "",
                    "statement %s takes %d parameters, not %d", name, s->nparams, nparams);
        return NULL;
    }
    if (pg_stmt_ensure(pg, conn, s, err) != MED_OK) return NULL;
    PGresult *res = PQexecPrepared(conn, s->name, nparams, values, lengths, formats, 0);
    if (med_pg_result_err(res, conn, err) == MED_OK) return res;
    PQclear(res);
    return NULL;
}

/* ---- transactions --------------------------------------------------------- */

static med_rc pg_exec_simple(PGconn *conn, const char *sql, med_err *err)
{
    PGresult *res = PQexec(conn, sql);
    med_rc rc = med_pg_result_err(res, conn, err);
    PQclear(res);
    return rc;
}

static void pg_rollback(PGconn *conn)
{
    if (PQstatus(conn) != CONNECTION_OK || PQtransactionStatus(conn) == PQTRANS_IDLE) return;
    PQclear(PQexec(conn, "ROLLBACK"));
}

static med_rc pg_set_tenant(PGconn *conn, const char *tenant_id, med_err *err)
{
    const char *params[2] = { MED_PG_TENANT_SETTING, tenant_id };
    PGresult *res = PQexecParams(conn, "SELECT set_config($1, $2, true)", 2, NULL, params,
                                 NULL, NULL, 0);
    med_rc rc = med_pg_result_err(res, conn, err);
    PQclear(res);
    return rc;
}

/* COMMIT of a transaction that already failed answers "ROLLBACK" with
 * success status: that must not pass for a commit. */
static med_rc pg_commit(PGconn *conn, med_err *err)
{
    if (PQtransactionStatus(conn) == PQTRANS_INERROR)
        return med_err_set(err, MED_ERR_INTERNAL, MED_R_INFRA_PG_QUERY_FAILED, "",
                           "transaction body reported success after a failed statement");
    PGresult *res = PQexec(conn, "COMMIT");
    med_rc rc = med_pg_result_err(res, conn, err);
    if (rc == MED_OK && strcmp(PQcmdStatus(res), "COMMIT") != 0)
        rc = med_err_set(err, MED_ERR_INTERNAL, MED_R_INFRA_PG_QUERY_FAILED, "",
                         "COMMIT answered %s", PQcmdStatus(res));
    PQclear(res);
    return rc;
}

static med_rc pg_tx_once(med_pg *pg, const char *tenant_id, med_pg_tx_fn fn, void *ud,
                         med_err *err)
{
    PGconn *conn = med_pg_conn(pg, err);
    if (!conn) return MED_ERR_UNAVAILABLE;
    med_rc rc = pg_exec_simple(conn, "BEGIN", err);
    if (rc != MED_OK) return rc;
    pg->in_tx = 1;
    if (tenant_id) rc = pg_set_tenant(conn, tenant_id, err);
    if (rc == MED_OK) rc = fn(pg, conn, ud, err);
    if (rc == MED_OK) rc = pg_commit(conn, err);
    pg->in_tx = 0;
    if (rc != MED_OK) pg_rollback(conn);
    return rc;
}

/* Worth another attempt: the server aborted us (serialization failure,
 * deadlock) or the session died. The body's own verdicts are final. */
static int pg_tx_retryable(const med_pg *pg, med_rc rc, const med_err *err)
{
    if (rc == MED_ERR_INVALID || rc == MED_ERR_CONFLICT) return 0;
    if (!pg->conn || PQstatus(pg->conn) == CONNECTION_BAD) return 1;
    return strcmp(err->code, MED_R_INFRA_PG_RETRYABLE) == 0 ||
           strcmp(err->code, MED_R_INFRA_PG_UNAVAILABLE) == 0;
}

med_rc med_pg_tx(med_pg *pg, const char *tenant_id, int max_attempts,
                 med_pg_tx_fn fn, void *ud, med_err *err)
{
    if (!pg || !fn)
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_PG_QUERY_FAILED, "", "bad arguments");
    if (pg->in_tx)
        return med_err_set(err, MED_ERR_INTERNAL, MED_R_INFRA_PG_QUERY_FAILED, "",
                           "nested med_pg_tx");
    /* The retry test reads err->code, so it needs a med_err even when the
     * caller passed none. */
    med_err local;
    if (!err) err = &local;
    int attempts = max_attempts > 0 ? max_attempts : PG_DEFAULT_TX_ATTEMPTS;
    int wait_ms = PG_TX_BACKOFF_MS;
    med_rc rc = MED_ERR_INTERNAL;
    for (int attempt = 1; attempt <= attempts; attempt++) {
        med_err_clear(err);
        rc = pg_tx_once(pg, tenant_id, fn, ud, err);
        if (rc == MED_OK || !pg_tx_retryable(pg, rc, err)) return rc;
        if (attempt < attempts) {
            pg_sleep_ms(wait_ms);
            wait_ms = wait_ms * 2 > PG_TX_BACKOFF_CAP_MS ? PG_TX_BACKOFF_CAP_MS : wait_ms * 2;
        }
    }
    return rc;
}
