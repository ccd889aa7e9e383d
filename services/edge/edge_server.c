/* The edge's HTTP server: lifecycle, routing and the checks every route
 * shares (method, auth, content type, size, JSON). The opportunity flow is
 * in edge_opportunity.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edge_access.h"
#include "edge_answers.h"
#include "edge_config_msg.h"
#include "edge_config_routes.h"
#include "edge_events_msg.h"
#include "edge_errors.h"
#include "edge_json.h"
#include "edge_metrics.h"
#include "edge_request.h"
#include "edge_routes.h"
#include "edge_server_int.h"
#include "med/auth.h"
#include "med/ids.h"
#include "med/log.h"
#include "med/metrics.h"
#include "med/names.h"
#include "med/reason.h"

/* h2o's own cap, above which it answers 413 itself without our JSON
 * body; the configured limit below it gives the edge_body_too_large body. */
#define EDGE_H2O_BODY_CAP_FACTOR 4
#define EDGE_LOOP_TICK_MS 100
#define EDGE_DRAIN_CONNECTIONS_MS 1000
#define EDGE_DRAIN_GRACE_MS 1000

static const char k_json[] = "application/json";

double edge_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void edge_send(h2o_req_t *req, const char *route, double t0, int status, const char *body,
               size_t len)
{
    med_http_send(req, status, k_json, body, len);
    edge_metrics_request(route, status, edge_now_s() - t0);
}

void edge_send_error(h2o_req_t *req, const char *route, double t0, const med_err *e)
{
    int status = edge_error_status(e);
    char *body = NULL;
    size_t len = 0;
    med_err inner;
    if (edge_error_body(e, &body, &len, &inner) != MED_OK) {
        med_http_send_error(req, status, e->code, e->message, e->field);
        edge_metrics_request(route, status, edge_now_s() - t0);
        return;
    }
    if (status == 401) med_http_add_header(req, "WWW-Authenticate", "Bearer");
    edge_send(req, route, t0, status, body, len);
    free(body);
}

void edge_send_retry_error(h2o_req_t *req, const char *route, double t0, const med_err *e)
{
    if (edge_error_status(e) == 503) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", EDGE_RETRY_AFTER_SEC);
        med_http_add_header(req, "Retry-After", ra);
    }
    edge_send_error(req, route, t0, e);
}

void edge_send_answer(h2o_req_t *req, const char *route, double t0, const edge_answer *a)
{
    if (a->retry_after_sec > 0) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", a->retry_after_sec);
        med_http_add_header(req, "Retry-After", ra);
    }
    edge_send(req, route, t0, a->status, a->body ? a->body : "", a->body ? a->len : 0);
}

void edge_add_trace_ids(h2o_req_t *req, const med_trace_headers *h)
{
    if (h->traceparent[0]) med_http_add_header(req, MED_HDR_TRACEPARENT, h->traceparent);
    if (h->trace_key[0]) med_http_add_header(req, MED_HDR_TRACE_KEY, h->trace_key);
}

med_rc edge_trace_of_request(const edge_server *s, h2o_req_t *req, const med_auth_context *auth,
                             const char *app, const char *placement, med_trace_headers *out,
                             med_err *e)
{
    char tp[MED_HDR_VALUE_MAX];
    const char *client_tp =
        med_http_header(req, MED_HDR_TRACEPARENT, tp, sizeof tp) == 0 ? tp : NULL;
    /* The tenant is the verified token's, or the configured dev tenant
     * while auth is off; never anything the client sent. */
    const char *tenant = auth ? auth->tenant : s->cfg.dev_tenant;
    return edge_trace_init(client_tp, tenant, app, placement, out, e);
}

/* ---- ops routes --------------------------------------------------------- */

static void serve_ops(edge_server *s, h2o_req_t *req, const edge_route *rt, double t0)
{
    int status = 200;
    char *body = NULL;
    size_t len = 0;
    med_err e;
    if (rt->id == EDGE_R_HEALTHZ) {
        med_http_serve_healthz(req);
    } else if (rt->id == EDGE_R_READYZ &&
               med_http_readyz_body(s->ready, &status, &body, &len, &e) == MED_OK) {
        med_http_send(req, status, k_json, body, len);
    } else if (rt->id == EDGE_R_METRICS && med_metrics_render(&body, &len) == 0 && body) {
        med_http_send(req, status, "text/plain; version=0.0.4", body, len);
    } else {
        med_err_set(&e, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "cannot render %s", rt->path);
        free(body);
        edge_send_error(req, rt->path, t0, &e);
        return;
    }
    free(body);
    edge_metrics_request(rt->path, status, edge_now_s() - t0);
}

/* ---- shared input checks ------------------------------------------------ */

