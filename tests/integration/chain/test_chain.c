/* Transport guarantees of the request path, through the real binaries:
 * trace headers and hops from the edge to the stored Delivery, nothing
 * lost when stages are killed mid-stream, retries and dead letters with
 * their history, clean SIGTERM, readiness following Redis. The world (its
 * own infra, fake networks, H with the demo config, edge, A..E, G) is
 * tests/harness/harness_world.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <cmocka.h>
#include <nats/nats.h>

#include "harness_http.h"
#include "harness_world.h"
#include "med/ids.h"
#include "med/names.h"
#include "med/reason.h"
#include "mediation/v1/delivery.pb-c.h"
#include "mediation/v1/dlq.pb-c.h"
#include "mediation/v1/opportunity.pb-c.h"

typedef th_world world;
enum { P_EDGE = TH_P_EDGE, P_A = TH_P_A, P_B = TH_P_B, P_C = TH_P_C, P_D = TH_P_D, P_E = TH_P_E };

static void start_and_wait(th_proc *p)
{
    th_proc_start_ready(p);
}

static int setup(void **state)
{
    return th_world_setup(state, "chain", NULL);
}

static uint64_t stream_last_seq(world *w, const char *stream)
{
    return th_stream_last_seq(w->js, stream);
}

static char *random_hex(char *out, int n)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < n; i++) out[i] = hex[rand() % 16];
    out[n] = '\0';
    return out;
}

/* A valid SDK body (times near now, so A's skew checks pass). */
static char *opportunity_body(const char *session, const char *client_request_id)
{
    char at[32];
    med_format_utc_ms(med_now_unix_ms() - 100, at, sizeof at);
    char *b = NULL;
    int n = asprintf(&b,
                     "{\"placementId\":\"plc_feed\",\"sdkVersion\":\"2.1.0\","
                     "\"ingressEnvelopeVersion\":\"ingress_v1\","
                     "\"triggerContractVersion\":\"a_trigger_v1\"%s%s%s,"
                     "\"appContext\":{\"appId\":\"app_demo\",\"sessionId\":\"%s\","
                     "\"channelType\":\"app\",\"requestAt\":\"%s\","
                     "\"session_state\":\"active\",\"privacy_status\":\"consent_granted\"},"
                     "\"triggerContext\":{\"triggerType\":\"answer_end\",\"triggerAt\":\"%s\"}}",
                     client_request_id ? ",\"clientRequestId\":\"" : "",
                     client_request_id ? client_request_id : "", client_request_id ? "\"" : "",
                     session, at, at);
    assert_true(n > 0);
    return b;
}

static void assert_header_eq(natsMsg *m, const char *name, const char *want)
{
    const char *v = NULL;
    if (natsMsgHeader_Get(m, name, &v) != NATS_OK) fail_msg("header %s missing", name);
    assert_string_equal(v, want);
}

