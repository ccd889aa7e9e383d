/* One h2o evloop HTTP server: listener, loop, context, one catch-all
 * handler (see http_util.h). Shared by the admin server and the edge so
 * the h2o set-up and tear-down order lives in one place. */
#include "med/http_util.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "med/log.h"
#include "med/reason.h"

#define MED_HTTP_DEFAULT_MAX_BODY (1024u * 1024u)
#define MED_HTTP_LISTEN_BACKLOG 1024
#define MED_HTTP_ACCEPT_BURST 32
#define MED_HTTP_DRAIN_IDLE_MS 100
#define MED_HTTP_FREE_DRAIN_MS 500

typedef struct med_http_handler {
    h2o_handler_t super;
    med_http_server *srv;
} med_http_handler;

struct med_http_server {
    h2o_globalconf_t conf;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    h2o_evloop_t *loop;
    h2o_socket_t *listener;
    h2o_multithread_receiver_t wake_rx;
    int wake_registered;
    int ctx_inited;
    int port;
    med_http_handler_fn handler;
    void *ud;
    SSL_CTX *ssl_ctx;
};

/* ---- listener ---------------------------------------------------------- */

static int bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) return -1;
    if (ss.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return -1;
}

static int listen_on(const struct addrinfo *ai)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0) return -1;
    int one = 1;
    /* A restarted service must be able to bind while old connections sit
     * in TIME_WAIT. */
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, MED_HTTP_LISTEN_BACKLOG) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static med_rc open_listener(const char *host, int port, int *fd_out, med_err *err)
{
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo hints = { .ai_family = AF_UNSPEC,
                              .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
    struct addrinfo *res = NULL;
    const char *h = (host && *host) ? host : "127.0.0.1";
    int gai = getaddrinfo(h, service, &hints, &res);
    if (gai != 0)
        return med_err_set(err, MED_ERR_INVALID, MED_R_CFG_INVALID_VALUE, NULL,
                           "cannot resolve listen address %s: %s", h, gai_strerror(gai));
    int fd = -1, last_errno = 0;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = listen_on(ai);
        if (fd < 0) last_errno = errno;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return med_err_set(err, MED_ERR_IO, MED_R_CFG_INVALID_VALUE, NULL,
                           "cannot listen on %s:%d: %s", h, port, strerror(last_errno));
    *fd_out = fd;
    return MED_OK;
}

static void on_accept(h2o_socket_t *listener, const char *sock_err)
{
    med_http_server *s = listener->data;
    if (sock_err) return;
    /* Drain a burst per wake-up so a connection storm does not cost one
     * loop iteration per client. */
    for (int i = 0; i < MED_HTTP_ACCEPT_BURST; i++) {
        h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
        if (!sock) return;
        h2o_accept(&s->accept_ctx, sock);
    }
}

/* ---- handler and wake-up ---------------------------------------------- */

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    med_http_handler *h = (med_http_handler *)self;
    return h->srv->handler(h->srv->ud, req);
}

static void on_wake(h2o_multithread_receiver_t *rx, h2o_linklist_t *messages)
{
    /* Wake-ups carry no messages; the loop owner re-checks its own flags
     * after run_once returns. */
    (void)rx;
    (void)messages;
}

