#include "g_replay_store.h"

#include <stdlib.h>
#include <string.h>

#include "g_replay_time.h"
#include "med/b64url.h"
#include "med/reason.h"

#define ST_RANGE "g_replay_candidates_range"
#define ST_OPP "g_replay_candidates_opportunity"
#define ST_FRAGS "g_replay_fragments"

#define MS(col) "(extract(epoch from date_trunc('milliseconds', " col ")) * 1000)::bigint"

/* The Delivery rows first (d), then one aggregate over their archive
 * records stored by the cut ($3): the earliest outputAt and whether one
 * record passes the record filters ($4 types, $5 statuses, $6 conflict
 * only). A hash join, not a probe per Delivery. */
#define CANDIDATES(where)                                                                       \
    "WITH d AS MATERIALIZED (SELECT d.response_reference, coalesce(d.attempt_key, '') AS ak, "  \
    "d.trace_key, d.request_key, d.opportunity_key, coalesce(d.app_id, '') AS app, "            \
    "coalesce(d.placement_id, '') AS plc, " MS("d.created_at") " AS at FROM delivery_records d " \
    "WHERE " where " AND d.created_at < $3::timestamptz), "                                     \
    "x AS (SELECT r.response_reference, " MS("min(r.output_at)") " AS min_out, "                 \
    "bool_or((cardinality($4::text[]) = 0 OR r.record_type = ANY($4::text[])) "                 \
    "AND (cardinality($5::text[]) = 0 OR r.record_status = ANY($5::text[])) "                   \
    "AND (NOT $6::boolean OR r.record_status = 'conflicted' "                                  \
    "OR r.conflict_with_record_key IS NOT NULL)) AS hit FROM archive_records r "                \
    "WHERE r.created_at < $3::timestamptz AND r.response_reference IN "                         \
    "(SELECT response_reference FROM d) GROUP BY r.response_reference) "                        \
    "SELECT d.response_reference, d.ak, d.trace_key, d.request_key, d.opportunity_key, d.app, "  \
    "d.plc, d.at, x.min_out, coalesce(x.hit, false) FROM d LEFT JOIN x "                        \
    "ON x.response_reference = d.response_reference"

#define SQL_RANGE CANDIDATES("d.created_at >= $1::timestamptz AND d.created_at < $2::timestamptz")
#define SQL_OPP CANDIDATES("d.opportunity_key = $1 AND $2::text IS NULL")

/* One statement for every fragment of a page: decision audits by trace,
 * archive records and the Delivery by responseReference. Columns: source,
 * key, attempt / record status, request / write status, id, created ms,
 * packed bytes (audit, archive record), text (the Delivery; a pre-0018
 * archive row's JSON payload, read only when it has no packed bytes). */
#define SQL_FRAGS                                                                              \
    "SELECT 'a', a.trace_key, coalesce(a.attempt_key, ''), coalesce(a.request_key, ''), a.id, " \
    MS("a.created_at") ", a.payload_pb, NULL::text FROM audit_records a "                       \
    "WHERE $4::boolean AND a.trace_key = ANY($1::text[]) AND a.stage = ANY($5::text[]) "       \
    "AND a.audit_kind = 'decision' AND a.payload_pb IS NOT NULL AND a.created_at < $3::timestamptz " \
    "UNION ALL SELECT 'r', r.response_reference, r.record_status, r.write_status, r.id, "       \
    MS("r.created_at") ", r.payload_pb, CASE WHEN r.payload_pb IS NULL THEN r.payload::text END " \
    "FROM archive_records r WHERE $6::boolean "                                                  \
    "AND r.response_reference = ANY($2::text[]) AND r.created_at < $3::timestamptz "           \
    "UNION ALL SELECT 'd', d.response_reference, '', '', d.id, " MS("d.created_at")             \
    ", NULL::bytea, med_delivery_pb_b64url(d.delivery_pb, d.payload) FROM delivery_records d WHERE $7::boolean "       \
    "AND d.response_reference = ANY($2::text[]) AND d.created_at < $3::timestamptz"

med_rc g_replay_store_prepare(med_pg *pg, med_err *err)
{
    med_rc rc = med_pg_prepare(pg, ST_RANGE, SQL_RANGE, 6, err);
    if (rc == MED_OK) rc = med_pg_prepare(pg, ST_OPP, SQL_OPP, 6, err);
    if (rc == MED_OK) rc = med_pg_prepare(pg, ST_FRAGS, SQL_FRAGS, 7, err);
    return rc;
}

/* ---- parameters ---- */

static char *time_param(med_arena *a, int64_t ms)
{
    char t[G_TIME_TEXT_CAP];
    g_time_format(ms, t);
    return med_arena_strdup(a, t);
}

