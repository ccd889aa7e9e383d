/* Per-service admin HTTP server (see admin_http.h): its own thread runs an
 * h2o loop that answers /healthz, /readyz and /metrics. Stopping sets a
 * flag and wakes the loop through h2o's cross-thread queue, then joins. */
#include "med/admin_http.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "med/http_util.h"
#include "med/log.h"
#include "med/reason.h"

#define ADMIN_MAX_BODY (64u * 1024u) /* admin routes take no body */
#define ADMIN_DRAIN_MS 1000

struct med_admin {
    med_http_server *srv; /* freed by the loop thread; guarded by mu */
    pthread_mutex_t mu;
    med_readiness *ready;
    pthread_t thread;
    atomic_int stop;
    int port;
    char service[64];
};

static int path_is(h2o_iovec_t path, const char *want)
{
    size_t n = strlen(want);
    return path.len == n && memcmp(path.base, want, n) == 0;
}

static int admin_on_req(void *ud, h2o_req_t *req)
{
    med_admin *a = ud;
    h2o_iovec_t path = med_http_path(req);
    int known = path_is(path, "/healthz") || path_is(path, "/readyz") || path_is(path, "/metrics");
    if (!known) {
        med_http_send_error(req, 404, MED_R_EDGE_NOT_FOUND, "no such admin route", NULL);
        return 0;
    }
    if (!med_http_method_is(req, "GET") && !med_http_method_is(req, "HEAD")) {
        med_http_add_header(req, "Allow", "GET, HEAD");
        med_http_send_error(req, 405, MED_R_EDGE_METHOD_NOT_ALLOWED, "admin routes are GET only",
                            NULL);
        return 0;
    }
    if (path_is(path, "/healthz"))
        med_http_serve_healthz(req);
    else if (path_is(path, "/readyz"))
        med_http_serve_readyz(req, a->ready);
    else
        med_http_serve_metrics(req);
    return 0;
}

/* Everything h2o does happens on this thread, tear-down included, so
 * h2o's per-thread caches can be released before it ends. */
static void *admin_thread(void *arg)
{
    med_admin *a = arg;
    while (!atomic_load(&a->stop)) med_http_server_run_once(a->srv, INT32_MAX);
    med_http_server_stop_accepting(a->srv);
    med_http_server_drain(a->srv, ADMIN_DRAIN_MS);
    pthread_mutex_lock(&a->mu);
    med_http_server_free(a->srv);
    a->srv = NULL;
    pthread_mutex_unlock(&a->mu);
    med_http_thread_cleanup();
    return NULL;
}

med_rc med_admin_start(const char *host, int port, med_readiness *r, const char *service,
                       med_admin **out, med_err *err)
{
    *out = NULL;
    if (!r) return med_err_set(err, MED_ERR_INVALID, MED_R_EDGE_INTERNAL, NULL, "no readiness");
    med_admin *a = calloc(1, sizeof *a);
    if (!a) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "admin server");
    a->ready = r;
    snprintf(a->service, sizeof a->service, "%s", service ? service : "");
    med_http_opts o = { .host = host,
                        .port = port,
                        .max_body_bytes = ADMIN_MAX_BODY,
                        .handler = admin_on_req,
                        .ud = a };
    med_rc rc = med_http_server_new(&o, &a->srv, err);
    if (rc != MED_OK) {
        free(a);
        return rc;
    }
    a->port = med_http_server_port(a->srv);
    pthread_mutex_init(&a->mu, NULL);
    if (pthread_create(&a->thread, NULL, admin_thread, a) != 0) {
        med_http_server_free(a->srv);
        pthread_mutex_destroy(&a->mu);
        free(a);
        return med_err_set(err, MED_ERR_INTERNAL, MED_R_EDGE_INTERNAL, NULL,
                           "cannot start the admin HTTP thread");
    }
    MED_LOGI(NULL, "admin http for %s listening on port %d", a->service, a->port);
    *out = a;
    return MED_OK;
}

int med_admin_port(const med_admin *a)
{
    return a ? a->port : -1;
}

void med_admin_stop(med_admin *a)
{
    if (!a) return;
    atomic_store(&a->stop, 1);
    /* The thread may already have seen the flag and freed the server. */
    pthread_mutex_lock(&a->mu);
    if (a->srv) med_http_server_wake(a->srv);
    pthread_mutex_unlock(&a->mu);
    pthread_join(a->thread, NULL);
    pthread_mutex_destroy(&a->mu);
    free(a);
}
