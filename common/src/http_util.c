/* Request/response helpers on top of h2o 2.2 (see http_util.h). Every
 * response carries an explicit Content-Length: h2o 2.2 would otherwise
 * send it chunked. */
#include "med/http_util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "med/metrics.h"
#include "med/reason.h"

#define MED_HTTP_HEADER_NAME_MAX 64
#define MED_HTTP_MISSING_MAX 512

static const char k_json_type[] = "application/json";
static const char k_prom_type[] = "text/plain; version=0.0.4";

/* ---- requests ---------------------------------------------------------- */

int med_http_method_is(const h2o_req_t *req, const char *method)
{
    size_t n = strlen(method);
    return req->method.len == n && memcmp(req->method.base, method, n) == 0;
}

h2o_iovec_t med_http_path(const h2o_req_t *req)
{
    return req->path_normalized;
}

h2o_iovec_t med_http_query(const h2o_req_t *req)
{
    if (req->query_at == SIZE_MAX || req->query_at >= req->path.len) return h2o_iovec_init(NULL, 0);
    return h2o_iovec_init(req->path.base + req->query_at + 1, req->path.len - req->query_at - 1);
}

/* h2o stores request header names in lower case. */
static int lower_name(const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    if (n == 0 || n >= cap) return -1;
    for (size_t i = 0; i < n; i++) out[i] = (char)tolower((unsigned char)name[i]);
    out[n] = '\0';
    return (int)n;
}

int med_http_header(const h2o_req_t *req, const char *name, char *out, size_t cap)
{
    char lname[MED_HTTP_HEADER_NAME_MAX];
    int n = lower_name(name, lname, sizeof lname);
    if (n < 0 || cap == 0) return -1;
    ssize_t i = h2o_find_header_by_str(&req->headers, lname, (size_t)n, -1);
    if (i < 0) return -1;
    const h2o_iovec_t *v = &req->headers.entries[i].value;
    if (v->len >= cap) return -1;
    memcpy(out, v->base, v->len);
    out[v->len] = '\0';
    return 0;
}

/* ---- responses --------------------------------------------------------- */

const char *med_http_reason_phrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return status < 400 ? "OK" : "Error";
    }
}

void med_http_add_header(h2o_req_t *req, const char *name, const char *value)
{
    char lname[MED_HTTP_HEADER_NAME_MAX];
    int n = lower_name(name, lname, sizeof lname);
    if (n < 0 || !value) return;
    /* h2o keeps pointers, so both strings must live in the request pool.
     * The lower-case name is what HTTP/2 requires; HTTP/1 prints orig. */
    h2o_iovec_t lower = h2o_strdup(&req->pool, lname, (size_t)n);
    h2o_iovec_t orig = h2o_strdup(&req->pool, name, (size_t)n);
    h2o_iovec_t val = h2o_strdup(&req->pool, value, strlen(value));
    h2o_add_header_by_str(&req->pool, &req->res.headers, lower.base, lower.len, 1, orig.base,
                          val.base, val.len);
}

void med_http_send(h2o_req_t *req, int status, const char *content_type, const char *body,
                   size_t len)
{
    static h2o_generator_t generator = { NULL, NULL };
    req->res.status = status;
    req->res.reason = med_http_reason_phrase(status);
    req->res.content_length = len;
    if (content_type)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, content_type,
                       strlen(content_type));
    h2o_start_response(req, &generator);
    if (len == 0 || med_http_method_is(req, "HEAD")) {
        h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
        return;
    }
    h2o_iovec_t buf = h2o_strdup(&req->pool, body, len);
    h2o_send(req, &buf, 1, H2O_SEND_STATE_FINAL);
}

void med_http_send_json(h2o_req_t *req, int status, const json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    if (!text) {
        static const char fallback[] =
            "{\"error\":{\"code\":\"infra_out_of_memory\",\"message\":\"cannot encode response\","
            "\"field\":null}}";
        med_http_send(req, 500, k_json_type, fallback, sizeof fallback - 1);
        return;
    }
    med_http_send(req, status, k_json_type, text, strlen(text));
    free(text);
}

/* A message may quote client bytes; invalid UTF-8 must not make the whole
 * error body fail to encode. */
static json_t *safe_string(const char *s)
{
    json_t *j = json_string(s ? s : "");
    return j ? j : json_string("(unprintable)");
}

med_rc med_http_error_body(const char *code, const char *message, const char *field, char **out,
                           size_t *len, med_err *err)
{
    *out = NULL;
    *len = 0;
    json_t *f = (field && *field) ? safe_string(field) : json_null();
    json_t *root = json_pack("{s:{s:o,s:o,s:o}}", "error", "code", safe_string(code), "message",
                             safe_string(message), "field", f);
    char *text = root ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    if (!text) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "error body");
    *out = text;
    *len = strlen(text);
    return MED_OK;
}

void med_http_send_error(h2o_req_t *req, int status, const char *code, const char *message,
                         const char *field)
{
    char *body = NULL;
    size_t len = 0;
    med_err e;
    if (med_http_error_body(code, message, field, &body, &len, &e) != MED_OK) {
        static const char fallback[] =
            "{\"error\":{\"code\":\"infra_out_of_memory\",\"message\":\"out of memory\","
            "\"field\":null}}";
        med_http_send(req, status, k_json_type, fallback, sizeof fallback - 1);
        return;
    }
    med_http_send(req, status, k_json_type, body, len);
    free(body);
}

/* ---- health, readiness, metrics --------------------------------------- */

void med_http_serve_healthz(h2o_req_t *req)
{
    static const char body[] = "{\"status\":\"ok\"}";
    med_http_send(req, 200, k_json_type, body, sizeof body - 1);
}

static json_t *missing_array(const char *csv)
{
    json_t *arr = json_array();
    if (!arr) return NULL;
    char buf[MED_HTTP_MISSING_MAX];
    snprintf(buf, sizeof buf, "%s", csv);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (json_array_append_new(arr, safe_string(tok)) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

med_rc med_http_readyz_body(med_readiness *r, int *status, char **out, size_t *len, med_err *err)
{
    char missing[MED_HTTP_MISSING_MAX] = "";
    int ready = med_readiness_ready(r, missing, sizeof missing);
    json_t *root;
    if (ready) {
        root = json_pack("{s:s}", "status", "ready");
    } else {
        const char *state = med_readiness_is_started(r) ? "not_ready" : "starting";
        json_t *arr = missing_array(missing);
        root = arr ? json_pack("{s:s,s:o}", "status", state, "missing", arr) : NULL;
    }
    char *text = root ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    if (!text) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "readyz body");
    *status = ready ? 200 : 503;
    *out = text;
    *len = strlen(text);
    return MED_OK;
}

void med_http_serve_readyz(h2o_req_t *req, med_readiness *r)
{
    int status = 503;
    char *body = NULL;
    size_t len = 0;
    med_err e;
    if (med_http_readyz_body(r, &status, &body, &len, &e) != MED_OK) {
        med_http_send_error(req, 500, e.code, e.message, NULL);
        return;
    }
    med_http_send(req, status, k_json_type, body, len);
    free(body);
}

void med_http_serve_metrics(h2o_req_t *req)
{
    char *text = NULL;
    size_t len = 0;
    if (med_metrics_render(&text, &len) != 0 || !text) {
        free(text);
        med_http_send_error(req, 500, MED_R_INFRA_NOMEM, "cannot render metrics", NULL);
        return;
    }
    med_http_send(req, 200, k_prom_type, text, len);
    free(text);
}
