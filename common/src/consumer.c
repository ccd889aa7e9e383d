/* Durable pull consumer loop.
 *
 * Acks: natsMsg_Ack (fire-and-forget), not AckSync. At-least-once does not
 * need the ack round trip: an ack that gets lost only means a redelivery
 * after AckWait, which every stage already tolerates (idempotent handlers,
 * Nats-Msg-Id dedup on what they publish), while AckSync would cost one
 * server round trip per message. What must not be lost is ordered before
 * the ack: the handler's own publishes are synchronous, the dead letter is
 * published and acked by MED_DLQ before the Term, and the retry history is
 * stored before the Nak. On shutdown the connection is flushed so the acks
 * of the last batch leave the process before it exits. */
#include "med/consumer.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "med/dlq.h"
#include "med/headers.h"
#include "med/ids.h"
#include "med/log.h"
#include "med/metrics.h"
#include "med/names.h"
#include "med/reason.h"
#include "med/retry_history.h"

#define DEFAULT_ACK_WAIT_MS 30000
#define DEFAULT_BATCH 64
#define DEFAULT_FETCH_TIMEOUT_MS 500
#define OUTAGE_SLEEP_MS 250
/* Consecutive failed fetches after which the subscription is rebuilt
 * (consumer deleted by an operator, stream recreated ...). */
#define RESUBSCRIBE_AFTER_FAILURES 8
#define STOP_FLUSH_MS 2000
#define NS_PER_MS INT64_C(1000000)

typedef struct consumer {
    med_js *js;
    med_consumer_opts o;   /* defaults resolved */
    med_handler_fn handler;
    med_batch_prepare_fn prepare;
    void *ud;
    natsSubscription *sub;
    kvStore *history_kv;   /* NULL until the bucket could be bound */
    med_histogram *handle_seconds;
    med_gauge *pending;
    med_counter *outcomes[3]; /* by outcome, registered on first use */
} consumer;

typedef enum outcome { OUTCOME_ACK, OUTCOME_NAK, OUTCOME_DEAD_LETTER } outcome;
static const char *const outcome_names[] = { "ack", "nak", "dead_letter" };

typedef struct delivery {
    natsMsg *msg;
    med_delivery_info info;
    med_trace_headers th;
    char history_key[192];
} delivery;

