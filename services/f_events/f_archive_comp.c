/* G's answers and the compensation resends (see f_archive_comp.h). */
#include "f_archive_comp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "f_archive_ack.h"
#include "f_metrics.h"
#include "f_service.h"
#include "f_service_publish.h"
#include "f_store.h"
#include "f_store_int.h"
#include "med/ids.h"
#include "med/log.h"
#include "med/names.h"
#include "med/reason.h"
#include "med/rows.h"
#include "med/pg_array.h"
#include "mediation/v1/archive.pb-c.h"

#define SQL_RETRY "f_comp_retry"
#define SQL_WRITTEN_MANY "f_comp_written_many"
#define SQL_CONFLICT "f_comp_conflict"
#define SQL_DUE_TENANTS "f_comp_due_tenants"
#define SQL_TAKE "f_comp_take"
#define SQL_RESENT "f_comp_resent"
#define SQL_EXHAUSTED "f_comp_exhausted"
#define SQL_PURGE "f_comp_purge"
#define MS_TS(n) "to_timestamp($" #n "::float8 / 1000)"

static med_rc prepare(med_pg *pg, med_err *err)
{
    med_rc rc = med_pg_prepare(pg, SQL_RETRY,
        "INSERT INTO f_archive_compensation (tenant_id, record_key, outbox_key, last_code, group_state, "
        "first_failure_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5, " MS_TS(6) ", " MS_TS(7) ") "
        "ON CONFLICT (tenant_id, record_key) DO UPDATE SET last_code = EXCLUDED.last_code, "
        "group_state = EXCLUDED.group_state, updated_at = now() "
        "WHERE f_archive_compensation.state = 'retrying'", 7, err);
    if (rc == MED_OK)
        rc = med_pg_prepare(pg, SQL_WRITTEN_MANY,
            "UPDATE f_archive_compensation c SET state = 'written', next_attempt_at = NULL, "
            "group_state = nullif(u.gs, ''), updated_at = now() "
            "FROM unnest($1::text[], $2::text[]) AS u(k, gs) "
            "WHERE c.tenant_id = current_setting('app.tenant_id') AND c.record_key = u.k "
            "AND c.state = 'retrying'", 2, err);
    if (rc == MED_OK)
        rc = med_pg_prepare(pg, SQL_CONFLICT,
            "INSERT INTO f_archive_compensation (tenant_id, record_key, outbox_key, state, last_code, "
            "final_code, group_state, next_attempt_at) "
            "VALUES ($1, $2, $3, 'conflicted', $4, $4, 'partial_timeout', NULL) "
            "ON CONFLICT (tenant_id, record_key) DO UPDATE SET state = 'conflicted', "
            "last_code = EXCLUDED.last_code, final_code = EXCLUDED.final_code, "
            "group_state = EXCLUDED.group_state, next_attempt_at = NULL, updated_at = now() "
            "WHERE f_archive_compensation.state = 'retrying' RETURNING 1", 4, err);
    if (rc == MED_OK)
        rc = med_pg_prepare(pg, SQL_DUE_TENANTS,
            "SELECT tenant_id FROM f_comp_due_tenants(" MS_TS(1) ", $2)", 2, err);
    if (rc == MED_OK)
        rc = med_pg_prepare(pg, SQL_TAKE,
            "SELECT record_key, outbox_key, failures, "
            "(extract(epoch FROM first_failure_at) * 1000)::bigint FROM f_archive_compensation "
            "WHERE tenant_id = $1 AND state = 'retrying' AND next_attempt_at <= " MS_TS(2) " "
            "ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED", 3, err);
    if (rc == MED_OK)
        rc = med_pg_prepare(pg, SQL_RESENT,
            "UPDATE f_archive_compensation SET failures = $3::int, last_attempt = $3::int, "
            "next_attempt_at = " MS_TS(4) ", updated_at = now() "
            "WHERE tenant_id = $1 AND record_key = $2", 4, err);
    if (rc == MED_OK)
        rc = med_pg_prepare(pg, SQL_EXHAUSTED,
            "UPDATE f_archive_compensation SET state = 'conflicted', final_code = $3, "
            "group_state = 'partial_timeout', next_attempt_at = NULL, updated_at = now() "
            "WHERE tenant_id = $1 AND record_key = $2", 3, err);
    if (rc == MED_OK)
        rc = med_pg_prepare(pg, SQL_PURGE,
            "SELECT f_comp_purge(make_interval(secs => $1::float8), 1000)", 1, err);
    if (rc == MED_OK) rc = f_store_prepare(pg, err);
    return rc;
}

