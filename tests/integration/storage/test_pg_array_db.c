/* med_pg_array / med_pg_cols against a real PostgreSQL: what the batch
 * statements of F and G send (unnest of binary arrays) arrives intact:
 * SQL NULLs stay NULL, an empty string is not NULL, text and bytes with
 * quotes, backslashes, braces and NUL bytes survive, integers keep their
 * sign, and an empty batch unnests to no rows. Needs no migration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "harness.h"
#include "med/pg.h"
#include "med/pg_array.h"

/* One row per element, in order; every value as text (bytea as hex). */
#define SQL_ROUND_TRIP                                                                             \
    "SELECT r.i, r.t IS NULL, coalesce(r.t, ''), encode(r.b, 'hex'), r.b IS NULL, r.n4, r.n8, "    \
    "r.flag, (r.j::jsonb)->>'k' FROM unnest($1::text[], $2::bytea[], $3::int4[], $4::int8[], "     \
    "$5::bool[], $6::text[]) WITH ORDINALITY AS r(t, b, n4, n8, flag, j, i) ORDER BY r.i"

enum { C_T, C_B, C_N4, C_N8, C_FLAG, C_J, C_N };

static med_pg *pg;

static int setup(void **state)
{
    (void)state;
    med_pg_opts opts = { .dsn = th_env("PG_DSN"), .connect_retries = 5, .retry_wait_ms = 200 };
    med_err err = { 0 };
    if (med_pg_connect(&opts, &pg, &err) != MED_OK) fail_msg("connect: %s", err.message);
    if (med_pg_prepare(pg, "pg_array_rt", SQL_ROUND_TRIP, C_N, &err) != MED_OK)
        fail_msg("prepare: %s", err.message);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    med_pg_close(pg);
    return 0;
}

static void cols_init(med_pg_cols *c)
{
    const uint32_t oids[C_N] = { MED_PG_OID_TEXT, MED_PG_OID_BYTEA, MED_PG_OID_INT4,
                                 MED_PG_OID_INT8, MED_PG_OID_BOOL, MED_PG_OID_TEXT };
    med_pg_cols_init(c, oids, C_N);
}

static PGresult *run(med_pg_cols *c)
{
    med_err err = { 0 };
    assert_int_equal(med_pg_cols_finish(c, &err), MED_OK);
    PGresult *res = med_pg_exec_prepared_bin(pg, "pg_array_rt", c->n, c->values, c->lengths,
                                             c->formats, &err);
    if (!res) fail_msg("round trip: %s", err.message);
    return res;
}

static void awkward_values_survive(void **state)
{
    (void)state;
    static const char text[] = "quote' dq\" back\\slash {brace,comma} NULL é";
    static const uint8_t bytes[] = { 0x00, '\'', '"', '\\', 0xff, 0x00 };
    med_pg_cols c;
    cols_init(&c);
    med_pg_array_add_str(&c.col[C_T], text);
    med_pg_array_add(&c.col[C_B], bytes, sizeof bytes);
    med_pg_array_add_int4(&c.col[C_N4], -7);
    med_pg_array_add_int8(&c.col[C_N8], INT64_MIN + 1);
    med_pg_array_add_bool(&c.col[C_FLAG], 1);
    med_pg_array_add_str(&c.col[C_J], "{\"k\":\"v\\\\\\\"\"}");
    /* row 2: NULL everywhere but an empty string and empty bytes */
    med_pg_array_add(&c.col[C_T], NULL, 0);
    med_pg_array_add(&c.col[C_B], "", 0);
    med_pg_array_add(&c.col[C_N4], NULL, 0);
    med_pg_array_add(&c.col[C_N8], NULL, 0);
    med_pg_array_add(&c.col[C_FLAG], NULL, 0);
    med_pg_array_add_str(&c.col[C_J], NULL);
    /* row 3: an empty string is not NULL */
    med_pg_array_add_str(&c.col[C_T], "");
    med_pg_array_add(&c.col[C_B], NULL, 0);
    med_pg_array_add_int4(&c.col[C_N4], INT32_MAX);
    med_pg_array_add_int8(&c.col[C_N8], 0);
    med_pg_array_add_bool(&c.col[C_FLAG], 0);
    med_pg_array_add_str(&c.col[C_J], "{}");
    PGresult *res = run(&c);
    assert_int_equal(PQntuples(res), 3);
    assert_string_equal(PQgetvalue(res, 0, 1), "f");
    assert_string_equal(PQgetvalue(res, 0, 2), text);
    assert_string_equal(PQgetvalue(res, 0, 3), "0027225cff00");
    assert_string_equal(PQgetvalue(res, 0, 5), "-7");
    assert_string_equal(PQgetvalue(res, 0, 6), "-9223372036854775807");
    assert_string_equal(PQgetvalue(res, 0, 7), "t");
    assert_string_equal(PQgetvalue(res, 0, 8), "v\\\"");
    assert_string_equal(PQgetvalue(res, 1, 1), "t");
    assert_string_equal(PQgetvalue(res, 1, 3), "");       /* empty bytes, not NULL */
    assert_string_equal(PQgetvalue(res, 1, 4), "f");
    for (int col = 5; col <= 8; col++) assert_true(PQgetisnull(res, 1, col));
    assert_string_equal(PQgetvalue(res, 2, 1), "f");
    assert_string_equal(PQgetvalue(res, 2, 2), "");
    assert_string_equal(PQgetvalue(res, 2, 4), "t");      /* NULL bytes */
    assert_string_equal(PQgetvalue(res, 2, 5), "2147483647");
    assert_string_equal(PQgetvalue(res, 2, 6), "0");
    assert_string_equal(PQgetvalue(res, 2, 7), "f");
    assert_true(PQgetisnull(res, 2, 8));
    PQclear(res);
    med_pg_cols_free(&c);
}

static void empty_batch_is_no_rows(void **state)
{
    (void)state;
    med_pg_cols c;
    cols_init(&c);
    PGresult *res = run(&c);
    assert_int_equal(PQntuples(res), 0);
    PQclear(res);
    med_pg_cols_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(awkward_values_survive),
        cmocka_unit_test(empty_batch_is_no_rows),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