/* A text[] literal: every element quoted, '"' and '\' escaped. */
static char *text_array(med_arena *a, char *const *v, size_t n)
{
    size_t cap = 3;
    for (size_t i = 0; i < n; i++) cap += 2 * strlen(v[i] ? v[i] : "") + 3;
    char *s = med_arena_alloc(a, cap), *p = s;
    if (!s) return NULL;
    *p++ = '{';
    for (size_t i = 0; i < n; i++) {
        if (i) *p++ = ',';
        *p++ = '"';
        for (const char *c = v[i] ? v[i] : ""; *c; c++) {
            if (*c == '"' || *c == '\\') *p++ = '\\';
            *p++ = *c;
        }
        *p++ = '"';
    }
    *p++ = '}';
    *p = '\0';
    return s;
}

static med_rc query_failed(PGresult *res, med_pg *pg, med_err *err)
{
    (void)pg;
    med_rc rc = res ? med_pg_result_err(res, NULL, err) : (err->rc ? err->rc : MED_ERR_IO);
    if (rc == MED_OK) rc = med_err_set(err, MED_ERR_IO, MED_R_INFRA_PG_QUERY_FAILED, NULL, "replay read");
    PQclear(res);
    return rc;
}

/* ---- the base set ---- */

static int64_t col_i64(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

/* Strings point into the result, which the caller keeps until the page
 * is built: 10,000 candidates would otherwise be 70,000 copies. */
static void read_candidate(const PGresult *r, int i, g_opp *o)
{
    memset(o, 0, sizeof *o);
    o->response_reference = PQgetvalue(r, i, 0);
    o->attempt_key = PQgetvalue(r, i, 1);
    o->trace_key = PQgetvalue(r, i, 2);
    o->request_key = PQgetvalue(r, i, 3);
    o->opportunity_key = PQgetvalue(r, i, 4);
    o->app_id = PQgetvalue(r, i, 5);
    o->placement_id = PQgetvalue(r, i, 6);
    o->audit_at_ms = col_i64(r, i, 7);
    o->has_output = !PQgetisnull(r, i, 8);
    o->min_output_ms = col_i64(r, i, 8);
    o->arch_match = PQgetvalue(r, i, 9)[0] == 't';
    g_assemble_record_id(o);
}

med_rc g_replay_store_candidates(med_pg *pg, const g_query *q, med_arena *a, g_opp **opps, size_t *n,
                                 PGresult **keep, med_err *err)
{
    static const Mediation__V1__ReplayFilters none = MEDIATION__V1__REPLAY_FILTERS__INIT;
    const Mediation__V1__ReplayFilters *f = q->raw->filters ? q->raw->filters : &none;
    int range = q->mode == G_QM_BY_TIME_RANGE;
    const char *v[6] = {
        range ? time_param(a, q->start_ms) : q->opportunity_key,
        range ? time_param(a, q->end_ms + 1) : NULL,
        time_param(a, q->cut_ms + 1),
        text_array(a, f->record_type_in, f->n_record_type_in),
        text_array(a, f->record_status_in, f->n_record_status_in),
        f->has_conflict_only_opt_case && f->has_conflict_only ? "true" : "false",
    };
    *opps = NULL;
    *n = 0;
    *keep = NULL;
    if (a->failed) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "replay params");
    PGresult *res = med_pg_exec_prepared(pg, range ? ST_RANGE : ST_OPP, 6, v, err);
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) return query_failed(res, pg, err);
    int rows = PQntuples(res);
    *opps = MED_NEWN(a, g_opp, (size_t)rows);
    if (!*opps) {
        PQclear(res);
        return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "replay candidates");
    }
    for (int i = 0; i < rows; i++) read_candidate(res, i, &(*opps)[i]);
    *keep = res;
    *n = (size_t)rows;
    return MED_OK;
}

/* ---- fragments ---- */

typedef struct opp_ref {
    const char *key;
    g_opp *o;
} opp_ref;

static int ref_cmp(const void *x, const void *y)
{
    return strcmp(((const opp_ref *)x)->key, ((const opp_ref *)y)->key);
}

/* Sorted (key, opportunity) pairs; several attempts may share a trace. */
static opp_ref *index_by(med_arena *a, g_opp **opps, size_t n, int by_trace)
{
    opp_ref *v = MED_NEWN(a, opp_ref, n);
    for (size_t i = 0; v && i < n; i++)
        v[i] = (opp_ref){by_trace ? opps[i]->trace_key : opps[i]->response_reference, opps[i]};
    if (v) qsort(v, n, sizeof *v, ref_cmp);
    return v;
}

