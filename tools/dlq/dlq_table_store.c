#include "dlq_table_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dlq_store.h"
#include "med/names.h"

/* Table-only = not imported from MED_DLQ: tools/dlq always stores the
 * message's headers, F's sweeper and G's quarantine never do (0016). */
#define TABLE_ONLY "d.headers IS NULL"

#define ITEM_COLS(payload) \
    "d.id, d.tenant_id, d.stage, d.failed_subject, coalesce(d.stream, ''),"                     \
    " coalesce(d.consumer, ''), coalesce(d.stream_seq, 0), coalesce(d.msg_id, ''),"            \
    " d.reason_code, coalesce(d.last_error, ''), coalesce(d.num_delivered, 0),"                \
    " (extract(epoch FROM d.dead_at) * 1000)::bigint, d.status,"                               \
    " coalesce(to_char(d.redriven_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), ''),"\
    " coalesce(d.redriven_by, ''), coalesce(d.resolution_note, ''), coalesce(d.trace_key, ''),"\
    " coalesce(d.request_key, ''), coalesce(d.opportunity_key, ''), " payload

enum { C_ID, C_TENANT, C_STAGE, C_SUBJECT, C_STREAM, C_CONSUMER, C_SEQ, C_MSG_ID, C_REASON,
       C_ERROR, C_DELIVERED, C_DEAD_AT, C_STATUS, C_REDRIVEN_AT, C_BY, C_NOTE, C_TRACE,
       C_REQUEST, C_OPPORTUNITY, C_PAYLOAD };

static const char SQL_TENANTS[] = "SELECT tenant_id FROM dlq_table_only_tenants($1)";
static const char SQL_TENANT_OF[] = "SELECT dlq_table_only_tenant($1::bigint)";

static const char SQL_READ[] =
    "SELECT " ITEM_COLS("NULL::bytea") " FROM dead_letter_records d WHERE " TABLE_ONLY
    " AND ($1::text IS NULL OR d.stage = $1) ORDER BY d.dead_at, d.id";

static const char SQL_LOCK[] =
    "SELECT " ITEM_COLS("d.payload") " FROM dead_letter_records d WHERE " TABLE_ONLY
    " AND d.id = $1::bigint FOR UPDATE";

/* The window restarts from now: F's compensation measures it from
 * first_attempt_at, so a re-armed row gets a full window of retries on
 * F's ladder; attempts keep counting (ArchiveRecord.attempt stays
 * monotonic for G). */
static const char SQL_REARM[] =
    "UPDATE f_outbox SET dead_at = NULL, next_attempt_at = now(), first_attempt_at = now(),"
    "  updated_at = now()"
    " WHERE tenant_id = current_setting('" MED_PG_TENANT_SETTING "') AND outbox_key = $1"
    "   AND dead_at IS NOT NULL AND published_at IS NULL";

static const char SQL_MARK_COPIES[] =
    "UPDATE dead_letter_records SET status = 'redriven', redriven_at = now(), redriven_by = $2,"
    "  resolution_note = $3, updated_at = now()"
    " WHERE stage = '" MED_STAGE_F "' AND msg_id = $1 AND headers IS NOT NULL AND status = 'open'";

static const char SQL_FIND_OUTBOX[] =
    "SELECT d.id FROM dead_letter_records d WHERE " TABLE_ONLY " AND d.stage = '" MED_STAGE_F "'"
    " AND d.stream IS NULL AND d.msg_id = $1 ORDER BY d.id DESC LIMIT 1";

static int failed(PGconn *pg, PGresult *res, const char *what, char *why, size_t cap)
{
    snprintf(why, cap, "%s: %s", what, res ? PQresultErrorMessage(res) : PQerrorMessage(pg));
    PQclear(res);
    return -1;
}

static PGresult *query(PGconn *pg, const char *sql, int n, const char *const *v,
                       ExecStatusType want, const char *what, char *why, size_t cap)
{
    PGresult *res = PQexecParams(pg, sql, n, NULL, v, NULL, NULL, 0);
    if (res && PQresultStatus(res) == want) return res;
    failed(pg, res, what, why, cap);
    return NULL;
}

void dlq_tenants_free(dlq_tenants *t)
{
    for (size_t i = 0; i < t->n; i++) free(t->names[i]);
    free(t->names);
    t->names = NULL;
    t->n = 0;
}

int dlq_table_tenants(PGconn *pg, const char *stage, dlq_tenants *out, char *why, size_t cap)
{
    memset(out, 0, sizeof *out);
    const char *v[1] = {stage};
    PGresult *res = query(pg, SQL_TENANTS, 1, v, PGRES_TUPLES_OK, "table-only tenants", why, cap);
    if (!res) return -1;
    int rows = PQntuples(res);
    out->names = calloc(rows ? (size_t)rows : 1, sizeof *out->names);
    for (int i = 0; out->names && i < rows; i++) {
        out->names[i] = strdup(PQgetvalue(res, i, 0));
        if (!out->names[i]) break;
        out->n++;
    }
    PQclear(res);
    if (out->n == (size_t)rows) return 0;
    dlq_tenants_free(out);
    return snprintf(why, cap, "out of memory"), -1;
}

