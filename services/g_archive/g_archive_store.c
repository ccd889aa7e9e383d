#include "g_archive_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "med/ids.h"
#include "med/reason.h"
#include "med/pg_array.h"

/* Every parameter is a binary array (med_pg_cols), one per column,
 * unnested in step: neither side escapes or parses a document per row.
 * For the partitioned archive_records: "col = ANY($n)" is an index
 * condition in every partition, where "col IN (SELECT unnest(...))" lets
 * the planner hash-join over a scan of them all, whose cost grows with the
 * table. */
#define ANY_LIST(n) "ANY($" #n "::text[])"
#define MS(x) "(extract(epoch from " x ") * 1000)::bigint"
#define GROUP_OF(a) "coalesce(" a ".closure_key, 'NA') || '|' || " a ".trace_key"

/* The statement timeout bounds every archive write: a write that waits
 * longer is g_archive_write_timeout (G.4), not a stuck consumer. */
#define STMT_TIMEOUT "g_arch_timeout"
#define SQL_TIMEOUT "SELECT set_config('statement_timeout', $1, true)"

#define STMT_CLAIM "g_arch_claim"
#define SQL_CLAIM                                                                                  \
    "INSERT INTO archive_record_keys (record_key, tenant_id, record_type, payload_digest, "       \
    "created_at) SELECT DISTINCT ON (r.record_key) r.record_key, "                                 \
    "current_setting('app.tenant_id'), r.record_type, r.payload_digest, now() "                   \
    "FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY "                             \
    "AS r(record_key, record_type, payload_digest, i) ORDER BY r.record_key, r.i "                 \
    "ON CONFLICT (record_key) DO NOTHING RETURNING record_key"

/* The Delivery supplies what the record does not carry: the version
 * anchor snapshot (and the anchor hash when F left it empty), the same
 * values F copied onto billing_ledger, so reconciliation compares like
 * with like. */
#define STMT_INSERT "g_arch_insert"
#define SQL_INSERT                                                                                 \
    "INSERT INTO archive_records (tenant_id, app_id, placement_id, record_key, record_type, "      \
    "record_status, payload_type, payload_key, payload_digest, event_id, source_event_id, "        \
    "trace_key, request_key, attempt_key, opportunity_key, response_reference, "                   \
    "render_attempt_id, closure_key, billing_key, attribution_key, canonical_dedup_key, "          \
    "decision_reason_code, conflict_with_record_key, superseded_record_key, output_at, "           \
    "write_status, next_attempt_at, written_at, billable, amount_micros, currency, anchor_hash, "  \
    "version_anchor_snapshot_ref, version_anchors, payload, payload_pb) "                          \
    "SELECT current_setting('app.tenant_id'), r.app_id, r.placement_id, r.record_key, "            \
    "r.record_type, r.record_status, "                                                             \
    "r.payload_type, r.payload_key, r.payload_digest, r.event_id, r.source_event_id, r.trace_key, " \
    "r.request_key, r.attempt_key, r.opportunity_key, r.response_reference, r.render_attempt_id, " \
    "r.closure_key, r.billing_key, r.attribution_key, r.canonical_dedup_key, "                     \
    "r.decision_reason_code, r.conflict_with_record_key, r.superseded_record_key, "                \
    "to_timestamp(r.output_at_ms / 1000.0), coalesce(r.ws, 'pending'), "                           \
    "CASE WHEN r.ws IS NULL AND r.record_status <> 'new' THEN now() END, "                          \
    "CASE WHEN r.ws = 'written' THEN now() END, r.billable, r.amount_micros, r.currency, "          \
    "coalesce(r.anchor_hash, d.anchor_hash), d.version_anchor_snapshot_ref, r.version_anchors::jsonb, " \
    "r.payload::jsonb, r.payload_pb FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], "  \
    "$5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], "       \
    "$12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[], "  \
    "$19::text[], $20::text[], $21::text[], $22::text[], $23::text[], $24::int8[], $25::bool[], "  \
    "$26::int8[], $27::text[], $28::text[], $29::text[], $30::text[], $31::text[], $32::bytea[]) " \
    "AS r(app_id, placement_id, record_key, record_type, record_status, payload_type, "            \
    "payload_key, payload_digest, event_id, source_event_id, trace_key, request_key, attempt_key, " \
    "opportunity_key, response_reference, render_attempt_id, closure_key, billing_key, "           \
    "attribution_key, canonical_dedup_key, decision_reason_code, conflict_with_record_key, "       \
    "superseded_record_key, output_at_ms, billable, amount_micros, currency, anchor_hash, "        \
    "version_anchors, payload, ws, payload_pb) "                                                   \
    "LEFT JOIN LATERAL (SELECT dr.anchor_hash, dr.version_anchor_snapshot_ref "                    \
    "FROM delivery_records dr WHERE dr.response_reference = r.response_reference "                 \
    "ORDER BY dr.created_at LIMIT 1) d ON true"

#define STMT_STORED "g_arch_stored"
#define SQL_STORED                                                                                 \
    "SELECT k.record_key, k.payload_digest FROM archive_record_keys k WHERE k.record_key = " ANY_LIST(1)

/* committed -> superseded (F.8), whichever of the announcing
 * decision_audit and its target arrives second applies it. */
#define STMT_SUPERSEDE "g_arch_supersede"
/* Only a timeout failure's attribution can be superseded (F.8): the
 * statement text takes MED_R_F_TERMINAL_TIMEOUT_AUTOFILL between its head
 * and tail at prepare time (prepare_supersede). */
