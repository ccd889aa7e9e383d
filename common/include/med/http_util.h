/* Shared h2o (evloop) plumbing for the admin server and the public edge:
 * one listener, one loop, one catch-all handler; responses that always
 * carry a Content-Length; the JSON error body of 06 section 6; the
 * /healthz, /readyz and /metrics answers every service gives.
 *
 * A med_http_server is driven by exactly one thread (the one calling
 * med_http_server_run_once); only med_http_server_wake may be called from
 * any thread. */
#ifndef MED_HTTP_UTIL_H
#define MED_HTTP_UTIL_H

#include <stddef.h>
#include <h2o.h>
#include <jansson.h>
#include <openssl/ssl.h>

#include "med/err.h"
#include "med/readiness.h"

typedef struct med_http_server med_http_server;

/* Returns 0 when it started (or finished) a response, -1 to let h2o
 * answer 404 itself. */
typedef int (*med_http_handler_fn)(void *ud, h2o_req_t *req);

typedef struct med_http_opts {
    const char *host;      /* NULL or "" -> 127.0.0.1 */
    int port;              /* 0 -> a free port, see med_http_server_port */
    size_t max_body_bytes; /* h2o's own hard cap; 0 -> 1 MiB */
    SSL_CTX *ssl_ctx;      /* NULL -> plain HTTP; the server takes a reference */
    med_http_handler_fn handler;
    void *ud;
} med_http_opts;

med_rc med_http_server_new(const med_http_opts *opts, med_http_server **out, med_err *err);
int med_http_server_port(const med_http_server *s);
h2o_context_t *med_http_server_ctx(med_http_server *s);
h2o_loop_t *med_http_server_loop(med_http_server *s);
/* One loop iteration, waiting at most max_wait_ms for an event. */
void med_http_server_run_once(med_http_server *s, int max_wait_ms);
/* Thread-safe: makes a blocked run_once return soon. */
void med_http_server_wake(med_http_server *s);
/* Stops accepting new connections (listener closed); open ones stay. */
void med_http_server_stop_accepting(med_http_server *s);
/* Number of open client connections (HTTP/1 and HTTP/2). */
size_t med_http_server_connections(med_http_server *s);
/* Asks open connections to finish and close, and runs the loop until they
 * did or timeout_ms passed. */
void med_http_server_drain(med_http_server *s, int timeout_ms);
/* Must run on the loop thread (or after it ended). */
void med_http_server_free(med_http_server *s);

/* Call last on a thread that ran an h2o loop and is about to end: frees
 * what h2o keeps per thread. */
void med_http_thread_cleanup(void);

/* TLS context for a server certificate + key (PEM files), with ALPN for
 * h2 and http/1.1. */
med_rc med_http_ssl_ctx_new(const char *cert_file, const char *key_file, SSL_CTX **out,
                            med_err *err);

/* ---- requests ---- */
int med_http_method_is(const h2o_req_t *req, const char *method);
/* Path without the query string, borrowed (not NUL-terminated). */
h2o_iovec_t med_http_path(const h2o_req_t *req);
/* Query string after '?', or {NULL, 0}. */
h2o_iovec_t med_http_query(const h2o_req_t *req);
/* Copies the first value of header name (case-insensitive) into out;
 * returns 0 when present (truncated values count as absent: -1). */
int med_http_header(const h2o_req_t *req, const char *name, char *out, size_t cap);

/* ---- responses (all set Content-Length) ---- */
const char *med_http_reason_phrase(int status);
/* Adds a response header; name and value are copied into the request pool. */
void med_http_add_header(h2o_req_t *req, const char *name, const char *value);
/* body is copied; content_type may be NULL. */
void med_http_send(h2o_req_t *req, int status, const char *content_type, const char *body,
                   size_t len);
/* Serializes (compact) and sends with application/json. */
void med_http_send_json(h2o_req_t *req, int status, const json_t *body);
/* {"error":{"code","message","field"}}; field NULL or "" -> null. *out is
 * malloc'd. */
med_rc med_http_error_body(const char *code, const char *message, const char *field, char **out,
                           size_t *len, med_err *err);
void med_http_send_error(h2o_req_t *req, int status, const char *code, const char *message,
                         const char *field);

/* ---- the answers every service gives ---- */
void med_http_serve_healthz(h2o_req_t *req);
void med_http_serve_readyz(h2o_req_t *req, med_readiness *r);
void med_http_serve_metrics(h2o_req_t *req);
/* The /readyz body and status for a readiness state (pure; tests). */
med_rc med_http_readyz_body(med_readiness *r, int *status, char **out, size_t *len, med_err *err);

#endif
