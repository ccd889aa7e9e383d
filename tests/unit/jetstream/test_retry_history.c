/* Retry history bookkeeping and its KV value encoding
 * (common/src/retry_history.c); the KV round trip itself is covered by the
 * consumer integration test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mediation/v1/dlq.pb-c.h"
#include "med/reason.h"
#include "med/retry_history.h"

static void add(med_retry_history *h, uint32_t n)
{
    med_retry_attempt a;
    med_retry_attempt_set(&a, n, 1000 * (int64_t)n, MED_R_INFRA_FAULT_INJECTED, "boom",
                          (int64_t)n * 10);
    med_retry_history_append(h, &a);
}

static void test_key(void **state)
{
    (void)state;
    char key[64];
    assert_int_equal(med_retry_history_key("c", "MED_CHAIN", 99, key, sizeof key), 0);
    assert_string_equal(key, "c.MED_CHAIN.99");
    assert_int_equal(med_retry_history_key("", "MED_CHAIN", 1, key, sizeof key), -1);
    assert_int_equal(med_retry_history_key("c", NULL, 1, key, sizeof key), -1);
    char tiny[6];
    assert_int_equal(med_retry_history_key("c", "MED_CHAIN", 1, tiny, sizeof tiny), -1);
}

static void test_attempt_set_truncates(void **state)
{
    (void)state;
    char long_msg[600];
    memset(long_msg, 'x', sizeof long_msg - 1);
    long_msg[sizeof long_msg - 1] = '\0';
    med_retry_attempt a;
    med_retry_attempt_set(&a, 2, 5, NULL, long_msg, 7);
    assert_int_equal(a.attempt, 2);
    assert_string_equal(a.error_code, "");
    assert_int_equal(strlen(a.error_message), sizeof a.error_message - 1);
    assert_int_equal(a.next_delay_ms, 7);
}

static void test_append_drops_oldest_when_full(void **state)
{
    (void)state;
    med_retry_history h = { .n = 0 };
    for (uint32_t i = 1; i <= MED_DLQ_HISTORY_MAX + 3; i++) add(&h, i);
    assert_int_equal(h.n, MED_DLQ_HISTORY_MAX);
    assert_int_equal(h.attempts[0].attempt, 4);
    assert_int_equal(h.attempts[MED_DLQ_HISTORY_MAX - 1].attempt, MED_DLQ_HISTORY_MAX + 3);
}

static void test_keep_before(void **state)
{
    (void)state;
    med_retry_history h = { .n = 0 };
    add(&h, 1);
    add(&h, 2);
    add(&h, 5); /* stale, from a later delivery of an earlier message */
    add(&h, 3);
    med_retry_history_keep_before(&h, 3);
    assert_int_equal(h.n, 2);
    assert_int_equal(h.attempts[0].attempt, 1);
    assert_int_equal(h.attempts[1].attempt, 2);
    med_retry_history_keep_before(&h, 1);
    assert_int_equal(h.n, 0);
}

static void test_encode_decode_roundtrip(void **state)
{
    (void)state;
    med_retry_history h = { .n = 0 };
    add(&h, 1);
    add(&h, 2);
    add(&h, 3);
    uint8_t *buf = NULL;
    size_t len = 0;
    med_err err;
    med_err_clear(&err);
    assert_int_equal(med_retry_history_encode(&h, &buf, &len, &err), MED_OK);
    assert_non_null(buf);

    /* The value is readable with dlq.proto as a DeadLetter's history. */
    Mediation__V1__DeadLetter *dl = mediation__v1__dead_letter__unpack(NULL, len, buf);
    assert_non_null(dl);
    assert_int_equal(dl->n_history, 3);
    assert_int_equal(dl->history[2]->attempt, 3);
    assert_string_equal(dl->history[1]->error_message, "boom");
    mediation__v1__dead_letter__free_unpacked(dl, NULL);

    med_retry_history back;
    assert_int_equal(med_retry_history_decode(buf, len, &back, &err), MED_OK);
    free(buf);
    assert_int_equal(back.n, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(back.attempts[i].attempt, (uint32_t)i + 1);
        assert_int_equal(back.attempts[i].at_unix_ms, 1000 * (i + 1));
        assert_string_equal(back.attempts[i].error_code, MED_R_INFRA_FAULT_INJECTED);
        assert_string_equal(back.attempts[i].error_message, "boom");
        assert_int_equal(back.attempts[i].next_delay_ms, 10 * (i + 1));
    }
}

static void test_empty_and_garbage(void **state)
{
    (void)state;
    med_retry_history h = { .n = 0 };
    uint8_t *buf = (uint8_t *)"x";
    size_t len = 5;
    med_err err;
    med_err_clear(&err);
    assert_int_equal(med_retry_history_encode(&h, &buf, &len, &err), MED_OK);
    assert_null(buf);
    assert_int_equal(len, 0);
    med_retry_history back = { .n = 9 };
    assert_int_equal(med_retry_history_decode(NULL, 0, &back, &err), MED_OK);
    assert_int_equal(back.n, 0);
    const uint8_t garbage[] = { 0x52, 0x7f, 0x01 }; /* length past the end */
    assert_int_equal(med_retry_history_decode(garbage, sizeof garbage, &back, &err),
                     MED_ERR_INVALID);
    assert_string_equal(err.code, MED_R_INFRA_DECODE_FAILED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key),
        cmocka_unit_test(test_attempt_set_truncates),
        cmocka_unit_test(test_append_drops_oldest_when_full),
        cmocka_unit_test(test_keep_before),
        cmocka_unit_test(test_encode_decode_roundtrip),
        cmocka_unit_test(test_empty_and_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
