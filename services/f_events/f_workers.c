#include "f_workers.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "med/log.h"
#include "med/names.h"
#include "med/reason.h"

static void *worker_main(void *arg)
{
    f_worker *w = arg;
    med_err_clear(&w->err);
    w->rc = med_relay_run_batch_on(w->fs.svc, w->fs.js, MED_STREAM_EVENTS, MED_SUBJ_F_EVENTS,
                                   f_service_batch, &w->fs, &w->err);
    /* the loop returns on the stop flag; one that failed on its own stops
     * the others (and the delivery consumer and scanner) too */
    if (w->rc != MED_OK) {
        med_log_ctx lc = { .error_code = w->err.code };
        MED_LOGE(&lc, "event worker stopped: %s", w->err.message);
        raise(SIGTERM);
    }
    return NULL;
}

static void worker_close(f_worker *w)
{
    f_service_fini(&w->fs);
    if (w->pg_owned) med_pg_close(w->pg_owned);
    if (w->js_owned) med_js_close(w->js_owned);
    w->pg_owned = NULL;
    w->js_owned = NULL;
}

static med_rc worker_open(f_workers *ws, int i, med_err *err)
{
    f_worker *w = &ws->w[i];
    memset(w, 0, sizeof *w);
    med_pg *pg = med_service_pg(ws->svc);
    med_js *js = med_service_js(ws->svc);
    if (i > 0) {
        char role[32];
        snprintf(role, sizeof role, "events-%d", i);
        med_rc rc = med_service_pg_open(ws->svc, 0, &w->pg_owned, err);
        if (rc == MED_OK) rc = med_service_js_open(ws->svc, role, 1, &w->js_owned, err);
        if (rc != MED_OK) {
            worker_close(w);
            return rc;
        }
        pg = w->pg_owned;
        js = w->js_owned;
    }
    med_rc rc = f_service_init(&w->fs, ws->svc, pg, js, err);
    if (rc != MED_OK) worker_close(w);
    return rc;
}

static void stop_started(f_workers *ws, int opened)
{
    /* threads already started see the stop flag only on shutdown: raise it */
    int any = 0;
    for (int i = 0; i < opened; i++) any |= ws->w[i].running;
    if (any) raise(SIGTERM);
    for (int i = 0; i < opened; i++) {
        if (ws->w[i].running) pthread_join(ws->w[i].thread, NULL);
        ws->w[i].running = 0;
        worker_close(&ws->w[i]);
    }
}

med_rc f_workers_start(f_workers *ws, med_service *svc, int n, med_err *err)
{
    memset(ws, 0, sizeof *ws);
    ws->svc = svc;
    if (n < 1 || n > F_WORKERS_MAX)
        return med_err_set(err, MED_ERR_INVALID, MED_R_CFG_INVALID_VALUE, "F_EVENT_WORKERS",
                           "F_EVENT_WORKERS must be 1..%d", F_WORKERS_MAX);
    for (int i = 0; i < n; i++) {
        med_rc rc = worker_open(ws, i, err);
        if (rc != MED_OK) {
            stop_started(ws, i);
            return rc;
        }
        ws->n = i + 1;
    }
    for (int i = 0; i < n; i++) {
        if (pthread_create(&ws->w[i].thread, NULL, worker_main, &ws->w[i]) != 0) {
            stop_started(ws, n);
            return med_err_set(err, MED_ERR_INTERNAL, MED_R_INFRA_PERMANENT_FAILURE, NULL,
                               "event worker thread");
        }
        ws->w[i].running = 1;
    }
    return MED_OK;
}

med_rc f_workers_join(f_workers *ws, med_err *err)
{
    med_rc first = MED_OK;
    for (int i = 0; i < ws->n; i++) {
        f_worker *w = &ws->w[i];
        if (w->running) pthread_join(w->thread, NULL);
        w->running = 0;
        if (first == MED_OK && w->rc != MED_OK) {
            first = w->rc;
            *err = w->err;
        }
        worker_close(w);
    }
    ws->n = 0;
    return first;
}
