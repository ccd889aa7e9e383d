#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "fake_rtb.h"

static const char k_req[] = "{\"id\":\"req-1\",\"imp\":[{\"id\":\"imp-0\",\"banner\":{\"w\":320,\"h\":50}}]}";
static const fake_behavior k_base = { .kind = FAKE_FILL, .price = 1.0, .delay_ms = 1000,
                                      .oversized_bytes = 4096 };

static void behavior_specs_parse(void **state)
{
    (void)state;
    fake_behavior b;
    assert_int_equal(fake_behavior_parse("fill;price=2.5", &k_base, &b), 0);
    assert_int_equal(b.kind, FAKE_FILL);
    assert_true(b.price > 2.49 && b.price < 2.51);
    assert_int_equal(fake_behavior_parse("delay;ms=800", &k_base, &b), 0);
    assert_int_equal(b.kind, FAKE_DELAY);
    assert_int_equal(b.delay_ms, 800);
    assert_true(b.price > 0.99 && b.price < 1.01); /* kept from base */
    assert_int_equal(fake_behavior_parse("oversized;bytes=2097152", &k_base, &b), 0);
    assert_int_equal(b.oversized_bytes, 2097152);
    assert_int_equal(fake_behavior_parse("teleport", &k_base, &b), -1);
    assert_int_equal(fake_behavior_parse("fill;price=-1", &k_base, &b), -1);
    assert_int_equal(fake_behavior_parse("delay;ms=abc", &k_base, &b), -1);
    assert_int_equal(fake_behavior_parse("fill;colour=red", &k_base, &b), -1);
}

static void fill_answers_one_bid_for_the_imp(void **state)
{
    (void)state;
    fake_behavior b;
    fake_behavior_parse("fill;price=3.25", &k_base, &b);
    fake_answer a;
    assert_int_equal(fake_answer_build(k_req, strlen(k_req), &b, "net_a", &a), 0);
    assert_int_equal(a.status, 200);
    assert_int_equal(a.delay_ms, 0);
    json_error_t e;
    json_t *j = json_loadb(a.body, a.len, 0, &e);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "id")), "req-1");
    json_t *sb = json_array_get(json_object_get(j, "seatbid"), 0);
    assert_string_equal(json_string_value(json_object_get(sb, "seat")), "net_a");
    json_t *bid = json_array_get(json_object_get(sb, "bid"), 0);
    assert_string_equal(json_string_value(json_object_get(bid, "impid")), "imp-0");
    assert_true(json_real_value(json_object_get(bid, "price")) > 3.24);
    assert_non_null(json_string_value(json_object_get(bid, "adm")));
    json_decref(j);
    fake_answer_free(&a);
}

static void each_failure_kind_has_its_shape(void **state)
{
    (void)state;
    struct { const char *spec; int status; int json_ok; } cases[] = {
        { "nobid", 204, 0 }, { "error", 500, 1 }, { "garbage", 200, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fake_behavior b;
        assert_int_equal(fake_behavior_parse(cases[i].spec, &k_base, &b), 0);
        fake_answer a;
        assert_int_equal(fake_answer_build(k_req, strlen(k_req), &b, "n", &a), 0);
        assert_int_equal(a.status, cases[i].status);
        json_error_t e;
        json_t *j = a.body ? json_loadb(a.body, a.len, 0, &e) : NULL;
        assert_int_equal(j != NULL, cases[i].json_ok);
        json_decref(j);
        fake_answer_free(&a);
    }
}

static void delay_and_oversized(void **state)
{
    (void)state;
    fake_behavior b;
    fake_answer a;
    fake_behavior_parse("delay;ms=750", &k_base, &b);
    assert_int_equal(fake_answer_build(k_req, strlen(k_req), &b, "n", &a), 0);
    assert_int_equal(a.status, 200);
    assert_int_equal(a.delay_ms, 750);
    fake_answer_free(&a);
    fake_behavior_parse("oversized;bytes=100000", &k_base, &b);
    assert_int_equal(fake_answer_build(k_req, strlen(k_req), &b, "n", &a), 0);
    assert_int_equal(a.len, 100000);
    fake_answer_free(&a);
}

static void non_openrtb_request_is_400(void **state)
{
    (void)state;
    const char *bad[] = { "not json", "{\"id\":\"x\"}", "{\"id\":\"x\",\"imp\":[]}", "[1,2]" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fake_answer a;
        assert_int_equal(fake_answer_build(bad[i], strlen(bad[i]), &k_base, "n", &a), 0);
        assert_int_equal(a.status, 400);
        fake_answer_free(&a);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(behavior_specs_parse),
        cmocka_unit_test(fill_answers_one_bid_for_the_imp),
        cmocka_unit_test(each_failure_kind_has_its_shape),
        cmocka_unit_test(delay_and_oversized),
        cmocka_unit_test(non_openrtb_request_is_400),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
