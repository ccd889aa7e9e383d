/* med_consumer_run against a real nats-server: ack once, nak with the
 * backoff ladder, dead-letter after max_deliver with the retry history
 * from the KV bucket, poison messages, graceful and prompt stop. Each test
 * uses its own subject, durable and stage, so tests never see each
 * other's messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "consumer_fixture.h"
#include "jst.h"
#include "mediation/v1/dlq.pb-c.h"
#include "med/headers.h"
#include "med/names.h"
#include "med/reason.h"
#include "med/retry_history.h"

typedef struct calls_at_least {
    cf_script *s;
    int n;
} calls_at_least;

static int reached(void *arg)
{
    calls_at_least *c = arg;
    return cf_calls(c->s) >= c->n;
}

static void wait_calls(cf_script *s, int n, int timeout_ms)
{
    calls_at_least c = { s, n };
    if (!jst_wait_until(reached, &c, timeout_ms))
        fail_msg("handler called %d times, expected %d within %d ms", cf_calls(s), n, timeout_ms);
}

static jsConsumerInfo *consumer_info(med_js *js, const cf_names *n)
{
    jsConsumerInfo *ci = NULL;
    natsStatus s = js_GetConsumerInfo(&ci, med_js_ctx(js), MED_STREAM_CHAIN, n->durable, NULL,
                                      NULL);
    if (s != NATS_OK) fail_msg("consumer info: %s", natsStatus_GetText(s));
    return ci;
}

static natsSubscription *watch_dlq(med_js *js, const cf_names *n)
{
    natsSubscription *sub = NULL;
    assert_int_equal(natsConnection_SubscribeSync(&sub, med_js_conn(js), n->dlq_subject), NATS_OK);
    assert_int_equal(natsConnection_Flush(med_js_conn(js)), NATS_OK);
    return sub;
}

static Mediation__V1__DeadLetter *next_dead_letter(natsSubscription *sub, natsMsg **raw)
{
    natsMsg *m = NULL;
    natsStatus s = natsSubscription_NextMsg(&m, sub, 5000);
    if (s != NATS_OK) fail_msg("no dead letter arrived: %s", natsStatus_GetText(s));
    Mediation__V1__DeadLetter *dl = mediation__v1__dead_letter__unpack(
        NULL, (size_t)natsMsg_GetDataLength(m), (const uint8_t *)natsMsg_GetData(m));
    assert_non_null(dl);
    *raw = m;
    return dl;
}

static void assert_no_more_dead_letters(natsSubscription *sub, int wait_ms)
{
    natsMsg *m = NULL;
    natsStatus s = natsSubscription_NextMsg(&m, sub, wait_ms);
    natsMsg_Destroy(m);
    if (s == NATS_OK) fail_msg("a second dead letter arrived");
}

static const char *dl_header(const Mediation__V1__DeadLetter *dl, const char *key)
{
    for (size_t i = 0; i < dl->n_headers; i++)
        if (strcmp(dl->headers[i]->key, key) == 0) return dl->headers[i]->value;
    return NULL;
}

static int history_gone(void *arg)
{
    cf_script *s = arg;
    kvEntry *e = NULL;
    natsStatus st = kvStore_Get(&e, s->kv, s->history_key);
    kvEntry_Destroy(e);
    return st == NATS_NOT_FOUND;
}

static kvStore *history_bucket(med_js *js)
{
    kvStore *kv = NULL;
    assert_int_equal(js_KeyValue(&kv, med_js_ctx(js), MED_KV_RETRY_HISTORY), NATS_OK);
    return kv;
}

static uint64_t outcome_count(const cf_names *n, const char *outcome)
{
    char series[192];
    snprintf(series, sizeof series,
             "med_consumer_messages_total{stage=\"%s\",outcome=\"%s\"}", n->stage, outcome);
    return jst_metric(series);
}

static uint64_t dlq_count(const cf_names *n)
{
    char series[128];
    snprintf(series, sizeof series, "med_dlq_published_total{stage=\"%s\"}", n->stage);
    return jst_metric(series);
}

/* ---- tests ---- */

