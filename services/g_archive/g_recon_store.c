#include "g_recon_store.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "med/ids.h"
#include "med/reason.h"
#include "med/rows.h"

#define CURSOR_NAME "g_recon_keys"
#define FETCH_ROWS "1000"
#define JOBS_PER_STATEMENT 500

/* Qualifying archive facts: only these feed billing (G.4). */
#define QUALIFIES(t) t "record_type = 'billable_fact' AND " t "record_status = 'committed' AND " \
                     t "write_status = 'written'"

/* The CTEs are materialized on purpose: the window's keys are found first
 * (indexes on created_at, record_key, billing_key), and only that small
 * set of ledger rows is resolved and filtered, never the tenant's whole
 * ledger row by row.
 * Columns: side ('a' archive, 'b' ledger), record_key, response_reference,
 * render_attempt_id, billable, amount_micros, anchor_hash,
 * version_anchor_snapshot_ref; ordered by record key bytes, archive first. */
static const char SQL_KEYS[] =
    "DECLARE " CURSOR_NAME " NO SCROLL CURSOR FOR "
    "WITH wa AS ("
    "  SELECT record_key, billing_key, response_reference, render_attempt_id,"
    "         coalesce(billable, false) AS billable, coalesce(amount_micros, 0) AS amount_micros,"
    "         anchor_hash, version_anchor_snapshot_ref"
    "    FROM archive_records"
    "   WHERE created_at >= $1::timestamptz AND created_at < $2::timestamptz AND " QUALIFIES("")
    "), lk AS MATERIALIZED ("
    "  SELECT billing_key FROM billing_ledger WHERE record_key IN (SELECT record_key FROM wa)"
    "  UNION"
    "  SELECT billing_key FROM billing_ledger"
    "   WHERE record_key IS NULL AND billing_key IN (SELECT billing_key FROM wa)"
    "  UNION"
    "  SELECT billing_key FROM billing_ledger"
    "   WHERE created_at >= $1::timestamptz AND created_at < $2::timestamptz"
    "), lb AS MATERIALIZED ("
    "  SELECT coalesce(l.record_key,"
    "                  (SELECT x.record_key FROM archive_records x"
    "                    WHERE x.billing_key = l.billing_key AND " QUALIFIES("x.")
    "                    ORDER BY x.record_key COLLATE \"C\" LIMIT 1),"
    "                  l.billing_key) AS record_key,"
    "         l.response_reference, l.render_attempt_id, l.billable, l.amount_micros,"
    "         l.anchor_hash, l.version_anchor_snapshot_ref"
    "    FROM billing_ledger l JOIN lk USING (billing_key)"
    ") "
    "SELECT * FROM ("
    "  SELECT 'a' AS side, record_key, response_reference, render_attempt_id, billable,"
    "         amount_micros, anchor_hash, version_anchor_snapshot_ref FROM wa"
    "  UNION ALL"
    "  SELECT 'b', b.record_key, b.response_reference, b.render_attempt_id, b.billable,"
    "         b.amount_micros, b.anchor_hash, b.version_anchor_snapshot_ref FROM lb b"
    "   WHERE b.record_key IN (SELECT record_key FROM wa)"
    "      OR NOT EXISTS (SELECT 1 FROM archive_records x"
    "                      WHERE x.record_key = b.record_key AND " QUALIFIES("x.") ")"
    ") u ORDER BY record_key COLLATE \"C\", side";

static const char SQL_DLQ[] =
    "SELECT stage, count(*) FROM dead_letter_records"
    " WHERE dead_at >= $1::timestamptz AND dead_at < $2::timestamptz"
    " GROUP BY stage ORDER BY stage COLLATE \"C\"";

static const char SQL_JOBS_INSERT[] =
    "INSERT INTO replay_jobs (job_id, tenant_id, job_key, execution_mode, purpose, query_mode,"
    "  query, query_hash, record_key, response_reference, render_attempt_id, anchor_hash,"
    "  version_anchor_snapshot_ref, reason_code, status, requested_by)"
    " SELECT r.job_id, $2, r.job_key, r.execution_mode, r.purpose, r.query_mode, r.query::jsonb,"
    "        r.query_hash, r.record_key, r.response_reference, r.render_attempt_id,"
    "        r.anchor_hash, r.version_anchor_snapshot_ref, r.reason_code, r.status, 'g_recon'"
    "   FROM jsonb_to_recordset($1::jsonb) AS r(job_id text, job_key text, execution_mode text,"
    "        purpose text, query_mode text, query text, query_hash text, record_key text,"
    "        response_reference text, render_attempt_id text, anchor_hash text,"
    "        version_anchor_snapshot_ref text, reason_code text, status text)"
    " ON CONFLICT DO NOTHING";

