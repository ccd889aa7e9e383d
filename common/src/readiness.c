/* Readiness probes (see readiness.h). One thread runs every check in turn,
 * then sleeps for the interval; results are atomics so /readyz never waits
 * on a dependency. Built-in PostgreSQL and Redis checks keep their own
 * connection and bound every probe with a short timeout, so a hung server
 * reads as "missing" instead of freezing the probe thread. */
#include "med/readiness.h"

#include <hiredis/hiredis.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "med/ids.h"
#include "med/log.h"
#include "med/metrics.h"
#include "med/reason.h"

#define READY_MAX_CHECKS 16
#define READY_NAME_MAX 32
#define READY_DEFAULT_INTERVAL_MS 1000
#define READY_PG_CONNECT_TIMEOUT_S "2" /* libpq's minimum */
#define READY_PG_QUERY_TIMEOUT_MS 1500
#define READY_REDIS_TIMEOUT_MS 1000

typedef struct ready_check {
    char name[READY_NAME_MAX];
    med_check_fn fn;
    void *ud;
    void (*free_ud)(void *ud);
    atomic_int ok;
    int probed; /* probe thread only: first result is always logged */
    med_gauge *up;
} ready_check;

struct med_readiness {
    ready_check checks[READY_MAX_CHECKS];
    int n;
    int interval_ms;
    atomic_int started;
    int running;
    int stop; /* guarded by mu */
    pthread_t thread;
    pthread_mutex_t mu; /* stop flag + sleeping */
    pthread_cond_t cv;
    pthread_mutex_t probe_mu; /* one probe round at a time (thread vs probe_now) */
};

med_readiness *med_readiness_new(int interval_ms)
{
    med_readiness *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->interval_ms = interval_ms > 0 ? interval_ms : READY_DEFAULT_INTERVAL_MS;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    /* Sleep on the monotonic clock: a wall-clock jump must not stall probes. */
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&r->mu, NULL);
    pthread_mutex_init(&r->probe_mu, NULL);
    return r;
}

static med_rc add_check(med_readiness *r, const char *name, med_check_fn fn, void *ud,
                        void (*free_ud)(void *))
{
    if (!r || !name || !fn || strlen(name) >= READY_NAME_MAX || strchr(name, ','))
        return MED_ERR_INVALID;
    if (r->running || r->n >= READY_MAX_CHECKS) return MED_ERR_INVALID;
    char labels[READY_NAME_MAX + 16];
    snprintf(labels, sizeof labels, "dependency=\"%s\"", name);
    ready_check *c = &r->checks[r->n];
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", name);
    c->fn = fn;
    c->ud = ud;
    c->free_ud = free_ud;
    atomic_init(&c->ok, 0);
    c->up = med_gauge_get("med_readiness_up",
                          "1 when the dependency answered the last readiness probe", labels);
    r->n++;
    return MED_OK;
}

med_rc med_readiness_add(med_readiness *r, const char *name, med_check_fn fn, void *ud)
{
    return add_check(r, name, fn, ud, NULL);
}

/* ---- NATS --------------------------------------------------------------- */

static int nats_check(void *ud)
{
    return med_js_connected((med_js *)ud) ? 1 : 0;
}

med_rc med_readiness_add_nats(med_readiness *r, med_js *js)
{
    if (!js) return MED_ERR_INVALID;
    return add_check(r, "nats", nats_check, js, NULL);
}

/* ---- PostgreSQL ---------------------------------------------------------- */

typedef struct pg_probe {
    char *dsn;
    PGconn *conn;
} pg_probe;

static PGconn *pg_probe_connect(const char *dsn)
{
    /* The DSN is expanded in place of dbname; the keywords after it win,
     * so the probe's short timeout applies whatever the DSN says. */
    const char *const keys[] = { "dbname", "connect_timeout", "application_name", NULL };
    const char *const vals[] = { dsn, READY_PG_CONNECT_TIMEOUT_S, "med_readiness", NULL };
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (c && PQstatus(c) == CONNECTION_OK) return c;
    PQfinish(c);
    return NULL;
}

