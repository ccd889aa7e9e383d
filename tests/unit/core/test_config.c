/* Run-mode defaults, overrides, validation and prod refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "med/config.h"
#include "med/reason.h"

#define MAX_VARS 32

typedef struct fake_env {
    const char *keys[MAX_VARS];
    const char *values[MAX_VARS];
    int n;
} fake_env;

/* Later sets win, so a test can override one key of a base env. */
static void env_set(fake_env *e, const char *key, const char *value)
{
    for (int i = 0; i < e->n; i++)
        if (strcmp(e->keys[i], key) == 0) {
            e->values[i] = value;
            return;
        }
    assert_true(e->n < MAX_VARS);
    e->keys[e->n] = key;
    e->values[e->n] = value;
    e->n++;
}

static const char *fake_lookup(const char *key, void *ud)
{
    const fake_env *e = ud;
    for (int i = 0; i < e->n; i++)
        if (strcmp(e->keys[i], key) == 0) return e->values[i];
    return NULL;
}

static med_config *load_ok(fake_env *e)
{
    med_config *cfg = NULL;
    med_err err = { 0 };
    med_rc rc = med_config_load_from("svc_test", fake_lookup, e, &cfg, &err);
    if (rc != MED_OK) fail_msg("load failed: %s %s %s", err.code, err.field, err.message);
    assert_non_null(cfg);
    return cfg;
}

static void expect_failure(fake_env *e, const char *code, const char *field)
{
    med_config *cfg = (med_config *)0x1;
    med_err err = { 0 };
    assert_int_equal(med_config_load_from("svc_test", fake_lookup, e, &cfg, &err), MED_ERR_INVALID);
    assert_null(cfg);
    assert_string_equal(err.code, code);
    assert_string_equal(err.field, field);
    assert_true(strlen(err.message) > 0);
}

/* The smallest environment prod accepts. */
static void prod_base(fake_env *e)
{
    memset(e, 0, sizeof *e);
    env_set(e, "APP_ENV", "prod");
    env_set(e, "NATS_URL", "nats://nats-0.nats:4222,nats://nats-1.nats:4222");
    env_set(e, "PG_DSN", "host=pg.internal dbname=mediation user=med_app password=Zr81-prod");
    env_set(e, "REDIS_HOST", "redis.internal");
    env_set(e, "JWKS_PATH", "/var/run/med/jwks.json");
    env_set(e, "JWT_ISSUER", "https://id.example.com");
    env_set(e, "JWT_AUDIENCE", "mediation");
    env_set(e, "JWT_SIGNING_SECRET", "3b1f0c9e6a7d4e2f8a9b0c1d2e3f4a5b");
}

