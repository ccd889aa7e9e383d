/* Run-mode aware configuration (spec 05 section 2). */
#include "med/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "med/backoff.h"
#include "med/reason.h"

typedef enum cfg_type {
    CFG_STR,
    CFG_INT,
    CFG_BOOL,
    CFG_ENUM,    /* one of the '|'-separated words in `allowed` */
    CFG_MS_LIST, /* comma-separated positive ms (backoff ladder) */
} cfg_type;

/* The value embeds a credential: never echoed in errors, and in prod it
 * must not be a dev/ci default. Keys named *_SECRET / *_PASSWORD get this
 * automatically. */
#define CFG_SECRET 0x1u

typedef struct cfg_key_def {
    const char *name;
    cfg_type type;
    unsigned flags;
    int64_t min, max;    /* CFG_INT */
    const char *allowed; /* CFG_ENUM */
    const char *def[3];  /* indexed by med_env */
    const char *description;
} cfg_key_def;

#define KSTR(n, fl, d, c, p, desc) { n, CFG_STR, fl, 0, 0, NULL, { d, c, p }, desc },
#define KINT(n, lo, hi, d, c, p, desc) { n, CFG_INT, 0, lo, hi, NULL, { d, c, p }, desc },
#define KBOOL(n, d, c, p, desc) { n, CFG_BOOL, 0, 0, 0, NULL, { d, c, p }, desc },
#define KENUM(n, al, d, c, p, desc) { n, CFG_ENUM, 0, 0, 0, al, { d, c, p }, desc },
#define KLIST(n, d, c, p, desc) { n, CFG_MS_LIST, 0, 0, 0, NULL, { d, c, p }, desc },

#define DEV_PG_DSN "host=127.0.0.1 port=5432 dbname=mediation user=med_app password=med_app connect_timeout=3"
#define DEV_JWT_SECRET "dev-only-insecure-jwt-signing-secret"
#define SEC_MAX (366LL * 86400)
#define MS_MAX (86400LL * 1000)

/* The one list of configuration keys. .env.example and docs/config.md
 * mirror it; test_config checks .env.example against it. */
