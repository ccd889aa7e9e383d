/* RFC 8785 canonical JSON: key order, escapes, number forms, hashes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "med/ids.h"
#include "med/jcs.h"

/* Canonical form of a value built by the caller; takes ownership of v. */
static char *canon_of(json_t *v)
{
    char *s = NULL;
    size_t n = 0;
    med_err err;
    assert_non_null(v);
    assert_int_equal(med_jcs_serialize(v, &s, &n, &err), MED_OK);
    assert_int_equal(strlen(s), n);
    json_decref(v);
    return s;
}

static void assert_canon(json_t *v, const char *want)
{
    char *s = canon_of(v);
    assert_string_equal(s, want);
    free(s);
}

static void assert_canon_text(const char *json, const char *want)
{
    json_error_t jerr;
    assert_canon(json_loads(json, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr), want);
}

static void assert_real(double d, const char *want)
{
    assert_canon(json_real(d), want);
}

static void test_jcs_object_keys_sorted(void **state)
{
    (void)state;
    assert_canon_text("{\"b\": 1, \"a\": {\"z\": true, \"y\": null}, \"aa\": [3, 1, 2]}",
                      "{\"a\":{\"y\":null,\"z\":true},\"aa\":[3,1,2],\"b\":1}");
    assert_canon_text("{}", "{}");
    assert_canon_text("[]", "[]");
}

/* U+1F600 is D83D DE00 in UTF-16, so it sorts before U+E000 although its
 * UTF-8 bytes (F0..) sort after EE 80 80. */
static void test_jcs_keys_utf16_order(void **state)
{
    (void)state;
    assert_canon_text("{\"\\ue000\": 1, \"\\ud83d\\ude00\": 2, \"\\u00e9\": 3, \"z\": 4}",
                      "{\"z\":4,\"\xc3\xa9\":3,\"\xf0\x9f\x98\x80\":2,\"\xee\x80\x80\":1}");
}

/* The RFC 8785 section 3.2.3 sorting example. */
static void test_jcs_rfc8785_sort_example(void **state)
{
    (void)state;
    assert_canon_text(
        "{\"\\u20ac\":\"Euro Sign\",\"\\r\":\"Carriage Return\",\"\\ufb33\":\"Hebrew Letter Dalet With Dagesh\","
        "\"1\":\"One\",\"\\ud83d\\ude00\":\"Emoji: Grinning Face\",\"\\u0080\":\"Control\","
        "\"\\u00f6\":\"Latin Small Letter O With Diaeresis\"}",
        "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xc2\x80\":\"Control\","
        "\"\xc3\xb6\":\"Latin Small Letter O With Diaeresis\",\"\xe2\x82\xac\":\"Euro Sign\","
        "\"\xf0\x9f\x98\x80\":\"Emoji: Grinning Face\",\"\xef\xac\xb3\":\"Hebrew Letter Dalet With Dagesh\"}");
}

static void test_jcs_string_escapes(void **state)
{
    (void)state;
    assert_canon_text("\"q\\\" b\\\\ \\b\\f\\n\\r\\t \\u0001\\u001f \\u007f / \\u00e9\"",
                      "\"q\\\" b\\\\ \\b\\f\\n\\r\\t \\u0001\\u001f \x7f / \xc3\xa9\"");
    assert_canon(json_stringn("a\0b", 3), "\"a\\u0000b\"");
}

static void test_jcs_numbers(void **state)
{
    (void)state;
    assert_real(1e21, "1e+21");
    assert_real(1e20, "100000000000000000000");
    assert_real(1e-7, "1e-7");
    assert_real(1e-6, "0.000001");
    assert_real(0.1, "0.1");
    assert_real(-0.0, "0");
    assert_real(100.0, "100");
    assert_real(123.456, "123.456");
    assert_real(-1.5, "-1.5");
    assert_real(1.7976931348623157e308, "1.7976931348623157e+308");
    assert_real(5e-324, "5e-324");
    assert_real(0.1 + 0.2, "0.30000000000000004");
    assert_real(1.25e-7, "1.25e-7");
    assert_real(123456789012345680000.0, "123456789012345680000");
    assert_real(333333333.3333333, "333333333.3333333");
    assert_canon(json_integer(100), "100");
    assert_canon(json_integer(-42), "-42");
    assert_canon(json_integer(0), "0");
}

static void test_jcs_literals_and_nested(void **state)
{
    (void)state;
    assert_canon_text("[true, false, null, {\"b\": [1.0, {\"d\": \"x\", \"c\": []}], \"a\": 0.5}]",
                      "[true,false,null,{\"a\":0.5,\"b\":[1,{\"c\":[],\"d\":\"x\"}]}]");
}

/* jansson refuses to build NaN/inf reals, so the reachable bad input is
 * a missing value. */
static void test_jcs_missing_value_rejected(void **state)
{
    (void)state;
    char *s = (char *)"x";
    med_err err;
    assert_int_equal(med_jcs_serialize(NULL, &s, NULL, &err), MED_ERR_INVALID);
    assert_null(s);
}

static void test_jcs_sha256_is_hash_of_canonical(void **state)
{
    (void)state;
    json_error_t jerr;
    json_t *a = json_loads("{\"b\":2,\"a\":1}", 0, &jerr);
    json_t *b = json_loads("{ \"a\" : 1 , \"b\" : 2 }", 0, &jerr);
    char ha[65], hb[65], want[65];
    med_err err;
    assert_int_equal(med_jcs_sha256(a, ha, &err), MED_OK);
    assert_int_equal(med_jcs_sha256(b, hb, &err), MED_OK);
    med_sha256_hex("{\"a\":1,\"b\":2}", 13, want);
    assert_string_equal(ha, want);
    assert_string_equal(hb, want);
    assert_int_equal(strlen(ha), 64);
    json_decref(a);
    json_decref(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jcs_object_keys_sorted),
        cmocka_unit_test(test_jcs_keys_utf16_order),
        cmocka_unit_test(test_jcs_rfc8785_sort_example),
        cmocka_unit_test(test_jcs_string_escapes),
        cmocka_unit_test(test_jcs_numbers),
        cmocka_unit_test(test_jcs_literals_and_nested),
        cmocka_unit_test(test_jcs_missing_value_rejected),
        cmocka_unit_test(test_jcs_sha256_is_hash_of_canonical),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
