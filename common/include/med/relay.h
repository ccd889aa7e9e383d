/* The actor loop of a stage: pull a message from its durable consumer, run
 * the stage's transform (pure logic, no I/O), publish what the transform
 * produced, then ack. Publishing happens before the ack, and every output
 * carries a Nats-Msg-Id, so a crash between the two redelivers the input
 * and the stream's duplicate window drops the second copy of the output:
 * at-least-once in, exactly-once out within the window. */
#ifndef MED_RELAY_H
#define MED_RELAY_H

#include <stddef.h>
#include <stdint.h>
#include <nats/nats.h>
#include <protobuf-c/protobuf-c.h>
#include "med/consumer.h"
#include "med/err.h"
#include "med/headers.h"
#include "med/service.h"

#define MED_RELAY_MAX_OUT 4

#define MED_RELAY_MAX_HDRS 8

/* A header an output sets on top of the ones it inherits from the input
 * (A mints Med-Trace-Key, Med-Request-Key, Med-Opportunity-Key, ...). */
typedef struct med_relay_hdr {
    char name[40];
    char value[MED_HDR_VALUE_MAX];
} med_relay_hdr;

typedef struct med_relay_pub {
    char subject[192];
    char msg_id[192];   /* Nats-Msg-Id; "" only for core publishes */
    uint8_t *data;      /* malloc'd by the transform; freed by the relay */
    size_t len;
    int core;           /* 1: core NATS publish (reply inbox), not JetStream */
    med_relay_hdr hdrs[MED_RELAY_MAX_HDRS];
    int n_hdrs;
} med_relay_pub;

typedef struct med_relay_out {
    med_relay_pub pubs[MED_RELAY_MAX_OUT];
    int n;
} med_relay_out;

/* Context handed to a transform. */
typedef struct med_relay_in {
    natsMsg *msg;
    const uint8_t *data;
    size_t len;
    const med_trace_headers *headers;
    const char *reply_to;         /* Med-Reply-To header or NULL */
    const med_delivery_info *info;
    const char *stage;
    const char *instance;
    int64_t now_unix_ms;
    med_service *svc;             /* connections: med_service_pg/redis/rconfig */
} med_relay_in;

/* Returns MED_OK and fills out, or an error: a retryable rc makes the
 * message retry with backoff, any other rc dead-letters it (e.g. a payload
 * that does not decode). */
typedef med_rc (*med_relay_transform_fn)(void *ud, const med_relay_in *in,
                                         med_relay_out *out, med_err *err);

/* Appends one output; takes ownership of data (freed even on failure). */
med_rc med_relay_out_add(med_relay_out *out, const char *subject, const char *msg_id,
                         uint8_t *data, size_t len, int core, med_err *err);
void med_relay_out_free(med_relay_out *out);
/* Sets (or overrides) a header on the output added last; later outputs of
 * the same message do not inherit it. MED_ERR_INVALID when there is no
 * output yet, the name/value does not fit, or MED_RELAY_MAX_HDRS is hit. */
med_rc med_relay_out_header(med_relay_out *out, const char *name, const char *value,
                            med_err *err);
/* Publishes data to a reply inbox (core NATS) with Med-Reply-Kind set, so
 * the edge tells an A contract reject from E's Delivery without guessing
 * from the protobuf shape. kind: MED_REPLY_KIND_REJECT / _DELIVERY. */
med_rc med_relay_out_reply(med_relay_out *out, const char *inbox, const char *kind,
                           uint8_t *data, size_t len, med_err *err);

/* Runs until SIGTERM/SIGINT, then returns after finishing the batch. */
med_rc med_relay_run(med_service *svc, const char *stream, const char *in_subject,
                     med_relay_transform_fn fn, void *ud, med_err *err);

/* Exposed for tests: what the relay does with one message (fault
 * injection, transform, publish) without acking. */
med_disposition med_relay_handle(med_service *svc, med_relay_transform_fn fn, void *ud,
                                 natsMsg *msg, const med_delivery_info *info, med_err *err);



/* ---- batch transform (stages that overlap I/O across messages) ----
 *
 * D waits on outbound HTTP: handled one by one, a 2-core box would spend
 * its time idle. A batch transform gets every message of one fetch at once
 * (n <= JS_FETCH_BATCH), may overlap their I/O, and fills outs[i] / rcs[i] /
 * errs[i] per message. The relay then publishes and acks (or retries /
 * dead-letters) each message exactly as for a single transform. */
typedef void (*med_relay_batch_fn)(void *ud, const med_relay_in *ins, size_t n,
                                   med_relay_out *outs, med_rc *rcs, med_err *errs);

med_rc med_relay_run_batch(med_service *svc, const char *stream, const char *in_subject,
                           med_relay_batch_fn fn, void *ud, med_err *err);
/* The same loop on js (borrowed; e.g. from med_service_js_open), so that
 * several loops of one process each wait only on their own PubAcks: a
 * stage runs one per worker thread, all bound to the same durable. */
med_rc med_relay_run_batch_on(med_service *svc, med_js *js, const char *stream,
                              const char *in_subject, med_relay_batch_fn fn, void *ud,
                              med_err *err);
int med_stage_main_batch(const med_service_opts *opts, const char *stream,
                         const char *in_subject, med_relay_batch_fn fn, void *ud);

/* ---- pass-through stage (skeleton until a stage gets its own rules) ---- */

typedef struct med_passthrough_spec {
    const ProtobufCMessageDescriptor *in_desc;
    const ProtobufCMessageDescriptor *out_desc;
    const char *out_subject;
    const char *msg_id_prefix; /* "a.seed" -> Nats-Msg-Id "a.seed:<requestKey>" */
} med_passthrough_spec;

/* A med_relay_transform_fn: decode as in_desc, stamp this stage's hop into
 * the trace, re-emit as out_desc on out_subject. ud is a
 * const med_passthrough_spec *. */
med_rc med_relay_passthrough(void *ud, const med_relay_in *in, med_relay_out *out,
                             med_err *err);

/* Nats-Msg-Id for an output: "<prefix>:<requestKey>", or
 * "<prefix>:seq-<stream seq>" when the message has no request key (the
 * input's stream sequence is stable across redeliveries too). */
void med_relay_msg_id(const med_relay_in *in, const char *prefix, char *out, size_t cap);

/* Whole life of a relay stage: start, mark ready, consume until SIGTERM,
 * shut down. Returns the process exit code. */
int med_stage_main(const med_service_opts *opts, const char *stream, const char *in_subject,
                   med_relay_transform_fn fn, void *ud);

/* A med_relay_transform_fn that only validates: the payload must decode as
 * the descriptor ud points to; nothing is emitted. Used by consumers whose
 * rules are not built yet, so garbage still reaches the DLQ. */
med_rc med_relay_sink(void *ud, const med_relay_in *in, med_relay_out *out, med_err *err);

#endif
