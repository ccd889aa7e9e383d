#include "f_world.h"

#include <hiredis/hiredis.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "med/ids.h"
#include "med/names.h"
#include "mediation/v1/delivery.pb-c.h"

/* ---- processes ------------------------------------------------------------------ */

static void configure(fw *w, int i)
{
    char name[32];
    snprintf(name, sizeof name, "f_events_%d", i);
    th_proc *p = &w->f[i];
    th_proc_init_ci(p, name, "f_events", "med-f-events", "ADMIN_HTTP_PORT", "200");
    /* test windows (00 decision 6): a terminal wait of 2 s, scans every 200 ms */
    th_proc_setenv(p, "F_TERMINAL_WAIT_SEC", "2");
    th_proc_setenv(p, "F_SCAN_INTERVAL_MS", "200");
    th_proc_setenv(p, "JS_MAX_DELIVER", "10");
    th_proc_setenv(p, "JS_BACKOFF_MS", "200,400,800");
    th_proc_setenv(p, "JS_ACK_WAIT_MS", "3000");
    th_proc_setenv(p, "JS_FETCH_TIMEOUT_MS", "100");
}

void fw_start(fw *w)
{
    memset(w, 0, sizeof *w);
    char hex[17];
    med_random_hex(hex, sizeof hex, 8);
    snprintf(w->run, sizeof w->run, "%s", hex);
    snprintf(w->tenant, sizeof w->tenant, "t_f_%s", hex);
    for (int i = 0; i < FW_REPLICAS; i++) {
        configure(w, i);
        th_proc_start_ready(&w->f[i]);
    }
    assert_int_equal(natsConnection_ConnectTo(&w->nc, th_env("NATS_URL")), NATS_OK);
    assert_int_equal(natsConnection_JetStream(&w->js, w->nc, NULL), NATS_OK);
    w->pg = PQconnectdb(th_env("PG_ADMIN_DSN"));
    assert_int_equal(PQstatus(w->pg), CONNECTION_OK);
}

void fw_stop(fw *w)
{
    for (int i = 0; i < FW_REPLICAS; i++) th_proc_free(&w->f[i]);
    if (w->js) jsCtx_Destroy(w->js);
    if (w->nc) natsConnection_Destroy(w->nc);
    if (w->pg) PQfinish(w->pg);
    w->js = NULL;
    w->nc = NULL;
    w->pg = NULL;
}

void fw_kill(fw *w, int i)
{
    th_proc_stop(&w->f[i], SIGKILL, 5000);
}

void fw_restart(fw *w, int i)
{
    th_proc_start_ready(&w->f[i]);
}

char *fw_name(fw *w, const char *prefix)
{
    char *s = NULL;
    assert_true(asprintf(&s, "%s_%s", prefix, w->run) > 0);
    return s;
}

/* ---- SQL ------------------------------------------------------------------------- */

char *fw_value(fw *w, const char *sql, const char *p1, const char *p2)
{
    const char *params[2] = { p1, p2 };
    int n = p2 ? 2 : p1 ? 1 : 0;
    PGresult *res = PQexecParams(w->pg, sql, n, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) fail_msg("%s: %s", sql, PQerrorMessage(w->pg));
    char *v = PQntuples(res) > 0 && !PQgetisnull(res, 0, 0) ? strdup(PQgetvalue(res, 0, 0)) : NULL;
    PQclear(res);
    return v;
}

long fw_count(fw *w, const char *sql, const char *p1, const char *p2)
{
    char *v = fw_value(w, sql, p1, p2);
    long n = v ? atol(v) : -1;
    free(v);
    return n;
}

long fw_await_count(fw *w, long want, int timeout_ms, const char *sql, const char *p1,
                    const char *p2)
{
    long long end = th_now_ms() + timeout_ms;
    long n;
    while ((n = fw_count(w, sql, p1, p2)) != want && th_now_ms() < end) th_sleep_ms(50);
    return n;
}