static int pg_wait_readable(PGconn *c, int64_t deadline_ms)
{
    int64_t left = deadline_ms - med_mono_ms();
    if (left <= 0) return 0;
    struct pollfd pfd = { .fd = PQsocket(c), .events = POLLIN };
    return poll(&pfd, 1, (int)left) > 0;
}

/* SELECT 1 through the async API, so a server that accepts but never
 * answers costs at most the query timeout. */
static int pg_probe_query(PGconn *c)
{
    if (!PQsendQuery(c, "SELECT 1")) return 0;
    int64_t deadline = med_mono_ms() + READY_PG_QUERY_TIMEOUT_MS;
    for (;;) {
        if (!PQconsumeInput(c)) return 0;
        if (!PQisBusy(c)) break;
        if (!pg_wait_readable(c, deadline)) return 0;
    }
    int ok = 1;
    PGresult *res;
    while ((res = PQgetResult(c)) != NULL) {
        if (PQresultStatus(res) != PGRES_TUPLES_OK) ok = 0;
        PQclear(res);
    }
    return ok;
}

static int pg_check(void *ud)
{
    pg_probe *p = ud;
    /* A cached connection may have died with a server restart: one fresh
     * attempt in the same round, so a server that is back reads as up. */
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!p->conn) p->conn = pg_probe_connect(p->dsn);
        if (!p->conn) return 0;
        if (PQstatus(p->conn) == CONNECTION_OK && pg_probe_query(p->conn)) return 1;
        PQfinish(p->conn);
        p->conn = NULL;
    }
    return 0;
}

static void pg_probe_free(void *ud)
{
    pg_probe *p = ud;
    if (!p) return;
    PQfinish(p->conn);
    free(p->dsn);
    free(p);
}

med_rc med_readiness_add_pg(med_readiness *r, const char *dsn)
{
    if (!dsn) return MED_ERR_INVALID;
    pg_probe *p = calloc(1, sizeof *p);
    if (!p) return MED_ERR_NOMEM;
    p->dsn = strdup(dsn);
    if (!p->dsn) {
        free(p);
        return MED_ERR_NOMEM;
    }
    med_rc rc = add_check(r, "postgres", pg_check, p, pg_probe_free);
    if (rc != MED_OK) pg_probe_free(p);
    return rc;
}

/* ---- Redis --------------------------------------------------------------- */

typedef struct redis_probe {
    char *host;
    int port;
    redisContext *ctx;
} redis_probe;

static redisContext *redis_probe_connect(const redis_probe *p)
{
    struct timeval tv = { .tv_sec = READY_REDIS_TIMEOUT_MS / 1000,
                          .tv_usec = (READY_REDIS_TIMEOUT_MS % 1000) * 1000 };
    redisContext *c = redisConnectWithTimeout(p->host, p->port, tv);
    if (!c || c->err || redisSetTimeout(c, tv) != REDIS_OK) {
        if (c) redisFree(c);
        return NULL;
    }
    return c;
}

static int redis_ping(redisContext *c)
{
    redisReply *reply = redisCommand(c, "PING");
    int ok =
        reply && reply->type == REDIS_REPLY_STATUS && reply->str && strcmp(reply->str, "PONG") == 0;
    if (reply) freeReplyObject(reply);
    return ok && !c->err;
}

static int redis_check(void *ud)
{
    redis_probe *p = ud;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!p->ctx) p->ctx = redis_probe_connect(p);
        if (!p->ctx) return 0;
        if (redis_ping(p->ctx)) return 1;
        redisFree(p->ctx);
        p->ctx = NULL;
    }
    return 0;
}

static void redis_probe_free(void *ud)
{
    redis_probe *p = ud;
    if (!p) return;
    if (p->ctx) redisFree(p->ctx);
    free(p->host);
    free(p);
}