static void configure(med_http_server *s, size_t max_body)
{
    h2o_config_init(&s->conf);
    /* Do not advertise the library version. */
    s->conf.server_name = h2o_iovec_init(H2O_STRLIT("med"));
    s->conf.max_request_entity_size = max_body ? max_body : MED_HTTP_DEFAULT_MAX_BODY;
    h2o_hostconf_t *host =
        h2o_config_register_host(&s->conf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    med_http_handler *h = (med_http_handler *)h2o_create_handler(path, sizeof *h);
    h->super.on_req = on_req;
    h->srv = s;
}

static void start_loop(med_http_server *s, int fd)
{
    s->loop = h2o_evloop_create();
    h2o_context_init(&s->ctx, s->loop, &s->conf);
    s->ctx_inited = 1;
    s->accept_ctx.ctx = &s->ctx;
    s->accept_ctx.hosts = s->conf.hosts;
    s->accept_ctx.ssl_ctx = s->ssl_ctx;
    h2o_multithread_register_receiver(s->ctx.queue, &s->wake_rx, on_wake);
    s->wake_registered = 1;
    s->listener = h2o_evloop_socket_create(s->loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    s->listener->data = s;
    h2o_socket_read_start(s->listener, on_accept);
}

med_rc med_http_server_new(const med_http_opts *opts, med_http_server **out, med_err *err)
{
    *out = NULL;
    if (!opts || !opts->handler)
        return med_err_set(err, MED_ERR_INVALID, MED_R_EDGE_INTERNAL, NULL, "no handler");
    int fd = -1;
    med_rc rc = open_listener(opts->host, opts->port, &fd, err);
    if (rc != MED_OK) return rc;
    med_http_server *s = calloc(1, sizeof *s);
    if (!s) {
        close(fd);
        return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "http server");
    }
    s->handler = opts->handler;
    s->ud = opts->ud;
    s->port = bound_port(fd);
    if (opts->ssl_ctx) {
        /* Never fall back to plain HTTP when TLS was asked for. */
        if (SSL_CTX_up_ref(opts->ssl_ctx) != 1) {
            close(fd);
            free(s);
            return med_err_set(err, MED_ERR_INTERNAL, MED_R_EDGE_INTERNAL, NULL, "TLS context");
        }
        s->ssl_ctx = opts->ssl_ctx;
    }
    configure(s, opts->max_body_bytes);
    start_loop(s, fd);
    *out = s;
    return MED_OK;
}

int med_http_server_port(const med_http_server *s)
{
    return s ? s->port : -1;
}
h2o_context_t *med_http_server_ctx(med_http_server *s)
{
    return &s->ctx;
}
h2o_loop_t *med_http_server_loop(med_http_server *s)
{
    return s->loop;
}

void med_http_server_run_once(med_http_server *s, int max_wait_ms)
{
    h2o_evloop_run(s->loop, max_wait_ms);
}

void med_http_server_wake(med_http_server *s)
{
    if (s && s->wake_registered) h2o_multithread_send_message(&s->wake_rx, NULL);
}

void med_http_server_stop_accepting(med_http_server *s)
{
    if (!s || !s->listener) return;
    h2o_socket_read_stop(s->listener);
    h2o_socket_close(s->listener);
    s->listener = NULL;
}

static size_t list_length(const h2o_linklist_t *anchor)
{
    size_t n = 0;
    for (const h2o_linklist_t *node = anchor->next; node != anchor; node = node->next) n++;
    return n;
}

size_t med_http_server_connections(med_http_server *s)
{
    /* h2o 2.2 exposes no counter; its context keeps every open connection
     * on these lists. */
    return list_length(&s->ctx.http1._conns) + list_length(&s->ctx.http2._conns);
}

static void shorten(h2o_timeout_t *t, uint64_t ms)
{
    if (t->timeout > ms) t->timeout = ms;
}

void med_http_server_drain(med_http_server *s, int timeout_ms)
{
    if (!s) return;
    h2o_context_request_shutdown(&s->ctx);
    /* h2o 2.2 leaves idle keep-alive connections open until their idle
     * timer (10 s) fires. Shortening the timers closes them now; a request
     * still being answered has no such timer armed. */
    shorten(&s->ctx.http1.req_timeout, MED_HTTP_DRAIN_IDLE_MS);
    shorten(&s->ctx.http2.idle_timeout, MED_HTTP_DRAIN_IDLE_MS);
    uint64_t end = h2o_now(s->loop) + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
    while (med_http_server_connections(s) > 0 && h2o_now(s->loop) < end)
        h2o_evloop_run(s->loop, 50);
}

void med_http_server_free(med_http_server *s)
{
    if (!s) return;
    med_http_server_stop_accepting(s);
    if (s->ctx_inited && med_http_server_connections(s) > 0)
        med_http_server_drain(s, MED_HTTP_FREE_DRAIN_MS);
    if (s->ctx_inited && med_http_server_connections(s) > 0) {
        /* h2o cannot dispose a context with live connections (it asserts
         * on their timers); at exit, leaking beats aborting. */
        MED_LOGW(NULL, "http server freed with %zu connections open; leaving them",
                 med_http_server_connections(s));
        return;
    }
    if (s->wake_registered) {
        /* Let pending wake-ups and the listener close be processed before
         * the receiver and the loop go away. */
        h2o_evloop_run(s->loop, 0);
        h2o_multithread_unregister_receiver(s->ctx.queue, &s->wake_rx);
    }
    /* h2o 2.2 arms this timer in h2o_context_request_shutdown and never
     * disarms it; h2o_context_dispose then asserts on the linked entry. */
    if (s->ctx_inited && h2o_timeout_is_linked(&s->ctx.http2._graceful_shutdown_timeout))
        h2o_timeout_unlink(&s->ctx.http2._graceful_shutdown_timeout);
    if (s->ctx_inited) {
        h2o_multithread_queue_t *queue = s->ctx.queue;
        h2o_context_dispose(&s->ctx);
#if H2O_VERSION_MAJOR == 2 && H2O_VERSION_MINOR == 2
        /* 2.2's evloop build closes the queue's sockets but never frees
         * the queue itself (fixed in later releases). */
        free(queue);
#else
        (void)queue;
#endif
    }
    if (s->loop) h2o_evloop_destroy(s->loop);
    h2o_config_dispose(&s->conf);
    if (s->ssl_ctx) SSL_CTX_free(s->ssl_ctx);
    free(s);
}

med_rc med_http_ssl_ctx_new(const char *cert_file, const char *key_file, SSL_CTX **out,
                            med_err *err)
{
    *out = NULL;
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "SSL_CTX");
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION);
    if (!cert_file || !*cert_file || !key_file || !*key_file ||
        SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        SSL_CTX_free(ctx);
        return med_err_set(err, MED_ERR_INVALID, MED_R_CFG_INVALID_VALUE, NULL,
                           "cannot load TLS certificate %s / key %s", cert_file ? cert_file : "",
                           key_file ? key_file : "");
    }
    h2o_ssl_register_alpn_protocols(ctx, h2o_alpn_protocols);
    *out = ctx;
    return MED_OK;
}

