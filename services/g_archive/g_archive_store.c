#include "g_archive_store.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "med/ids.h"
#include "med/reason.h"
#include "med/rows.h"

#define IN_LIST(n) "(SELECT jsonb_array_elements_text($" #n "::jsonb))"
/* For the partitioned archive_records: "col = ANY(ARRAY(...))" is an index
 * condition in every partition (the array is computed once), where
 * "col IN (SELECT ...)" lets the planner hash-join over a scan of them all,
 * whose cost grows with the table. */
#define ANY_LIST(n) "ANY(ARRAY(SELECT jsonb_array_elements_text($" #n "::jsonb)))"
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
    "FROM jsonb_to_recordset($1::jsonb) AS r(i int, record_key text, record_type text, "          \
    "payload_digest text) ORDER BY r.record_key, r.i "                                             \
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
    "version_anchor_snapshot_ref, version_anchors, payload) "                                      \
    "SELECT r.tenant_id, r.app_id, r.placement_id, r.record_key, r.record_type, r.record_status, " \
    "r.payload_type, r.payload_key, r.payload_digest, r.event_id, r.source_event_id, r.trace_key, " \
    "r.request_key, r.attempt_key, r.opportunity_key, r.response_reference, r.render_attempt_id, " \
    "r.closure_key, r.billing_key, r.attribution_key, r.canonical_dedup_key, "                     \
    "r.decision_reason_code, r.conflict_with_record_key, r.superseded_record_key, "                \
    "to_timestamp(r.output_at_ms / 1000.0), coalesce(r.ws, 'pending'), "                           \
    "CASE WHEN r.ws IS NULL AND r.record_status <> 'new' THEN now() END, "                          \
    "CASE WHEN r.ws = 'written' THEN now() END, r.billable, r.amount_micros, r.currency, "          \
    "coalesce(r.anchor_hash, d.anchor_hash), d.version_anchor_snapshot_ref, r.version_anchors, "   \
    "r.payload FROM jsonb_to_recordset($1::jsonb) AS r(tenant_id text, app_id text, "              \
    "placement_id text, record_key text, record_type text, record_status text, "                   \
    "payload_type text, payload_key text, payload_digest text, event_id text, "                    \
    "source_event_id text, trace_key text, request_key text, attempt_key text, "                   \
    "opportunity_key text, response_reference text, render_attempt_id text, closure_key text, "    \
    "billing_key text, attribution_key text, canonical_dedup_key text, "                           \
    "decision_reason_code text, conflict_with_record_key text, superseded_record_key text, "       \
    "output_at_ms bigint, billable boolean, amount_micros bigint, currency text, "                 \
    "anchor_hash text, version_anchors jsonb, payload jsonb, ws text) "                            \
    "LEFT JOIN LATERAL (SELECT dr.anchor_hash, dr.version_anchor_snapshot_ref "                    \
    "FROM delivery_records dr WHERE dr.response_reference = r.response_reference "                 \
    "ORDER BY dr.created_at LIMIT 1) d ON true"

#define STMT_STORED "g_arch_stored"
#define SQL_STORED                                                                                 \
    "SELECT k.record_key, k.payload_digest FROM archive_record_keys k WHERE k.record_key IN " IN_LIST(1)

/* committed -> superseded (F.8), whichever of the announcing
 * decision_audit and its target arrives second applies it. */
#define STMT_SUPERSEDE "g_arch_supersede"
#define SQL_SUPERSEDE                                                                              \
    "UPDATE archive_records a SET record_status = 'superseded', updated_at = now() "               \
    "WHERE a.record_status = 'committed' AND a.record_key = ANY(ARRAY("                            \
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
    "updated_at = now() FROM jsonb_to_recordset($1::jsonb) AS u(record_key text, ws text, "        \
    "reason text, next_ms bigint, attempt int) WHERE a.record_key = u.record_key "                 \
    "AND a.record_key = ANY(ARRAY(SELECT x->>'record_key' FROM jsonb_array_elements($1::jsonb) x))"

#define STMT_STATE "g_arch_state"
#define SQL_STATE                                                                                  \
    "SELECT " ROW_COLUMNS "FROM archive_records a WHERE a.record_key = " ANY_LIST(1)

