#include "med/relay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "med/ids.h"
#include "med/js.h"
#include "med/log.h"
#include "med/metrics.h"
#include "med/names.h"
#include "med/pbtrace.h"
#include "med/reason.h"


med_rc med_relay_out_add(med_relay_out *out, const char *subject, const char *msg_id,
                         uint8_t *data, size_t len, int core, med_err *err)
{
    if (out->n >= MED_RELAY_MAX_OUT) {
        free(data);
        return med_err_set(err, MED_ERR_INTERNAL, MED_R_INFRA_PUBLISH_FAILED, NULL,
                           "too many outputs for one message");
    }
    med_relay_pub *p = &out->pubs[out->n++];
    memset(p, 0, sizeof *p);
    snprintf(p->subject, sizeof p->subject, "%s", subject);
    snprintf(p->msg_id, sizeof p->msg_id, "%s", msg_id ? msg_id : "");
    p->data = data;
    p->len = len;
    p->core = core;
    return MED_OK;
}

med_rc med_relay_out_header(med_relay_out *out, const char *name, const char *value,
                            med_err *err)
{
    if (out->n == 0 || !name || !value)
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_PUBLISH_FAILED, NULL,
                           "header set before any output");
    med_relay_pub *p = &out->pubs[out->n - 1];
    int i = 0;
    while (i < p->n_hdrs && strcmp(p->hdrs[i].name, name) != 0) i++;
    if (i == MED_RELAY_MAX_HDRS || strlen(name) >= sizeof p->hdrs[i].name ||
        strlen(value) >= sizeof p->hdrs[i].value)
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_PUBLISH_FAILED, name,
                           "output header does not fit");
    snprintf(p->hdrs[i].name, sizeof p->hdrs[i].name, "%s", name);
    snprintf(p->hdrs[i].value, sizeof p->hdrs[i].value, "%s", value);
    if (i == p->n_hdrs) p->n_hdrs++;
    return MED_OK;
}

med_rc med_relay_out_reply(med_relay_out *out, const char *inbox, const char *kind,
                           uint8_t *data, size_t len, med_err *err)
{
    if (!inbox || !*inbox) {
        free(data);
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_PUBLISH_FAILED, NULL,
                           "reply without an inbox");
    }
    med_rc rc = med_relay_out_add(out, inbox, NULL, data, len, 1, err);
    if (rc != MED_OK) return rc;
    return med_relay_out_header(out, MED_HDR_REPLY_KIND, kind, err);
}

void med_relay_out_free(med_relay_out *out)
{
    for (int i = 0; i < out->n; i++) free(out->pubs[i].data);
    out->n = 0;
}

/* Chaos hook: "Med-Fault: <stage>:retry" fails transiently forever,
 * "<stage>:fail" fails permanently. Only when FAULT_INJECTION_ENABLED,
 * which prod refuses at config load. */
static int fault_injected(med_service *svc, natsMsg *msg, const char *stage,
                          med_disposition *d, med_err *err)
{
    if (!med_config_bool(med_service_config(svc), "FAULT_INJECTION_ENABLED")) return 0;
    const char *f = med_header_get(msg, MED_HDR_FAULT);
    size_t sl = strlen(stage);
    if (!f || strncmp(f, stage, sl) != 0 || f[sl] != ':') return 0;
    const char *kind = f + sl + 1;
    if (strcmp(kind, "retry") == 0) {
        *d = MED_DISPOSE_RETRY;
        med_err_set(err, MED_ERR_IO, MED_R_INFRA_FAULT_INJECTED, NULL, "injected transient fault");
        return 1;
    }
    if (strcmp(kind, "fail") == 0) {
        *d = MED_DISPOSE_FAIL;
        med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_FAULT_INJECTED, NULL, "injected permanent fault");
        return 1;
    }
    return 0;
}

/* The outbound message of one output: the input's trace headers, the
 * reply inbox (JetStream outputs only) and the output's own headers. */
static med_rc publish_build(natsMsg *in, const med_relay_pub *p, natsMsg **out, med_err *err)
{
    natsMsg *m = NULL;
    med_rc rc = med_js_msg_new(p->subject, p->data, (int)p->len, in, &m, err);
    if (rc != MED_OK) return rc;
    /* The reply inbox travels with the request through the chain. */
    const char *reply_to = med_header_get(in, MED_HDR_REPLY_TO);
    if (reply_to && !p->core) natsMsgHeader_Set(m, MED_HDR_REPLY_TO, reply_to);
    for (int i = 0; i < p->n_hdrs; i++) {
        natsStatus s = natsMsgHeader_Set(m, p->hdrs[i].name, p->hdrs[i].value);
        if (s != NATS_OK) {
            natsMsg_Destroy(m);
            return med_js_status_err(s, 0, MED_R_INFRA_PUBLISH_FAILED, "set header", err);
        }
    }
    *out = m;
    return MED_OK;
}