#define SQL_SUPERSEDE_HEAD                                                                         \
    "UPDATE archive_records a SET record_status = 'superseded', updated_at = now() "               \
    "WHERE a.record_status = 'committed' AND a.record_type = 'attribution_fact' "                  \
    "AND a.decision_reason_code = '"
#define SQL_SUPERSEDE_TAIL                                                                         \
    "' AND a.record_key = ANY(ARRAY("                                                               \
    "SELECT s.superseded_record_key FROM archive_records s WHERE s.record_key = " ANY_LIST(1)      \
    " AND s.record_type = 'decision_audit' AND s.superseded_record_key IS NOT NULL "               \
    "UNION SELECT t.record_key FROM archive_records t WHERE t.record_key = " ANY_LIST(1)           \
    " AND t.record_status = 'committed' AND EXISTS (SELECT 1 FROM archive_records s "              \
    "WHERE s.superseded_record_key = t.record_key AND s.record_type = 'decision_audit')))"

#define ROW_COLUMNS                                                                                \
    "a.record_key, coalesce(a.source_event_id, ''), a.record_type, a.record_status, "              \
    "a.write_status, " MS("a.output_at") ", " MS("a.created_at") ", a.write_attempts, "            \
    GROUP_OF("a") " AS g, " MS("now()") ", a.trace_key, coalesce(a.write_reason_code, '') "
enum { C_KEY, C_SRC, C_TYPE, C_STATUS, C_WS, C_OUT, C_INGEST, C_ATTEMPTS, C_GROUP, C_NOW, C_TRACE,
       C_REASON };

/* Inside a group, rows come in G.4 write order (g_group_row_cmp):
 * decision_audit, billable_fact, attribution_fact; outputAt; recordKey
 * bytes. The plan and its single UPDATE follow that order; all of them
 * commit together, and no fact ever commits before its audit. */
#define WRITE_ORDER \
    "CASE a.record_type WHEN 'decision_audit' THEN 0 WHEN 'billable_fact' THEN 1 ELSE 2 END, " \
    "a.output_at, a.record_key COLLATE \"C\""

#define STMT_LOAD "g_arch_load"
#define SQL_LOAD                                                                                   \
    "SELECT " ROW_COLUMNS "FROM archive_records a WHERE a.trace_key = " ANY_LIST(1)                \
    " AND " GROUP_OF("a") " = " ANY_LIST(2) " ORDER BY g, " WRITE_ORDER " FOR UPDATE OF a"

#define STMT_DUE "g_arch_due"
#define SQL_DUE                                                                                    \
    "SELECT " ROW_COLUMNS "FROM archive_records a "                                                \
    "WHERE a.write_status IN ('pending', 'write_failed_retryable') AND a.record_status <> 'new' "   \
    "AND a.next_attempt_at <= now() ORDER BY a.next_attempt_at LIMIT $1::int "                     \
    "FOR UPDATE OF a SKIP LOCKED"

#define STMT_APPLY "g_arch_apply"
#define SQL_APPLY                                                                                  \
    "UPDATE archive_records a SET write_status = u.ws, write_reason_code = u.reason, "             \
    "next_attempt_at = CASE WHEN coalesce(u.next_ms, 0) = 0 THEN NULL "                            \
    "ELSE to_timestamp(u.next_ms / 1000.0) END, write_attempts = a.write_attempts + u.attempt, "   \
    "written_at = CASE WHEN u.ws = 'written' THEN now() ELSE a.written_at END, "                   \
    "updated_at = now() FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::int4[]) "  \
    "AS u(record_key, ws, reason, next_ms, attempt) WHERE a.record_key = u.record_key "            \
    "AND a.record_key = " ANY_LIST(1)

#define STMT_STATE "g_arch_state"
#define SQL_STATE                                                                                  \
    "SELECT " ROW_COLUMNS "FROM archive_records a WHERE a.record_key = " ANY_LIST(1)

#define STMT_QUARANTINE "g_arch_quarantine"
#define SQL_QUARANTINE                                                                             \
    "INSERT INTO dead_letter_records (tenant_id, stage, failed_subject, stream, stream_seq, "      \
    "consumer, msg_id, reason_code, last_error, num_delivered, payload, trace_key, request_key, "  \
    "opportunity_key) SELECT current_setting('app.tenant_id'), 'g', r.subject, r.stream, "         \
    "r.stream_seq, r.consumer, r.msg_id, r.reason_code, r.last_error, r.num_delivered, "           \
    "r.payload, r.trace_key, r.request_key, r.opportunity_key "                                    \
    "FROM unnest($1::text[], $2::text[], $3::int8[], $4::text[], $5::text[], $6::text[], "         \
    "$7::text[], $8::int8[], $9::bytea[], $10::text[], $11::text[], $12::text[]) "                 \
    "AS r(subject, stream, stream_seq, consumer, msg_id, reason_code, last_error, num_delivered, " \
    "payload, trace_key, request_key, opportunity_key) "                                           \
    "ON CONFLICT ON CONSTRAINT dead_letter_records_origin_key DO NOTHING"

#define STMT_DUE_TENANTS "g_arch_due_tenants"
#define SQL_DUE_TENANTS "SELECT tenant_id FROM g_archive_due_tenants(now(), $1::int)"

enum { CLAIM_KEY, CLAIM_TYPE, CLAIM_DIGEST, CLAIM_N };
enum { APPLY_KEY, APPLY_WS, APPLY_REASON, APPLY_NEXT_MS, APPLY_ATTEMPT, APPLY_N };
enum { QN_SUBJECT, QN_STREAM, QN_STREAM_SEQ, QN_CONSUMER, QN_MSG_ID, QN_REASON, QN_LAST_ERROR,
       QN_NUM_DELIVERED, QN_PAYLOAD, QN_TRACE, QN_REQUEST, QN_OPPORTUNITY, QN_N };