static void test_dev_defaults(void **state)
{
    (void)state;
    fake_env e = { 0 };
    med_config *cfg = load_ok(&e);
    assert_int_equal(med_config_env(cfg), MED_ENV_DEV);
    assert_string_equal(med_config_env_name(med_config_env(cfg)), "dev");
    assert_string_equal(med_config_service(cfg), "svc_test");
    assert_string_equal(med_config_str(cfg, "APP_ENV"), "dev");
    assert_string_equal(med_config_str(cfg, "NATS_URL"), "nats://127.0.0.1:4222");
    assert_string_equal(med_config_str(cfg, "ADMIN_HTTP_HOST"), "127.0.0.1");
    assert_int_equal(med_config_int(cfg, "ADMIN_HTTP_PORT"), 0);
    assert_int_equal(med_config_int(cfg, "EDGE_HTTP_PORT"), 8080);
    assert_int_equal(med_config_int(cfg, "EDGE_REQUEST_TIMEOUT_MS"), 2000);
    assert_int_equal(med_config_int(cfg, "EDGE_BODY_LIMIT_BYTES"), 1048576);
    assert_int_equal(med_config_int(cfg, "EDGE_JSON_MAX_DEPTH"), 32);
    assert_false(med_config_bool(cfg, "EDGE_TLS_ENABLED"));
    assert_false(med_config_bool(cfg, "AUTH_ENABLED"));
    assert_true(med_config_bool(cfg, "DEV_AUTOSTART_SERVICES"));
    assert_false(med_config_bool(cfg, "FAULT_INJECTION_ENABLED"));
    assert_true(med_config_bool(cfg, "RLS_ENFORCED"));
    assert_string_equal(med_config_str(cfg, "EDGE_DEV_TENANT"), "t_dev");
    assert_string_equal(med_config_str(cfg, "JS_BACKOFF_MS"), "1000,5000,30000,120000,600000");
    assert_int_equal(med_config_int(cfg, "JS_MAX_DELIVER"), 5);
    assert_int_equal(med_config_int(cfg, "JS_STREAM_REPLICAS"), 1);
    assert_int_equal(med_config_int(cfg, "PG_CONNECT_RETRIES"), 20);
    assert_int_equal(med_config_int(cfg, "F_BILLING_DEDUP_WINDOW_SEC"), 1209600);
    assert_string_equal(med_config_str(cfg, "OTEL_EXPORTER_OTLP_ENDPOINT"), "");

    char expected[300], host[256];
    assert_int_equal(gethostname(host, sizeof host), 0);
    host[sizeof host - 1] = '\0';
    snprintf(expected, sizeof expected, "%s-%ld", host, (long)getpid());
    assert_string_equal(med_config_str(cfg, "SERVICE_INSTANCE"), expected);
    med_config_free(cfg);
}

static void test_ci_defaults(void **state)
{
    (void)state;
    fake_env e = { 0 };
    env_set(&e, "APP_ENV", "ci");
    med_config *cfg = load_ok(&e);
    assert_int_equal(med_config_env(cfg), MED_ENV_CI);
    assert_int_equal(med_config_int(cfg, "EDGE_REQUEST_TIMEOUT_MS"), 3000);
    assert_true(med_config_bool(cfg, "FAULT_INJECTION_ENABLED"));
    assert_false(med_config_bool(cfg, "DEV_AUTOSTART_SERVICES"));
    assert_false(med_config_bool(cfg, "AUTH_ENABLED"));
    assert_int_equal(med_config_int(cfg, "JS_STREAM_REPLICAS"), 1);
    assert_string_equal(med_config_str(cfg, "EDGE_DEV_TENANT"), "t_dev");
    med_config_free(cfg);
}

static void test_prod_defaults(void **state)
{
    (void)state;
    fake_env e;
    prod_base(&e);
    med_config *cfg = load_ok(&e);
    assert_int_equal(med_config_env(cfg), MED_ENV_PROD);
    assert_int_equal(med_config_int(cfg, "EDGE_REQUEST_TIMEOUT_MS"), 1000);
    assert_true(med_config_bool(cfg, "AUTH_ENABLED"));
    assert_true(med_config_bool(cfg, "EDGE_TLS_ENABLED"));
    assert_false(med_config_bool(cfg, "FAULT_INJECTION_ENABLED"));
    assert_false(med_config_bool(cfg, "DEV_AUTOSTART_SERVICES"));
    assert_string_equal(med_config_str(cfg, "ADMIN_HTTP_HOST"), "0.0.0.0");
    assert_string_equal(med_config_str(cfg, "EDGE_HTTP_HOST"), "0.0.0.0");
    assert_int_equal(med_config_int(cfg, "JS_STREAM_REPLICAS"), 3);
    assert_int_equal(med_config_int(cfg, "PG_CONNECT_RETRIES"), 60);
    assert_string_equal(med_config_str(cfg, "EDGE_DEV_TENANT"), "");
    med_config_free(cfg);
}