static const char SQL_JOBS_READ[] =
    "SELECT job_key, job_id, status, coalesce(reason_code, '') FROM replay_jobs"
    " WHERE tenant_id = $2 AND job_key IN (SELECT jsonb_array_elements_text($1::jsonb))"
    " ORDER BY job_key COLLATE \"C\"";

med_rc g_recon_store_prepare(med_pg *pg, med_err *err)
{
    med_rc rc = med_pg_prepare(pg, "g_recon_dlq", SQL_DLQ, 2, err);
    if (rc == MED_OK) rc = med_pg_prepare(pg, "g_recon_jobs_insert", SQL_JOBS_INSERT, 2, err);
    if (rc == MED_OK) rc = med_pg_prepare(pg, "g_recon_jobs_read", SQL_JOBS_READ, 2, err);
    return rc;
}

typedef struct window_txt {
    char start[32], end[32];
} window_txt;

static void window_text(const g_recon_params *p, window_txt *w)
{
    med_format_utc_ms(p->window.start_ms, w->start, sizeof w->start);
    med_format_utc_ms(p->window.end_ms, w->end, sizeof w->end);
}

/* ---- the key stream ---- */

static const char *col(const PGresult *res, int row, int c)
{
    return PQgetisnull(res, row, c) ? "" : PQgetvalue(res, row, c);
}

static void row_rec(const PGresult *res, int row, g_recon_rec *r)
{
    r->record_key = col(res, row, 1);
    r->response_reference = col(res, row, 2);
    r->render_attempt_id = col(res, row, 3);
    r->billable = strcmp(col(res, row, 4), "t") == 0;
    r->amount_micros = strtoll(col(res, row, 5), NULL, 10);
    r->anchor_hash = col(res, row, 6);
    r->version_anchor_snapshot_ref = col(res, row, 7);
}

/* Pairs rows of one key across fetches: an archive row waits (its result
 * kept alive) until the next row shows whether the ledger has the key. */
typedef struct pairer {
    g_recon_result *r;
    PGresult *held;   /* result holding the waiting archive row, or NULL */
    int held_row;
} pairer;

static void release_held(pairer *pr, const PGresult *current)
{
    if (pr->held && pr->held != current) PQclear(pr->held);
    pr->held = NULL;
}

static med_rc flush_held(pairer *pr, const PGresult *current, med_err *err)
{
    if (!pr->held) return MED_OK;
    g_recon_rec a;
    row_rec(pr->held, pr->held_row, &a);
    med_rc rc = g_recon_result_add(pr->r, &a, NULL, err);
    release_held(pr, current);
    return rc;
}

static med_rc take_row(pairer *pr, PGresult *res, int row, med_err *err)
{
    g_recon_rec cur;
    row_rec(res, row, &cur);
    int is_archive = col(res, row, 0)[0] == 'a';
    if (pr->held && !is_archive) {
        g_recon_rec a;
        row_rec(pr->held, pr->held_row, &a);
        if (strcmp(a.record_key, cur.record_key) == 0) {
            med_rc rc = g_recon_result_add(pr->r, &a, &cur, err);
            release_held(pr, res);
            return rc;
        }
    }
    med_rc rc = flush_held(pr, res, err);
    if (rc != MED_OK) return rc;
    if (is_archive) {
        pr->held = res;
        pr->held_row = row;
        return MED_OK;
    }
    return g_recon_result_add(pr->r, NULL, &cur, err);
}

/* Feeds one fetched batch; keeps res alive if it holds the waiting row. */
static med_rc take_batch(pairer *pr, PGresult *res, med_err *err)
{
    med_rc rc = MED_OK;
    for (int i = 0; rc == MED_OK && i < PQntuples(res); i++) rc = take_row(pr, res, i, err);
    if (pr->held != res) PQclear(res);
    return rc;
}

typedef struct compare_ctx {
    const g_recon_params *p;
    g_recon_result *r;
} compare_ctx;

static med_rc stream_keys(PGconn *conn, pairer *pr, med_err *err)
{
    for (;;) {
        PGresult *res = PQexec(conn, "FETCH FORWARD " FETCH_ROWS " FROM " CURSOR_NAME);
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
            med_rc rc = med_pg_result_err(res, conn, err);
            PQclear(res);
            return rc != MED_OK ? rc : MED_ERR_INTERNAL;
        }
        if (PQntuples(res) == 0) {
            PQclear(res);
            return flush_held(pr, NULL, err);
        }
        med_rc rc = take_batch(pr, res, err);
        if (rc != MED_OK) return rc;
    }
}