int dlq_table_tenant_of(PGconn *pg, long long id, char *tenant, size_t tcap, char *why,
                        size_t cap)
{
    char ids[32];
    snprintf(ids, sizeof ids, "%lld", id);
    const char *v[1] = {ids};
    PGresult *res = query(pg, SQL_TENANT_OF, 1, v, PGRES_TUPLES_OK, "find dead letter", why, cap);
    if (!res) return -1;
    int found = PQntuples(res) == 1 && !PQgetisnull(res, 0, 0);
    if (found) snprintf(tenant, tcap, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return found ? 0 : 1;
}

#define COPY(field, col) snprintf(it->field, sizeof it->field, "%s", PQgetvalue(res, r, col))

static int read_item(const PGresult *res, int r, dlq_table_item *it)
{
    memset(it, 0, sizeof *it);
    it->id = strtoll(PQgetvalue(res, r, C_ID), NULL, 10);
    COPY(tenant, C_TENANT);
    COPY(stage, C_STAGE);
    COPY(failed_subject, C_SUBJECT);
    COPY(stream, C_STREAM);
    COPY(consumer, C_CONSUMER);
    it->stream_seq = strtoll(PQgetvalue(res, r, C_SEQ), NULL, 10);
    COPY(msg_id, C_MSG_ID);
    COPY(reason_code, C_REASON);
    COPY(last_error, C_ERROR);
    it->num_delivered = atoi(PQgetvalue(res, r, C_DELIVERED));
    it->dead_at_ms = strtoll(PQgetvalue(res, r, C_DEAD_AT), NULL, 10);
    COPY(status, C_STATUS);
    COPY(redriven_at, C_REDRIVEN_AT);
    COPY(redriven_by, C_BY);
    COPY(note, C_NOTE);
    COPY(trace_key, C_TRACE);
    COPY(request_key, C_REQUEST);
    COPY(opportunity_key, C_OPPORTUNITY);
    if (PQgetisnull(res, r, C_PAYLOAD)) return 0;
    it->payload = PQunescapeBytea((const unsigned char *)PQgetvalue(res, r, C_PAYLOAD),
                                  &it->payload_len);
    return it->payload ? 0 : -1;
}

static int append_items(const PGresult *res, dlq_table_item **items, size_t *n)
{
    size_t rows = (size_t)PQntuples(res);
    if (rows == 0) return 0;
    dlq_table_item *grown = realloc(*items, (*n + rows) * sizeof *grown);
    if (!grown) return -1;
    *items = grown;
    for (size_t i = 0; i < rows; i++) read_item(res, (int)i, &grown[(*n)++]);
    return 0;
}

int dlq_table_read(PGconn *pg, const char *tenant, const char *stage, dlq_table_item **items,
                   size_t *n, char *why, size_t cap)
{
    if (dlq_store_begin(pg, tenant, why, cap)) return -1;
    const char *v[1] = {stage};
    PGresult *res = query(pg, SQL_READ, 1, v, PGRES_TUPLES_OK, "read dead letters", why, cap);
    int rc = res ? append_items(res, items, n) : -1;
    if (res && rc) snprintf(why, cap, "out of memory");
    PQclear(res);
    dlq_store_rollback(pg); /* read only */
    return rc;
}

int dlq_table_begin_locked(PGconn *pg, const char *tenant, long long id, dlq_table_item *it,
                           char *why, size_t cap)
{
    memset(it, 0, sizeof *it);
    if (dlq_store_begin(pg, tenant, why, cap)) return -1;
    char ids[32];
    snprintf(ids, sizeof ids, "%lld", id);
    const char *v[1] = {ids};
    PGresult *res = query(pg, SQL_LOCK, 1, v, PGRES_TUPLES_OK, "lock dead letter", why, cap);
    int rc = !res ? -1 : PQntuples(res) != 1 ? 1 : read_item(res, 0, it);
    if (rc == 1) snprintf(why, cap, "no table-only dead letter t%lld", id);
    if (rc == -1 && res) snprintf(why, cap, "out of memory");
    PQclear(res);
    if (rc != 0) dlq_store_rollback(pg);
    return rc;
}

int dlq_table_rearm_outbox(PGconn *pg, const char *outbox_key, int *rearmed, char *why,
                           size_t cap)
{
    const char *v[1] = {outbox_key};
    PGresult *res = query(pg, SQL_REARM, 1, v, PGRES_COMMAND_OK, "re-arm outbox row", why, cap);
    if (!res) return -1;
    *rearmed = atoi(PQcmdTuples(res)) == 1;
    PQclear(res);
    return 0;
}

int dlq_table_mark_outbox_copies(PGconn *pg, const char *outbox_key, const char *by,
                                 const char *note, char *why, size_t cap)
{
    const char *v[3] = {outbox_key, by, note};
    PGresult *res = query(pg, SQL_MARK_COPIES, 3, v, PGRES_COMMAND_OK, "mark MED_DLQ copies",
                          why, cap);
    int rc = res ? 0 : -1;
    PQclear(res);
    return rc;
}

int dlq_table_find_outbox(PGconn *pg, const char *outbox_key, long long *id, char *why,
                          size_t cap)
{
    *id = 0;
    const char *v[1] = {outbox_key};
    PGresult *res = query(pg, SQL_FIND_OUTBOX, 1, v, PGRES_TUPLES_OK, "find outbox dead letter",
                          why, cap);
    if (!res) return -1;
    if (PQntuples(res) == 1) *id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return 0;
}
