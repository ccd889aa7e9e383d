/* SemVer parse/compare for the version gate (spec 04 H.5, H.10 case 13). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "h_semver.h"
#include "med/reason.h"

static int cmp(const char *a, const char *b)
{
    int c = 99;
    med_err err;
    med_err_clear(&err);
    assert_int_equal(h_semver_compare_str(a, b, &c, &err), MED_OK);
    return c;
}

static void assert_invalid(const char *s)
{
    h_semver v;
    med_err err;
    med_err_clear(&err);
    assert_int_equal(h_semver_parse(s, &v, &err), MED_ERR_INVALID);
    assert_string_equal(err.code, MED_R_H_GATE_INVALID_VERSION_FORMAT);
}

static void case13_two_parts_invalid(void **state)
{
    (void)state;
    assert_invalid("2.0");
}

static void case13_minor_compares_numerically(void **state)
{
    (void)state;
    assert_true(cmp("1.10.0", "1.9.0") > 0);
    assert_true(cmp("1.9.0", "1.10.0") < 0);
}

static void case13_prerelease_below_release(void **state)
{
    (void)state;
    assert_true(cmp("2.0.0-beta", "2.0.0") < 0);
    assert_true(cmp("2.0.0", "2.0.0-beta") > 0);
    assert_true(cmp("2.0.0-beta", "1.99.99") > 0);
}

static void prereleases_compare_by_bytes(void **state)
{
    (void)state;
    assert_true(cmp("1.0.0-alpha", "1.0.0-beta") < 0);
    assert_true(cmp("1.0.0-alpha", "1.0.0-alpha.1") < 0);
    /* bytes, not SemVer numeric identifiers: "10" < "9" */
    assert_true(cmp("1.0.0-rc.10", "1.0.0-rc.9") < 0);
    assert_int_equal(cmp("1.0.0-rc.1", "1.0.0-rc.1"), 0);
}

static void equal_versions(void **state)
{
    (void)state;
    assert_int_equal(cmp("0.0.0", "0.0.0"), 0);
    assert_int_equal(cmp("3.2.1", "3.2.1"), 0);
}

static void leading_zeros_invalid(void **state)
{
    (void)state;
    assert_invalid("01.2.3");
    assert_invalid("1.02.3");
    assert_invalid("1.2.00");
    h_semver v;
    assert_int_equal(h_semver_parse("0.0.0", &v, NULL), MED_OK);
    assert_int_equal(h_semver_parse("10.20.30", &v, NULL), MED_OK);
}

static void huge_numbers_compare_without_overflow(void **state)
{
    (void)state;
    const char *big = "99999999999999999999999999.0.0";
    const char *bigger = "100000000000000000000000000.0.0";
    assert_true(cmp(bigger, big) > 0);
    assert_true(cmp("1.18446744073709551616.0", "1.18446744073709551615.0") > 0);
    assert_true(cmp("1.0.18446744073709551616", "1.0.9") > 0);
}

static void other_shapes_invalid(void **state)
{
    (void)state;
    const char *bad[] = {NULL,      "",         "1",        "1.2.3.4", "v1.2.3",  "1.2.3+build",
                         "1.2.3-",  "1.2.3-a+b", "1..3",    " 1.2.3",  "1.2.3 ",  "-1.2.3",
                         "1.2.x",   "1.2.3-a b", "1.2.3-é", "1.2.-3",  ".1.2.3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) assert_invalid(bad[i]);
}

static void parse_exposes_parts(void **state)
{
    (void)state;
    h_semver v;
    assert_int_equal(h_semver_parse("12.3.45-rc.1", &v, NULL), MED_OK);
    assert_int_equal(v.part_len[0], 2);
    assert_memory_equal(v.part[2], "45", 2);
    assert_int_equal(v.pre_len, 4);
    assert_memory_equal(v.pre, "rc.1", 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(case13_two_parts_invalid),
        cmocka_unit_test(case13_minor_compares_numerically),
        cmocka_unit_test(case13_prerelease_below_release),
        cmocka_unit_test(prereleases_compare_by_bytes),
        cmocka_unit_test(equal_versions),
        cmocka_unit_test(leading_zeros_invalid),
        cmocka_unit_test(huge_numbers_compare_without_overflow),
        cmocka_unit_test(other_shapes_invalid),
        cmocka_unit_test(parse_exposes_parts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
