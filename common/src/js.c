#include "med/js.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "med/headers.h"
#include "med/log.h"
#include "med/metrics.h"
#include "med/names.h"
#include "med/reason.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 2000
#define DEFAULT_RECONNECT_WAIT_MS 250
#define DEFAULT_PUBLISH_TIMEOUT_MS 5000
/* 00-architecture.md: a window of 1000 outstanding acks is where async
 * publishing reaches its measured ceiling. */
#define ASYNC_MAX_PENDING 1000
/* Bytes buffered while reconnecting; publishes beyond it fail fast with
 * MED_ERR_UNAVAILABLE instead of growing without bound. */
#define RECONNECT_BUF_BYTES (32 * 1024 * 1024)
#define CLOSE_FLUSH_MS 2000

struct med_js {
    natsConnection *nc;
    jsCtx *js;
    int64_t publish_timeout_ms;
    /* Async publishes that failed since the last publish_async_complete;
     * written from the nats.c ack thread. */
    atomic_ullong async_failed;
    /* nats.c 3.4.1 crashes in js_PublishAsyncGetPendingList before the
     * first async publish created its pending map. */
    atomic_int async_used;
};

/* ---- status mapping ---- */

static med_rc rc_for_status(natsStatus s)
{
    switch (s) {
    case NATS_OK: return MED_OK;
    case NATS_TIMEOUT: return MED_ERR_TIMEOUT;
    case NATS_NO_MEMORY: return MED_ERR_NOMEM;
    case NATS_NOT_FOUND: return MED_ERR_NOT_FOUND;
    case NATS_INVALID_ARG:
    case NATS_INVALID_SUBJECT:
    case NATS_MAX_PAYLOAD: return MED_ERR_INVALID;
    case NATS_CONNECTION_CLOSED:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_NOT_YET_CONNECTED:
    case NATS_NO_SERVER:
    case NATS_STALE_CONNECTION:
    case NATS_INSUFFICIENT_BUFFER:
    case NATS_NO_RESPONDERS: /* JetStream itself not answering */
    case NATS_IO_ERROR: return MED_ERR_UNAVAILABLE;
    default: return MED_ERR_IO;
    }
}

med_rc med_js_status_err(natsStatus s, jsErrCode jerr, const char *code,
                         const char *what, med_err *err)
{
    med_rc rc = rc_for_status(s);
    if (rc == MED_OK) return MED_OK;
    if (!code) code = rc == MED_ERR_NOMEM ? MED_R_INFRA_NOMEM : MED_R_INFRA_NATS_UNAVAILABLE;
    const char *last = nats_GetLastError(NULL);
    if (jerr)
        return med_err_set(err, rc, code, NULL, "%s: %s (jetstream error %d: %s)", what,
                           natsStatus_GetText(s), (int)jerr, last ? last : "");
    return med_err_set(err, rc, code, NULL, "%s: %s", what, natsStatus_GetText(s));
}

/* ---- metrics ---- */

/* NATS subject matching: '*' matches one token, a final '>' the rest. */
static int subject_matches(const char *pattern, const char *subj)
{
    while (*pattern && *subj) {
        if (pattern[0] == '>' && pattern[1] == '\0') return 1;
        size_t pl = strcspn(pattern, "."), sl = strcspn(subj, ".");
        if (!(pl == 1 && pattern[0] == '*') && (pl != sl || strncmp(pattern, subj, pl) != 0))
            return 0;
        pattern += pl;
        subj += sl;
        if (*pattern != *subj) return 0; /* one ended, the other goes on */
        if (*pattern) {
            pattern++;
            subj++;
        }
    }
    return *pattern == '\0' && *subj == '\0';
}

/* Label a subject with the stream that captures it (the subjects of
 * js_streams.c), so counting needs no PubAck: async publishes are counted
 * when they are handed to the library. */
