/* Replies from the chain (stage E publishes each Delivery to the reply
 * inbox of the request): one core NATS subscription on "<prefix>.*" per
 * process. The nats.c callback thread copies each message and hands it to
 * the h2o loop thread through h2o's cross-thread queue, where fn runs. */
#ifndef EDGE_REPLY_H
#define EDGE_REPLY_H

#include <stddef.h>
#include <stdint.h>
#include <h2o.h>
#include <nats/nats.h>

#include "med/err.h"

#define EDGE_REPLY_MAX_HEADERS 16
#define EDGE_INBOX_PREFIX_MAX 64

typedef struct edge_reply {
    h2o_multithread_message_t super; /* first: the queue links through it */
    char *key;                       /* subject suffix after the prefix */
    uint8_t *data;
    size_t len;
    int n_headers; /* traceparent and Med-* only */
    char *names[EDGE_REPLY_MAX_HEADERS];
    char *values[EDGE_REPLY_MAX_HEADERS];
    /* The server's "no responders" status (no subscriber on the request
     * subject): an answer that nobody will ever send, not a payload. */
    int no_responders;
    /* Med-Reply-Kind: "reject" (A) or "delivery" (E); "" from an older
     * producer, then the payload's shape decides. */
    char kind[16];
} edge_reply;

/* Runs on the loop thread; the reply is freed after it returns. */
typedef void (*edge_reply_fn)(void *ud, const edge_reply *r);

typedef struct edge_replies edge_replies;

/* A per-process prefix: "_INBOX.edge." + 16 random hex. */
int edge_inbox_prefix(char *out, size_t cap);
/* 1 for headers a reply carries back to the HTTP caller: traceparent and
 * every Med-* header except the per-hop ones (Med-Reply-To, Med-Fault). */
int edge_reply_header_wanted(const char *name);
/* Copies what the loop thread needs out of a NATS message; NULL on OOM or
 * when subject does not start with prefix + ".". */
edge_reply *edge_reply_from_msg(natsMsg *m, const char *prefix);
void edge_reply_free(edge_reply *r);

med_rc edge_replies_start(natsConnection *nc, h2o_multithread_queue_t *queue, const char *prefix,
                          edge_reply_fn fn, void *ud, edge_replies **out, med_err *err);
/* Unsubscribes (waiting for in-flight callbacks), then lets the loop
 * consume what was already queued. Loop thread only. */
void edge_replies_stop(edge_replies *r);

#endif
