/* F.6 autofill and F.7 pending-click expiry, as batches through
 * f_run_batch: the compare-and-set and the phases share one transaction,
 * so a closure moved to closed_failure always has its failure, and a
 * replica that lost the race (SKIP LOCKED, or the CAS found the row no
 * longer open) emits nothing. */
#include "f_scan.h"
#include "f_scan_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "f_keys.h"
#include "f_metrics.h"
#include "f_service_publish.h"
#include "f_store.h"
#include "f_store_int.h"
#include "f_store_run.h"
#include "med/ids.h"
#include "med/log.h"
#include "med/reason.h"

#define F_SQL_RELEASE_DEFAULTS "f_scan_release_defaults"
#define F_SQL_TIMEOUT_APP "f_scan_timeout_app"
#define F_SQL_TIMEOUT_CAS "f_scan_timeout_cas"
#define F_SQL_CLICK_APP "f_scan_click_app"
#define F_SQL_CLICK_TAKE "f_scan_click_take"

/* The closure columns a timer needs, in the order closure_from_row reads. */
#define F_TIMER_COLS \
    "c.closure_key, c.response_reference, c.render_attempt_id, " \
    "(extract(epoch FROM c.opened_at) * 1000)::bigint, c.open_trace_key, c.open_request_key, " \
    "c.open_attempt_key, c.open_opportunity_key, c.open_event_version, c.timeout_record_key, " \
    "c.pending_click_event_id, (extract(epoch FROM c.pending_click_received_at) * 1000)::bigint, " \
    "c.pending_click_dedup_key, c.pending_click_trace_key"

#define F_DUE "make_interval(secs => $2::float8 / 1000)"

med_rc f_scan_timers_prepare(med_pg *pg, med_err *err)
{
    /* The SDK minted its own renderAttemptIds: the Delivery's default
     * closure was only a timer for a silent SDK, not an attempt. */
    med_rc rc = med_pg_prepare(pg, F_SQL_RELEASE_DEFAULTS,
        "UPDATE f_closures c SET state = 'released', closed_at = now(), updated_at = now() "
        "WHERE c.tenant_id = $1 AND c.is_default AND c.state = 'open' "
        "AND c.opened_at <= now() - " F_DUE " "
        "AND EXISTS (SELECT 1 FROM f_closures o WHERE o.tenant_id = c.tenant_id "
        "AND o.response_reference = c.response_reference AND o.closure_key <> c.closure_key "
        "AND o.state <> 'released')", 2, err);
    if (rc == MED_OK)
        rc = med_pg_prepare(pg, F_SQL_TIMEOUT_APP,
            "SELECT coalesce(app_id, '') FROM f_closures WHERE tenant_id = $1 AND state = 'open' "
            "AND opened_at <= now() - " F_DUE " ORDER BY opened_at LIMIT 1", 2, err);
    if (rc == MED_OK)
        rc = med_pg_prepare(pg, F_SQL_TIMEOUT_CAS,
            "UPDATE f_closures c SET state = 'closed_failure', "
            "terminal_source = 'system_timeout_synthesized', closed_at = now(), updated_at = now() "
            "FROM (SELECT tenant_id, closure_key FROM f_closures WHERE tenant_id = $1 "
            "AND state = 'open' AND opened_at <= now() - " F_DUE " AND coalesce(app_id, '') = $3 "
            "ORDER BY opened_at, closure_key LIMIT $4 FOR UPDATE SKIP LOCKED) due "
            "WHERE c.tenant_id = due.tenant_id AND c.closure_key = due.closure_key "
            "AND c.state = 'open' RETURNING " F_TIMER_COLS, 4, err);
    if (rc == MED_OK)
        rc = med_pg_prepare(pg, F_SQL_CLICK_APP,
            "SELECT coalesce(app_id, '') FROM f_closures WHERE tenant_id = $1 "
            "AND pending_click_received_at <= now() - " F_DUE " "
            "ORDER BY pending_click_received_at LIMIT 1", 2, err);
    /* The pending click leaves the closure in the statement that takes it
     * (the click-expiry event carries no closure row). */
    if (rc == MED_OK)
        rc = med_pg_prepare(pg, F_SQL_CLICK_TAKE,
            "WITH c AS (SELECT * FROM f_closures WHERE tenant_id = $1 "
            "AND pending_click_received_at <= now() - " F_DUE " AND coalesce(app_id, '') = $3 "
            "ORDER BY pending_click_received_at, closure_key LIMIT $4 FOR UPDATE SKIP LOCKED), "
            "u AS (UPDATE f_closures x SET pending_click_event_id = NULL, "
            "pending_click_received_at = NULL, pending_click_dedup_key = NULL, "
            "pending_click_trace_key = NULL, updated_at = now() FROM c "
            "WHERE x.tenant_id = c.tenant_id AND x.closure_key = c.closure_key RETURNING 1) "
            "SELECT " F_TIMER_COLS " FROM c", 4, err);
    return rc;
}