static const char *stream_of_subject(const char *subj)
{
    static const struct { const char *pattern; const char *stream; } map[] = {
        { MED_SUBJ_CHAIN_A_ALL, MED_STREAM_CHAIN }, { MED_SUBJ_CHAIN_B_ALL, MED_STREAM_CHAIN },
        { MED_SUBJ_CHAIN_C_ALL, MED_STREAM_CHAIN }, { MED_SUBJ_CHAIN_D_ALL, MED_STREAM_CHAIN },
        { MED_SUBJ_CHAIN_E_ALL, MED_STREAM_CHAIN }, { MED_SUBJ_DELIVERY, MED_STREAM_DELIVERY },
        { MED_SUBJ_F_EVENTS, MED_STREAM_EVENTS }, { MED_SUBJ_G_ARCHIVE, MED_STREAM_ARCHIVE },
        { MED_SUBJ_AUDIT_ALL, MED_STREAM_AUDIT }, { MED_SUBJ_H_CONFIG, MED_STREAM_CONFIG },
        { MED_SUBJ_DLQ_ALL, MED_STREAM_DLQ },
    };
    if (!subj) return "unknown";
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (subject_matches(map[i].pattern, subj)) return map[i].stream;
    return "unknown";
}

static void count_stream(const char *name, const char *help, const char *stream)
{
    char labels[128];
    snprintf(labels, sizeof labels, "stream=\"%s\"", stream ? stream : "unknown");
    med_counter *c = med_counter_get(name, help, labels);
    if (c) med_counter_inc(c);
}

static void count_published(const char *stream)
{
    count_stream("med_js_published_total", "JetStream publishes accepted, by stream", stream);
}

/* ---- connection callbacks ---- */

/* Connection callbacks run on a nats.c thread and may still run after
 * med_js_close freed the med_js: they must not take it as closure. */
static void on_disconnected(natsConnection *nc, void *closure)
{
    (void)closure;
    if (natsConnection_IsClosed(nc)) return; /* our own close, not an outage */
    med_log_ctx lc = { .error_code = MED_R_INFRA_NATS_UNAVAILABLE };
    MED_LOGW(&lc, "nats disconnected; reconnecting in the background");
}

static void on_reconnected(natsConnection *nc, void *closure)
{
    (void)nc;
    (void)closure;
    MED_LOGI(NULL, "nats reconnected");
}

static void on_connected_late(natsConnection *nc, void *closure)
{
    (void)nc;
    (void)closure;
    MED_LOGI(NULL, "nats connected after retrying");
}

static void on_async_error(natsConnection *nc, natsSubscription *sub, natsStatus s,
                           void *closure)
{
    (void)nc;
    (void)sub;
    (void)closure;
    med_log_ctx lc = { .error_code = MED_R_INFRA_NATS_UNAVAILABLE };
    MED_LOGW(&lc, "nats async error: %s", natsStatus_GetText(s));
}

static void on_pub_ack_error(jsCtx *jctx, jsPubAckErr *pae, void *closure)
{
    (void)jctx;
    med_js *js = closure;
    atomic_fetch_add(&js->async_failed, 1);
    const char *subj = pae->Msg ? natsMsg_GetSubject(pae->Msg) : NULL;
    count_stream("med_js_publish_failed_total", "JetStream async publishes that failed",
                 stream_of_subject(subj));
    med_log_ctx lc = { .error_code = MED_R_INFRA_PUBLISH_FAILED };
    MED_LOGW(&lc, "async publish to %s failed: %s (%d %s)", subj ? subj : "?",
             natsStatus_GetText(pae->Err), (int)pae->ErrCode, pae->ErrText ? pae->ErrText : "");
}

/* ---- connect / close ---- */

