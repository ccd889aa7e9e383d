#include "consumer_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "jst.h"
#include "med/names.h"
#include "med/reason.h"
#include "med/retry_history.h"

void cf_names_init(cf_names *n)
{
    memset(n, 0, sizeof *n);
    jst_unique(n->unique, sizeof n->unique);
    snprintf(n->stage, sizeof n->stage, "t%s", n->unique);
    snprintf(n->subject, sizeof n->subject, "med.c.jstest%s.v1", n->unique);
    snprintf(n->durable, sizeof n->durable, "jstest_%s", n->unique);
    if (med_dlq_subject(n->stage, n->dlq_subject, sizeof n->dlq_subject) != 0)
        fail_msg("dlq subject");
}

cf_script *cf_script_new(cf_mode mode)
{
    cf_script *s = calloc(1, sizeof *s);
    assert_non_null(s);
    pthread_mutex_init(&s->mu, NULL);
    s->mode = mode;
    return s;
}

void cf_script_free(cf_script *s)
{
    if (!s) return;
    pthread_mutex_destroy(&s->mu);
    kvStore_Destroy(s->kv);
    free(s);
}

int cf_calls(cf_script *s)
{
    pthread_mutex_lock(&s->mu);
    int n = s->calls;
    pthread_mutex_unlock(&s->mu);
    return n;
}

static med_disposition scripted(cf_script *s, uint64_t delivered, med_err *err)
{
    switch (s->mode) {
    case CF_ACK:
        return MED_DISPOSE_ACK;
    case CF_ACK_AND_STOP:
        atomic_store(s->stop, 1);
        return MED_DISPOSE_ACK;
    case CF_RETRY_THEN_ACK:
        if (delivered > (uint64_t)s->retry_until) return MED_DISPOSE_ACK;
        break;
    case CF_ALWAYS_RETRY:
        break;
    case CF_RETRY_AND_STOP:
        atomic_store(s->stop, 1);
        break;
    case CF_FAIL:
        med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_DECODE_FAILED, NULL, "poison payload");
        return MED_DISPOSE_FAIL;
    }
    med_err_set(err, MED_ERR_UNAVAILABLE, MED_R_INFRA_FAULT_INJECTED, NULL,
                "transient failure on delivery %llu", (unsigned long long)delivered);
    return MED_DISPOSE_RETRY;
}

static med_disposition handler(void *ud, natsMsg *msg, const med_delivery_info *info,
                               med_err *err)
{
    (void)msg;
    cf_script *s = ud;
    pthread_mutex_lock(&s->mu);
    int i = s->calls < CF_MAX_CALLS ? s->calls : CF_MAX_CALLS - 1;
    s->delivered[i] = info->num_delivered;
    s->at_ms[i] = jst_now_ms();
    if (s->kv) {
        med_err kerr;
        med_retry_history_key(s->stage, info->stream, info->stream_seq, s->history_key,
                              sizeof s->history_key);
        s->seen_ok[i] = med_retry_history_load(s->kv, s->history_key, &s->seen[i], &kerr) == MED_OK;
    }
    s->calls++;
    med_disposition d = scripted(s, info->num_delivered, err);
    pthread_mutex_unlock(&s->mu);
    return d;
}

void cf_opts(const cf_names *n, int max_deliver, int64_t ack_wait_ms, med_consumer_opts *o)
{
    memset(o, 0, sizeof *o);
    o->stage = n->stage;
    o->stream = MED_STREAM_CHAIN;
    o->durable = n->durable;
    o->filter_subject = n->subject;
    o->max_deliver = max_deliver;
    o->ack_wait_ms = ack_wait_ms;
    o->batch = 10;
    o->fetch_timeout_ms = 100;
    med_err err;
    if (med_backoff_parse("100,200,400", &o->backoff, &err) != MED_OK) fail_msg("ladder");
}

static void *run(void *arg)
{
    cf_runner *r = arg;
    r->rc = med_consumer_run(r->js, &r->opts, handler, r->script, &r->stop, &r->err);
    atomic_store(&r->done, 1);
    return NULL;
}

void cf_start(cf_runner *r, med_js *js, const med_consumer_opts *o, cf_script *s)
{
    memset(r, 0, sizeof *r);
    r->js = js;
    r->opts = *o;
    r->script = s;
    atomic_init(&r->stop, 0);
    atomic_init(&r->done, 0);
    s->stop = &r->stop;
    assert_int_equal(pthread_create(&r->thread, NULL, run, r), 0);
}

static int runner_done(void *arg) { return atomic_load(&((cf_runner *)arg)->done); }

void cf_stop(cf_runner *r, int timeout_ms)
{
    atomic_store(&r->stop, 1);
    if (!jst_wait_until(runner_done, r, timeout_ms))
        fail_msg("consumer loop did not stop within %d ms", timeout_ms);
    pthread_join(r->thread, NULL);
    if (r->rc != MED_OK) fail_msg("consumer loop returned %d: %s", (int)r->rc, r->err.message);
}

void cf_publish(med_js *js, const cf_names *n, const char *payload)
{
    natsMsg *m = NULL;
    med_err err;
    med_err_clear(&err);
    assert_int_equal(med_js_msg_new(n->subject, payload, (int)strlen(payload), NULL, &m, &err),
                     MED_OK);
    natsMsgHeader_Set(m, MED_HDR_TRACEPARENT,
                      "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    natsMsgHeader_Set(m, MED_HDR_TRACE_KEY, "tr_0123456789abcdef");
    natsMsgHeader_Set(m, MED_HDR_REQUEST_KEY, "req_0123456789abcdef");
    natsMsgHeader_Set(m, MED_HDR_TENANT, "tenant_js");
    if (med_js_publish(js, m, NULL, NULL, &err) != MED_OK)
        fail_msg("publish: %s", err.message);
    natsMsg_Destroy(m);
}

void cf_delete_consumer(med_js *js, const cf_names *n)
{
    js_DeleteConsumer(med_js_ctx(js), MED_STREAM_CHAIN, n->durable, NULL, NULL);
}
