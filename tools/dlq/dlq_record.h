/* tools/dlq: a DeadLetter (med.dlq.<stage>.v1, stream MED_DLQ) as an
 * operator sees it and as dead_letter_records stores it, and the re-drive
 * rules. Pure. The operator's id of a dead letter is its MED_DLQ stream
 * sequence. */
#ifndef DLQ_RECORD_H
#define DLQ_RECORD_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "mediation/v1/dlq.pb-c.h"

#define DLQ_PLATFORM_TENANT "_platform"
#define DLQ_STATUS_OPEN     "open"
#define DLQ_STATUS_REDRIVEN "redriven"
#define DLQ_STATUS_DISCARDED "discarded"

/* dead_letter_records' unique origin (stream, consumer, stream_seq): where
 * the failed message was. A dead letter that did not come from a stream is
 * keyed by its own place in MED_DLQ. Strings point into dl or are static. */
typedef struct dlq_origin {
    const char *stream;
    const char *consumer;
    uint64_t seq;
} dlq_origin;

void dlq_origin_of(const Mediation__V1__DeadLetter *dl, uint64_t dlq_seq, dlq_origin *out);
/* The dead letter's tenant, '_platform' when it carried none (migration 0006). */
const char *dlq_tenant_of(const Mediation__V1__DeadLetter *dl);
/* A header of the failed message (first value), or NULL. */
const char *dlq_header(const Mediation__V1__DeadLetter *dl, const char *name);

/* The dead_letter_records columns of dl as one JSON object (for
 * jsonb_to_recordset); NULL on allocation failure. */
json_t *dlq_row_json(const Mediation__V1__DeadLetter *dl, uint64_t dlq_seq);

typedef enum dlq_redrive_verdict {
    DLQ_REDRIVE_GO = 0,
    DLQ_REDRIVE_ALREADY_DONE,   /* redriven before: refused without --force */
    DLQ_REDRIVE_DISCARDED,      /* an operator discarded it: refused without --force */
} dlq_redrive_verdict;

/* status NULL = never recorded (open). */
dlq_redrive_verdict dlq_redrive_check(const char *status, int force);

/* Nats-Msg-Id for a re-drive under a new id: "<orig>.redrive.<dlq_seq>"
 * ("redrive.<stage>.<dlq_seq>" without an original id); a forced repeat
 * adds ".<now_ms>" so the stream does not drop it as the first re-drive's
 * duplicate. 0 on success, -1 if it does not fit. */
int dlq_redrive_msg_id(const Mediation__V1__DeadLetter *dl, uint64_t dlq_seq, int repeat,
                       int64_t now_ms, char *out, size_t cap);

#endif
