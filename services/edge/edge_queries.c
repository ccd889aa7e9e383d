/* POST/GET /v1/replay and GET /v1/reconciliation: the query goes to stage
 * G over core NATS request/reply (med.g.replay.v1, med.g.reconcile.v1)
 * with its reply subject on the edge's inbox, so the loop thread never
 * blocks; G's ReplayPage / ReconciliationReport becomes the answer. No G
 * replica subscribed (NATS "no responders") or none answering by
 * EDGE_QUERY_TIMEOUT_MS: 503 edge_upstream_unavailable + Retry-After.
 * Role (reviewer or admin) was checked at the door (edge_access.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edge_access.h"
#include "edge_answers.h"
#include "edge_config_msg.h"
#include "edge_parking.h"
#include "edge_replay_query.h"
#include "edge_request.h"
#include "edge_routes.h"
#include "edge_server_int.h"
#include "med/ids.h"
#include "med/log.h"
#include "med/names.h"
#include "med/reason.h"

#define REPLY_TO_MAX (EDGE_INBOX_PREFIX_MAX + EDGE_PARK_KEY_MAX + 2)
/* Who a query runs as while AUTH_ENABLED=false (dev/ci only). */
#define EDGE_DEV_ACTOR "edge_dev"
#define METHOD_GET "GET"
#define METHOD_POST "POST"

typedef enum query_kind { Q_REPLAY = 0, Q_RECON } query_kind;

typedef struct query_wait {
    query_kind kind;
    med_trace_headers trace;
    char key[EDGE_PARK_KEY_MAX];
} query_wait;

static const char *route_of(query_kind k)
{
    return edge_route_path(k == Q_REPLAY ? EDGE_R_REPLAY : EDGE_R_RECONCILIATION);
}

static void unavailable(h2o_req_t *req, double t0, const query_wait *w, const char *why)
{
    med_err e;
    med_err_set(&e, MED_ERR_UNAVAILABLE, MED_R_EDGE_UPSTREAM_UNAVAILABLE, NULL,
                "the %s service %s; retry", w->kind == Q_REPLAY ? "replay" : "reconciliation",
                why);
    edge_add_trace_ids(req, &w->trace);
    edge_send_retry_error(req, route_of(w->kind), t0, &e);
}

static void on_reply(h2o_req_t *req, double t0, void *ud, const edge_reply *r)
{
    query_wait *w = ud;
    if (r->no_responders) {
        unavailable(req, t0, w, "is not running");
        return;
    }
    edge_answer a;
    med_err e;
    med_err_clear(&e);
    med_rc rc = w->kind == Q_REPLAY ? edge_replay_answer(r->data, r->len, &a, &e)
                                    : edge_recon_answer(r->data, r->len, &a, &e);
    edge_add_trace_ids(req, &w->trace);
    if (rc != MED_OK) {
        MED_LOGE(NULL, "%s: %s", route_of(w->kind), e.message);
        edge_send_error(req, route_of(w->kind), t0, &e);
        return;
    }
    edge_send_answer(req, route_of(w->kind), t0, &a);
    edge_answer_free(&a);
}

static void on_deadline(h2o_req_t *req, double t0, void *ud)
{
    query_wait *w = ud;
    MED_LOGW(NULL, "%s: no answer from stage G within the deadline", route_of(w->kind));
    unavailable(req, t0, w, "did not answer in time");
}

static const edge_park_ops k_ops = { on_reply, on_deadline, free };

/* ---- sending ------------------------------------------------------------ */

static med_rc send_core(edge_server *s, const char *subject, const query_wait *w,
                        const uint8_t *data, size_t len, med_err *e)
{
    char reply_to[REPLY_TO_MAX];
    snprintf(reply_to, sizeof reply_to, "%s.%s", s->inbox, w->key);
    natsMsg *m = NULL;
    natsStatus st = natsMsg_Create(&m, subject, reply_to, (const char *)data, (int)len);
    if (st != NATS_OK) return med_js_status_err(st, 0, NULL, "query request", e);
    med_rc rc = med_headers_write(m, &w->trace, e);
    if (rc == MED_OK) rc = med_js_publish_core(s->js, m, e);
    natsMsg_Destroy(m);
    return rc;
}

/* Parks the request and sends data; answers the caller on failure. Takes
 * w and data. */