static med_rc publish_one(med_js *js, natsMsg *in, const med_relay_pub *p, med_err *err)
{
    natsMsg *m = NULL;
    med_rc rc = publish_build(in, p, &m, err);
    if (rc != MED_OK) return rc;
    if (p->core)
        rc = med_js_publish_core(js, m, err);
    else
        rc = med_js_publish(js, m, p->msg_id[0] ? p->msg_id : NULL, NULL, err);
    natsMsg_Destroy(m);
    return rc;
}

static med_disposition disposition_for(med_rc rc)
{
    if (rc == MED_OK) return MED_DISPOSE_ACK;
    return med_rc_is_retryable(rc) ? MED_DISPOSE_RETRY : MED_DISPOSE_FAIL;
}

static void relay_in_init(med_service *svc, natsMsg *msg, const med_delivery_info *info,
                          const med_trace_headers *h, med_relay_in *in)
{
    *in = (med_relay_in){
        .msg = msg,
        .data = (const uint8_t *)natsMsg_GetData(msg),
        .len = (size_t)natsMsg_GetDataLength(msg),
        .headers = h,
        .reply_to = med_header_get(msg, MED_HDR_REPLY_TO),
        .info = info,
        .stage = med_service_stage(svc),
        .instance = med_service_instance(svc),
        .now_unix_ms = med_now_unix_ms(),
        .svc = svc,
    };
}

/* Publishes what a transform produced (rc is its result), frees out. */
static med_disposition relay_finish(med_js *js, natsMsg *msg, const med_trace_headers *h,
                                    med_rc rc, med_relay_out *out, med_err *err)
{
    for (int i = 0; rc == MED_OK && i < out->n; i++) rc = publish_one(js, msg, &out->pubs[i], err);
    med_relay_out_free(out);
    if (rc != MED_OK) {
        med_log_ctx lc = { .trace_id = h->trace_key, .request_id = h->request_key,
                           .tenant_id = h->tenant, .error_code = err->code };
        MED_LOGW(&lc, "message not processed: %s", err->message);
    }
    return disposition_for(rc);
}

med_disposition med_relay_handle(med_service *svc, med_relay_transform_fn fn, void *ud,
                                 natsMsg *msg, const med_delivery_info *info, med_err *err)
{
    med_trace_headers h;
    med_headers_read(msg, &h);
    med_relay_in in;
    relay_in_init(svc, msg, info, &h, &in);
    med_disposition d;
    if (fault_injected(svc, msg, in.stage, &d, err)) return d;
    med_relay_out out = { .n = 0 };
    med_rc rc = fn(ud, &in, &out, err);
    return relay_finish(med_service_js(svc), msg, &h, rc, &out, err);
}


typedef struct single_adapter {
    med_relay_transform_fn fn;
    void *ud;
} single_adapter;

/* A one-message transform run over a fetched batch, so its outputs share
 * the batch's asynchronous publish. */
static void single_as_batch(void *ud, const med_relay_in *ins, size_t n, med_relay_out *outs,
                            med_rc *rcs, med_err *errs)
{
    single_adapter *a = ud;
    for (size_t i = 0; i < n; i++) rcs[i] = a->fn(a->ud, &ins[i], &outs[i], &errs[i]);
}

med_rc med_relay_run(med_service *svc, const char *stream, const char *in_subject,
                     med_relay_transform_fn fn, void *ud, med_err *err)
{
    single_adapter a = { fn, ud };
    return med_relay_run_batch(svc, stream, in_subject, single_as_batch, &a, err);
}

/* ---- batch mode ----
 * The consumer calls batch_prepare with the whole fetch, then the handler
 * once per message in the same order: prepare runs the batch transform,
 * the handler publishes and settles message i from what it left. */
typedef struct batch_slot {
    natsMsg *msg;
    jsMsgMetaData *meta;
    med_delivery_info info;
    med_trace_headers h;
    int faulted;                 /* Med-Fault chaos hook fired */
    med_disposition fault_disp;
    med_err fault_err;
} batch_slot;

typedef struct batch_ctx {
    med_service *svc;
    med_js *js;                  /* this loop's JetStream context (its own acks to wait on) */
    med_relay_batch_fn fn;
    void *ud;
    batch_slot *slots;
    med_relay_in *ins;
    med_relay_out *outs;
    med_rc *rcs;
    med_err *errs;
    int n, cap, next;
} batch_ctx;

