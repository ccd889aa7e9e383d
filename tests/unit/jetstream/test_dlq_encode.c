/* DeadLetter encoding (common/src/dlq.c): every field of the protobuf,
 * from a natsMsg built in memory, decoded back with protobuf-c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <nats/nats.h>

#include "mediation/v1/dlq.pb-c.h"
#include "med/dlq.h"
#include "med/ids.h"
#include "med/names.h"
#include "med/reason.h"

#define TP "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
static const uint8_t payload[] = { 0x0a, 0x03, 'a', 'b', 'c', 0x00, 0xff, 0x10, 0x01 };

static const struct { const char *k, *v; } hdrs[] = {
    { MED_HDR_TRACEPARENT, TP },
    { MED_HDR_TRACE_KEY, "tr_0123456789abcdef" },
    { MED_HDR_REQUEST_KEY, "req_0123456789abcdef" },
    { MED_HDR_OPPORTUNITY_KEY, "opp_0123456789abcdef" },
    { MED_HDR_TENANT, "tenant_7" },
    { MED_HDR_APP, "app_demo" },
    { MED_HDR_PLACEMENT, "plc_feed" },
    { MED_HDR_ANCHOR_HASH, "anc_42" },
    { MED_HDR_MSG_ID, "c:req_0123456789abcdef" },
    { "X-Other", "kept too" },
};
#define N_HDRS (sizeof hdrs / sizeof hdrs[0])

static natsMsg *failed_msg(int with_headers)
{
    natsMsg *m = NULL;
    assert_int_equal(natsMsg_Create(&m, MED_SUBJ_C_NORMALIZED, NULL, (const char *)payload,
                                    (int)sizeof payload), NATS_OK);
    for (size_t i = 0; with_headers && i < N_HDRS; i++)
        assert_int_equal(natsMsgHeader_Set(m, hdrs[i].k, hdrs[i].v), NATS_OK);
    return m;
}

static void three_attempts(med_retry_history *h)
{
    memset(h, 0, sizeof *h);
    for (int i = 0; i < 3; i++) {
        med_retry_attempt *a = &h->attempts[h->n++];
        a->attempt = (uint32_t)i + 1;
        a->at_unix_ms = 1700000000000 + i * 1000;
        strcpy(a->error_code, i == 2 ? MED_R_INFRA_PG_UNAVAILABLE : MED_R_INFRA_FAULT_INJECTED);
        strcpy(a->error_message, i == 2 ? "pg down" : "transient");
        a->next_delay_ms = i == 2 ? 0 : (i + 1) * 100;
    }
}

static const char *map_get(const Mediation__V1__DeadLetter *dl, const char *key)
{
    for (size_t i = 0; i < dl->n_headers; i++)
        if (strcmp(dl->headers[i]->key, key) == 0) return dl->headers[i]->value;
    return NULL;
}

static Mediation__V1__DeadLetter *encode_decode(natsMsg *m, const med_delivery_info *info,
                                                const med_retry_history *h)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    med_err err;
    med_err_clear(&err);
    assert_int_equal(med_dlq_encode("c", m, info, MED_R_INFRA_MAX_DELIVER, "pg down", h, &buf,
                                    &len, &err), MED_OK);
    assert_non_null(buf);
    assert_true(len > 0);
    Mediation__V1__DeadLetter *dl = mediation__v1__dead_letter__unpack(NULL, len, buf);
    free(buf);
    assert_non_null(dl);
    return dl;
}

static void test_encode_every_field(void **state)
{
    (void)state;
    natsMsg *m = failed_msg(1);
    med_delivery_info info = { .stream_seq = 4242, .consumer_seq = 17, .num_delivered = 3,
                               .published_unix_ns = 1, .stream = MED_STREAM_CHAIN,
                               .consumer = "stage_c" };
    med_retry_history h;
    three_attempts(&h);
    int64_t before = med_now_unix_ms();
    Mediation__V1__DeadLetter *dl = encode_decode(m, &info, &h);
    int64_t after = med_now_unix_ms();

    assert_string_equal(dl->stage, "c");
    assert_string_equal(dl->failed_subject, MED_SUBJ_C_NORMALIZED);
    assert_string_equal(dl->stream, MED_STREAM_CHAIN);
    assert_int_equal(dl->stream_seq, 4242);
    assert_string_equal(dl->consumer, "stage_c");
    assert_string_equal(dl->reason_code, MED_R_INFRA_MAX_DELIVER);
    assert_string_equal(dl->last_error, "pg down");
    assert_int_equal(dl->num_delivered, 3);
    assert_true(dl->dead_at_unix_ms >= before && dl->dead_at_unix_ms <= after);
    assert_string_equal(dl->msg_id, "c:req_0123456789abcdef");
    assert_string_equal(dl->tenant_id, "tenant_7");
    assert_int_equal(dl->payload.len, sizeof payload);
    assert_memory_equal(dl->payload.data, payload, sizeof payload);

    assert_non_null(dl->trace);
    assert_string_equal(dl->trace->traceparent, TP);
    assert_string_equal(dl->trace->trace_key, "tr_0123456789abcdef");
    assert_string_equal(dl->trace->request_key, "req_0123456789abcdef");
    assert_string_equal(dl->trace->opportunity_key, "opp_0123456789abcdef");
    assert_string_equal(dl->trace->tenant_id, "tenant_7");
    assert_string_equal(dl->trace->app_id, "app_demo");
    assert_string_equal(dl->trace->placement_id, "plc_feed");
    assert_string_equal(dl->trace->anchor_hash, "anc_42");

    assert_int_equal(dl->n_history, 3);
    for (size_t i = 0; i < 3; i++) {
        const Mediation__V1__RetryAttempt *a = dl->history[i];
        assert_int_equal(a->attempt, i + 1);
        assert_int_equal(a->at_unix_ms, 1700000000000 + (int64_t)i * 1000);
        assert_string_equal(a->error_code, h.attempts[i].error_code);
        assert_string_equal(a->error_message, h.attempts[i].error_message);
        assert_int_equal(a->next_delay_ms, h.attempts[i].next_delay_ms);
    }

    assert_int_equal(dl->n_headers, N_HDRS);
    for (size_t i = 0; i < N_HDRS; i++) {
        const char *v = map_get(dl, hdrs[i].k);
        assert_non_null(v);
        assert_string_equal(v, hdrs[i].v);
    }
    mediation__v1__dead_letter__free_unpacked(dl, NULL);
    natsMsg_Destroy(m);
}

static void test_encode_without_headers_or_history(void **state)
{
    (void)state;
    natsMsg *m = failed_msg(0);
    med_delivery_info info = { .stream_seq = 1, .num_delivered = 1, .stream = MED_STREAM_EVENTS,
                               .consumer = "stage_f" };
    Mediation__V1__DeadLetter *dl = encode_decode(m, &info, NULL);
    assert_int_equal(dl->n_headers, 0);
    assert_int_equal(dl->n_history, 0);
    assert_string_equal(dl->tenant_id, "");
    assert_string_equal(dl->msg_id, "");
    assert_non_null(dl->trace);
    assert_string_equal(dl->trace->trace_key, "");
    assert_int_equal(dl->payload.len, sizeof payload);
    mediation__v1__dead_letter__free_unpacked(dl, NULL);
    natsMsg_Destroy(m);
}

static void test_encode_rejects_missing_input(void **state)
{
    (void)state;
    uint8_t *buf = (uint8_t *)"x";
    size_t len = 9;
    med_err err;
    med_err_clear(&err);
    assert_int_equal(med_dlq_encode("c", NULL, NULL, "r", "e", NULL, &buf, &len, &err),
                     MED_ERR_INVALID);
    assert_null(buf);
    assert_int_equal(len, 0);
    assert_string_equal(err.code, MED_R_INFRA_ENCODE_FAILED);
    natsMsg *m = failed_msg(0);
    assert_int_equal(med_dlq_encode("", m, NULL, "r", "e", NULL, &buf, &len, &err),
                     MED_ERR_INVALID);
    natsMsg_Destroy(m);
}

static void test_dlq_subject(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(med_dlq_subject("a", out, sizeof out), 0);
    assert_string_equal(out, "med.dlq.a.v1");
    assert_int_equal(med_dlq_subject("edge", out, sizeof out), 0);
    assert_string_equal(out, "med.dlq.edge.v1");
    assert_int_equal(med_dlq_subject("a.b", out, sizeof out), -1);
    assert_int_equal(med_dlq_subject("*", out, sizeof out), -1);
    assert_int_equal(med_dlq_subject("", out, sizeof out), -1);
    assert_int_equal(med_dlq_subject(NULL, out, sizeof out), -1);
    char tiny[8];
    assert_int_equal(med_dlq_subject("a", tiny, sizeof tiny), -1);
}

/* natsMsg_Destroy needs the library's garbage collector running. */
static int setup_nats(void **state)
{
    (void)state;
    return nats_Open(-1) == NATS_OK ? 0 : -1;
}

static int teardown_nats(void **state)
{
    (void)state;
    nats_Close();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_every_field),
        cmocka_unit_test(test_encode_without_headers_or_history),
        cmocka_unit_test(test_encode_rejects_missing_input),
        cmocka_unit_test(test_dlq_subject),
    };
    return cmocka_run_group_tests(tests, setup_nats, teardown_nats);
}