static natsStatus build_options(const med_js_opts *o, natsOptions **out)
{
    natsOptions *no = NULL;
    natsStatus s = natsOptions_Create(&no);
    int64_t connect_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS;
    int64_t wait_ms = o->reconnect_wait_ms > 0 ? o->reconnect_wait_ms : DEFAULT_RECONNECT_WAIT_MS;
    if (s == NATS_OK) s = natsOptions_SetURL(no, o->url);
    if (s == NATS_OK && o->name) s = natsOptions_SetName(no, o->name);
    if (s == NATS_OK) s = natsOptions_SetTimeout(no, connect_ms);
    /* Outages are waited out, never fatal: reconnect forever. */
    if (s == NATS_OK) s = natsOptions_SetMaxReconnect(no, -1);
    if (s == NATS_OK) s = natsOptions_SetReconnectWait(no, wait_ms);
    if (s == NATS_OK) s = natsOptions_SetReconnectBufSize(no, RECONNECT_BUF_BYTES);
    if (s == NATS_OK && o->send_asap) s = natsOptions_SetSendAsap(no, true);
    /* With a callback the connect returns NATS_NOT_YET_CONNECTED instead of
     * blocking forever, so start-up continues and readiness reports NATS. */
    if (s == NATS_OK && o->retry_on_failed_connect)
        s = natsOptions_SetRetryOnFailedConnect(no, true, on_connected_late, NULL);
    if (s == NATS_OK) s = natsOptions_SetDisconnectedCB(no, on_disconnected, NULL);
    if (s == NATS_OK) s = natsOptions_SetReconnectedCB(no, on_reconnected, NULL);
    if (s == NATS_OK) s = natsOptions_SetErrorHandler(no, on_async_error, NULL);
    if (s != NATS_OK) {
        natsOptions_Destroy(no);
        return s;
    }
    *out = no;
    return NATS_OK;
}

static natsStatus open_js_ctx(med_js *js)
{
    jsOptions jo;
    natsStatus s = jsOptions_Init(&jo);
    if (s != NATS_OK) return s;
    jo.Wait = js->publish_timeout_ms;
    jo.PublishAsync.MaxPending = ASYNC_MAX_PENDING;
    jo.PublishAsync.ErrHandler = on_pub_ack_error;
    jo.PublishAsync.ErrHandlerClosure = js;
    return natsConnection_JetStream(&js->js, js->nc, &jo);
}

med_rc med_js_connect(const med_js_opts *opts, med_js **out, med_err *err)
{
    *out = NULL;
    if (!opts || !opts->url || !*opts->url)
        return med_err_set(err, MED_ERR_INVALID, MED_R_CFG_INVALID_VALUE, NULL,
                           "NATS url is required");
    med_js *js = calloc(1, sizeof *js);
    if (!js) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "med_js");
    js->publish_timeout_ms = opts->publish_timeout_ms > 0 ? opts->publish_timeout_ms
                                                          : DEFAULT_PUBLISH_TIMEOUT_MS;
    atomic_init(&js->async_failed, 0);
    atomic_init(&js->async_used, 0);
    natsOptions *no = NULL;
    natsStatus s = build_options(opts, &no);
    if (s == NATS_OK) {
        s = natsConnection_Connect(&js->nc, no);
        natsOptions_Destroy(no);
    }
    if (s == NATS_NOT_YET_CONNECTED) {
        med_log_ctx lc = { .error_code = MED_R_INFRA_NATS_UNAVAILABLE };
        MED_LOGW(&lc, "nats at %s not reachable yet; retrying in the background", opts->url);
        s = NATS_OK;
    }
    if (s == NATS_OK) s = open_js_ctx(js);
    if (s != NATS_OK) {
        med_rc rc = med_js_status_err(s, 0, MED_R_INFRA_NATS_UNAVAILABLE, "connect to NATS", err);
        med_js_close(js);
        return rc;
    }
    *out = js;
    return MED_OK;
}

/* Afterwards no pub-ack error callback (whose closure is js) can run:
 * leftovers are taken back from nats.c, and the second complete waits for
 * a callback that may be executing right now (nats.c counts a message as
 * pending until its callback returned). */
static void drain_async_publishes(med_js *js, int up)
{
    if (!atomic_load(&js->async_used)) return;
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = CLOSE_FLUSH_MS;
    if (up) js_PublishAsyncComplete(js->js, &po);
    natsMsgList left = { 0 };
    if (js_PublishAsyncGetPendingList(&left, js->js) == NATS_OK) {
        med_log_ctx lc = { .error_code = MED_R_INFRA_PUBLISH_FAILED };
        MED_LOGW(&lc, "%d async publishes still unacked at close; dropped", left.Count);
        natsMsgList_Destroy(&left);
    }
    po.MaxWait = 200;
    js_PublishAsyncComplete(js->js, &po);
}