static const cfg_key_def cfg_keys[] = {
    /* ---- identity of the process ---- */
    KENUM("APP_ENV", "dev|ci|prod", "dev", "ci", "prod",
          "Run mode (dev|ci|prod): picks every other default and turns on the prod refusals")
    KSTR("SERVICE_INSTANCE", 0, "", "", "",
         "Instance id in logs, hops and metrics; empty means <hostname>-<pid> at start-up")
    KENUM("LOG_LEVEL", "debug|info|warn|error", "info", "info", "info",
          "Lowest log level written (debug|info|warn|error)")
    /* ---- dependencies ---- */
    KSTR("NATS_URL", 0, "nats://127.0.0.1:4222", "nats://127.0.0.1:4222", "",
         "NATS server URL(s), comma-separated; required in prod")
    KSTR("PG_DSN", CFG_SECRET, DEV_PG_DSN, DEV_PG_DSN, "",
         "libpq connection string of the application role (never a superuser); required in prod")
    KSTR("REDIS_HOST", 0, "127.0.0.1", "127.0.0.1", "", "Redis host; required in prod")
    KINT("REDIS_PORT", 1, 65535, "6379", "6379", "6379", "Redis server port")
    /* ---- admin HTTP (/healthz /readyz /metrics) ---- */
    KSTR("ADMIN_HTTP_HOST", 0, "127.0.0.1", "127.0.0.1", "0.0.0.0",
         "Address the admin HTTP server binds")
    KINT("ADMIN_HTTP_PORT", 0, 65535, "0", "0", "9090",
         "Admin HTTP port; 0 picks a free port")
    /* ---- public edge ---- */
    KSTR("EDGE_HTTP_HOST", 0, "127.0.0.1", "127.0.0.1", "0.0.0.0", "Address the public edge binds")
    KINT("EDGE_HTTP_PORT", 0, 65535, "8080", "8080", "8080",
         "Public edge port; 0 picks a free port")
    KINT("EDGE_BODY_LIMIT_BYTES", 1, 64LL * 1024 * 1024, "1048576", "1048576", "1048576",
         "Largest request body the edge accepts (larger: 413 edge_body_too_large)")
    KINT("EDGE_JSON_MAX_DEPTH", 1, 1024, "32", "32", "32",
         "Deepest JSON nesting the edge accepts (deeper: 400 edge_json_too_deep)")
    KINT("EDGE_REQUEST_TIMEOUT_MS", 1, 600000, "2000", "3000", "1000",
         "Edge deadline for a synchronous answer from the chain")
    KINT("EDGE_EVENTS_TIMEOUT_MS", 1, 600000, "5000", "5000", "5000",
         "Edge deadline for stage F's ACK of POST /v1/events (then 503, the SDK resends)")
    KINT("EDGE_QUERY_TIMEOUT_MS", 1, 600000, "10000", "10000", "10000",
         "Edge deadline for stage G's answer to a replay or reconciliation query")
    KBOOL("EDGE_TLS_ENABLED", "false", "false", "true", "Serve the public edge over TLS")
    KSTR("EDGE_TLS_CERT_FILE", 0, "", "", "", "PEM certificate chain of the edge (TLS on)")
    KSTR("EDGE_TLS_KEY_FILE", 0, "", "", "", "PEM private key of the edge (TLS on)")
    KSTR("EDGE_DEV_TENANT", 0, "t_dev", "t_dev", "",
         "Tenant the edge uses only while AUTH_ENABLED=false")
    KSTR("CONFIG_ENVIRONMENT", 0, "", "", "prod",
         "Config environment (prod or staging) ad requests use; empty means prod")
    /* ---- identity and secrets ---- */
    KBOOL("AUTH_ENABLED", "false", "false", "true", "Require a verified JWT on every edge call")
    KSTR("JWKS_PATH", 0, ".run/secrets/jwks.json", ".run/secrets/jwks.json", "",
         "JWKS file (or URL) with the token verification keys; required in prod")
    KSTR("JWT_ISSUER", 0, "med-local", "med-local", "", "Expected iss claim; required in prod")
    KSTR("JWT_AUDIENCE", 0, "mediation", "mediation", "", "Expected aud claim; required in prod")
    KSTR("JWT_SIGNING_SECRET", CFG_SECRET, DEV_JWT_SECRET, DEV_JWT_SECRET, "",
         "HMAC key for internal service tokens; prod needs a real one")
    KSTR("SECRETS_DIR", 0, ".run/secrets", ".run/secrets", ".run/secrets",
         "Directory of secret files (0600), e.g. network credentials")
    /* ---- safety switches ---- */
    KBOOL("DEV_AUTOSTART_SERVICES", "true", "false", "false",
          "Let tooling start local dependencies on demand; prod refuses true")
    KBOOL("MAINTENANCE_DESTRUCTIVE_ENABLED", "false", "false", "false",
          "Allow destructive maintenance (purge, partition drop); prod refuses true")
    KBOOL("FAULT_INJECTION_ENABLED", "false", "true", "false",
          "Honour the Med-Fault header (chaos tests); prod refuses true")
    KBOOL("RLS_ENFORCED", "true", "true", "true",
          "Row-level security must be on for business tables; prod refuses false")
    /* ---- JetStream ---- */
    KINT("JS_MAX_DELIVER", 1, 100, "5", "5", "5",
         "Deliveries before a retried message is dead-lettered")
    KLIST("JS_BACKOFF_MS", "1000,5000,30000,120000,600000", "1000,5000,30000,120000,600000",
          "1000,5000,30000,120000,600000", "Redelivery delay ladder in ms, comma-separated")
    KINT("JS_ACK_WAIT_MS", 1, 3600000, "30000", "30000", "30000",
         "Time a consumer has to ack before redelivery")
    KINT("JS_FETCH_BATCH", 1, 10000, "64", "64", "64", "Messages per pull-consumer fetch")
    KINT("JS_FETCH_TIMEOUT_MS", 1, 60000, "500", "500", "500", "Longest wait of one fetch")
    KINT("JS_STREAM_REPLICAS", 1, 5, "1", "1", "3", "Replicas of every stream")
    KINT("JS_DUPLICATE_WINDOW_MS", 1, MS_MAX, "120000", "120000", "120000",
         "Stream duplicate window for Nats-Msg-Id")
    /* ---- PostgreSQL ---- */
    KINT("PG_CONNECT_RETRIES", 0, 10000, "20", "20", "60",
         "Connection attempts at start-up before giving up")
    KINT("PG_RETRY_WAIT_MS", 1, 60000, "500", "500", "500", "Wait between connection attempts")
    KINT("READINESS_PROBE_INTERVAL_MS", 10, 600000, "1000", "1000", "1000",
         "How often /readyz re-probes NATS, PostgreSQL and Redis")
    /* ---- stage windows ---- */
    KINT("A_DEDUP_WINDOW_SEC", 1, SEC_MAX, "120", "120", "120", "A request de-duplication window")
    KINT("F_TERMINAL_WAIT_SEC", 1, SEC_MAX, "120", "120", "120",
         "F wait for a terminal event before closing an attempt")
    KINT("F_BILLING_DEDUP_WINDOW_SEC", 1, SEC_MAX, "1209600", "1209600", "1209600",
         "F billing event de-duplication window (14 d)")
    KINT("F_DIAG_DEDUP_WINDOW_SEC", 1, SEC_MAX, "259200", "259200", "259200",
         "F diagnostic event de-duplication window (3 d)")
    KINT("F_INFLIGHT_LOCK_SEC", 1, SEC_MAX, "120", "120", "120",
         "F in-flight lock lifetime per record key")
    KINT("F_SCAN_INTERVAL_MS", 100, 5000, "5000", "5000", "5000",
         "F closure/outbox scanner period (spec: at most 5 s)")
    KINT("F_ARCHIVE_COMPENSATION_SEC", 1, SEC_MAX, "900", "900", "900",
         "F archive compensation window: a record G could not take is resent until it, then conflicted (15 min)")
    KINT("F_EVENT_WORKERS", 1, 16, "4", "4", "4",
         "F EventBatch loops per process, each with its own PostgreSQL connection")
    KINT("G_APPEND_WINDOW_SEC", 1, SEC_MAX, "604800", "604800", "604800",
         "G append idempotency window (7 d, inclusive)")
    KINT("G_APPEND_RATE_PER_SEC", 0, 1000000, "10000", "10000", "10000",
         "G appends accepted per tenant per second per replica; 0 = unlimited")
    KINT("G_ARCHIVE_COMPENSATION_SEC", 1, SEC_MAX, "900", "900", "900",
         "G archive write compensation window: pending/retrying records fail terminally after it (15 min)")
    KINT("G_ARCHIVE_WRITE_TIMEOUT_MS", 1, 600000, "2000", "2000", "2000",
         "G archive write statement timeout (past it: g_archive_write_timeout)")
    KINT("G_ARCHIVE_SWEEP_MS", 50, 60000, "1000", "1000", "1000",
         "G archive retry sweeper period")
    KINT("G_ARCHIVE_WORKERS", 1, 16, "2", "2", "2",
         "G archive ingest loops per process, each with its own NATS and PostgreSQL connections")
    KINT("A_SOFT_BUDGET_MS", 1, 60000, "50", "50", "50", "A soft latency budget (A.7): degrade past it")
    KINT("A_HARD_BUDGET_MS", 1, 60000, "150", "150", "150", "A hard latency budget (A.7): reject past it")
    KINT("A_OC_EMIT_WINDOW_SEC", 1, SEC_MAX, "900", "900", "900",
         "A opportunity_created resend window (A.9, 15 min): past it a_oc_emit_retry_exhausted")
    KINT("A_OC_EMIT_SWEEP_MS", 50, 60000, "500", "500", "500",
         "A opportunity_created resend sweeper period")
    KSTR("A_OC_EMIT_SUBJECT", 0, "med.audit.a.v1", "med.audit.a.v1", "med.audit.a.v1",
         "Subject of A's opportunity_created event (tests point it at a subject without a stream)")
    KINT("B_SIG_EMIT_WINDOW_SEC", 1, SEC_MAX, "600", "600", "600",
         "B signal_normalized resend window (B.10, 10 min): past it b_sig_evt_retry_exhausted")
    KINT("D_MAX_RESPONSE_BYTES", 1024, 16777216, "262144", "262144", "262144",
         "Largest ad network answer D reads; a bigger one is a source error")
    KINT("D_REDELIVERY_WINDOW_SEC", 1, SEC_MAX, "120", "120", "120",
         "D redelivery lock and stored output lifetime in Redis (D.9)")
    KINT("D_REDIS_TIMEOUT_MS", 1, 60000, "100", "100", "100",
         "D wait for one Redis round trip of the redelivery guard or the circuit breakers; "
         "past it D routes unguarded, every circuit closed")
    KINT("D_BREAKER_OPEN_MS", 1, 3600000, "30000", "30000", "30000",
         "D circuit breaker open period (D.2, 30 s) before its single probe")
    KINT("RCONFIG_TIMEOUT_MS", 1, 60000, "200", "200", "200", "Stage wait for H's resolved config (A.6 config_timeout)")
    KINT("H_CONFIG_TTL_SEC", 1, SEC_MAX, "300", "300", "300", "H resolved config cache TTL")
    /* ---- telemetry ---- */
    KSTR("OTEL_EXPORTER_OTLP_ENDPOINT", 0, "", "", "",
         "OTLP endpoint for spans; empty disables export")
};

