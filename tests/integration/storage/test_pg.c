/* med_pg against a real PostgreSQL (tests/harness/infra.sh): tenant setting,
 * rollback, error mapping, transaction retries, statement timeout and
 * recovery after the server restarts. Uses its own scratch table created
 * with the admin DSN, so it does not depend on migrations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "harness.h"
#include "med/names.h"
#include "med/pg.h"
#include "med/reason.h"

#define SCRATCH "med_store_test_items"

static PGconn *admin;
static med_pg *pg;
static int pg_stopped;

/* ---- helpers -------------------------------------------------------------- */

static void admin_exec(const char *sql)
{
    PGresult *res = PQexec(admin, sql);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        fail_msg("admin SQL failed: %s: %s", sql, PQresultErrorMessage(res));
    PQclear(res);
}

static long admin_count(const char *where_id)
{
    const char *params[1] = { where_id };
    PGresult *res = PQexecParams(admin, "SELECT count(*) FROM " SCRATCH " WHERE id = $1", 1,
                                 NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) fail_msg("count: %s", PQresultErrorMessage(res));
    long n = atol(PQgetvalue(res, 0, 0));
    PQclear(res);
    return n;
}

static void infra(const char *verb, const char *what)
{
    if (th_infra(verb, what) != 0) fail_msg("infra.sh %s %s failed", verb, what);
}

static med_pg *connect_pg(int statement_timeout_ms)
{
    med_pg_opts opts = { .dsn = th_env("PG_DSN"), .connect_retries = 5, .retry_wait_ms = 200,
                         .statement_timeout_ms = statement_timeout_ms };
    med_pg *p = NULL;
    med_err err = { 0 };
    if (med_pg_connect(&opts, &p, &err) != MED_OK) fail_msg("connect: %s", err.message);
    return p;
}

/* Runs sql on pg's connection (outside med_pg_tx) and returns the first
 * column of the first row, or "<null>". */
static void query_one(PGconn *conn, const char *sql, char *out, size_t cap)
{
    PGresult *res = PQexec(conn, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) fail_msg("%s: %s", sql, PQresultErrorMessage(res));
    snprintf(out, cap, "%s", PQgetisnull(res, 0, 0) ? "<null>" : PQgetvalue(res, 0, 0));
    PQclear(res);
}

static int group_setup(void **state)
{
    (void)state;
    admin = PQconnectdb(th_env("PG_ADMIN_DSN"));
    if (PQstatus(admin) != CONNECTION_OK) fail_msg("admin connect: %s", PQerrorMessage(admin));
    admin_exec("SET client_min_messages TO warning");
    admin_exec("DROP TABLE IF EXISTS " SCRATCH);
    admin_exec("CREATE TABLE " SCRATCH " (id text PRIMARY KEY, tenant_id text, n int)");
    admin_exec("GRANT SELECT, INSERT, UPDATE, DELETE ON " SCRATCH " TO med_app");
    pg = connect_pg(0);
    med_err err = { 0 };
    if (med_pg_prepare(pg, "ins", "INSERT INTO " SCRATCH " (id, tenant_id, n) VALUES ($1, $2, $3)",
                       3, &err) != MED_OK)
        fail_msg("prepare: %s", err.message);
    if (med_pg_prepare(pg, "count", "SELECT count(*) FROM " SCRATCH " WHERE id = $1", 1, &err) !=
        MED_OK)
        fail_msg("prepare: %s", err.message);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    if (pg_stopped) infra("start-one", "pg");
    med_pg_close(pg);
    if (PQstatus(admin) != CONNECTION_OK) PQreset(admin);
    admin_exec("DROP TABLE IF EXISTS " SCRATCH);
    PQfinish(admin);
    return 0;
}

/* ---- transaction bodies --------------------------------------------------- */

typedef struct tx_probe {
    int calls;
    int fail_first;        /* this many calls fail before one succeeds */
    const char *sqlstate;  /* raised by failing calls */
    const char *id;        /* row inserted by the body */
    med_rc body_rc;        /* what the body returns after inserting */
    char seen_tenant[64];
    int kill_session;      /* first call: terminate our own backend */
} tx_probe;

