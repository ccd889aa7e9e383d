/* med_mmap: round trips, replacement, deterministic bytes, and clean
 * refusal of everything that is not a flat map of scalars. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "med/mpack.h"
#include "med/reason.h"

static med_mmap *must_new(void)
{
    med_mmap *m = med_mmap_new();
    assert_non_null(m);
    return m;
}

static void encode_ok(const med_mmap *m, uint8_t **out, size_t *len)
{
    med_err err = { 0 };
    assert_int_equal(med_mmap_encode(m, out, len, &err), MED_OK);
    assert_non_null(*out);
    assert_true(*len > 0);
}

static med_mmap *decode_ok(const uint8_t *buf, size_t len)
{
    med_err err = { 0 };
    med_mmap *m = NULL;
    med_rc rc = med_mmap_decode(buf, len, &m, &err);
    if (rc != MED_OK) fail_msg("decode failed: %s %s", err.code, err.message);
    assert_non_null(m);
    return m;
}

static void decode_fails(const uint8_t *buf, size_t len)
{
    med_err err = { 0 };
    med_mmap *m = (med_mmap *)(uintptr_t)1;
    assert_int_equal(med_mmap_decode(buf, len, &m, &err), MED_ERR_INVALID);
    assert_null(m);
    assert_string_equal(err.code, MED_R_INFRA_DECODE_FAILED);
}

static med_mmap *round_trip(const med_mmap *m)
{
    uint8_t *buf;
    size_t len;
    encode_ok(m, &buf, &len);
    med_mmap *back = decode_ok(buf, len);
    free(buf);
    return back;
}

static void assert_str_val(const med_mmap *m, const char *key, med_mval_type type,
                           const void *bytes, size_t len)
{
    const med_mval *v = med_mmap_get(m, key);
    assert_non_null(v);
    assert_int_equal(v->type, type);
    assert_int_equal(v->u.s.len, len);
    assert_memory_equal(v->u.s.ptr, bytes, len ? len : 1);
    assert_int_equal(v->u.s.ptr[len], '\0');
}

static void assert_int_val(const med_mmap *m, const char *key, int64_t want)
{
    const med_mval *v = med_mmap_get(m, key);
    assert_non_null(v);
    assert_int_equal(v->type, MED_MVAL_INT);
    assert_true(v->u.i == want);
}

static void assert_double_val(const med_mmap *m, const char *key, double want)
{
    const med_mval *v = med_mmap_get(m, key);
    assert_non_null(v);
    assert_int_equal(v->type, MED_MVAL_DOUBLE);
    assert_memory_equal(&v->u.d, &want, sizeof want); /* bit-exact, keeps -0.0 */
}