/* h2o 2.2 pool chunks carry 4080 payload bytes and requests of a quarter
 * of that or more bypass them; four requests of this size fill a chunk. */
#define MED_HTTP_POOL_GRAB_BYTES 1008
#define MED_HTTP_POOL_GRABS_PER_CHUNK 4
#define MED_HTTP_POOL_RECYCLE_MAX 16

void med_http_thread_cleanup(void)
{
#if H2O_VERSION_MAJOR == 2 && H2O_VERSION_MINOR == 2
    /* h2o 2.2 parks freed pool chunks in a per-thread recycle bin (at most
     * 16) and offers no way to empty it, so they leak when a loop thread
     * ends. Taking 16 chunks through a pool empties the bin; the chunks
     * are then freed directly (each starts with its `next` link). */
    h2o_mem_pool_t pool;
    h2o_mem_init_pool(&pool);
    for (int i = 0; i < MED_HTTP_POOL_RECYCLE_MAX * MED_HTTP_POOL_GRABS_PER_CHUNK; i++)
        (void)h2o_mem_alloc_pool(&pool, MED_HTTP_POOL_GRAB_BYTES);
    void *chunk = pool.chunks;
    while (chunk) {
        void *next = *(void **)chunk;
        free(chunk);
        chunk = next;
    }
    /* Socket buffers have a per-thread bin too, but an exported one. */
    h2o_mem_recycle_t *bufs = &h2o_socket_buffer_prototype.allocator;
    while (bufs->cnt > 0) free(h2o_mem_alloc_recycle(bufs, 1));
#endif
}
