/* tools/fake-network: a local OpenRTB 2.6 bidder for tests and demos. It is
 * outside the platform. Each bid request is answered per the X-Fake-Behavior
 * header ("fill;price=2.5", "nobid", "delay;ms=800", "error", "garbage",
 * "oversized;bytes=2097152") or, without one, per the current default
 * (--behavior, or POST /control {"behavior": "..."} at run time, so tests
 * can steer a network the platform calls). GET /stats counts requests.
 *
 *   fake-network --port 0 --seat net_a --behavior 'fill;price=1.2' [--port-file F]
 */
#include <getopt.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_rtb.h"
#include "med/http_util.h"
#include "med/log.h"

typedef struct delay_slot {
    h2o_timeout_t timeout;
    uint64_t ms;
    struct delay_slot *next;
} delay_slot;

typedef struct fake_server {
    med_http_server *http;
    fake_behavior deflt;   /* touched only on the loop thread */
    char seat[64];
    atomic_ulong requests;
    atomic_ulong by_kind[FAKE_OVERSIZED + 1];
    delay_slot *slots;     /* one h2o_timeout per distinct delay */
} fake_server;

typedef struct delayed {
    h2o_timeout_entry_t entry;
    h2o_req_t *req;
    fake_answer answer;
} delayed;

static volatile sig_atomic_t g_stop;
static fake_server g_srv;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static void send_answer(h2o_req_t *req, fake_answer *a)
{
    med_http_send(req, a->status, a->body ? "application/json" : NULL, a->body ? a->body : "",
                  a->len);
    fake_answer_free(a);
}

static void on_delay_done(h2o_timeout_entry_t *entry)
{
    delayed *d = (delayed *)((char *)entry - offsetof(delayed, entry));
    send_answer(d->req, &d->answer);
}

/* The request's pool is freed when the client goes away: the timer must not
 * fire into freed memory. */
static void on_delayed_dispose(void *p)
{
    delayed *d = p;
    if (h2o_timeout_is_linked(&d->entry)) h2o_timeout_unlink(&d->entry);
    fake_answer_free(&d->answer);
}

static h2o_timeout_t *slot_for(uint64_t ms)
{
    for (delay_slot *s = g_srv.slots; s; s = s->next)
        if (s->ms == ms) return &s->timeout;
    delay_slot *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->ms = ms;
    h2o_timeout_init(med_http_server_loop(g_srv.http), &s->timeout, ms);
    s->next = g_srv.slots;
    g_srv.slots = s;
    return &s->timeout;
}

static int answer_later(h2o_req_t *req, fake_answer *a)
{
    h2o_timeout_t *t = slot_for((uint64_t)a->delay_ms);
    delayed *d = t ? h2o_mem_alloc_shared(&req->pool, sizeof *d, on_delayed_dispose) : NULL;
    if (!d) {
        fake_answer_free(a);
        med_http_send_error(req, 500, "fake_out_of_memory", "cannot delay", NULL);
        return 0;
    }
    memset(d, 0, sizeof *d);
    d->req = req;
    d->answer = *a;
    d->entry.cb = on_delay_done;
    h2o_timeout_link(med_http_server_loop(g_srv.http), t, &d->entry);
    return 0;
}

static int handle_bid(h2o_req_t *req)
{
    fake_behavior b = g_srv.deflt;
    char spec[256];
    if (med_http_header(req, "x-fake-behavior", spec, sizeof spec) == 0 &&
        fake_behavior_parse(spec, &g_srv.deflt, &b) != 0) {
        med_http_send_error(req, 400, "fake_bad_behavior", "unknown X-Fake-Behavior", NULL);
        return 0;
    }
    atomic_fetch_add(&g_srv.requests, 1);
    atomic_fetch_add(&g_srv.by_kind[b.kind], 1);
    fake_answer a;
    if (fake_answer_build(req->entity.base, req->entity.len, &b, g_srv.seat, &a) != 0) {
        med_http_send_error(req, 500, "fake_out_of_memory", "cannot build answer", NULL);
        return 0;
    }
    if (a.delay_ms > 0 && a.status == 200) return answer_later(req, &a);
    send_answer(req, &a);
    return 0;
}

