/* Edge metrics (see edge_metrics.h). Handles are cached per (route,
 * status): the registry lookup takes a mutex and formats labels, which the
 * hot path should not pay per request. */
#include "edge_metrics.h"

#include <stdio.h>
#include <string.h>

#include "med/metrics.h"

#define EDGE_METRIC_CACHE 96

typedef struct counter_slot {
    const char *route; /* route strings are static: compared by pointer */
    int status;
    med_counter *c;
} counter_slot;

typedef struct hist_slot {
    const char *route;
    med_histogram *h;
} hist_slot;

static counter_slot g_counters[EDGE_METRIC_CACHE];
static hist_slot g_hists[EDGE_METRIC_CACHE];

static med_counter *requests_counter(const char *route, int status)
{
    for (int i = 0; i < EDGE_METRIC_CACHE; i++) {
        counter_slot *s = &g_counters[i];
        if (s->route == route && s->status == status) return s->c;
        if (s->route) continue;
        char labels[160];
        snprintf(labels, sizeof labels, "route=\"%s\",code=\"%d\"", route, status);
        s->c = med_counter_get("med_edge_requests_total", "HTTP requests answered by the edge",
                               labels);
        s->route = route;
        s->status = status;
        return s->c;
    }
    return NULL; /* cache full: more (route, status) pairs than routes x codes */
}

static med_histogram *seconds_histogram(const char *route)
{
    for (int i = 0; i < EDGE_METRIC_CACHE; i++) {
        hist_slot *s = &g_hists[i];
        if (s->route == route) return s->h;
        if (s->route) continue;
        char labels[128];
        snprintf(labels, sizeof labels, "route=\"%s\"", route);
        s->h = med_histogram_get("med_edge_request_seconds",
                                 "time from request read to response written", labels, NULL, 0);
        s->route = route;
        return s->h;
    }
    return NULL;
}

void edge_metrics_request(const char *route, int status, double seconds)
{
    med_counter *c = requests_counter(route, status);
    if (c) med_counter_inc(c);
    med_histogram *h = seconds_histogram(route);
    if (h) med_histogram_observe(h, seconds);
}

void edge_metrics_pending(int delta)
{
    static med_gauge *g;
    if (!g) g = med_gauge_get("med_edge_pending_requests", "requests waiting for their reply", "");
    if (g) med_gauge_add(g, delta);
}

/* A label-less counter, looked up once. */
static med_counter *counter_once(med_counter **slot, const char *name, const char *help)
{
    if (!*slot) *slot = med_counter_get(name, help, "");
    return *slot;
}

static med_counter *late_counter(void)
{
    static med_counter *c;
    return counter_once(&c, "med_edge_late_replies_total",
                        "replies dropped because their request was already answered");
}

static med_counter *client_gone_counter(void)
{
    static med_counter *c;
    return counter_once(&c, "med_edge_client_disconnects_total",
                        "clients that left while their request was pending");
}

static med_counter *deadline_counter(void)
{
    static med_counter *c;
    return counter_once(&c, "med_edge_deadline_total",
                        "requests answered with the error Delivery at the edge deadline");
}

static void inc(med_counter *c)
{
    if (c) med_counter_inc(c);
}

void edge_metrics_late_reply(void)
{
    inc(late_counter());
}

void edge_metrics_client_gone(void)
{
    inc(client_gone_counter());
}

void edge_metrics_deadline(void)
{
    inc(deadline_counter());
}

void edge_metrics_init(void)
{
    edge_metrics_pending(0);
    (void)late_counter();
    (void)client_gone_counter();
    (void)deadline_counter();
}