_Static_assert(G_COL_N == 32 && G_COL_N <= MED_PG_COLS_MAX && QN_N == 12, "statement parameter numbers");

static med_rc prepare_supersede(med_pg *pg, med_err *err)
{
    char sql[2048];
    int n = snprintf(sql, sizeof sql, "%s%s%s", SQL_SUPERSEDE_HEAD, MED_R_F_TERMINAL_TIMEOUT_AUTOFILL,
                     SQL_SUPERSEDE_TAIL);
    if (n < 0 || (size_t)n >= sizeof sql)
        return med_err_set(err, MED_ERR_INTERNAL, MED_R_INFRA_PERMANENT_FAILURE, NULL, "supersede statement");
    return med_pg_prepare(pg, STMT_SUPERSEDE, sql, 1, err);
}

med_rc g_archive_store_prepare(med_pg *pg, med_err *err)
{
    static const struct { const char *name, *sql; int n; } stmts[] = {
        { STMT_TIMEOUT, SQL_TIMEOUT, 1 }, { STMT_CLAIM, SQL_CLAIM, CLAIM_N },
        { STMT_INSERT, SQL_INSERT, G_COL_N }, { STMT_STORED, SQL_STORED, 1 },
        { STMT_LOAD, SQL_LOAD, 2 },
        { STMT_DUE, SQL_DUE, 1 }, { STMT_APPLY, SQL_APPLY, APPLY_N }, { STMT_STATE, SQL_STATE, 1 },
        { STMT_QUARANTINE, SQL_QUARANTINE, QN_N }, { STMT_DUE_TENANTS, SQL_DUE_TENANTS, 1 },
    };
    for (size_t i = 0; i < sizeof stmts / sizeof stmts[0]; i++) {
        med_rc rc = med_pg_prepare(pg, stmts[i].name, stmts[i].sql, stmts[i].n, err);
        if (rc != MED_OK) return rc;
    }
    return prepare_supersede(pg, err);
}

/* ---- small helpers ---- */

static med_rc nomem(med_err *err, const char *what)
{
    return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "%s", what);
}

/* Runs a one-parameter statement; the result (NULL on failure, err set)
 * is the caller's. */
static PGresult *run1(med_pg *pg, const char *stmt, const char *p1, med_err *err)
{
    const char *params[1] = { p1 };
    return med_pg_exec_prepared(pg, stmt, 1, params, err);
}

static med_rc run1_done(med_pg *pg, const char *stmt, const char *p1, med_err *err)
{
    PGresult *res = run1(pg, stmt, p1, err);
    if (!res) return err->rc ? err->rc : MED_ERR_IO;
    PQclear(res);
    return MED_OK;
}

static med_rc run_cols_done(med_pg *pg, const char *stmt, const med_pg_cols *c, med_err *err)
{
    PGresult *res = med_pg_exec_cols(pg, stmt, c, err);
    if (!res) return err->rc ? err->rc : MED_ERR_IO;
    PQclear(res);
    return MED_OK;
}

/* c = one text[] column per list (nlists <= 2): the non-NULL strings of
 * lists[j][0 .. n). */
static med_rc key_lists(med_pg_cols *c, int nlists, const char *const *const *lists, size_t n,
                        med_err *err)
{
    med_pg_cols_init(c, (const uint32_t[]){ MED_PG_OID_TEXT, MED_PG_OID_TEXT }, nlists);
    for (int j = 0; j < c->n; j++)
        for (size_t i = 0; i < n; i++)
            if (lists[j][i]) med_pg_array_add_str(&c->col[j], lists[j][i]);
    return med_pg_cols_finish(c, err);
}

static med_rc exec_simple(PGconn *conn, const char *sql, med_err *err)
{
    PGresult *res = PQexec(conn, sql);
    med_rc rc = med_pg_result_err(res, conn, err);
    PQclear(res);
    return rc;
}

static int64_t col_i64(const PGresult *res, int r, int c) { return strtoll(PQgetvalue(res, r, c), NULL, 10); }

/* ---- loaded rows ---- */

/* Rows of archive_records (ROW_COLUMNS) as the gate sees them. The
 * strings point into res. */
typedef struct loaded {
    PGresult *res;
    g_group_row *rows;
    g_row_update *upd;
    int n;
    int64_t now_ms;
} loaded;

static void loaded_free(loaded *l)
{
    PQclear(l->res);
    free(l->rows);
    free(l->upd);
    memset(l, 0, sizeof *l);
}

static med_rc loaded_take(PGresult *res, loaded *l, med_err *err)
{
    memset(l, 0, sizeof *l);
    l->res = res;
    l->n = PQntuples(res);
    l->rows = calloc((size_t)l->n + 1, sizeof *l->rows);
    l->upd = calloc((size_t)l->n + 1, sizeof *l->upd);
    if (!l->rows || !l->upd) {
        loaded_free(l);
        return nomem(err, "archive group");
    }
    for (int i = 0; i < l->n; i++) {
        g_group_row *g = &l->rows[i];
        g->record_key = PQgetvalue(res, i, C_KEY);
        g->source_event_id = PQgetvalue(res, i, C_SRC);
        if (g_record_type_parse(PQgetvalue(res, i, C_TYPE), &g->type) != 0 ||
            g_record_status_parse(PQgetvalue(res, i, C_STATUS), &g->status) != 0 ||
            g_write_status_parse(PQgetvalue(res, i, C_WS), &g->ws) != 0) {
            loaded_free(l);
            return med_err_set(err, MED_ERR_INTERNAL, MED_R_INFRA_PG_INVALID, NULL,
                               "archive row with unknown type or status");
        }
        g->output_at_ms = col_i64(res, i, C_OUT);
        g->ingest_ms = col_i64(res, i, C_INGEST);
        g->write_attempts = (int)col_i64(res, i, C_ATTEMPTS);
        l->now_ms = col_i64(res, i, C_NOW);
    }
    return MED_OK;
}