static med_rc compare_tx(med_pg *pg, PGconn *conn, void *ud, med_err *err)
{
    (void)pg;
    compare_ctx *c = ud;
    /* a retried transaction starts over */
    g_recon_result_free(c->r);
    g_recon_result_init(c->r, c->p->scope, c->p->tolerance_micros);
    window_txt w;
    window_text(c->p, &w);
    const char *v[2] = {w.start, w.end};
    PGresult *res = PQexecParams(conn, SQL_KEYS, 2, NULL, v, NULL, NULL, 0);
    med_rc rc = med_pg_result_err(res, conn, err);
    PQclear(res);
    if (rc != MED_OK) return rc;
    pairer pr = {.r = c->r, .held = NULL, .held_row = -1};
    rc = stream_keys(conn, &pr, err);
    release_held(&pr, NULL);
    if (rc != MED_OK) return rc;
    res = PQexec(conn, "CLOSE " CURSOR_NAME);
    rc = med_pg_result_err(res, conn, err);
    PQclear(res);
    return rc;
}

med_rc g_recon_store_compare(med_pg *pg, const g_recon_params *p, g_recon_result *r,
                             med_err *err)
{
    g_recon_result_init(r, p->scope, p->tolerance_micros);
    compare_ctx c = {p, r};
    med_rc rc = med_pg_tx(pg, p->tenant_id, 0, compare_tx, &c, err);
    if (rc == MED_OK) g_recon_result_finish(r);
    return rc;
}

/* ---- DLQ trend ---- */

typedef struct dlq_ctx {
    const g_recon_params *p;
    med_arena *a;
    g_recon_dlq_count *out;
    size_t n;
} dlq_ctx;

static med_rc dlq_tx(med_pg *pg, PGconn *conn, void *ud, med_err *err)
{
    dlq_ctx *c = ud;
    window_txt w;
    window_text(c->p, &w);
    const char *v[2] = {w.start, w.end};
    PGresult *res = med_pg_exec_prepared(pg, "g_recon_dlq", 2, v, err);
    if (!res) return err && err->rc != MED_OK ? err->rc : MED_ERR_IO;
    med_rc rc = med_pg_result_err(res, conn, err);
    int n = rc == MED_OK ? PQntuples(res) : 0;
    c->n = 0;
    c->out = n > 0 ? MED_NEWN(c->a, g_recon_dlq_count, (size_t)n) : NULL;
    for (int i = 0; c->out && i < n; i++) {
        c->out[i].stage = med_arena_strdup(c->a, PQgetvalue(res, i, 0));
        c->out[i].count = strtoll(PQgetvalue(res, i, 1), NULL, 10);
        c->n++;
    }
    PQclear(res);
    if (rc == MED_OK && c->a->failed)
        rc = med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "dlq counts");
    return rc;
}

med_rc g_recon_store_dlq_counts(med_pg *pg, const g_recon_params *p, med_arena *a,
                                g_recon_dlq_count **out, size_t *n_out, med_err *err)
{
    dlq_ctx c = {p, a, NULL, 0};
    med_rc rc = med_pg_tx(pg, p->tenant_id, 0, dlq_tx, &c, err);
    *out = rc == MED_OK ? c.out : NULL;
    *n_out = rc == MED_OK ? c.n : 0;
    return rc;
}

/* ---- replay jobs ---- */

static json_t *job_row(const g_recon_job *j)
{
    json_t *row = json_object();
    if (!row) return NULL;
    char qhash[65];
    med_sha256_hex(j->query_json, strlen(j->query_json), qhash);
    int bad = med_rows_put(row, "job_id", j->job_id) | med_rows_put(row, "job_key", j->job_key) |
              med_rows_put(row, "execution_mode", j->execution_mode) |
              med_rows_put(row, "purpose", j->purpose) |
              med_rows_put(row, "query_mode", G_RECON_JOB_QUERY_MODE) |
              med_rows_put(row, "query", j->query_json) | med_rows_put(row, "query_hash", qhash) |
              med_rows_put(row, "record_key", j->record_key) |
              med_rows_put(row, "response_reference", j->response_reference) |
              med_rows_put(row, "render_attempt_id", j->render_attempt_id) |
              med_rows_put(row, "anchor_hash", j->anchor_hash) |
              med_rows_put(row, "version_anchor_snapshot_ref", j->version_anchor_snapshot_ref) |
              med_rows_put(row, "reason_code", j->reason_code) |
              med_rows_put(row, "status", j->status);
    if (bad) {
        json_decref(row);
        return NULL;
    }
    return row;
}