#define CFG_KEY_COUNT ((int)(sizeof cfg_keys / sizeof cfg_keys[0]))

struct med_config {
    med_env env;
    char *service;
    char *str[sizeof cfg_keys / sizeof cfg_keys[0]];
    int64_t num[sizeof cfg_keys / sizeof cfg_keys[0]];
};

static const char *const env_names[] = { "dev", "ci", "prod" };

/* ---- key table queries ---- */

static int key_index(const char *key)
{
    if (!key) return -1;
    for (int i = 0; i < CFG_KEY_COUNT; i++)
        if (strcmp(cfg_keys[i].name, key) == 0) return i;
    return -1;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int key_is_secret(const cfg_key_def *k)
{
    return (k->flags & CFG_SECRET) || ends_with(k->name, "_SECRET") ||
           ends_with(k->name, "_PASSWORD");
}

int med_config_key_count(void)
{
    return CFG_KEY_COUNT;
}

const char *med_config_key_name(int i)
{
    return (i >= 0 && i < CFG_KEY_COUNT) ? cfg_keys[i].name : NULL;
}

const char *med_config_key_description(int i)
{
    return (i >= 0 && i < CFG_KEY_COUNT) ? cfg_keys[i].description : NULL;
}

const char *med_config_key_default(int i, med_env env)
{
    if (i < 0 || i >= CFG_KEY_COUNT || env < MED_ENV_DEV || env > MED_ENV_PROD) return NULL;
    return cfg_keys[i].def[env];
}

const char *med_config_env_name(med_env env)
{
    return (env >= MED_ENV_DEV && env <= MED_ENV_PROD) ? env_names[env] : "unknown";
}

/* ---- value parsing ---- */

static med_rc invalid_value(med_err *err, const cfg_key_def *k, const char *value,
                            const char *expected)
{
    if (key_is_secret(k))
        return med_err_set(err, MED_ERR_INVALID, MED_R_CFG_INVALID_VALUE, k->name,
                           "%s: invalid value (hidden), expected %s", k->name, expected);
    return med_err_set(err, MED_ERR_INVALID, MED_R_CFG_INVALID_VALUE, k->name,
                       "%s=\"%s\": expected %s", k->name, value, expected);
}

static int parse_int64(const char *s, int64_t *out)
{
    if (!s[0] || s[0] == ' ' || s[0] == '\t') return -1;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno == ERANGE || *end != '\0') return -1;
    *out = (int64_t)v;
    return 0;
}

