/* Config routes: request/reply with stage H (see edge_config_routes.h).
 *
 * The state lives in this file (one edge server per process) and starts
 * with the first config request, so the edge's start-up is unchanged.
 * Requests go out on the server's reply inbox and deadline timer, with
 * keys of their own ("cfg<n>"; opportunities use "req_..."): edge_server.c
 * hands those replies here.
 * Lifetime of a waiting request: like edge_opportunity.c, a guard in the
 * request's pool tells us when h2o dropped the request (client gone). */
#include "edge_config_routes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edge_config_msg.h"
#include "edge_routes.h"
#include "edge_server_int.h"
#include "med/ids.h"
#include "med/log.h"
#include "med/names.h"
#include "med/reason.h"

#define KEY_PREFIX "cfg"
#define KEY_MAX 40
#define REPLY_TO_MAX (EDGE_INBOX_PREFIX_MAX + KEY_MAX + 2)
#define INM_MAX 256

typedef enum cfg_kind { CFG_GET = 0, CFG_PUBLISH } cfg_kind;

typedef struct cfg_routes {
    edge_server *srv;
    edge_pending_table *pending;
    uint64_t seq;
} cfg_routes;

typedef struct cfg_guard cfg_guard;

typedef struct cfg_inflight {
    cfg_routes *rt;
    h2o_req_t *req;
    cfg_guard *guard;
    h2o_timeout_entry_t timer;
    double t0;
    cfg_kind kind;
    char key[KEY_MAX];
} cfg_inflight;

struct cfg_guard {
    cfg_inflight *inflight; /* NULL once answered */
};

static cfg_routes *g_routes; /* loop thread only */

static const char *route_of(cfg_kind k)
{
    return edge_route_path(k == CFG_GET ? EDGE_R_CONFIG : EDGE_R_CONFIG_PUBLISH);
}

/* ---- waiting requests --------------------------------------------------- */

static void inflight_close(cfg_inflight *f)
{
    edge_pending_take(f->rt->pending, f->key);
    if (h2o_timeout_is_linked(&f->timer)) h2o_timeout_unlink(&f->timer);
    if (f->guard) f->guard->inflight = NULL;
    free(f);
}

static void on_request_disposed(void *p)
{
    cfg_guard *g = p;
    if (g->inflight) inflight_close(g->inflight);
}

static void answer_timeout(cfg_inflight *f)
{
    h2o_req_t *req = f->req;
    double t0 = f->t0;
    const char *route = route_of(f->kind);
    inflight_close(f);
    med_err e;
    med_err_set(&e, MED_ERR_TIMEOUT, MED_R_EDGE_DEADLINE_EXCEEDED, NULL,
                "the config service did not answer in time; retry");
    MED_LOGW(NULL, "%s: no answer from stage H within the deadline", route);
    edge_send_error(req, route, t0, &e);
}

static void on_deadline(h2o_timeout_entry_t *entry)
{
    answer_timeout(H2O_STRUCT_FROM_MEMBER(cfg_inflight, timer, entry));
}

/* ---- answers ------------------------------------------------------------ */

static void send_answer(h2o_req_t *req, const char *route, double t0, const edge_cfg_answer *a)
{
    char v[EDGE_CFG_ETAG_MAX + 4];
    if (a->etag[0]) {
        snprintf(v, sizeof v, "\"%s\"", a->etag);
        med_http_add_header(req, "ETag", v);
        snprintf(v, sizeof v, "max-age=%d", a->ttl_sec);
        med_http_add_header(req, "Cache-Control", v);
    }
    if (a->retry_after_sec > 0) {
        snprintf(v, sizeof v, "%d", a->retry_after_sec);
        med_http_add_header(req, "Retry-After", v);
    }
    edge_send(req, route, t0, a->status, a->body ? a->body : "", a->body ? a->len : 0);
}