/* ---- Deliveries ------------------------------------------------------------------- */

static void keys_of(fw *w, const char *rr, char *trace, char *req, char *att, char *opp, size_t cap)
{
    snprintf(trace, cap, "tr_%s", rr);
    snprintf(req, cap, "req_%s", rr);
    snprintf(att, cap, "att_%s", rr);
    snprintf(opp, cap, "opp_%s", rr);
    (void)w;
}

void fw_delivery_publish(fw *w, const char *rr, const char *status)
{
    char trace[160], req[160], att[160], opp[160];
    keys_of(w, rr, trace, req, att, opp, sizeof trace);
    Mediation__V1__TraceContext tc = MEDIATION__V1__TRACE_CONTEXT__INIT;
    tc.tenant_id = w->tenant;
    tc.app_id = FW_APP;
    tc.trace_key = trace;
    tc.anchor_hash = "anchor_f_store";
    Mediation__V1__Delivery d = MEDIATION__V1__DELIVERY__INIT;
    d.trace = &tc;
    d.status = (char *)status;
    d.response_reference = (char *)rr;
    d.final_reason_code = strcmp(status, "served") == 0 ? "e_render_candidate_selected"
                          : strcmp(status, "no_fill") == 0 ? "e_nf_no_candidate_input"
                                                           : "e_er_upstream_error";
    d.trace_key = trace;
    d.request_key = req;
    d.attempt_key = att;
    d.opportunity_key = opp;
    d.delivered_at_unix_ms = med_now_unix_ms();
    size_t len = mediation__v1__delivery__get_packed_size(&d);
    uint8_t *buf = malloc(len + 1);
    assert_non_null(buf);
    mediation__v1__delivery__pack(&d, buf);
    natsMsg *m = NULL;
    assert_int_equal(natsMsg_Create(&m, MED_SUBJ_DELIVERY, NULL, (const char *)buf, (int)len), NATS_OK);
    natsMsgHeader_Set(m, MED_HDR_TENANT, w->tenant);
    natsMsgHeader_Set(m, MED_HDR_APP, FW_APP);
    natsMsgHeader_Set(m, MED_HDR_ANCHOR_HASH, "anchor_f_store");
    char id[200];
    snprintf(id, sizeof id, "e.delivery:%s", rr);
    natsMsgHeader_Set(m, MED_HDR_MSG_ID, id);
    jsErrCode jerr = 0;
    assert_int_equal(js_PublishMsg(NULL, w->js, m, NULL, &jerr), NATS_OK);
    natsMsg_Destroy(m);
    free(buf);
}

void fw_delivery(fw *w, const char *rr, const char *status)
{
    fw_delivery_publish(w, rr, status);
    long n = fw_await_count(w, 1, 15000,
                            "SELECT count(*) FROM f_deliveries WHERE tenant_id = $1 AND response_reference = $2",
                            w->tenant, rr);
    if (n != 1) fail_msg("F did not store Delivery %s", rr);
}

/* ---- events ------------------------------------------------------------------------ */

static char *json_time(int64_t ms)
{
    char t[32];
    med_format_utc_ms(ms, t, sizeof t);
    return strdup(t);
}

static const char *type_extra(const char *type, int seq, char *buf, size_t cap)
{
    if (strcmp(type, "impression") == 0 || strcmp(type, "ad_filled") == 0)
        snprintf(buf, cap, ",\"creativeId\":\"creative_001\"");
    else if (strcmp(type, "click") == 0)
        snprintf(buf, cap, ",\"clickTarget\":\"cta\",\"eventSeq\":%d", seq);
    else if (strcmp(type, "error") == 0)
        snprintf(buf, cap, ",\"errorStage\":\"render\",\"errorCode\":\"e_render_asset_failed\","
                           "\"errorClass\":\"terminal\"");
    else
        buf[0] = '\0';
    return buf;
}