static int batch_reserve(batch_ctx *b, int n)
{
    if (n <= b->cap) return 0;
    batch_slot *s = realloc(b->slots, (size_t)n * sizeof *s);
    if (s) b->slots = s;
    med_relay_in *in = realloc(b->ins, (size_t)n * sizeof *in);
    if (in) b->ins = in;
    med_relay_out *o = realloc(b->outs, (size_t)n * sizeof *o);
    if (o) b->outs = o;
    med_rc *r = realloc(b->rcs, (size_t)n * sizeof *r);
    if (r) b->rcs = r;
    med_err *e = realloc(b->errs, (size_t)n * sizeof *e);
    if (e) b->errs = e;
    if (!s || !in || !o || !r || !e) return -1;
    b->cap = n;
    return 0;
}

static void batch_slot_info(batch_slot *s)
{
    memset(&s->info, 0, sizeof s->info);
    s->meta = NULL;
    if (natsMsg_GetMetaData(&s->meta, s->msg) != NATS_OK) return;
    s->info.stream_seq = s->meta->Sequence.Stream;
    s->info.consumer_seq = s->meta->Sequence.Consumer;
    s->info.num_delivered = s->meta->NumDelivered;
    s->info.published_unix_ns = s->meta->Timestamp;
    s->info.stream = s->meta->Stream;
    s->info.consumer = s->meta->Consumer;
}

/* Publishes every output of the batch: core replies at once, JetStream
 * outputs asynchronously, then one wait for all their acks (one round of
 * PubAcks per fetch instead of one per output: a synchronous publish costs
 * ~18x the CPU, 00-architecture.md). If any ack fails, every message that
 * had JetStream outputs is retried: republishing is idempotent (each
 * output carries its Nats-Msg-Id). */
static void batch_publish(batch_ctx *b)
{
    int any_async = 0;
    for (int i = 0; i < b->n; i++) {
        batch_slot *s = &b->slots[i];
        med_relay_out *o = &b->outs[i];
        for (int k = 0; b->rcs[i] == MED_OK && !s->faulted && k < o->n; k++) {
            med_relay_pub *p = &o->pubs[k];
            if (p->core) {
                b->rcs[i] = publish_one(b->js, s->msg, p, &b->errs[i]);
                continue;
            }
            natsMsg *m = NULL;
            b->rcs[i] = publish_build(s->msg, p, &m, &b->errs[i]);
            if (b->rcs[i] != MED_OK) break;
            b->rcs[i] = med_js_publish_async(b->js, m,
                                             p->msg_id[0] ? p->msg_id : NULL, &b->errs[i]);
            if (b->rcs[i] != MED_OK) natsMsg_Destroy(m);
            any_async = 1;
        }
        med_relay_out_free(o);
    }
    if (!any_async) return;
    med_err e;
    med_err_clear(&e);
    med_rc rc = med_js_publish_async_complete(b->js, 0, &e);
    if (rc == MED_OK) return;
    for (int i = 0; i < b->n; i++)
        if (b->rcs[i] == MED_OK && !b->slots[i].faulted) {
            b->rcs[i] = rc;
            b->errs[i] = e;
        }
}

static void batch_prepare(void *ud, natsMsg **msgs, int n)
{
    batch_ctx *b = ud;
    b->n = 0;
    b->next = 0;
    /* Out of memory: leave n at 0, and the handler falls back to one
     * message at a time. */
    if (batch_reserve(b, n) != 0) return;
    for (int i = 0; i < n; i++) {
        batch_slot *s = &b->slots[i];
        s->msg = msgs[i];
        batch_slot_info(s);
        med_headers_read(msgs[i], &s->h);
        relay_in_init(b->svc, msgs[i], &s->info, &s->h, &b->ins[i]);
        med_err_clear(&s->fault_err);
        s->faulted = fault_injected(b->svc, msgs[i], b->ins[i].stage, &s->fault_disp, &s->fault_err);
        b->outs[i].n = 0;
        b->rcs[i] = MED_OK;
        med_err_clear(&b->errs[i]);
    }
    b->n = n;
    b->fn(b->ud, b->ins, (size_t)n, b->outs, b->rcs, b->errs);
    batch_publish(b);
}

