/* The outbox sweeper (F.8 compensation): rows whose first publish failed
 * or never happened (a crash between commit and publish) are republished
 * with the same recordKeys, on the ladder of f_compensation_on_failure;
 * past the window the row is dead-lettered. The rows stay locked (FOR
 * UPDATE SKIP LOCKED) while their publish is in flight, so two replicas
 * never sweep the same row. */
#include "f_scan.h"
#include "f_scan_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "f_compensation.h"
#include "f_service_publish.h"
#include "f_store.h"
#include "f_store_int.h"
#include "med/dlq.h"
#include "med/ids.h"
#include "med/log.h"
#include "med/names.h"
#include "med/reason.h"

#define F_SQL_SWEEP_TAKE "f_sweep_take"
#define F_SQL_SWEEP_DONE "f_sweep_done"
#define F_SQL_SWEEP_RETRY "f_sweep_retry"
#define F_SQL_SWEEP_DEAD "f_sweep_dead"

med_rc f_scan_outbox_prepare(med_pg *pg, med_err *err)
{
    med_rc rc = med_pg_prepare(pg, F_SQL_SWEEP_TAKE,
        "SELECT outbox_key FROM f_outbox WHERE tenant_id = $1 AND published_at IS NULL "
        "AND dead_at IS NULL AND next_attempt_at <= now() ORDER BY next_attempt_at "
        "LIMIT $2 FOR UPDATE SKIP LOCKED", 2, err);
    if (rc == MED_OK)
        rc = med_pg_prepare(pg, F_SQL_SWEEP_DONE,
            "UPDATE f_outbox SET published_at = now(), attempts = attempts + 1, "
            "first_attempt_at = coalesce(first_attempt_at, created_at), updated_at = now() "
            "WHERE tenant_id = $1 AND outbox_key = $2", 2, err);
    if (rc == MED_OK)
        rc = med_pg_prepare(pg, F_SQL_SWEEP_RETRY,
            "UPDATE f_outbox SET attempts = attempts + 1, "
            "first_attempt_at = coalesce(first_attempt_at, created_at), "
            "next_attempt_at = now() + make_interval(secs => $3::float8 / 1000), last_error = $4, "
            "updated_at = now() WHERE tenant_id = $1 AND outbox_key = $2", 4, err);
    if (rc == MED_OK)
        rc = med_pg_prepare(pg, F_SQL_SWEEP_DEAD,
            "WITH o AS (UPDATE f_outbox SET attempts = attempts + 1, dead_at = now(), "
            "first_attempt_at = coalesce(first_attempt_at, created_at), last_error = $4, "
            "updated_at = now() WHERE tenant_id = $1 AND outbox_key = $2 "
            "RETURNING attempts, records_pb) "
            "INSERT INTO dead_letter_records (tenant_id, stage, failed_subject, msg_id, reason_code, "
            "last_error, num_delivered, payload) "
            "SELECT $1, '" MED_STAGE_F "', '" MED_SUBJ_G_ARCHIVE "', $2, $3, $4, o.attempts, "
            "o.records_pb FROM o", 4, err);
    return rc;
}

/* ---- one tenant's pass ---------------------------------------------------------------- */

typedef struct sweep_row {
    f_outbox_row ob;
    int loaded;
    int ok;               /* republished and acked */
    char error[340];
} sweep_row;

typedef struct sweep_ctx {
    f_scanner *s;
    const char *tenant;
    sweep_row rows[F_SWEEP_ROWS];
    int n;
} sweep_ctx;

static med_rc take_rows(med_pg *pg, sweep_ctx *c, med_err *err)
{
    char limit[16];
    snprintf(limit, sizeof limit, "%d", F_SWEEP_ROWS);
    const char *v[2] = { c->tenant, limit };
    PGresult *res = NULL;
    med_rc rc = f_store_exec(pg, F_SQL_SWEEP_TAKE, 2, v, &res, err);
    if (rc != MED_OK) return rc;
    c->n = 0;
    for (int r = 0; rc == MED_OK && r < PQntuples(res) && c->n < F_SWEEP_ROWS; r++) {
        sweep_row *row = &c->rows[c->n];
        memset(row, 0, sizeof *row);
        rc = f_store_outbox_load(pg, c->tenant, PQgetvalue(res, r, 0), &row->ob, err);
        if (rc == MED_OK) {
            row->loaded = 1;
            c->n++;
        }
    }
    PQclear(res);
    return rc;
}