static void test_success_is_acked_once(void **state)
{
    (void)state;
    med_js *js = jst_connect();
    cf_names n;
    cf_names_init(&n);
    cf_script *s = cf_script_new(CF_ACK);
    med_consumer_opts o;
    cf_opts(&n, 3, 1000, &o);
    cf_runner r;
    cf_start(&r, js, &o, s);
    cf_publish(js, &n, "hello");
    wait_calls(s, 1, 5000);
    jst_sleep_ms(1300); /* past AckWait: an unacked message would be back */
    assert_int_equal(cf_calls(s), 1);
    assert_int_equal(s->delivered[0], 1);
    cf_stop(&r, 2000);

    jsConsumerInfo *ci = consumer_info(js, &n);
    assert_int_equal(ci->NumAckPending, 0);
    assert_int_equal(ci->NumRedelivered, 0);
    assert_int_equal(ci->AckFloor.Consumer, 1);
    assert_int_equal(ci->Config->MaxDeliver, 4); /* max_deliver + 1 */
    assert_int_equal(outcome_count(&n, "ack"), 1);
    assert_int_equal(outcome_count(&n, "nak"), 0);
    char handled[128];
    snprintf(handled, sizeof handled, "med_consumer_handle_seconds_count{stage=\"%s\"}", n.stage);
    assert_int_equal(jst_metric(handled), 1);
    assert_int_equal(ci->Config->AckPolicy, js_AckExplicit);
    assert_string_equal(ci->Config->FilterSubject, n.subject);
    jsConsumerInfo_Destroy(ci);
    cf_delete_consumer(js, &n);
    cf_script_free(s);
    med_js_close(js);
}

static void test_retry_twice_then_ack_honours_ladder(void **state)
{
    (void)state;
    med_js *js = jst_connect();
    cf_names n;
    cf_names_init(&n);
    cf_script *s = cf_script_new(CF_RETRY_THEN_ACK);
    s->retry_until = 2;
    s->kv = history_bucket(js);
    s->stage = n.stage;
    med_consumer_opts o;
    cf_opts(&n, 5, 3000, &o);
    cf_runner r;
    cf_start(&r, js, &o, s);
    cf_publish(js, &n, "flaky");
    wait_calls(s, 3, 5000);
    assert_true(jst_wait_until(history_gone, s, 2000)); /* deleted after the ack */
    jst_sleep_ms(300);
    cf_stop(&r, 2000);

    assert_int_equal(cf_calls(s), 3);
    for (int i = 0; i < 3; i++) assert_int_equal(s->delivered[i], (uint64_t)i + 1);
    int64_t gap1 = s->at_ms[1] - s->at_ms[0], gap2 = s->at_ms[2] - s->at_ms[1];
    /* ladder 100, 200 ms; well below the 3 s AckWait */
    if (gap1 < 90 || gap1 > 1500 || gap2 < 190 || gap2 > 1500)
        fail_msg("redelivery gaps %lld / %lld ms do not follow the 100/200 ms ladder",
                 (long long)gap1, (long long)gap2);

    /* What the third delivery found in the KV bucket: both earlier tries. */
    assert_true(s->seen_ok[2]);
    assert_int_equal(s->seen[2].n, 2);
    assert_int_equal(s->seen[2].attempts[0].attempt, 1);
    assert_int_equal(s->seen[2].attempts[0].next_delay_ms, 100);
    assert_int_equal(s->seen[2].attempts[1].attempt, 2);
    assert_int_equal(s->seen[2].attempts[1].next_delay_ms, 200);
    assert_string_equal(s->seen[2].attempts[1].error_code, MED_R_INFRA_FAULT_INJECTED);
    assert_true(s->seen_ok[0]);
    assert_int_equal(s->seen[0].n, 0);
    assert_int_equal(outcome_count(&n, "nak"), 2);
    assert_int_equal(outcome_count(&n, "ack"), 1);

    jsConsumerInfo *ci = consumer_info(js, &n);
    assert_int_equal(ci->NumAckPending, 0);
    assert_int_equal(ci->AckFloor.Stream, ci->Delivered.Stream);
    jsConsumerInfo_Destroy(ci);
    cf_delete_consumer(js, &n);
    cf_script_free(s);
    med_js_close(js);
}