static med_disposition batch_handler(void *ud, natsMsg *msg, const med_delivery_info *info,
                                     med_err *err)
{
    batch_ctx *b = ud;
    int i = b->next;
    if (i >= b->n || b->slots[i].msg != msg) {
        /* Not prepared (allocation failed): run the batch function on this
         * one message alone. */
        med_trace_headers h;
        med_headers_read(msg, &h);
        med_relay_in in;
        relay_in_init(b->svc, msg, info, &h, &in);
        med_disposition d;
        if (fault_injected(b->svc, msg, in.stage, &d, err)) return d;
        med_relay_out out = { .n = 0 };
        med_rc rc = MED_OK;
        b->fn(b->ud, &in, 1, &out, &rc, err);
        return relay_finish(b->js, msg, &h, rc, &out, err);
    }
    b->next++;
    batch_slot *s = &b->slots[i];
    med_disposition d;
    if (s->faulted) {
        *err = s->fault_err;
        d = s->fault_disp;
    } else {
        med_relay_out none = { .n = 0 };
        if (b->rcs[i] != MED_OK) *err = b->errs[i];
        d = relay_finish(b->js, msg, &s->h, b->rcs[i], &none, err);
    }
    jsMsgMetaData_Destroy(s->meta);
    s->meta = NULL;
    return d;
}

med_rc med_relay_run_batch(med_service *svc, const char *stream, const char *in_subject,
                           med_relay_batch_fn fn, void *ud, med_err *err)
{
    return med_relay_run_batch_on(svc, med_service_js(svc), stream, in_subject, fn, ud, err);
}

med_rc med_relay_run_batch_on(med_service *svc, med_js *js, const char *stream,
                              const char *in_subject, med_relay_batch_fn fn, void *ud,
                              med_err *err)
{
    batch_ctx b = { .svc = svc, .js = js, .fn = fn, .ud = ud };
    med_consumer_opts co;
    char durable[64];
    snprintf(durable, sizeof durable, "stage_%s", med_service_stage(svc));
    med_service_consumer_opts(svc, stream, durable, in_subject, &co);
    med_rc rc = med_consumer_run_batched(js, &co, batch_prepare, batch_handler,
                                         &b, med_service_stop_flag(svc), err);
    free(b.slots);
    free(b.ins);
    free(b.outs);
    free(b.rcs);
    free(b.errs);
    return rc;
}

void med_relay_msg_id(const med_relay_in *in, const char *prefix, char *out, size_t cap)
{
    if (in->headers && in->headers->request_key[0])
        snprintf(out, cap, "%s:%s", prefix, in->headers->request_key);
    else
        snprintf(out, cap, "%s:seq-%llu", prefix,
                 (unsigned long long)(in->info ? in->info->stream_seq : 0));
}

med_rc med_relay_passthrough(void *ud, const med_relay_in *in, med_relay_out *out,
                             med_err *err)
{
    const med_passthrough_spec *spec = ud;
    med_hop hop = { .stage = in->stage, .instance = in->instance, .at_unix_ms = in->now_unix_ms };
    uint8_t *buf = NULL;
    size_t n = 0;
    med_rc rc = med_pb_rewrap(spec->in_desc, spec->out_desc, in->data, in->len, &hop, &buf,
                              &n, err);
    if (rc != MED_OK) return rc;
    char msg_id[192];
    med_relay_msg_id(in, spec->msg_id_prefix, msg_id, sizeof msg_id);
    return med_relay_out_add(out, spec->out_subject, msg_id, buf, n, 0, err);
}

int med_stage_main(const med_service_opts *opts, const char *stream, const char *in_subject,
                   med_relay_transform_fn fn, void *ud)
{
    single_adapter a = { fn, ud };
    return med_stage_main_batch(opts, stream, in_subject, single_as_batch, &a);
}

int med_stage_main_batch(const med_service_opts *opts, const char *stream,
                         const char *in_subject, med_relay_batch_fn fn, void *ud)
{
    med_err err;
    med_err_clear(&err);
    med_service *svc = NULL;
    if (med_service_start(opts, &svc, &err) != MED_OK) {
        fprintf(stderr, "%s: start-up failed: %s %s%s%s\n", opts->name, err.code, err.message,
                err.field[0] ? " field=" : "", err.field);
        return 1;
    }
    med_service_set_started(svc);
    med_rc rc = med_relay_run_batch(svc, stream, in_subject, fn, ud, &err);
    if (rc != MED_OK) {
        med_log_ctx lc = { .error_code = err.code };
        MED_LOGE(&lc, "consumer stopped: %s", err.message);
    } else {
        MED_LOGI(NULL, "stopped cleanly");
    }
    med_service_free(svc);
    return rc == MED_OK ? 0 : 1;
}

med_rc med_relay_sink(void *ud, const med_relay_in *in, med_relay_out *out, med_err *err)
{
    const ProtobufCMessageDescriptor *desc = ud;
    (void)out;
    ProtobufCMessage *m = protobuf_c_message_unpack(desc, NULL, in->len, in->data);
    if (!m)
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_DECODE_FAILED, NULL,
                           "payload is not a valid %s", desc->name);
    protobuf_c_message_free_unpacked(m, NULL);
    return MED_OK;
}