med_rc med_readiness_add_redis(med_readiness *r, const char *host, int port)
{
    if (!host || port <= 0) return MED_ERR_INVALID;
    redis_probe *p = calloc(1, sizeof *p);
    if (!p) return MED_ERR_NOMEM;
    p->host = strdup(host);
    p->port = port;
    if (!p->host) {
        free(p);
        return MED_ERR_NOMEM;
    }
    med_rc rc = add_check(r, "redis", redis_check, p, redis_probe_free);
    if (rc != MED_OK) redis_probe_free(p);
    return rc;
}

/* ---- probing ------------------------------------------------------------- */

static void record(ready_check *c, int ok)
{
    int before = atomic_exchange(&c->ok, ok);
    if (c->up) med_gauge_set(c->up, ok ? 1.0 : 0.0);
    if (c->probed && before == ok) return;
    c->probed = 1;
    if (ok) {
        MED_LOGI(NULL, "readiness: %s is up", c->name);
    } else {
        med_log_ctx lc = { .error_code = "readiness_dependency_down" };
        MED_LOGW(&lc, "readiness: %s is not answering", c->name);
    }
}

void med_readiness_probe_now(med_readiness *r)
{
    if (!r) return;
    pthread_mutex_lock(&r->probe_mu);
    for (int i = 0; i < r->n; i++) record(&r->checks[i], r->checks[i].fn(r->checks[i].ud) ? 1 : 0);
    pthread_mutex_unlock(&r->probe_mu);
}

static int sleep_or_stop(med_readiness *r)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += r->interval_ms / 1000;
    until.tv_nsec += (long)(r->interval_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&r->mu);
    while (!r->stop && pthread_cond_timedwait(&r->cv, &r->mu, &until) == 0) {
    }
    int stop = r->stop;
    pthread_mutex_unlock(&r->mu);
    return stop;
}

static void *probe_thread(void *arg)
{
    med_readiness *r = arg;
    do {
        med_readiness_probe_now(r);
    } while (!sleep_or_stop(r));
    return NULL;
}

med_rc med_readiness_start(med_readiness *r, med_err *err)
{
    if (!r) return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_NOMEM, NULL, "no readiness");
    if (r->running) return MED_OK;
    if (pthread_create(&r->thread, NULL, probe_thread, r) != 0)
        return med_err_set(err, MED_ERR_INTERNAL, MED_R_INFRA_NOMEM, NULL,
                           "cannot start the readiness probe thread");
    r->running = 1;
    return MED_OK;
}

void med_readiness_set_started(med_readiness *r, int started)
{
    if (r) atomic_store(&r->started, started ? 1 : 0);
}

int med_readiness_is_started(med_readiness *r)
{
    return r ? atomic_load(&r->started) : 0;
}

static void append_name(char *out, size_t cap, size_t *used, const char *name)
{
    int n = snprintf(out + *used, cap - *used, "%s%s", *used ? "," : "", name);
    if (n > 0 && (size_t)n < cap - *used) *used += (size_t)n;
}

int med_readiness_ready(med_readiness *r, char *missing, size_t cap)
{
    if (missing && cap) missing[0] = '\0';
    if (!r) return 0;
    int ready = atomic_load(&r->started);
    size_t used = 0;
    for (int i = 0; i < r->n; i++) {
        if (atomic_load(&r->checks[i].ok)) continue;
        ready = 0;
        if (missing && cap) append_name(missing, cap, &used, r->checks[i].name);
    }
    return ready;
}

void med_readiness_free(med_readiness *r)
{
    if (!r) return;
    if (r->running) {
        pthread_mutex_lock(&r->mu);
        r->stop = 1;
        pthread_cond_broadcast(&r->cv);
        pthread_mutex_unlock(&r->mu);
        pthread_join(r->thread, NULL);
    }
    for (int i = 0; i < r->n; i++)
        if (r->checks[i].free_ud) r->checks[i].free_ud(r->checks[i].ud);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    pthread_mutex_destroy(&r->probe_mu);
    free(r);
}