/* ---- one ack ------------------------------------------------------------------------ */

typedef struct ack_ctx {
    f_archive_comp *c;
    const char *tenant, *outbox_key;
    const Mediation__V1__ArchiveWriteAck *ack;
    f_ack_action action;
    const char *code;
    int changed;   /* a conflict was recorded now */
} ack_ctx;

static med_rc ack_body(med_pg *pg, PGconn *conn, void *ud, med_err *err)
{
    (void)conn;
    ack_ctx *a = ud;
    const char *key = a->ack->record_key;
    const char *gs = a->ack->fg_archive_consistency_state ? a->ack->fg_archive_consistency_state : "";
    PGresult *res = NULL;
    med_rc rc = MED_OK;
    if (a->action == F_ACK_RETRY) {
        int64_t now = med_now_unix_ms();
        char first[24], next[24];
        snprintf(first, sizeof first, "%lld", (long long)now);
        snprintf(next, sizeof next, "%lld",
                 (long long)(now + f_comp_first_delay_ms(now, now, &a->c->windows)));
        const char *v[7] = { a->tenant, key, a->outbox_key, a->code, gs[0] ? gs : "partial_pending",
                             first, next };
        rc = f_store_exec(pg, SQL_RETRY, 7, v, &res, err);
    } else if (a->action == F_ACK_CONFLICT) {
        const char *v[4] = { a->tenant, key, a->outbox_key, a->code };
        rc = f_store_exec(pg, SQL_CONFLICT, 4, v, &res, err);
        a->changed = rc == MED_OK && res && PQntuples(res) > 0;
    }
    PQclear(res);
    return rc;
}

/* `written` answers of one drained batch: nearly every record is written
 * at the first try, so these are the bulk; one statement per tenant ends
 * whatever compensations they close. */
struct written_set {
    char tenant[F_COMP_ACK_BATCH][160];
    char key[F_COMP_ACK_BATCH][200];
    char gs[F_COMP_ACK_BATCH][64];   /* fgArchiveConsistencyState, "" = unknown */
    const char *tenants[F_COMP_ACK_BATCH];
    unsigned char taken[F_COMP_ACK_BATCH];
    size_t idx[F_COMP_ACK_BATCH];
    int n;
};
typedef struct written_set written_set;

static med_rc many_body(med_pg *pg, PGconn *conn, void *ud, med_err *err)
{
    (void)conn;
    PGresult *res = med_pg_exec_cols(pg, SQL_WRITTEN_MANY, ud, err);
    if (!res) return err->rc ? err->rc : MED_ERR_IO;
    PQclear(res);
    return MED_OK;
}

/* One transaction per tenant group (med_rows_next_tenant_group). */
static void written_flush(f_archive_comp *c, written_set *w)
{
    for (int i = 0; i < w->n; i++) {
        w->tenants[i] = w->tenant[i];
        w->taken[i] = 0;
    }
    size_t k;
    while ((k = med_rows_next_tenant_group(w->tenants, (size_t)w->n, w->taken, w->idx)) > 0) {
        const char *tenant = w->tenant[w->idx[0]];
        med_pg_cols cols;
        med_pg_cols_init(&cols, (const uint32_t[]){ MED_PG_OID_TEXT, MED_PG_OID_TEXT }, 2);
        for (size_t m = 0; m < k; m++) {
            med_pg_array_add_str(&cols.col[0], w->key[w->idx[m]]);
            med_pg_array_add_str(&cols.col[1], w->gs[w->idx[m]]);
        }
        med_err err;
        med_err_clear(&err);
        med_rc rc = med_pg_cols_finish(&cols, &err);
        if (rc == MED_OK) rc = med_pg_tx(c->pg, tenant, 3, many_body, &cols, &err);
        med_pg_cols_free(&cols);
        if (rc != MED_OK) {
            /* a compensation left open is resent and answered again */
            med_log_ctx lc = { .tenant_id = tenant, .error_code = err.code };
            MED_LOGW(&lc, "archive acks (written) not recorded: %s", err.message);
        }
    }
    w->n = 0;
}

