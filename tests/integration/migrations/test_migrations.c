/* The database schema against a real PostgreSQL started by
 * tests/harness/infra.sh (which applied migrations/ with tools/migrate):
 * tables, re-runnable migrations, row-level security as med_app, the
 * unique keys that guard money, partitions and required indexes.
 *
 * Needs PG_DSN (med_app), PG_ADMIN_DSN (owner) and MED_SOURCE_ROOT. Every
 * row it writes belongs to tenants named migt*_<run id>, so it can share a
 * database with other tests and run again on the same one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>
#include <libpq-fe.h>

typedef struct world {
    PGconn *admin;   /* PG_ADMIN_DSN: the schema owner */
    PGconn *app;     /* PG_DSN: med_app, subject to row-level security */
    const char *root;
    char run[32];    /* unique per run: keys and tenants carry it */
    char t1[48], t2[48];
} world;

/* ---- helpers ------------------------------------------------------------ */

static const char *need_env(const char *name)
{
    const char *v = getenv(name);
    if (v == NULL || *v == '\0') {
        fprintf(stderr, "test_migrations: %s is not set; start the servers with "
                        "'tests/harness/infra.sh start DIR' and source DIR/env\n", name);
        return NULL;
    }
    return v;
}

static PGconn *connect_dsn(const char *dsn)
{
    PGconn *c = PQconnectdb(dsn);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "test_migrations: cannot connect: %s", PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    return c;
}

typedef struct res {
    char state[6];   /* SQLSTATE, "00000" on success */
    char val[512];   /* first column of the first row, if any */
    long rows;       /* rows returned or affected */
    char msg[512];
} res;

static void take(PGresult *r, res *out)
{
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        strcpy(out->state, "00000");
        out->msg[0] = '\0';
        out->val[0] = '\0';
        if (st == PGRES_TUPLES_OK) {
            out->rows = PQntuples(r);
            if (PQntuples(r) > 0 && PQnfields(r) > 0)
                snprintf(out->val, sizeof out->val, "%s", PQgetvalue(r, 0, 0));
        } else {
            out->rows = atol(PQcmdTuples(r));
        }
    } else {
        const char *s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        snprintf(out->state, sizeof out->state, "%s", s ? s : "?????");
        snprintf(out->msg, sizeof out->msg, "%s", PQresultErrorMessage(r));
        out->rows = -1;
        out->val[0] = '\0';
    }
}

/* One statement in its own transaction, with app.tenant_id set locally
 * when tenant is not NULL (as med_pg_tx does). */
static res run_as(PGconn *c, const char *tenant, const char *fmt, ...)
{
    char sql[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);

    res out;
    memset(&out, 0, sizeof out);
    PGresult *r = PQexec(c, "BEGIN");
    PQclear(r);
    if (tenant != NULL) {
        const char *p[1] = { tenant };
        r = PQexecParams(c, "SELECT set_config('app.tenant_id', $1, true)", 1, NULL, p, NULL,
                         NULL, 0);
        PQclear(r);
    }
    r = PQexec(c, sql);
    take(r, &out);
    PQclear(r);
    r = PQexec(c, strcmp(out.state, "00000") == 0 ? "COMMIT" : "ROLLBACK");
    PQclear(r);
    if (strcmp(out.state, "00000") != 0 && getenv("MIG_TEST_VERBOSE"))
        fprintf(stderr, "[%s] %s -> %s", out.state, sql, out.msg);
    return out;
}

static void expect_ok(res r, const char *what)
{
    if (strcmp(r.state, "00000") != 0)
        fail_msg("%s: SQLSTATE %s: %s", what, r.state, r.msg);
}

static void expect_state(res r, const char *state, const char *what)
{
    if (strcmp(r.state, state) != 0)
        fail_msg("%s: expected SQLSTATE %s, got %s %s", what, state, r.state, r.msg);
}