static void request_crosses_all_five_stages(void **state)
{
    world *w = *state;
    uint64_t start = stream_last_seq(w, MED_STREAM_DELIVERY) + 1;
    char trace_id[33], span[17], tp[80], tph[100], url[128];
    snprintf(tp, sizeof tp, "00-%s-%s-01", random_hex(trace_id, 32), random_hex(span, 16));
    snprintf(tph, sizeof tph, "traceparent: %s", tp);
    const char *hdrs[] = { "Content-Type: application/json", tph, NULL };
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/opportunities", w->edge_port);

    th_http_resp r;
    char sess[40];
    snprintf(sess, sizeof sess, "sess_hops_%s", random_hex(span, 8));
    char *body = opportunity_body(sess, NULL);
    assert_int_equal(th_http("POST", url, hdrs, body, strlen(body), 10000, &r), 0);
    free(body);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"responseReference\":\"resp_"));
    assert_non_null(strstr(r.body, "\"status\":\"served\""));

    char got_tp[128], trace_key[128], request_key[128], tenant[64], app[64], plc[64];
    assert_int_equal(th_http_header(&r, MED_HDR_TRACEPARENT, got_tp, sizeof got_tp), 0);
    assert_int_equal(strncmp(got_tp + 3, trace_id, 32), 0); /* trace id unchanged */
    assert_int_equal(th_http_header(&r, MED_HDR_TRACE_KEY, trace_key, sizeof trace_key), 0);
    assert_int_equal(th_http_header(&r, MED_HDR_REQUEST_KEY, request_key, sizeof request_key), 0);
    assert_int_equal(th_http_header(&r, MED_HDR_TENANT, tenant, sizeof tenant), 0);
    assert_int_equal(th_http_header(&r, MED_HDR_APP, app, sizeof app), 0);
    assert_int_equal(th_http_header(&r, MED_HDR_PLACEMENT, plc, sizeof plc), 0);
    assert_string_equal(app, "app_demo");
    assert_string_equal(plc, "plc_feed");
    th_http_free(&r);

    /* The durable copy in MED_DELIVERY carries the same headers and the
     * hop of every stage, in order. */
    natsSubscription *sub = th_stream_reader(w->js, MED_SUBJ_DELIVERY, start);
    natsMsg *m = NULL;
    int found = 0;
    while (!found && natsSubscription_NextMsg(&m, sub, 5000) == NATS_OK) {
        const char *rk = NULL;
        if (natsMsgHeader_Get(m, MED_HDR_REQUEST_KEY, &rk) == NATS_OK && strcmp(rk, request_key) == 0) {
            found = 1;
            assert_header_eq(m, MED_HDR_TRACE_KEY, trace_key);
            assert_header_eq(m, MED_HDR_TENANT, tenant);
            assert_header_eq(m, MED_HDR_APP, "app_demo");
            assert_header_eq(m, MED_HDR_PLACEMENT, "plc_feed");
            const char *mtp = NULL;
            assert_int_equal(natsMsgHeader_Get(m, MED_HDR_TRACEPARENT, &mtp), NATS_OK);
            assert_int_equal(strncmp(mtp + 3, trace_id, 32), 0);
            Mediation__V1__Delivery *d = mediation__v1__delivery__unpack(
                NULL, (size_t)natsMsg_GetDataLength(m), (const uint8_t *)natsMsg_GetData(m));
            assert_non_null(d);
            assert_non_null(d->trace);
            assert_int_equal(d->trace->n_hops, 5);
            const char *want[] = { "a", "b", "c", "d", "e" };
            for (int i = 0; i < 5; i++) assert_string_equal(d->trace->hops[i]->stage, want[i]);
            assert_string_equal(d->trace->trace_key, trace_key);
            mediation__v1__delivery__free_unpacked(d, NULL);
        }
        natsMsg_Destroy(m);
    }
    natsSubscription_Destroy(sub);
    assert_true(found);
}

/* One request of client_request_id straight onto med.a.request.v1;
 * request_key gets the key A mints for it. */
static void publish_request(world *w, const char *client_request_id, char *request_key,
                            size_t cap)
{
    char *body = opportunity_body(client_request_id, client_request_id);
    th_publish_opportunity_request(w->js, w->tenant, body, client_request_id, request_key, cap);
    free(body);
}

/* Counts how often each of keys[] appears in the stream's deliveries. */
static void count_deliveries(world *w, uint64_t start, char keys[][64], int *counts, int n,
                             int timeout_ms)
{
    natsSubscription *sub = th_stream_reader(w->js, MED_SUBJ_DELIVERY, start);
    long long end = th_now_ms() + timeout_ms;
    int distinct = 0;
    natsMsg *m = NULL;
    while (th_now_ms() < end) {
        if (natsSubscription_NextMsg(&m, sub, 500) != NATS_OK) {
            if (distinct == n) break; /* all seen and the stream went quiet */
            continue;
        }
        const char *rk = NULL;
        if (natsMsgHeader_Get(m, MED_HDR_REQUEST_KEY, &rk) == NATS_OK)
            for (int i = 0; i < n; i++)
                if (strcmp(rk, keys[i]) == 0 && counts[i]++ == 0) distinct++;
        natsMsg_Destroy(m);
    }
    natsSubscription_Destroy(sub);
}

