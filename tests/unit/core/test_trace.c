/* W3C traceparent parsing, formatting and child spans. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "med/reason.h"
#include "med/trace.h"

#define VALID_TP "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

static void test_parse_valid_fields(void **state)
{
    (void)state;
    med_traceparent tp;
    med_err err = { 0 };
    assert_int_equal(med_traceparent_parse(VALID_TP, &tp, &err), MED_OK);
    assert_string_equal(tp.trace_id, "0af7651916cd43dd8448eb211c80319c");
    assert_string_equal(tp.span_id, "b7ad6b7169203331");
    assert_int_equal(tp.flags, 1);
}

static void test_round_trip(void **state)
{
    (void)state;
    const char *inputs[] = { VALID_TP, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
                             "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-fe" };
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        med_traceparent tp;
        char out[MED_TRACEPARENT_LEN + 1];
        assert_int_equal(med_traceparent_parse(inputs[i], &tp, NULL), MED_OK);
        med_traceparent_format(&tp, out);
        assert_string_equal(out, inputs[i]);
    }
}

static void assert_rejected(const char *s)
{
    med_traceparent tp;
    med_err err = { 0 };
    assert_int_equal(med_traceparent_parse(s, &tp, &err), MED_ERR_INVALID);
    assert_string_equal(err.code, MED_R_INFRA_TRACEPARENT_INVALID);
    assert_string_equal(err.field, "traceparent");
}

static void test_rejects_malformed(void **state)
{
    (void)state;
    assert_rejected(NULL);
    assert_rejected("");
    assert_rejected("00");
    /* too short / too long for version 00 */
    assert_rejected("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0");
    assert_rejected(VALID_TP "-");
    assert_rejected(VALID_TP "x");
    /* separators */
    assert_rejected("00_0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    assert_rejected("00-0af7651916cd43dd8448eb211c80319c_b7ad6b7169203331-01");
    assert_rejected("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331_01");
    /* non-hex */
    assert_rejected("00-0af7651916cd43dd8448eb211c80319g-b7ad6b7169203331-01");
    assert_rejected("00-0af7651916cd43dd8448eb211c80319c-b7ad6b716920333z-01");
    assert_rejected("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0x");
    assert_rejected("0x-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
}

static void test_rejects_uppercase(void **state)
{
    (void)state;
    assert_rejected("00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01");
    assert_rejected("00-0af7651916cd43dd8448eb211c80319c-B7AD6B7169203331-01");
    assert_rejected("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0A");
    assert_rejected("0A-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
}

static void test_rejects_zero_ids(void **state)
{
    (void)state;
    assert_rejected("00-00000000000000000000000000000000-b7ad6b7169203331-01");
    assert_rejected("00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01");
}

static void test_version_rules(void **state)
{
    (void)state;
    med_traceparent tp;
    assert_rejected("ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    /* A future version may be longer, after a '-'; the suffix is ignored. */
    assert_int_equal(med_traceparent_parse(
                         "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-what-ever",
                         &tp, NULL),
                     MED_OK);
    assert_string_equal(tp.trace_id, "0af7651916cd43dd8448eb211c80319c");
    assert_int_equal(med_traceparent_parse(
                         "cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", &tp, NULL),
                     MED_OK);
    assert_rejected("01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01x");
    /* We always emit version 00. */
    char out[MED_TRACEPARENT_LEN + 1];
    med_traceparent_format(&tp, out);
    assert_memory_equal(out, "00-", 3);
}

static void test_new_is_valid_and_unique(void **state)
{
    (void)state;
    med_traceparent a, b, parsed;
    char sa[MED_TRACEPARENT_LEN + 1], sb[MED_TRACEPARENT_LEN + 1];
    med_traceparent_new(&a);
    med_traceparent_new(&b);
    med_traceparent_format(&a, sa);
    med_traceparent_format(&b, sb);
    assert_int_equal(strlen(sa), MED_TRACEPARENT_LEN);
    assert_int_equal(med_traceparent_parse(sa, &parsed, NULL), MED_OK);
    assert_int_equal(med_traceparent_parse(sb, &parsed, NULL), MED_OK);
    assert_int_equal(a.flags, 1);
    assert_string_not_equal(a.trace_id, b.trace_id);
    assert_string_not_equal(a.span_id, b.span_id);
}

static void test_child_keeps_trace_id(void **state)
{
    (void)state;
    med_traceparent parent, child;
    assert_int_equal(med_traceparent_parse(VALID_TP, &parent, NULL), MED_OK);
    parent.flags = 0;
    med_traceparent_child(&parent, &child);
    assert_string_equal(child.trace_id, parent.trace_id);
    assert_string_not_equal(child.span_id, parent.span_id);
    assert_int_equal(child.flags, 0);
    char out[MED_TRACEPARENT_LEN + 1];
    med_traceparent_format(&child, out);
    assert_int_equal(med_traceparent_parse(out, &child, NULL), MED_OK);

    /* In place: the hop replaces its own span. */
    med_traceparent self = parent;
    med_traceparent_child(&self, &self);
    assert_string_equal(self.trace_id, parent.trace_id);
    assert_string_not_equal(self.span_id, parent.span_id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_valid_fields),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_rejects_malformed),
        cmocka_unit_test(test_rejects_uppercase),
        cmocka_unit_test(test_rejects_zero_ids),
        cmocka_unit_test(test_version_rules),
        cmocka_unit_test(test_new_is_valid_and_unique),
        cmocka_unit_test(test_child_keeps_trace_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
