#include "g_recon_serve.h"

#include <stdio.h>
#include <stdlib.h>

#include "g_metrics.h"
#include "g_recon_run.h"
#include "g_recon_store.h"
#include "med/ids.h"
#include "med/log.h"
#include "med/metrics.h"
#include "med/names.h"
#include "med/reason.h"

#define G_RECON_QUEUE "g_recon"
#define DRAIN_TIMEOUT_MS 10000

struct g_recon_server {
    med_pg *pg;
    natsSubscription *sub;
};

static void count_report(const Mediation__V1__ReconciliationReport *r)
{
    char labels[96];
    snprintf(labels, sizeof labels, "granularity=\"%s\",status=\"%d\",pass=\"%s\"",
             r->granularity && *r->granularity ? r->granularity : "none", (int)r->http_status,
             r->pass ? "true" : "false");
    med_counter *c = med_counter_get("med_g_recon_reports_total",
                                     "Reconciliation reports answered", labels);
    if (c) med_counter_inc(c);
}

static void log_report(const Mediation__V1__ReconciliationQuery *q,
                       const Mediation__V1__ReconciliationReport *r, med_rc rc,
                       const med_err *err)
{
    med_log_ctx lc = {.trace_id = q && q->trace ? q->trace->trace_key : NULL,
                      .tenant_id = q ? q->tenant_id : NULL,
                      .error_code = rc != MED_OK ? err->code : NULL};
    if (rc != MED_OK) {
        MED_LOGW(&lc, "reconciliation answered %d: %s", (int)r->http_status, err->message);
        return;
    }
    MED_LOGI(&lc, "reconciliation %s %lld: archive %lld, billing %lld, matched %lld, diffs %lld, "
                  "pass %s, jobs %zu",
             r->granularity, (long long)r->window_start_unix_ms,
             (long long)r->total_archive_records, (long long)r->total_billing_records,
             (long long)r->matched_count, (long long)r->diff_count, r->pass ? "true" : "false",
             r->n_replay_jobs);
}

static void reply(natsConnection *nc, natsMsg *msg, const Mediation__V1__ReconciliationReport *r)
{
    const char *to = natsMsg_GetReply(msg);
    if (!to) return;
    size_t len = mediation__v1__reconciliation_report__get_packed_size(r);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) {
        MED_LOGE(NULL, "reconciliation reply lost: out of memory");
        return;
    }
    mediation__v1__reconciliation_report__pack(r, buf);
    natsStatus s = natsConnection_Publish(nc, to, buf, (int)len);
    if (s != NATS_OK) MED_LOGW(NULL, "reconciliation reply lost: %s", natsStatus_GetText(s));
    free(buf);
}

static void answer(g_recon_server *srv, natsConnection *nc, natsMsg *msg)
{
    int64_t now = med_now_unix_ms();
    med_arena a;
    med_arena_init(&a);
    med_err err;
    med_err_clear(&err);
    Mediation__V1__ReconciliationReport report;
    Mediation__V1__ReconciliationQuery *q = mediation__v1__reconciliation_query__unpack(
        NULL, (size_t)natsMsg_GetDataLength(msg), (const uint8_t *)natsMsg_GetData(msg));
    med_rc rc;
    if (!q) {
        rc = med_err_set(&err, MED_ERR_INVALID, MED_R_INFRA_DECODE_FAILED, NULL,
                         "payload is not a ReconciliationQuery");
        g_recon_report_error(&err, 400, NULL, now, &a, &report);
    } else {
        rc = g_recon_run(srv->pg, q, now, &a, &report, &err);
    }
    reply(nc, msg, &report);
    count_report(&report);
    g_metrics_recon(&report);
    log_report(q, &report, rc, &err);
    if (q) mediation__v1__reconciliation_query__free_unpacked(q, NULL);
    med_arena_free(&a);
}

static void on_request(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)sub;
    answer(closure, nc, msg);
    natsMsg_Destroy(msg);
}

med_rc g_recon_serve_start(med_service *svc, g_recon_server **out, med_err *err)
{
    *out = NULL;
    g_recon_server *s = calloc(1, sizeof *s);
    if (!s) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "recon server");
    med_rc rc = med_service_pg_open(svc, 0, &s->pg, err);
    if (rc == MED_OK) rc = g_recon_store_prepare(s->pg, err);
    if (rc == MED_OK) {
        natsConnection *nc = med_js_conn(med_service_js(svc));
        natsStatus st = natsConnection_QueueSubscribe(&s->sub, nc, MED_SUBJ_G_RECONCILE,
                                                      G_RECON_QUEUE, on_request, s);
        if (st == NATS_OK) st = natsConnection_Flush(nc);
        if (st != NATS_OK) rc = med_js_status_err(st, 0, NULL, "subscribe " MED_SUBJ_G_RECONCILE, err);
    }
    if (rc != MED_OK) {
        g_recon_serve_stop(s);
        return rc;
    }
    *out = s;
    return MED_OK;
}

void g_recon_serve_stop(g_recon_server *s)
{
    if (!s) return;
    if (s->sub) {
        natsSubscription_Drain(s->sub);
        natsSubscription_WaitForDrainCompletion(s->sub, DRAIN_TIMEOUT_MS);
        natsSubscription_Destroy(s->sub);
    }
    med_pg_close(s->pg);
    free(s);
}