static void test_round_trip_every_type(void **state)
{
    (void)state;
    static const uint8_t bin[] = { 'a', 0, 'b', 0, 0xff, 0 };
    med_mmap *m = must_new();
    assert_int_equal(med_mmap_set_str(m, "s", "héllo"), 0);
    assert_int_equal(med_mmap_set_str(m, "empty", ""), 0);
    assert_int_equal(med_mmap_set_bin(m, "bin", bin, sizeof bin), 0);
    assert_int_equal(med_mmap_set_bin(m, "bin0", NULL, 0), 0);
    assert_int_equal(med_mmap_set_int(m, "min", INT64_MIN), 0);
    assert_int_equal(med_mmap_set_int(m, "max", INT64_MAX), 0);
    assert_int_equal(med_mmap_set_int(m, "zero", 0), 0);
    assert_int_equal(med_mmap_set_int(m, "neg1", -1), 0);
    assert_int_equal(med_mmap_set_int(m, "u32", 4294967296LL), 0);
    assert_int_equal(med_mmap_set_double(m, "pi", 3.141592653589793), 0);
    assert_int_equal(med_mmap_set_double(m, "negzero", -0.0), 0);
    assert_int_equal(med_mmap_set_double(m, "inf", INFINITY), 0);
    assert_int_equal(med_mmap_set_double(m, "nan", NAN), 0);
    assert_int_equal(med_mmap_set_bool(m, "yes", 7), 0);
    assert_int_equal(med_mmap_set_bool(m, "no", 0), 0);
    assert_int_equal(med_mmap_set_nil(m, "nothing"), 0);
    assert_int_equal(med_mmap_set_str(m, "", "empty key"), 0);

    med_mmap *b = round_trip(m);
    assert_int_equal(med_mmap_size(b), med_mmap_size(m));
    assert_int_equal(med_mmap_size(b), 17);
    assert_str_val(b, "s", MED_MVAL_STR, "héllo", strlen("héllo"));
    assert_str_val(b, "empty", MED_MVAL_STR, "", 0);
    assert_str_val(b, "bin", MED_MVAL_BIN, bin, sizeof bin);
    assert_str_val(b, "bin0", MED_MVAL_BIN, "", 0);
    assert_int_val(b, "min", INT64_MIN);
    assert_int_val(b, "max", INT64_MAX);
    assert_int_val(b, "zero", 0);
    assert_int_val(b, "neg1", -1);
    assert_int_val(b, "u32", 4294967296LL);
    assert_double_val(b, "pi", 3.141592653589793);
    assert_double_val(b, "negzero", -0.0);
    assert_double_val(b, "inf", INFINITY);
    assert_true(isnan(med_mmap_get(b, "nan")->u.d));
    assert_int_equal(med_mmap_get(b, "yes")->type, MED_MVAL_BOOL);
    assert_int_equal(med_mmap_get(b, "yes")->u.b, 1);
    assert_int_equal(med_mmap_get(b, "no")->u.b, 0);
    assert_int_equal(med_mmap_get(b, "nothing")->type, MED_MVAL_NIL);
    assert_str_val(b, "", MED_MVAL_STR, "empty key", 9);
    assert_null(med_mmap_get(b, "absent"));
    med_mmap_free(b);
    med_mmap_free(m);
}

static void test_empty_map(void **state)
{
    (void)state;
    med_mmap *m = must_new();
    uint8_t *buf;
    size_t len;
    encode_ok(m, &buf, &len);
    assert_int_equal(len, 1);
    assert_int_equal(buf[0], 0x80);
    med_mmap *b = decode_ok(buf, len);
    assert_int_equal(med_mmap_size(b), 0);
    med_mmap_free(b);
    med_mmap_free(m);
    free(buf);
}

static void test_replace_existing_key(void **state)
{
    (void)state;
    med_mmap *m = must_new();
    assert_int_equal(med_mmap_set_str(m, "a", "first"), 0);
    assert_int_equal(med_mmap_set_int(m, "b", 2), 0);
    assert_int_equal(med_mmap_set_int(m, "a", 42), 0);
    assert_int_equal(med_mmap_size(m), 2);
    assert_int_val(m, "a", 42);
    assert_int_equal(med_mmap_set_str(m, "a", "again"), 0);
    assert_str_val(m, "a", MED_MVAL_STR, "again", 5);

    /* The replaced key keeps its first position in the encoding. */
    med_mmap *same = must_new();
    assert_int_equal(med_mmap_set_str(same, "a", "again"), 0);
    assert_int_equal(med_mmap_set_int(same, "b", 2), 0);
    uint8_t *x, *y;
    size_t xl, yl;
    encode_ok(m, &x, &xl);
    encode_ok(same, &y, &yl);
    assert_int_equal(xl, yl);
    assert_memory_equal(x, y, xl);
    free(x);
    free(y);
    med_mmap_free(same);
    med_mmap_free(m);
}

static void test_view_survives_growth(void **state)
{
    (void)state;
    med_mmap *m = must_new();
    assert_int_equal(med_mmap_set_str(m, "first", "stays"), 0);
    const med_mval *v = med_mmap_get(m, "first");
    char key[16];
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof key, "k%d", i);
        assert_int_equal(med_mmap_set_int(m, key, i), 0);
    }
    assert_ptr_equal(v, med_mmap_get(m, "first"));
    assert_string_equal(v->u.s.ptr, "stays");
    med_mmap_free(m);
}

