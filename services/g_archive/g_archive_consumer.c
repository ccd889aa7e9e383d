#include "g_archive_consumer.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "g_ack.h"
#include "g_archive_check.h"
#include "med/ids.h"
#include "med/log.h"
#include "med/names.h"
#include "med/reason.h"
#include "med/rows.h"

/* G.4 retries a record after 1 s, 5 s, 30 s, then every 120 s; the 15 min
 * deadline, not a delivery count, ends them (the count only bounds a
 * message that keeps failing for another reason). */
static const int64_t k_ladder[] = { 1000, 5000, 30000, 120000 };
#define ARCHIVE_MAX_DELIVER 100
#define PLATFORM_TENANT "_platform"

enum { ST_STARTING = 0, ST_RUNNING = 1, ST_STOPPED = 2, ST_FAILED = -1 };

/* One fetched message. */
typedef struct g_slot {
    natsMsg *msg;
    med_trace_headers h;
    Mediation__V1__ArchiveRecord *rec;
    int stored;                /* rows[i] went to ingest */
    int quarantined;           /* q[i] describes it */
    char why[400];             /* quarantine: the check's message and field */
    char stream[64], consumer[80];
    uint64_t stream_seq, num_delivered;
    int64_t published_ms;
    med_disposition disp;
    med_err err;
    g_archive_result result;   /* the answer when not stored (failure, quarantine) */
} g_slot;

struct g_archive_consumer {
    med_service *svc;
    g_store_policy policy;
    med_js *js;
    med_pg *pg;
    pthread_t thread;
    int thread_started;
    atomic_int state;
    /* the batch being settled (consumer thread only) */
    g_slot *slots;
    g_archive_row *rows;
    g_ingest_out *outs;
    g_quarantine *q;
    const char **tenants;
    size_t *idx;
    unsigned char *taken;
    int n, cap, next;
};

/* ---- batch storage ---- */

static int reserve(g_archive_consumer *c, int n)
{
    if (n <= c->cap) return 0;
    void *p[7] = {
        realloc(c->slots, (size_t)n * sizeof *c->slots), realloc(c->rows, (size_t)n * sizeof *c->rows),
        realloc(c->outs, (size_t)n * sizeof *c->outs), realloc(c->q, (size_t)n * sizeof *c->q),
        realloc(c->tenants, (size_t)n * sizeof *c->tenants), realloc(c->idx, (size_t)n * sizeof *c->idx),
        realloc(c->taken, (size_t)n),
    };
    if (p[0]) c->slots = p[0];
    if (p[1]) c->rows = p[1];
    if (p[2]) c->outs = p[2];
    if (p[3]) c->q = p[3];
    if (p[4]) c->tenants = p[4];
    if (p[5]) c->idx = p[5];
    if (p[6]) c->taken = p[6];
    for (int i = 0; i < 7; i++)
        if (!p[i]) return -1;
    c->cap = n;
    return 0;
}

static void slot_release(g_archive_consumer *c, int i)
{
    g_slot *s = &c->slots[i];
    if (s->rec) mediation__v1__archive_record__free_unpacked(s->rec, NULL);
    s->rec = NULL;
    g_archive_row_free(&c->rows[i]);
}

/* ---- per message: decode, check, build ---- */

static void read_meta(g_slot *s)
{
    jsMsgMetaData *meta = NULL;
    if (natsMsg_GetMetaData(&meta, s->msg) != NATS_OK) return;
    snprintf(s->stream, sizeof s->stream, "%s", meta->Stream ? meta->Stream : "");
    snprintf(s->consumer, sizeof s->consumer, "%s", meta->Consumer ? meta->Consumer : "");
    s->stream_seq = meta->Sequence.Stream;
    s->num_delivered = meta->NumDelivered;
    s->published_ms = meta->Timestamp / 1000000;
    jsMsgMetaData_Destroy(meta);
}

static const char *blank_null(const char *s) { return s && *s ? s : NULL; }