char *fw_event(fw *w, const char *type, const char *event_id, const char *rr, const char *ra,
               int seq, const char *idem)
{
    char trace[160], req[160], att[160], opp[160], extra[200], idem_json[300] = "";
    keys_of(w, rr, trace, req, att, opp, sizeof trace);
    if (idem) snprintf(idem_json, sizeof idem_json, ",\"idempotencyKey\":\"%s\"", idem);
    char *at = json_time(med_now_unix_ms() - 1000);
    char *s = NULL;
    assert_true(asprintf(&s,
                         "{\"eventId\":\"%s\",\"eventType\":\"%s\",\"eventAt\":\"%s\","
                         "\"traceKey\":\"%s\",\"requestKey\":\"%s\",\"attemptKey\":\"%s\","
                         "\"opportunityKey\":\"%s\",\"eventVersion\":\"event_v1\","
                         "\"responseReference\":\"%s\",\"renderAttemptId\":\"%s\"%s%s}",
                         event_id, type, at, trace, req, att, opp, rr, ra,
                         type_extra(type, seq, extra, sizeof extra), idem_json) > 0);
    free(at);
    return s;
}

char *fw_body(const char *batch_id, char **events)
{
    size_t cap = 512;
    for (int i = 0; events[i]; i++) cap += strlen(events[i]) + 1;
    char *at = json_time(med_now_unix_ms() - 500);
    char *b = malloc(cap);
    assert_non_null(b);
    int n = snprintf(b, cap,
                     "{\"batchId\":\"%s\",\"appId\":\"" FW_APP "\",\"sdkVersion\":\"2.1.0\","
                     "\"sentAt\":\"%s\",\"schemaVersion\":\"schema_v1\",\"events\":[",
                     batch_id, at);
    for (int i = 0; events[i]; i++) {
        n += snprintf(b + n, cap - (size_t)n, "%s%s", i ? "," : "", events[i]);
        free(events[i]);
    }
    snprintf(b + n, cap - (size_t)n, "]}");
    free(at);
    return b;
}

static void publish_batch(fw *w, const char *edge_id, const char *body, const char *inbox)
{
    Mediation__V1__TraceContext tc = MEDIATION__V1__TRACE_CONTEXT__INIT;
    tc.tenant_id = w->tenant;
    tc.app_id = FW_APP;
    Mediation__V1__EventBatch eb = MEDIATION__V1__EVENT_BATCH__INIT;
    eb.trace = &tc;
    eb.body_case = MEDIATION__V1__EVENT_BATCH__BODY_BODY_JSON;
    eb.body_json = (char *)body;
    eb.reply_to = (char *)(inbox ? inbox : "");
    eb.received_at_unix_ms = med_now_unix_ms();
    eb.tenant_id = w->tenant;
    eb.app_id = FW_APP;
    eb.content_type = "application/json";
    eb.edge_request_id = (char *)edge_id;
    size_t len = mediation__v1__event_batch__get_packed_size(&eb);
    uint8_t *buf = malloc(len + 1);
    assert_non_null(buf);
    mediation__v1__event_batch__pack(&eb, buf);
    natsMsg *m = NULL;
    assert_int_equal(natsMsg_Create(&m, MED_SUBJ_F_EVENTS, NULL, (const char *)buf, (int)len), NATS_OK);
    natsMsgHeader_Set(m, MED_HDR_TENANT, w->tenant);
    natsMsgHeader_Set(m, MED_HDR_APP, FW_APP);
    if (inbox) natsMsgHeader_Set(m, MED_HDR_REPLY_TO, inbox);
    jsErrCode jerr = 0;
    assert_int_equal(js_PublishMsg(NULL, w->js, m, NULL, &jerr), NATS_OK);
    natsMsg_Destroy(m);
    free(buf);
}