/* Runs a shell command, output (stdout+stderr) into out; exit status. */
static int run_cmd(char *out, size_t cap, const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    FILE *p = popen(cmd, "r");
    if (p == NULL)
        return -1;
    size_t n = 0;
    out[0] = '\0';
    while (n + 1 < cap) {
        size_t k = fread(out + n, 1, cap - 1 - n, p);
        if (k == 0)
            break;
        n += k;
    }
    out[n] = '\0';
    char sink[256];
    while (fread(sink, 1, sizeof sink, p) > 0) {
    }
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static long scalar_long(PGconn *c, const char *sql)
{
    res r = run_as(c, NULL, "%s", sql);
    expect_ok(r, sql);
    return atol(r.val);
}

static const char *const k_business[] = {
    "config_snapshots", "config_publish_operations", "config_documents",
    "opportunity_records", "delivery_records", "event_records", "archive_records",
    "audit_records", "replay_jobs", "idempotency_keys", "dead_letter_records",
    "billing_ledger", "archive_record_keys", "opportunity_keys", "delivery_keys",
    "f_closures", "f_event_seq", "f_deliveries", "f_outbox",
};
static const char *const k_partitioned[] = {
    "opportunity_records", "delivery_records", "event_records", "archive_records",
    "audit_records",
};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- fixtures ----------------------------------------------------------- */

static int setup(void **state)
{
    const char *dsn = need_env("PG_DSN");
    const char *admin = need_env("PG_ADMIN_DSN");
    const char *root = need_env("MED_SOURCE_ROOT");
    if (dsn == NULL || admin == NULL || root == NULL)
        return -1;
    world *w = calloc(1, sizeof *w);
    if (w == NULL)
        return -1;
    w->root = root;
    w->admin = connect_dsn(admin);
    w->app = connect_dsn(dsn);
    if (w->admin == NULL || w->app == NULL)
        return -1;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(w->run, sizeof w->run, "%lx%lx%x", (long)ts.tv_sec, (long)(ts.tv_nsec / 1000),
             (unsigned)getpid());
    snprintf(w->t1, sizeof w->t1, "migt1_%s", w->run);
    snprintf(w->t2, sizeof w->t2, "migt2_%s", w->run);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    if (w != NULL) {
        PQfinish(w->admin);
        PQfinish(w->app);
        free(w);
    }
    return 0;
}

/* ---- tests -------------------------------------------------------------- */

static void test_tables_exist(void **state)
{
    world *w = *state;
    for (size_t i = 0; i < COUNT(k_business); i++) {
        res r = run_as(w->admin, NULL,
                       "SELECT relrowsecurity AND relforcerowsecurity FROM pg_class "
                       "WHERE oid = to_regclass('public.%s')", k_business[i]);
        expect_ok(r, k_business[i]);
        if (r.rows != 1)
            fail_msg("table %s does not exist", k_business[i]);
        if (strcmp(r.val, "t") != 0)
            fail_msg("table %s: row-level security not enabled and forced", k_business[i]);
        r = run_as(w->admin, NULL,
                   "SELECT count(*) FROM pg_policies WHERE tablename = '%s' "
                   "AND policyname = 'tenant_isolation' "
                   "AND qual LIKE '%%current_setting(''app.tenant_id''::text, true)%%' "
                   "AND with_check IS NOT NULL", k_business[i]);
        expect_ok(r, "policies");
        if (strcmp(r.val, "1") != 0)
            fail_msg("table %s has no tenant_isolation policy", k_business[i]);
    }
    for (size_t i = 0; i < COUNT(k_partitioned); i++) {
        res r = run_as(w->admin, NULL, "SELECT relkind FROM pg_class WHERE oid = 'public.%s'::regclass",
                       k_partitioned[i]);
        expect_ok(r, k_partitioned[i]);
        if (strcmp(r.val, "p") != 0)
            fail_msg("%s is not partitioned (relkind %s)", k_partitioned[i], r.val);
    }
    res r = run_as(w->admin, NULL,
                   "SELECT relrowsecurity FROM pg_class WHERE oid = 'public.schema_migrations'::regclass");
    expect_ok(r, "schema_migrations");
    assert_string_equal(r.val, "f");
    /* one row per file */
    char out[8192];
    int rc = run_cmd(out, sizeof out, "ls '%s'/migrations/[0-9][0-9][0-9][0-9]_*.sql | wc -l",
                     w->root);
    assert_int_equal(rc, 0);
    long files = atol(out);
    assert_true(files >= 6);
    assert_int_equal(scalar_long(w->admin, "SELECT count(*) FROM schema_migrations"), files);
    r = run_as(w->admin, NULL,
               "SELECT count(*) FROM schema_migrations WHERE checksum !~ '^[0-9a-f]{64}$'");
    assert_string_equal(r.val, "0");
}

static void test_migrate_rerun_is_noop(void **state)
{
    world *w = *state;
    long before = scalar_long(w->admin, "SELECT count(*) FROM schema_migrations");
    res last = run_as(w->admin, NULL, "SELECT max(applied_at)::text FROM schema_migrations");
    char out[16384];
    int rc = run_cmd(out, sizeof out, "'%s/tools/migrate' up 2>&1", w->root);
    if (rc != 0)
        fail_msg("tools/migrate up exited %d:\n%s", rc, out);
    assert_null(strstr(out, "applying"));
    assert_int_equal(scalar_long(w->admin, "SELECT count(*) FROM schema_migrations"), before);
    res again = run_as(w->admin, NULL, "SELECT max(applied_at)::text FROM schema_migrations");
    assert_string_equal(last.val, again.val);

    rc = run_cmd(out, sizeof out, "'%s/tools/migrate' status 2>&1", w->root);
    if (rc != 0)
        fail_msg("tools/migrate status exited %d:\n%s", rc, out);
    assert_non_null(strstr(out, ", 0 pending"));
    assert_null(strstr(out, "pending  "));
}

static void test_migrate_refuses_edited_and_rolls_back(void **state)
{
    world *w = *state;
    char dir[] = "/tmp/mig-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char out[16384];
    int rc = run_cmd(out, sizeof out, "cp '%s'/migrations/*.sql '%s'/ 2>&1", w->root, dir);
    assert_int_equal(rc, 0);
    long before = scalar_long(w->admin, "SELECT count(*) FROM schema_migrations");

    /* a failing new migration: nothing of it stays, exit non-zero */
    rc = run_cmd(out, sizeof out,
                 "printf 'CREATE TABLE mig_should_vanish_%s (x int);\\nSELECT 1/0;\\n' > '%s/9999_broken.sql'"
                 " && MIGRATIONS_DIR='%s' '%s/tools/migrate' up 2>&1",
                 w->run, dir, dir, w->root);
    if (rc == 0)
        fail_msg("a failing migration must make tools/migrate fail:\n%s", out);
    assert_non_null(strstr(out, "9999_broken"));
    res r = run_as(w->admin, NULL, "SELECT to_regclass('public.mig_should_vanish_%s') IS NULL", w->run);
    assert_string_equal(r.val, "t");
    assert_int_equal(scalar_long(w->admin, "SELECT count(*) FROM schema_migrations"), before);

    /* transaction control inside a file is refused up front */
    rc = run_cmd(out, sizeof out,
                 "printf 'BEGIN;\\nSELECT 1;\\nCOMMIT;\\n' > '%s/9999_broken.sql'"
                 " && MIGRATIONS_DIR='%s' '%s/tools/migrate' up 2>&1", dir, dir, w->root);
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(out, "transaction control"));

    /* an applied migration edited: refused with a clear message */
    rc = run_cmd(out, sizeof out,
                 "rm -f '%s/9999_broken.sql' && printf '%s\\n' '-- edited' >> '%s/0001_foundation.sql'"
                 " && MIGRATIONS_DIR='%s' '%s/tools/migrate' up 2>&1",
                 dir, "%s", dir, dir, w->root);
    if (rc == 0)
        fail_msg("an edited applied migration must be refused:\n%s", out);
    assert_non_null(strstr(out, "0001_foundation"));
    assert_non_null(strstr(out, "edited"));
    rc = run_cmd(out, sizeof out, "MIGRATIONS_DIR='%s' '%s/tools/migrate' status 2>&1", dir, w->root);
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(out, "CHANGED"));

    /* a removed applied migration: refused too */
    rc = run_cmd(out, sizeof out,
                 "cp '%s/migrations/0001_foundation.sql' '%s/' && rm -f '%s/0006_operations.sql'"
                 " && MIGRATIONS_DIR='%s' '%s/tools/migrate' up 2>&1",
                 w->root, dir, dir, dir, w->root);
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(out, "0006_operations"));
    assert_int_equal(scalar_long(w->admin, "SELECT count(*) FROM schema_migrations"), before);

    /* no DSN: fails with a message */
    rc = run_cmd(out, sizeof out, "env -u PG_ADMIN_DSN '%s/tools/migrate' up 2>&1", w->root);
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(out, "PG_ADMIN_DSN"));

    run_cmd(out, sizeof out, "rm -rf '%s'", dir);
}

