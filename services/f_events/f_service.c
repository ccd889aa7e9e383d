/* F's EventBatch loop (see f_service.h). */
#include "f_service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "f_envelope.h"
#include "f_metrics.h"
#include "f_service_publish.h"
#include "f_store_run.h"
#include "med/ids.h"
#include "med/log.h"
#include "med/metrics.h"
#include "med/names.h"
#include "med/reason.h"
#include "med/rows.h"

void f_service_windows(const med_config *cfg, f_windows *w)
{
    f_windows_default(w);
    w->terminal_wait_ms = med_config_int(cfg, "F_TERMINAL_WAIT_SEC") * 1000;
    w->billing_dedup_ms = med_config_int(cfg, "F_BILLING_DEDUP_WINDOW_SEC") * 1000;
    w->diagnostics_dedup_ms = med_config_int(cfg, "F_DIAG_DEDUP_WINDOW_SEC") * 1000;
    w->inflight_lock_ms = med_config_int(cfg, "F_INFLIGHT_LOCK_SEC") * 1000;
    w->compensation_ms = med_config_int(cfg, "F_ARCHIVE_COMPENSATION_SEC") * 1000;
}

med_rc f_service_init(f_service *fs, med_service *svc, med_pg *pg, med_js *js, med_err *err)
{
    memset(fs, 0, sizeof *fs);
    fs->svc = svc;
    fs->pg = pg;
    fs->js = js;
    const med_config *cfg = med_service_config(svc);
    f_service_windows(cfg, &fs->windows);
    /* No app config carries eventIdGlobalUniqueVerified yet: global_unique
     * event ids stay unverified (F.5), the safe default. */
    fs->event_id_global_verified = 0;
    fs->redis = f_redis_new(med_config_str(cfg, "REDIS_HOST"), (int)med_config_int(cfg, "REDIS_PORT"),
                            200);
    if (!fs->pg || !fs->js)
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_PG_UNAVAILABLE, NULL,
                           "F needs PostgreSQL and JetStream");
    med_rc rc = f_store_prepare(fs->pg, err);
    fs->prepared = rc == MED_OK;
    f_metrics_init();
    return rc;
}

void f_service_fini(f_service *fs)
{
    f_redis_free(fs->redis);
    fs->redis = NULL;
}

/* ---- one EventBatch ----------------------------------------------------------- */

typedef struct f_job {
    f_service *fs;
    const med_relay_in *in;
    Mediation__V1__EventBatch *eb;
    const char *tenant;
    const char *app;
    const char *inbox;
    f_run run;
    f_redis_seen seen;
    int seen_done;
    int to_publish;   /* the outbox row still has to go out */
    int redis_after;  /* committed or replayed: markers / lock releases are due */
    med_rc rc;
    med_err err;
} f_job;

static const char *nonblank(const char *a, const char *b)
{
    if (a && a[0]) return a;
    return b && b[0] ? b : NULL;
}

static void count_batch(const char *result)
{
    char labels[64];
    snprintf(labels, sizeof labels, "result=\"%s\"", result);
    med_counter_inc(med_counter_get("f_event_batches_total", "EventBatches by outcome", labels));
}

/* Phase 1 alone (pure). */
static med_rc parse_envelope(f_job *j, f_batch_work *b, med_err *err)
{
    const Mediation__V1__EventBatch *eb = j->eb;
    if (eb->body_case == MEDIATION__V1__EVENT_BATCH__BODY_BODY_JSON)
        return f_envelope_parse(b, eb->body_json, strlen(eb->body_json), err);
    if (eb->body_case == MEDIATION__V1__EVENT_BATCH__BODY_REQUEST && eb->request)
        return f_envelope_check(b, eb->request, err);
    return f_envelope_reject(b, MED_R_F_ENVELOPE_EVENTS_INVALID, 400, "events");
}

/* Phases 1 and 2 of one attempt, then (first attempt only) the Redis
 * round trip, which needs the batch's dedup keys. */
static med_rc build_request(f_run *run, med_pg *pg, med_err *err)
{
    (void)pg;
    f_job *j = run->build_ud;
    f_batch_work *b = &run->b;
    med_rc rc = parse_envelope(j, b, err);
    if (rc != MED_OK || b->envelope_reason) return rc;
    rc = f_phase_validate(b, err);
    if (rc == MED_OK && !j->seen_done) {
        f_redis_before(j->fs->redis, b, run->outbox_key, &j->seen);
        j->seen_done = 1;
    }
    return rc;
}

static void outbox_key_of(const f_job *j, char *out, size_t cap)
{
    const char *msg_id = med_header_get(j->in->msg, MED_HDR_MSG_ID);
    if (j->eb->edge_request_id && j->eb->edge_request_id[0])
        snprintf(out, cap, "%s:%s", F_OUTBOX_BATCH, j->eb->edge_request_id);
    else if (msg_id && msg_id[0])
        snprintf(out, cap, "%s:%s", F_OUTBOX_BATCH, msg_id);
    else
        snprintf(out, cap, "%s:seq-%llu", F_OUTBOX_BATCH,
                 (unsigned long long)(j->in->info ? j->in->info->stream_seq : 0));
}