/* ---- building a timer batch ----------------------------------------------------- */

typedef struct timer_build {
    f_scanner *s;
    const char *app_stmt;
    const char *take_stmt;
    const char *kind;       /* F_OUTBOX_TIMEOUT | F_OUTBOX_CLICK_EXPIRY */
    int releases;           /* default closures released (timeouts only) */
} timer_build;

static void closure_from_row(med_arena *a, const PGresult *res, int r, f_closure_row *c)
{
    memset(c, 0, sizeof *c);
    c->closure_key = f_store_str_at(a, res, r, 0);
    c->response_reference = f_store_str_at(a, res, r, 1);
    c->render_attempt_id = f_store_str_at(a, res, r, 2);
    c->opened_at_ms = f_store_int_at(res, r, 3);
    c->open_trace_key = f_store_str_at(a, res, r, 4);
    c->open_request_key = f_store_str_at(a, res, r, 5);
    c->open_attempt_key = f_store_str_at(a, res, r, 6);
    c->open_opportunity_key = f_store_str_at(a, res, r, 7);
    c->open_event_version = f_store_str_at(a, res, r, 8);
    c->timeout_record_key = f_store_str_at(a, res, r, 9);
    c->pending_click_event_id = f_store_str_at(a, res, r, 10);
    c->pending_click_received_ms = f_store_int_at(res, r, 11);
    c->pending_click_dedup_key = f_store_str_at(a, res, r, 12);
    c->pending_click_trace_key = f_store_str_at(a, res, r, 13);
    c->exists = 1;
}

static med_rc exec_tenant(med_pg *pg, const char *stmt, f_run *run, const char *app, PGresult **res,
                          med_err *err)
{
    char wait[24], limit[16];
    snprintf(wait, sizeof wait, "%lld", (long long)run->windows.terminal_wait_ms);
    snprintf(limit, sizeof limit, "%d", F_SCAN_BATCH);
    const char *v[4] = { run->tenant_id, wait, app, limit };
    return f_store_exec(pg, stmt, app ? 4 : 2, v, res, err);
}

/* The app of the oldest due item: a batch is one app's (dedup keys and
 * archive records carry appId). NULL when nothing is due. */
static char *due_app(med_pg *pg, f_run *run, const char *stmt, med_err *err, med_rc *rc)
{
    PGresult *res = NULL;
    *rc = exec_tenant(pg, stmt, run, NULL, &res, err);
    if (*rc != MED_OK) return NULL;
    char *app = PQntuples(res) > 0 ? f_store_str_at(&run->b.arena, res, 0, 0) : NULL;
    PQclear(res);
    return app;
}

/* "<kind>:" + sha256(closure keys): the same set of taken rows names the
 * same outbox row, whichever attempt of the transaction commits. */
static void timer_outbox_key(f_run *run, const char *kind, const PGresult *res)
{
    size_t cap = 1;
    for (int r = 0; r < PQntuples(res); r++) cap += strlen(PQgetvalue(res, r, 0)) + 1;
    char *all = med_arena_alloc(&run->b.arena, cap);
    if (!all) return;
    for (int r = 0; r < PQntuples(res); r++) {
        strcat(all, PQgetvalue(res, r, 0));
        strcat(all, "\n");
    }
    char hex[65];
    med_sha256_hex(all, strlen(all), hex);
    snprintf(run->outbox_key, sizeof run->outbox_key, "%s:%.40s", kind, hex);
}

static med_rc add_events(f_run *run, const timer_build *tb, const PGresult *res, med_err *err)
{
    f_batch_work *b = &run->b;
    med_rc rc = MED_OK;
    for (int r = 0; rc == MED_OK && r < PQntuples(res); r++) {
        f_closure_row c;
        closure_from_row(&b->arena, res, r, &c);
        if (strcmp(tb->kind, F_OUTBOX_TIMEOUT) == 0)
            rc = f_batch_add_synth_failure(b, &c, err);
        else
            rc = f_batch_add_click_expiry(b, &c, err);
    }
    return rc;
}

