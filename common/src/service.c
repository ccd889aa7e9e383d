/* Service runtime: the start-up and shutdown sequence every stage shares.
 *
 * Order matters: config first (prod refuses unsafe settings before touching
 * anything), then logging, then dependencies, then the admin server so
 * /readyz reports honestly while dependencies come and go. */
#include "med/service.h"
#include "med/rconfig.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "med/admin_http.h"
#include "med/backoff.h"
#include "med/log.h"
#include "med/names.h"
#include "med/reason.h"

struct med_service {
    med_service_opts opts;
    med_config *cfg;
    med_js *js;
    med_pg *pg;
    med_redis *redis;
    med_readiness *ready;
    med_admin *admin;
    med_cfgsnap *cfgsnap;
    med_cfgsnap_watch *cfgwatch;
    med_rconfig *rconfig;
    char instance[128];
};

/* One process runs one service, so the stop flag is process-wide: a signal
 * handler can only reach static storage. */
static atomic_int g_stop;

static void on_stop_signal(int sig)
{
    (void)sig;
    atomic_store(&g_stop, 1);
}

static void install_signal_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static med_rc connect_nats(med_service *s, med_err *err)
{
    med_js_opts jo = {
        .url = med_config_str(s->cfg, "NATS_URL"),
        .name = s->instance,
        .retry_on_failed_connect = 1,
        .send_asap = s->opts.send_asap,
    };
    med_rc rc = med_js_connect(&jo, &s->js, err);
    if (rc != MED_OK) return rc;
    med_stream_opts so = {
        .replicas = (int)med_config_int(s->cfg, "JS_STREAM_REPLICAS"),
        .duplicate_window_ms = med_config_int(s->cfg, "JS_DUPLICATE_WINDOW_MS"),
    };
    /* Streams may be briefly unavailable right after a NATS restart. */
    for (int attempt = 0;; attempt++) {
        rc = med_js_ensure_streams(s->js, &so, err);
        if (rc == MED_OK || attempt >= 40 || !med_rc_is_retryable(rc)) return rc;
        if (atomic_load(&g_stop)) return rc;
        usleep(250 * 1000);
    }
}

med_rc med_service_pg_open(med_service *s, int statement_timeout_ms, med_pg **out, med_err *err)
{
    med_pg_opts po = {
        .dsn = med_config_str(s->cfg, "PG_DSN"),
        .connect_retries = (int)med_config_int(s->cfg, "PG_CONNECT_RETRIES"),
        .retry_wait_ms = (int)med_config_int(s->cfg, "PG_RETRY_WAIT_MS"),
        .statement_timeout_ms = statement_timeout_ms,
    };
    return med_pg_connect(&po, out, err);
}

med_rc med_service_js_open(med_service *s, const char *role, int send_asap, med_js **out,
                           med_err *err)
{
    char name[192];
    snprintf(name, sizeof name, "%s/%s", s->instance, role);
    med_js_opts jo = {
        .url = med_config_str(s->cfg, "NATS_URL"),
        .name = name,
        .retry_on_failed_connect = 1,
        .send_asap = send_asap,
    };
    return med_js_connect(&jo, out, err);
}

static med_rc connect_storage(med_service *s, med_err *err)
{
    if (s->opts.need_pg) {
        med_rc rc = med_service_pg_open(s, 0, &s->pg, err);
        if (rc != MED_OK) return rc;
    }
    if (s->opts.need_redis) {
        /* Redis is a cache: a service starts without it and degrades. */
        med_err rerr;
        med_err_clear(&rerr);
        if (med_redis_connect(med_config_str(s->cfg, "REDIS_HOST"),
                              (int)med_config_int(s->cfg, "REDIS_PORT"), 500,
                              &s->redis, &rerr) != MED_OK) {
            med_log_ctx lc = { .error_code = rerr.code };
            MED_LOGW(&lc, "redis not reachable at start-up, continuing degraded: %s",
                     rerr.message);
        }
    }
    return MED_OK;
}

/* Starts following MED_CONFIG before the admin server, so the readiness
 * check below exists from the first probe. */
static med_rc start_config_watch(med_service *s, med_err *err)
{
    if (!s->opts.need_config) return MED_OK;
    s->cfgsnap = med_cfgsnap_new();
    if (!s->cfgsnap)
        return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "config snapshot");
    med_cfgsnap_watch_opts wo = {
        .js = s->js,
        .stage = s->opts.stage,
        .instance = s->instance,
        .app_env = med_config_env_name(med_config_env(s->cfg)),
        .redis_host = med_config_str(s->cfg, "REDIS_HOST"),
        .redis_port = (int)med_config_int(s->cfg, "REDIS_PORT"),
    };
    med_rc rc = med_cfgsnap_watch_start(s->cfgsnap, &wo, &s->cfgwatch, err);
    if (rc != MED_OK) return rc;
    med_rconfig_opts ro = { .timeout_ms = med_config_int(s->cfg, "RCONFIG_TIMEOUT_MS") };
    s->rconfig = med_rconfig_new(med_js_conn(s->js), s->cfgsnap, &ro);
    if (!s->rconfig)
        return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "config client");
    return MED_OK;
}

/* Readiness check "config_snapshot" (metrics.md med_readiness_up). */
static int config_snapshot_check(void *ud)
{
    return med_cfgsnap_watch_caught_up(ud);
}

