/* POST /v1/opportunities: publish the OpportunityRequest to stage A, park
 * the HTTP request, and answer it with the Delivery that arrives on the
 * reply inbox, or with an error Delivery when the deadline passes.
 *
 * Lifetime: a pending entry (edge_inflight) lives from publish until it is
 * answered or its client goes away, whichever comes first. h2o may free
 * the request under us (an HTTP/2 reset, a closed connection), so a small
 * guard allocated in the request's pool tells us when that happens. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "edge_delivery.h"
#include "edge_json.h"
#include "edge_metrics.h"
#include "edge_request.h"
#include "edge_routes.h"
#include "edge_server_int.h"
#include "med/ids.h"
#include "med/log.h"
#include "med/names.h"
#include "med/reason.h"

#define EDGE_ROUTE_OPP edge_route_path(EDGE_R_OPPORTUNITIES)
#define EDGE_REPLY_TO_MAX (EDGE_INBOX_PREFIX_MAX + MED_HDR_VALUE_MAX + 2)
/* What A learns about the caller's identity while tokens are not checked. */
#define EDGE_AUTH_METHOD_NONE "none"

typedef struct edge_guard edge_guard;

typedef struct edge_inflight {
    edge_server *srv;
    h2o_req_t *req;
    edge_guard *guard;
    h2o_timeout_entry_t timer;
    double t0;
    med_trace_headers trace;
} edge_inflight;

struct edge_guard {
    edge_inflight *inflight; /* NULL once answered */
};

static void log_ctx_of(const med_trace_headers *h, const char *code, med_log_ctx *lc)
{
    memset(lc, 0, sizeof *lc);
    lc->trace_id = h->trace_key;
    lc->request_id = h->request_key;
    lc->tenant_id = h->tenant;
    lc->error_code = code;
}

/* Forgets the entry everywhere; the request itself is not touched. */
static void inflight_close(edge_inflight *f)
{
    edge_pending_take(f->srv->pending, f->trace.request_key);
    if (h2o_timeout_is_linked(&f->timer)) h2o_timeout_unlink(&f->timer);
    if (f->guard) f->guard->inflight = NULL;
    edge_metrics_pending(-1);
    free(f);
}

static void on_request_disposed(void *p)
{
    edge_guard *g = p;
    edge_inflight *f = g->inflight;
    if (!f) return; /* answered before h2o let go of it */
    med_log_ctx lc;
    log_ctx_of(&f->trace, NULL, &lc);
    MED_LOGI(&lc, "client went away before its Delivery; pending request dropped");
    edge_metrics_client_gone();
    inflight_close(f);
}

static void add_trace_headers(h2o_req_t *req, const med_trace_headers *h, const edge_reply *skip)
{
    const struct {
        const char *name, *value;
    } all[] = {
        { MED_HDR_TRACEPARENT, h->traceparent }, { MED_HDR_TRACE_KEY, h->trace_key },
        { MED_HDR_REQUEST_KEY, h->request_key }, { MED_HDR_OPPORTUNITY_KEY, h->opportunity_key },
        { MED_HDR_TENANT, h->tenant },           { MED_HDR_APP, h->app },
        { MED_HDR_PLACEMENT, h->placement },     { MED_HDR_ANCHOR_HASH, h->anchor_hash },
    };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (!all[i].value[0]) continue;
        int in_reply = 0;
        for (int j = 0; skip && j < skip->n_headers && !in_reply; j++)
            in_reply = strcasecmp(skip->names[j], all[i].name) == 0;
        if (!in_reply) med_http_add_header(req, all[i].name, all[i].value);
    }
}

static void answer_deadline(edge_inflight *f)
{
    h2o_req_t *req = f->req;
    double t0 = f->t0;
    med_trace_headers h = f->trace;
    inflight_close(f);
    edge_trace_keys keys = { h.trace_key, h.request_key, NULL };
    char *body = NULL;
    size_t len = 0;
    med_err e;
    med_log_ctx lc;
    log_ctx_of(&h, MED_R_E_ER_EDGE_DEADLINE, &lc);
    MED_LOGW(&lc, "no Delivery within the deadline; answering an error Delivery");
    edge_metrics_deadline();
    add_trace_headers(req, &h, NULL);
    if (edge_deadline_delivery_json(&keys, &body, &len, &e) != MED_OK) {
        edge_send_error(req, EDGE_ROUTE_OPP, t0, &e);
        return;
    }
    edge_send(req, EDGE_ROUTE_OPP, t0, 200, body, len);
    free(body);
}

static void on_deadline(h2o_timeout_entry_t *entry)
{
    answer_deadline(H2O_STRUCT_FROM_MEMBER(edge_inflight, timer, entry));
}

void edge_opportunity_expire_all(edge_server *s)
{
    edge_inflight *f;
    while ((f = edge_pending_take_any(s->pending)) != NULL) answer_deadline(f);
}