static void quarantine(g_archive_consumer *c, int i, const med_err *why)
{
    g_slot *s = &c->slots[i];
    const Mediation__V1__ArchiveSourceKeysLite *k =
        s->rec && s->rec->record ? s->rec->record->source_keys : NULL;
    const char *tenant = s->rec ? g_archive_tenant(s->rec, &s->h) : blank_null(s->h.tenant);
    snprintf(s->why, sizeof s->why, "%s%s%s", why->message, why->field[0] ? ": " : "", why->field);
    s->quarantined = 1;
    c->q[i] = (g_quarantine){
        .tenant_id = tenant ? tenant : PLATFORM_TENANT,
        .subject = natsMsg_GetSubject(s->msg), .stream = s->stream, .consumer = s->consumer,
        .msg_id = med_header_get(s->msg, MED_HDR_MSG_ID), .stream_seq = s->stream_seq,
        .num_delivered = s->num_delivered, .reason_code = MED_R_G_INGEST_INVALID_RECORD,
        .last_error = s->why,
        .trace_key = k ? blank_null(k->trace_key) : blank_null(s->h.trace_key),
        .request_key = k ? blank_null(k->request_key) : blank_null(s->h.request_key),
        .opportunity_key = k ? blank_null(k->opportunity_key) : blank_null(s->h.opportunity_key),
        .payload = (const uint8_t *)natsMsg_GetData(s->msg),
        .payload_len = (size_t)natsMsg_GetDataLength(s->msg),
    };
    s->disp = MED_DISPOSE_FAIL;
    med_err_set(&s->err, MED_ERR_INVALID, MED_R_G_INGEST_INVALID_RECORD, why->field, "%s", s->why);
    s->result = (g_archive_result){ s->rec && s->rec->record ? s->rec->record->record_key : NULL,
                                    G_WS_FAILED_TERMINAL, MED_R_G_INGEST_INVALID_RECORD, 0, NULL, NULL };
}

static void slot_build(g_archive_consumer *c, int i, natsMsg *msg)
{
    g_slot *s = &c->slots[i];
    memset(s, 0, sizeof *s);
    memset(&c->rows[i], 0, sizeof c->rows[i]);
    s->msg = msg;
    s->disp = MED_DISPOSE_ACK;
    med_headers_read(msg, &s->h);
    read_meta(s);
    med_err e;
    med_err_clear(&e);
    s->rec = mediation__v1__archive_record__unpack(NULL, (size_t)natsMsg_GetDataLength(msg),
                                                   (const uint8_t *)natsMsg_GetData(msg));
    if (!s->rec) {
        med_err_set(&e, MED_ERR_INVALID, MED_R_G_INGEST_INVALID_RECORD, "", "not an ArchiveRecord");
        quarantine(c, i, &e);
        return;
    }
    med_rc rc = g_archive_check(s->rec, &e);
    if (rc == MED_OK) rc = g_archive_row_build(s->rec, &s->h, &c->rows[i], &e);
    if (rc == MED_ERR_INVALID) {
        quarantine(c, i, &e);
    } else if (rc != MED_OK) {
        s->disp = MED_DISPOSE_RETRY;
        s->err = e;
        s->result = (g_archive_result){ s->rec->record->record_key, G_WS_FAILED_RETRYABLE,
                                        MED_R_G_ARCHIVE_TEMPORARILY_UNAVAILABLE, 1, NULL, NULL };
    } else {
        s->stored = 1;
    }
}

/* ---- the batch's store work ---- */

/* The ingest of slot i failed with (rc, e): retried on the ladder until
 * 15 min after it entered the stream, then dead-lettered. */
static void store_failed(g_archive_consumer *c, int i, med_rc rc, const med_err *e, int64_t now)
{
    g_slot *s = &c->slots[i];
    g_write_failure f = g_write_failure_classify(rc, e->code);
    const char *canon = med_reason_lookup(f.reason);
    f.reason = canon ? canon : MED_R_INFRA_PERMANENT_FAILURE;
    int late = g_write_deadline_passed(s->published_ms, now, c->policy.window_ms);
    s->stored = 0;
    s->err = *e;
    if (f.retryable && !late) {
        s->disp = MED_DISPOSE_RETRY;
        s->result = (g_archive_result){ c->rows[i].record_key, G_WS_FAILED_RETRYABLE, f.reason, 1,
                                        NULL, g_group_state_name(G_GS_PARTIAL_PENDING) };
        return;
    }
    const char *code = late ? MED_R_G_ARCHIVE_COMPENSATION_EXHAUSTED : f.reason;
    s->disp = MED_DISPOSE_FAIL;
    med_err_set(&s->err, MED_ERR_INVALID, code, NULL, "archive write failed: %s", e->message);
    s->result = (g_archive_result){ c->rows[i].record_key, G_WS_FAILED_TERMINAL, code, 0, NULL,
                                    g_group_state_name(G_GS_PARTIAL_TIMEOUT) };
}