#define STMT_QUARANTINE "g_arch_quarantine"
#define SQL_QUARANTINE                                                                             \
    "INSERT INTO dead_letter_records (tenant_id, stage, failed_subject, stream, stream_seq, "      \
    "consumer, msg_id, reason_code, last_error, num_delivered, payload, trace_key, request_key, "  \
    "opportunity_key) SELECT current_setting('app.tenant_id'), 'g', r.subject, r.stream, "         \
    "r.stream_seq, r.consumer, r.msg_id, r.reason_code, r.last_error, r.num_delivered, "           \
    "decode(r.payload, 'hex'), r.trace_key, r.request_key, r.opportunity_key "                     \
    "FROM jsonb_to_recordset($1::jsonb) AS r(subject text, stream text, stream_seq bigint, "       \
    "consumer text, msg_id text, reason_code text, last_error text, num_delivered int, "           \
    "payload text, trace_key text, request_key text, opportunity_key text) "                       \
    "ON CONFLICT ON CONSTRAINT dead_letter_records_origin_key DO NOTHING"

#define STMT_DUE_TENANTS "g_arch_due_tenants"
#define SQL_DUE_TENANTS "SELECT tenant_id FROM g_archive_due_tenants(now(), $1::int)"

med_rc g_archive_store_prepare(med_pg *pg, med_err *err)
{
    static const struct { const char *name, *sql; int n; } stmts[] = {
        { STMT_TIMEOUT, SQL_TIMEOUT, 1 }, { STMT_CLAIM, SQL_CLAIM, 1 },
        { STMT_INSERT, SQL_INSERT, 1 }, { STMT_STORED, SQL_STORED, 1 },
        { STMT_SUPERSEDE, SQL_SUPERSEDE, 1 }, { STMT_LOAD, SQL_LOAD, 2 },
        { STMT_DUE, SQL_DUE, 1 }, { STMT_APPLY, SQL_APPLY, 1 }, { STMT_STATE, SQL_STATE, 1 },
        { STMT_QUARANTINE, SQL_QUARANTINE, 1 }, { STMT_DUE_TENANTS, SQL_DUE_TENANTS, 1 },
    };
    for (size_t i = 0; i < sizeof stmts / sizeof stmts[0]; i++) {
        med_rc rc = med_pg_prepare(pg, stmts[i].name, stmts[i].sql, stmts[i].n, err);
        if (rc != MED_OK) return rc;
    }
    return MED_OK;
}

/* ---- small helpers ---- */

static char *dump(json_t *j)
{
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return s;
}

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

/* The updates of l as STMT_APPLY's rows; NULL on allocation failure, ""
 * (static) when nothing changes. */
static char *updates_json(const loaded *l, const unsigned char *only, size_t *count)
{
    json_t *arr = json_array();
    *count = 0;
    for (int i = 0; arr && i < l->n; i++) {
        const g_row_update *u = &l->upd[i];
        if (!u->change || (only && !only[i])) continue;
        json_t *o = json_pack("{s:s, s:s, s:s?, s:I, s:i}", "record_key", l->rows[i].record_key,
                              "ws", g_write_status_name(u->ws), "reason", u->reason, "next_ms",
                              (json_int_t)u->next_attempt_ms, "attempt", u->attempt);
        if (!o || json_array_append_new(arr, o) != 0) {
            json_decref(arr);
            return NULL;
        }
        (*count)++;
    }
    return dump(arr);
}