static void ask_g(edge_server *s, h2o_req_t *req, query_wait *w, uint8_t *data, size_t len,
                  double t0)
{
    med_err e;
    med_err_clear(&e);
    const char *subject = w->kind == Q_REPLAY ? MED_SUBJ_G_REPLAY : MED_SUBJ_G_RECONCILE;
    med_rc rc = edge_park(s->parking, req, &s->query_deadline, w->key, &k_ops, w, t0, &e);
    if (rc != MED_OK) {
        const char *route = route_of(w->kind);
        free(data);
        free(w);
        edge_send_error(req, route, t0, &e);
        return;
    }
    rc = send_core(s, subject, w, data, len, &e);
    free(data);
    if (rc == MED_OK) return;
    MED_LOGE(NULL, "%s: request to stage G failed: %s", route_of(w->kind), e.message);
    edge_unpark(s->parking, w->key);
    unavailable(req, t0, w, "could not be reached");
    free(w);
}

/* ---- the caller ---------------------------------------------------------- */

typedef struct caller_buf {
    med_auth_proto proto;
    edge_cfg_dev_auth dev;
} caller_buf;

/* The verified caller, or while auth is off the dev tenant acting as an
 * admin with every scope (like a dev publish): G always sees an
 * authContextLite. */
static void caller_of(const edge_server *s, const med_auth_context *auth, const char *method,
                      const query_wait *w, caller_buf *buf, edge_query_caller *who)
{
    memset(who, 0, sizeof *who);
    who->http_method = method;
    who->trace = &w->trace;
    who->raw_read_allowed = edge_access_raw_read(auth);
    if (auth) {
        med_auth_context_to_proto(auth, &buf->proto);
        who->tenant = auth->tenant;
        who->auth = &buf->proto.msg;
        return;
    }
    who->tenant = s->cfg.dev_tenant;
    edge_cfg_dev_auth_init(&buf->dev, who->tenant, EDGE_DEV_ACTOR, med_now_unix_ms());
    who->auth = &buf->dev.msg;
}

static query_wait *wait_new(edge_server *s, h2o_req_t *req, query_kind kind,
                            const med_auth_context *auth, med_err *e)
{
    query_wait *w = calloc(1, sizeof *w);
    if (!w) {
        med_err_set(e, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "pending request");
        return NULL;
    }
    w->kind = kind;
    if (edge_trace_of_request(s, req, auth, NULL, NULL, &w->trace, e) != MED_OK ||
        edge_parking_key(EDGE_PARK_KEY_QUERY, w->key, sizeof w->key) != 0) {
        if (!e->code[0])
            med_err_set(e, MED_ERR_INTERNAL, MED_R_EDGE_INTERNAL, NULL, "cannot make a key");
        free(w);
        return NULL;
    }
    /* A query is not an opportunity's request (A.5). */
    w->trace.request_key[0] = '\0';
    return w;
}

void edge_replay_start(edge_server *s, h2o_req_t *req, json_t *doc,
                       const med_auth_context *auth, double t0)
{
    med_err e;
    med_err_clear(&e);
    edge_replay_query rq;
    edge_replay_query_init(&rq);
    h2o_iovec_t q = med_http_query(req);
    const char *method = doc ? METHOD_POST : METHOD_GET;
    med_rc rc = doc ? edge_replay_query_from_json(doc, &rq, &e)
                    : edge_replay_query_from_params(q.base, q.len, &rq, &e);
    json_decref(doc);
    query_wait *w = rc == MED_OK ? wait_new(s, req, Q_REPLAY, auth, &e) : NULL;
    uint8_t *data = NULL;
    size_t len = 0;
    if (w) {
        caller_buf buf;
        edge_query_caller who;
        caller_of(s, auth, method, w, &buf, &who);
        rc = edge_replay_request_pack(&rq, &who, med_now_unix_ms(), &data, &len, &e);
    }
    edge_replay_query_free(&rq);
    if (!w || rc != MED_OK) {
        free(w);
        edge_send_error(req, route_of(Q_REPLAY), t0, &e);
        return;
    }
    ask_g(s, req, w, data, len, t0);
}

void edge_recon_start(edge_server *s, h2o_req_t *req, const med_auth_context *auth, double t0)
{
    med_err e;
    med_err_clear(&e);
    query_wait *w = wait_new(s, req, Q_RECON, auth, &e);
    uint8_t *data = NULL;
    size_t len = 0;
    med_rc rc = MED_ERR_INVALID;
    if (w) {
        caller_buf buf;
        edge_query_caller who;
        caller_of(s, auth, METHOD_GET, w, &buf, &who);
        h2o_iovec_t q = med_http_query(req);
        rc = edge_recon_request_pack(q.base, q.len, &who, med_now_unix_ms(), &data, &len, &e);
    }
    if (rc != MED_OK) {
        free(w);
        edge_send_error(req, route_of(Q_RECON), t0, &e);
        return;
    }
    ask_g(s, req, w, data, len, t0);
}