static int parse_bool(const char *s, int64_t *out)
{
    if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0) *out = 1;
    else if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0) *out = 0;
    else return -1;
    return 0;
}

static int enum_index(const char *allowed, const char *s)
{
    size_t n = strlen(s);
    int idx = 0;
    for (const char *p = allowed; *p; idx++) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (n > 0 && len == n && strncmp(p, s, n) == 0) return idx;
        if (!bar) break;
        p = bar + 1;
    }
    return -1;
}

static med_rc parse_int_value(const cfg_key_def *k, const char *v, int64_t *num, med_err *err)
{
    char expected[96];
    snprintf(expected, sizeof expected, "an integer in [%lld, %lld]", (long long)k->min,
             (long long)k->max);
    if (parse_int64(v, num) != 0 || *num < k->min || *num > k->max)
        return invalid_value(err, k, v, expected);
    return MED_OK;
}

static med_rc parse_value(const cfg_key_def *k, const char *v, int64_t *num, med_err *err)
{
    *num = 0;
    switch (k->type) {
    case CFG_STR:
        return MED_OK;
    case CFG_INT:
        return parse_int_value(k, v, num, err);
    case CFG_BOOL:
        return parse_bool(v, num) == 0 ? MED_OK : invalid_value(err, k, v, "true|false|1|0");
    case CFG_ENUM:
        *num = enum_index(k->allowed, v);
        return *num >= 0 ? MED_OK : invalid_value(err, k, v, k->allowed);
    case CFG_MS_LIST: {
        med_backoff ladder;
        med_err lerr;
        if (med_backoff_parse(v, &ladder, &lerr) == MED_OK) return MED_OK;
        return invalid_value(err, k, v, "comma-separated positive milliseconds");
    }
    }
    return med_err_set(err, MED_ERR_INTERNAL, MED_R_CFG_INVALID_VALUE, k->name, "unknown type");
}