static void sleep_ms(int64_t ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static void resolve_opts(const med_consumer_opts *in, med_consumer_opts *o)
{
    *o = *in;
    if (o->max_deliver <= 0) o->max_deliver = MED_BACKOFF_DEFAULT_MAX_DELIVER;
    if (o->backoff.n <= 0) med_backoff_default(&o->backoff);
    if (o->ack_wait_ms <= 0) o->ack_wait_ms = DEFAULT_ACK_WAIT_MS;
    if (o->batch <= 0) o->batch = DEFAULT_BATCH;
    if (o->fetch_timeout_ms <= 0) o->fetch_timeout_ms = DEFAULT_FETCH_TIMEOUT_MS;
}

static med_rc check_opts(const med_consumer_opts *o, med_err *err)
{
    char subj[128];
    if (!o->stream || !*o->stream || !o->durable || !*o->durable || !o->filter_subject ||
        !*o->filter_subject || med_dlq_subject(o->stage, subj, sizeof subj) != 0)
        return med_err_set(err, MED_ERR_INVALID, MED_R_CFG_INVALID_VALUE, NULL,
                           "consumer needs stage, stream, durable and filter subject");
    return MED_OK;
}

/* ---- metrics ---- */

/* The counter is looked up (registry mutex) only the first time an outcome
 * occurs, so a series still appears only once it has counted something. */
static void count_outcome(consumer *c, outcome o)
{
    if (!c->outcomes[o]) {
        char labels[128];
        snprintf(labels, sizeof labels, "stage=\"%s\",outcome=\"%s\"", c->o.stage,
                 outcome_names[o]);
        c->outcomes[o] = med_counter_get("med_consumer_messages_total",
                                         "Messages settled by the stage's consumer", labels);
    }
    if (c->outcomes[o]) med_counter_inc(c->outcomes[o]);
}

static void init_metrics(consumer *c)
{
    char labels[96];
    snprintf(labels, sizeof labels, "stage=\"%s\"", c->o.stage);
    c->handle_seconds = med_histogram_get("med_consumer_handle_seconds",
                                          "Time spent in the stage handler per message",
                                          labels, NULL, 0);
    c->pending = med_gauge_get("med_consumer_pending",
                               "Messages waiting in the stage's durable consumer", labels);
}

/* ---- consumer and subscription ---- */

static med_rc ensure_consumer(consumer *c, med_err *err)
{
    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Durable = c->o.durable;
    cc.AckPolicy = js_AckExplicit;
    cc.DeliverPolicy = js_DeliverAll;
    /* One more than ours: the library dead-letters on delivery max_deliver
     * itself, and a failed DLQ publish gets one more redelivery. */
    cc.MaxDeliver = c->o.max_deliver + 1;
    cc.AckWait = c->o.ack_wait_ms * NS_PER_MS;
    cc.FilterSubject = c->o.filter_subject;
    jsErrCode jerr = 0;
    natsStatus s = js_AddConsumer(NULL, med_js_ctx(c->js), c->o.stream, &cc, NULL, &jerr);
    if (s != NATS_OK && (jerr == JSConsumerNameExistErr || jerr == JSConsumerExistingActiveErr)) {
        jerr = 0;
        s = js_UpdateConsumer(NULL, med_js_ctx(c->js), c->o.stream, &cc, NULL, &jerr);
    }
    char what[160];
    snprintf(what, sizeof what, "ensure consumer %s on %s", c->o.durable, c->o.stream);
    return med_js_status_err(s, jerr, MED_R_INFRA_NATS_UNAVAILABLE, what, err);
}

static med_rc subscribe(consumer *c, med_err *err)
{
    med_rc rc = ensure_consumer(c, err);
    if (rc != MED_OK) return rc;
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = c->o.stream;
    so.Consumer = c->o.durable; /* bind: never let nats.c delete the durable */
    jsErrCode jerr = 0;
    natsStatus s = js_PullSubscribe(&c->sub, med_js_ctx(c->js), c->o.filter_subject,
                                    c->o.durable, NULL, &so, &jerr);
    return med_js_status_err(s, jerr, MED_R_INFRA_NATS_UNAVAILABLE, "pull subscribe", err);
}

static void unsubscribe(consumer *c)
{
    /* Destroy, not Unsubscribe: the durable must outlive this process. */
    natsSubscription_Destroy(c->sub);
    c->sub = NULL;
}

/* The bucket may appear after start-up (another service creates it), so
 * binding is retried whenever history is needed. */
static kvStore *history_kv(consumer *c)
{
    if (!c->history_kv &&
        js_KeyValue(&c->history_kv, med_js_ctx(c->js), MED_KV_RETRY_HISTORY) != NATS_OK)
        c->history_kv = NULL;
    return c->history_kv;
}

/* ---- settling one message ---- */

static void log_warn(const delivery *d, const char *code, const char *what, const char *detail)
{
    med_log_ctx lc = { .trace_id = d->th.trace_key, .request_id = d->th.request_key,
                       .tenant_id = d->th.tenant, .error_code = code };
    MED_LOGW(&lc, "%s seq %llu: %s: %s", d->info.stream ? d->info.stream : "?",
             (unsigned long long)d->info.stream_seq, what, detail ? detail : "");
}

static void settle_status(const delivery *d, natsStatus s, const char *verb)
{
    if (s == NATS_OK) return;
    char what[64];
    snprintf(what, sizeof what, "%s failed, the message will be redelivered", verb);
    log_warn(d, MED_R_INFRA_NATS_UNAVAILABLE, what, natsStatus_GetText(s));
}

static void record_attempt(consumer *c, const delivery *d, const med_err *herr, int64_t delay_ms)
{
    kvStore *kv = history_kv(c);
    med_err kerr;
    med_err_clear(&kerr);
    med_retry_history h;
    med_rc rc = kv ? med_retry_history_load(kv, d->history_key, &h, &kerr) : MED_ERR_UNAVAILABLE;
    if (rc == MED_OK) {
        med_retry_history_keep_before(&h, (uint32_t)d->info.num_delivered);
        med_retry_attempt a;
        med_retry_attempt_set(&a, (uint32_t)d->info.num_delivered, med_now_unix_ms(),
                              herr->code, herr->message, delay_ms);
        med_retry_history_append(&h, &a);
        rc = med_retry_history_store(kv, d->history_key, &h, &kerr);
    }
    /* History is evidence for operators; losing it must not block the nak. */
    if (rc != MED_OK)
        log_warn(d, MED_R_INFRA_NATS_UNAVAILABLE, "retry history not recorded",
                 kerr.message[0] ? kerr.message : "KV bucket unavailable");
}

static void forget_history(consumer *c, const delivery *d)
{
    /* Only a redelivered message can have history; skipping the delete on
     * first deliveries keeps the hot path at one write per message. */
    if (d->info.num_delivered <= 1) return;
    kvStore *kv = history_kv(c);
    med_err kerr;
    if (kv && med_retry_history_forget(kv, d->history_key, &kerr) != MED_OK)
        log_warn(d, kerr.code, "retry history not deleted (expires by TTL)", kerr.message);
}

static void do_ack(consumer *c, const delivery *d)
{
    settle_status(d, natsMsg_Ack(d->msg, NULL), "ack");
    forget_history(c, d);
    count_outcome(c, OUTCOME_ACK);
}

static void do_nak(consumer *c, const delivery *d, const med_err *herr)
{
    int64_t delay = herr && herr->retry_after_ms > 0
                        ? herr->retry_after_ms
                        : med_backoff_delay_ms(&c->o.backoff, d->info.num_delivered);
    record_attempt(c, d, herr, delay);
    settle_status(d, natsMsg_NakWithDelay(d->msg, delay, NULL), "nak");
    count_outcome(c, OUTCOME_NAK);
}

static void load_history_for_dlq(consumer *c, const delivery *d, med_retry_history *h)
{
    memset(h, 0, sizeof *h);
    if (d->info.num_delivered <= 1) return;
    kvStore *kv = history_kv(c);
    med_err kerr;
    med_err_clear(&kerr);
    if (!kv || med_retry_history_load(kv, d->history_key, h, &kerr) != MED_OK)
        log_warn(d, MED_R_INFRA_NATS_UNAVAILABLE, "dead letter goes without retry history",
                 kerr.message[0] ? kerr.message : "KV bucket unavailable");
    med_retry_history_keep_before(h, (uint32_t)d->info.num_delivered);
}

static void do_dead_letter(consumer *c, const delivery *d, med_disposition disp,
                           const med_err *herr)
{
    med_retry_history h;
    load_history_for_dlq(c, d, &h);
    med_retry_attempt last;
    med_retry_attempt_set(&last, (uint32_t)d->info.num_delivered, med_now_unix_ms(),
                          herr->code, herr->message, 0);
    med_retry_history_append(&h, &last);
    const char *reason = disp == MED_DISPOSE_RETRY ? MED_R_INFRA_MAX_DELIVER : herr->code;
    char last_error[sizeof herr->code + sizeof herr->message + 4];
    snprintf(last_error, sizeof last_error, "%s: %s", herr->code, herr->message);
    med_err derr;
    med_err_clear(&derr);
    if (med_dlq_publish(c->js, c->o.stage, d->msg, &d->info, reason, last_error, &h, &derr) != MED_OK) {
        /* Never Term what is not safely in the DLQ: try again later. */
        log_warn(d, derr.code, "dead letter not published, retrying later", derr.message);
        do_nak(c, d, herr);
        return;
    }
    settle_status(d, natsMsg_Term(d->msg, NULL), "term");
    forget_history(c, d);
    count_outcome(c, OUTCOME_DEAD_LETTER);
}

/* The handler's error must name a reason for the history and DLQ. */
static void default_reason(med_disposition disp, med_err *herr)
{
    if (disp == MED_DISPOSE_ACK || herr->code[0]) return;
    med_err_set(herr, MED_ERR_INTERNAL,
                disp == MED_DISPOSE_FAIL ? MED_R_INFRA_PERMANENT_FAILURE
                                          : MED_R_INFRA_TRANSIENT_FAILURE,
                NULL, "%s", herr->message[0] ? herr->message : "handler gave no reason");
}

static int read_delivery(consumer *c, natsMsg *msg, delivery *d, jsMsgMetaData **meta)
{
    memset(d, 0, sizeof *d);
    d->msg = msg;
    if (natsMsg_GetMetaData(meta, msg) != NATS_OK) return 0;
    d->info.stream_seq = (*meta)->Sequence.Stream;
    d->info.consumer_seq = (*meta)->Sequence.Consumer;
    d->info.num_delivered = (*meta)->NumDelivered;
    d->info.published_unix_ns = (*meta)->Timestamp;
    d->info.stream = (*meta)->Stream;
    d->info.consumer = (*meta)->Consumer;
    if (c->pending) med_gauge_set(c->pending, (double)(*meta)->NumPending);
    med_headers_read(msg, &d->th);
    med_retry_history_key(c->o.stage, d->info.stream, d->info.stream_seq, d->history_key,
                          sizeof d->history_key);
    return 1;
}

static void handle_one(consumer *c, natsMsg *msg)
{
    delivery d;
    jsMsgMetaData *meta = NULL;
    if (!read_delivery(c, msg, &d, &meta)) {
        /* Not a JetStream delivery: nothing to settle; AckWait resends it. */
        MED_LOGW(NULL, "message on %s without JetStream metadata skipped",
                 natsMsg_GetSubject(msg));
        return;
    }
    med_err herr;
    med_err_clear(&herr);
    int64_t t0 = med_mono_ms();
    med_disposition disp = c->handler(c->ud, msg, &d.info, &herr);
    if (c->handle_seconds) med_histogram_observe(c->handle_seconds, (double)(med_mono_ms() - t0) / 1000.0);
    default_reason(disp, &herr);
    switch (med_retry_decide(disp, d.info.num_delivered, c->o.max_deliver)) {
    case MED_NEXT_ACK: do_ack(c, &d); break;
    case MED_NEXT_NAK: do_nak(c, &d, &herr); break;
    case MED_NEXT_DEAD_LETTER: do_dead_letter(c, &d, disp, &herr); break;
    }
    jsMsgMetaData_Destroy(meta);
}

/* ---- loop ---- */

static void note_fetch_failure(consumer *c, natsStatus s, jsErrCode jerr, int failures)
{
    /* Log the first failure of an outage and then only now and then. */
    if (failures == 1 || failures % 40 == 0) {
        med_log_ctx lc = { .error_code = MED_R_INFRA_NATS_UNAVAILABLE };
        MED_LOGW(&lc, "fetch from %s/%s failed (%s, jetstream %d), retrying", c->o.stream,
                 c->o.durable, natsStatus_GetText(s), (int)jerr);
    }
    if (failures % RESUBSCRIBE_AFTER_FAILURES == 0 && med_js_connected(c->js)) {
        med_err rerr;
        unsubscribe(c);
        if (subscribe(c, &rerr) != MED_OK) c->sub = NULL;
    }
}

/* One fetch + settle round. Returns the number of consecutive failures. */
static int fetch_round(consumer *c, int failures)
{
    natsMsgList list = { 0 };
    jsErrCode jerr = 0;
    natsStatus s = c->sub ? natsSubscription_Fetch(&list, c->sub, c->o.batch,
                                                   c->o.fetch_timeout_ms, &jerr)
                          : NATS_INVALID_SUBSCRIPTION;
    if (s == NATS_TIMEOUT) {
        if (c->pending) med_gauge_set(c->pending, 0);
        return 0;
    }
    if (s != NATS_OK) {
        note_fetch_failure(c, s, jerr, ++failures);
        sleep_ms(OUTAGE_SLEEP_MS);
        return failures;
    }
    /* Once fetched, the whole batch is settled even if stop is raised. */
    if (c->prepare && list.Count > 0) c->prepare(c->ud, list.Msgs, list.Count);
    for (int i = 0; i < list.Count; i++) handle_one(c, list.Msgs[i]);
    natsMsgList_Destroy(&list);
    return 0;
}

med_rc med_consumer_run(med_js *js, const med_consumer_opts *opts,
                        med_handler_fn handler, void *ud,
                        const atomic_int *stop, med_err *err)
{
    return med_consumer_run_batched(js, opts, NULL, handler, ud, stop, err);
}

med_rc med_consumer_run_batched(med_js *js, const med_consumer_opts *opts,
                                med_batch_prepare_fn prepare, med_handler_fn handler,
                                void *ud, const atomic_int *stop, med_err *err)
{
    if (!js || !opts || !handler || !stop)
        return med_err_set(err, MED_ERR_INVALID, MED_R_CFG_INVALID_VALUE, NULL,
                           "consumer needs js, opts, handler and stop flag");
    consumer c = { .js = js, .handler = handler, .prepare = prepare, .ud = ud };
    resolve_opts(opts, &c.o);
    med_rc rc = check_opts(&c.o, err);
    if (rc == MED_OK) rc = subscribe(&c, err);
    if (rc != MED_OK) return rc;
    init_metrics(&c);
    MED_LOGI(NULL, "consuming %s from %s as %s (max_deliver %d, ack_wait %lld ms)",
             c.o.filter_subject, c.o.stream, c.o.durable, c.o.max_deliver,
             (long long)c.o.ack_wait_ms);
    int failures = 0;
    while (!atomic_load(stop)) failures = fetch_round(&c, failures);
    if (med_js_connected(js)) natsConnection_FlushTimeout(med_js_conn(js), STOP_FLUSH_MS);
    unsubscribe(&c);
    kvStore_Destroy(c.history_kv);
    MED_LOGI(NULL, "consumer %s stopped", c.o.durable);
    return MED_OK;
}
