/* Batch rows: tenant grouping and column JSON (med/rows.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>

#include "med/rows.h"

static void groups_follow_first_appearance_and_skip_nulls(void **state)
{
    (void)state;
    const char *tenants[] = { "t1", NULL, "t2", "t1", "t2", "t3" };
    unsigned char taken[6] = { 0 };
    size_t idx[6];
    assert_int_equal(med_rows_next_tenant_group(tenants, 6, taken, idx), 2);
    assert_int_equal(idx[0], 0);
    assert_int_equal(idx[1], 3);
    assert_int_equal(med_rows_next_tenant_group(tenants, 6, taken, idx), 2);
    assert_int_equal(idx[0], 2);
    assert_int_equal(idx[1], 4);
    assert_int_equal(med_rows_next_tenant_group(tenants, 6, taken, idx), 1);
    assert_int_equal(idx[0], 5);
    assert_int_equal(med_rows_next_tenant_group(tenants, 6, taken, idx), 0);
    assert_int_equal(taken[1], 0); /* nothing to write: never taken */
}

static void put_writes_strings_and_nulls(void **state)
{
    (void)state;
    json_t *row = json_object();
    assert_int_equal(med_rows_put(row, "a", "x"), 0);
    assert_int_equal(med_rows_put(row, "b", NULL), 0);
    assert_string_equal(json_string_value(json_object_get(row, "a")), "x");
    assert_true(json_is_null(json_object_get(row, "b")));
    json_decref(row);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(groups_follow_first_appearance_and_skip_nulls),
        cmocka_unit_test(put_writes_strings_and_nulls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