static void check_dead_letter_common(const Mediation__V1__DeadLetter *dl, const cf_names *n,
                                     const char *payload)
{
    assert_string_equal(dl->stage, n->stage);
    assert_string_equal(dl->failed_subject, n->subject);
    assert_string_equal(dl->stream, MED_STREAM_CHAIN);
    assert_string_equal(dl->consumer, n->durable);
    assert_true(dl->stream_seq > 0);
    assert_int_equal(dl->payload.len, strlen(payload));
    assert_memory_equal(dl->payload.data, payload, strlen(payload));
    assert_string_equal(dl->tenant_id, "tenant_js");
    assert_non_null(dl->trace);
    assert_string_equal(dl->trace->trace_key, "tr_0123456789abcdef");
    assert_string_equal(dl->trace->request_key, "req_0123456789abcdef");
    assert_string_equal(dl_header(dl, MED_HDR_TRACE_KEY), "tr_0123456789abcdef");
    assert_string_equal(dl_header(dl, MED_HDR_TENANT), "tenant_js");
    assert_non_null(dl_header(dl, MED_HDR_TRACEPARENT));
}

/* What every dead-letter test sets up: a connection, fresh names, a
 * subscription on the DLQ subject; and, once one arrived, the dead letter. */
typedef struct dl_case {
    med_js *js;
    cf_names n;
    natsSubscription *dlq;
    natsMsg *raw;
    Mediation__V1__DeadLetter *dl;
} dl_case;

static void dl_case_open(dl_case *c)
{
    c->js = jst_connect();
    cf_names_init(&c->n);
    c->dlq = watch_dlq(c->js, &c->n);
    c->raw = NULL;
    c->dl = NULL;
}

/* Frees the dead letter, the DLQ subscription and the consumer; scripts are
 * the caller's (free them before this, it closes the connection). */
static void dl_case_close(dl_case *c)
{
    mediation__v1__dead_letter__free_unpacked(c->dl, NULL);
    natsMsg_Destroy(c->raw);
    natsSubscription_Destroy(c->dlq);
    cf_delete_consumer(c->js, &c->n);
    med_js_close(c->js);
}

static void test_always_retry_dead_letters_once_with_history(void **state)
{
    (void)state;
    dl_case c;
    dl_case_open(&c);
    cf_script *s = cf_script_new(CF_ALWAYS_RETRY);
    s->kv = history_bucket(c.js);
    s->stage = c.n.stage;
    med_consumer_opts o;
    cf_opts(&c.n, 3, 2000, &o);
    cf_runner r;
    cf_start(&r, c.js, &o, s);
    cf_publish(c.js, &c.n, "never works");

    Mediation__V1__DeadLetter *dl = c.dl = next_dead_letter(c.dlq, &c.raw);
    assert_no_more_dead_letters(c.dlq, 1200);
    assert_true(jst_wait_until(history_gone, s, 2000));
    cf_stop(&r, 2000);
    assert_int_equal(cf_calls(s), 3);

    check_dead_letter_common(dl, &c.n, "never works");
    assert_int_equal(dl->num_delivered, 3);
    assert_string_equal(dl->reason_code, MED_R_INFRA_MAX_DELIVER);
    assert_non_null(strstr(dl->last_error, MED_R_INFRA_FAULT_INJECTED));
    assert_int_equal(dl->n_history, 3);
    const int64_t delays[] = { 100, 200, 0 };
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(dl->history[i]->attempt, i + 1);
        assert_string_equal(dl->history[i]->error_code, MED_R_INFRA_FAULT_INJECTED);
        assert_int_equal(dl->history[i]->next_delay_ms, delays[i]);
        if (i > 0) assert_true(dl->history[i]->at_unix_ms >= dl->history[i - 1]->at_unix_ms);
    }
    /* The dead letter travels with the trace headers of the failed message. */
    assert_string_equal(med_header_get(c.raw, MED_HDR_TRACE_KEY), "tr_0123456789abcdef");
    assert_int_equal(jst_subject_count(med_js_ctx(c.js), MED_STREAM_DLQ, c.n.dlq_subject), 1);
    assert_int_equal(outcome_count(&c.n, "nak"), 2);
    assert_int_equal(outcome_count(&c.n, "dead_letter"), 1);
    assert_int_equal(dlq_count(&c.n), 1);

    jsConsumerInfo *ci = consumer_info(c.js, &c.n);
    assert_int_equal(ci->NumAckPending, 0); /* termed */
    jsConsumerInfo_Destroy(ci);
    cf_script_free(s);
    dl_case_close(&c);
}