void edge_opportunity_on_reply(void *ud, const edge_reply *r)
{
    edge_server *s = ud;
    edge_inflight *f = edge_pending_get(s->pending, r->key);
    if (!f) {
        /* Deadline already answered, or the client left: the Delivery is
         * still in MED_DELIVERY for F and G; only this copy is dropped. */
        edge_metrics_late_reply();
        MED_LOGD(NULL, "late reply for %s dropped", r->key);
        return;
    }
    h2o_req_t *req = f->req;
    double t0 = f->t0;
    med_trace_headers h = f->trace;
    inflight_close(f);
    edge_trace_keys keys = { h.trace_key, h.request_key, NULL };
    edge_answer a;
    med_err e;
    for (int i = 0; i < r->n_headers; i++) med_http_add_header(req, r->names[i], r->values[i]);
    add_trace_headers(req, &h, r);
    if (edge_reply_answer(r->data, r->len, r->kind, &keys, &a, &e) != MED_OK) {
        med_log_ctx lc;
        log_ctx_of(&h, e.code, &lc);
        MED_LOGE(&lc, "reply for %s unusable: %s", h.request_key, e.message);
        edge_send_error(req, EDGE_ROUTE_OPP, t0, &e);
        return;
    }
    if (a.retry_after_sec > 0) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", a.retry_after_sec);
        med_http_add_header(req, "Retry-After", ra);
    }
    edge_send(req, EDGE_ROUTE_OPP, t0, a.status, a.body, a.len);
    edge_answer_free(&a);
}

static med_rc build_message(edge_server *s, h2o_req_t *req, edge_inflight *f,
                            const med_auth_context *auth, natsMsg **m, med_err *e)
{
    char reply_to[EDGE_REPLY_TO_MAX], ctype[EDGE_CONTENT_TYPE_MAX];
    snprintf(reply_to, sizeof reply_to, "%s.%s", s->inbox, f->trace.request_key);
    if (med_http_header(req, "content-type", ctype, sizeof ctype) != 0) ctype[0] = '\0';
    int64_t now = med_now_unix_ms();
    edge_opportunity_in in = {
        .body = req->entity.base,
        .body_len = req->entity.len,
        .trace = &f->trace,
        .reply_to = reply_to,
        .content_type = ctype,
        .environment = s->cfg.environment,
        .auth_method = auth ? auth->auth_method : EDGE_AUTH_METHOD_NONE,
        .auth = auth,
        .received_at_unix_ms = now,
        .deadline_unix_ms = now + s->cfg.request_timeout_ms,
    };
    return edge_opportunity_msg(&in, m, e);
}

/* Registers f as pending: table entry, request guard, deadline timer. */
static med_rc park(edge_server *s, h2o_req_t *req, edge_inflight *f, med_err *e)
{
    if (edge_pending_put(s->pending, f->trace.request_key, f) != 0)
        return med_err_set(e, MED_ERR_INTERNAL, MED_R_EDGE_INTERNAL, NULL,
                           "cannot register the pending request");
    f->guard = h2o_mem_alloc_shared(&req->pool, sizeof *f->guard, on_request_disposed);
    f->guard->inflight = f;
    f->timer.cb = on_deadline;
    h2o_timeout_link(med_http_server_loop(s->http), &s->deadline, &f->timer);
    edge_metrics_pending(1);
    return MED_OK;
}

static edge_inflight *inflight_new(edge_server *s, h2o_req_t *req, const json_t *doc,
                                   const med_auth_context *auth, double t0, med_err *e)
{
    edge_opportunity_view v;
    if (edge_opportunity_check(doc, &v, e) != MED_OK) return NULL;
    edge_inflight *f = calloc(1, sizeof *f);
    if (!f) {
        med_err_set(e, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "pending request");
        return NULL;
    }
    if (edge_trace_of_request(s, req, auth, v.app_id, v.placement_id, &f->trace, e) != MED_OK) {
        free(f);
        return NULL;
    }
    f->srv = s;
    f->req = req;
    f->t0 = t0;
    return f;
}

void edge_opportunity_start(edge_server *s, h2o_req_t *req, json_t *doc,
                            const med_auth_context *auth, double t0)
{
    med_err e;
    med_err_clear(&e);
    edge_inflight *f = inflight_new(s, req, doc, auth, t0, &e);
    json_decref(doc); /* everything needed was copied into f->trace */
    if (!f) {
        edge_send_error(req, EDGE_ROUTE_OPP, t0, &e);
        return;
    }
    natsMsg *m = NULL;
    if (build_message(s, req, f, auth, &m, &e) != MED_OK) {
        free(f);
        edge_send_error(req, EDGE_ROUTE_OPP, t0, &e);
        return;
    }
    if (park(s, req, f, &e) != MED_OK) {
        natsMsg_Destroy(m);
        free(f);
        edge_send_error(req, EDGE_ROUTE_OPP, t0, &e);
        return;
    }
    char msg_id[MED_HDR_VALUE_MAX + 8];
    edge_msg_id(f->trace.request_key, msg_id, sizeof msg_id);
    if (med_js_publish_async(s->js, m, msg_id, &e) != MED_OK) {
        natsMsg_Destroy(m);
        med_trace_headers h = f->trace;
        inflight_close(f);
        med_log_ctx lc;
        log_ctx_of(&h, e.code, &lc);
        MED_LOGE(&lc, "publish to stage A failed: %s", e.message);
        med_err_set(&e, MED_ERR_UNAVAILABLE, MED_R_EDGE_UPSTREAM_UNAVAILABLE, NULL,
                    "the request could not be handed to the decision chain; retry");
        add_trace_headers(req, &h, NULL);
        edge_send_error(req, EDGE_ROUTE_OPP, t0, &e);
    }
}