static void republish(sweep_ctx *c)
{
    med_js *js = c->s->js;
    int any = 0;
    for (int i = 0; i < c->n; i++) {
        med_err e;
        med_err_clear(&e);
        sweep_row *row = &c->rows[i];
        /* attempt 1 was the first publish, right after the commit */
        if (f_publish_outbox(js, c->tenant, &row->ob, row->ob.attempts + 2, &e) != MED_OK) {
            snprintf(row->error, sizeof row->error, "%s: %s", e.code, e.message);
            continue;
        }
        row->ok = 1;
        any = 1;
    }
    med_err e;
    med_err_clear(&e);
    if (!any || med_js_publish_async_complete(js, 0, &e) == MED_OK) return;
    for (int i = 0; i < c->n; i++)
        if (c->rows[i].ok) {
            c->rows[i].ok = 0;
            snprintf(c->rows[i].error, sizeof c->rows[i].error, "%s: %s", e.code, e.message);
        }
}

/* A DeadLetter on med.dlq.f.v1 carrying the row's records; the
 * dead_letter_records row is written with the outbox update. */
static void dead_letter(sweep_ctx *c, const sweep_row *row)
{
    natsMsg *m = NULL;
    med_err e;
    med_err_clear(&e);
    if (med_js_msg_new(MED_SUBJ_G_ARCHIVE, row->ob.records_pb, (int)row->ob.records_len, NULL, &m,
                       &e) != MED_OK)
        return;
    natsMsgHeader_Set(m, MED_HDR_TENANT, c->tenant);
    natsMsgHeader_Set(m, MED_HDR_MSG_ID, row->ob.key);
    if (med_dlq_publish(c->s->js, MED_STAGE_F, m, NULL, MED_R_F_OUTPUT_ARCHIVE_COMPENSATION_EXHAUSTED,
                        row->error, NULL, &e) != MED_OK) {
        med_log_ctx lc = { .tenant_id = c->tenant, .error_code = e.code };
        MED_LOGE(&lc, "outbox %s exhausted; DLQ publish failed too (row kept as dead): %s",
                 row->ob.key, e.message);
    }
    natsMsg_Destroy(m);
}

/* Records the outcome of one row inside the sweep's transaction. */
static med_rc settle(med_pg *pg, sweep_ctx *c, sweep_row *row, med_err *err)
{
    PGresult *res = NULL;
    med_rc rc;
    if (row->ok) {
        const char *v[2] = { c->tenant, row->ob.key };
        rc = f_store_exec(pg, F_SQL_SWEEP_DONE, 2, v, &res, err);
        PQclear(res);
        return rc;
    }
    int64_t now = med_now_unix_ms();
    f_compensation comp = { .failures = row->ob.attempts,
                            .first_failure_ms = row->ob.first_attempt_at_ms ? row->ob.first_attempt_at_ms
                                                                            : row->ob.created_at_ms };
    if (!row->error[0]) snprintf(row->error, sizeof row->error, "publish not acknowledged");
    if (f_compensation_on_failure(&comp, NULL, now, &c->s->windows)) {
        dead_letter(c, row);
        const char *v[4] = { c->tenant, row->ob.key, comp.final_code, row->error };
        rc = f_store_exec(pg, F_SQL_SWEEP_DEAD, 4, v, &res, err);
        med_log_ctx lc = { .tenant_id = c->tenant, .error_code = comp.final_code };
        MED_LOGE(&lc, "outbox %s dead-lettered after %d attempts: %s", row->ob.key,
                 row->ob.attempts + 1, row->error);
    } else {
        char delay[24];
        snprintf(delay, sizeof delay, "%lld", (long long)(comp.next_attempt_ms - now));
        const char *v[4] = { c->tenant, row->ob.key, delay, row->error };
        rc = f_store_exec(pg, F_SQL_SWEEP_RETRY, 4, v, &res, err);
    }
    PQclear(res);
    return rc;
}

static void rows_free(sweep_ctx *c)
{
    for (int i = 0; i < c->n; i++) f_outbox_row_free(&c->rows[i].ob);
    c->n = 0;
}

static med_rc sweep_body(med_pg *pg, PGconn *conn, void *ud, med_err *err)
{
    (void)conn;
    sweep_ctx *c = ud;
    rows_free(c);
    med_rc rc = take_rows(pg, c, err);
    if (rc != MED_OK || c->n == 0) return rc;
    republish(c);
    for (int i = 0; rc == MED_OK && i < c->n; i++) rc = settle(pg, c, &c->rows[i], err);
    return rc;
}

void f_scan_outbox(f_scanner *s, const char *tenant_id)
{
    sweep_ctx *c = calloc(1, sizeof *c);
    if (!c) return;
    c->s = s;
    c->tenant = tenant_id;
    med_err err;
    med_err_clear(&err);
    if (med_pg_tx(s->pg, tenant_id, 1, sweep_body, c, &err) != MED_OK) {
        med_log_ctx lc = { .tenant_id = tenant_id, .error_code = err.code };
        MED_LOGW(&lc, "outbox sweep failed: %s", err.message);
    } else if (c->n > 0) {
        med_log_ctx lc = { .tenant_id = tenant_id };
        MED_LOGI(&lc, "outbox sweep: %d rows", c->n);
    }
    rows_free(c);
    free(c);
}