static void test_null_arguments(void **state)
{
    (void)state;
    med_mmap *m = must_new();
    assert_int_equal(med_mmap_set_str(m, NULL, "x"), -1);
    assert_int_equal(med_mmap_set_str(m, "k", NULL), -1);
    assert_int_equal(med_mmap_set_int(NULL, "k", 1), -1);
    assert_int_equal(med_mmap_set_bin(m, "k", NULL, 3), -1);
    assert_int_equal(med_mmap_size(m), 0);
    assert_null(med_mmap_get(NULL, "k"));
    assert_int_equal(med_mmap_size(NULL), 0);
    med_mmap_free(NULL);
    uint8_t *out;
    size_t len;
    med_err err = { 0 };
    assert_int_equal(med_mmap_encode(NULL, &out, &len, &err), MED_ERR_INVALID);
    decode_fails(NULL, 4);
    med_mmap_free(m);
}

static void test_encoding_is_deterministic(void **state)
{
    (void)state;
    /* {"a":1,"b":"x"}: fixmap(2), fixstr "a", fixint 1, fixstr "b", fixstr "x". */
    static const uint8_t want[] = { 0x82, 0xa1, 'a', 0x01, 0xa1, 'b', 0xa1, 'x' };
    uint8_t *first = NULL;
    size_t first_len = 0;
    for (int round = 0; round < 3; round++) {
        med_mmap *m = must_new();
        assert_int_equal(med_mmap_set_int(m, "a", 1), 0);
        assert_int_equal(med_mmap_set_str(m, "b", "x"), 0);
        uint8_t *buf;
        size_t len;
        encode_ok(m, &buf, &len);
        assert_int_equal(len, sizeof want);
        assert_memory_equal(buf, want, len);
        if (!first) {
            first = buf;
            first_len = len;
        } else {
            assert_memory_equal(first, buf, first_len);
            free(buf);
        }
        med_mmap_free(m);
    }
    free(first);
}

static void test_reencode_of_decoded_is_identical(void **state)
{
    (void)state;
    med_mmap *m = must_new();
    assert_int_equal(med_mmap_set_str(m, "tenant", "t-1"), 0);
    assert_int_equal(med_mmap_set_int(m, "ts", 1700000000123LL), 0);
    assert_int_equal(med_mmap_set_double(m, "price", 0.25), 0);
    assert_int_equal(med_mmap_set_bool(m, "billed", 1), 0);
    uint8_t *a, *b;
    size_t al, bl;
    encode_ok(m, &a, &al);
    med_mmap *back = decode_ok(a, al);
    encode_ok(back, &b, &bl);
    assert_int_equal(al, bl);
    assert_memory_equal(a, b, al);
    free(a);
    free(b);
    med_mmap_free(back);
    med_mmap_free(m);
}

static void test_truncated_input_fails(void **state)
{
    (void)state;
    med_mmap *m = must_new();
    assert_int_equal(med_mmap_set_str(m, "key", "a longer string value"), 0);
    assert_int_equal(med_mmap_set_int(m, "n", INT64_MAX), 0);
    assert_int_equal(med_mmap_set_double(m, "d", 1.5), 0);
    uint8_t *buf;
    size_t len;
    encode_ok(m, &buf, &len);
    for (size_t cut = 0; cut < len; cut++) {
        /* A fresh copy of exactly cut bytes, so ASan sees any over-read. */
        uint8_t *part = malloc(cut ? cut : 1);
        assert_non_null(part);
        memcpy(part, buf, cut);
        decode_fails(part, cut);
        free(part);
    }
    free(buf);
    med_mmap_free(m);
}

