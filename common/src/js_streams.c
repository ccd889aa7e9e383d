/* The streams of 00-architecture.md and the retry-history KV bucket,
 * created or updated so that every service can run this at start-up. */
#include "med/js.h"

#include <stdio.h>

#include "med/log.h"
#include "med/names.h"
#include "med/reason.h"

#define NS_PER_MS INT64_C(1000000)
#define NS_PER_DAY (INT64_C(86400000) * NS_PER_MS)
#define DEFAULT_DUPLICATE_WINDOW_MS 120000
#define RETRY_HISTORY_TTL_NS NS_PER_DAY

typedef struct stream_def {
    const char *name;
    const char *const *subjects;
    int n_subjects;
    int64_t max_age_ns; /* 0: keep everything */
} stream_def;

static const char *const chain_subjects[] = {
    MED_SUBJ_CHAIN_A_ALL, MED_SUBJ_CHAIN_B_ALL, MED_SUBJ_CHAIN_C_ALL,
    MED_SUBJ_CHAIN_D_ALL, MED_SUBJ_CHAIN_E_ALL,
};
static const char *const delivery_subjects[] = { MED_SUBJ_DELIVERY };
static const char *const events_subjects[] = { MED_SUBJ_F_EVENTS };
/* Only the archive subject: replay/reconcile under med.g. are core
 * request/reply and must not be captured. Same for H below. */
static const char *const archive_subjects[] = { MED_SUBJ_G_ARCHIVE };
static const char *const audit_subjects[] = { MED_SUBJ_AUDIT_ALL };
static const char *const config_subjects[] = { MED_SUBJ_H_CONFIG };
static const char *const dlq_subjects[] = { MED_SUBJ_DLQ_ALL };

#define SUBJECTS(a) (a), (int)(sizeof(a) / sizeof((a)[0]))

static const stream_def streams[] = {
    { MED_STREAM_CHAIN, SUBJECTS(chain_subjects), NS_PER_DAY },
    { MED_STREAM_DELIVERY, SUBJECTS(delivery_subjects), 7 * NS_PER_DAY },
    { MED_STREAM_EVENTS, SUBJECTS(events_subjects), 14 * NS_PER_DAY },
    { MED_STREAM_ARCHIVE, SUBJECTS(archive_subjects), 30 * NS_PER_DAY },
    { MED_STREAM_AUDIT, SUBJECTS(audit_subjects), 7 * NS_PER_DAY },
    { MED_STREAM_CONFIG, SUBJECTS(config_subjects), 0 },
    { MED_STREAM_DLQ, SUBJECTS(dlq_subjects), 30 * NS_PER_DAY },
};

typedef struct resolved_opts {
    int64_t replicas;
    int64_t duplicates_ns;
    int64_t scale_pct;
} resolved_opts;

static resolved_opts resolve(const med_stream_opts *o)
{
    resolved_opts r = { 1, DEFAULT_DUPLICATE_WINDOW_MS * NS_PER_MS, 100 };
    if (o && o->replicas > 0) r.replicas = o->replicas;
    if (o && o->duplicate_window_ms > 0) r.duplicates_ns = o->duplicate_window_ms * NS_PER_MS;
    if (o && o->max_age_scale_pct > 0) r.scale_pct = o->max_age_scale_pct;
    return r;
}

static void fill_config(const stream_def *d, const resolved_opts *r, jsStreamConfig *sc)
{
    jsStreamConfig_Init(sc);
    sc->Name = d->name;
    sc->Subjects = (const char **)d->subjects;
    sc->SubjectsLen = d->n_subjects;
    sc->Retention = js_LimitsPolicy;
    sc->Storage = js_FileStorage;
    sc->Replicas = r->replicas;
    sc->Discard = js_DiscardOld;
    sc->MaxAge = d->max_age_ns / 100 * r->scale_pct;
    if (d->max_age_ns > 0 && sc->MaxAge <= 0) sc->MaxAge = NS_PER_MS * 1000;
    sc->Duplicates = r->duplicates_ns;
    /* The server rejects a duplicate window longer than the retention. */
    if (sc->MaxAge > 0 && sc->Duplicates > sc->MaxAge) sc->Duplicates = sc->MaxAge;
}

/* Add; when it exists with another config, update it in place. Add with
 * an identical config succeeds, so concurrent start-ups do not race. */
static med_rc ensure_stream(jsCtx *jctx, const stream_def *d, const resolved_opts *r,
                            med_err *err)
{
    jsStreamConfig sc;
    fill_config(d, r, &sc);
    jsErrCode jerr = 0;
    natsStatus s = js_AddStream(NULL, jctx, &sc, NULL, &jerr);
    if (s != NATS_OK && jerr == JSStreamNameExistErr) {
        jerr = 0;
        s = js_UpdateStream(NULL, jctx, &sc, NULL, &jerr);
        if (s == NATS_OK) MED_LOGI(NULL, "stream %s updated", d->name);
    }
    if (s == NATS_OK) return MED_OK;
    char what[96];
    snprintf(what, sizeof what, "ensure stream %s", d->name);
    return med_js_status_err(s, jerr, MED_R_INFRA_NATS_UNAVAILABLE, what, err);
}

static med_rc ensure_retry_kv(jsCtx *jctx, const resolved_opts *r, med_err *err)
{
    kvConfig kc;
    kvConfig_Init(&kc);
    kc.Bucket = MED_KV_RETRY_HISTORY;
    kc.Description = "retry history of messages being redelivered";
    kc.History = 1;
    kc.TTL = RETRY_HISTORY_TTL_NS;
    kc.StorageType = js_FileStorage;
    kc.Replicas = (int)r->replicas;
    kvStore *kv = NULL;
    natsStatus s = js_CreateKeyValue(&kv, jctx, &kc);
    if (s != NATS_OK) {
        /* Exists with other settings (e.g. replicas changed by an
         * operator): using it as it is beats refusing to start. */
        s = js_KeyValue(&kv, jctx, MED_KV_RETRY_HISTORY);
        if (s == NATS_OK)
            MED_LOGW(NULL, "KV bucket %s exists with different settings; using it as is",
                     MED_KV_RETRY_HISTORY);
    }
    kvStore_Destroy(kv);
    return med_js_status_err(s, 0, MED_R_INFRA_NATS_UNAVAILABLE,
                             "ensure KV bucket " MED_KV_RETRY_HISTORY, err);
}

med_rc med_js_ensure_streams(med_js *js, const med_stream_opts *opts, med_err *err)
{
    jsCtx *jctx = med_js_ctx(js);
    if (!jctx)
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_NATS_UNAVAILABLE, NULL,
                           "no JetStream context");
    /* Fail fast: the API requests would sit in the reconnect buffer until
     * their timeout, and callers retry start-up on MED_ERR_UNAVAILABLE. */
    if (!med_js_connected(js))
        return med_err_set(err, MED_ERR_UNAVAILABLE, MED_R_INFRA_NATS_UNAVAILABLE, NULL,
                           "not connected to NATS");
    resolved_opts r = resolve(opts);
    for (size_t i = 0; i < sizeof streams / sizeof streams[0]; i++) {
        med_rc rc = ensure_stream(jctx, &streams[i], &r, err);
        if (rc != MED_OK) return rc;
    }
    return ensure_retry_kv(jctx, &r, err);
}