static void test_concurrent_migrate_runs_serialize(void **state)
{
    world *w = *state;
    char out[16384];
    int rc = run_cmd(out, sizeof out,
                     "m='%s/tools/migrate'; ($m up >/dev/null 2>&1; echo $? > /tmp/mig-c1-%s) & "
                     "($m up >/dev/null 2>&1; echo $? > /tmp/mig-c2-%s) & wait; "
                     "cat /tmp/mig-c1-%s /tmp/mig-c2-%s; rm -f /tmp/mig-c1-%s /tmp/mig-c2-%s",
                     w->root, w->run, w->run, w->run, w->run, w->run, w->run);
    assert_int_equal(rc, 0);
    assert_string_equal(out, "0\n0\n");
}

static void insert_opportunity(world *w, const char *tenant, const char *as_tenant, const char *key,
                               const char *created_at, const char *want_state)
{
    res r = run_as(w->app, as_tenant,
                   "INSERT INTO opportunity_records (tenant_id, app_id, placement_id, opportunity_key,"
                   " request_key, trace_key, attempt_key, create_opportunity_contract_version, created_at)"
                   " VALUES ('%s', 'app_mig', 'plc_mig', '%s', 'req_%s', 'trace_%s', 'att_%s',"
                   " 'a_create_opportunity_v1', %s)",
                   tenant, key, key, key, key, created_at);
    expect_state(r, want_state, "insert opportunity_records");
}

