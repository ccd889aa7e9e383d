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
#include "med/ids.h"

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

const char *th_json_str(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}