static void run_setup(f_job *j)
{
    f_service *fs = j->fs;
    f_run *run = &j->run;
    run->tenant_id = j->tenant;
    run->app_id = j->app;
    run->received_at_ms = j->eb->received_at_unix_ms > 0 ? j->eb->received_at_unix_ms
                                                         : j->in->now_unix_ms;
    run->windows = fs->windows;
    run->event_id_global_verified = fs->event_id_global_verified;
    run->anchor_hash = nonblank(j->in->headers ? j->in->headers->anchor_hash : NULL,
                                j->eb->trace ? j->eb->trace->anchor_hash : NULL);
    run->pack.trace = j->eb->trace;
    run->pack.instance = j->in->instance;
    run->pack.started_at_ms = j->in->now_unix_ms;
    outbox_key_of(j, run->outbox_key, sizeof run->outbox_key);
    run->owner = run->outbox_key;
    run->outbox_kind = F_OUTBOX_BATCH;
    run->build = build_request;
    run->build_ud = j;
}

/* An answer without a committed batch: envelope reject or 503. */
static void reply_reject(f_job *j, int status, const char *code, const char *message,
                         const char *field, int retry_after)
{
    f_run *run = &j->run;
    if (!run->b_live) {
        f_batch_init(&run->b, j->tenant, j->app, run->received_at_ms, &run->windows);
        run->b_live = 1;
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    med_err e;
    med_err_clear(&e);
    med_rc rc = f_pack_reject_ack(&run->b, j->eb->trace, status, code, message, field, retry_after,
                                  &buf, &len, &e);
    if (rc == MED_OK) rc = f_publish_reply(j->fs->js, j->inbox, buf, len, &e);
    free(buf);
    if (rc != MED_OK) {
        med_log_ctx lc = { .tenant_id = j->tenant, .error_code = e.code };
        MED_LOGW(&lc, "events reject answer not sent: %s", e.message);
    }
}

static void reply_ack(f_job *j)
{
    med_err e;
    med_err_clear(&e);
    const f_outbox_row *ob = &j->run.ob;
    if (!ob->ack_pb) return;
    if (f_publish_reply(j->fs->js, j->inbox, ob->ack_pb, ob->ack_len, &e) != MED_OK) {
        med_log_ctx lc = { .tenant_id = j->tenant, .error_code = e.code };
        MED_LOGW(&lc, "events ACK not sent (batch %s committed): %s", ob->batch_id, e.message);
    }
}

/* The store failed before the batch was parsed (BEGIN already failed):
 * parse it now, for an envelope verdict or the per-event 503 items. */
static void parse_for_answer(f_job *j)
{
    f_run *run = &j->run;
    if (run->b_live && run->b.req) return;
    if (run->b_live) f_batch_free(&run->b);
    f_batch_init(&run->b, j->tenant, j->app, run->received_at_ms, &run->windows);
    run->b_live = 1;
    med_err pe;
    med_err_clear(&pe);
    parse_envelope(j, &run->b, &pe);
}

static void reply_envelope_reject(f_job *j)
{
    f_batch_work *b = &j->run.b;
    reply_reject(j, b->envelope_http_status ? b->envelope_http_status : 400, b->envelope_reason,
                 "event batch envelope rejected", b->envelope_field, 0);
    count_batch("envelope_rejected");
}

static void on_store_failure(f_job *j)
{
    parse_for_answer(j);
    if (j->run.b.envelope_reason) {
        /* nothing would have been stored anyway */
        reply_envelope_reject(j);
        j->rc = MED_OK;
        return;
    }
    med_log_ctx lc = { .tenant_id = j->tenant, .error_code = j->err.code };
    MED_LOGW(&lc, "events batch %s not stored: %s", j->run.outbox_key, j->err.message);
    reply_reject(j, 503, MED_R_F_EVENT_STORE_UNAVAILABLE, "event store unavailable, retry the batch",
                 NULL, F_RETRY_AFTER_SEC);
    count_batch("store_unavailable");
    f_metrics_acks_failed(j->run.b.req ? j->run.b.req->n_events : 0);
    /* The SDK owns the retry of a 503 (same batchId: committed events come
     * back duplicate). A failure that is not the store's is a bug: keep
     * the message for operators (dead letter). */
    if (med_rc_is_retryable(j->rc)) j->rc = MED_OK;
}

static void job_run(f_service *fs, f_job *j)
{
    const med_relay_in *in = j->in;
    j->fs = fs;
    j->eb = mediation__v1__event_batch__unpack(NULL, in->len, in->data);
    if (!j->eb) {
        j->rc = med_err_set(&j->err, MED_ERR_INVALID, MED_R_INFRA_DECODE_FAILED, NULL,
                            "payload is not an EventBatch");
        return;
    }
    j->tenant = nonblank(in->headers ? in->headers->tenant : NULL, j->eb->tenant_id);
    j->app = nonblank(j->eb->app_id, in->headers ? in->headers->app : NULL);
    j->inbox = nonblank(j->eb->reply_to, in->reply_to);
    run_setup(j);
    if (!j->tenant) {
        reply_reject(j, 400, MED_R_F_ENVELOPE_MISSING_REQUIRED, "no tenant on the batch", MED_HDR_TENANT, 0);
        count_batch("no_tenant");
        return;
    }
    j->rc = f_run_batch(fs->pg, &j->run, &j->err);
    if (j->rc != MED_OK) {
        on_store_failure(j);
        return;
    }
    f_run *run = &j->run;
    if (run->envelope_rejected) {
        reply_envelope_reject(j);
        return;
    }
    reply_ack(j);
    j->to_publish = !run->ob.published;
    /* a replayed batch won no claim: only its locks are released */
    j->redis_after = 1;
    count_batch(run->replayed ? "replayed" : "committed");
    /* a replayed batch re-sends the stored ACK of a batch already counted */
    if (!run->replayed) {
        f_metrics_acks(&run->b);
        f_metrics_committed(&run->b);
    }
}

/* ---- after the fetch: publish, mark published, Redis ------------------------------- */

static void publish_jobs(f_service *fs, f_job *js, size_t n)
{
    med_js *js_conn = fs->js;
    int any = 0;
    for (size_t i = 0; i < n; i++) {
        if (!js[i].to_publish) continue;
        const f_outbox_row *ob = &js[i].run.ob;
        med_err e;
        med_err_clear(&e);
        if (f_publish_outbox(js_conn, js[i].tenant, ob, ob->attempts + 1, &e) != MED_OK) {
            js[i].to_publish = 0; /* the sweeper takes it over */
            med_log_ctx lc = { .tenant_id = js[i].tenant, .error_code = e.code };
            MED_LOGW(&lc, "archive records of %s not published yet: %s", ob->key, e.message);
            continue;
        }
        any = 1;
    }
    if (!any) return;
    med_err e;
    med_err_clear(&e);
    if (med_js_publish_async_complete(js_conn, 0, &e) == MED_OK) return;
    med_log_ctx lc = { .error_code = e.code };
    MED_LOGW(&lc, "archive publish not acknowledged, the sweeper retries: %s", e.message);
    for (size_t i = 0; i < n; i++) js[i].to_publish = 0;
}

typedef struct mark_ctx {
    const char *tenant;
    const char **keys;
    size_t n;
} mark_ctx;

static med_rc mark_body(med_pg *pg, PGconn *conn, void *ud, med_err *err)
{
    (void)conn;
    mark_ctx *m = ud;
    return f_store_outbox_mark_published(pg, m->tenant, m->keys, m->n, err);
}

static void mark_published(f_service *fs, f_job *js, size_t n)
{
    const char **tenants = calloc(n, sizeof *tenants);
    unsigned char *taken = calloc(n, 1);
    size_t *idx = calloc(n, sizeof *idx);
    const char **keys = calloc(n, sizeof *keys);
    size_t k;
    while (tenants && taken && idx && keys) {
        for (size_t i = 0; i < n; i++) tenants[i] = js[i].to_publish ? js[i].tenant : NULL;
        if ((k = med_rows_next_tenant_group(tenants, n, taken, idx)) == 0) break;
        for (size_t m = 0; m < k; m++) keys[m] = js[idx[m]].run.ob.key;
        mark_ctx c = { js[idx[0]].tenant, keys, k };
        med_err e;
        med_err_clear(&e);
        if (med_pg_tx(fs->pg, c.tenant, 3, mark_body, &c, &e) != MED_OK) {
            med_log_ctx lc = { .tenant_id = c.tenant, .error_code = e.code };
            MED_LOGW(&lc, "outbox rows published but not marked (the sweeper republishes): %s",
                     e.message);
        }
    }
    free(tenants);
    free(taken);
    free(idx);
    free(keys);
}

static void job_free(f_job *j)
{
    f_redis_seen_free(&j->seen);
    f_run_free(&j->run);
    if (j->eb) mediation__v1__event_batch__free_unpacked(j->eb, NULL);
}

void f_service_batch(void *ud, const med_relay_in *ins, size_t n, med_relay_out *outs, med_rc *rcs,
                     med_err *errs)
{
    f_service *fs = ud;
    (void)outs;
    f_job *js = calloc(n ? n : 1, sizeof *js);
    if (!js) {
        for (size_t i = 0; i < n; i++)
            rcs[i] = med_err_set(&errs[i], MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "F batch");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        js[i].in = &ins[i];
        job_run(fs, &js[i]);
    }
    publish_jobs(fs, js, n);
    mark_published(fs, js, n);
    for (size_t i = 0; i < n; i++) {
        if (js[i].redis_after) f_redis_after(fs->redis, &js[i].run.b, js[i].run.outbox_key, &js[i].seen);
        rcs[i] = js[i].rc;
        if (js[i].rc != MED_OK) errs[i] = js[i].err;
        job_free(&js[i]);
    }
    free(js);
}