/* rows: the jobs as a JSON array of column objects; keys: their job keys. */
static med_rc jobs_json(const g_recon_job *jobs, size_t n, char **rows, char **keys, med_err *err)
{
    json_t *arr = json_array(), *karr = json_array();
    int bad = !arr || !karr;
    for (size_t i = 0; !bad && i < n; i++) {
        json_t *row = job_row(&jobs[i]);
        bad = !row || json_array_append_new(arr, row) != 0 ||
              json_array_append_new(karr, json_string(jobs[i].job_key)) != 0;
    }
    *rows = bad ? NULL : json_dumps(arr, JSON_COMPACT);
    *keys = bad ? NULL : json_dumps(karr, JSON_COMPACT);
    json_decref(arr);
    json_decref(karr);
    if (!*rows || !*keys) {
        free(*rows);
        free(*keys);
        *rows = *keys = NULL;
        return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "replay job rows");
    }
    return MED_OK;
}

typedef struct jobs_ctx {
    const char *tenant_id;
    g_recon_job *jobs;
    size_t n;
    med_arena *a;
    const char *rows, *keys;
} jobs_ctx;

/* Rows come ordered by job_key; jobs are in recordKey order, and every key
 * of one run shares the window prefix, so both walk forward together. */
static void apply_stored(jobs_ctx *c, const PGresult *res)
{
    size_t j = 0;
    for (int i = 0; i < PQntuples(res) && j < c->n; i++) {
        const char *key = PQgetvalue(res, i, 0);
        while (j < c->n && strcmp(c->jobs[j].job_key, key) < 0) j++;
        if (j == c->n || strcmp(c->jobs[j].job_key, key) != 0) continue;
        c->jobs[j].job_id = med_arena_strdup(c->a, PQgetvalue(res, i, 1));
        c->jobs[j].status = med_arena_strdup(c->a, PQgetvalue(res, i, 2));
        const char *reason = PQgetvalue(res, i, 3);
        if (*reason) c->jobs[j].reason_code = med_arena_strdup(c->a, reason);
        j++;
    }
}

static med_rc jobs_tx(med_pg *pg, PGconn *conn, void *ud, med_err *err)
{
    jobs_ctx *c = ud;
    const char *ins[2] = {c->rows, c->tenant_id};
    PGresult *res = med_pg_exec_prepared(pg, "g_recon_jobs_insert", 2, ins, err);
    if (!res) return err && err->rc != MED_OK ? err->rc : MED_ERR_IO;
    med_rc rc = med_pg_result_err(res, conn, err);
    PQclear(res);
    if (rc != MED_OK) return rc;
    const char *rd[2] = {c->keys, c->tenant_id};
    res = med_pg_exec_prepared(pg, "g_recon_jobs_read", 2, rd, err);
    if (!res) return err && err->rc != MED_OK ? err->rc : MED_ERR_IO;
    rc = med_pg_result_err(res, conn, err);
    if (rc == MED_OK) apply_stored(c, res);
    PQclear(res);
    if (rc == MED_OK && c->a->failed)
        rc = med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "replay jobs");
    return rc;
}

static med_rc save_chunk(med_pg *pg, const char *tenant_id, g_recon_job *jobs, size_t n,
                         med_arena *a, med_err *err)
{
    char *rows = NULL, *keys = NULL;
    med_rc rc = jobs_json(jobs, n, &rows, &keys, err);
    if (rc != MED_OK) return rc;
    jobs_ctx c = {tenant_id, jobs, n, a, rows, keys};
    rc = med_pg_tx(pg, tenant_id, 0, jobs_tx, &c, err);
    free(rows);
    free(keys);
    return rc;
}

med_rc g_recon_store_save_jobs(med_pg *pg, const char *tenant_id, g_recon_job *jobs, size_t n,
                               med_arena *a, med_err *err)
{
    /* bounded statements; each chunk is idempotent on its own */
    for (size_t off = 0; off < n; off += JOBS_PER_STATEMENT) {
        size_t k = n - off < JOBS_PER_STATEMENT ? n - off : JOBS_PER_STATEMENT;
        med_rc rc = save_chunk(pg, tenant_id, jobs + off, k, a, err);
        if (rc != MED_OK) return rc;
    }
    return MED_OK;
}
