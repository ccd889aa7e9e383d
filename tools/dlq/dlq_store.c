#include "dlq_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "med/names.h"

static const char SQL_IMPORT[] =
    "INSERT INTO dead_letter_records (tenant_id, stage, failed_subject, stream, stream_seq,"
    "  consumer, msg_id, reason_code, last_error, num_delivered, history, headers, payload,"
    "  trace_key, request_key, opportunity_key, dead_at)"
    " SELECT r.tenant_id, r.stage, r.failed_subject, r.stream, r.stream_seq, r.consumer,"
    "        r.msg_id, r.reason_code, r.last_error, r.num_delivered,"
    "        coalesce(r.history, '[]'::jsonb), r.headers, r.payload::bytea, r.trace_key,"
    "        r.request_key, r.opportunity_key,"
    "        CASE WHEN r.dead_at_ms > 0 THEN to_timestamp(r.dead_at_ms / 1000.0) ELSE now() END"
    "   FROM jsonb_to_recordset($1::jsonb) AS r(tenant_id text, stage text, failed_subject text,"
    "        stream text, stream_seq bigint, consumer text, msg_id text, reason_code text,"
    "        last_error text, num_delivered integer, history jsonb, headers jsonb, payload text,"
    "        trace_key text, request_key text, opportunity_key text, dead_at_ms bigint)"
    " ON CONFLICT ON CONSTRAINT dead_letter_records_origin_key DO NOTHING";

#define STATUS_COLS \
    "d.stream, d.consumer, d.stream_seq, d.id, d.status," \
    " coalesce(to_char(d.redriven_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), '')," \
    " coalesce(d.redriven_by, '')"

static const char SQL_STATUS[] =
    "SELECT " STATUS_COLS " FROM dead_letter_records d"
    "  JOIN jsonb_to_recordset($1::jsonb) AS r(stream text, consumer text, stream_seq bigint)"
    "    ON d.stream = r.stream AND d.consumer = r.consumer AND d.stream_seq = r.stream_seq";

static const char SQL_LOCK[] =
    "SELECT " STATUS_COLS " FROM dead_letter_records d"
    " WHERE d.stream = $1 AND d.consumer = $2 AND d.stream_seq = $3::bigint FOR UPDATE";

static const char SQL_MARK[] =
    "UPDATE dead_letter_records SET status = 'redriven', redriven_at = now(), redriven_by = $2,"
    "  resolution_note = $3, updated_at = now() WHERE id = $1::bigint";

static int failed(PGconn *pg, PGresult *res, const char *what, char *why, size_t cap)
{
    snprintf(why, cap, "%s: %s", what, res ? PQresultErrorMessage(res) : PQerrorMessage(pg));
    PQclear(res);
    return -1;
}

static int exec_ok(PGconn *pg, PGresult *res, ExecStatusType want, const char *what, char *why,
                   size_t cap)
{
    if (!res || PQresultStatus(res) != want) return failed(pg, res, what, why, cap);
    PQclear(res);
    return 0;
}

PGconn *dlq_store_open(const char *dsn, char *why, size_t cap)
{
    PGconn *pg = PQconnectdb(dsn ? dsn : "");
    if (PQstatus(pg) == CONNECTION_OK) return pg;
    snprintf(why, cap, "postgres: %s", PQerrorMessage(pg));
    PQfinish(pg);
    return NULL;
}

int dlq_store_begin(PGconn *pg, const char *tenant, char *why, size_t cap)
{
    if (exec_ok(pg, PQexec(pg, "BEGIN"), PGRES_COMMAND_OK, "begin", why, cap)) return -1;
    const char *v[1] = {tenant};
    PGresult *res = PQexecParams(pg, "SELECT set_config('" MED_PG_TENANT_SETTING "', $1, true)", 1,
                                 NULL, v, NULL, NULL, 0);
    if (exec_ok(pg, res, PGRES_TUPLES_OK, "set tenant", why, cap)) {
        dlq_store_rollback(pg);
        return -1;
    }
    return 0;
}

static int import_rows(PGconn *pg, const json_t *rows, char *why, size_t cap)
{
    char *text = json_dumps(rows, JSON_COMPACT);
    if (!text) {
        snprintf(why, cap, "out of memory");
        return -1;
    }
    const char *v[1] = {text};
    PGresult *res = PQexecParams(pg, SQL_IMPORT, 1, NULL, v, NULL, NULL, 0);
    free(text);
    return exec_ok(pg, res, PGRES_COMMAND_OK, "import dead letters", why, cap);
}