/* ---- loading ---- */

static med_rc nomem(med_err *err)
{
    return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, "", "out of memory loading config");
}

static med_rc resolve_env(med_config_lookup_fn fn, void *ud, med_env *env, med_err *err)
{
    const cfg_key_def *k = &cfg_keys[key_index("APP_ENV")];
    const char *v = fn ? fn("APP_ENV", ud) : NULL;
    if (!v) {
        *env = MED_ENV_DEV;
        return MED_OK;
    }
    int idx = enum_index(k->allowed, v);
    if (idx < 0) return invalid_value(err, k, v, k->allowed);
    *env = (med_env)idx;
    return MED_OK;
}

static char *default_instance(void)
{
    char host[256];
    if (gethostname(host, sizeof host) != 0) strcpy(host, "host");
    host[sizeof host - 1] = '\0';
    char buf[300];
    snprintf(buf, sizeof buf, "%s-%ld", host, (long)getpid());
    return strdup(buf);
}

static med_rc load_key(med_config *cfg, int i, med_config_lookup_fn fn, void *ud, med_err *err)
{
    const cfg_key_def *k = &cfg_keys[i];
    const char *v = fn ? fn(k->name, ud) : NULL;
    if (!v) v = k->def[cfg->env];
    med_rc rc = parse_value(k, v, &cfg->num[i], err);
    if (rc != MED_OK) return rc;
    if (strcmp(k->name, "SERVICE_INSTANCE") == 0 && !v[0])
        cfg->str[i] = default_instance();
    else
        cfg->str[i] = strdup(v);
    return cfg->str[i] ? MED_OK : nomem(err);
}

/* ---- prod refusals (spec 05 section 2) ---- */

static med_rc prod_unsafe(med_err *err, const char *key, const char *why)
{
    return med_err_set(err, MED_ERR_INVALID, MED_R_CFG_PROD_UNSAFE, key,
                       "APP_ENV=prod refuses %s: %s", key, why);
}

static const char *cfg_str_at(const med_config *cfg, const char *key)
{
    return cfg->str[key_index(key)];
}

static med_rc prod_require_present(const med_config *cfg, med_err *err)
{
    static const char *const required[] = { "NATS_URL", "PG_DSN", "REDIS_HOST" };
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        if (cfg_str_at(cfg, required[i])[0]) continue;
        return med_err_set(err, MED_ERR_INVALID, MED_R_CFG_INVALID_VALUE, required[i],
                           "%s must be set in prod", required[i]);
    }
    return MED_OK;
}

typedef struct bool_rule {
    const char *key;
    int unsafe_value;
    const char *why;
} bool_rule;

static med_rc prod_check_switches(const med_config *cfg, med_err *err)
{
    static const bool_rule rules[] = {
        { "AUTH_ENABLED", 0, "authentication must be on" },
        { "EDGE_TLS_ENABLED", 0, "the public edge must use TLS" },
        { "RLS_ENFORCED", 0, "row-level security must be on" },
        { "DEV_AUTOSTART_SERVICES", 1, "dev autostart must be off" },
        { "MAINTENANCE_DESTRUCTIVE_ENABLED", 1, "destructive maintenance must be off" },
        { "FAULT_INJECTION_ENABLED", 1, "fault injection must be off" },
    };
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (med_config_bool(cfg, rules[i].key) == rules[i].unsafe_value)
            return prod_unsafe(err, rules[i].key, rules[i].why);
    return MED_OK;
}

static med_rc prod_check_identity(const med_config *cfg, med_err *err)
{
    static const char *const required[] = { "JWKS_PATH", "JWT_ISSUER", "JWT_AUDIENCE" };
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!cfg_str_at(cfg, required[i])[0])
            return prod_unsafe(err, required[i], "token verification needs it");
    return MED_OK;
}

/* A secret equal to a shipped default is public knowledge; an empty
 * *_SECRET / *_PASSWORD means it was never provisioned. */
