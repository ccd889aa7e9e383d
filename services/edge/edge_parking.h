/* HTTP requests parked while the edge waits for a stage's answer on its
 * reply inbox: POST /v1/events (F's ACK) and the replay / reconciliation
 * queries (G's page or report). Each waits under a key of its own
 * ("evb_<hex>", "gq_<hex>"); the answer is given exactly once: by the
 * reply, by the deadline, or never when the client went away first.
 * Loop thread only. (Opportunities and config keep their own tables.) */
#ifndef EDGE_PARKING_H
#define EDGE_PARKING_H

#include <h2o.h>

#include "edge_reply.h"
#include "med/err.h"

#define EDGE_PARK_KEY_EVENTS "evb_"
#define EDGE_PARK_KEY_QUERY "gq_"
#define EDGE_PARK_KEY_MAX 48

/* The route's side of a parked request. on_reply / on_deadline answer
 * req; release frees ud and is called exactly once, after the answer or
 * when the client left (then neither answer callback runs). */
typedef struct edge_park_ops {
    void (*on_reply)(h2o_req_t *req, double t0, void *ud, const edge_reply *r);
    void (*on_deadline)(h2o_req_t *req, double t0, void *ud);
    void (*release)(void *ud);
} edge_park_ops;

typedef struct edge_parking edge_parking;

edge_parking *edge_parking_new(h2o_loop_t *loop);
/* A fresh key: prefix (EDGE_PARK_KEY_*) + 16 random hex. 0 on success. */
int edge_parking_key(const char *prefix, char *out, size_t cap);
/* Waits for a reply to key until timeout's duration passes. ops must be
 * static; ud is the route's. On failure nothing is parked (ud untouched). */
med_rc edge_park(edge_parking *p, h2o_req_t *req, h2o_timeout_t *timeout, const char *key,
                 const edge_park_ops *ops, void *ud, double t0, med_err *err);
/* Forgets key without answering (the request could not be sent); the
 * caller answers and frees ud itself. */
void edge_unpark(edge_parking *p, const char *key);
/* 1 when r is for a parked key (answered now) or has a parking prefix
 * (a late reply: dropped and counted); 0 when it is someone else's. */
int edge_parking_on_reply(edge_parking *p, const edge_reply *r);
size_t edge_parking_count(const edge_parking *p);
/* Answers every parked request with its deadline answer now. */
void edge_parking_expire_all(edge_parking *p);
/* After expire_all. NULL is fine. */
void edge_parking_free(edge_parking *p);

#endif