/* Room for "Bearer " and the largest token we accept. */
#define EDGE_AUTHZ_MAX (MED_JWT_TOKEN_MAX + 64)
#define EDGE_QUERY_APP_MAX 256

/* 401 unless the request carries a token the verifier accepts. Only the
 * token says who the caller and its tenant are. *ctx (malloc'd, the
 * caller frees it) stays NULL while auth is off. */
static med_rc check_auth(const edge_server *s, h2o_req_t *req, med_auth_context **ctx,
                         med_err *e)
{
    *ctx = NULL;
    if (!s->cfg.auth_enabled) return MED_OK;
    /* Both are large; the loop's stack is not the place. */
    char *authz = malloc(EDGE_AUTHZ_MAX);
    *ctx = calloc(1, sizeof **ctx);
    if (!authz || !*ctx) {
        free(authz);
        return med_err_set(e, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "auth context");
    }
    int found = med_http_header(req, "authorization", authz, EDGE_AUTHZ_MAX) == 0;
    med_rc rc = med_auth_verify_bearer(s->cfg.verifier, found ? authz : NULL,
                                       found ? strlen(authz) : 0, med_now_unix_ms(), *ctx, e);
    free(authz);
    return rc;
}

/* The appId of an SDK body (appContext.appId), NULL when absent. */
static const char *body_app_id(const json_t *doc)
{
    return json_string_value(json_object_get(json_object_get(doc, "appContext"), "appId"));
}

/* SDK calls: role sdk and the body's app inside the token's apps. A body
 * without an appId is refused, since nothing would bound what it touches;
 * except an opportunity, whose own check answers that with a 400 next. */
static med_rc sdk_body_allowed(const med_auth_context *ctx, const edge_route *rt,
                               const json_t *doc, med_err *e)
{
    med_rc rc = med_auth_require_role(ctx, MED_ROLE_SDK, e);
    const char *app = body_app_id(doc);
    if (rc == MED_OK && !app && rt->id == EDGE_R_OPPORTUNITIES) return MED_OK;
    if (rc == MED_OK && !app)
        return med_err_set(e, MED_ERR_INVALID, MED_R_AUTH_FORBIDDEN, "appContext.appId",
                           "the token does not allow this: no appContext.appId to check");
    return rc == MED_OK ? med_auth_scope_covers(ctx, NULL, app, NULL, e) : rc;
}

static med_rc config_read_allowed(const med_auth_context *ctx, h2o_req_t *req, med_err *e)
{
    if (med_auth_require_role(ctx, MED_ROLE_PUBLISHER | MED_ROLE_REVIEWER | MED_ROLE_ADMIN,
                              NULL) == MED_OK)
        return MED_OK;
    med_rc rc = med_auth_require_role(ctx, MED_ROLE_SDK, e);
    /* Decoded exactly as the GET request to H will decode it. */
    char app[EDGE_QUERY_APP_MAX];
    h2o_iovec_t q = med_http_query(req);
    if (edge_cfg_query_param(q.base, q.len, "appId", app, sizeof app) != 1) app[0] = '\0';
    if (rc == MED_OK && !app[0])
        return med_err_set(e, MED_ERR_INVALID, MED_R_AUTH_FORBIDDEN, "appId",
                           "the token does not allow this: no appId to check");
    return rc == MED_OK ? med_auth_scope_covers(ctx, NULL, app, NULL, e) : rc;
}

/* 403 unless the token's role and scope allow this route (06 section 4).
 * Publish is only gated by role here: H judges authority and scope. */
static med_rc check_access(const edge_server *s, h2o_req_t *req, const edge_route *rt,
                           const med_auth_context *ctx, const json_t *doc, med_err *e)
{
    if (!s->cfg.auth_enabled) return MED_OK;
    switch (rt->id) {
    case EDGE_R_OPPORTUNITIES:
        return sdk_body_allowed(ctx, rt, doc, e);
    case EDGE_R_EVENTS: {
        char app[EDGE_ID_MAX_LEN + 1];
        return edge_events_app(ctx, doc, app, sizeof app, e);
    }
    case EDGE_R_CONFIG:
        return config_read_allowed(ctx, req, e);
    case EDGE_R_CONFIG_PUBLISH:
        return med_auth_require_role(
            ctx, MED_ROLE_PUBLISHER | MED_ROLE_REVIEWER | MED_ROLE_ADMIN, e);
    case EDGE_R_REPLAY:
    case EDGE_R_RECONCILIATION:
        return edge_access_query(ctx, e);
    case EDGE_R_RELEASE_READINESS:
        return med_auth_require_role(ctx, MED_ROLE_SERVICE | MED_ROLE_ADMIN, e);
    default:
        return med_err_set(e, MED_ERR_INVALID, MED_R_AUTH_FORBIDDEN, NULL,
                           "the token does not allow this route");
    }
}

