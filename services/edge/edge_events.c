/* POST /v1/events: publish the EventBatch to stage F (JetStream, stream
 * MED_EVENTS), park the HTTP request, answer with F's EventBatchAck when
 * it arrives on the reply inbox, or 503 + Retry-After at the deadline
 * (EDGE_EVENTS_TIMEOUT_MS): the SDK resends the same batchId and F's
 * dedup turns what it already committed into `duplicate` items. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edge_answers.h"
#include "edge_events_msg.h"
#include "edge_json.h"
#include "edge_parking.h"
#include "edge_request.h"
#include "edge_routes.h"
#include "edge_server_int.h"
#include "med/ids.h"
#include "med/log.h"
#include "med/names.h"
#include "med/reason.h"

#define ROUTE edge_route_path(EDGE_R_EVENTS)
#define REPLY_TO_MAX (EDGE_INBOX_PREFIX_MAX + EDGE_PARK_KEY_MAX + 2)

typedef struct events_wait {
    med_trace_headers trace;
    char key[EDGE_PARK_KEY_MAX]; /* edge_request_id and inbox key */
} events_wait;

static void log_ctx_of(const events_wait *w, const char *code, med_log_ctx *lc)
{
    memset(lc, 0, sizeof *lc);
    lc->trace_id = w->trace.trace_key;
    lc->request_id = w->key;
    lc->tenant_id = w->trace.tenant;
    lc->error_code = code;
}

static void on_reply(h2o_req_t *req, double t0, void *ud, const edge_reply *r)
{
    events_wait *w = ud;
    edge_answer a;
    med_err e;
    med_err_clear(&e);
    edge_add_trace_ids(req, &w->trace);
    if (edge_ack_answer(r->data, r->len, &a, &e) != MED_OK) {
        med_log_ctx lc;
        log_ctx_of(w, e.code, &lc);
        MED_LOGE(&lc, "events reply unusable: %s", e.message);
        edge_send_error(req, ROUTE, t0, &e);
        return;
    }
    edge_send_answer(req, ROUTE, t0, &a);
    edge_answer_free(&a);
}

static void on_deadline(h2o_req_t *req, double t0, void *ud)
{
    events_wait *w = ud;
    med_log_ctx lc;
    log_ctx_of(w, MED_R_EDGE_UPSTREAM_UNAVAILABLE, &lc);
    MED_LOGW(&lc, "no ACK from stage F within the deadline; answering 503");
    med_err e;
    med_err_set(&e, MED_ERR_UNAVAILABLE, MED_R_EDGE_UPSTREAM_UNAVAILABLE, NULL,
                "the events were not acknowledged in time; resend the same batchId");
    edge_add_trace_ids(req, &w->trace);
    edge_send_retry_error(req, ROUTE, t0, &e);
}

static const edge_park_ops k_ops = { on_reply, on_deadline, free };

static events_wait *wait_new(edge_server *s, h2o_req_t *req, const json_t *doc,
                             const med_auth_context *auth, med_err *e)
{
    char app[EDGE_ID_MAX_LEN + 1];
    if (edge_events_app(auth, doc, app, sizeof app, e) != MED_OK) return NULL;
    events_wait *w = calloc(1, sizeof *w);
    if (!w) {
        med_err_set(e, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "pending request");
        return NULL;
    }
    if (edge_trace_of_request(s, req, auth, app, NULL, &w->trace, e) != MED_OK ||
        edge_parking_key(EDGE_PARK_KEY_EVENTS, w->key, sizeof w->key) != 0) {
        if (!e->code[0])
            med_err_set(e, MED_ERR_INTERNAL, MED_R_EDGE_INTERNAL, NULL, "cannot make a key");
        free(w);
        return NULL;
    }
    /* Med-Request-Key names an opportunity's request (A.5); a batch has
     * none of its own. */
    w->trace.request_key[0] = '\0';
    return w;
}

static med_rc build_message(edge_server *s, h2o_req_t *req, const events_wait *w,
                            const med_auth_context *auth, natsMsg **m, med_err *e)
{
    char reply_to[REPLY_TO_MAX], ctype[EDGE_CONTENT_TYPE_MAX];
    snprintf(reply_to, sizeof reply_to, "%s.%s", s->inbox, w->key);
    if (med_http_header(req, "content-type", ctype, sizeof ctype) != 0) ctype[0] = '\0';
    int64_t now = med_now_unix_ms();
    edge_events_in in = {
        .body = req->entity.base,
        .body_len = req->entity.len,
        .trace = &w->trace,
        .reply_to = reply_to,
        .content_type = ctype,
        .edge_request_id = w->key,
        .auth = auth,
        .received_at_unix_ms = now,
        .deadline_unix_ms = now + s->cfg.events_timeout_ms,
    };
    return edge_events_msg(&in, m, e);
}

void edge_events_start(edge_server *s, h2o_req_t *req, json_t *doc,
                       const med_auth_context *auth, double t0)
{
    med_err e;
    med_err_clear(&e);
    events_wait *w = wait_new(s, req, doc, auth, &e);
    json_decref(doc); /* F parses the raw body itself */
    natsMsg *m = NULL;
    med_rc rc = w ? build_message(s, req, w, auth, &m, &e) : MED_ERR_INVALID;
    if (rc == MED_OK)
        rc = edge_park(s->parking, req, &s->events_deadline, w->key, &k_ops, w, t0, &e);
    if (rc != MED_OK) {
        natsMsg_Destroy(m);
        free(w);
        edge_send_error(req, ROUTE, t0, &e);
        return;
    }
    if (med_js_publish_async(s->js, m, w->key, &e) == MED_OK) return;
    natsMsg_Destroy(m);
    med_log_ctx lc;
    log_ctx_of(w, e.code, &lc);
    MED_LOGE(&lc, "publish to stage F failed: %s", e.message);
    edge_unpark(s->parking, w->key);
    edge_add_trace_ids(req, &w->trace);
    free(w);
    med_err_set(&e, MED_ERR_UNAVAILABLE, MED_R_EDGE_UPSTREAM_UNAVAILABLE, NULL,
                "the events could not be handed to the events stage; retry");
    edge_send_retry_error(req, ROUTE, t0, &e);
}