static void test_rls_isolation(void **state)
{
    world *w = *state;
    char key[96];
    snprintf(key, sizeof key, "opp_rls_%s", w->run);

    insert_opportunity(w, w->t1, w->t1, key, "now()", "00000");

    res r = run_as(w->app, w->t1, "SELECT count(*) FROM opportunity_records WHERE opportunity_key = '%s'", key);
    expect_ok(r, "t1 select");
    assert_string_equal(r.val, "1");

    r = run_as(w->app, w->t2, "SELECT count(*) FROM opportunity_records WHERE opportunity_key = '%s'", key);
    expect_ok(r, "t2 select");
    assert_string_equal(r.val, "0");
    r = run_as(w->app, w->t2, "SELECT count(*) FROM opportunity_records WHERE tenant_id = '%s'", w->t1);
    assert_string_equal(r.val, "0");

    r = run_as(w->app, w->t2, "UPDATE opportunity_records SET reason_code = 'x' WHERE opportunity_key = '%s'", key);
    expect_ok(r, "t2 update");
    assert_int_equal(r.rows, 0);

    /* a row for another tenant than the session's is refused */
    char key2[96];
    snprintf(key2, sizeof key2, "opp_rls2_%s", w->run);
    insert_opportunity(w, w->t2, w->t1, key2, "now()", "42501");
    /* moving a row to another tenant is refused too */
    r = run_as(w->app, w->t1, "UPDATE opportunity_records SET tenant_id = '%s' WHERE opportunity_key = '%s'",
               w->t2, key);
    expect_state(r, "42501", "update tenant_id");

    /* without app.tenant_id: nothing visible, nothing writable */
    PGconn *fresh = connect_dsn(getenv("PG_DSN"));
    assert_non_null(fresh);
    r = run_as(fresh, NULL, "SELECT count(*) FROM opportunity_records");
    expect_ok(r, "no tenant select");
    assert_string_equal(r.val, "0");
    PQfinish(fresh);
    /* after a SET LOCAL ended the setting reads '' in this session */
    r = run_as(w->app, NULL, "SELECT count(*) FROM opportunity_records");
    assert_string_equal(r.val, "0");
    r = run_as(w->app, NULL, "SELECT count(*) FROM billing_ledger");
    assert_string_equal(r.val, "0");
    insert_opportunity(w, w->t1, NULL, key2, "now()", "42501");

    /* partitions are not reachable directly */
    r = run_as(w->app, w->t1, "SELECT count(*) FROM opportunity_records_default");
    expect_state(r, "42501", "direct partition read");

    /* med_app really is subject to RLS */
    r = run_as(w->admin, NULL, "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = 'med_app'");
    assert_string_equal(r.val, "f");
}

static void test_platform_config_visible_read_only(void **state)
{
    world *w = *state;
    char body[] = "'{\"policyPackVersion\": \"p1\"}'::jsonb";
    char sha[] = "'0000000000000000000000000000000000000000000000000000000000000001'";
    res r = run_as(w->admin, NULL,
                   "INSERT INTO config_documents (tenant_id, kind, version, body, sha256)"
                   " VALUES ('_platform', 'policy', 'pp_%s', %s, %s), ('%s', 'policy', 'pt2_%s', %s, %s)",
                   w->run, body, sha, w->t2, w->run, body, sha);
    expect_ok(r, "admin insert config_documents");

    r = run_as(w->app, w->t1, "SELECT count(*) FROM config_documents WHERE version IN ('pp_%s', 'pt2_%s')",
               w->run, w->run);
    expect_ok(r, "t1 reads config");
    assert_string_equal(r.val, "1");
    r = run_as(w->app, w->t1, "SELECT ref FROM config_documents WHERE version = 'pp_%s'", w->run);
    assert_true(strncmp(r.val, "policy:pp_", 10) == 0);
    r = run_as(w->app, NULL, "SELECT count(*) FROM config_documents WHERE version = 'pp_%s'", w->run);
    assert_string_equal(r.val, "0");

    r = run_as(w->app, w->t1,
               "INSERT INTO config_documents (tenant_id, kind, version, body, sha256)"
               " VALUES ('_platform', 'policy', 'px_%s', %s, %s)", w->run, body, sha);
    expect_state(r, "42501", "tenant writes platform config");
    r = run_as(w->app, "_platform",
               "INSERT INTO config_documents (tenant_id, kind, version, body, sha256)"
               " VALUES ('_platform', 'policy', 'px_%s', %s, %s)", w->run, body, sha);
    expect_ok(r, "_platform writes platform config");
    /* idempotent store of the same document */
    r = run_as(w->app, "_platform",
               "INSERT INTO config_documents (tenant_id, kind, version, body, sha256)"
               " VALUES ('_platform', 'policy', 'px_%s', %s, %s) ON CONFLICT DO NOTHING",
               w->run, body, sha);
    expect_ok(r, "same document again");
    assert_int_equal(r.rows, 0);
    /* documents are immutable */
    r = run_as(w->app, "_platform", "UPDATE config_documents SET body = '{}' WHERE version = 'px_%s'", w->run);
    expect_state(r, "42501", "med_app updates a document");
    r = run_as(w->admin, NULL, "UPDATE config_documents SET body = '{}' WHERE version = 'px_%s'", w->run);
    expect_state(r, "23000", "owner updates a document");
}