static char *edge_id_of(fw *w, const char *edge_id)
{
    char *s = NULL;
    if (edge_id) return strdup(edge_id);
    assert_true(asprintf(&s, "er_%s_%d", w->run, ++w->seq) > 0);
    return s;
}

Mediation__V1__EventBatchAck *fw_send(fw *w, const char *edge_id, const char *body)
{
    char inbox[128];
    snprintf(inbox, sizeof inbox, "_INBOX.f_store.%s.%d", w->run, ++w->seq);
    natsSubscription *sub = NULL;
    assert_int_equal(natsConnection_SubscribeSync(&sub, w->nc, inbox), NATS_OK);
    natsConnection_Flush(w->nc);
    char *id = edge_id_of(w, edge_id);
    publish_batch(w, id, body, inbox);
    natsMsg *rep = NULL;
    natsStatus s = natsSubscription_NextMsg(&rep, sub, 20000);
    if (s != NATS_OK) fail_msg("no answer from F for %s: %s", id, natsStatus_GetText(s));
    Mediation__V1__EventBatchAck *ack = mediation__v1__event_batch_ack__unpack(
        NULL, (size_t)natsMsg_GetDataLength(rep), (const uint8_t *)natsMsg_GetData(rep));
    assert_non_null(ack);
    natsMsg_Destroy(rep);
    natsSubscription_Destroy(sub);
    free(id);
    return ack;
}

void fw_send_nowait(fw *w, const char *edge_id, const char *body)
{
    char *id = edge_id_of(w, edge_id);
    publish_batch(w, id, body, NULL);
    free(id);
}

/* ---- MED_ARCHIVE --------------------------------------------------------------------- */

uint64_t fw_archive_seq(fw *w)
{
    return th_stream_last_seq(w->js, MED_STREAM_ARCHIVE);
}

static int record_of(const Mediation__V1__ArchiveRecord *ar, const char *rr)
{
    const Mediation__V1__FToGArchiveRecordLite *r = ar->record;
    return r && r->source_keys && r->source_keys->response_reference_or_na_opt_case &&
           r->source_keys->response_reference_or_na &&
           strcmp(r->source_keys->response_reference_or_na, rr) == 0;
}

void fw_archive(fw *w, uint64_t from_seq, const char *rr, fw_records *out)
{
    memset(out, 0, sizeof *out);
    uint64_t last = fw_archive_seq(w);
    for (uint64_t seq = from_seq + 1; seq <= last; seq++) {
        natsMsg *m = NULL;
        jsErrCode jerr = 0;
        if (js_GetMsg(&m, w->js, MED_STREAM_ARCHIVE, seq, NULL, &jerr) != NATS_OK) continue;
        if (strcmp(natsMsg_GetSubject(m), MED_SUBJ_G_ARCHIVE) == 0) {
            Mediation__V1__ArchiveRecord *ar = mediation__v1__archive_record__unpack(
                NULL, (size_t)natsMsg_GetDataLength(m), (const uint8_t *)natsMsg_GetData(m));
            if (ar && record_of(ar, rr)) {
                out->r = realloc(out->r, (out->n + 1) * sizeof *out->r);
                assert_non_null(out->r);
                out->r[out->n++] = ar;
            } else if (ar) {
                mediation__v1__archive_record__free_unpacked(ar, NULL);
            }
        }
        natsMsg_Destroy(m);
    }
}

void fw_records_free(fw_records *r)
{
    for (size_t i = 0; i < r->n; i++) mediation__v1__archive_record__free_unpacked(r->r[i], NULL);
    free(r->r);
    r->r = NULL;
    r->n = 0;
}

/* ---- Redis ----------------------------------------------------------------------------- */

void fw_redis_flushall(void)
{
    redisContext *c = redisConnect(th_env("REDIS_HOST"), atoi(th_env("REDIS_PORT")));
    assert_true(c && !c->err);
    redisReply *r = redisCommand(c, "FLUSHALL");
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_STATUS);
    freeReplyObject(r);
    redisFree(c);
}
