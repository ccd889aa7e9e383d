#include "d_http.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

struct d_http {
    CURLM *multi;
    struct curl_slist *headers;
    size_t max_bytes;
};

d_http *d_http_new(size_t max_response_bytes)
{
    static int global_done;
    if (!global_done && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return NULL;
    global_done = 1;
    d_http *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    h->max_bytes = max_response_bytes;
    h->multi = curl_multi_init();
    struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");
    if (hd) h->headers = curl_slist_append(hd, "x-openrtb-version: 2.6");
    if (!h->multi || !h->headers) {
        curl_slist_free_all(h->headers ? h->headers : hd);
        if (h->multi) curl_multi_cleanup(h->multi);
        free(h);
        return NULL;
    }
    curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, 64L);
    return h;
}

void d_http_free(d_http *h)
{
    if (!h) return;
    curl_multi_cleanup(h->multi);
    curl_slist_free_all(h->headers);
    free(h);
}

/* Stops the transfer once the cap is passed: an oversized body is never
 * read to its end. */
static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    d_http_req *r = ud;
    size_t n = size * nmemb;
    if (r->buf_len + n > r->cap) {
        r->oversized = 1;
        return 0;
    }
    char *grown = realloc(r->buf, r->buf_len + n + 1);
    if (!grown) return 0;
    r->buf = grown;
    memcpy(r->buf + r->buf_len, data, n);
    r->buf_len += n;
    r->buf[r->buf_len] = '\0';
    return n;
}

static CURL *make_easy(d_http *h, d_http_req *r)
{
    CURL *e = curl_easy_init();
    if (!e) return NULL;
    curl_easy_setopt(e, CURLOPT_URL, r->url);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)r->body_len);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h->headers);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(r->timeout_ms > 0 ? r->timeout_ms : 1));
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    return e;
}

static d_transport transport_of(CURLcode c, CURL *e, const d_http_req *r)
{
    if (c == CURLE_OK) return D_TR_OK;
    if (r->oversized) return D_TR_OVERSIZED;
    if (c == CURLE_OPERATION_TIMEDOUT) {
        curl_off_t connect_us = 0;
        curl_easy_getinfo(e, CURLINFO_CONNECT_TIME_T, &connect_us);
        return connect_us > 0 ? D_TR_READ_TIMEOUT : D_TR_CONNECT_TIMEOUT;
    }
    return D_TR_TRANSIENT;   /* DNS, refused, reset, TLS, nothing received */
}

static void finish(CURL *e, CURLcode c)
{
    d_http_req *r = NULL;
    curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&r);
    if (!r) return;
    long status = 0;
    curl_off_t total_us = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(e, CURLINFO_TOTAL_TIME_T, &total_us);
    r->resp.transport = transport_of(c, e, r);
    r->resp.http_status = (int)status;
    r->resp.elapsed_ms = (int64_t)(total_us / 1000);
    r->resp.body = r->buf ? r->buf : "";
    r->resp.body_len = r->buf_len;
}

static void drain(d_http *h)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(h->multi, &left)))
        if (m->msg == CURLMSG_DONE) finish(m->easy_handle, m->data.result);
}

int d_http_perform(d_http *h, d_http_req *reqs, size_t n)
{
    size_t added = 0;
    for (size_t i = 0; i < n; i++) {
        d_http_req *r = &reqs[i];
        memset(&r->resp, 0, sizeof r->resp);
        r->resp.transport = D_TR_TRANSIENT;
        r->cap = h->max_bytes;
        r->easy = make_easy(h, r);
        if (r->easy && curl_multi_add_handle(h->multi, r->easy) == CURLM_OK) added++;
    }
    int running = 1, rc = 0;
    while (added && running) {
        if (curl_multi_perform(h->multi, &running) != CURLM_OK) { rc = -1; break; }
        drain(h);
        if (running && curl_multi_poll(h->multi, NULL, 0, 50, NULL) != CURLM_OK) { rc = -1; break; }
    }
    drain(h);
    for (size_t i = 0; i < n; i++) {
        d_http_req *r = &reqs[i];
        if (!r->easy) continue;
        curl_multi_remove_handle(h->multi, r->easy);
        curl_easy_cleanup(r->easy);
        r->easy = NULL;
    }
    return rc;
}

void d_http_req_clear(d_http_req *r)
{
    free(r->buf);
    r->buf = NULL;
    r->buf_len = 0;
}