static void killed_stages_lose_nothing(void **state)
{
    world *w = *state;
    enum { N = 40 };
    char keys[N][64], rnd[9];
    int counts[N] = { 0 };
    random_hex(rnd, 8);
    uint64_t start = stream_last_seq(w, MED_STREAM_DELIVERY) + 1;

    /* D is down while the first half is queued behind it. */
    th_proc_stop(&w->procs[P_D], SIGKILL, 2000);
    char cid[64];
    for (int i = 0; i < N / 2; i++) {
        snprintf(cid, sizeof cid, "cli_kill_%s_%02d", rnd, i);
        publish_request(w, cid, keys[i], sizeof keys[i]);
    }
    th_sleep_ms(300);
    start_and_wait(&w->procs[P_D]);
    /* C dies mid-stream with work in flight; its unacked messages come back
     * after the ack wait. */
    for (int i = N / 2; i < N; i++) {
        snprintf(cid, sizeof cid, "cli_kill_%s_%02d", rnd, i);
        publish_request(w, cid, keys[i], sizeof keys[i]);
        if (i == N / 2 + 5) th_proc_stop(&w->procs[P_C], SIGKILL, 2000);
    }
    th_sleep_ms(200);
    start_and_wait(&w->procs[P_C]);

    count_deliveries(w, start, keys, counts, N, 30000);
    for (int i = 0; i < N; i++)
        if (counts[i] != 1) fail_msg("%s delivered %d times, want exactly 1", keys[i], counts[i]);
}

static Mediation__V1__DeadLetter *await_dead_letter(world *w, uint64_t start,
                                                    const char *request_key, int timeout_ms)
{
    natsSubscription *sub = th_stream_reader(w->js, "med.dlq.b.v1", start);
    long long end = th_now_ms() + timeout_ms;
    Mediation__V1__DeadLetter *found = NULL;
    natsMsg *m = NULL;
    while (!found && th_now_ms() < end) {
        if (natsSubscription_NextMsg(&m, sub, 500) != NATS_OK) continue;
        Mediation__V1__DeadLetter *dl = mediation__v1__dead_letter__unpack(
            NULL, (size_t)natsMsg_GetDataLength(m), (const uint8_t *)natsMsg_GetData(m));
        natsMsg_Destroy(m);
        if (!dl) continue;
        for (size_t i = 0; i < dl->n_headers; i++)
            if (strcmp(dl->headers[i]->key, MED_HDR_REQUEST_KEY) == 0 &&
                strcmp(dl->headers[i]->value, request_key) == 0)
                found = dl;
        if (!found) mediation__v1__dead_letter__free_unpacked(dl, NULL);
    }
    natsSubscription_Destroy(sub);
    return found;
}

static void publish_seed_with_fault(world *w, const char *request_key, const char *fault,
                                    uint8_t *buf, size_t *n)
{
    Mediation__V1__TraceContext tc;
    mediation__v1__trace_context__init(&tc);
    tc.request_key = (char *)request_key;
    Mediation__V1__OpportunitySeed seed;
    mediation__v1__opportunity_seed__init(&seed);
    seed.trace = &tc;
    *n = mediation__v1__opportunity_seed__pack(&seed, buf);
    natsMsg *m = NULL;
    assert_int_equal(natsMsg_Create(&m, MED_SUBJ_B_SEED, NULL, (const char *)buf, (int)*n), NATS_OK);
    natsMsgHeader_Set(m, MED_HDR_REQUEST_KEY, request_key);
    natsMsgHeader_Set(m, MED_HDR_TRACE_KEY, request_key);
    natsMsgHeader_Set(m, MED_HDR_FAULT, fault);
    jsPubAck *ack = NULL;
    jsErrCode jerr = 0;
    assert_int_equal(js_PublishMsg(&ack, w->js, m, NULL, &jerr), NATS_OK);
    jsPubAck_Destroy(ack);
    natsMsg_Destroy(m);
}