void med_js_close(med_js *js)
{
    if (!js) return;
    int up = med_js_connected(js);
    if (js->js) {
        drain_async_publishes(js, up);
        jsCtx_Destroy(js->js);
    }
    if (js->nc) {
        /* Acks and core publishes may still sit in the write buffer. */
        if (up) natsConnection_FlushTimeout(js->nc, CLOSE_FLUSH_MS);
        natsConnection_Close(js->nc);
        natsConnection_Destroy(js->nc);
    }
    free(js);
}

natsConnection *med_js_conn(med_js *js) { return js ? js->nc : NULL; }
jsCtx *med_js_ctx(med_js *js) { return js ? js->js : NULL; }

int med_js_connected(med_js *js)
{
    return js && js->nc && natsConnection_Status(js->nc) == NATS_CONN_STATUS_CONNECTED;
}

/* ---- messages and publishing ---- */

med_rc med_js_msg_new(const char *subject, const void *data, int len,
                      natsMsg *inherit, natsMsg **out, med_err *err)
{
    *out = NULL;
    natsMsg *m = NULL;
    natsStatus s = natsMsg_Create(&m, subject, NULL, (const char *)data, len);
    if (s != NATS_OK)
        return med_js_status_err(s, 0, MED_R_INFRA_PUBLISH_FAILED, "create message", err);
    if (inherit) {
        med_rc rc = med_headers_copy(inherit, m, err);
        if (rc != MED_OK) {
            natsMsg_Destroy(m);
            return rc;
        }
    }
    *out = m;
    return MED_OK;
}

med_rc med_js_publish(med_js *js, natsMsg *msg, const char *msg_id,
                      int *duplicate, med_err *err)
{
    if (duplicate) *duplicate = 0;
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = js->publish_timeout_ms;
    po.MsgId = msg_id;
    jsPubAck *pa = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_PublishMsg(&pa, js->js, msg, &po, &jerr);
    if (s != NATS_OK)
        return med_js_status_err(s, jerr, MED_R_INFRA_PUBLISH_FAILED, "publish", err);
    if (pa && pa->Duplicate) {
        count_stream("med_js_duplicates_total",
                     "JetStream publishes dropped by the duplicate window", pa->Stream);
        if (duplicate) *duplicate = 1;
    } else {
        count_published(pa && pa->Stream ? pa->Stream : stream_of_subject(natsMsg_GetSubject(msg)));
    }
    jsPubAck_Destroy(pa);
    return MED_OK;
}

med_rc med_js_publish_async(med_js *js, natsMsg *msg, const char *msg_id, med_err *err)
{
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = msg_id;
    /* An ack that never comes (lost during a disconnect) then surfaces as a
     * counted failure instead of occupying the window forever. */
    po.MaxWait = js->publish_timeout_ms;
    const char *stream = stream_of_subject(natsMsg_GetSubject(msg));
    /* On failure nats.c leaves the pointer set and the caller keeps msg. */
    natsMsg *handed = msg;
    atomic_store(&js->async_used, 1);
    natsStatus s = js_PublishMsgAsync(js->js, &handed, &po);
    if (s != NATS_OK)
        return med_js_status_err(s, 0, MED_R_INFRA_PUBLISH_FAILED, "async publish", err);
    count_published(stream);
    return MED_OK;
}

med_rc med_js_publish_async_complete(med_js *js, int64_t timeout_ms, med_err *err)
{
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = timeout_ms > 0 ? timeout_ms : js->publish_timeout_ms;
    natsStatus s = js_PublishAsyncComplete(js->js, &po);
    if (s != NATS_OK)
        return med_js_status_err(s, 0, MED_R_INFRA_PUBLISH_FAILED,
                                 "waiting for async publish acks", err);
    unsigned long long failed = atomic_exchange(&js->async_failed, 0);
    if (failed)
        return med_err_set(err, MED_ERR_IO, MED_R_INFRA_PUBLISH_FAILED, NULL,
                           "%llu async publishes were not acked by JetStream", failed);
    return MED_OK;
}

med_rc med_js_publish_core(med_js *js, natsMsg *msg, med_err *err)
{
    natsStatus s = natsConnection_PublishMsg(js->nc, msg);
    return med_js_status_err(s, 0, MED_R_INFRA_PUBLISH_FAILED, "core publish", err);
}