static med_rc build_timer(f_run *run, med_pg *pg, med_err *err)
{
    timer_build *tb = run->build_ud;
    med_rc rc = MED_OK;
    if (strcmp(tb->kind, F_OUTBOX_TIMEOUT) == 0) {
        PGresult *res = NULL;
        rc = exec_tenant(pg, F_SQL_RELEASE_DEFAULTS, run, NULL, &res, err);
        if (rc != MED_OK) return rc;
        tb->releases = atoi(PQcmdTuples(res));
        PQclear(res);
    }
    char *app = due_app(pg, run, tb->app_stmt, err, &rc);
    if (rc != MED_OK) return rc;
    if (!app) {
        run->skipped = 1;
        return MED_OK;
    }
    /* closures stored without an app (a Delivery without Med-App) still
     * time out: their batch's appId is NA */
    run->b.auth_app_id = app[0] ? app : F_NA;
    PGresult *res = NULL;
    rc = exec_tenant(pg, tb->take_stmt, run, app, &res, err);
    if (rc != MED_OK) return rc;
    if (PQntuples(res) == 0) {
        run->skipped = 1; /* another replica took them (SKIP LOCKED) */
        PQclear(res);
        return MED_OK;
    }
    timer_outbox_key(run, tb->kind, res);
    rc = add_events(run, tb, res, err);
    PQclear(res);
    if (rc == MED_OK) rc = f_phase_validate(&run->b, err);
    return rc;
}

/* ---- running them ----------------------------------------------------------------- */

static med_rc mark_body(med_pg *pg, PGconn *conn, void *ud, med_err *err)
{
    (void)conn;
    f_run *run = ud;
    const char *key = run->ob.key;
    return f_store_outbox_mark_published(pg, run->tenant_id, &key, 1, err);
}

/* Publishes what a committed timer batch produced; a failure leaves the
 * row to the sweeper. */
static void publish_run(f_scanner *s, f_run *run)
{
    med_err e;
    med_err_clear(&e);
    med_rc rc = f_publish_outbox(s->js, run->tenant_id, &run->ob, 1, &e);
    if (rc == MED_OK) rc = med_js_publish_async_complete(s->js, 0, &e);
    if (rc == MED_OK) rc = med_pg_tx(s->pg, run->tenant_id, 3, mark_body, run, &e);
    if (rc != MED_OK) {
        med_log_ctx lc = { .tenant_id = run->tenant_id, .error_code = e.code };
        MED_LOGW(&lc, "timer records of %s left to the sweeper: %s", run->ob.key, e.message);
    }
}

/* One batch; 1 when it did something (more may be due). */
static int run_one(f_scanner *s, const char *tenant_id, timer_build *tb)
{
    f_run run;
    memset(&run, 0, sizeof run);
    run.tenant_id = tenant_id;
    run.app_id = NULL; /* set by the build from the due rows */
    run.owner = med_service_instance(s->svc);
    run.received_at_ms = med_now_unix_ms();
    run.windows = s->windows;
    run.pack.instance = med_service_instance(s->svc);
    run.pack.started_at_ms = run.received_at_ms;
    run.outbox_kind = tb->kind;
    run.build = build_timer;
    run.build_ud = tb;
    med_err err;
    med_err_clear(&err);
    med_rc rc = f_run_batch(s->pg, &run, &err);
    int did = 0;
    if (rc != MED_OK) {
        med_log_ctx lc = { .tenant_id = tenant_id, .error_code = err.code };
        MED_LOGW(&lc, "scanner: %s batch failed: %s", tb->kind, err.message);
    } else if (!run.skipped) {
        did = 1;
        if (!run.replayed) f_metrics_committed(&run.b);
        if (!run.ob.published) publish_run(s, &run);
        med_log_ctx lc = { .tenant_id = tenant_id };
        MED_LOGI(&lc, "scanner: %s batch %s: %zu closures", tb->kind, run.ob.key, run.b.n_events);
    }
    f_run_free(&run);
    return did;
}

static void run_all(f_scanner *s, const char *tenant_id, timer_build *tb)
{
    /* bounded per pass: other tenants and the sweeper get their turn */
    for (int i = 0; i < 20 && !med_service_stopping(s->svc); i++)
        if (!run_one(s, tenant_id, tb)) break;
}

void f_scan_timeouts(f_scanner *s, const char *tenant_id)
{
    timer_build tb = { s, F_SQL_TIMEOUT_APP, F_SQL_TIMEOUT_CAS, F_OUTBOX_TIMEOUT, 0 };
    run_all(s, tenant_id, &tb);
}

void f_scan_click_expiries(f_scanner *s, const char *tenant_id)
{
    timer_build tb = { s, F_SQL_CLICK_APP, F_SQL_CLICK_TAKE, F_OUTBOX_CLICK_EXPIRY, 0 };
    run_all(s, tenant_id, &tb);
}