static med_rc start_admin(med_service *s, med_err *err)
{
    s->ready = med_readiness_new((int)med_config_int(s->cfg, "READINESS_PROBE_INTERVAL_MS"));
    if (!s->ready)
        return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "readiness");
    med_rc rc = med_readiness_add_nats(s->ready, s->js);
    if (rc == MED_OK) rc = med_readiness_add_pg(s->ready, med_config_str(s->cfg, "PG_DSN"));
    if (rc == MED_OK)
        rc = med_readiness_add_redis(s->ready, med_config_str(s->cfg, "REDIS_HOST"),
                                     (int)med_config_int(s->cfg, "REDIS_PORT"));
    if (rc == MED_OK && s->cfgwatch)
        rc = med_readiness_add(s->ready, "config_snapshot", config_snapshot_check, s->cfgwatch);
    if (rc == MED_OK) rc = med_readiness_start(s->ready, err);
    if (rc != MED_OK) return rc;
    if (strcmp(s->opts.stage, MED_STAGE_EDGE) == 0) return MED_OK; /* edge serves its own */
    return med_admin_start(med_config_str(s->cfg, "ADMIN_HTTP_HOST"),
                           (int)med_config_int(s->cfg, "ADMIN_HTTP_PORT"), s->ready,
                           s->opts.name, &s->admin, err);
}

static void set_instance(med_service *s)
{
    const char *inst = med_config_str(s->cfg, "SERVICE_INSTANCE");
    if (inst && *inst)
        snprintf(s->instance, sizeof s->instance, "%s", inst);
    else
        snprintf(s->instance, sizeof s->instance, "%s-%d", s->opts.name, (int)getpid());
}

med_rc med_service_start(const med_service_opts *opts, med_service **out, med_err *err)
{
    *out = NULL;
    install_signal_handlers();
    med_service *s = calloc(1, sizeof *s);
    if (!s) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "service");
    s->opts = *opts;
    med_rc rc = med_config_load(opts->name, &s->cfg, err);
    if (rc != MED_OK) {
        free(s);
        return rc;
    }
    med_log_init(opts->name, med_log_level_parse(med_config_str(s->cfg, "LOG_LEVEL")), NULL);
    set_instance(s);
    rc = connect_nats(s, err);
    if (rc == MED_OK) rc = connect_storage(s, err);
    if (rc == MED_OK) rc = start_config_watch(s, err);
    if (rc == MED_OK) rc = start_admin(s, err);
    if (rc != MED_OK) {
        med_log_ctx lc = { .error_code = err ? err->code : NULL };
        MED_LOGE(&lc, "start-up failed: %s", err ? err->message : "");
        med_service_free(s);
        return rc;
    }
    MED_LOGI(NULL, "started instance=%s env=%s admin_port=%d", s->instance,
             med_config_env_name(med_config_env(s->cfg)),
             s->admin ? med_admin_port(s->admin) : -1);
    *out = s;
    return MED_OK;
}

void med_service_set_started(med_service *s)
{
    if (!s || !s->ready) return;
    /* JetStream consumers are not gated by readiness, so waiting here is
     * what keeps a stage from handling a request with an empty config. */
    while (s->cfgwatch && !med_cfgsnap_watch_caught_up(s->cfgwatch) &&
           !atomic_load(&g_stop))
        usleep(20 * 1000);
    med_readiness_set_started(s->ready, 1);
}

const med_config *med_service_config(med_service *s) { return s->cfg; }
med_js *med_service_js(med_service *s) { return s->js; }
med_pg *med_service_pg(med_service *s) { return s->pg; }
med_redis *med_service_redis(med_service *s) { return s->redis; }
med_cfgsnap *med_service_cfgsnap(med_service *s) { return s->cfgsnap; }
med_rconfig *med_service_rconfig(med_service *s) { return s->rconfig; }

const char *med_service_config_environment(med_service *s)
{
    const char *e = med_config_str(s->cfg, "CONFIG_ENVIRONMENT");
    return e && *e ? e : "prod";
}
med_readiness *med_service_readiness(med_service *s) { return s->ready; }
const char *med_service_instance(med_service *s) { return s->instance; }
const char *med_service_stage(med_service *s) { return s->opts.stage; }
const atomic_int *med_service_stop_flag(med_service *s)
{
    (void)s;
    return &g_stop;
}
int med_service_stopping(med_service *s)
{
    (void)s;
    return atomic_load(&g_stop);
}

void med_service_consumer_opts(med_service *s, const char *stream, const char *durable,
                               const char *filter_subject, med_consumer_opts *out)
{
    memset(out, 0, sizeof *out);
    out->stage = s->opts.stage;
    out->stream = stream;
    out->durable = durable;
    out->filter_subject = filter_subject;
    out->max_deliver = (int)med_config_int(s->cfg, "JS_MAX_DELIVER");
    out->ack_wait_ms = med_config_int(s->cfg, "JS_ACK_WAIT_MS");
    out->batch = (int)med_config_int(s->cfg, "JS_FETCH_BATCH");
    out->fetch_timeout_ms = med_config_int(s->cfg, "JS_FETCH_TIMEOUT_MS");
    med_err perr;
    /* Config load already validated the ladder; fall back defensively. */
    if (med_backoff_parse(med_config_str(s->cfg, "JS_BACKOFF_MS"), &out->backoff, &perr) != MED_OK)
        med_backoff_default(&out->backoff);
}

void med_service_free(med_service *s)
{
    if (!s) return;
    if (s->admin) med_admin_stop(s->admin);
    if (s->ready) med_readiness_free(s->ready); /* its check reads cfgwatch */
    med_cfgsnap_watch_stop(s->cfgwatch);         /* before the NATS connection */
    med_rconfig_free(s->rconfig);
    med_cfgsnap_free(s->cfgsnap);
    if (s->redis) med_redis_close(s->redis);
    if (s->pg) med_pg_close(s->pg);
    if (s->js) med_js_close(s->js);
    med_config_free(s->cfg);
    free(s);
}