static const char *loaded_group(const loaded *l, int i) { return PQgetvalue(l->res, i, C_GROUP); }

static int loaded_find(const loaded *l, const char *key)
{
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->rows[i].record_key, key) == 0) return i;
    return -1;
}

/* Plans each group (rows arrive ordered by group) with g_group_plan. */
static void plan_groups(loaded *l, const g_plan_policy *pp)
{
    int start = 0;
    while (start < l->n) {
        int end = start + 1;
        while (end < l->n && strcmp(loaded_group(l, end), loaded_group(l, start)) == 0) end++;
        g_group_plan(&l->rows[start], (size_t)(end - start), l->now_ms, pp, &l->upd[start]);
        start = end;
    }
}

/* The updates of l as STMT_APPLY's columns; *count = rows that change. */
static med_rc updates_cols(const loaded *l, const unsigned char *only, med_pg_cols *c,
                           size_t *count, med_err *err)
{
    med_pg_cols_init(c, (const uint32_t[]){ MED_PG_OID_TEXT, MED_PG_OID_TEXT, MED_PG_OID_TEXT,
                                            MED_PG_OID_INT8, MED_PG_OID_INT4 }, APPLY_N);
    *count = 0;
    for (int i = 0; i < l->n; i++) {
        const g_row_update *u = &l->upd[i];
        if (!u->change || (only && !only[i])) continue;
        med_pg_array_add_str(&c->col[APPLY_KEY], l->rows[i].record_key);
        med_pg_array_add_str(&c->col[APPLY_WS], g_write_status_name(u->ws));
        med_pg_array_add_str(&c->col[APPLY_REASON], u->reason);
        med_pg_array_add_int8(&c->col[APPLY_NEXT_MS], u->next_attempt_ms);
        med_pg_array_add_int4(&c->col[APPLY_ATTEMPT], u->attempt);
        (*count)++;
    }
    return med_pg_cols_finish(c, err);
}

static med_rc apply_updates(med_pg *pg, const loaded *l, const unsigned char *only, int *handled,
                            med_err *err)
{
    size_t count = 0;
    med_pg_cols c;
    med_rc rc = updates_cols(l, only, &c, &count, err);
    if (rc == MED_OK && count) rc = run_cols_done(pg, STMT_APPLY, &c, err);
    med_pg_cols_free(&c);
    if (rc == MED_OK && handled) *handled += (int)count;
    return rc;
}

/* Folds the planned updates into the rows (what they are after apply). */
static void loaded_settle(loaded *l)
{
    for (int i = 0; i < l->n; i++)
        if (l->upd[i].change) l->rows[i].ws = l->upd[i].ws;
}

/* ---- the write (shared by ingest and sweep) ---- */

/* Locks and plans every group named in keys (STMT_LOAD's two columns:
 * trace keys, group keys), then applies the plan. Runs inside a
 * savepoint: a failure there is returned with the transaction still
 * usable. */
static med_rc write_groups(med_pg *pg, PGconn *conn, const med_pg_cols *keys,
                           const g_plan_policy *pp, loaded *out, int *handled, int *aborted,
                           med_err *err)
{
    *aborted = 0;
    med_rc rc = exec_simple(conn, "SAVEPOINT g_write", err);
    if (rc != MED_OK) return rc;
    PGresult *res = med_pg_exec_cols(pg, STMT_LOAD, keys, err);
    rc = res ? loaded_take(res, out, err) : (err->rc ? err->rc : MED_ERR_IO);
    if (rc == MED_OK) {
        plan_groups(out, pp);
        rc = apply_updates(pg, out, NULL, handled, err);
    }
    if (rc == MED_OK) {
        loaded_settle(out);
        return exec_simple(conn, "RELEASE SAVEPOINT g_write", err);
    }
    loaded_free(out);
    med_err rerr;
    med_err_clear(&rerr);
    if (exec_simple(conn, "ROLLBACK TO SAVEPOINT g_write", &rerr) != MED_OK) {
        /* the transaction is gone (connection lost): retry it whole */
        *aborted = 1;
        if (med_rc_is_retryable(rc)) return rc;
        *err = rerr;
        return rerr.rc;
    }
    return rc;
}

/* The write failed with (rc, err): the candidates go retryable on the
 * ladder, or terminal (g_failure_plan). cand rows are locked by this
 * transaction, so this never waits. */
static med_rc fail_candidates(med_pg *pg, loaded *cand, med_rc rc, const med_err *cause,
                              const g_plan_policy *pp, int *handled, med_err *err)
{
    g_write_failure f = g_write_failure_classify(rc, cause->code);
    /* The plan keeps the reason pointer beyond cause: use the canonical
     * (static) string of the code. */
    const char *canon = med_reason_lookup(f.reason);
    f.reason = canon ? canon : MED_R_INFRA_PERMANENT_FAILURE;
    for (int i = 0; i < cand->n; i++)
        g_failure_plan(&cand->rows[i], &f, cand->now_ms, pp, &cand->upd[i]);
    med_rc arc = apply_updates(pg, cand, NULL, handled, err);
    if (arc == MED_OK) loaded_settle(cand);
    return arc;
}