static void test_fail_dead_letters_on_first_delivery(void **state)
{
    (void)state;
    dl_case c;
    dl_case_open(&c);
    cf_script *s = cf_script_new(CF_FAIL);
    med_consumer_opts o;
    cf_opts(&c.n, 5, 2000, &o);
    cf_runner r;
    cf_start(&r, c.js, &o, s);
    cf_publish(c.js, &c.n, "poison");

    Mediation__V1__DeadLetter *dl = c.dl = next_dead_letter(c.dlq, &c.raw);
    assert_no_more_dead_letters(c.dlq, 500);
    cf_stop(&r, 2000);
    assert_int_equal(cf_calls(s), 1);

    check_dead_letter_common(dl, &c.n, "poison");
    assert_int_equal(dl->num_delivered, 1);
    assert_string_equal(dl->reason_code, MED_R_INFRA_DECODE_FAILED);
    assert_non_null(strstr(dl->last_error, "poison payload"));
    assert_int_equal(dl->n_history, 1);
    assert_int_equal(dl->history[0]->attempt, 1);
    assert_int_equal(dl->history[0]->next_delay_ms, 0);
    assert_int_equal(outcome_count(&c.n, "dead_letter"), 1);
    assert_int_equal(outcome_count(&c.n, "nak"), 0);
    cf_script_free(s);
    dl_case_close(&c);
}

/* The history lives in the KV bucket, not in the process: a second
 * consumer process (restart, other replica) continues it. */
static void test_history_survives_a_restart(void **state)
{
    (void)state;
    dl_case c;
    dl_case_open(&c);
    med_consumer_opts o;
    cf_opts(&c.n, 2, 2000, &o);

    cf_script *first = cf_script_new(CF_RETRY_AND_STOP);
    cf_runner r1;
    cf_start(&r1, c.js, &o, first);
    cf_publish(c.js, &c.n, "outlives its consumer");
    wait_calls(first, 1, 5000);
    cf_stop(&r1, 2000);

    cf_script *second = cf_script_new(CF_ALWAYS_RETRY);
    cf_runner r2;
    cf_start(&r2, c.js, &o, second);
    Mediation__V1__DeadLetter *dl = c.dl = next_dead_letter(c.dlq, &c.raw);
    cf_stop(&r2, 2000);

    assert_int_equal(cf_calls(first), 1);
    assert_int_equal(cf_calls(second), 1);
    assert_int_equal(second->delivered[0], 2);
    assert_int_equal(dl->num_delivered, 2);
    assert_int_equal(dl->n_history, 2);
    assert_int_equal(dl->history[0]->attempt, 1);
    assert_int_equal(dl->history[0]->next_delay_ms, 100);
    assert_int_equal(dl->history[1]->attempt, 2);
    cf_script_free(first);
    cf_script_free(second);
    dl_case_close(&c);
}

