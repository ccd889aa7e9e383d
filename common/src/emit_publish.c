/* One attempt of an emitted event: digest, publish, ack, metric. */
#include "med/emit_publish.h"

#include <stdio.h>
#include <string.h>

#include "med/emit_digest.h"
#include "med/ids.h"
#include "med/metrics.h"
#include "med/reason.h"

static int stream_unavailable(jsErrCode jerr)
{
    switch (jerr) {
    case JSClusterNotAvailErr:
    case JSClusterNoPeersErr:
    case JSInsufficientResourcesErr:
    case JSNotEnabledForAccountErr:
    case JSStreamNotFoundErr:
    case JSNotEnabledErr:
    case JSStreamStoreFailedErr:
    case JSStreamOfflineErr: return 1;
    default: return 0;
    }
}

med_emit_outcome med_emit_classify(natsStatus s, jsErrCode jerr, int duplicate)
{
    switch (s) {
    case NATS_OK: return duplicate ? MED_EMIT_ACK_DUPLICATE : MED_EMIT_ACK;
    case NATS_TIMEOUT:
    case NATS_NO_RESPONDERS:
    case NATS_CONNECTION_CLOSED:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_NOT_YET_CONNECTED:
    case NATS_NO_SERVER:
    case NATS_STALE_CONNECTION:
    case NATS_IO_ERROR: return MED_EMIT_RETRYABLE;
    default: return stream_unavailable(jerr) ? MED_EMIT_RETRYABLE : MED_EMIT_FAILED;
    }
}

med_emit_outcome med_emit_publish(med_js *js, natsMsg *msg, const char *msg_id,
                                  int64_t timeout_ms, med_err *err)
{
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = msg_id;
    if (timeout_ms > 0) po.MaxWait = timeout_ms;
    jsPubAck *pa = NULL;
    jsErrCode jerr = 0;
    jsCtx *ctx = js ? med_js_ctx(js) : NULL;
    natsStatus s = ctx ? js_PublishMsg(&pa, ctx, msg, &po, &jerr) : NATS_NOT_YET_CONNECTED;
    med_emit_outcome o = med_emit_classify(s, jerr, s == NATS_OK && pa && pa->Duplicate);
    if (s != NATS_OK)
        med_js_status_err(s, jerr, MED_R_INFRA_PUBLISH_FAILED, "event publish", err);
    jsPubAck_Destroy(pa);
    return o;
}

void med_emit_count(const char *stage, const char *reason_code)
{
    char labels[160];
    snprintf(labels, sizeof labels, "stage=\"%s\",reason=\"%s\"", stage, reason_code);
    med_counter *c = med_counter_get(MED_M_EMIT_ACKS, MED_M_EMIT_ACKS_HELP, labels);
    if (c) med_counter_inc(c);
}

/* Digest check; returns 1 when the event is to be sent. */
static int digest_gate(med_redis *redis, const med_emit_event *ev, med_emit_outcome *no_send)
{
    med_emit_digest_state st;
    med_err e;
    med_err_clear(&e);
    if (med_emit_digest_claim(redis, ev->digest_key, ev->digest, ev->window_ms, &st, &e) !=
        MED_OK) {
        med_log_ctx lc = ev->log ? *ev->log : (med_log_ctx){ 0 };
        lc.error_code = e.code;
        MED_LOGW(&lc, "%s event %s: digest store unavailable, sent unchecked: %s", ev->stage,
                 ev->msg_id, e.message);
        return 1;
    }
    if (st == MED_EMIT_DIGEST_CONFLICT) *no_send = MED_EMIT_PAYLOAD_CONFLICT;
    if (st == MED_EMIT_DIGEST_ACKED) *no_send = MED_EMIT_ACK_DUPLICATE;
    return st != MED_EMIT_DIGEST_CONFLICT && st != MED_EMIT_DIGEST_ACKED;
}

static void log_ack(const med_emit_event *ev, const med_emit_ack *ack, const med_err *e)
{
    med_log_ctx lc = ev->log ? *ev->log : (med_log_ctx){ 0 };
    lc.error_code = ack->ack_reason_code;
    if (ack->exhausted)
        MED_LOGE(&lc, "ALERT %s event %s: resend window exhausted after attempt %d: %s",
                 ev->stage, ev->msg_id, ack->attempt, e->message);
    else if (ack->retryable)
        MED_LOGW(&lc, "%s event %s: attempt %d rejected, retry in %lld ms: %s", ev->stage,
                 ev->msg_id, ack->attempt,
                 (long long)(ack->next_retry_at_ms - med_now_unix_ms()), e->message);
    else if (strcmp(ack->ack_status, "rejected") == 0)
        MED_LOGW(&lc, "%s event %s: attempt %d rejected for good: %s", ev->stage, ev->msg_id,
                 ack->attempt, e->message[0] ? e->message : "payload digest conflict");
}

void med_emit_try(med_js *js, med_redis *redis, const med_emit_event *ev, med_emit_ack *ack)
{
    med_emit_outcome o = MED_EMIT_ACK;
    med_err e;
    med_err_clear(&e);
    if (digest_gate(redis, ev, &o)) {
        o = med_emit_publish(js, ev->msg, ev->msg_id, ev->publish_timeout_ms, &e);
        if (redis && (o == MED_EMIT_ACK || o == MED_EMIT_ACK_DUPLICATE)) {
            med_err me;
            med_err_clear(&me);
            /* Unmarked only costs a second publish the stream drops. */
            med_emit_digest_mark_acked(redis, ev->digest_key, ev->digest, ev->window_ms, &me);
        }
    }
    med_emit_ack_decide(ev->codes, o, ev->attempt, ev->first_attempt_at_ms, med_now_unix_ms(),
                        ev->window_ms, ack);
    med_emit_count(ev->stage, ack->ack_reason_code);
    log_ack(ev, ack, &e);
}
