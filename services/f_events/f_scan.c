/* The scanner thread (see f_scan.h). */
#include "f_scan.h"
#include "f_scan_int.h"
#include "f_metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "f_service.h"
#include "f_store.h"
#include "f_store_int.h"
#include "med/ids.h"
#include "med/log.h"
#include "med/reason.h"

#define F_SQL_DUE_TENANTS "f_scan_due_tenants"
#define F_SQL_OUTBOX_PURGE "f_scan_outbox_purge"
#define F_SQL_EXPIRED_PURGE "f_scan_expired_purge"
#define F_EXPIRED_PURGE_ROWS "5000"
#define F_SQL_OPEN_CLOSURES "f_scan_open_closures"
#define F_PURGE_EVERY_MS 60000

static med_rc prepare(med_pg *pg, med_err *err)
{
    med_rc rc = med_pg_prepare(pg, F_SQL_DUE_TENANTS,
        "SELECT tenant_id FROM f_due_tenants(now(), make_interval(secs => $1::float8 / 1000), $2)",
        2, err);
    if (rc == MED_OK)
        rc = med_pg_prepare(pg, F_SQL_OUTBOX_PURGE,
            "SELECT f_outbox_purge(make_interval(secs => $1::float8), 1000)", 1, err);
    if (rc == MED_OK)
        rc = med_pg_prepare(pg, F_SQL_EXPIRED_PURGE, "SELECT med_expired_keys_purge($1::int)", 1, err);
    if (rc == MED_OK)
        rc = med_pg_prepare(pg, F_SQL_OPEN_CLOSURES, "SELECT f_open_closures()", 0, err);
    if (rc == MED_OK) rc = f_store_prepare(pg, err);
    if (rc == MED_OK) rc = f_scan_timers_prepare(pg, err);
    if (rc == MED_OK) rc = f_scan_outbox_prepare(pg, err);
    return rc;
}

/* Tenants with due work; f_due_tenants sees across tenants (SECURITY
 * DEFINER, migrations/0009) and returns only their ids. */
static char **due_tenants(f_scanner *s, size_t *n)
{
    *n = 0;
    char wait[24], limit[16];
    snprintf(wait, sizeof wait, "%lld", (long long)s->windows.terminal_wait_ms);
    snprintf(limit, sizeof limit, "%d", F_SCAN_TENANTS);
    const char *v[2] = { wait, limit };
    med_err err;
    med_err_clear(&err);
    PGresult *res = NULL;
    if (f_store_exec(s->pg, F_SQL_DUE_TENANTS, 2, v, &res, &err) != MED_OK) {
        med_log_ctx lc = { .error_code = err.code };
        MED_LOGW(&lc, "scanner: due tenants not read: %s", err.message);
        return NULL;
    }
    int rows = PQntuples(res);
    char **out = rows > 0 ? calloc((size_t)rows, sizeof *out) : NULL;
    for (int r = 0; out && r < rows; r++) {
        out[r] = strdup(PQgetvalue(res, r, 0));
        if (out[r]) (*n)++;
    }
    PQclear(res);
    return out;
}

static void purge(f_scanner *s)
{
    int64_t now = med_mono_ms();
    if (now < s->next_purge_ms) return;
    s->next_purge_ms = now + F_PURGE_EVERY_MS;
    char keep[24];
    snprintf(keep, sizeof keep, "%d", F_OUTBOX_KEEP_SEC);
    const char *v[1] = { keep };
    med_err err;
    med_err_clear(&err);
    PGresult *res = NULL;
    if (f_store_exec(s->pg, F_SQL_OUTBOX_PURGE, 1, v, &res, &err) == MED_OK) PQclear(res);
    /* expired dedup/seq windows count as none: deleting them changes no
     * outcome, keeping them grows the tables with every event (0012) */
    const char *rows[1] = { F_EXPIRED_PURGE_ROWS };
    res = NULL;
    if (f_store_exec(s->pg, F_SQL_EXPIRED_PURGE, 1, rows, &res, &err) == MED_OK) PQclear(res);
    else {
        med_log_ctx lc = { .error_code = err.code };
        MED_LOGW(&lc, "scanner: expired keys not purged: %s", err.message);
    }
}

/* med_closure_open: one aggregate per scan (migrations/0011), sampled
 * after the timers moved what was due. A failed read keeps the last value:
 * the scanner's own errors show in its logs and the due-tenants query. */
static void sample_open_closures(f_scanner *s)
{
    med_err err;
    med_err_clear(&err);
    PGresult *res = NULL;
    if (f_store_exec(s->pg, F_SQL_OPEN_CLOSURES, 0, NULL, &res, &err) != MED_OK) return;
    if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
        f_metrics_closures_open(strtoll(PQgetvalue(res, 0, 0), NULL, 10));
    PQclear(res);
}

void f_scan_once(f_scanner *s)
{
    size_t n = 0;
    char **tenants = due_tenants(s, &n);
    for (size_t i = 0; i < n && !med_service_stopping(s->svc); i++) {
        f_scan_timeouts(s, tenants[i]);
        f_scan_click_expiries(s, tenants[i]);
        f_scan_outbox(s, tenants[i]);
    }
    for (size_t i = 0; i < n; i++) free(tenants[i]);
    free(tenants);
    sample_open_closures(s);
    purge(s);
}

static void nap_ms(int64_t ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static void *scan_main(void *arg)
{
    f_scanner *s = arg;
    while (!med_service_stopping(s->svc)) {
        int64_t next = med_mono_ms() + s->interval_ms;
        f_scan_once(s);
        /* short naps: a stop request is honoured within 100 ms */
        while (!med_service_stopping(s->svc) && med_mono_ms() < next) {
            int64_t left = next - med_mono_ms();
            nap_ms(left < 100 ? left : 100);
        }
    }
    return NULL;
}

static med_rc connect_all(f_scanner *s, med_err *err)
{
    med_rc rc = med_service_js_open(s->svc, "scan", 0, &s->js, err);
    if (rc != MED_OK) return rc;
    rc = med_service_pg_open(s->svc, 0, &s->pg, err);
    if (rc == MED_OK) rc = prepare(s->pg, err);
    return rc;
}

med_rc f_scan_start(f_scanner *s, med_service *svc, med_err *err)
{
    memset(s, 0, sizeof *s);
    s->svc = svc;
    const med_config *cfg = med_service_config(svc);
    f_service_windows(cfg, &s->windows);
    s->interval_ms = med_config_int(cfg, "F_SCAN_INTERVAL_MS");
    if (s->interval_ms <= 0) s->interval_ms = 5000;
    med_rc rc = connect_all(s, err);
    if (rc == MED_OK && pthread_create(&s->thread, NULL, scan_main, s) != 0)
        rc = med_err_set(err, MED_ERR_INTERNAL, MED_R_INFRA_PERMANENT_FAILURE, NULL, "scanner thread");
    if (rc != MED_OK) {
        f_scan_stop(s);
        return rc;
    }
    s->running = 1;
    return MED_OK;
}

void f_scan_stop(f_scanner *s)
{
    if (s->running) pthread_join(s->thread, NULL);
    s->running = 0;
    if (s->pg) med_pg_close(s->pg);
    if (s->js) med_js_close(s->js);
    s->pg = NULL;
    s->js = NULL;
}