static void ingest_by_tenant(g_archive_consumer *c)
{
    for (int i = 0; i < c->n; i++) {
        c->tenants[i] = c->slots[i].stored ? c->rows[i].tenant_id : NULL;
        c->taken[i] = 0;
    }
    size_t k;
    int64_t now = med_now_unix_ms();
    while ((k = med_rows_next_tenant_group(c->tenants, (size_t)c->n, c->taken, c->idx)) > 0) {
        med_err e;
        med_err_clear(&e);
        med_rc rc = g_archive_store_ingest(c->pg, c->tenants[c->idx[0]], c->rows, c->idx, k,
                                           &c->policy, c->outs, &e);
        for (size_t m = 0; rc != MED_OK && m < k; m++) store_failed(c, (int)c->idx[m], rc, &e, now);
    }
}

static void quarantine_by_tenant(g_archive_consumer *c)
{
    for (int i = 0; i < c->n; i++) {
        c->tenants[i] = c->slots[i].quarantined ? c->q[i].tenant_id : NULL;
        c->taken[i] = 0;
    }
    size_t k;
    while ((k = med_rows_next_tenant_group(c->tenants, (size_t)c->n, c->taken, c->idx)) > 0) {
        med_err e;
        med_err_clear(&e);
        if (g_archive_store_quarantine(c->pg, c->q, c->idx, k, &e) == MED_OK) continue;
        /* Never dead-letter what is not kept for operators: retry. */
        for (size_t m = 0; m < k; m++) {
            g_slot *s = &c->slots[c->idx[m]];
            s->disp = MED_DISPOSE_RETRY;
            s->err = e;
        }
    }
}

static void prepare(void *ud, natsMsg **msgs, int n)
{
    g_archive_consumer *c = ud;
    c->n = 0;
    c->next = 0;
    if (reserve(c, n) != 0) return; /* the handler takes them one by one */
    for (int i = 0; i < n; i++) slot_build(c, i, msgs[i]);
    c->n = n;
    ingest_by_tenant(c);
    quarantine_by_tenant(c);
}

/* ---- settling ---- */

static void reply(g_archive_consumer *c, const g_slot *s, const g_archive_result *r)
{
    const char *inbox = med_header_get(s->msg, MED_HDR_REPLY_TO);
    if (!inbox || !*inbox) return;
    Mediation__V1__TraceContext tc;
    mediation__v1__trace_context__init(&tc);
    med_headers_to_trace_ctx(&s->h, &tc);
    uint8_t *buf = NULL;
    size_t len = 0;
    med_err e;
    natsMsg *m = NULL;
    med_rc rc = g_archive_ack_pack(r, &tc, med_now_unix_ms(), &buf, &len, &e);
    if (rc == MED_OK) rc = med_js_msg_new(inbox, buf, (int)len, s->msg, &m, &e);
    if (rc == MED_OK) rc = med_js_publish_core(c->js, m, &e);
    natsMsg_Destroy(m);
    free(buf);
    if (rc != MED_OK) {
        med_log_ctx lc = { .trace_id = s->h.trace_key, .tenant_id = s->h.tenant, .error_code = e.code };
        MED_LOGW(&lc, "archive ack to %s lost: %s", inbox, e.message);
    }
}

static med_disposition settle(g_archive_consumer *c, int i, med_err *err)
{
    g_slot *s = &c->slots[i];
    const g_archive_result *r = s->stored ? &c->outs[i].result : &s->result;
    reply(c, s, r);
    if (s->stored && r->reason == MED_R_G_ARCHIVE_RECORDKEY_PAYLOAD_CONFLICT) {
        med_log_ctx lc = { .trace_id = s->h.trace_key, .tenant_id = s->h.tenant, .error_code = r->reason };
        MED_LOGW(&lc, "record %s refused: stored with another payload digest", r->record_key);
    }
    if (s->disp != MED_DISPOSE_ACK) *err = s->err;
    med_disposition d = s->disp;
    slot_release(c, i);
    return d;
}