static med_rc insert_row(med_pg *p, const char *id, med_err *err)
{
    const char *vals[3] = { id, "t", "1" };
    PGresult *res = med_pg_exec_prepared(p, "ins", 3, vals, err);
    if (!res) return err->rc;
    PQclear(res);
    return MED_OK;
}

static med_rc raise_sqlstate(PGconn *conn, const char *sqlstate, med_err *err)
{
    char sql[160];
    snprintf(sql, sizeof sql,
             "DO $$ BEGIN RAISE EXCEPTION 'injected' USING ERRCODE = '%s'; END $$", sqlstate);
    PGresult *res = PQexec(conn, sql);
    med_rc rc = med_pg_result_err(res, conn, err);
    PQclear(res);
    return rc;
}

static void terminate_backend(PGconn *conn)
{
    char sql[96];
    /* With a timeout it returns only once the backend is gone, so the
     * body's next statement surely meets a dead session. */
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%d, 5000)", PQbackendPID(conn));
    admin_exec(sql);
}

static med_rc probe_body(med_pg *p, PGconn *conn, void *ud, med_err *err)
{
    tx_probe *pr = ud;
    pr->calls++;
    query_one(conn, "SELECT current_setting('" MED_PG_TENANT_SETTING "', true)",
              pr->seen_tenant, sizeof pr->seen_tenant);
    if (pr->kill_session && pr->calls == 1) {
        terminate_backend(conn);
        return insert_row(p, pr->id, err);
    }
    if (pr->calls <= pr->fail_first) return raise_sqlstate(conn, pr->sqlstate, err);
    if (pr->id) {
        med_rc rc = insert_row(p, pr->id, err);
        if (rc != MED_OK) return rc;
    }
    if (pr->body_rc != MED_OK)
        return med_err_set(err, pr->body_rc, MED_R_INFRA_PG_QUERY_FAILED, "", "body says no");
    return MED_OK;
}

/* ---- tests ---------------------------------------------------------------- */

static void test_connect_and_ping(void **state)
{
    (void)state;
    med_err err = { 0 };
    assert_int_equal(med_pg_ping(pg, &err), MED_OK);
    assert_non_null(med_pg_conn(pg, &err));
}

static void test_tenant_setting_is_local_to_tx(void **state)
{
    (void)state;
    tx_probe pr = { 0 };
    med_err err = { 0 };
    assert_int_equal(med_pg_tx(pg, "tenant-a", 0, probe_body, &pr, &err), MED_OK);
    assert_int_equal(pr.calls, 1);
    assert_string_equal(pr.seen_tenant, "tenant-a");

    char after[64];
    query_one(med_pg_conn(pg, &err), "SELECT coalesce(current_setting('" MED_PG_TENANT_SETTING
              "', true), '')", after, sizeof after);
    assert_string_equal(after, "");

    tx_probe platform = { 0 };
    assert_int_equal(med_pg_tx(pg, NULL, 0, probe_body, &platform, &err), MED_OK);
    assert_true(strcmp(platform.seen_tenant, "") == 0 ||
                strcmp(platform.seen_tenant, "<null>") == 0);
}

static void test_body_failure_rolls_back(void **state)
{
    (void)state;
    tx_probe pr = { .id = "rollback-1", .body_rc = MED_ERR_INVALID };
    med_err err = { 0 };
    assert_int_equal(med_pg_tx(pg, "tenant-a", 3, probe_body, &pr, &err), MED_ERR_INVALID);
    assert_int_equal(pr.calls, 1); /* never retried */
    assert_int_equal(admin_count("rollback-1"), 0);

    /* A data error from the server is final too (22012 division_by_zero). */
    tx_probe data_error = { .fail_first = 1, .sqlstate = "22012" };
    assert_int_equal(med_pg_tx(pg, NULL, 3, probe_body, &data_error, &err), MED_ERR_INVALID);
    assert_int_equal(data_error.calls, 1);
}

