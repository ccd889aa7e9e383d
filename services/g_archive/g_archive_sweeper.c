#include "g_archive_sweeper.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "med/ids.h"
#include "med/log.h"
#include "med/reason.h"

#define SWEEP_MAX_TENANTS 64

struct g_archive_sweeper {
    med_service *svc;
    g_store_policy policy;
    int64_t period_ms;
    med_pg *pg;
    pthread_t thread;
    int thread_started;
    atomic_int swept_once;
};

static void sleep_ms(int64_t ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static void sweep_once(g_archive_sweeper *s, int *failures)
{
    med_err err;
    med_err_clear(&err);
    int handled = 0;
    med_rc rc = g_archive_store_sweep(s->pg, &s->policy, SWEEP_MAX_TENANTS, &handled, &err);
    if (rc != MED_OK) {
        /* log an outage once, then now and then */
        if ((*failures)++ % 60 == 0) {
            med_log_ctx lc = { .error_code = err.code };
            MED_LOGW(&lc, "archive sweep failed: %s", err.message);
        }
        return;
    }
    *failures = 0;
    atomic_store(&s->swept_once, 1);
    if (handled > 0) MED_LOGD(NULL, "archive sweep changed %d records", handled);
}

static void *run(void *ud)
{
    g_archive_sweeper *s = ud;
    int failures = 0;
    while (!med_service_stopping(s->svc)) {
        int64_t t0 = med_mono_ms();
        sweep_once(s, &failures);
        /* sleep in short steps so SIGTERM is honoured quickly */
        while (!med_service_stopping(s->svc) && med_mono_ms() - t0 < s->period_ms) sleep_ms(50);
    }
    return NULL;
}

med_rc g_archive_sweeper_start(med_service *svc, const g_store_policy *p, int64_t period_ms,
                               g_archive_sweeper **out, med_err *err)
{
    *out = NULL;
    g_archive_sweeper *s = calloc(1, sizeof *s);
    if (!s) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "archive sweeper");
    s->svc = svc;
    s->policy = *p;
    s->period_ms = period_ms > 0 ? period_ms : 1000;
    atomic_init(&s->swept_once, 0);
    med_rc rc = med_service_pg_open(svc, 0, &s->pg, err);
    if (rc == MED_OK) rc = g_archive_store_prepare(s->pg, err);
    if (rc == MED_OK && pthread_create(&s->thread, NULL, run, s) != 0)
        rc = med_err_set(err, MED_ERR_INTERNAL, MED_R_INFRA_PERMANENT_FAILURE, NULL, "sweeper thread");
    s->thread_started = rc == MED_OK;
    if (rc != MED_OK) {
        g_archive_sweeper_stop(s);
        return rc;
    }
    *out = s;
    return MED_OK;
}

int g_archive_sweeper_ready(g_archive_sweeper *s) { return atomic_load(&s->swept_once); }

void g_archive_sweeper_stop(g_archive_sweeper *s)
{
    if (!s) return;
    if (s->thread_started) pthread_join(s->thread, NULL);
    if (s->pg) med_pg_close(s->pg);
    free(s);
}