static med_rc check_body(const edge_server *s, h2o_req_t *req, json_t **doc, med_err *e)
{
    if (req->entity.len > s->cfg.body_limit)
        return med_err_set(e, MED_ERR_INVALID, MED_R_EDGE_BODY_TOO_LARGE, NULL,
                           "body of %zu bytes exceeds the limit of %zu bytes", req->entity.len,
                           s->cfg.body_limit);
    char ct[EDGE_CONTENT_TYPE_MAX];
    if (med_http_header(req, "content-type", ct, sizeof ct) != 0 || !edge_content_type_is_json(ct))
        return med_err_set(e, MED_ERR_INVALID, MED_R_EDGE_UNSUPPORTED_MEDIA, NULL,
                           "Content-Type must be application/json");
    edge_json_limits lim = { s->cfg.body_limit, s->cfg.json_max_depth };
    return edge_json_parse_object(req->entity.base, req->entity.len, &lim, doc, e);
}

static med_rc check_query(h2o_req_t *req, med_err *e)
{
    h2o_iovec_t q = med_http_query(req);
    return edge_query_check(q.base, q.len, e);
}

/* ---- routing ------------------------------------------------------------ */

static void not_implemented(h2o_req_t *req, const edge_route *rt, double t0)
{
    med_err e;
    med_err_set(&e, MED_ERR_INTERNAL, MED_R_EDGE_NOT_IMPLEMENTED, NULL,
                "%s is not served yet: its stage has not landed", rt->path);
    edge_send_error(req, rt->path, t0, &e);
}

static void route_api(edge_server *s, h2o_req_t *req, const edge_route *rt, edge_method m,
                      double t0)
{
    med_err e;
    med_err_clear(&e);
    json_t *doc = NULL;
    med_auth_context *ctx = NULL;
    med_rc rc = check_auth(s, req, &ctx, &e);
    if (rc == MED_OK) rc = m == EDGE_M_POST ? check_body(s, req, &doc, &e) : check_query(req, &e);
    if (rc == MED_OK) rc = check_access(s, req, rt, ctx, doc, &e);
    if (rc != MED_OK) {
        free(ctx);
        json_decref(doc);
        edge_send_error(req, rt->path, t0, &e);
        return;
    }
    /* ctx is NULL while auth is off; the handlers copy what they keep. */
    if (rt->id == EDGE_R_OPPORTUNITIES) {
        edge_opportunity_start(s, req, doc, ctx, t0);
    } else if (rt->id == EDGE_R_CONFIG) {
        edge_config_get(s, req, ctx, t0);
    } else if (rt->id == EDGE_R_CONFIG_PUBLISH) {
        edge_config_publish(s, req, ctx, doc, t0);
    } else if (rt->id == EDGE_R_EVENTS) {
        edge_events_start(s, req, doc, ctx, t0);
    } else if (rt->id == EDGE_R_REPLAY) {
        edge_replay_start(s, req, doc, ctx, t0);
    } else if (rt->id == EDGE_R_RECONCILIATION) {
        json_decref(doc);
        edge_recon_start(s, req, ctx, t0);
    } else {
        json_decref(doc);
        not_implemented(req, rt, t0);
    }
    free(ctx);
}

static int on_req(void *ud, h2o_req_t *req)
{
    edge_server *s = ud;
    double t0 = edge_now_s();
    h2o_iovec_t path = med_http_path(req);
    const edge_route *rt = edge_route_match(path.base, path.len);
    med_err e;
    if (!rt) {
        med_err_set(&e, MED_ERR_NOT_FOUND, MED_R_EDGE_NOT_FOUND, NULL, "no such route");
        edge_send_error(req, EDGE_ROUTE_LABEL_OTHER, t0, &e);
        return 0;
    }
    edge_method m = edge_method_parse(req->method.base, req->method.len);
    if (!edge_route_allows(rt, m)) {
        med_err_set(&e, MED_ERR_INVALID, MED_R_EDGE_METHOD_NOT_ALLOWED, NULL, "%s accepts %s",
                    rt->path, rt->allow);
        med_http_add_header(req, "Allow", rt->allow);
        edge_send_error(req, rt->path, t0, &e);
        return 0;
    }
    if (!rt->needs_auth)
        serve_ops(s, req, rt, t0);
    else
        route_api(s, req, rt, m, t0);
    return 0;
}

/* ---- lifecycle ---------------------------------------------------------- */

static med_rc open_http(edge_server *s, med_err *err)
{
    if (s->cfg.tls_enabled) {
        med_rc rc = med_http_ssl_ctx_new(s->cfg.tls_cert, s->cfg.tls_key, &s->ssl, err);
        if (rc != MED_OK) return rc;
    }
    med_http_opts o = {
        .host = s->cfg.host,
        .port = s->cfg.port,
        .max_body_bytes = s->cfg.body_limit * EDGE_H2O_BODY_CAP_FACTOR,
        .ssl_ctx = s->ssl,
        .handler = on_req,
        .ud = s,
    };
    return med_http_server_new(&o, &s->http, err);
}

