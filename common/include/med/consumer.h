/* Durable pull-consumer loop: fetch a batch, call the handler per message,
 * then ack / nak with backoff / dead-letter + term as med_retry_decide says.
 * Stable and canary replicas of a stage share the same durable. */
#ifndef MED_CONSUMER_H
#define MED_CONSUMER_H

#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <nats/nats.h>
#include "med/backoff.h"
#include "med/err.h"
#include "med/js.h"

typedef struct med_delivery_info {
    uint64_t stream_seq;
    uint64_t consumer_seq;
    uint64_t num_delivered;  /* 1 on first delivery */
    int64_t published_unix_ns;
    const char *stream;
    const char *consumer;
} med_delivery_info;

/* The handler owns nothing of msg; it must not ack it. On RETRY/FAIL it
 * fills err (reason code + message) for the retry history and DLQ. */
typedef med_disposition (*med_handler_fn)(void *ud, natsMsg *msg,
                                          const med_delivery_info *info,
                                          med_err *err);

typedef struct med_consumer_opts {
    const char *stage;          /* "a".."h": DLQ subject med.dlq.<stage>.v1 */
    const char *stream;         /* MED_STREAM_* */
    const char *durable;        /* durable consumer name */
    const char *filter_subject; /* MED_SUBJ_* */
    int max_deliver;            /* deliveries before dead-letter; 0 -> 5 */
    med_backoff backoff;        /* n == 0 -> default ladder */
    int64_t ack_wait_ms;        /* 0 -> 30000 */
    int batch;                  /* fetch batch size; 0 -> 64 */
    int64_t fetch_timeout_ms;   /* long-poll per fetch; 0 -> 500 */
} med_consumer_opts;

/* Creates/updates the durable, then loops until *stop becomes non-zero:
 * in-flight messages of the current batch are finished and acked before it
 * returns (graceful shutdown). Returns MED_OK on stop; an error only when
 * the consumer cannot be created at all. NATS outages are waited out. */
med_rc med_consumer_run(med_js *js, const med_consumer_opts *opts,
                        med_handler_fn handler, void *ud,
                        const atomic_int *stop, med_err *err);

/* Called once per fetched batch, before the handler runs on each message
 * of it (in order): lets a stage overlap the I/O of a whole batch. The
 * messages stay owned by the consumer. */
typedef void (*med_batch_prepare_fn)(void *ud, natsMsg **msgs, int n);

/* med_consumer_run with a prepare hook (prepare may be NULL). */
med_rc med_consumer_run_batched(med_js *js, const med_consumer_opts *opts,
                                med_batch_prepare_fn prepare, med_handler_fn handler,
                                void *ud, const atomic_int *stop, med_err *err);

#endif
