/* D.3 `send` for openrtb26_http: many POSTs at once on one libcurl multi
 * handle, each with its hard deadline (CURLOPT_TIMEOUT_MS), a response
 * size cap, and the multi's connection cache for keep-alive reuse across
 * batches. Never retries: retries are route decisions (D.6). */
#ifndef D_HTTP_H
#define D_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include "d_types.h"

typedef struct d_http d_http;

typedef struct d_http_req {
    const char *url;
    const char *body;
    size_t body_len;
    int64_t timeout_ms;
    /* filled by d_http_perform; resp.body points into buf */
    d_response resp;
    char *buf;
    size_t buf_len;
    int oversized;
    size_t cap;                  /* internal: the response cap */
    void *easy;                  /* internal */
} d_http_req;

/* max_response_bytes: bodies above it end as D_TR_OVERSIZED. NULL on ENOMEM. */
d_http *d_http_new(size_t max_response_bytes);
void d_http_free(d_http *h);

/* Runs every request to completion or its deadline. Returns 0, or -1 when
 * the multi handle failed as a whole (each resp is then D_TR_TRANSIENT). */
int d_http_perform(d_http *h, d_http_req *reqs, size_t n);
void d_http_req_clear(d_http_req *r);

#endif