static void test_money_uniqueness(void **state)
{
    world *w = *state;
    char bk[160];
    snprintf(bk, sizeof bk, "resp_%s|ra_001|billable_impression", w->run);
    const char *ins =
        "INSERT INTO billing_ledger (billing_key, tenant_id, app_id, response_reference,"
        " render_attempt_id, billable_type, amount_micros, created_at)"
        " VALUES ('%s', '%s', 'app_mig', 'resp_%s', 'ra_001', 'billable_impression', 100000, %s)";

    res r = run_as(w->app, w->t1, ins, bk, w->t1, w->run, "now()");
    expect_ok(r, "first bill");
    r = run_as(w->app, w->t1, ins, bk, w->t1, w->run, "now() + interval '45 days'");
    expect_state(r, "23505", "second bill, another month");
    r = run_as(w->app, w->t1, ins, bk, w->t1, w->run, "now() - interval '400 days'");
    expect_state(r, "23505", "second bill, a year earlier");
    r = run_as(w->app, w->t2, ins, bk, w->t2, w->run, "now()");
    expect_state(r, "23505", "second bill, another tenant");
    r = run_as(w->app, w->t1,
               "INSERT INTO billing_ledger (billing_key, tenant_id, response_reference, render_attempt_id,"
               " billable_type) VALUES ('resp_%s|ra_x|billable_click', '%s', 'resp_%s', 'ra_001',"
               " 'billable_click')", w->run, w->t1, w->run);
    expect_state(r, "23514", "billing key not made of its parts");
    r = run_as(w->app, w->t1, "DELETE FROM billing_ledger WHERE billing_key = '%s'", bk);
    expect_state(r, "42501", "delete a bill");
    r = run_as(w->app, w->t1, "UPDATE billing_ledger SET render_attempt_id = 'ra_002' WHERE billing_key = '%s'", bk);
    expect_state(r, "23000", "change a claimed key");
    r = run_as(w->app, w->t1, "UPDATE billing_ledger SET record_key = 'rk_%s' WHERE billing_key = '%s'", w->run, bk);
    expect_ok(r, "fill record_key once");
    assert_int_equal(r.rows, 1);

    /* archive record keys: unique for ever across partitions */
    const char *arc =
        "INSERT INTO archive_records (tenant_id, record_key, record_type, record_status, payload_digest,"
        " trace_key, decision_reason_code, output_at, version_anchors, created_at)"
        " VALUES ('%s', 'rk_%s', 'billable_fact', 'committed', 'digest1', 'trace_%s', 'f_facts_mapped',"
        " now(), '{}', %s)";
    r = run_as(w->app, w->t1, arc, w->t1, w->run, w->run, "now()");
    expect_ok(r, "archive record");
    r = run_as(w->app, w->t1, arc, w->t1, w->run, w->run, "now() + interval '35 days'");
    expect_state(r, "23505", "same record_key next month");
    r = run_as(w->app, w->t1, arc, w->t1, w->run, w->run, "now()");
    expect_state(r, "23505", "same record_key again");
    r = run_as(w->app, w->t2, arc, w->t2, w->run, w->run, "now()");
    expect_state(r, "23505", "same record_key, another tenant");
    /* the claim is per statement (0021): one taken key refuses the whole batch */
    r = run_as(w->app, w->t1,
               "INSERT INTO archive_records (tenant_id, record_key, record_type, record_status, payload_digest,"
               " trace_key, decision_reason_code, output_at, version_anchors)"
               " SELECT '%s', k, 'billable_fact', 'committed', d, 'trace_%s', 'f_facts_mapped', now(), '{}'"
               " FROM (VALUES ('rk3_%s', 'digest3'), ('rk_%s', 'digest_other')) AS v(k, d)",
               w->t1, w->run, w->run, w->run);
    expect_state(r, "23505", "a batch with one key archived under another digest");
    r = run_as(w->app, w->t1, "SELECT count(*) FROM archive_record_keys WHERE record_key = 'rk3_%s'", w->run);
    expect_ok(r, "count rk3");
    assert_string_equal(r.val, "0");
    r = run_as(w->app, w->t1, "DELETE FROM archive_records WHERE record_key = 'rk_%s'", w->run);
    expect_state(r, "42501", "delete an archive record");
    r = run_as(w->app, w->t1, "UPDATE archive_records SET write_status = 'written' WHERE record_key = 'rk_%s'", w->run);
    expect_ok(r, "advance write status");
    assert_int_equal(r.rows, 1);
    r = run_as(w->app, w->t1, "UPDATE archive_records SET payload_digest = 'x' WHERE record_key = 'rk_%s'", w->run);
    expect_state(r, "23000", "change an archived digest");

    /* claim first, then insert the row: accepted (and no-op on conflict) */
    r = run_as(w->app, w->t1,
               "WITH c AS (INSERT INTO archive_record_keys (record_key, tenant_id, record_type, payload_digest,"
               " created_at) VALUES ('rk2_%s', '%s', 'decision_audit', 'd2', now())"
               " ON CONFLICT DO NOTHING RETURNING record_key, created_at)"
               " INSERT INTO archive_records (tenant_id, record_key, record_type, record_status, payload_digest,"
               " trace_key, decision_reason_code, output_at, version_anchors, created_at)"
               " SELECT '%s', record_key, 'decision_audit', 'committed', 'd2', 't', 'c', now(), '{}', created_at"
               " FROM c", w->run, w->t1, w->t1);
    expect_ok(r, "claim then insert");
    assert_int_equal(r.rows, 1);

    /* opportunity keys: unique for ever too */
    char key[96];
    snprintf(key, sizeof key, "opp_money_%s", w->run);
    insert_opportunity(w, w->t1, w->t1, key, "now()", "00000");
    insert_opportunity(w, w->t1, w->t1, key, "now() + interval '40 days'", "23505");

    /* delivery: one per responseReference */
    const char *dlv =
        "INSERT INTO delivery_records (tenant_id, app_id, placement_id, response_reference, trace_key,"
        " request_key, opportunity_key, delivery_status, final_reason_code, created_at)"
        " VALUES ('%s', 'a', 'p', 'resp_d_%s', 't', 'r', 'o', 'served', 'e_served', %s)";
    r = run_as(w->app, w->t1, dlv, w->t1, w->run, "now()");
    expect_ok(r, "delivery");
    r = run_as(w->app, w->t1, dlv, w->t1, w->run, "now() + interval '32 days'");
    expect_state(r, "23505", "second delivery, same responseReference");

    /* idempotency keys: unique per tenant and scope; only expired rows deletable */
    const char *idem =
        "INSERT INTO idempotency_keys (tenant_id, scope, key, state, expires_at)"
        " VALUES ('%s', 'f_dedup', 'k_%s', 'accepted_committed', %s)";
    r = run_as(w->app, w->t1, idem, w->t1, w->run, "now() + interval '14 days'");
    expect_ok(r, "idempotency key");
    r = run_as(w->app, w->t1, idem, w->t1, w->run, "now() + interval '14 days'");
    expect_state(r, "23505", "same idempotency key");
    r = run_as(w->app, w->t2, idem, w->t2, w->run, "now() + interval '14 days'");
    expect_ok(r, "same key, another tenant");
    r = run_as(w->app, w->t1, "DELETE FROM idempotency_keys WHERE key = 'k_%s'", w->run);
    expect_ok(r, "delete live key");
    assert_int_equal(r.rows, 0);
    r = run_as(w->app, w->t1, "UPDATE idempotency_keys SET expires_at = now() - interval '1 s' WHERE key = 'k_%s'", w->run);
    expect_ok(r, "expire key");
    r = run_as(w->app, w->t1, "DELETE FROM idempotency_keys WHERE key = 'k_%s'", w->run);
    expect_ok(r, "delete expired key");
    assert_int_equal(r.rows, 1);
}