static med_rc set_timeout(med_pg *pg, const g_store_policy *p, med_err *err)
{
    char ms[32];
    snprintf(ms, sizeof ms, "%lld", (long long)p->write_timeout_ms);
    return run1_done(pg, STMT_TIMEOUT, ms, err);
}

/* ---- ingest ---- */

typedef struct ingest_q {
    const g_archive_row *rows;
    const size_t *idx;
    size_t n;
    const g_store_policy *p;
    g_ingest_out *outs;
    unsigned char *won;        /* per k: this occurrence inserted the key */
    unsigned char *final;      /* per k: inserted already written (its gate opens in the batch) */
    int *first;                /* per k: first k with the same key */
    int lock_failed;           /* the groups could not be locked: write_rc / write_err say why */
    med_pg_cols group_keys;    /* trace keys, group keys (closureKeyOrNA|traceKey): STMT_LOAD's */
    loaded cand;               /* the rows this batch inserted (failure path) */
    loaded groups;             /* the groups after the write */
    PGresult *stored;          /* digests of keys claimed before */
    med_rc write_rc;
    med_err write_err;
} ingest_q;

static const g_archive_row *qrow(const ingest_q *q, size_t k) { return &q->rows[q->idx[k]]; }

static med_rc claim_keys(med_pg *pg, ingest_q *q, med_err *err)
{
    med_pg_cols c;
    med_pg_cols_init(&c, (const uint32_t[]){ MED_PG_OID_TEXT, MED_PG_OID_TEXT, MED_PG_OID_TEXT },
                     CLAIM_N);
    for (size_t k = 0; k < q->n; k++) {
        const g_archive_row *r = qrow(q, k);
        med_pg_array_add_str(&c.col[CLAIM_KEY], r->record_key);
        med_pg_array_add_str(&c.col[CLAIM_TYPE], g_record_type_name(r->type));
        med_pg_array_add_str(&c.col[CLAIM_DIGEST], r->payload_digest);
    }
    med_rc rc = med_pg_cols_finish(&c, err);
    PGresult *res = rc == MED_OK ? med_pg_exec_cols(pg, STMT_CLAIM, &c, err) : NULL;
    med_pg_cols_free(&c);
    if (!res) return rc != MED_OK ? rc : (err->rc ? err->rc : MED_ERR_IO);
    for (size_t k = 0; k < q->n; k++) {
        q->first[k] = (int)k;
        for (size_t j = 0; j < k; j++)
            if (strcmp(qrow(q, j)->record_key, qrow(q, k)->record_key) == 0) {
                q->first[k] = (int)j;
                break;
            }
        for (int t = 0; q->first[k] == (int)k && t < PQntuples(res); t++)
            if (strcmp(PQgetvalue(res, t, 0), qrow(q, k)->record_key) == 0) q->won[k] = 1;
    }
    PQclear(res);
    return MED_OK;
}

static med_rc insert_won(med_pg *pg, ingest_q *q, med_err *err)
{
    med_pg_cols c;
    g_archive_row_cols_init(&c);
    size_t count = 0;
    for (size_t k = 0; k < q->n; k++) {
        if (!q->won[k]) continue;
        g_archive_row_cols_add(&c, qrow(q, k), q->final[k] ? "written" : NULL);
        count++;
    }
    med_rc rc = med_pg_cols_finish(&c, err);
    if (rc == MED_OK && count) rc = run_cols_done(pg, STMT_INSERT, &c, err);
    med_pg_cols_free(&c);
    return rc;
}

/* c = the batch's record keys: all (won_only 0), or the won ones. */
static med_rc batch_keys(const ingest_q *q, int won_only, med_pg_cols *c, med_err *err)
{
    med_pg_cols_init(c, (const uint32_t[]){ MED_PG_OID_TEXT }, 1);
    for (size_t k = 0; k < q->n; k++)
        if (!won_only || q->won[k]) med_pg_array_add_str(&c->col[0], qrow(q, k)->record_key);
    return med_pg_cols_finish(c, err);
}

/* q->group_keys: the batch's trace keys and group keys. */
static med_rc batch_groups(ingest_q *q, med_err *err)
{
    const char **t = calloc(q->n + 1, sizeof *t), **g = calloc(q->n + 1, sizeof *g);
    med_rc rc = t && g ? MED_OK : nomem(err, "archive groups");
    for (size_t k = 0; rc == MED_OK && k < q->n; k++) {
        t[k] = qrow(q, k)->trace_key;
        g[k] = qrow(q, k)->group_key;
    }
    const char *const *lists[2] = { t, g };
    if (rc == MED_OK) rc = key_lists(&q->group_keys, 2, lists, q->n, err);
    free(t);
    free(g);
    return rc;
}

/* Runs a statement on the batch's keys (batch_keys); the result as run_cols. */
static PGresult *run_batch_keys(med_pg *pg, const char *stmt, const ingest_q *q, int won_only,
                                med_err *err)
{
    med_pg_cols c;
    PGresult *res = batch_keys(q, won_only, &c, err) == MED_OK ? med_pg_exec_cols(pg, stmt, &c, err) : NULL;
    med_pg_cols_free(&c);
    return res;
}