static size_t lower_bound(const opp_ref *v, size_t n, const char *key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (strcmp(v[mid].key, key) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static int attempt_matches(const g_opp *o, const char *attempt_key, const char *request_key)
{
    if (*attempt_key) return strcmp(o->attempt_key, attempt_key) == 0;
    return strcmp(o->request_key, request_key) == 0;
}

static void add_audit(med_arena *a, const PGresult *r, int i, const opp_ref *by_trace, size_t n)
{
    size_t len = 0;
    unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(r, i, 6), &len);
    if (!raw) return;
    ProtobufCAllocator al;
    g_pb_arena_allocator(a, &al);
    Mediation__V1__StageAudit *sa = mediation__v1__stage_audit__unpack(&al, len, raw);
    PQfreemem(raw);
    if (!sa) return; /* an undecodable row is no fragment */
    const char *trace = PQgetvalue(r, i, 1), *attempt = PQgetvalue(r, i, 2), *request = PQgetvalue(r, i, 3);
    for (size_t k = lower_bound(by_trace, n, trace); k < n && strcmp(by_trace[k].key, trace) == 0; k++)
        if (attempt_matches(by_trace[k].o, attempt, request))
            g_frags_offer_audit(&by_trace[k].o->f, sa, col_i64(r, i, 5), col_i64(r, i, 4));
}

static g_opp *by_reference(const opp_ref *v, size_t n, const char *ref)
{
    size_t k = lower_bound(v, n, ref);
    return k < n && strcmp(v[k].key, ref) == 0 ? v[k].o : NULL;
}

static med_rc add_archive(med_arena *a, const PGresult *r, int i, g_opp *o, med_err *err)
{
    g_arch_stored st = {.record_status = PQgetvalue(r, i, 2)};
    unsigned char *raw = NULL;
    if (!PQgetisnull(r, i, 6)) {
        raw = PQunescapeBytea((const unsigned char *)PQgetvalue(r, i, 6), &st.pb_len);
        if (!raw) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "archive record");
        st.pb = raw;
    } else {
        st.legacy_json = PQgetvalue(r, i, 7);
    }
    Mediation__V1__FToGArchiveRecordLite *rec = NULL;
    med_rc rc = g_archive_decode(a, &st, &rec, err);
    PQfreemem(raw);
    if (rc != MED_OK || !rec) return rc; /* an undecodable row is no fragment */
    const char *ws = med_arena_strdup(a, PQgetvalue(r, i, 3));
    if (!ws) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "archive record");
    return g_frags_add_archive(a, &o->f, rec, ws, col_i64(r, i, 5), err);
}

static void add_delivery(med_arena *a, const PGresult *r, int i, g_opp *o)
{
    const char *b64 = PQgetvalue(r, i, 7);
    size_t n = strlen(b64), cap = med_b64url_decoded_max(n) + 1;
    uint8_t *buf = med_arena_alloc(a, cap);
    long got = buf ? med_b64url_decode(b64, n, buf, cap) : -1;
    if (got < 0) return;
    ProtobufCAllocator al;
    g_pb_arena_allocator(a, &al);
    o->f.delivery = mediation__v1__delivery__unpack(&al, (size_t)got, buf);
}

static med_rc read_fragments(med_arena *a, const PGresult *r, const opp_ref *by_trace, const opp_ref *by_ref,
                             size_t n, med_err *err)
{
    for (int i = 0; i < PQntuples(r); i++) {
        const char *src = PQgetvalue(r, i, 0);
        if (src[0] == 'a') {
            add_audit(a, r, i, by_trace, n);
            continue;
        }
        g_opp *o = by_reference(by_ref, n, PQgetvalue(r, i, 1));
        if (!o || (PQgetisnull(r, i, 6) && PQgetisnull(r, i, 7))) continue;
        if (src[0] == 'd') add_delivery(a, r, i, o);
        else if (add_archive(a, r, i, o, err) != MED_OK) return err->rc;
    }
    return a->failed ? med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "replay fragments") : MED_OK;
}

med_rc g_replay_store_fragments(med_pg *pg, int64_t cut_ms, g_opp **opps, size_t n, unsigned what,
                                med_arena *a, med_err *err)
{
    if (n == 0) return MED_OK;
    char **traces = MED_NEWN(a, char *, n), **refs = MED_NEWN(a, char *, n);
    opp_ref *by_trace = index_by(a, opps, n, 1), *by_ref = index_by(a, opps, n, 0);
    if (!traces || !refs || !by_trace || !by_ref)
        return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "replay fragments");
    for (size_t i = 0; i < n; i++) {
        traces[i] = (char *)opps[i]->trace_key;
        refs[i] = (char *)opps[i]->response_reference;
    }
    char *all_stages[] = {"a", "b", "c", "d", "e"}, *d_only[] = {"d"};
    int only_d = (what & G_LOAD_D_ONLY) && !(what & G_LOAD_AUDITS);
    const char *v[7] = {
        text_array(a, traces, n), text_array(a, refs, n), time_param(a, cut_ms + 1),
        what & (G_LOAD_AUDITS | G_LOAD_D_ONLY) ? "true" : "false",
        only_d ? text_array(a, d_only, 1) : text_array(a, all_stages, 5),
        what & G_LOAD_ARCHIVE ? "true" : "false", what & G_LOAD_DELIVERY ? "true" : "false",
    };
    if (a->failed) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "replay params");
    PGresult *res = med_pg_exec_prepared(pg, ST_FRAGS, 7, v, err);
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) return query_failed(res, pg, err);
    med_rc rc = read_fragments(a, res, by_trace, by_ref, n, err);
    PQclear(res);
    for (size_t i = 0; rc == MED_OK && i < n; i++) opps[i]->loaded = 1;
    return rc;
}
