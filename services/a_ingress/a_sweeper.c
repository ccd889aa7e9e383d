#include "a_sweeper.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "a_emit.h"
#include "a_emit_store.h"
#include "med/emit_digest.h"
#include "med/ids.h"
#include "med/log.h"
#include "med/reason.h"

#define SWEEP_MAX_TENANTS 64
/* Rows resent per tenant transaction: bounds how long row locks are held
 * while publishing. */
#define SWEEP_ROWS_PER_TENANT 32

struct a_sweeper {
    med_service *svc;
    int64_t period_ms;
    med_pg *pg;
    med_emit_redis redis;
    a_emit_ctx ctx;
    pthread_t thread;
    int thread_started;
    atomic_int stop;           /* set by a_sweeper_stop */
};

static int stopping(a_sweeper *s)
{
    return atomic_load(&s->stop) || med_service_stopping(s->svc);
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static void sweep_once(a_sweeper *s, int *failures)
{
    med_err err;
    med_err_clear(&err);
    s->ctx.redis = med_emit_redis_get(&s->redis);
    int handled = 0;
    med_rc rc = a_emit_store_sweep(s->pg, med_now_unix_ms(), SWEEP_MAX_TENANTS,
                                   SWEEP_ROWS_PER_TENANT, a_emit_resend, &s->ctx, &handled, &err);
    if (rc != MED_OK) {
        if ((*failures)++ % 60 == 0) {
            med_log_ctx lc = { .error_code = err.code };
            MED_LOGW(&lc, "opportunity_created sweep failed: %s", err.message);
        }
        return;
    }
    *failures = 0;
    if (handled > 0) MED_LOGD(NULL, "opportunity_created sweep resent %d events", handled);
}

static void *run(void *ud)
{
    a_sweeper *s = ud;
    int failures = 0;
    while (!stopping(s)) {
        int64_t t0 = med_mono_ms();
        sweep_once(s, &failures);
        /* short steps so SIGTERM is honoured quickly */
        while (!stopping(s) && med_mono_ms() - t0 < s->period_ms)
            sleep_ms(s->period_ms < 50 ? s->period_ms : 50);
    }
    return NULL;
}

med_rc a_sweeper_start(med_service *svc, a_sweeper **out, med_err *err)
{
    *out = NULL;
    a_sweeper *s = calloc(1, sizeof *s);
    if (!s) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "A sweeper");
    const med_config *cfg = med_service_config(svc);
    s->svc = svc;
    s->period_ms = med_config_int(cfg, "A_OC_EMIT_SWEEP_MS");
    s->redis = (med_emit_redis){ .host = med_config_str(cfg, "REDIS_HOST"),
                                 .port = (int)med_config_int(cfg, "REDIS_PORT") };
    s->ctx = (a_emit_ctx){ .js = med_service_js(svc),
                           .app_env = med_config_env_name(med_config_env(cfg)),
                           .subject = med_config_str(cfg, "A_OC_EMIT_SUBJECT"),
                           .window_ms = med_config_int(cfg, "A_OC_EMIT_WINDOW_SEC") * 1000 };
    med_rc rc = med_service_pg_open(svc, 0, &s->pg, err);
    if (rc == MED_OK) rc = a_emit_store_prepare(s->pg, err);
    if (rc == MED_OK && pthread_create(&s->thread, NULL, run, s) != 0)
        rc = med_err_set(err, MED_ERR_INTERNAL, MED_R_INFRA_PERMANENT_FAILURE, NULL,
                         "A sweeper thread");
    s->thread_started = rc == MED_OK;
    if (rc != MED_OK) {
        a_sweeper_stop(s);
        return rc;
    }
    *out = s;
    return MED_OK;
}

void a_sweeper_stop(a_sweeper *s)
{
    if (!s) return;
    atomic_store(&s->stop, 1);
    if (s->thread_started) pthread_join(s->thread, NULL);
    if (s->pg) med_pg_close(s->pg);
    med_emit_redis_close(&s->redis);
    free(s);
}
