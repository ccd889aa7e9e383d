/* Reply inbox of the edge (see edge_reply.h). */
#include "edge_reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "med/ids.h"
#include "med/log.h"
#include "med/metrics.h"
#include "med/names.h"
#include "med/reason.h"

#define EDGE_REPLY_DRAIN_TIMEOUT_MS 2000

struct edge_replies {
    natsSubscription *sub;
    h2o_multithread_queue_t *queue;
    h2o_multithread_receiver_t rx;
    int rx_registered;
    edge_reply_fn fn;
    void *ud;
    char prefix[EDGE_INBOX_PREFIX_MAX];
    med_counter *dropped; /* replies lost to allocation failure */
};

int edge_inbox_prefix(char *out, size_t cap)
{
    char hex[17];
    if (med_random_hex(hex, sizeof hex, 8) != 0) return -1;
    int n = snprintf(out, cap, "_INBOX.edge.%s", hex);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

int edge_reply_header_wanted(const char *name)
{
    if (strcasecmp(name, MED_HDR_TRACEPARENT) == 0) return 1;
    if (strncasecmp(name, "Med-", 4) != 0) return 0;
    return strcasecmp(name, MED_HDR_REPLY_TO) != 0 && strcasecmp(name, MED_HDR_FAULT) != 0 &&
           strcasecmp(name, MED_HDR_REPLY_KIND) != 0;
}

void edge_reply_free(edge_reply *r)
{
    if (!r) return;
    for (int i = 0; i < r->n_headers; i++) {
        free(r->names[i]);
        free(r->values[i]);
    }
    free(r->key);
    free(r->data);
    free(r);
}

static int copy_headers(edge_reply *r, natsMsg *m)
{
    const char **keys = NULL;
    int n = 0;
    if (natsMsgHeader_Keys(m, &keys, &n) != NATS_OK) return 0; /* no headers */
    int rc = 0;
    for (int i = 0; i < n && r->n_headers < EDGE_REPLY_MAX_HEADERS; i++) {
        const char *v = NULL;
        if (!edge_reply_header_wanted(keys[i]) || natsMsgHeader_Get(m, keys[i], &v) != NATS_OK)
            continue;
        char *name = strdup(keys[i]), *value = strdup(v ? v : "");
        if (!name || !value) {
            free(name);
            free(value);
            rc = -1;
            break;
        }
        r->names[r->n_headers] = name;
        r->values[r->n_headers++] = value;
    }
    free((void *)keys);
    return rc;
}

edge_reply *edge_reply_from_msg(natsMsg *m, const char *prefix)
{
    const char *subj = natsMsg_GetSubject(m);
    size_t pl = strlen(prefix);
    if (!subj || strncmp(subj, prefix, pl) != 0 || subj[pl] != '.' || !subj[pl + 1]) return NULL;
    edge_reply *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    int len = natsMsg_GetDataLength(m);
    r->key = strdup(subj + pl + 1);
    r->data = malloc(len > 0 ? (size_t)len : 1);
    if (!r->key || !r->data || copy_headers(r, m) != 0) {
        edge_reply_free(r);
        return NULL;
    }
    if (len > 0) memcpy(r->data, natsMsg_GetData(m), (size_t)len);
    r->len = len > 0 ? (size_t)len : 0;
    r->no_responders = natsMsg_IsNoResponders(m) ? 1 : 0;
    const char *kind = NULL;
    if (natsMsgHeader_Get(m, MED_HDR_REPLY_KIND, &kind) == NATS_OK && kind)
        snprintf(r->kind, sizeof r->kind, "%s", kind);
    return r;
}

/* nats.c thread: copy, hand over, never touch h2o state here. */
static void on_nats_msg(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *closure)
{
    (void)nc;
    (void)sub;
    edge_replies *rs = closure;
    edge_reply *r = edge_reply_from_msg(m, rs->prefix);
    natsMsg_Destroy(m);
    if (!r) {
        med_counter_inc(rs->dropped);
        return;
    }
    h2o_multithread_send_message(&rs->rx, &r->super);
}

/* Loop thread. */
static void on_queue(h2o_multithread_receiver_t *rx, h2o_linklist_t *messages)
{
    edge_replies *rs = H2O_STRUCT_FROM_MEMBER(edge_replies, rx, rx);
    while (!h2o_linklist_is_empty(messages)) {
        edge_reply *r = H2O_STRUCT_FROM_MEMBER(edge_reply, super.link, messages->next);
        h2o_linklist_unlink(&r->super.link);
        rs->fn(rs->ud, r);
        edge_reply_free(r);
    }
}

med_rc edge_replies_start(natsConnection *nc, h2o_multithread_queue_t *queue, const char *prefix,
                          edge_reply_fn fn, void *ud, edge_replies **out, med_err *err)
{
    *out = NULL;
    edge_replies *rs = calloc(1, sizeof *rs);
    if (!rs) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "reply inbox");
    snprintf(rs->prefix, sizeof rs->prefix, "%s", prefix);
    rs->queue = queue;
    rs->fn = fn;
    rs->ud = ud;
    rs->dropped =
        med_counter_get("med_edge_replies_dropped_total",
                        "replies the edge could not hand to its loop (out of memory)", "");
    h2o_multithread_register_receiver(queue, &rs->rx, on_queue);
    rs->rx_registered = 1;
    char subject[EDGE_INBOX_PREFIX_MAX + 4];
    snprintf(subject, sizeof subject, "%s.*", rs->prefix);
    natsStatus s = natsConnection_Subscribe(&rs->sub, nc, subject, on_nats_msg, rs);
    if (s != NATS_OK) {
        h2o_multithread_unregister_receiver(queue, &rs->rx);
        free(rs);
        return med_err_set(err, MED_ERR_UNAVAILABLE, MED_R_INFRA_NATS_UNAVAILABLE, NULL,
                           "cannot subscribe to the reply inbox: %s", natsStatus_GetText(s));
    }
    *out = rs;
    return MED_OK;
}

void edge_replies_stop(edge_replies *rs)
{
    if (!rs) return;
    if (rs->sub) {
        /* Drain waits until no callback is running or queued, so nothing
         * can reach the receiver after it is unregistered below. */
        if (natsSubscription_Drain(rs->sub) == NATS_OK)
            natsSubscription_WaitForDrainCompletion(rs->sub, EDGE_REPLY_DRAIN_TIMEOUT_MS);
        else
            natsSubscription_Unsubscribe(rs->sub);
        natsSubscription_Destroy(rs->sub);
    }
    /* Replies already handed over are consumed here (the callback drops
     * them as late) before the receiver goes; no sender is left, so the
     * list can be read without the queue's lock. */
    on_queue(&rs->rx, &rs->rx._messages);
    h2o_multithread_unregister_receiver(rs->queue, &rs->rx);
    free(rs);
}
