/* Backoff ladder parsing, delays per delivery and the ack/nak/dead-letter
 * decision (common/src/backoff.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "med/backoff.h"
#include "med/reason.h"

static void test_parse_default_csv(void **state)
{
    (void)state;
    med_backoff b;
    med_err err;
    med_err_clear(&err);
    assert_int_equal(med_backoff_parse("1000,5000,30000,120000,600000", &b, &err), MED_OK);
    assert_int_equal(b.n, 5);
    const int64_t want[] = { 1000, 5000, 30000, 120000, 600000 };
    for (int i = 0; i < 5; i++) assert_int_equal(b.step_ms[i], want[i]);
}

static void test_parse_spaces_and_single(void **state)
{
    (void)state;
    med_backoff b;
    med_err err;
    assert_int_equal(med_backoff_parse(" 100 , 200,400 ", &b, &err), MED_OK);
    assert_int_equal(b.n, 3);
    assert_int_equal(b.step_ms[0], 100);
    assert_int_equal(b.step_ms[1], 200);
    assert_int_equal(b.step_ms[2], 400);
    assert_int_equal(med_backoff_parse("250", &b, &err), MED_OK);
    assert_int_equal(b.n, 1);
    assert_int_equal(b.step_ms[0], 250);
}

static void test_parse_max_steps(void **state)
{
    (void)state;
    char csv[256] = "";
    for (int i = 1; i <= MED_BACKOFF_MAX_STEPS; i++) {
        char part[16];
        snprintf(part, sizeof part, "%s%d", i > 1 ? "," : "", i * 10);
        strcat(csv, part);
    }
    med_backoff b;
    med_err err;
    assert_int_equal(med_backoff_parse(csv, &b, &err), MED_OK);
    assert_int_equal(b.n, MED_BACKOFF_MAX_STEPS);
    assert_int_equal(b.step_ms[MED_BACKOFF_MAX_STEPS - 1], MED_BACKOFF_MAX_STEPS * 10);
    strcat(csv, ",999");
    med_err_clear(&err);
    assert_int_equal(med_backoff_parse(csv, &b, &err), MED_ERR_INVALID);
    assert_string_equal(err.code, MED_R_CFG_INVALID_VALUE);
}

static void test_parse_invalid(void **state)
{
    (void)state;
    const char *bad[] = {
        "", "   ", "abc", "100,", ",100", "100,,200", "0", "-5", "+5", "100,x",
        "1.5", "100;200", "99999999999999999999999", "100 200", "5,0",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        med_backoff b = { .step_ms = { 7 }, .n = 1 };
        med_err err;
        med_err_clear(&err);
        assert_int_equal(med_backoff_parse(bad[i], &b, &err), MED_ERR_INVALID);
        assert_string_equal(err.code, MED_R_CFG_INVALID_VALUE);
        assert_true(strlen(err.message) > 0);
        /* A rejected ladder leaves the previous one untouched. */
        assert_int_equal(b.n, 1);
        assert_int_equal(b.step_ms[0], 7);
    }
    med_backoff b;
    med_err err;
    med_err_clear(&err);
    assert_int_equal(med_backoff_parse(NULL, &b, &err), MED_ERR_INVALID);
    assert_string_equal(err.code, MED_R_CFG_INVALID_VALUE);
}

static void test_default_ladder(void **state)
{
    (void)state;
    med_backoff b;
    med_backoff_default(&b);
    assert_int_equal(b.n, 5);
    assert_int_equal(b.step_ms[0], 1000);
    assert_int_equal(b.step_ms[1], 5000);
    assert_int_equal(b.step_ms[2], 30000);
    assert_int_equal(b.step_ms[3], 120000);
    assert_int_equal(b.step_ms[4], 600000);
}

