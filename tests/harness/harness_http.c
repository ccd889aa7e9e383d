#include "harness_http.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "harness.h"
#include "med/headers.h"
#include "med/ids.h"
#include "med/names.h"
#include "mediation/v1/opportunity.pb-c.h"

char *th_opportunity_body(const char *session, const char *trigger, const char *extra,
                          const char *app_extra)
{
    char at[32], later[32];
    int64_t now = med_now_unix_ms();
    med_format_utc_ms(now - 200, at, sizeof at);
    med_format_utc_ms(now - 100, later, sizeof later);
    char *b = NULL;
    int n = asprintf(&b,
                     "{\"placementId\":\"plc_feed\",\"sdkVersion\":\"2.1.0\","
                     "\"ingressEnvelopeVersion\":\"ingress_v1\","
                     "\"triggerContractVersion\":\"a_trigger_v1\","
                     "\"appContext\":{\"appId\":\"app_demo\",\"sessionId\":\"%s\","
                     "\"channelType\":\"app\",\"requestAt\":\"%s\","
                     "\"deviceIdOrNA\":\"device-secret-0001\",\"session_state\":\"active\"%s%s%s},"
                     "\"triggerContext\":{\"triggerType\":\"%s\",\"triggerAt\":\"%s\"}%s%s}",
                     session, at,
                     app_extra && strstr(app_extra, "privacy_status")
                         ? "" : ",\"privacy_status\":\"consent_granted\"",
                     app_extra ? "," : "", app_extra ? app_extra : "", trigger, later,
                     extra ? "," : "", extra ? extra : "");
    assert_true(n > 0);
    return b;
}

natsSubscription *th_stream_reader(jsCtx *js, const char *subject, uint64_t start_seq)
{
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Config.DeliverPolicy = js_DeliverByStartSequence;
    so.Config.OptStartSeq = start_seq;
    so.Config.AckPolicy = js_AckNone;
    natsSubscription *sub = NULL;
    jsErrCode jerr = 0;
    assert_int_equal(js_SubscribeSync(&sub, js, subject, NULL, &so, &jerr), NATS_OK);
    return sub;
}

void th_publish_opportunity_request(jsCtx *js, const char *tenant, const char *body,
                                    const char *client_request_id, char *request_key,
                                    size_t cap)
{
    char dedup[160];
    snprintf(dedup, sizeof dedup, "cli:app_demo:%s|0", client_request_id);
    assert_int_equal(med_hash_key(request_key, cap, "req_", dedup, 16), 0);
    Mediation__V1__TraceContext tc;
    mediation__v1__trace_context__init(&tc);
    tc.tenant_id = (char *)tenant;
    Mediation__V1__OpportunityRequest req;
    mediation__v1__opportunity_request__init(&req);
    req.trace = &tc;
    req.body_json = (char *)body;
    req.tenant_id = (char *)tenant;
    req.app_id = (char *)"app_demo";
    req.environment = (char *)"prod";
    req.received_at_unix_ms = med_now_unix_ms();
    uint8_t buf[4096];
    assert_true(mediation__v1__opportunity_request__get_packed_size(&req) <= sizeof buf);
    size_t n = mediation__v1__opportunity_request__pack(&req, buf);
    natsMsg *m = NULL;
    assert_int_equal(natsMsg_Create(&m, MED_SUBJ_A_REQUEST, NULL, (const char *)buf, (int)n), NATS_OK);
    natsMsgHeader_Set(m, MED_HDR_TENANT, tenant);
    natsMsgHeader_Set(m, MED_HDR_APP, "app_demo");
    jsPubAck *ack = NULL;
    jsErrCode jerr = 0;
    assert_int_equal(js_PublishMsg(&ack, js, m, NULL, &jerr), NATS_OK);
    jsPubAck_Destroy(ack);
    natsMsg_Destroy(m);
}

json_t *th_edge_json(int port, const char *method, const char *path, const char *body,
                     long *status)
{
    char url[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    const char *hdrs[] = { "Content-Type: application/json", NULL };
    th_http_resp r;
    assert_int_equal(th_http(method, url, hdrs, body, body ? strlen(body) : 0, 15000, &r), 0);
    *status = r.status;
    json_error_t je;
    json_t *j = json_loadb(r.body, r.body_len, 0, &je);
    if (!j) fail_msg("%s %s answered %ld, not JSON: %.*s", method, path, r.status,
                     (int)r.body_len, r.body);
    th_http_free(&r);
    return j;
}

char *th_sql_value(PGconn *pg, const char *sql, const char *param)
{
    const char *params[1] = { param };
    PGresult *res = PQexecParams(pg, sql, param ? 1 : 0, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) fail_msg("%s: %s", sql, PQerrorMessage(pg));
    char *v = PQntuples(res) > 0 ? strdup(PQgetvalue(res, 0, 0)) : NULL;
    PQclear(res);
    return v;
}

long th_sql_count(PGconn *pg, const char *sql, const char *param)
{
    char *v = th_sql_value(pg, sql, param);
    long n = v ? atol(v) : -1;
    free(v);
    return n;
}

/* 1 when every comma-separated k="v" of want occurs in the sample's labels. */
static int labels_match(const char *line, size_t name_len, const char *want)
{
    const char *end = strchr(line, '\n');
    size_t line_len = end ? (size_t)(end - line) : strlen(line);
    char buf[1024];
    if (line_len >= sizeof buf) return 0;
    memcpy(buf, line, line_len);
    buf[line_len] = '\0';
    if (buf[name_len] != '{' && buf[name_len] != ' ') return 0; /* a longer name */
    char w[512];
    snprintf(w, sizeof w, "%s", want);
    for (char *save = NULL, *kv = strtok_r(w, ",", &save); kv; kv = strtok_r(NULL, ",", &save))
        if (!strstr(buf, kv)) return 0;
    return 1;
}

double th_metric_sum(int admin_port, const char *name, const char *labels)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", admin_port);
    th_http_resp r;
    if (th_http("GET", url, NULL, NULL, 0, 5000, &r) != 0 || r.status != 200) return -1;
    double sum = 0;
    size_t n = strlen(name);
    for (const char *line = r.body; line && *line;) {
        const char *nl = strchr(line, '\n');
        const char *end = nl ? nl : line + strlen(line);
        if (strncmp(line, name, n) == 0 && labels_match(line, n, labels)) {
            const char *sp = end;
            while (sp > line && sp[-1] != ' ') sp--; /* the value is the last field */
            if (sp > line) sum += strtod(sp, NULL);
        }
        line = nl ? nl + 1 : NULL;
    }
    th_http_free(&r);
    return sum;
}

const char *th_json_str(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}
