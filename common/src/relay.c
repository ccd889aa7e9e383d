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

typedef struct relay_ctx {
    med_service *svc;
    med_relay_transform_fn fn;
    void *ud;
} relay_ctx;

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

static med_rc publish_one(med_service *svc, natsMsg *in, const med_relay_pub *p, med_err *err)
{
    natsMsg *m = NULL;
    med_rc rc = med_js_msg_new(p->subject, p->data, (int)p->len, in, &m, err);
    if (rc != MED_OK) return rc;
    /* The reply inbox travels with the request through the chain. */
    const char *reply_to = med_header_get(in, MED_HDR_REPLY_TO);
    if (reply_to && !p->core) natsMsgHeader_Set(m, MED_HDR_REPLY_TO, reply_to);
    if (p->core)
        rc = med_js_publish_core(med_service_js(svc), m, err);
    else
        rc = med_js_publish(med_service_js(svc), m, p->msg_id[0] ? p->msg_id : NULL, NULL, err);
    natsMsg_Destroy(m);
    return rc;
}

static med_disposition disposition_for(med_rc rc)
{
    if (rc == MED_OK) return MED_DISPOSE_ACK;
    return med_rc_is_retryable(rc) ? MED_DISPOSE_RETRY : MED_DISPOSE_FAIL;
}

med_disposition med_relay_handle(med_service *svc, med_relay_transform_fn fn, void *ud,
                                 natsMsg *msg, const med_delivery_info *info, med_err *err)
{
    med_trace_headers h;
    med_headers_read(msg, &h);
    med_relay_in in = {
        .msg = msg,
        .data = (const uint8_t *)natsMsg_GetData(msg),
        .len = (size_t)natsMsg_GetDataLength(msg),
        .headers = &h,
        .reply_to = med_header_get(msg, MED_HDR_REPLY_TO),
        .info = info,
        .stage = med_service_stage(svc),
        .instance = med_service_instance(svc),
        .now_unix_ms = med_now_unix_ms(),
    };
    med_disposition d;
    if (fault_injected(svc, msg, in.stage, &d, err)) return d;
    med_relay_out out = { .n = 0 };
    med_rc rc = fn(ud, &in, &out, err);
    for (int i = 0; rc == MED_OK && i < out.n; i++) rc = publish_one(svc, msg, &out.pubs[i], err);
    med_relay_out_free(&out);
    if (rc != MED_OK) {
        med_log_ctx lc = { .trace_id = h.trace_key, .request_id = h.request_key,
                           .tenant_id = h.tenant, .error_code = err->code };
        MED_LOGW(&lc, "message not processed: %s", err->message);
    }
    return disposition_for(rc);
}

static med_disposition relay_handler(void *ud, natsMsg *msg, const med_delivery_info *info,
                                     med_err *err)
{
    relay_ctx *c = ud;
    return med_relay_handle(c->svc, c->fn, c->ud, msg, info, err);
}

med_rc med_relay_run(med_service *svc, const char *stream, const char *in_subject,
                     med_relay_transform_fn fn, void *ud, med_err *err)
{
    relay_ctx c = { .svc = svc, .fn = fn, .ud = ud };
    med_consumer_opts co;
    char durable[64];
    /* One durable per stage: stable and canary replicas share it. */
    snprintf(durable, sizeof durable, "stage_%s", med_service_stage(svc));
    med_service_consumer_opts(svc, stream, durable, in_subject, &co);
    return med_consumer_run(med_service_js(svc), &co, relay_handler, &c,
                            med_service_stop_flag(svc), err);
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
    med_err err;
    med_err_clear(&err);
    med_service *svc = NULL;
    if (med_service_start(opts, &svc, &err) != MED_OK) {
        fprintf(stderr, "%s: start-up failed: %s %s%s%s\n", opts->name, err.code, err.message,
                err.field[0] ? " field=" : "", err.field);
        return 1;
    }
    med_service_set_started(svc);
    med_rc rc = med_relay_run(svc, stream, in_subject, fn, ud, &err);
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