static void test_env_overrides(void **state)
{
    (void)state;
    fake_env e = { 0 };
    env_set(&e, "EDGE_HTTP_PORT", "9099");
    env_set(&e, "LOG_LEVEL", "debug");
    env_set(&e, "FAULT_INJECTION_ENABLED", "1");
    env_set(&e, "DEV_AUTOSTART_SERVICES", "0");
    env_set(&e, "SERVICE_INSTANCE", "edge-7");
    env_set(&e, "OTEL_EXPORTER_OTLP_ENDPOINT", "http://otel:4318");
    env_set(&e, "JS_BACKOFF_MS", "100, 200");
    med_config *cfg = load_ok(&e);
    assert_int_equal(med_config_int(cfg, "EDGE_HTTP_PORT"), 9099);
    assert_string_equal(med_config_str(cfg, "EDGE_HTTP_PORT"), "9099");
    assert_string_equal(med_config_str(cfg, "LOG_LEVEL"), "debug");
    assert_true(med_config_bool(cfg, "FAULT_INJECTION_ENABLED"));
    assert_false(med_config_bool(cfg, "DEV_AUTOSTART_SERVICES"));
    assert_string_equal(med_config_str(cfg, "SERVICE_INSTANCE"), "edge-7");
    assert_string_equal(med_config_str(cfg, "OTEL_EXPORTER_OTLP_ENDPOINT"), "http://otel:4318");
    assert_string_equal(med_config_str(cfg, "JS_BACKOFF_MS"), "100, 200");
    med_config_free(cfg);
}

static void test_getenv_source(void **state)
{
    (void)state;
    assert_int_equal(setenv("APP_ENV", "ci", 1), 0);
    assert_int_equal(setenv("JS_FETCH_BATCH", "7", 1), 0);
    med_config *cfg = NULL;
    med_err err = { 0 };
    assert_int_equal(med_config_load("svc_env", &cfg, &err), MED_OK);
    assert_int_equal(med_config_env(cfg), MED_ENV_CI);
    assert_int_equal(med_config_int(cfg, "JS_FETCH_BATCH"), 7);
    med_config_free(cfg);
    unsetenv("APP_ENV");
    unsetenv("JS_FETCH_BATCH");
}

typedef struct bad_value {
    const char *key;
    const char *value;
} bad_value;