static void test_non_map_and_malformed_input_fails(void **state)
{
    (void)state;
    static const struct { const char *what; uint8_t bytes[16]; size_t len; } cases[] = {
        { "array root", { 0x91, 0x01 }, 2 },
        { "string root", { 0xa1, 'x' }, 2 },
        { "int root", { 0x05 }, 1 },
        { "nil root", { 0xc0 }, 1 },
        { "reserved byte", { 0xc1 }, 1 },
        { "trailing byte", { 0x81, 0xa1, 'a', 0x01, 0x00 }, 5 },
        { "two maps", { 0x80, 0x80 }, 2 },
        { "int key", { 0x81, 0x01, 0x02 }, 3 },
        { "bin key", { 0x81, 0xc4, 0x01, 'a', 0x02 }, 5 },
        { "nested map", { 0x81, 0xa1, 'a', 0x80 }, 4 },
        { "nested array", { 0x81, 0xa1, 'a', 0x90 }, 4 },
        { "ext value", { 0x81, 0xa1, 'a', 0xd4, 0x01, 0x02 }, 6 },
        { "duplicate key", { 0x82, 0xa1, 'a', 0x01, 0xa1, 'a', 0x02 }, 7 },
        { "key with NUL", { 0x81, 0xa2, 'a', 0x00, 0x01 }, 5 },
        { "uint64 above int64", { 0x81, 0xa1, 'a', 0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0 }, 12 },
        { "map32 claims 4G entries", { 0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 'a', 0x01 }, 8 },
        { "array32 value claims 4G", { 0x81, 0xa1, 'a', 0xdd, 0xff, 0xff, 0xff, 0xff }, 8 },
        { "str32 past the end", { 0x81, 0xa1, 'a', 0xdb, 0x7f, 0xff, 0xff, 0xff, 'x' }, 9 },
        { "map16 short header", { 0xde, 0x00 }, 2 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        print_message("case: %s\n", cases[i].what);
        decode_fails(cases[i].bytes, cases[i].len);
    }
    decode_fails((const uint8_t *)"", 0);
}

static void test_float32_and_wide_forms_decode(void **state)
{
    (void)state;
    /* {"f": float32 1.5, "i": int8 -5, "u": uint16 300, "s": str8 "hi"} */
    static const uint8_t buf[] = {
        0x84, 0xa1, 'f', 0xca, 0x3f, 0xc0, 0x00, 0x00,
        0xa1, 'i', 0xd0, 0xfb,
        0xa1, 'u', 0xcd, 0x01, 0x2c,
        0xa1, 's', 0xd9, 0x02, 'h', 'i',
    };
    med_mmap *m = decode_ok(buf, sizeof buf);
    assert_double_val(m, "f", 1.5);
    assert_int_val(m, "i", -5);
    assert_int_val(m, "u", 300);
    assert_str_val(m, "s", MED_MVAL_STR, "hi", 2);
    med_mmap_free(m);
}

static void test_random_garbage_never_crashes(void **state)
{
    (void)state;
    uint32_t seed = 12345;
    uint8_t buf[64];
    int decoded = 0;
    for (int round = 0; round < 20000; round++) {
        size_t len = (size_t)(round % 64);
        for (size_t i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            buf[i] = (uint8_t)(seed >> 16);
        }
        /* Bias some rounds towards plausible map headers. */
        if (len && round % 3 == 0) buf[0] = (uint8_t)(0x80 | (buf[0] & 0x03));
        med_err err = { 0 };
        med_mmap *m = NULL;
        med_rc rc = med_mmap_decode(buf, len, &m, &err);
        if (rc == MED_OK) {
            decoded++;
            assert_non_null(m);
            med_mmap_free(m);
        } else {
            assert_int_equal(rc, MED_ERR_INVALID);
            assert_null(m);
        }
    }
    assert_true(decoded > 0);
}

static void test_entry_limit(void **state)
{
    (void)state;
    med_mmap *m = must_new();
    char key[16];
    for (int i = 0; i <= MED_MMAP_MAX_ENTRIES; i++) {
        snprintf(key, sizeof key, "k%d", i);
        assert_int_equal(med_mmap_set_nil(m, key), 0);
    }
    uint8_t *out = NULL;
    size_t len = 0;
    med_err err = { 0 };
    assert_int_equal(med_mmap_encode(m, &out, &len, &err), MED_ERR_INVALID);
    assert_string_equal(err.code, MED_R_INFRA_ENCODE_FAILED);
    assert_null(out);
    med_mmap_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_every_type),
        cmocka_unit_test(test_empty_map),
        cmocka_unit_test(test_replace_existing_key),
        cmocka_unit_test(test_view_survives_growth),
        cmocka_unit_test(test_null_arguments),
        cmocka_unit_test(test_encoding_is_deterministic),
        cmocka_unit_test(test_reencode_of_decoded_is_identical),
        cmocka_unit_test(test_truncated_input_fails),
        cmocka_unit_test(test_non_map_and_malformed_input_fails),
        cmocka_unit_test(test_float32_and_wide_forms_decode),
        cmocka_unit_test(test_random_garbage_never_crashes),
        cmocka_unit_test(test_entry_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