int edge_config_on_reply(const edge_reply *r)
{
    if (strncmp(r->key, KEY_PREFIX, sizeof KEY_PREFIX - 1) != 0) return 0;
    cfg_routes *rt = g_routes;
    cfg_inflight *f = rt ? edge_pending_get(rt->pending, r->key) : NULL;
    if (!f) {
        MED_LOGD(NULL, "late config reply for %s dropped", r->key);
        return 1;
    }
    h2o_req_t *req = f->req;
    double t0 = f->t0;
    cfg_kind kind = f->kind;
    inflight_close(f);
    edge_cfg_answer a;
    med_err e;
    if (r->no_responders) {
        /* No H replica subscribed: say so now instead of at the deadline. */
        med_err_set(&e, MED_ERR_UNAVAILABLE, MED_R_EDGE_UPSTREAM_UNAVAILABLE, NULL,
                    "no config service is answering");
        edge_send_error(req, route_of(kind), t0, &e);
        return 1;
    }
    med_rc rc = kind == CFG_GET ? edge_cfg_get_answer(r->data, r->len, &a, &e)
                                : edge_cfg_publish_answer(r->data, r->len, &a, &e);
    if (rc != MED_OK) {
        MED_LOGE(NULL, "%s: %s", route_of(kind), e.message);
        edge_send_error(req, route_of(kind), t0, &e);
        return 1;
    }
    send_answer(req, route_of(kind), t0, &a);
    edge_cfg_answer_free(&a);
    return 1;
}

/* ---- start / stop ------------------------------------------------------- */

static med_rc routes_start(edge_server *s, med_err *err)
{
    if (g_routes) return MED_OK;
    cfg_routes *rt = calloc(1, sizeof *rt);
    if (!rt) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "config routes");
    rt->srv = s;
    rt->pending = edge_pending_new();
    if (!rt->pending) {
        free(rt);
        return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "config pending");
    }
    g_routes = rt;
    return MED_OK;
}

void edge_config_routes_stop(void)
{
    cfg_routes *rt = g_routes;
    if (!rt) return;
    cfg_inflight *f;
    while ((f = edge_pending_take_any(rt->pending)) != NULL) answer_timeout(f);
    edge_pending_free(rt->pending);
    free(rt);
    g_routes = NULL;
}

/* ---- requests ----------------------------------------------------------- */

/* The tenant comes from the verified token, or from EDGE_DEV_TENANT while
 * auth is off (decisions 7); never from the request. */
static med_rc caller_of(const edge_server *s, const med_auth_context *auth,
                        med_auth_proto *proto, edge_cfg_caller *who, med_err *e)
{
    memset(who, 0, sizeof *who);
    if (!s->cfg.auth_enabled) {
        who->tenant = s->cfg.dev_tenant;
        return MED_OK;
    }
    if (!auth || !auth->tenant[0])
        return med_err_set(e, MED_ERR_INVALID, MED_R_AUTH_TOKEN_INVALID, NULL,
                           "the bearer token could not be verified");
    med_auth_context_to_proto(auth, proto);
    who->tenant = auth->tenant;
    who->auth = &proto->msg;
    return MED_OK;
}

static med_rc send_request(cfg_routes *rt, const char *subject, const cfg_inflight *f,
                           const uint8_t *data, size_t len, med_err *e)
{
    char reply_to[REPLY_TO_MAX];
    snprintf(reply_to, sizeof reply_to, "%s.%s", rt->srv->inbox, f->key);
    natsMsg *m = NULL;
    natsStatus st = natsMsg_Create(&m, subject, reply_to, (const char *)data, (int)len);
    if (st != NATS_OK) return med_js_status_err(st, 0, NULL, "config request", e);
    med_rc rc = med_js_publish_core(rt->srv->js, m, e);
    natsMsg_Destroy(m);
    return rc;
}