static med_rc read_stored(med_pg *pg, ingest_q *q, med_err *err)
{
    size_t lost = 0;
    for (size_t k = 0; k < q->n; k++) lost += !q->won[k];
    if (lost == 0) return MED_OK; /* every key is new: no stored digest to compare */
    q->stored = run_batch_keys(pg, STMT_STORED, q, 0, err);
    return q->stored ? MED_OK : (err->rc ? err->rc : MED_ERR_IO);
}

/* Most batches hold neither an announcing decision_audit nor a timeout
 * failure's attribution: nothing to supersede, no statement. */
static med_rc supersede(med_pg *pg, ingest_q *q, med_err *err)
{
    size_t k = 0;
    while (k < q->n && !g_archive_row_takes_part_in_supersede(qrow(q, k))) k++;
    if (k == q->n) return MED_OK;
    PGresult *res = run_batch_keys(pg, STMT_SUPERSEDE, q, 1, err);
    if (!res) return err->rc ? err->rc : MED_ERR_IO;
    PQclear(res);
    return MED_OK;
}

/* The batch's own rows, for the failure path (they are ours: inserted by
 * this transaction, so reading them locked never waits). */
static med_rc load_candidates(med_pg *pg, ingest_q *q, med_err *err)
{
    PGresult *res = run_batch_keys(pg, STMT_STATE, q, 1, err);
    if (!res) return err->rc ? err->rc : MED_ERR_IO;
    return loaded_take(res, &q->cand, err);
}

/* Locks the stored rows of every group the batch touches, before its rows
 * go in: a group is written under its lock, so a record can be inserted
 * in its final state only once nobody else holds the group. A lock that
 * cannot be had (statement timeout: g_archive_write_timeout) is the same
 * write failure as before: the rows go in pending and onto the ladder. */
static med_rc lock_groups(med_pg *pg, PGconn *conn, ingest_q *q, med_err *err)
{
    med_rc rc = exec_simple(conn, "SAVEPOINT g_lock", err);
    if (rc != MED_OK) return rc;
    med_err_clear(&q->write_err);
    PGresult *res = med_pg_exec_cols(pg, STMT_LOAD, &q->group_keys, &q->write_err);
    if (res) {
        PQclear(res);
        return exec_simple(conn, "RELEASE SAVEPOINT g_lock", err);
    }
    q->write_rc = q->write_err.rc ? q->write_err.rc : MED_ERR_IO;
    q->lock_failed = 1;
    med_err rerr;
    med_err_clear(&rerr);
    if (exec_simple(conn, "ROLLBACK TO SAVEPOINT g_lock", &rerr) == MED_OK) return MED_OK;
    /* the transaction is gone (connection lost): retry it whole */
    if (med_rc_is_retryable(q->write_rc)) {
        *err = q->write_err;
        return q->write_rc;
    }
    *err = rerr;
    return rerr.rc;
}

/* The batch's own rows of one group as the gate sees them at ingest. */
static size_t batch_group_rows(const ingest_q *q, size_t k0, g_group_row *rows, size_t *ks,
                               size_t cap, int64_t now_ms)
{
    size_t n = 0;
    const char *g = qrow(q, k0)->group_key;
    for (size_t k = k0; k < q->n && n < cap; k++) {
        const g_archive_row *r = qrow(q, k);
        if (!q->won[k] || strcmp(r->group_key, g) != 0) continue;
        rows[n] = (g_group_row){ .record_key = r->record_key,
                                 .source_event_id = r->source_event_id ? r->source_event_id : "",
                                 .type = r->type, .status = r->status, .ws = G_WS_PENDING,
                                 .output_at_ms = r->output_at_ms, .ingest_ms = now_ms };
        ks[n++] = k;
    }
    return n;
}

/* Marks final[k] for every won row the gate opens among the batch's own
 * rows (F publishes a group in write order, so its decision_audit and
 * facts usually arrive together): those go in already written, with no
 * second heap version. A row the batch alone does not open (its audit
 * stored earlier, or not yet here) goes in pending, and write_groups
 * plans it against the stored rows as before. */
static void plan_final(ingest_q *q)
{
    enum { CAP = 64 };
    g_group_row rows[CAP];
    g_row_update upd[CAP];
    size_t ks[CAP];
    unsigned char *seen = calloc(q->n, 1);
    if (!seen) return; /* no fast path: every row takes the planned write */
    g_plan_policy pp = { q->p->window_ms, q->p->recheck_ms };
    int64_t now_ms = med_now_unix_ms();
    for (size_t k0 = 0; k0 < q->n; k0++) {
        if (!q->won[k0] || seen[k0]) continue;
        size_t n = batch_group_rows(q, k0, rows, ks, CAP, now_ms);
        g_group_plan(rows, n, now_ms, &pp, upd);
        for (size_t i = 0; i < n; i++) {
            seen[ks[i]] = 1;
            q->final[ks[i]] = upd[i].change && upd[i].ws == G_WS_WRITTEN;
        }
    }
    free(seen);
}

static med_rc write_batch_groups(med_pg *pg, PGconn *conn, ingest_q *q, med_err *err)
{
    g_plan_policy pp = { q->p->window_ms, q->p->recheck_ms };
    int aborted = 0;
    if (!q->lock_failed) {
        med_err_clear(&q->write_err);
        q->write_rc = write_groups(pg, conn, &q->group_keys, &pp, &q->groups, NULL, &aborted,
                                   &q->write_err);
    }
    if (q->write_rc == MED_OK) return MED_OK;
    if (aborted) {
        *err = q->write_err;
        return q->write_rc;
    }
    med_rc rc = load_candidates(pg, q, err);
    if (rc == MED_OK) rc = fail_candidates(pg, &q->cand, q->write_rc, &q->write_err, &pp, NULL, err);
    return rc;
}