static med_rc swallow_body(med_pg *p, PGconn *conn, void *ud, med_err *err)
{
    (void)ud;
    med_err ignored = { 0 };
    if (insert_row(p, "swallowed", err) != MED_OK) return err->rc;
    raise_sqlstate(conn, "22012", &ignored); /* error dropped on purpose */
    return MED_OK;
}

static void test_commit_after_failed_statement_is_refused(void **state)
{
    (void)state;
    med_err err = { 0 };
    assert_int_equal(med_pg_tx(pg, NULL, 3, swallow_body, NULL, &err), MED_ERR_INTERNAL);
    assert_int_equal(admin_count("swallowed"), 0);
    assert_int_equal(med_pg_ping(pg, &err), MED_OK);
}

static void test_unique_violation_is_conflict(void **state)
{
    (void)state;
    tx_probe first = { .id = "dup-1" };
    med_err err = { 0 };
    assert_int_equal(med_pg_tx(pg, "tenant-a", 0, probe_body, &first, &err), MED_OK);
    tx_probe second = { .id = "dup-1" };
    assert_int_equal(med_pg_tx(pg, "tenant-a", 3, probe_body, &second, &err), MED_ERR_CONFLICT);
    assert_int_equal(second.calls, 1);
    assert_string_equal(err.code, MED_R_INFRA_PG_CONFLICT);
    assert_int_equal(admin_count("dup-1"), 1);

    /* Outside a transaction too, and the message leaves row values out. */
    const char *vals[3] = { "dup-1", "t", "1" };
    assert_null(med_pg_exec_prepared(pg, "ins", 3, vals, &err));
    assert_int_equal(err.rc, MED_ERR_CONFLICT);
    assert_null(strstr(err.message, "dup-1"));
}

static void test_invalid_data_is_invalid(void **state)
{
    (void)state;
    med_err err = { 0 };
    const char *vals[3] = { "bad-int", "t", "not-a-number" };
    assert_null(med_pg_exec_prepared(pg, "ins", 3, vals, &err));
    assert_int_equal(err.rc, MED_ERR_INVALID);
    assert_string_equal(err.code, MED_R_INFRA_PG_INVALID);
    assert_null(med_pg_exec_prepared(pg, "ins", 2, vals, &err));
    assert_int_equal(err.rc, MED_ERR_INTERNAL);
    assert_null(med_pg_exec_prepared(pg, "nope", 0, NULL, &err));
    assert_int_equal(err.rc, MED_ERR_INTERNAL);
}

static void test_prepare_rejects_bad_sql_and_duplicates(void **state)
{
    (void)state;
    med_err err = { 0 };
    assert_int_equal(med_pg_prepare(pg, "broken", "SELEKT 1", 0, &err), MED_ERR_INTERNAL);
    assert_null(med_pg_exec_prepared(pg, "broken", 0, NULL, &err)); /* not registered */
    assert_int_equal(med_pg_prepare(pg, "ins", "SELECT 1", 0, &err), MED_ERR_INVALID);
}

static void test_serialization_failure_and_deadlock_are_retried(void **state)
{
    (void)state;
    const char *states[2] = { "40001", "40P01" };
    const char *ids[2] = { "retry-40001", "retry-40P01" };
    for (int i = 0; i < 2; i++) {
        tx_probe pr = { .fail_first = 2, .sqlstate = states[i], .id = ids[i] };
        med_err err = { 0 };
        assert_int_equal(med_pg_tx(pg, "tenant-a", 3, probe_body, &pr, &err), MED_OK);
        assert_int_equal(pr.calls, 3);
        assert_int_equal(admin_count(ids[i]), 1);
    }
    tx_probe hopeless = { .fail_first = 100, .sqlstate = "40001", .id = "never" };
    med_err err = { 0 };
    assert_int_equal(med_pg_tx(pg, NULL, 2, probe_body, &hopeless, &err), MED_ERR_IO);
    assert_string_equal(err.code, MED_R_INFRA_PG_RETRYABLE);
    assert_int_equal(hopeless.calls, 2);
    assert_int_equal(admin_count("never"), 0);
}