static void test_invalid_values_name_key(void **state)
{
    (void)state;
    static const bad_value cases[] = {
        { "APP_ENV", "staging" },
        { "APP_ENV", "" },
        { "APP_ENV", "PROD" },
        { "EDGE_HTTP_PORT", "abc" },
        { "EDGE_HTTP_PORT", "70000" },
        { "EDGE_HTTP_PORT", "-1" },
        { "EDGE_HTTP_PORT", "80 " },
        { "EDGE_HTTP_PORT", " 80" },
        { "EDGE_HTTP_PORT", "" },
        { "REDIS_PORT", "0" },
        { "JS_MAX_DELIVER", "99999999999999999999999" },
        { "JS_STREAM_REPLICAS", "1.5" },
        { "AUTH_ENABLED", "yes" },
        { "RLS_ENFORCED", "TRUE" },
        { "LOG_LEVEL", "verbose" },
        { "JS_BACKOFF_MS", "1000,abc" },
        { "JS_BACKOFF_MS", "" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fake_env e = { 0 };
        env_set(&e, cases[i].key, cases[i].value);
        expect_failure(&e, MED_R_CFG_INVALID_VALUE, cases[i].key);
    }
}

static void test_invalid_secret_value_not_echoed(void **state)
{
    (void)state;
    fake_env e;
    prod_base(&e);
    env_set(&e, "PG_DSN", "host='unterminated password=TopSecret42");
    med_config *cfg = NULL;
    med_err err = { 0 };
    assert_int_equal(med_config_load_from("svc", fake_lookup, &e, &cfg, &err), MED_ERR_INVALID);
    assert_string_equal(err.code, MED_R_CFG_INVALID_VALUE);
    assert_string_equal(err.field, "PG_DSN");
    assert_null(strstr(err.message, "TopSecret42"));
}

typedef struct prod_case {
    const char *key;
    const char *value;
    const char *code;
} prod_case;

static void test_prod_refusals_name_key(void **state)
{
    (void)state;
    static const prod_case cases[] = {
        { "AUTH_ENABLED", "false", MED_R_CFG_PROD_UNSAFE },
        { "EDGE_TLS_ENABLED", "false", MED_R_CFG_PROD_UNSAFE },
        { "EDGE_TLS_ENABLED", "0", MED_R_CFG_PROD_UNSAFE },
        { "JWT_SIGNING_SECRET", "dev-only-insecure-jwt-signing-secret", MED_R_CFG_PROD_UNSAFE },
        { "JWT_SIGNING_SECRET", "", MED_R_CFG_PROD_UNSAFE },
        { "DEV_AUTOSTART_SERVICES", "true", MED_R_CFG_PROD_UNSAFE },
        { "MAINTENANCE_DESTRUCTIVE_ENABLED", "true", MED_R_CFG_PROD_UNSAFE },
        { "FAULT_INJECTION_ENABLED", "1", MED_R_CFG_PROD_UNSAFE },
        { "JWKS_PATH", "", MED_R_CFG_PROD_UNSAFE },
        { "JWT_ISSUER", "", MED_R_CFG_PROD_UNSAFE },
        { "JWT_AUDIENCE", "", MED_R_CFG_PROD_UNSAFE },
        { "RLS_ENFORCED", "false", MED_R_CFG_PROD_UNSAFE },
        { "PG_DSN", "host=pg dbname=mediation user=postgres password=x", MED_R_CFG_PROD_UNSAFE },
        { "PG_DSN", "host=pg user = postgres password=x", MED_R_CFG_PROD_UNSAFE },
        { "PG_DSN", "postgresql://postgres:pw@pg:5432/mediation", MED_R_CFG_PROD_UNSAFE },
        { "PG_DSN", "host=127.0.0.1 port=5432 dbname=mediation user=med_app password=med_app "
                    "connect_timeout=3", MED_R_CFG_PROD_UNSAFE },
        { "NATS_URL", "", MED_R_CFG_INVALID_VALUE },
        { "PG_DSN", "", MED_R_CFG_INVALID_VALUE },
        { "REDIS_HOST", "", MED_R_CFG_INVALID_VALUE },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fake_env e;
        prod_base(&e);
        env_set(&e, cases[i].key, cases[i].value);
        expect_failure(&e, cases[i].code, cases[i].key);
    }
}

static void test_prod_required_defaults_missing(void **state)
{
    (void)state;
    /* APP_ENV=prod alone: the first missing dependency is named. */
    fake_env e = { 0 };
    env_set(&e, "APP_ENV", "prod");
    expect_failure(&e, MED_R_CFG_INVALID_VALUE, "NATS_URL");
}

static void test_dev_allows_what_prod_refuses(void **state)
{
    (void)state;
    fake_env e = { 0 };
    env_set(&e, "AUTH_ENABLED", "false");
    env_set(&e, "MAINTENANCE_DESTRUCTIVE_ENABLED", "true");
    env_set(&e, "PG_DSN", "host=127.0.0.1 user=postgres");
    env_set(&e, "JWKS_PATH", "");
    med_config *cfg = load_ok(&e);
    assert_true(med_config_bool(cfg, "MAINTENANCE_DESTRUCTIVE_ENABLED"));
    med_config_free(cfg);
}

static void test_unknown_key_and_type_mismatch(void **state)
{
    (void)state;
    fake_env e = { 0 };
    med_config *cfg = load_ok(&e);
    assert_string_equal(med_config_str(cfg, "NO_SUCH_KEY"), "");
    assert_int_equal(med_config_int(cfg, "NO_SUCH_KEY"), 0);
    assert_int_equal(med_config_bool(cfg, "NO_SUCH_KEY"), 0);
    assert_int_equal(med_config_int(cfg, "NATS_URL"), 0);
    assert_string_equal(med_config_str(NULL, "NATS_URL"), "");
    med_config_free(cfg);
    med_config_free(NULL);
    assert_null(med_config_key_name(-1));
    assert_null(med_config_key_name(med_config_key_count()));
}

static void test_table_is_well_formed(void **state)
{
    (void)state;
    int n = med_config_key_count();
    assert_true(n >= 45);
    for (int i = 0; i < n; i++) {
        const char *name = med_config_key_name(i);
        assert_non_null(name);
        const char *desc = med_config_key_description(i);
        assert_non_null(desc);
        assert_true(strlen(desc) > 10);
        assert_null(strchr(desc, '\n'));
        for (int env = MED_ENV_DEV; env <= MED_ENV_PROD; env++)
            assert_non_null(med_config_key_default(i, (med_env)env));
        for (int j = 0; j < i; j++) assert_string_not_equal(name, med_config_key_name(j));
    }
}

/* ---- .env.example stays in sync with the table ---- */

static int key_index_of(const char *name)
{
    for (int i = 0; i < med_config_key_count(); i++)
        if (strcmp(med_config_key_name(i), name) == 0) return i;
    return -1;
}

static void strip_newline(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r')) s[--n] = '\0';
}

/* Values may be double-quoted for the shell (PG_DSN has spaces). */
static const char *unquote(char *v)
{
    size_t n = strlen(v);
    if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
        v[n - 1] = '\0';
        return v + 1;
    }
    return v;
}

