#include "b_emit.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "med/emit_digest.h"
#include "med/emit_publish.h"
#include "med/ids.h"
#include "med/log.h"
#include "med/names.h"
#include "med/reason.h"

const med_emit_codes b_emit_codes = {
    .accepted = MED_R_B_SIG_EVT_ACK_ACCEPTED,
    .duplicate = MED_R_B_SIG_EVT_ACK_DUPLICATE,
    .retryable = MED_R_B_SIG_EVT_ACK_REJECTED_RETRYABLE,
    .non_retryable = MED_R_B_SIG_EVT_ACK_REJECTED_NON_RETRYABLE,
    .payload_conflict = MED_R_B_SIG_EVT_PAYLOAD_CONFLICT,
    .contract_invalid = NULL,
    .retry_exhausted = MED_R_B_SIG_EVT_RETRY_EXHAUSTED,
};

typedef struct b_emit_item {
    struct b_emit_item *next;
    natsMsg *msg;
    char idem[65], digest[65];
    med_trace_headers h;
    int attempts;                 /* made so far */
    int64_t first_ms, due_ms;
} b_emit_item;

struct b_emitter {
    med_service *svc;
    med_js *js;
    med_emit_redis redis;
    const char *app_env;
    int64_t window_ms;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    b_emit_item *head;            /* unordered; the thread scans for due ones */
    int n;
    atomic_int stop;
    pthread_t thread;
    int thread_started;
};

static void item_free(b_emit_item *it)
{
    if (!it) return;
    natsMsg_Destroy(it->msg);
    free(it);
}

static med_log_ctx item_log(const b_emit_item *it)
{
    return (med_log_ctx){ .trace_id = it->h.trace_key, .request_id = it->h.request_key,
                          .tenant_id = it->h.tenant };
}

void b_emitter_submit(b_emitter *e, natsMsg *msg, const char *idempotency_key,
                      const char *digest, const med_trace_headers *h)
{
    b_emit_item *it = e ? calloc(1, sizeof *it) : NULL;
    if (!it) {
        natsMsg_Destroy(msg);
        med_emit_count(MED_STAGE_B, MED_R_B_SIG_EVT_ACK_REJECTED_NON_RETRYABLE);
        return;
    }
    it->msg = msg;
    snprintf(it->idem, sizeof it->idem, "%s", idempotency_key);
    snprintf(it->digest, sizeof it->digest, "%s", digest);
    if (h) it->h = *h;
    it->first_ms = it->due_ms = med_now_unix_ms();
    pthread_mutex_lock(&e->mu);
    int full = e->n >= B_EMIT_QUEUE_MAX;
    if (!full) {
        it->next = e->head;
        e->head = it;
        e->n++;
        pthread_cond_signal(&e->cv);
    }
    pthread_mutex_unlock(&e->mu);
    if (full) {
        med_log_ctx lc = item_log(it);
        lc.error_code = MED_R_B_SIG_EVT_ACK_REJECTED_NON_RETRYABLE;
        MED_LOGW(&lc, "signal_normalized %s dropped: %d events already waiting", it->idem,
                 B_EMIT_QUEUE_MAX);
        med_emit_count(MED_STAGE_B, lc.error_code);
        item_free(it);
    }
}

/* Unlinks the first due item (NULL if none); *next_due = the earliest
 * due time of the rest. Called with mu held. */
static b_emit_item *take_due(b_emitter *e, int64_t now, int64_t *next_due)
{
    b_emit_item **pp = &e->head, **hit = NULL;
    *next_due = INT64_MAX;
    for (; *pp; pp = &(*pp)->next) {
        if (!hit && (*pp)->due_ms <= now) hit = pp;
        else if ((*pp)->due_ms < *next_due) *next_due = (*pp)->due_ms;
    }
    if (!hit) return NULL;
    b_emit_item *it = *hit;
    *hit = it->next;
    it->next = NULL;
    e->n--;
    return it;
}

static void requeue(b_emitter *e, b_emit_item *it)
{
    pthread_mutex_lock(&e->mu);
    it->next = e->head;
    e->head = it;
    e->n++;
    pthread_mutex_unlock(&e->mu);
}

static void attempt(b_emitter *e, b_emit_item *it)
{
    char key[256];
    med_emit_digest_key(e->app_env, MED_STAGE_B, "sig", it->idem, key, sizeof key);
    med_log_ctx lc = item_log(it);
    med_emit_event ev = {
        .stage = MED_STAGE_B, .codes = &b_emit_codes, .msg = it->msg, .msg_id = it->idem,
        .digest = it->digest, .digest_key = key, .window_ms = e->window_ms,
        .attempt = it->attempts + 1, .first_attempt_at_ms = it->first_ms, .log = &lc,
    };
    med_emit_ack ack;
    med_emit_try(e->js, med_emit_redis_get(&e->redis), &ev, &ack);
    it->attempts++;
    if (!ack.retryable) {
        item_free(it);
        return;
    }
    it->due_ms = ack.next_retry_at_ms;
    requeue(e, it);
}

static void wait_until(b_emitter *e, int64_t due)
{
    int64_t ms = due == INT64_MAX ? 200 : due - med_now_unix_ms();
    if (ms > 200) ms = 200; /* bounded, so the stop flag is seen */
    if (ms <= 0) return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&e->cv, &e->mu, &ts);
}

static void *run(void *ud)
{
    b_emitter *e = ud;
    while (!atomic_load(&e->stop) && !med_service_stopping(e->svc)) {
        int64_t next_due;
        pthread_mutex_lock(&e->mu);
        b_emit_item *it = take_due(e, med_now_unix_ms(), &next_due);
        if (!it) wait_until(e, next_due);
        pthread_mutex_unlock(&e->mu);
        if (it) attempt(e, it);
    }
    return NULL;
}

med_rc b_emitter_start(med_service *svc, b_emitter **out, med_err *err)
{
    *out = NULL;
    b_emitter *e = calloc(1, sizeof *e);
    if (!e) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "B emitter");
    const med_config *cfg = med_service_config(svc);
    e->svc = svc;
    e->js = med_service_js(svc);
    e->redis = (med_emit_redis){ .host = med_config_str(cfg, "REDIS_HOST"),
                                 .port = (int)med_config_int(cfg, "REDIS_PORT") };
    e->app_env = med_config_env_name(med_config_env(cfg));
    e->window_ms = med_config_int(cfg, "B_SIG_EMIT_WINDOW_SEC") * 1000;
    pthread_mutex_init(&e->mu, NULL);
    pthread_cond_init(&e->cv, NULL);
    if (pthread_create(&e->thread, NULL, run, e) != 0) {
        b_emitter_stop(e);
        return med_err_set(err, MED_ERR_INTERNAL, MED_R_INFRA_PERMANENT_FAILURE, NULL,
                           "B emitter thread");
    }
    e->thread_started = 1;
    *out = e;
    return MED_OK;
}

void b_emitter_stop(b_emitter *e)
{
    if (!e) return;
    atomic_store(&e->stop, 1);
    if (e->thread_started) {
        pthread_mutex_lock(&e->mu);
        pthread_cond_signal(&e->cv);
        pthread_mutex_unlock(&e->mu);
        pthread_join(e->thread, NULL);
    }
    if (e->n > 0) MED_LOGW(NULL, "%d signal_normalized events dropped at stop", e->n);
    while (e->head) {
        b_emit_item *it = e->head;
        e->head = it->next;
        item_free(it);
    }
    med_emit_redis_close(&e->redis);
    pthread_cond_destroy(&e->cv);
    pthread_mutex_destroy(&e->mu);
    free(e);
}