static int handle_control(h2o_req_t *req)
{
    json_error_t jerr;
    json_t *j = json_loadb(req->entity.base, req->entity.len, 0, &jerr);
    const char *spec = j ? json_string_value(json_object_get(j, "behavior")) : NULL;
    fake_behavior b;
    if (!spec || fake_behavior_parse(spec, &g_srv.deflt, &b) != 0) {
        json_decref(j);
        med_http_send_error(req, 400, "fake_bad_behavior", "body must be {\"behavior\": SPEC}",
                            "behavior");
        return 0;
    }
    g_srv.deflt = b;
    json_decref(j);
    med_http_send(req, 200, "application/json", "{\"ok\":true}", 11);
    return 0;
}

static int handle_stats(h2o_req_t *req)
{
    json_t *kinds = json_object();
    for (int k = 0; k <= FAKE_OVERSIZED; k++)
        json_object_set_new(kinds, fake_kind_name((fake_kind)k),
                            json_integer((json_int_t)atomic_load(&g_srv.by_kind[k])));
    json_t *j = json_pack("{s:I, s:o, s:s}", "requests",
                          (json_int_t)atomic_load(&g_srv.requests), "byKind", kinds, "default",
                          fake_kind_name(g_srv.deflt.kind));
    med_http_send_json(req, 200, j);
    json_decref(j);
    return 0;
}

static int on_request(void *ud, h2o_req_t *req)
{
    (void)ud;
    h2o_iovec_t path = med_http_path(req);
    if (h2o_memis(path.base, path.len, H2O_STRLIT("/healthz"))) {
        med_http_serve_healthz(req);
        return 0;
    }
    if (h2o_memis(path.base, path.len, H2O_STRLIT("/stats"))) return handle_stats(req);
    if (!med_http_method_is(req, "POST")) {
        med_http_send_error(req, 405, "fake_method_not_allowed", "POST a bid request", NULL);
        return 0;
    }
    if (h2o_memis(path.base, path.len, H2O_STRLIT("/control"))) return handle_control(req);
    return handle_bid(req);
}

static int parse_args(int argc, char **argv, int *port, const char **port_file)
{
    static const struct option opts[] = {
        { "port", required_argument, NULL, 'p' }, { "seat", required_argument, NULL, 's' },
        { "behavior", required_argument, NULL, 'b' },
        { "port-file", required_argument, NULL, 'f' }, { NULL, 0, NULL, 0 },
    };
    const fake_behavior base = { .kind = FAKE_FILL, .price = 1.0, .delay_ms = 1000,
                                 .oversized_bytes = 2 * 1024 * 1024 };
    g_srv.deflt = base;
    snprintf(g_srv.seat, sizeof g_srv.seat, "fake");
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'p': *port = atoi(optarg); break;
        case 's': snprintf(g_srv.seat, sizeof g_srv.seat, "%s", optarg); break;
        case 'f': *port_file = optarg; break;
        case 'b':
            if (fake_behavior_parse(optarg, &base, &g_srv.deflt) != 0) {
                fprintf(stderr, "fake-network: bad --behavior %s\n", optarg);
                return -1;
            }
            break;
        default: return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    int port = 0;
    const char *port_file = NULL;
    if (parse_args(argc, argv, &port, &port_file) != 0) {
        fprintf(stderr, "usage: fake-network [--port N] [--seat NAME] [--behavior SPEC] "
                        "[--port-file FILE]\n");
        return 2;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, SIG_IGN);
    med_log_init("fake_network", MED_LOG_INFO, NULL);
    med_err err;
    med_http_opts ho = { .port = port, .max_body_bytes = 1024 * 1024, .handler = on_request };
    if (med_http_server_new(&ho, &g_srv.http, &err) != MED_OK) {
        fprintf(stderr, "fake-network: %s\n", err.message);
        return 1;
    }
    printf("%d\n", med_http_server_port(g_srv.http));
    fflush(stdout);
    if (port_file) {
        FILE *f = fopen(port_file, "w");
        if (f) {
            fprintf(f, "%d\n", med_http_server_port(g_srv.http));
            fclose(f);
        }
    }
    while (!g_stop) med_http_server_run_once(g_srv.http, 100);
    med_http_server_stop_accepting(g_srv.http);
    med_http_server_drain(g_srv.http, 2000);
    for (delay_slot *s = g_srv.slots, *n; s; s = n) {
        n = s->next;
        h2o_timeout_dispose(med_http_server_loop(g_srv.http), &s->timeout);
        free(s);
    }
    med_http_server_free(g_srv.http);
    med_http_thread_cleanup();
    return 0;
}
