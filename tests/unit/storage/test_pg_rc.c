/* med_pg_result_rc / med_pg_sqlstate_rc without a server: libpq can build
 * status-only results (PQmakeEmptyPGresult) but cannot attach a SQLSTATE
 * to them, so the SQLSTATE table is checked through med_pg_sqlstate_rc and
 * the integration test checks real server errors end to end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "med/pg.h"
#include "med/reason.h"

static void test_sqlstate_table(void **state)
{
    (void)state;
    static const struct { const char *state; med_rc rc; } table[] = {
        { "23505", MED_ERR_CONFLICT },     /* unique_violation */
        { "40001", MED_ERR_IO },           /* serialization_failure */
        { "40P01", MED_ERR_IO },           /* deadlock_detected */
        { "08006", MED_ERR_UNAVAILABLE },  /* connection_failure */
        { "08001", MED_ERR_UNAVAILABLE },
        { "57P01", MED_ERR_UNAVAILABLE },  /* admin_shutdown */
        { "57P03", MED_ERR_UNAVAILABLE },  /* cannot_connect_now */
        { "53300", MED_ERR_UNAVAILABLE },  /* too_many_connections */
        { "57014", MED_ERR_TIMEOUT },      /* query_canceled (statement_timeout) */
        { "22001", MED_ERR_INVALID },      /* string_data_right_truncation */
        { "22P02", MED_ERR_INVALID },      /* invalid_text_representation */
        { "23502", MED_ERR_INVALID },      /* not_null_violation */
        { "23503", MED_ERR_INVALID },      /* foreign_key_violation */
        { "23514", MED_ERR_INVALID },      /* check_violation */
        { "42601", MED_ERR_INTERNAL },     /* syntax_error */
        { "42501", MED_ERR_INTERNAL },     /* insufficient_privilege */
        { "25P02", MED_ERR_INTERNAL },     /* in_failed_sql_transaction */
        { "XX000", MED_ERR_IO },           /* internal_error */
        { "58030", MED_ERR_IO },           /* io_error */
        { NULL, MED_ERR_UNAVAILABLE },     /* libpq's own failure */
        { "", MED_ERR_UNAVAILABLE },
        { "2350", MED_ERR_UNAVAILABLE },   /* malformed: not a server answer */
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        print_message("sqlstate %s\n", table[i].state ? table[i].state : "(null)");
        assert_int_equal(med_pg_sqlstate_rc(table[i].state), table[i].rc);
    }
}

static void check_status(ExecStatusType status, med_rc want)
{
    PGresult *res = PQmakeEmptyPGresult(NULL, status);
    assert_non_null(res);
    assert_int_equal(med_pg_result_rc(res), want);
    PQclear(res);
}

static void test_result_status(void **state)
{
    (void)state;
    check_status(PGRES_COMMAND_OK, MED_OK);
    check_status(PGRES_TUPLES_OK, MED_OK);
    check_status(PGRES_EMPTY_QUERY, MED_OK);
    /* Failures libpq raises itself carry no SQLSTATE: the socket broke. */
    check_status(PGRES_FATAL_ERROR, MED_ERR_UNAVAILABLE);
    check_status(PGRES_BAD_RESPONSE, MED_ERR_UNAVAILABLE);
    assert_int_equal(med_pg_result_rc(NULL), MED_ERR_UNAVAILABLE);
}

static void test_result_err_fills_reason(void **state)
{
    (void)state;
    med_err err = { 0 };
    PGresult *ok = PQmakeEmptyPGresult(NULL, PGRES_COMMAND_OK);
    assert_int_equal(med_pg_result_err(ok, NULL, &err), MED_OK);
    assert_string_equal(err.code, "");
    PQclear(ok);

    PGresult *bad = PQmakeEmptyPGresult(NULL, PGRES_FATAL_ERROR);
    assert_int_equal(med_pg_result_err(bad, NULL, &err), MED_ERR_UNAVAILABLE);
    assert_string_equal(err.code, MED_R_INFRA_PG_UNAVAILABLE);
    assert_int_equal(err.rc, MED_ERR_UNAVAILABLE);
    PQclear(bad);

    assert_int_equal(med_pg_result_err(NULL, NULL, &err), MED_ERR_UNAVAILABLE);
    assert_string_equal(err.code, MED_R_INFRA_PG_UNAVAILABLE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sqlstate_table),
        cmocka_unit_test(test_result_status),
        cmocka_unit_test(test_result_err_fills_reason),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