static med_rc park(cfg_routes *rt, h2o_req_t *req, cfg_inflight *f, med_err *e)
{
    snprintf(f->key, sizeof f->key, KEY_PREFIX "%llu", (unsigned long long)++rt->seq);
    if (edge_pending_put(rt->pending, f->key, f) != 0)
        return med_err_set(e, MED_ERR_INTERNAL, MED_R_EDGE_INTERNAL, NULL,
                           "cannot register the pending request");
    f->guard = h2o_mem_alloc_shared(&req->pool, sizeof *f->guard, on_request_disposed);
    f->guard->inflight = f;
    f->timer.cb = on_deadline;
    h2o_timeout_link(med_http_server_loop(rt->srv->http), &rt->srv->deadline, &f->timer);
    return MED_OK;
}

/* Parks the request and sends data to subject; answers the caller itself
 * on any failure. Takes data. */
static void ask_h(edge_server *s, h2o_req_t *req, cfg_kind kind, double t0, uint8_t *data,
                  size_t len)
{
    med_err e;
    med_err_clear(&e);
    cfg_inflight *f = NULL;
    med_rc rc = routes_start(s, &e);
    if (rc == MED_OK && !(f = calloc(1, sizeof *f)))
        rc = med_err_set(&e, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "pending request");
    if (rc == MED_OK) {
        *f = (cfg_inflight){ .rt = g_routes, .req = req, .t0 = t0, .kind = kind };
        rc = park(g_routes, req, f, &e);
        if (rc != MED_OK) free(f);
    }
    if (rc == MED_OK) {
        rc = send_request(g_routes, kind == CFG_GET ? MED_SUBJ_H_GET : MED_SUBJ_H_PUBLISH, f,
                          data, len, &e);
        if (rc != MED_OK) {
            inflight_close(f);
            MED_LOGE(NULL, "%s: request to stage H failed: %s", route_of(kind), e.message);
            med_err_set(&e, MED_ERR_UNAVAILABLE, MED_R_EDGE_UPSTREAM_UNAVAILABLE, NULL,
                        "the config service could not be reached; retry");
        }
    }
    free(data);
    if (rc != MED_OK) edge_send_error(req, route_of(kind), t0, &e);
}

void edge_config_get(edge_server *s, h2o_req_t *req, const med_auth_context *auth, double t0)
{
    med_auth_proto proto;
    med_err e;
    med_err_clear(&e);
    edge_cfg_caller who;
    char inm[INM_MAX];
    const char *tag = med_http_header(req, "if-none-match", inm, sizeof inm) == 0 ? inm : NULL;
    h2o_iovec_t q = med_http_query(req);
    uint8_t *data = NULL;
    size_t len = 0;
    med_rc rc = caller_of(s, auth, &proto, &who, &e);
    if (rc == MED_OK)
        rc = edge_cfg_get_request(q.base, q.len, tag, &who, med_now_unix_ms(), &data, &len, &e);
    if (rc != MED_OK) {
        edge_send_error(req, route_of(CFG_GET), t0, &e);
        return;
    }
    ask_h(s, req, CFG_GET, t0, data, len);
}

void edge_config_publish(edge_server *s, h2o_req_t *req, const med_auth_context *auth,
                         json_t *doc, double t0)
{
    med_auth_proto proto;
    edge_cfg_dev_auth dev;
    med_err e;
    med_err_clear(&e);
    edge_cfg_caller who;
    uint8_t *data = NULL;
    size_t len = 0;
    med_rc rc = caller_of(s, auth, &proto, &who, &e);
    const char *operator_id = json_string_value(json_object_get(doc, "operatorId"));
    if (rc == MED_OK && !s->cfg.auth_enabled && operator_id) {
        edge_cfg_dev_auth_init(&dev, who.tenant, operator_id, med_now_unix_ms());
        who.auth = &dev.msg;
    }
    if (rc == MED_OK)
        rc = edge_cfg_publish_request(req->entity.base, req->entity.len, &who, med_now_unix_ms(),
                                      &data, &len, &e);
    json_decref(doc); /* H parses the raw body itself (06 section 3) */
    if (rc != MED_OK) {
        edge_send_error(req, route_of(CFG_PUBLISH), t0, &e);
        return;
    }
    ask_h(s, req, CFG_PUBLISH, t0, data, len);
}