static void check_env_line(char *line, const char *prev_comment, int *seen)
{
    char *eq = strchr(line, '=');
    if (!eq) fail_msg(".env.example: not KEY=value: %s", line);
    *eq = '\0';
    int idx = key_index_of(line);
    if (idx < 0) fail_msg(".env.example lists unknown key %s", line);
    if (seen[idx]++) fail_msg(".env.example lists %s twice", line);
    const char *value = unquote(eq + 1);
    if (strcmp(value, med_config_key_default(idx, MED_ENV_DEV)) != 0)
        fail_msg(".env.example %s=%s, dev default is %s", line, value,
                 med_config_key_default(idx, MED_ENV_DEV));
    if (strncmp(prev_comment, "# ", 2) != 0 ||
        strcmp(prev_comment + 2, med_config_key_description(idx)) != 0)
        fail_msg(".env.example %s: the line above must be '# %s'", line,
                 med_config_key_description(idx));
}

static void test_env_example_matches_table(void **state)
{
    (void)state;
    const char *root = getenv("MED_SOURCE_ROOT");
    if (!root) fail_msg("MED_SOURCE_ROOT is not set (meson passes it)");
    char path[4096];
    snprintf(path, sizeof path, "%s/.env.example", root);
    FILE *f = fopen(path, "r");
    if (!f) fail_msg("cannot open %s", path);
    int n = med_config_key_count();
    int *seen = calloc((size_t)n, sizeof *seen);
    assert_non_null(seen);
    char line[1024], prev[1024] = "";
    while (fgets(line, sizeof line, f)) {
        strip_newline(line);
        if (line[0] && line[0] != '#') check_env_line(line, prev, seen);
        strcpy(prev, line);
    }
    fclose(f);
    for (int i = 0; i < n; i++)
        if (!seen[i]) fail_msg(".env.example is missing %s", med_config_key_name(i));
    free(seen);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dev_defaults),
        cmocka_unit_test(test_ci_defaults),
        cmocka_unit_test(test_prod_defaults),
        cmocka_unit_test(test_env_overrides),
        cmocka_unit_test(test_getenv_source),
        cmocka_unit_test(test_invalid_values_name_key),
        cmocka_unit_test(test_invalid_secret_value_not_echoed),
        cmocka_unit_test(test_prod_refusals_name_key),
        cmocka_unit_test(test_prod_required_defaults_missing),
        cmocka_unit_test(test_dev_allows_what_prod_refuses),
        cmocka_unit_test(test_unknown_key_and_type_mismatch),
        cmocka_unit_test(test_table_is_well_formed),
        cmocka_unit_test(test_env_example_matches_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