static void test_lost_connection_mid_tx_is_retried(void **state)
{
    (void)state;
    tx_probe pr = { .kill_session = 1, .id = "after-kill" };
    med_err err = { 0 };
    assert_int_equal(med_pg_tx(pg, "tenant-b", 3, probe_body, &pr, &err), MED_OK);
    assert_int_equal(pr.calls, 2);
    assert_string_equal(pr.seen_tenant, "tenant-b");
    assert_int_equal(admin_count("after-kill"), 1);
}

static void test_statement_timeout(void **state)
{
    (void)state;
    med_pg *quick = connect_pg(100);
    med_err err = { 0 };
    assert_int_equal(med_pg_prepare(quick, "nap", "SELECT pg_sleep(2)", 0, &err), MED_OK);
    long long t0 = th_now_ms();
    assert_null(med_pg_exec_prepared(quick, "nap", 0, NULL, &err));
    assert_true(th_now_ms() - t0 < 1500);
    assert_int_equal(err.rc, MED_ERR_TIMEOUT);
    assert_string_equal(err.code, MED_R_INFRA_PG_TIMEOUT);
    assert_int_equal(med_pg_ping(quick, &err), MED_OK);
    med_pg_close(quick);
}

static void test_server_restart_recovers_same_handle(void **state)
{
    (void)state;
    med_err err = { 0 };
    assert_int_equal(med_pg_ping(pg, &err), MED_OK);
    int pid_before = PQbackendPID(med_pg_conn(pg, &err));

    infra("stop-one", "pg");
    pg_stopped = 1;
    assert_int_equal(med_pg_ping(pg, &err), MED_ERR_UNAVAILABLE);
    assert_string_equal(err.code, MED_R_INFRA_PG_UNAVAILABLE);
    const char *vals[3] = { "while-down", "t", "1" };
    assert_null(med_pg_exec_prepared(pg, "ins", 3, vals, &err));
    assert_int_equal(err.rc, MED_ERR_UNAVAILABLE);
    tx_probe pr = { .id = "while-down" };
    assert_int_equal(med_pg_tx(pg, "tenant-a", 2, probe_body, &pr, &err), MED_ERR_UNAVAILABLE);
    assert_int_equal(pr.calls, 0);

    infra("start-one", "pg");
    pg_stopped = 0;
    /* Same med_pg: the statements registered before are prepared again on
     * the new session when first used. */
    const char *vals2[3] = { "after-restart", "t", "2" };
    PGresult *res = med_pg_exec_prepared(pg, "ins", 3, vals2, &err);
    if (!res) fail_msg("insert after restart: %s %s", err.code, err.message);
    PQclear(res);
    assert_int_not_equal(PQbackendPID(med_pg_conn(pg, &err)), pid_before);
    const char *idv[1] = { "after-restart" };
    res = med_pg_exec_prepared(pg, "count", 1, idv, &err);
    assert_non_null(res);
    assert_string_equal(PQgetvalue(res, 0, 0), "1");
    PQclear(res);
    assert_int_equal(med_pg_ping(pg, &err), MED_OK);

    PQreset(admin);
    assert_int_equal(PQstatus(admin), CONNECTION_OK);
    assert_int_equal(admin_count("while-down"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_and_ping),
        cmocka_unit_test(test_tenant_setting_is_local_to_tx),
        cmocka_unit_test(test_body_failure_rolls_back),
        cmocka_unit_test(test_commit_after_failed_statement_is_refused),
        cmocka_unit_test(test_unique_violation_is_conflict),
        cmocka_unit_test(test_invalid_data_is_invalid),
        cmocka_unit_test(test_prepare_rejects_bad_sql_and_duplicates),
        cmocka_unit_test(test_serialization_failure_and_deadlock_are_retried),
        cmocka_unit_test(test_lost_connection_mid_tx_is_retried),
        cmocka_unit_test(test_statement_timeout),
        cmocka_unit_test(test_server_restart_recovers_same_handle),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