static void on_ack(f_archive_comp *c, natsMsg *m, written_set *ws)
{
    char tenant[160], outbox_key[400];
    if (f_archive_ack_subject_parse(natsMsg_GetSubject(m), tenant, sizeof tenant, outbox_key,
                                    sizeof outbox_key) != 0)
        return;
    Mediation__V1__ArchiveWriteAck *ack = mediation__v1__archive_write_ack__unpack(
        NULL, (size_t)natsMsg_GetDataLength(m), (const uint8_t *)natsMsg_GetData(m));
    if (!ack) return;
    ack_ctx a = { .c = c, .tenant = tenant, .outbox_key = outbox_key, .ack = ack };
    a.action = f_archive_ack_decide(ack->archive_write_status, ack->ack_reason_code, ack->retryable,
                                    &a.code);
    if (a.action == F_ACK_WRITTEN) {
        if (ack->record_key && ack->record_key[0] && ws->n < F_COMP_ACK_BATCH) {
            snprintf(ws->tenant[ws->n], sizeof ws->tenant[0], "%s", tenant);
            snprintf(ws->key[ws->n], sizeof ws->key[0], "%s", ack->record_key);
            snprintf(ws->gs[ws->n], sizeof ws->gs[0], "%s",
                     ack->fg_archive_consistency_state ? ack->fg_archive_consistency_state : "");
            ws->n++;
        }
        mediation__v1__archive_write_ack__free_unpacked(ack, NULL);
        return;
    }
    med_err err;
    med_err_clear(&err);
    med_log_ctx lc = { .tenant_id = tenant, .error_code = a.code };
    if (a.action != F_ACK_NOTHING && ack->record_key && ack->record_key[0] &&
        med_pg_tx(c->pg, tenant, 3, ack_body, &a, &err) != MED_OK) {
        /* the row is not written: the next retryable ack or G's own
         * retries bring the record back */
        lc.error_code = err.code;
        MED_LOGW(&lc, "archive ack for %s not recorded: %s", ack->record_key, err.message);
    } else if (a.action == F_ACK_RETRY) {
        f_metrics_compensation("retry", a.code);
    } else if (a.changed) {
        f_metrics_compensation("conflicted", a.code);
        MED_LOGE(&lc, "archive record %s (outbox %s) conflicted: G answered %s", ack->record_key,
                 outbox_key, a.code);
    }
    mediation__v1__archive_write_ack__free_unpacked(ack, NULL);
}

/* ---- resends ------------------------------------------------------------------------ */

typedef struct due_row {
    char key[200], outbox_key[400];
    int failures;
    int64_t first_ms;
} due_row;

typedef struct sweep_ctx {
    f_archive_comp *c;
    const char *tenant;
    due_row rows[F_COMP_ROWS];
    int n, resent, exhausted;
} sweep_ctx;

static med_rc take(med_pg *pg, sweep_ctx *s, int64_t now, med_err *err)
{
    char nows[24], lim[16];
    snprintf(nows, sizeof nows, "%lld", (long long)now);
    snprintf(lim, sizeof lim, "%d", F_COMP_ROWS);
    const char *v[3] = { s->tenant, nows, lim };
    PGresult *res = NULL;
    med_rc rc = f_store_exec(pg, SQL_TAKE, 3, v, &res, err);
    s->n = 0;
    for (int r = 0; rc == MED_OK && r < PQntuples(res) && s->n < F_COMP_ROWS; r++) {
        due_row *d = &s->rows[s->n++];
        snprintf(d->key, sizeof d->key, "%s", PQgetvalue(res, r, 0));
        snprintf(d->outbox_key, sizeof d->outbox_key, "%s", PQgetvalue(res, r, 1));
        d->failures = atoi(PQgetvalue(res, r, 2));
        d->first_ms = strtoll(PQgetvalue(res, r, 3), NULL, 10);
    }
    PQclear(res);
    return rc;
}

/* Publishes the record again; a failure only logs: the row is due again
 * on the ladder and counts as one more unconfirmed attempt. */