static med_rc ingest_tx(med_pg *pg, PGconn *conn, void *ud, med_err *err)
{
    ingest_q *q = ud;
    loaded_free(&q->cand);
    loaded_free(&q->groups);
    PQclear(q->stored);
    q->stored = NULL;
    memset(q->won, 0, q->n);
    memset(q->final, 0, q->n);
    q->write_rc = MED_OK;
    q->lock_failed = 0;
    med_rc rc = set_timeout(pg, q->p, err);
    if (rc == MED_OK) rc = claim_keys(pg, q, err);
    if (rc == MED_OK) rc = lock_groups(pg, conn, q, err);
    if (rc == MED_OK && !q->lock_failed) plan_final(q);
    if (rc == MED_OK) rc = insert_won(pg, q, err);
    if (rc == MED_OK) rc = read_stored(pg, q, err);
    if (rc == MED_OK) rc = supersede(pg, q, err);
    if (rc == MED_OK) rc = write_batch_groups(pg, conn, q, err);
    return rc;
}

/* ---- results ---- */

static const char *stored_digest(const ingest_q *q, const char *key)
{
    for (int t = 0; q->stored && t < PQntuples(q->stored); t++)
        if (strcmp(PQgetvalue(q->stored, t, 0), key) == 0) return PQgetvalue(q->stored, t, 1);
    return NULL;
}

/* The group state of key's group in l (NULL when the group is unknown). */
static const char *group_state_of(const loaded *l, int at)
{
    if (at < 0) return NULL;
    const char *g = loaded_group(l, at);
    int start = at, end = at + 1;
    while (start > 0 && strcmp(loaded_group(l, start - 1), g) == 0) start--;
    while (end < l->n && strcmp(loaded_group(l, end), g) == 0) end++;
    return g_group_state_name(g_group_state_of(&l->rows[start], (size_t)(end - start)));
}

