/* Follows med.h.config.v1 (stream MED_CONFIG) into a med_cfgsnap. An
 * ordered consumer (ephemeral, no acks, every replica its own) replays the
 * whole stream from sequence 1, so after start-up the replica has applied
 * the full history: that is the current state. The thread owns the
 * subscription so stopping is a flag + join, with no callback still running
 * against freed memory. */
#include "med/cfgsnap.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "med/log.h"
#include "med/metrics.h"
#include "med/names.h"
#include "med/reason.h"

#define WATCH_POLL_MS 200 /* how quickly a stop request is seen */

struct med_cfgsnap_watch {
    med_cfgsnap *snap;
    med_js *js;
    natsSubscription *sub;
    med_cfgsnap_cache *cache;
    pthread_t thread;
    int running;
    atomic_int stop;
    atomic_int caught_up;
    uint64_t target;     /* stream last sequence at start-up */
    uint64_t seen;       /* last stream sequence handled (thread only) */
    med_gauge *gen_gauge;
    med_counter *switch_counter;
};

static void register_metrics(med_cfgsnap_watch *w, const char *stage)
{
    char labels[64];
    snprintf(labels, sizeof labels, "stage=\"%s\"", stage ? stage : "");
    w->gen_gauge = med_gauge_get("med_config_generation",
                                 "MED_CONFIG stream sequence of the config change this "
                                 "replica applied last", labels);
    w->switch_counter = med_counter_get("med_config_switches_total",
                                        "config snapshot switches applied", labels);
    if (w->gen_gauge) med_gauge_set(w->gen_gauge, 0);
}

static med_rc read_target(med_cfgsnap_watch *w, med_err *err)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetStreamInfo(&si, med_js_ctx(w->js), MED_STREAM_CONFIG, NULL, &jerr);
    if (s != NATS_OK)
        return med_js_status_err(s, jerr, NULL, "config stream info", err);
    w->target = si->State.Msgs ? si->State.LastSeq : 0;
    jsStreamInfo_Destroy(si);
    if (w->target == 0) atomic_store(&w->caught_up, 1);
    return MED_OK;
}

static med_rc subscribe(med_cfgsnap_watch *w, med_err *err)
{
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = MED_STREAM_CONFIG;
    so.Ordered = true;
    so.Config.DeliverPolicy = js_DeliverAll;
    jsErrCode jerr = 0;
    natsStatus s = js_SubscribeSync(&w->sub, med_js_ctx(w->js), MED_SUBJ_H_CONFIG, NULL, &so,
                                    &jerr);
    if (s != NATS_OK) return med_js_status_err(s, jerr, NULL, "config ordered consumer", err);
    return MED_OK;
}

static void mark_caught_up(med_cfgsnap_watch *w)
{
    if (atomic_exchange(&w->caught_up, 1)) return;
    const med_cfgsnap_snapshot *s = med_cfgsnap_acquire(w->snap);
    /* the cache thread logs what Redis held when it gets to read it */
    MED_LOGI(NULL, "config snapshot loaded: generation %" PRIu64 ", %zu release units "
             "(stream last sequence at start %" PRIu64 ")",
             s->generation, s->n_units, w->target);
    med_cfgsnap_release(s);
}

static void after_switch(med_cfgsnap_watch *w)
{
    const med_cfgsnap_snapshot *s = med_cfgsnap_acquire(w->snap);
    if (w->gen_gauge) med_gauge_set(w->gen_gauge, (double)s->generation);
    if (w->switch_counter) med_counter_inc(w->switch_counter);
    med_cfgsnap_cache_offer(w->cache, s);
    med_cfgsnap_release(s);
}

static void handle(med_cfgsnap_watch *w, natsMsg *m)
{
    jsMsgMetaData *meta = NULL;
    if (natsMsg_GetMetaData(&meta, m) != NATS_OK) return; /* not a stream message */
    uint64_t seq = meta->Sequence.Stream;
    int applied = 0;
    med_err e;
    med_err_clear(&e);
    if (med_cfgsnap_apply_pb(w->snap, seq, (const uint8_t *)natsMsg_GetData(m),
                             (size_t)natsMsg_GetDataLength(m), &applied, &e) != MED_OK) {
        /* a bad message cannot become config; skipping it keeps the rest */
        med_log_ctx lc = { .error_code = e.code };
        MED_LOGW(&lc, "config change at sequence %" PRIu64 " skipped: %s", seq, e.message);
    }
    if (applied) after_switch(w);
    if (seq > w->seen) w->seen = seq;
    if (w->seen >= w->target || meta->NumPending == 0) mark_caught_up(w);
    jsMsgMetaData_Destroy(meta);
}

static void *watch_thread(void *arg)
{
    med_cfgsnap_watch *w = arg;
    while (!atomic_load(&w->stop)) {
        natsMsg *m = NULL;
        natsStatus s = natsSubscription_NextMsg(&m, w->sub, WATCH_POLL_MS);
        if (s == NATS_OK) {
            handle(w, m);
            natsMsg_Destroy(m);
        } else if (s != NATS_TIMEOUT) {
            /* connection trouble: the ordered consumer resets itself */
            usleep(WATCH_POLL_MS * 1000);
        }
    }
    return NULL;
}

static void watch_free(med_cfgsnap_watch *w)
{
    if (w->sub) {
        natsSubscription_Unsubscribe(w->sub);
        natsSubscription_Destroy(w->sub);
    }
    med_cfgsnap_cache_stop(w->cache);
    free(w);
}

static void start_cache(med_cfgsnap_watch *w, const med_cfgsnap_watch_opts *o)
{
    if (!o->redis_host || !*o->redis_host) return;
    char key[128];
    snprintf(key, sizeof key, "med:%s:cfg:snapshot", o->app_env ? o->app_env : "dev");
    w->cache = med_cfgsnap_cache_start(o->redis_host, o->redis_port, key, o->instance);
    if (!w->cache) MED_LOGW(NULL, "config hot cache not started (out of memory)");
}

med_rc med_cfgsnap_watch_start(med_cfgsnap *c, const med_cfgsnap_watch_opts *opts,
                               med_cfgsnap_watch **out, med_err *err)
{
    *out = NULL;
    med_cfgsnap_watch *w = calloc(1, sizeof *w);
    if (!w) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "config watch");
    w->snap = c;
    w->js = opts->js;
    atomic_init(&w->stop, 0);
    atomic_init(&w->caught_up, 0);
    register_metrics(w, opts->stage);
    start_cache(w, opts);
    med_rc rc = read_target(w, err);
    if (rc == MED_OK) rc = subscribe(w, err);
    if (rc == MED_OK && pthread_create(&w->thread, NULL, watch_thread, w) != 0)
        rc = med_err_set(err, MED_ERR_INTERNAL, MED_R_INFRA_NOMEM, NULL,
                         "cannot start the config watch thread");
    if (rc != MED_OK) {
        watch_free(w);
        return rc;
    }
    w->running = 1;
    if (atomic_load(&w->caught_up))
        MED_LOGI(NULL, "config snapshot loaded: MED_CONFIG is empty, generation 0");
    *out = w;
    return MED_OK;
}

int med_cfgsnap_watch_caught_up(med_cfgsnap_watch *w)
{
    return w ? atomic_load(&w->caught_up) : 0;
}

void med_cfgsnap_watch_stop(med_cfgsnap_watch *w)
{
    if (!w) return;
    atomic_store(&w->stop, 1);
    if (w->running) pthread_join(w->thread, NULL);
    watch_free(w);
}
