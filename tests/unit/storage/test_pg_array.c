/* med_pg_array: the binary wire layout array_recv expects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "med/pg_array.h"

static uint32_t u32_at(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void text_array_with_null(void **state)
{
    (void)state;
    med_pg_array a;
    med_err e;
    med_pg_array_init(&a, MED_PG_OID_TEXT);
    med_pg_array_add_str(&a, "ab");
    med_pg_array_add_str(&a, NULL);
    med_pg_array_add_str(&a, "");
    assert_int_equal(med_pg_array_finish(&a, &e), MED_OK);
    assert_int_equal(a.len, 20 + (4 + 2) + 4 + 4);
    assert_int_equal(u32_at(a.buf), 1);             /* ndim */
    assert_int_equal(u32_at(a.buf + 4), 1);         /* has nulls */
    assert_int_equal(u32_at(a.buf + 8), 25);        /* text */
    assert_int_equal(u32_at(a.buf + 12), 3);        /* elements */
    assert_int_equal(u32_at(a.buf + 16), 1);        /* lower bound */
    assert_int_equal(u32_at(a.buf + 20), 2);
    assert_memory_equal(a.buf + 24, "ab", 2);
    assert_int_equal(u32_at(a.buf + 26), UINT32_MAX);   /* NULL = -1 */
    assert_int_equal(u32_at(a.buf + 30), 0);            /* empty string, not NULL */
    med_pg_array_free(&a);
}

static void empty_array_has_no_dimension(void **state)
{
    (void)state;
    med_pg_array a;
    med_err e;
    med_pg_array_init(&a, MED_PG_OID_BYTEA);
    assert_int_equal(med_pg_array_finish(&a, &e), MED_OK);
    assert_int_equal(a.len, 12);
    assert_int_equal(u32_at(a.buf), 0);
    assert_int_equal(u32_at(a.buf + 4), 0);
    assert_int_equal(u32_at(a.buf + 8), 17);
    med_pg_array_free(&a);
}

static void bytes_and_int8_keep_their_values(void **state)
{
    (void)state;
    med_pg_array b, i;
    med_err e;
    const uint8_t raw[] = { 0x00, 0xff, 0x5c, 0x22 };   /* NUL, quote, backslash survive */
    med_pg_array_init(&b, MED_PG_OID_BYTEA);
    for (int k = 0; k < 100; k++) med_pg_array_add(&b, raw, sizeof raw);   /* forces growth */
    assert_int_equal(med_pg_array_finish(&b, &e), MED_OK);
    assert_int_equal(u32_at(b.buf + 4), 0);
    assert_int_equal(u32_at(b.buf + 12), 100);
    assert_int_equal(b.len, 20 + 100 * (4 + sizeof raw));
    assert_memory_equal(b.buf + 20 + 99 * 8 + 4, raw, sizeof raw);
    med_pg_array_init(&i, MED_PG_OID_INT8);
    med_pg_array_add_int8(&i, -2);
    assert_int_equal(med_pg_array_finish(&i, &e), MED_OK);
    assert_int_equal(u32_at(i.buf + 20), 8);
    assert_int_equal(u32_at(i.buf + 24), UINT32_MAX);
    assert_int_equal(u32_at(i.buf + 28), UINT32_MAX - 1);
    med_pg_array_free(&b);
    med_pg_array_free(&i);
}

static void cols_fill_the_parameter_vectors(void **state)
{
    (void)state;
    med_pg_cols c;
    med_err e;
    const uint32_t oids[2] = { MED_PG_OID_TEXT, MED_PG_OID_BYTEA };
    med_pg_cols_init(&c, oids, 2);
    med_pg_array_add_str(&c.col[0], "t1");
    med_pg_array_add(&c.col[1], "\0x", 2);
    assert_int_equal(med_pg_cols_finish(&c, &e), MED_OK);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.formats[0], 1);
    assert_int_equal(c.formats[1], 1);
    assert_int_equal(c.lengths[0], 20 + 4 + 2);
    assert_int_equal(c.lengths[1], 20 + 4 + 2);
    assert_ptr_equal(c.values[1], c.col[1].buf);
    assert_int_equal(u32_at((const uint8_t *)c.values[1] + 8), 17);
    med_pg_cols_free(&c);
}

static void int4_and_bool_keep_their_values(void **state)
{
    (void)state;
    med_pg_array i, b;
    med_err e;
    med_pg_array_init(&i, MED_PG_OID_INT4);
    med_pg_array_add_int4(&i, -2);
    med_pg_array_add_int4(&i, 0x01020304);
    assert_int_equal(med_pg_array_finish(&i, &e), MED_OK);
    assert_int_equal(u32_at(i.buf + 8), 23);
    assert_int_equal(i.len, 20 + 2 * (4 + 4));
    assert_int_equal(u32_at(i.buf + 20), 4);
    assert_int_equal(u32_at(i.buf + 24), UINT32_MAX - 1);
    assert_int_equal(u32_at(i.buf + 32), 0x01020304);
    med_pg_array_init(&b, MED_PG_OID_BOOL);
    med_pg_array_add_bool(&b, 7);   /* any non-zero is true */
    med_pg_array_add_bool(&b, 0);
    assert_int_equal(med_pg_array_finish(&b, &e), MED_OK);
    assert_int_equal(u32_at(b.buf + 8), 16);
    assert_int_equal(b.len, 20 + 2 * (4 + 1));
    assert_int_equal(u32_at(b.buf + 20), 1);
    assert_int_equal(b.buf[24], 1);
    assert_int_equal(b.buf[29], 0);
    med_pg_array_free(&i);
    med_pg_array_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_array_with_null),
        cmocka_unit_test(empty_array_has_no_dimension),
        cmocka_unit_test(bytes_and_int8_keep_their_values),
        cmocka_unit_test(int4_and_bool_keep_their_values),
        cmocka_unit_test(cols_fill_the_parameter_vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