static med_rc apply_updates(med_pg *pg, const loaded *l, const unsigned char *only, int *handled,
                            med_err *err)
{
    size_t count = 0;
    char *text = updates_json(l, only, &count);
    if (!text) return nomem(err, "archive updates");
    med_rc rc = count ? run1_done(pg, STMT_APPLY, text, err) : MED_OK;
    free(text);
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

static char *keys_json(const char *const *keys, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        if (keys[i] && json_array_append_new(arr, json_string(keys[i])) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    return dump(arr);
}

/* Locks and plans every group named in groups (with their trace keys),
 * then applies the plan. Runs inside a savepoint: a failure there is
 * returned with the transaction still usable. */
static med_rc write_groups(med_pg *pg, PGconn *conn, const char *traces_json,
                           const char *groups_json, const g_plan_policy *pp, loaded *out,
                           int *handled, int *aborted, med_err *err)
{
    *aborted = 0;
    med_rc rc = exec_simple(conn, "SAVEPOINT g_write", err);
    if (rc != MED_OK) return rc;
    const char *params[2] = { traces_json, groups_json };
    PGresult *res = med_pg_exec_prepared(pg, STMT_LOAD, 2, params, err);
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
    char *traces_json;         /* the batch's trace keys, as the group lock and load take them */
    char *groups_json;         /* the batch's group keys (closureKeyOrNA|traceKey) */
    loaded cand;               /* the rows this batch inserted (failure path) */
    loaded groups;             /* the groups after the write */
    PGresult *stored;          /* digests of keys claimed before */
    med_rc write_rc;
    med_err write_err;
} ingest_q;

static const g_archive_row *qrow(const ingest_q *q, size_t k) { return &q->rows[q->idx[k]]; }

static med_rc claim_keys(med_pg *pg, ingest_q *q, med_err *err)
{
    json_t *arr = json_array();
    for (size_t k = 0; arr && k < q->n; k++) {
        const g_archive_row *r = qrow(q, k);
        json_t *o = json_pack("{s:i, s:s, s:s, s:s}", "i", (int)k, "record_key", r->record_key,
                              "record_type", g_record_type_name(r->type), "payload_digest",
                              r->payload_digest);
        if (!o || json_array_append_new(arr, o) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    char *text = dump(arr);
    if (!text) return nomem(err, "archive claims");
    PGresult *res = run1(pg, STMT_CLAIM, text, err);
    free(text);
    if (!res) return err->rc ? err->rc : MED_ERR_IO;
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
    json_t *arr = json_array();
    size_t count = 0;
    for (size_t k = 0; arr && k < q->n; k++) {
        if (!q->won[k]) continue;
        json_t *o = g_archive_row_json(qrow(q, k), (int)k);
        if (o && q->final[k] && json_object_set_new(o, "ws", json_string("written")) != 0) {
            json_decref(o);
            o = NULL;
        }
        if (!o || json_array_append_new(arr, o) != 0) {
            json_decref(arr);
            arr = NULL;
        }
        count++;
    }
    char *text = dump(arr);
    if (!text) return nomem(err, "archive rows");
    med_rc rc = count ? run1_done(pg, STMT_INSERT, text, err) : MED_OK;
    free(text);
    return rc;
}

/* JSON array of the batch's keys: all (won_only 0), or the won ones. */
static char *batch_keys(const ingest_q *q, int won_only)
{
    const char **keys = calloc(q->n + 1, sizeof *keys);
    if (!keys) return NULL;
    for (size_t k = 0; k < q->n; k++)
        if (!won_only || q->won[k]) keys[k] = qrow(q, k)->record_key;
    char *s = keys_json(keys, q->n);
    free(keys);
    return s;
}

static char *batch_groups(const ingest_q *q, int traces)
{
    const char **v = calloc(q->n + 1, sizeof *v);
    if (!v) return NULL;
    for (size_t k = 0; k < q->n; k++) v[k] = traces ? qrow(q, k)->trace_key : qrow(q, k)->group_key;
    char *s = keys_json(v, q->n);
    free(v);
    return s;
}

static med_rc read_stored(med_pg *pg, ingest_q *q, med_err *err)
{
    size_t lost = 0;
    for (size_t k = 0; k < q->n; k++) lost += !q->won[k];
    if (lost == 0) return MED_OK; /* every key is new: no stored digest to compare */
    char *keys = batch_keys(q, 0);
    if (!keys) return nomem(err, "archive keys");
    q->stored = run1(pg, STMT_STORED, keys, err);
    free(keys);
    return q->stored ? MED_OK : (err->rc ? err->rc : MED_ERR_IO);
}

static med_rc supersede(med_pg *pg, ingest_q *q, med_err *err)
{
    char *keys = batch_keys(q, 1);
    if (!keys) return nomem(err, "archive keys");
    med_rc rc = run1_done(pg, STMT_SUPERSEDE, keys, err);
    free(keys);
    return rc;
}

/* The batch's own rows, for the failure path (they are ours: inserted by
 * this transaction, so reading them locked never waits). */
static med_rc load_candidates(med_pg *pg, ingest_q *q, med_err *err)
{
    char *keys = batch_keys(q, 1);
    if (!keys) return nomem(err, "archive keys");
    PGresult *res = run1(pg, STMT_STATE, keys, err);
    free(keys);
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
    const char *params[2] = { q->traces_json, q->groups_json };
    med_err_clear(&q->write_err);
    PGresult *res = med_pg_exec_prepared(pg, STMT_LOAD, 2, params, &q->write_err);
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
        q->write_rc = write_groups(pg, conn, q->traces_json, q->groups_json, &pp, &q->groups, NULL,
                                   &aborted, &q->write_err);
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
    free(q->traces_json);
    free(q->groups_json);
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
    q.traces_json = batch_groups(&q, 1);
    q.groups_json = batch_groups(&q, 0);
    if (!q.won || !q.final || !q.first || !q.traces_json || !q.groups_json) {
        ingest_q_free(&q);
        return nomem(err, "archive batch");
    }
    med_rc rc = med_pg_tx(pg, tenant, 0, ingest_tx, &q, err);
    if (rc == MED_OK) fill_results(&q);
    ingest_q_free(&q);
    return rc;
}

/* ---- quarantine ---- */

static char *hex_of(const uint8_t *b, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    char *s = malloc(n * 2 + 1);
    if (!s) return NULL;
    for (size_t i = 0; i < n; i++) {
        s[2 * i] = hex[b[i] >> 4];
        s[2 * i + 1] = hex[b[i] & 15];
    }
    s[n * 2] = '\0';
    return s;
}

static json_t *quarantine_json(const g_quarantine *q)
{
    char *hex = hex_of(q->payload ? q->payload : (const uint8_t *)"", q->payload_len);
    json_t *o = hex ? json_object() : NULL;
    int bad = !o || med_rows_put(o, "subject", q->subject) || med_rows_put(o, "stream", q->stream) ||
              json_object_set_new(o, "stream_seq", json_integer((json_int_t)q->stream_seq)) != 0 ||
              med_rows_put(o, "consumer", q->consumer) || med_rows_put(o, "msg_id", q->msg_id) ||
              med_rows_put(o, "reason_code", q->reason_code) ||
              med_rows_put(o, "last_error", q->last_error) ||
              json_object_set_new(o, "num_delivered", json_integer((json_int_t)q->num_delivered)) != 0 ||
              med_rows_put(o, "payload", hex) || med_rows_put(o, "trace_key", q->trace_key) ||
              med_rows_put(o, "request_key", q->request_key) ||
              med_rows_put(o, "opportunity_key", q->opportunity_key);
    free(hex);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

typedef struct text_q {
    const char *stmt, *text;
} text_q;

static med_rc text_tx(med_pg *pg, PGconn *conn, void *ud, med_err *err)
{
    (void)conn;
    text_q *q = ud;
    return run1_done(pg, q->stmt, q->text, err);
}

med_rc g_archive_store_quarantine(med_pg *pg, const g_quarantine *q, const size_t *idx, size_t n,
                                  med_err *err)
{
    if (n == 0) return MED_OK;
    json_t *arr = json_array();
    for (size_t k = 0; arr && k < n; k++) {
        json_t *o = quarantine_json(&q[idx[k]]);
        if (!o || json_array_append_new(arr, o) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    char *text = dump(arr);
    if (!text) return nomem(err, "quarantine rows");
    text_q tq = { STMT_QUARANTINE, text };
    med_rc rc = med_pg_tx(pg, q[idx[0]].tenant_id, 0, text_tx, &tq, err);
    free(text);
    return rc;
}

/* ---- sweep ---- */

typedef struct sweep_q {
    const g_store_policy *p;
    int limit;
    int handled;
} sweep_q;

/* Groups (and their trace keys) of the due rows, as JSON arrays. */
static med_rc due_groups(const loaded *due, char **traces, char **groups, med_err *err)
{
    const char **t = calloc((size_t)due->n + 1, sizeof *t), **g = calloc((size_t)due->n + 1, sizeof *g);
    if (t && g)
        for (int i = 0; i < due->n; i++) {
            t[i] = PQgetvalue(due->res, i, C_TRACE);
            g[i] = loaded_group(due, i);
        }
    *traces = t && g ? keys_json(t, (size_t)due->n) : NULL;
    *groups = t && g ? keys_json(g, (size_t)due->n) : NULL;
    free(t);
    free(g);
    if (!*traces || !*groups) {
        free(*traces);
        free(*groups);
        return nomem(err, "sweep groups");
    }
    return MED_OK;
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
    char *traces = NULL, *gjson = NULL;
    g_plan_policy pp = { q->p->window_ms, q->p->recheck_ms };
    rc = due_groups(&due, &traces, &gjson, err);
    if (rc == MED_OK) {
        med_err werr;
        med_err_clear(&werr);
        int aborted = 0;
        med_rc wrc = write_groups(pg, conn, traces, gjson, &pp, &groups, &q->handled, &aborted,
                                  &werr);
        if (wrc != MED_OK && aborted) {
            *err = werr;
            rc = wrc;
        } else if (wrc != MED_OK) {
            rc = fail_candidates(pg, &due, wrc, &werr, &pp, &q->handled, err);
        }
    }
    free(traces);
    free(gjson);
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