static med_rc prod_check_secrets(const med_config *cfg, med_err *err)
{
    for (int i = 0; i < CFG_KEY_COUNT; i++) {
        const cfg_key_def *k = &cfg_keys[i];
        if (!key_is_secret(k)) continue;
        const char *v = cfg->str[i];
        if (!v[0] && strcmp(k->name, "PG_DSN") != 0)
            return prod_unsafe(err, k->name, "secret is not set");
        for (int e = MED_ENV_DEV; e <= MED_ENV_CI; e++)
            if (k->def[e][0] && strcmp(v, k->def[e]) == 0)
                return prod_unsafe(err, k->name, "value is a shipped dev/ci default");
    }
    return MED_OK;
}

/* The superuser bypasses row-level security, so tenant isolation would be
 * gone. libpq parses both key=value and URI forms. */
static med_rc prod_check_pg_role(const med_config *cfg, med_err *err)
{
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(cfg_str_at(cfg, "PG_DSN"), &perr);
    if (!opts) {
        PQfreemem(perr);
        return med_err_set(err, MED_ERR_INVALID, MED_R_CFG_INVALID_VALUE, "PG_DSN",
                           "PG_DSN is not a valid libpq connection string");
    }
    int superuser = 0;
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (strcmp(o->keyword, "user") == 0 && o->val && strcmp(o->val, "postgres") == 0)
            superuser = 1;
    PQconninfoFree(opts);
    return superuser ? prod_unsafe(err, "PG_DSN", "user=postgres bypasses row-level security")
                     : MED_OK;
}

static med_rc prod_checks(const med_config *cfg, med_err *err)
{
    med_rc rc = prod_require_present(cfg, err);
    if (rc == MED_OK) rc = prod_check_switches(cfg, err);
    if (rc == MED_OK) rc = prod_check_identity(cfg, err);
    if (rc == MED_OK) rc = prod_check_secrets(cfg, err);
    if (rc == MED_OK) rc = prod_check_pg_role(cfg, err);
    return rc;
}

med_rc med_config_load_from(const char *service_name, med_config_lookup_fn fn, void *ud,
                            med_config **out, med_err *err)
{
    if (!out) return med_err_set(err, MED_ERR_INVALID, MED_R_CFG_INVALID_VALUE, "", "no output");
    *out = NULL;
    med_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg) return nomem(err);
    med_rc rc = resolve_env(fn, ud, &cfg->env, err);
    if (rc == MED_OK) {
        cfg->service = strdup(service_name ? service_name : "unknown");
        if (!cfg->service) rc = nomem(err);
    }
    for (int i = 0; rc == MED_OK && i < CFG_KEY_COUNT; i++) rc = load_key(cfg, i, fn, ud, err);
    if (rc == MED_OK && cfg->env == MED_ENV_PROD) rc = prod_checks(cfg, err);
    if (rc != MED_OK) {
        med_config_free(cfg);
        return rc;
    }
    *out = cfg;
    return MED_OK;
}

static const char *getenv_lookup(const char *key, void *ud)
{
    (void)ud;
    return getenv(key);
}

med_rc med_config_load(const char *service_name, med_config **out, med_err *err)
{
    return med_config_load_from(service_name, getenv_lookup, NULL, out, err);
}

void med_config_free(med_config *cfg)
{
    if (!cfg) return;
    for (int i = 0; i < CFG_KEY_COUNT; i++) free(cfg->str[i]);
    free(cfg->service);
    free(cfg);
}

/* ---- accessors ---- */

med_env med_config_env(const med_config *cfg)
{
    return cfg ? cfg->env : MED_ENV_DEV;
}

const char *med_config_service(const med_config *cfg)
{
    return cfg && cfg->service ? cfg->service : "";
}

const char *med_config_str(const med_config *cfg, const char *key)
{
    int i = key_index(key);
    return (cfg && i >= 0 && cfg->str[i]) ? cfg->str[i] : "";
}

int64_t med_config_int(const med_config *cfg, const char *key)
{
    int i = key_index(key);
    return (cfg && i >= 0 && cfg_keys[i].type == CFG_INT) ? cfg->num[i] : 0;
}

int med_config_bool(const med_config *cfg, const char *key)
{
    int i = key_index(key);
    return (cfg && i >= 0 && cfg_keys[i].type == CFG_BOOL) ? (int)cfg->num[i] : 0;
}
