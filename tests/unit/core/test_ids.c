/* ids: sha256, h16/h12 keys, key format, random ids, time text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "med/ids.h"

static int is_lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return 1;
}

static void test_sha256_known_vectors(void **state)
{
    (void)state;
    char out[65];
    med_sha256_hex("abc", 3, out);
    assert_string_equal(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    med_sha256_hex("", 0, out);
    assert_string_equal(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const char *two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    med_sha256_hex(two_blocks, strlen(two_blocks), out);
    assert_string_equal(out, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_hash_key_prefix(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(med_hash_key(out, sizeof out, "rsp_", "abc", 16), 0);
    assert_string_equal(out, "rsp_ba7816bf8f01cfea");
    assert_int_equal(med_hash_key(out, sizeof out, "", "abc", 12), 0);
    assert_string_equal(out, "ba7816bf8f01");
    assert_int_equal(med_hash_key(out, sizeof out, NULL, "abc", 64), -1); /* 64 + NUL > 64 */
    char big[80];
    assert_int_equal(med_hash_key(big, sizeof big, NULL, "abc", 64), 0);
    assert_int_equal(strlen(big), 64);
    /* Too small a buffer or a silly length is refused, not truncated. */
    char small[10];
    assert_int_equal(med_hash_key(small, sizeof small, "rsp_", "abc", 16), -1);
    assert_string_equal(small, "");
    assert_int_equal(med_hash_key(out, sizeof out, "x", "abc", 0), -1);
    assert_int_equal(med_hash_key(out, sizeof out, "x", "abc", 65), -1);
}

static void test_key_format(void **state)
{
    (void)state;
    assert_true(med_key_format_valid("tr_abcde"));        /* exactly 8 */
    assert_true(med_key_format_valid("A1234567"));
    assert_true(med_key_format_valid("req:abc-def_0123456789"));
    assert_false(med_key_format_valid("tr_abcd"));        /* 7 */
    assert_false(med_key_format_valid("1abcdefgh"));      /* digit first */
    assert_false(med_key_format_valid("_abcdefgh"));
    assert_false(med_key_format_valid("tr_abc!defgh"));
    assert_false(med_key_format_valid("tr_abc defgh"));
    assert_false(med_key_format_valid("tr_abcdéfgh"));
    assert_false(med_key_format_valid(""));
    assert_false(med_key_format_valid(NULL));
}

static void test_random_hex_and_ids(void **state)
{
    (void)state;
    char a[33], b[33];
    assert_int_equal(med_random_hex(a, sizeof a, 16), 0);
    assert_int_equal(med_random_hex(b, sizeof b, 16), 0);
    assert_int_equal(strlen(a), 32);
    assert_true(is_lower_hex(a, 32));
    assert_string_not_equal(a, b);
    assert_int_equal(med_random_hex(a, 32, 16), -1); /* no room for NUL */

    char id[32];
    assert_int_equal(med_id_new(id, sizeof id, "tr_"), 0);
    assert_int_equal(strlen(id), 3 + 16);
    assert_memory_equal(id, "tr_", 3);
    assert_true(is_lower_hex(id + 3, 16));
    assert_true(med_key_format_valid(id));
    assert_int_equal(med_id_new(id, 19, "tr_"), -1);

    unsigned char buf[64] = { 0 };
    assert_int_equal(med_random_bytes(buf, sizeof buf), 0);
    int nonzero = 0;
    for (size_t i = 0; i < sizeof buf; i++) nonzero |= buf[i];
    assert_true(nonzero);
}

static void test_format_utc_ms(void **state)
{
    (void)state;
    char out[32];
    med_format_utc_ms(0, out, sizeof out);
    assert_string_equal(out, "1970-01-01T00:00:00.000Z");
    med_format_utc_ms(1700000000123LL, out, sizeof out);
    assert_string_equal(out, "2023-11-14T22:13:20.123Z");
    med_format_utc_ms(-1, out, sizeof out);
    assert_string_equal(out, "1969-12-31T23:59:59.999Z");
    char exact[25];
    med_format_utc_ms(1700000000123LL, exact, sizeof exact);
    assert_string_equal(exact, "2023-11-14T22:13:20.123Z");
}

static void test_clocks(void **state)
{
    (void)state;
    assert_true(med_now_unix_ms() > 1600000000000LL);
    int64_t m1 = med_mono_ms();
    int64_t m2 = med_mono_ms();
    assert_true(m2 >= m1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_known_vectors),
        cmocka_unit_test(test_hash_key_prefix),
        cmocka_unit_test(test_key_format),
        cmocka_unit_test(test_random_hex_and_ids),
        cmocka_unit_test(test_format_utc_ms),
        cmocka_unit_test(test_clocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