static void test_partitions(void **state)
{
    world *w = *state;
    res r = run_as(w->app, NULL, "SELECT count(*) FROM med_missing_partitions()");
    expect_ok(r, "med_missing_partitions()");
    assert_string_equal(r.val, "0");
    r = run_as(w->app, NULL, "SELECT count(*) FROM med_missing_partitions(1)");
    assert_string_equal(r.val, "0");
    /* far ahead is reported as missing */
    r = run_as(w->app, NULL, "SELECT count(*) > 0 FROM med_missing_partitions(60)");
    assert_string_equal(r.val, "t");

    for (size_t i = 0; i < COUNT(k_partitioned); i++) {
        r = run_as(w->admin, NULL,
                   "SELECT count(*) FROM med_partition_bounds() WHERE parent = '%s' AND ("
                   " is_default OR range_from = date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
                   " OR range_from = (date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 month')"
                   "    AT TIME ZONE 'UTC')", k_partitioned[i]);
        expect_ok(r, "bounds");
        if (strcmp(r.val, "3") != 0)
            fail_msg("%s: expected default + this month + next month partitions, found %s",
                     k_partitioned[i], r.val);
    }

    /* a row that landed in the default partition moves into its month when
     * the partition is created (by med_app: SECURITY DEFINER) */
    char key[96];
    snprintf(key, sizeof key, "opp_part_%s", w->run);
    const char *far = "date_trunc('month', now()) + interval '11 months 3 days'";
    insert_opportunity(w, w->t1, w->t1, key, far, "00000");
    r = run_as(w->admin, NULL, "SELECT count(*) FROM med_ensure_partitions(11)");
    expect_ok(r, "med_ensure_partitions(11)");
    r = run_as(w->admin, NULL,
               "SELECT tableoid::regclass::text FROM opportunity_records WHERE opportunity_key = '%s'", key);
    expect_ok(r, "moved row");
    if (strstr(r.val, "_p") == NULL)
        fail_msg("row still in %s", r.val);
    r = run_as(w->app, w->t1, "SELECT count(*) FROM opportunity_records WHERE opportunity_key = '%s'", key);
    assert_string_equal(r.val, "1");
    r = run_as(w->app, NULL, "SELECT count(*) FROM med_ensure_partitions(2)");
    expect_ok(r, "med_app runs med_ensure_partitions");
    assert_string_equal(r.val, "0");
    r = run_as(w->app, NULL, "SELECT count(*) FROM med_ensure_partitions(-1)");
    expect_state(r, "22023", "negative months");

    char out[8192];
    int rc = run_cmd(out, sizeof out, "'%s/tools/partitions' ensure 2>&1", w->root);
    if (rc != 0)
        fail_msg("tools/partitions ensure exited %d:\n%s", rc, out);
    rc = run_cmd(out, sizeof out, "'%s/tools/partitions' check 2>&1", w->root);
    if (rc != 0)
        fail_msg("tools/partitions check exited %d:\n%s", rc, out);
    rc = run_cmd(out, sizeof out, "'%s/tools/partitions' check --months 100 2>&1", w->root);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(out, "MISSING"));
}