static void read_status(const PGresult *res, int i, dlq_status *st)
{
    st->known = 1;
    st->id = strtoll(PQgetvalue(res, i, 3), NULL, 10);
    snprintf(st->status, sizeof st->status, "%s", PQgetvalue(res, i, 4));
    snprintf(st->redriven_at, sizeof st->redriven_at, "%s", PQgetvalue(res, i, 5));
    snprintf(st->redriven_by, sizeof st->redriven_by, "%s", PQgetvalue(res, i, 6));
}

static int same_origin(const PGresult *res, int i, const json_t *row)
{
    return strcmp(PQgetvalue(res, i, 0), json_string_value(json_object_get(row, "stream"))) == 0 &&
           strcmp(PQgetvalue(res, i, 1), json_string_value(json_object_get(row, "consumer"))) ==
               0 &&
           strtoll(PQgetvalue(res, i, 2), NULL, 10) ==
               json_integer_value(json_object_get(row, "stream_seq"));
}

static int read_statuses(PGconn *pg, const json_t *rows, dlq_status *out, char *why, size_t cap)
{
    char *text = json_dumps(rows, JSON_COMPACT);
    if (!text) return snprintf(why, cap, "out of memory"), -1;
    const char *v[1] = {text};
    PGresult *res = PQexecParams(pg, SQL_STATUS, 1, NULL, v, NULL, NULL, 0);
    free(text);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) return failed(pg, res, "read status", why, cap);
    size_t n = json_array_size(rows);
    for (int i = 0; i < PQntuples(res); i++)
        for (size_t j = 0; j < n; j++)
            if (same_origin(res, i, json_array_get(rows, j))) read_status(res, i, &out[j]);
    PQclear(res);
    return 0;
}

int dlq_store_sync(PGconn *pg, const char *tenant, const json_t *rows, dlq_status *out,
                   char *why, size_t cap)
{
    memset(out, 0, json_array_size(rows) * sizeof *out);
    if (dlq_store_begin(pg, tenant, why, cap)) return -1;
    if (import_rows(pg, rows, why, cap) || read_statuses(pg, rows, out, why, cap)) {
        dlq_store_rollback(pg);
        return -1;
    }
    return dlq_store_commit(pg, why, cap);
}

int dlq_store_begin_locked(PGconn *pg, const char *tenant, const json_t *row, dlq_status *st,
                           char *why, size_t cap)
{
    memset(st, 0, sizeof *st);
    if (dlq_store_begin(pg, tenant, why, cap)) return -1;
    json_t *one = json_array();
    int rc = !one || json_array_append(one, (json_t *)row) != 0 ? -1
                                                               : import_rows(pg, one, why, cap);
    json_decref(one);
    char seq[32];
    snprintf(seq, sizeof seq, "%lld", (long long)json_integer_value(json_object_get(row, "stream_seq")));
    const char *v[3] = {json_string_value(json_object_get(row, "stream")),
                        json_string_value(json_object_get(row, "consumer")), seq};
    PGresult *res = rc == 0 ? PQexecParams(pg, SQL_LOCK, 3, NULL, v, NULL, NULL, 0) : NULL;
    if (rc == 0 && (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1))
        rc = failed(pg, res, "lock dead letter", why, cap), res = NULL;
    if (rc == 0) read_status(res, 0, st);
    PQclear(res);
    if (rc != 0) dlq_store_rollback(pg);
    return rc;
}

int dlq_store_mark_redriven(PGconn *pg, long long id, const char *by, const char *note,
                            char *why, size_t cap)
{
    char ids[32];
    snprintf(ids, sizeof ids, "%lld", id);
    const char *v[3] = {ids, by, note};
    PGresult *res = PQexecParams(pg, SQL_MARK, 3, NULL, v, NULL, NULL, 0);
    return exec_ok(pg, res, PGRES_COMMAND_OK, "mark redriven", why, cap);
}

int dlq_store_commit(PGconn *pg, char *why, size_t cap)
{
    return exec_ok(pg, PQexec(pg, "COMMIT"), PGRES_COMMAND_OK, "commit", why, cap);
}

void dlq_store_rollback(PGconn *pg)
{
    PQclear(PQexec(pg, "ROLLBACK"));
}
