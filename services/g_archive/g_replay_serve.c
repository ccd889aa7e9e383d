#include "g_replay_serve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "g_metrics.h"
#include "g_replay_page.h"
#include "g_replay_select.h"
#include "g_replay_store.h"
#include "med/ids.h"
#include "med/js.h"
#include "med/log.h"
#include "med/names.h"
#include "med/reason.h"

#define G_REPLAY_QUEUE "g_replay"
#define G_REPLAY_STATEMENT_TIMEOUT_MS 30000

struct g_replay_server {
    med_js *js;
    med_pg *pg;
    natsSubscription *sub;
};

/* ---- one request ---- */

typedef struct replay_tx {
    const g_query *q;
    med_arena *a;
    int64_t now_ms;
    Mediation__V1__ReplayPage *page;
} replay_tx;

static med_rc load_for_selection(med_pg *pg, const g_query *q, g_select *s, med_arena *a, med_err *err)
{
    unsigned what = (s->need_d ? G_LOAD_D_ONLY : 0) | (s->need_archive ? G_LOAD_ARCHIVE : 0);
    if (!what) return MED_OK;
    return g_replay_store_fragments(pg, q->cut_ms, s->matched, s->n_matched, what, a, err);
}

/* Whatever a filter or the order loaded is replaced by the page's full set. */
static med_rc load_page(med_pg *pg, const g_query *q, g_select *s, med_arena *a, med_err *err)
{
    for (size_t i = 0; i < s->n_page; i++) {
        memset(&s->page[i]->f, 0, sizeof s->page[i]->f);
        s->page[i]->loaded = 0;
    }
    return g_replay_store_fragments(pg, q->cut_ms, s->page, s->n_page, G_LOAD_ALL, a, err);
}

/* One read-only transaction per request. Both reads filter on the cut
 * (created_at <= cut), so rows committed between them cannot change the
 * answer; med_pg_tx has already set the tenant, too late for an isolation
 * level, not for READ ONLY. */
static med_rc replay_body(med_pg *pg, PGconn *conn, void *ud, med_err *err)
{
    replay_tx *t = ud;
    PGresult *ro = PQexec(conn, "SET TRANSACTION READ ONLY");
    med_rc rc = med_pg_result_err(ro, conn, err);
    PQclear(ro);
    g_opp *opps = NULL;
    size_t n = 0;
    g_select s;
    PGresult *keys = NULL;
    if (rc == MED_OK) rc = g_replay_store_candidates(pg, t->q, t->a, &opps, &n, &keys, err);
    if (rc == MED_OK) rc = g_select_prefilter(t->a, t->q, opps, n, &s, err);
    if (rc == MED_OK) rc = load_for_selection(pg, t->q, &s, t->a, err);
    if (rc == MED_OK) rc = g_select_page(t->a, t->q, &s, err);
    if (rc == MED_OK) rc = load_page(pg, t->q, &s, t->a, err);
    if (rc == MED_OK) rc = g_replay_page_build(t->a, t->q, &s, t->now_ms, &t->page, err);
    /* the page copied every key it keeps (records, cursor) into the arena */
    PQclear(keys);
    return rc;
}

static Mediation__V1__ReplayPage *answer(med_pg *pg, const Mediation__V1__ReplayQuery *rq, int64_t now_ms,
                                         med_arena *a, g_query *q, med_err *err)
{
    int64_t received = rq->received_at_unix_ms > 0 ? rq->received_at_unix_ms : now_ms;
    if (g_query_validate(rq, received, q, err) != MED_OK) return NULL;
    if (!rq->tenant_id || !*rq->tenant_id) {
        med_err_set(err, MED_ERR_INVALID, MED_R_G_REPLAY_MISSING_REQUIRED, "tenantId", "the query has no tenant");
        return NULL;
    }
    replay_tx t = {q, a, now_ms, NULL};
    med_rc rc = med_pg_tx(pg, rq->tenant_id, 0, replay_body, &t, err);
    if (rc == MED_OK && a->failed) med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "replay page");
    return rc == MED_OK && !a->failed ? t.page : NULL;
}