static void test_required_indexes(void **state)
{
    world *w = *state;
    static const struct { const char *table, *cols; int unique; } want[] = {
        { "archive_records", "(response_reference, render_attempt_id)", 0 },
        { "archive_records", "(created_at, tenant_id, app_id, placement_id)", 0 },
        { "archive_records", "(billing_key)", 0 },
        { "archive_records", "(superseded_record_key)", 0 },
        { "archive_records", "(next_attempt_at)", 0 },
        { "audit_records", "(tenant_id, idempotency_key, created_at)", 0 },
        { "archive_record_keys", "(record_key)", 1 },
        { "archive_records", "(record_key, created_at)", 1 },
        { "billing_ledger", "(billing_key)", 1 },
        { "billing_ledger", "(record_key)", 1 },
        { "idempotency_keys", "(tenant_id, scope, key)", 1 },
        { "config_documents", "(tenant_id, kind, version)", 1 },
        { "opportunity_keys", "(tenant_id, opportunity_key, create_opportunity_contract_version)", 1 },
        { "delivery_keys", "(response_reference)", 1 },
        { "billing_ledger", "(trace_key)", 0 },
        { "billing_ledger", "(created_at, tenant_id, app_id, placement_id)", 0 },
    };
    for (size_t i = 0; i < COUNT(want); i++) {
        res r = run_as(w->admin, NULL,
                       "SELECT count(*) FROM pg_indexes WHERE schemaname = 'public' AND tablename = '%s'"
                       " AND strpos(indexdef, 'USING btree %s') > 0 %s",
                       want[i].table, want[i].cols,
                       want[i].unique ? "AND indexdef LIKE 'CREATE UNIQUE INDEX%'" : "");
        expect_ok(r, "pg_indexes");
        if (atol(r.val) < 1)
            fail_msg("missing %sindex on %s %s", want[i].unique ? "unique " : "", want[i].table,
                     want[i].cols);
    }
    /* 00 "One trace through everything": every chain table is found by
     * traceKey (the other per-key indexes of the write path went in 0020). */
    static const char *const per_table[] = { "(trace_key)" };
    for (size_t t = 0; t < COUNT(k_partitioned); t++)
        for (size_t i = 0; i < COUNT(per_table); i++) {
            res r = run_as(w->admin, NULL,
                           "SELECT count(*) FROM pg_indexes WHERE schemaname = 'public' AND tablename = '%s'"
                           " AND strpos(indexdef, 'USING btree %s') > 0", k_partitioned[t], per_table[i]);
            expect_ok(r, "pg_indexes");
            if (atol(r.val) < 1)
                fail_msg("missing index on %s %s", k_partitioned[t], per_table[i]);
        }
}