static void resend(med_pg *pg, sweep_ctx *s, const due_row *d, int attempt)
{
    f_outbox_row ob;
    memset(&ob, 0, sizeof ob);
    med_err e;
    med_err_clear(&e);
    med_rc rc = f_store_outbox_load(pg, s->tenant, d->outbox_key, &ob, &e);
    if (rc == MED_OK) rc = f_publish_outbox_record(s->c->js, s->tenant, &ob, d->key, attempt, &e);
    if (rc == MED_OK) rc = med_js_publish_async_complete(s->c->js, 0, &e);
    f_outbox_row_free(&ob);
    med_log_ctx lc = { .tenant_id = s->tenant, .error_code = e.code };
    if (rc != MED_OK)
        MED_LOGW(&lc, "archive record %s: resend %d failed: %s", d->key, attempt, e.message);
    else
        MED_LOGI(&lc, "archive record %s: resent, attempt %d", d->key, attempt);
}

static med_rc settle(med_pg *pg, sweep_ctx *s, const due_row *d, int64_t now, med_err *err)
{
    int failures = 0;
    int64_t next = 0;
    PGresult *res = NULL;
    med_rc rc;
    if (f_comp_due(d->failures, d->first_ms, now, &s->c->windows, &failures, &next) ==
        F_COMP_EXHAUSTED) {
        const char *v[3] = { s->tenant, d->key, MED_R_F_OUTPUT_ARCHIVE_COMPENSATION_EXHAUSTED };
        rc = f_store_exec(pg, SQL_EXHAUSTED, 3, v, &res, err);
        if (rc == MED_OK) s->exhausted++;
    } else {
        resend(pg, s, d, failures); /* attempt n after n - 1 unconfirmed */
        char fs[16], ns[24];
        snprintf(fs, sizeof fs, "%d", failures);
        snprintf(ns, sizeof ns, "%lld", (long long)next);
        const char *v[4] = { s->tenant, d->key, fs, ns };
        rc = f_store_exec(pg, SQL_RESENT, 4, v, &res, err);
        if (rc == MED_OK) s->resent++;
    }
    PQclear(res);
    return rc;
}

static med_rc sweep_body(med_pg *pg, PGconn *conn, void *ud, med_err *err)
{
    (void)conn;
    sweep_ctx *s = ud;
    s->resent = s->exhausted = 0;
    int64_t now = med_now_unix_ms();
    med_rc rc = take(pg, s, now, err);
    for (int i = 0; rc == MED_OK && i < s->n; i++) rc = settle(pg, s, &s->rows[i], now, err);
    return rc;
}

static void sweep_tenant(f_archive_comp *c, const char *tenant)
{
    sweep_ctx *s = calloc(1, sizeof *s);
    if (!s) return;
    s->c = c;
    s->tenant = tenant;
    med_err err;
    med_err_clear(&err);
    /* one attempt: a retried body would resend, which G absorbs by recordKey */
    if (med_pg_tx(c->pg, tenant, 1, sweep_body, s, &err) != MED_OK) {
        med_log_ctx lc = { .tenant_id = tenant, .error_code = err.code };
        MED_LOGW(&lc, "archive compensation sweep failed: %s", err.message);
    } else {
        for (int i = 0; i < s->resent; i++) f_metrics_compensation("resent", NULL);
        for (int i = 0; i < s->exhausted; i++) {
            f_metrics_compensation("conflicted", MED_R_F_OUTPUT_ARCHIVE_COMPENSATION_EXHAUSTED);
            med_log_ctx lc = { .tenant_id = tenant,
                               .error_code = MED_R_F_OUTPUT_ARCHIVE_COMPENSATION_EXHAUSTED };
            MED_LOGE(&lc, "archive compensation exhausted: a record is conflicted "
                          "(f_archive_compensation)");
        }
    }
    free(s);
}

static void sweep(f_archive_comp *c)
{
    char nows[24], lim[16];
    snprintf(nows, sizeof nows, "%lld", (long long)med_now_unix_ms());
    snprintf(lim, sizeof lim, "%d", F_COMP_TENANTS);
    const char *v[2] = { nows, lim };
    med_err err;
    med_err_clear(&err);
    PGresult *res = NULL;
    if (f_store_exec(c->pg, SQL_DUE_TENANTS, 2, v, &res, &err) != MED_OK) {
        med_log_ctx lc = { .error_code = err.code };
        MED_LOGW(&lc, "archive compensation: due tenants not read: %s", err.message);
        return;
    }
    for (int r = 0; r < PQntuples(res) && !med_service_stopping(c->svc); r++)
        sweep_tenant(c, PQgetvalue(res, r, 0));
    PQclear(res);
}