static med_disposition handle(void *ud, natsMsg *msg, const med_delivery_info *info, med_err *err)
{
    (void)info;
    g_archive_consumer *c = ud;
    if (c->next >= c->n || c->slots[c->next].msg != msg) {
        /* not prepared (allocation failed): this message alone */
        prepare(c, &msg, 1);
        if (c->n != 1) {
            med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "archive batch");
            return MED_DISPOSE_RETRY;
        }
    }
    return settle(c, c->next++, err);
}

/* ---- thread ---- */

static void *consume(void *ud)
{
    g_archive_consumer *c = ud;
    med_consumer_opts co;
    med_service_consumer_opts(c->svc, MED_STREAM_ARCHIVE, G_ARCHIVE_DURABLE, MED_SUBJ_G_ARCHIVE, &co);
    co.max_deliver = ARCHIVE_MAX_DELIVER;
    co.backoff.n = (int)(sizeof k_ladder / sizeof k_ladder[0]);
    memcpy(co.backoff.step_ms, k_ladder, sizeof k_ladder);
    med_err err;
    med_err_clear(&err);
    atomic_store(&c->state, ST_RUNNING);
    med_rc rc = med_consumer_run_batched(c->js, &co, prepare, handle, c,
                                         med_service_stop_flag(c->svc), &err);
    if (rc != MED_OK) {
        med_log_ctx lc = { .error_code = err.code };
        MED_LOGE(&lc, "archive consumer stopped: %s", err.message);
    }
    atomic_store(&c->state, rc == MED_OK ? ST_STOPPED : ST_FAILED);
    return NULL;
}

static med_rc connect_all(g_archive_consumer *c, med_err *err)
{
    med_rc rc = med_service_js_open(c->svc, "archive", 0, &c->js, err);
    if (rc == MED_OK) rc = med_service_pg_open(c->svc, 0, &c->pg, err);
    if (rc == MED_OK) rc = g_archive_store_prepare(c->pg, err);
    return rc;
}

med_rc g_archive_consumer_start(med_service *svc, const g_store_policy *p,
                                g_archive_consumer **out, med_err *err)
{
    *out = NULL;
    g_archive_consumer *c = calloc(1, sizeof *c);
    if (!c) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "archive consumer");
    c->svc = svc;
    c->policy = *p;
    atomic_init(&c->state, ST_STARTING);
    med_rc rc = connect_all(c, err);
    if (rc == MED_OK && pthread_create(&c->thread, NULL, consume, c) != 0)
        rc = med_err_set(err, MED_ERR_INTERNAL, MED_R_INFRA_PERMANENT_FAILURE, NULL,
                         "archive consumer thread");
    c->thread_started = rc == MED_OK;
    if (rc != MED_OK) {
        g_archive_consumer_stop(c);
        return rc;
    }
    *out = c;
    return MED_OK;
}

int g_archive_consumer_state(g_archive_consumer *c)
{
    int st = atomic_load(&c->state);
    if (st == ST_FAILED) return -1;
    if (st != ST_RUNNING) return 0;
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetConsumerInfo(&ci, med_js_ctx(c->js), MED_STREAM_ARCHIVE, G_ARCHIVE_DURABLE,
                                      NULL, &jerr);
    jsConsumerInfo_Destroy(ci);
    return s == NATS_OK ? 1 : 0;
}

void g_archive_consumer_stop(g_archive_consumer *c)
{
    if (!c) return;
    if (c->thread_started) pthread_join(c->thread, NULL);
    for (int i = c->next; i < c->n; i++) slot_release(c, i);
    if (c->pg) med_pg_close(c->pg);
    if (c->js) med_js_close(c->js);
    free(c->slots);
    free(c->rows);
    free(c->outs);
    free(c->q);
    free(c->tenants);
    free(c->idx);
    free(c->taken);
    free(c);
}