static void copy_to(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

/* The stored row of key: in the groups written, else among the failed
 * candidates. */
static void fill_from_rows(const ingest_q *q, const char *key, g_ingest_out *o)
{
    const loaded *l = &q->groups;
    int at = loaded_find(l, key);
    if (at < 0) {
        l = &q->cand;
        at = loaded_find(l, key);
    }
    if (at < 0) {
        o->result.ws = G_WS_PENDING;
        return;
    }
    o->result.ws = l->rows[at].ws;
    const char *reason = l->upd[at].change ? l->upd[at].reason : PQgetvalue(l->res, at, C_REASON);
    copy_to(o->reason, sizeof o->reason, reason);
    o->result.reason = o->reason[0] ? o->reason : NULL;
    o->result.retryable = o->result.ws == G_WS_FAILED_RETRYABLE;
    copy_to(o->stored_status, sizeof o->stored_status, g_record_status_name(l->rows[at].status));
    if (l == &q->groups) {
        copy_to(o->group_state, sizeof o->group_state, group_state_of(l, at));
        o->result.group_state = o->group_state;
    }
}

static void conflict_result(g_ingest_out *o)
{
    o->result.reason = MED_R_G_ARCHIVE_RECORDKEY_PAYLOAD_CONFLICT;
    o->result.retryable = 0;
    if (!o->stored_status[0]) o->result.ws = G_WS_FAILED_TERMINAL;
}

static void fill_results(const ingest_q *q)
{
    for (size_t k = 0; k < q->n; k++) {
        const g_archive_row *r = qrow(q, k);
        g_ingest_out *o = &q->outs[q->idx[k]];
        memset(o, 0, sizeof *o);
        o->result.record_key = r->record_key;
        fill_from_rows(q, r->record_key, o);
        if (q->won[k]) {
            o->stored_status[0] = '\0'; /* a fresh row, not a no-op */
            continue;
        }
        const char *first_digest = q->first[k] != (int)k ? qrow(q, (size_t)q->first[k])->payload_digest
                                                         : stored_digest(q, r->record_key);
        if (!first_digest || strcmp(first_digest, r->payload_digest) != 0) conflict_result(o);
        o->result.stored_record_status = o->stored_status[0] ? o->stored_status : NULL;
    }
}

static void ingest_q_free(ingest_q *q)
{
    loaded_free(&q->cand);
    loaded_free(&q->groups);
    PQclear(q->stored);
    free(q->won);
    free(q->final);
    free(q->first);
    med_pg_cols_free(&q->group_keys);
}

med_rc g_archive_store_ingest(med_pg *pg, const char *tenant, const g_archive_row *rows,
                              const size_t *idx, size_t n, const g_store_policy *p,
                              g_ingest_out *outs, med_err *err)
{
    if (n == 0) return MED_OK;
    ingest_q q = { .rows = rows, .idx = idx, .n = n, .p = p, .outs = outs };
    q.won = calloc(n, 1);
    q.final = calloc(n, 1);
    q.first = calloc(n, sizeof *q.first);
    med_rc rc = q.won && q.final && q.first ? batch_groups(&q, err) : nomem(err, "archive batch");
    if (rc == MED_OK) rc = med_pg_tx(pg, tenant, 0, ingest_tx, &q, err);
    if (rc == MED_OK) fill_results(&q);
    ingest_q_free(&q);
    return rc;
}

/* ---- quarantine ---- */

static void quarantine_add(med_pg_cols *c, const g_quarantine *q)
{
    med_pg_array *col = c->col;
    med_pg_array_add_str(&col[QN_SUBJECT], q->subject);
    med_pg_array_add_str(&col[QN_STREAM], q->stream);
    med_pg_array_add_int8(&col[QN_STREAM_SEQ], (int64_t)q->stream_seq);
    med_pg_array_add_str(&col[QN_CONSUMER], q->consumer);
    med_pg_array_add_str(&col[QN_MSG_ID], q->msg_id);
    med_pg_array_add_str(&col[QN_REASON], q->reason_code);
    med_pg_array_add_str(&col[QN_LAST_ERROR], q->last_error);
    /* int8 here, the column's int range checked by PostgreSQL */
    med_pg_array_add_int8(&col[QN_NUM_DELIVERED], (int64_t)q->num_delivered);
    /* no payload is stored as empty bytes, not NULL */
    med_pg_array_add(&col[QN_PAYLOAD], q->payload ? q->payload : (const uint8_t *)"", q->payload_len);
    med_pg_array_add_str(&col[QN_TRACE], q->trace_key);
    med_pg_array_add_str(&col[QN_REQUEST], q->request_key);
    med_pg_array_add_str(&col[QN_OPPORTUNITY], q->opportunity_key);
}

static med_rc cols_tx(med_pg *pg, PGconn *conn, void *ud, med_err *err)
{
    (void)conn;
    return run_cols_done(pg, STMT_QUARANTINE, ud, err);
}

med_rc g_archive_store_quarantine(med_pg *pg, const g_quarantine *q, const size_t *idx, size_t n,
                                  med_err *err)
{
    if (n == 0) return MED_OK;
    uint32_t oids[QN_N];
    for (int i = 0; i < QN_N; i++) oids[i] = MED_PG_OID_TEXT;
    oids[QN_STREAM_SEQ] = oids[QN_NUM_DELIVERED] = MED_PG_OID_INT8;
    oids[QN_PAYLOAD] = MED_PG_OID_BYTEA;
    med_pg_cols c;
    med_pg_cols_init(&c, oids, QN_N);
    for (size_t k = 0; k < n; k++) quarantine_add(&c, &q[idx[k]]);
    med_rc rc = med_pg_cols_finish(&c, err);
    if (rc == MED_OK) rc = med_pg_tx(pg, q[idx[0]].tenant_id, 0, cols_tx, &c, err);
    med_pg_cols_free(&c);
    return rc;
}

/* ---- sweep ---- */

typedef struct sweep_q {
    const g_store_policy *p;
    int limit;
    int handled;
} sweep_q;

/* The trace keys and group keys of the due rows, as STMT_LOAD takes them. */
static med_rc due_groups(const loaded *due, med_pg_cols *keys, med_err *err)
{
    const char **t = calloc((size_t)due->n + 1, sizeof *t), **g = calloc((size_t)due->n + 1, sizeof *g);
    med_rc rc = t && g ? MED_OK : nomem(err, "sweep groups");
    for (int i = 0; rc == MED_OK && i < due->n; i++) {
        t[i] = PQgetvalue(due->res, i, C_TRACE);
        g[i] = loaded_group(due, i);
    }
    const char *const *lists[2] = { t, g };
    if (rc == MED_OK) rc = key_lists(keys, 2, lists, (size_t)due->n, err);
    free(t);
    free(g);
    return rc;
}

static med_rc sweep_tx(med_pg *pg, PGconn *conn, void *ud, med_err *err)
{
    sweep_q *q = ud;
    q->handled = 0;
    char limit[16];
    snprintf(limit, sizeof limit, "%d", q->limit);
    med_rc rc = set_timeout(pg, q->p, err);
    PGresult *res = rc == MED_OK ? run1(pg, STMT_DUE, limit, err) : NULL;
    if (!res) return rc != MED_OK ? rc : (err->rc ? err->rc : MED_ERR_IO);
    loaded due, groups = { 0 };
    rc = loaded_take(res, &due, err);
    if (rc != MED_OK || due.n == 0) {
        if (rc == MED_OK) loaded_free(&due);
        return rc;
    }
    med_pg_cols keys = { .n = 0 };
    g_plan_policy pp = { q->p->window_ms, q->p->recheck_ms };
    rc = due_groups(&due, &keys, err);
    if (rc == MED_OK) {
        med_err werr;
        med_err_clear(&werr);
        int aborted = 0;
        med_rc wrc = write_groups(pg, conn, &keys, &pp, &groups, &q->handled, &aborted, &werr);
        if (wrc != MED_OK && aborted) {
            *err = werr;
            rc = wrc;
        } else if (wrc != MED_OK) {
            rc = fail_candidates(pg, &due, wrc, &werr, &pp, &q->handled, err);
        }
    }
    med_pg_cols_free(&keys);
    loaded_free(&groups);
    loaded_free(&due);
    return rc;
}

med_rc g_archive_store_sweep(med_pg *pg, const g_store_policy *p, int max_tenants, int *handled,
                             med_err *err)
{
    *handled = 0;
    char max[16];
    snprintf(max, sizeof max, "%d", max_tenants);
    PGresult *tenants = run1(pg, STMT_DUE_TENANTS, max, err);
    if (!tenants) return err->rc ? err->rc : MED_ERR_IO;
    med_rc rc = MED_OK;
    for (int t = 0; rc == MED_OK && t < PQntuples(tenants); t++) {
        sweep_q q = { p, 200, 0 };
        rc = med_pg_tx(pg, PQgetvalue(tenants, t, 0), 0, sweep_tx, &q, err);
        *handled += q.handled;
    }
    PQclear(tenants);
    return rc;
}