/* Written rows older than F_COMP_KEEP_SEC (migrations/0017). */
static void purge(f_archive_comp *c)
{
    char keep[24];
    snprintf(keep, sizeof keep, "%d", F_COMP_KEEP_SEC);
    const char *v[1] = { keep };
    med_err err;
    med_err_clear(&err);
    PGresult *res = NULL;
    if (f_store_exec(c->pg, SQL_PURGE, 1, v, &res, &err) == MED_OK) PQclear(res);
    else {
        med_log_ctx lc = { .error_code = err.code };
        MED_LOGW(&lc, "archive compensation: written rows not purged: %s", err.message);
    }
}

/* ---- thread ------------------------------------------------------------------------- */

static void *comp_main(void *arg)
{
    f_archive_comp *c = arg;
    int64_t next_sweep = 0, next_purge = med_mono_ms() + F_COMP_PURGE_EVERY_MS;
    while (!med_service_stopping(c->svc)) {
        int64_t now = med_mono_ms();
        if (now >= next_purge) {
            purge(c);
            next_purge = now + F_COMP_PURGE_EVERY_MS;
        }
        if (now >= next_sweep) {
            sweep(c);
            next_sweep = med_mono_ms() + F_COMP_TICK_MS;
            continue;
        }
        /* the first answer waits up to the next sweep, the rest of a burst
         * is drained at once */
        natsMsg *m = NULL;
        int64_t wait = next_sweep - now;
        for (int k = 0; k < F_COMP_ACK_BATCH &&
                        natsSubscription_NextMsg(&m, c->sub, wait) == NATS_OK && m; k++) {
            on_ack(c, m, c->written);
            natsMsg_Destroy(m);
            m = NULL;
            wait = 1;
        }
        if (c->written->n) written_flush(c, c->written);
    }
    return NULL;
}

static med_rc connect_all(f_archive_comp *c, med_err *err)
{
    med_rc rc = med_service_js_open(c->svc, "archive_ack", 0, &c->js, err);
    if (rc == MED_OK) rc = med_service_pg_open(c->svc, 0, &c->pg, err);
    if (rc == MED_OK) rc = prepare(c->pg, err);
    if (rc != MED_OK) return rc;
    natsStatus st = natsConnection_QueueSubscribeSync(&c->sub, med_js_conn(c->js),
                                                      MED_SUBJ_F_ARCHIVE_ACK ".>",
                                                      MED_QUEUE_F_ARCHIVE_ACK);
    if (st == NATS_OK) st = natsConnection_Flush(med_js_conn(c->js));
    if (st != NATS_OK)
        return med_err_set(err, MED_ERR_UNAVAILABLE, MED_R_INFRA_NATS_UNAVAILABLE, NULL,
                           "archive ack subscription: %s", natsStatus_GetText(st));
    return MED_OK;
}

med_rc f_archive_comp_start(f_archive_comp *c, med_service *svc, med_err *err)
{
    memset(c, 0, sizeof *c);
    c->svc = svc;
    c->written = calloc(1, sizeof *c->written);
    if (!c->written) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "archive acks");
    f_service_windows(med_service_config(svc), &c->windows);
    med_rc rc = connect_all(c, err);
    if (rc == MED_OK && pthread_create(&c->thread, NULL, comp_main, c) != 0)
        rc = med_err_set(err, MED_ERR_INTERNAL, MED_R_INFRA_PERMANENT_FAILURE, NULL,
                         "archive compensation thread");
    if (rc != MED_OK) {
        f_archive_comp_stop(c);
        return rc;
    }
    c->running = 1;
    return MED_OK;
}

void f_archive_comp_stop(f_archive_comp *c)
{
    if (c->running) pthread_join(c->thread, NULL);
    c->running = 0;
    if (c->sub) {
        natsSubscription_Unsubscribe(c->sub);
        natsSubscription_Destroy(c->sub);
    }
    c->sub = NULL;
    if (c->pg) med_pg_close(c->pg);
    if (c->js) med_js_close(c->js);
    c->pg = NULL;
    c->js = NULL;
    free(c->written);
    c->written = NULL;
}