/* One reply inbox for every route: config, events and query replies
 * carry keys of their own. */
static void on_reply(void *ud, const edge_reply *r)
{
    edge_server *s = ud;
    if (!edge_config_on_reply(r) && !edge_parking_on_reply(s->parking, r))
        edge_opportunity_on_reply(ud, r);
}

static med_rc open_inbox(edge_server *s, med_err *err)
{
    if (edge_inbox_prefix(s->inbox, sizeof s->inbox) != 0)
        return med_err_set(err, MED_ERR_INTERNAL, MED_R_EDGE_INTERNAL, NULL, "inbox prefix");
    h2o_loop_t *loop = med_http_server_loop(s->http);
    h2o_timeout_init(loop, &s->deadline, (uint64_t)s->cfg.request_timeout_ms);
    h2o_timeout_init(loop, &s->events_deadline, (uint64_t)s->cfg.events_timeout_ms);
    h2o_timeout_init(loop, &s->query_deadline, (uint64_t)s->cfg.query_timeout_ms);
    s->deadline_inited = 1;
    s->parking = edge_parking_new(loop);
    if (!s->parking)
        return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "parking");
    return edge_replies_start(med_js_conn(s->js), med_http_server_ctx(s->http)->queue, s->inbox,
                              on_reply, s, &s->replies, err);
}

med_rc edge_server_new(const edge_config *cfg, med_js *js, med_readiness *ready, edge_server **out,
                       med_err *err)
{
    *out = NULL;
    edge_server *s = calloc(1, sizeof *s);
    if (!s) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "edge server");
    s->cfg = *cfg;
    s->js = js;
    s->ready = ready;
    s->pending = edge_pending_new();
    edge_metrics_init();
    med_rc rc =
        s->pending ? MED_OK : med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "pending");
    if (rc == MED_OK) rc = open_http(s, err);
    if (rc == MED_OK) rc = open_inbox(s, err);
    if (rc != MED_OK) {
        edge_server_free(s);
        return rc;
    }
    MED_LOGI(NULL, "edge listening on %s:%d (%s), reply inbox %s.*, deadline %d ms",
             s->cfg.host[0] ? s->cfg.host : "127.0.0.1", med_http_server_port(s->http),
             s->ssl ? "https" : "http", s->inbox, s->cfg.request_timeout_ms);
    *out = s;
    return MED_OK;
}

int edge_server_port(const edge_server *s)
{
    return s ? med_http_server_port(s->http) : -1;
}

void edge_server_run(edge_server *s, const atomic_int *stop)
{
    while (!atomic_load(stop)) med_http_server_run_once(s->http, EDGE_LOOP_TICK_MS);
    MED_LOGI(NULL, "stopping: no new connections; %zu requests pending",
             edge_pending_count(s->pending));
    med_readiness_set_started(s->ready, 0);
    med_http_server_stop_accepting(s->http);
    /* Every pending request is answered by its reply or its deadline, so
     * this ends within the longest timeout. */
    int longest = s->cfg.request_timeout_ms;
    if (s->cfg.events_timeout_ms > longest) longest = s->cfg.events_timeout_ms;
    if (s->cfg.query_timeout_ms > longest) longest = s->cfg.query_timeout_ms;
    int64_t end = med_mono_ms() + longest + EDGE_DRAIN_GRACE_MS;
    while (edge_pending_count(s->pending) + edge_parking_count(s->parking) > 0 &&
           med_mono_ms() < end)
        med_http_server_run_once(s->http, EDGE_LOOP_TICK_MS / 2);
    edge_opportunity_expire_all(s);
    edge_parking_expire_all(s->parking);
    med_http_server_drain(s->http, EDGE_DRAIN_CONNECTIONS_MS);
}

void edge_server_free(edge_server *s)
{
    if (!s) return;
    if (s->replies) edge_replies_stop(s->replies);
    if (s->pending) edge_opportunity_expire_all(s);
    edge_parking_expire_all(s->parking);
    edge_config_routes_stop();
    if (s->http) med_http_server_run_once(s->http, 0); /* flush those answers */
    if (s->deadline_inited) {
        h2o_loop_t *loop = med_http_server_loop(s->http);
        h2o_timeout_dispose(loop, &s->deadline);
        h2o_timeout_dispose(loop, &s->events_deadline);
        h2o_timeout_dispose(loop, &s->query_deadline);
    }
    edge_parking_free(s->parking);
    med_http_server_free(s->http);
    if (s->ssl) SSL_CTX_free(s->ssl);
    edge_pending_free(s->pending);
    free(s);
}
