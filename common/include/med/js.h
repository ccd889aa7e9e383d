/* NATS + JetStream connection, streams, and publishing.
 *
 * med_js wraps one natsConnection and its jsCtx; it reconnects forever in
 * the background (nats.c reconnect), so callers only see MED_ERR_UNAVAILABLE
 * while it is down. Thread-safe like nats.c itself. */
#ifndef MED_JS_H
#define MED_JS_H

#include <stdint.h>
#include <nats/nats.h>
#include "med/err.h"

typedef struct med_js med_js;

typedef struct med_js_opts {
    const char *url;             /* nats://127.0.0.1:4222 */
    const char *name;            /* connection name: service/instance */
    int connect_timeout_ms;      /* 0 -> 2000 */
    int reconnect_wait_ms;       /* 0 -> 250 */
    int retry_on_failed_connect; /* keep trying in background if down at start */
    int send_asap;               /* natsOptions_SetSendAsap: request/reply paths */
    int64_t publish_timeout_ms;  /* wait for PubAck; 0 -> 5000 */
} med_js_opts;

med_rc med_js_connect(const med_js_opts *opts, med_js **out, med_err *err);
/* Flushes pending async publishes (bounded), drains, closes, frees. */
void med_js_close(med_js *js);
natsConnection *med_js_conn(med_js *js);
jsCtx *med_js_ctx(med_js *js);
int med_js_connected(med_js *js);

/* Stream settings that differ between dev/ci and prod. */
typedef struct med_stream_opts {
    int replicas;                 /* 0 -> 1 */
    int64_t duplicate_window_ms;  /* 0 -> 120000 */
    int64_t max_age_scale_pct;    /* 0 -> 100 (tests may shrink retention) */
} med_stream_opts;

/* Creates or updates every stream of 00-architecture.md with its subjects
 * and retention. Idempotent; safe from many services at once. */
med_rc med_js_ensure_streams(med_js *js, const med_stream_opts *opts, med_err *err);

/* A new message for subject with payload copied; when inherit is non-NULL
 * its trace headers are copied onto the new message. Caller owns *out
 * (natsMsg_Destroy) until it is published. */
med_rc med_js_msg_new(const char *subject, const void *data, int len,
                      natsMsg *inherit, natsMsg **out, med_err *err);

/* Synchronous JetStream publish: returns once the stream acked (or
 * MED_ERR_TIMEOUT/UNAVAILABLE). msg_id, when non-NULL, sets Nats-Msg-Id so
 * the stream's duplicate window drops republished duplicates; *duplicate
 * (optional) tells if that happened. msg stays owned by the caller. */
med_rc med_js_publish(med_js *js, natsMsg *msg, const char *msg_id,
                      int *duplicate, med_err *err);
/* Asynchronous publish with a bounded window of outstanding acks. msg
 * ownership passes to the library on MED_OK. */
med_rc med_js_publish_async(med_js *js, natsMsg *msg, const char *msg_id, med_err *err);
/* Waits until every async publish got its ack; failures are counted and
 * reported as MED_ERR_IO. */
med_rc med_js_publish_async_complete(med_js *js, int64_t timeout_ms, med_err *err);
/* Plain core-NATS publish (reply inboxes). msg stays owned by the caller. */
med_rc med_js_publish_core(med_js *js, natsMsg *msg, med_err *err);

/* Maps a nats.c status (and JetStream error code, 0 if none) to a med_rc
 * and fills err with `code` (NULL -> infra_nats_unavailable) and
 * "<what>: <status text>". Timeouts -> MED_ERR_TIMEOUT, connection trouble
 * -> MED_ERR_UNAVAILABLE, server-side rejections -> MED_ERR_IO. */
med_rc med_js_status_err(natsStatus s, jsErrCode jerr, const char *code,
                         const char *what, med_err *err);

#endif