/* Every index on the event/archive write path costs each row an index
 * insert and its WAL (0020). A new one must name the statement that reads
 * through it (docs/schema.md) and be added here. */
static void test_write_path_indexes_exact(void **state)
{
    world *w = *state;
    static const struct { const char *table, *names; } want[] = {
        { "event_records", "event_records_pkey,event_records_trace_idx" },
        { "archive_records",
          "archive_records_billing_key_idx,archive_records_closure_idx,archive_records_pkey,"
          "archive_records_record_key,archive_records_scope_idx,archive_records_superseded_idx,"
          "archive_records_trace_idx,archive_records_work_idx" },
        { "billing_ledger",
          "billing_ledger_pkey,billing_ledger_record_key,billing_ledger_scope_idx,"
          "billing_ledger_trace_idx" },
        { "audit_records", "audit_records_idem_idx,audit_records_pkey,audit_records_trace_idx" },
    };
    for (size_t i = 0; i < COUNT(want); i++) {
        res r = run_as(w->admin, NULL,
                       "SELECT string_agg(indexname::text, ',' ORDER BY indexname COLLATE \"C\")"
                       " FROM pg_indexes WHERE schemaname = 'public' AND tablename = '%s'",
                       want[i].table);
        expect_ok(r, "pg_indexes");
        if (strcmp(r.val, want[i].names) != 0)
            fail_msg("indexes of %s:\n  have %s\n  want %s", want[i].table, r.val, want[i].names);
    }
}

static void test_grants(void **state)
{
    world *w = *state;
    static const char *const money[] = { "billing_ledger", "archive_records", "archive_record_keys" };
    for (size_t i = 0; i < COUNT(money); i++) {
        res r = run_as(w->admin, NULL, "SELECT has_table_privilege('med_app', '%s', 'DELETE')"
                       " OR has_table_privilege('med_app', '%s', 'TRUNCATE')", money[i], money[i]);
        expect_ok(r, money[i]);
        if (strcmp(r.val, "f") != 0)
            fail_msg("med_app may delete from %s", money[i]);
    }
    for (size_t i = 0; i < COUNT(k_business); i++) {
        res r = run_as(w->admin, NULL, "SELECT has_table_privilege('med_app', '%s', 'SELECT, INSERT')",
                       k_business[i]);
        expect_ok(r, k_business[i]);
        if (strcmp(r.val, "t") != 0)
            fail_msg("med_app cannot read and insert %s", k_business[i]);
    }
    res r = run_as(w->admin, NULL,
                   "SELECT has_function_privilege('med_app', 'med_ensure_partitions(integer)', 'EXECUTE')"
                   " AND has_function_privilege('med_app', 'med_missing_partitions(integer)', 'EXECUTE')"
                   " AND NOT has_function_privilege('public', 'med_ensure_partitions(integer)', 'EXECUTE')");
    expect_ok(r, "function grants");
    assert_string_equal(r.val, "t");
    r = run_as(w->app, NULL, "SELECT count(*) FROM schema_migrations");
    expect_ok(r, "med_app reads schema_migrations");
    r = run_as(w->app, NULL, "INSERT INTO schema_migrations (version, name, checksum) VALUES (99999, 'x', 'y')");
    expect_state(r, "42501", "med_app writes schema_migrations");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tables_exist),
        cmocka_unit_test(test_migrate_rerun_is_noop),
        cmocka_unit_test(test_migrate_refuses_edited_and_rolls_back),
        cmocka_unit_test(test_concurrent_migrate_runs_serialize),
        cmocka_unit_test(test_rls_isolation),
        cmocka_unit_test(test_platform_config_visible_read_only),
        cmocka_unit_test(test_money_uniqueness),
        cmocka_unit_test(test_partitions),
        cmocka_unit_test(test_required_indexes),
        cmocka_unit_test(test_write_path_indexes_exact),
        cmocka_unit_test(test_grants),
    };
    return cmocka_run_group_tests_name("migrations", tests, setup, teardown);
}