static void test_stop_is_prompt_when_idle(void **state)
{
    (void)state;
    med_js *js = jst_connect();
    cf_names n;
    cf_names_init(&n);
    cf_script *s = cf_script_new(CF_ACK);
    med_consumer_opts o;
    cf_opts(&n, 3, 2000, &o);
    o.fetch_timeout_ms = 200;
    cf_runner r;
    cf_start(&r, js, &o, s);
    jst_sleep_ms(300);
    int64_t t0 = jst_now_ms();
    cf_stop(&r, 1000);
    int64_t took = jst_now_ms() - t0;
    if (took > 600) fail_msg("stop took %lld ms", (long long)took);
    assert_int_equal(cf_calls(s), 0);
    cf_delete_consumer(js, &n);
    cf_script_free(s);
    med_js_close(js);
}

static void test_stop_finishes_and_acks_the_batch(void **state)
{
    (void)state;
    med_js *js = jst_connect();
    cf_names n;
    cf_names_init(&n);
    for (int i = 0; i < 5; i++) cf_publish(js, &n, "batch");
    cf_script *s = cf_script_new(CF_ACK_AND_STOP); /* stop raised on the first */
    med_consumer_opts o;
    cf_opts(&n, 3, 5000, &o);
    cf_runner r;
    cf_start(&r, js, &o, s);
    wait_calls(s, 1, 5000);
    cf_stop(&r, 3000);
    assert_int_equal(cf_calls(s), 5);

    /* Right after the return, the server already has every ack. */
    jsConsumerInfo *ci = consumer_info(js, &n);
    assert_int_equal(ci->NumAckPending, 0);
    assert_int_equal(ci->NumPending, 0);
    assert_int_equal(ci->AckFloor.Consumer, 5);
    jsConsumerInfo_Destroy(ci);
    cf_delete_consumer(js, &n);
    cf_script_free(s);
    med_js_close(js);
}

static med_disposition ack_all(void *ud, natsMsg *msg, const med_delivery_info *info,
                               med_err *err)
{
    (void)ud;
    (void)msg;
    (void)info;
    (void)err;
    return MED_DISPOSE_ACK;
}

static void test_invalid_options_rejected(void **state)
{
    (void)state;
    med_js *js = jst_connect();
    cf_names n;
    cf_names_init(&n);
    med_consumer_opts o;
    cf_opts(&n, 3, 1000, &o);
    atomic_int stop = 0;
    med_err err;
    med_err_clear(&err);
    o.stage = "bad.stage"; /* cannot name a DLQ subject */
    assert_int_equal(med_consumer_run(js, &o, ack_all, NULL, &stop, &err), MED_ERR_INVALID);
    assert_string_equal(err.code, MED_R_CFG_INVALID_VALUE);
    assert_int_equal(med_consumer_run(js, &o, NULL, NULL, &stop, &err), MED_ERR_INVALID);

    /* A consumer that cannot be created at all is an error, not a hang. */
    o.stage = n.stage;
    o.stream = "MED_NO_SUCH_STREAM";
    int64_t t0 = jst_now_ms();
    med_err_clear(&err);
    assert_int_not_equal(med_consumer_run(js, &o, ack_all, NULL, &stop, &err), MED_OK);
    assert_true(jst_now_ms() - t0 < 6000);
    assert_true(strlen(err.message) > 0);
    med_js_close(js);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_success_is_acked_once),
        cmocka_unit_test(test_retry_twice_then_ack_honours_ladder),
        cmocka_unit_test(test_always_retry_dead_letters_once_with_history),
        cmocka_unit_test(test_fail_dead_letters_on_first_delivery),
        cmocka_unit_test(test_history_survives_a_restart),
        cmocka_unit_test(test_stop_is_prompt_when_idle),
        cmocka_unit_test(test_stop_finishes_and_acks_the_batch),
        cmocka_unit_test(test_invalid_options_rejected),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    nats_Close();
    return rc;
}