static med_rc pack_page(const Mediation__V1__ReplayPage *p, uint8_t **out, size_t *len, med_err *err)
{
    *len = mediation__v1__replay_page__get_packed_size(p);
    *out = malloc(*len ? *len : 1);
    if (!*out) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "replay reply");
    mediation__v1__replay_page__pack(p, *out);
    return MED_OK;
}

med_rc g_replay_handle(med_pg *pg, const uint8_t *req, size_t len, int64_t now_ms, uint8_t **reply,
                       size_t *reply_len, med_err *err)
{
    med_arena a = {0};
    g_query q = {0};
    med_err e;
    med_err_clear(&e);
    Mediation__V1__ReplayQuery *rq = mediation__v1__replay_query__unpack(NULL, len, req);
    Mediation__V1__ReplayPage *p = NULL;
    if (!rq)
        med_err_set(&e, MED_ERR_INVALID, MED_R_G_REPLAY_MISSING_REQUIRED, NULL, "the request is not a ReplayQuery");
    else
        p = answer(pg, rq, now_ms, &a, &q, &e);
    int client_fault = !p && (e.rc == MED_ERR_INVALID || e.rc == MED_ERR_CONFLICT);
    if (rq && !client_fault) g_metrics_replay(&q, p, p != NULL);
    if (!p) {
        if (e.rc != MED_ERR_INVALID && e.rc != MED_ERR_CONFLICT)
            MED_LOGW(NULL, "replay failed: %s %s", e.code, e.message);
        p = g_replay_page_error(&a, rq, &e, now_ms);
    }
    med_rc rc = p ? pack_page(p, reply, reply_len, err)
                  : med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "replay reply");
    g_query_free(&q);
    med_arena_free(&a);
    if (rq) mediation__v1__replay_query__free_unpacked(rq, NULL);
    return rc;
}

/* ---- NATS ---- */

static void on_request(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)sub;
    g_replay_server *s = closure;
    const char *reply_to = natsMsg_GetReply(msg);
    uint8_t *out = NULL;
    size_t out_len = 0;
    med_err err;
    med_err_clear(&err);
    if (g_replay_handle(s->pg, (const uint8_t *)natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg),
                        med_now_unix_ms(), &out, &out_len, &err) != MED_OK) {
        MED_LOGE(NULL, "replay reply not built: %s %s", err.code, err.message);
    } else if (reply_to) {
        natsStatus st = natsConnection_Publish(nc, reply_to, out, (int)out_len);
        if (st != NATS_OK) MED_LOGW(NULL, "replay reply lost: %s", natsStatus_GetText(st));
    }
    free(out);
    natsMsg_Destroy(msg);
}

med_rc g_replay_serve_start(med_service *svc, g_replay_server **out, med_err *err)
{
    *out = NULL;
    g_replay_server *s = calloc(1, sizeof *s);
    if (!s) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "replay server");
    med_rc rc = med_service_pg_open(svc, G_REPLAY_STATEMENT_TIMEOUT_MS, &s->pg, err);
    if (rc == MED_OK) rc = g_replay_store_prepare(s->pg, err);
    if (rc == MED_OK) rc = med_service_js_open(svc, "replay", 1, &s->js, err);
    if (rc == MED_OK) {
        natsConnection *nc = med_js_conn(s->js);
        natsStatus st = natsConnection_QueueSubscribe(&s->sub, nc, MED_SUBJ_G_REPLAY, G_REPLAY_QUEUE, on_request, s);
        if (st == NATS_OK) st = natsConnection_Flush(nc);
        if (st != NATS_OK) rc = med_js_status_err(st, 0, NULL, "replay subscribe", err);
    }
    if (rc != MED_OK) {
        g_replay_serve_stop(s);
        return rc;
    }
    *out = s;
    return MED_OK;
}

void g_replay_serve_stop(g_replay_server *s)
{
    if (!s) return;
    if (s->sub) {
        natsSubscription_Drain(s->sub);
        natsSubscription_WaitForDrainCompletion(s->sub, 5000);
        natsSubscription_Destroy(s->sub);
    }
    med_js_close(s->js);
    med_pg_close(s->pg);
    free(s);
}