static void always_failing_message_lands_in_dlq_with_history(void **state)
{
    world *w = *state;
    char rnd[9], key[64];
    snprintf(key, sizeof key, "req_dlq_%s", random_hex(rnd, 8));
    uint64_t start = stream_last_seq(w, MED_STREAM_DLQ) + 1;
    uint8_t payload[256];
    size_t n = 0;
    publish_seed_with_fault(w, key, "b:retry", payload, &n);

    Mediation__V1__DeadLetter *dl = await_dead_letter(w, start, key, 15000);
    if (!dl) fail_msg("no dead letter for %s", key);
    assert_string_equal(dl->stage, "b");
    assert_string_equal(dl->failed_subject, MED_SUBJ_B_SEED);
    assert_int_equal(dl->num_delivered, 3);
    assert_int_equal(dl->n_history, 3);
    for (size_t i = 0; i < dl->n_history; i++) {
        assert_int_equal(dl->history[i]->attempt, i + 1);
        assert_string_equal(dl->history[i]->error_code, MED_R_INFRA_FAULT_INJECTED);
    }
    assert_true(dl->history[0]->at_unix_ms <= dl->history[2]->at_unix_ms);
    assert_true(dl->reason_code && *dl->reason_code);
    assert_int_equal(dl->payload.len, n);
    assert_memory_equal(dl->payload.data, payload, n);
    mediation__v1__dead_letter__free_unpacked(dl, NULL);
}

static void permanent_failure_is_dead_lettered_at_once(void **state)
{
    world *w = *state;
    char rnd[9], key[64];
    snprintf(key, sizeof key, "req_dlqp_%s", random_hex(rnd, 8));
    uint64_t start = stream_last_seq(w, MED_STREAM_DLQ) + 1;
    uint8_t payload[256];
    size_t n = 0;
    publish_seed_with_fault(w, key, "b:fail", payload, &n);
    Mediation__V1__DeadLetter *dl = await_dead_letter(w, start, key, 10000);
    if (!dl) fail_msg("no dead letter for %s", key);
    assert_int_equal(dl->num_delivered, 1);
    mediation__v1__dead_letter__free_unpacked(dl, NULL);
}

static void readyz_follows_redis(void **state)
{
    world *w = *state;
    char body[512];
    int port = w->procs[P_A].admin_port;
    assert_int_equal(th_await_readyz(port, 200, body, sizeof body, 5000), 200);
    assert_int_equal(th_infra("stop-one", "redis"), 0);
    long st = th_await_readyz(port, 503, body, sizeof body, 10000);
    int restarted = th_infra("start-one", "redis");
    assert_int_equal(st, 503);
    assert_non_null(strstr(body, "redis"));
    assert_int_equal(restarted, 0);
    assert_int_equal(th_await_readyz(port, 200, body, sizeof body, 10000), 200);
}

static void sigterm_stops_a_stage_cleanly(void **state)
{
    world *w = *state;
    int status = th_proc_stop(&w->procs[P_B], SIGTERM, 10000);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    start_and_wait(&w->procs[P_B]);
}

int main(void)
{
    srand((unsigned)th_now_ms());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(request_crosses_all_five_stages),
        cmocka_unit_test(killed_stages_lose_nothing),
        cmocka_unit_test(always_failing_message_lands_in_dlq_with_history),
        cmocka_unit_test(permanent_failure_is_dead_lettered_at_once),
        cmocka_unit_test(sigterm_stops_a_stage_cleanly),
        cmocka_unit_test(readyz_follows_redis),
    };
    return cmocka_run_group_tests(tests, setup, th_world_teardown);
}