static void test_delay_per_delivery(void **state)
{
    (void)state;
    med_backoff b;
    med_backoff_default(&b);
    assert_int_equal(med_backoff_delay_ms(&b, 1), 1000);
    assert_int_equal(med_backoff_delay_ms(&b, 2), 5000);
    assert_int_equal(med_backoff_delay_ms(&b, 3), 30000);
    assert_int_equal(med_backoff_delay_ms(&b, 4), 120000);
    assert_int_equal(med_backoff_delay_ms(&b, 5), 600000);
    /* past the end: the last step repeats */
    assert_int_equal(med_backoff_delay_ms(&b, 6), 600000);
    assert_int_equal(med_backoff_delay_ms(&b, 1000), 600000);
    assert_int_equal(med_backoff_delay_ms(&b, UINT64_MAX), 600000);
    /* 0 is not a delivery number; treated as the first */
    assert_int_equal(med_backoff_delay_ms(&b, 0), 1000);

    med_backoff s;
    med_err err;
    assert_int_equal(med_backoff_parse("100,200,400", &s, &err), MED_OK);
    assert_int_equal(med_backoff_delay_ms(&s, 1), 100);
    assert_int_equal(med_backoff_delay_ms(&s, 2), 200);
    assert_int_equal(med_backoff_delay_ms(&s, 3), 400);
    assert_int_equal(med_backoff_delay_ms(&s, 4), 400);

    med_backoff empty = { .n = 0 };
    assert_int_equal(med_backoff_delay_ms(&empty, 2), 5000);
    assert_int_equal(med_backoff_delay_ms(NULL, 1), 1000);
}

typedef struct decide_case {
    med_disposition d;
    uint64_t delivered;
    int max_deliver;
    med_next_action want;
} decide_case;

static void test_retry_decide_table(void **state)
{
    (void)state;
    const decide_case cases[] = {
        /* ACK always acks, whatever the delivery number */
        { MED_DISPOSE_ACK, 1, 3, MED_NEXT_ACK },
        { MED_DISPOSE_ACK, 3, 3, MED_NEXT_ACK },
        { MED_DISPOSE_ACK, 4, 3, MED_NEXT_ACK },
        /* RETRY naks below max_deliver, dead-letters at and above it */
        { MED_DISPOSE_RETRY, 1, 3, MED_NEXT_NAK },
        { MED_DISPOSE_RETRY, 2, 3, MED_NEXT_NAK },
        { MED_DISPOSE_RETRY, 3, 3, MED_NEXT_DEAD_LETTER },
        { MED_DISPOSE_RETRY, 4, 3, MED_NEXT_DEAD_LETTER },
        { MED_DISPOSE_RETRY, 1, 1, MED_NEXT_DEAD_LETTER },
        /* FAIL dead-letters at once */
        { MED_DISPOSE_FAIL, 1, 3, MED_NEXT_DEAD_LETTER },
        { MED_DISPOSE_FAIL, 3, 3, MED_NEXT_DEAD_LETTER },
        { MED_DISPOSE_FAIL, 4, 3, MED_NEXT_DEAD_LETTER },
        /* max_deliver <= 0 means the default of 5 */
        { MED_DISPOSE_RETRY, 4, 0, MED_NEXT_NAK },
        { MED_DISPOSE_RETRY, 5, 0, MED_NEXT_DEAD_LETTER },
        { MED_DISPOSE_RETRY, 4, -1, MED_NEXT_NAK },
        /* garbage from a buggy handler is parked, not acked */
        { (med_disposition)42, 1, 3, MED_NEXT_DEAD_LETTER },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const decide_case *c = &cases[i];
        med_next_action got = med_retry_decide(c->d, c->delivered, c->max_deliver);
        if (got != c->want)
            fail_msg("case %zu: disposition %d delivered %llu max %d -> %d, want %d", i,
                     (int)c->d, (unsigned long long)c->delivered, c->max_deliver, (int)got,
                     (int)c->want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_default_csv),
        cmocka_unit_test(test_parse_spaces_and_single),
        cmocka_unit_test(test_parse_max_steps),
        cmocka_unit_test(test_parse_invalid),
        cmocka_unit_test(test_default_ladder),
        cmocka_unit_test(test_delay_per_delivery),
        cmocka_unit_test(test_retry_decide_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
