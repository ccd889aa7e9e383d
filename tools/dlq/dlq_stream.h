/* tools/dlq's NATS side: read dead letters from MED_DLQ (an ordered,
 * ephemeral consumer: nothing durable is left behind, nothing is acked or
 * removed) and republish a dead letter's original message. */
#ifndef DLQ_STREAM_H
#define DLQ_STREAM_H

#include <nats/nats.h>
#include <stddef.h>
#include <stdint.h>

#include "mediation/v1/dlq.pb-c.h"

typedef struct dlq_entry {
    uint64_t seq;                      /* MED_DLQ sequence: the operator's id */
    Mediation__V1__DeadLetter *dl;     /* owned (dlq_entries_free) */
} dlq_entry;

typedef struct dlq_entries {
    dlq_entry *items;
    size_t n, cap;
} dlq_entries;

/* Every dead letter of stage (NULL = all stages) held by MED_DLQ, oldest
 * first. 0 on success. */
int dlq_stream_read(jsCtx *js, const char *stage, dlq_entries *out, char *why, size_t cap);
void dlq_entries_free(dlq_entries *e);

/* The dead letter at MED_DLQ sequence seq; *out owned by the caller
 * (mediation__v1__dead_letter__free_unpacked). 0 on success, 1 when there
 * is no dead letter at seq, -1 on failure. */
int dlq_stream_get(jsCtx *js, uint64_t seq, Mediation__V1__DeadLetter **out, char *why,
                   size_t cap);

/* Publishes dl's payload with its original headers to its failed subject
 * through JetStream, marked Med-Redrive-Of: MED_DLQ/<seq>; msg_id non-NULL
 * replaces Nats-Msg-Id. *duplicate: the stream dropped it (its duplicate
 * window still holds that id). 0 on success. */
int dlq_stream_republish(jsCtx *js, const Mediation__V1__DeadLetter *dl, uint64_t seq,
                         const char *msg_id, uint64_t *stored_seq, int *duplicate, char *why,
                         size_t cap);

/* Publishes m (destroyed) through JetStream; *duplicate as above. */
int dlq_stream_publish_msg(jsCtx *js, natsMsg *m, uint64_t *stored_seq, int *duplicate,
                           char *why, size_t cap);

#endif
