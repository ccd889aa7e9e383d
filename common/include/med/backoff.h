/* Retry policy, as pure functions: the backoff ladder (1 s, 5 s, 30 s,
 * 120 s, 600 s by default) and the ack / nak / dead-letter decision. */
#ifndef MED_BACKOFF_H
#define MED_BACKOFF_H

#include <stdint.h>
#include "med/err.h"

#define MED_BACKOFF_MAX_STEPS 16

typedef struct med_backoff {
    int64_t step_ms[MED_BACKOFF_MAX_STEPS];
    int n;
} med_backoff;

/* "1000,5000,30000,120000,600000" -> ladder. Empty, non-numeric, <= 0 or
 * more than MED_BACKOFF_MAX_STEPS entries is CFG_INVALID_VALUE. */
med_rc med_backoff_parse(const char *csv, med_backoff *out, med_err *err);
void med_backoff_default(med_backoff *out);
/* Delay before the redelivery that follows delivery number num_delivered
 * (1-based): 1 -> step[0], 2 -> step[1], ... past the end -> last step. */
int64_t med_backoff_delay_ms(const med_backoff *b, uint64_t num_delivered);

/* What a handler says about a message. */
typedef enum med_disposition {
    MED_DISPOSE_ACK = 0,   /* done (success or a business outcome) */
    MED_DISPOSE_RETRY,     /* transient failure: try again later */
    MED_DISPOSE_FAIL,      /* permanent failure: dead-letter now */
} med_disposition;

typedef enum med_next_action {
    MED_NEXT_ACK = 0,
    MED_NEXT_NAK,          /* nak with med_backoff_delay_ms */
    MED_NEXT_DEAD_LETTER,  /* publish to med.dlq.<stage>.v1, then term */
} med_next_action;

/* Used when max_deliver <= 0 (same default as med_consumer_opts). */
#define MED_BACKOFF_DEFAULT_MAX_DELIVER 5

/* RETRY on delivery number >= max_deliver becomes DEAD_LETTER. */
med_next_action med_retry_decide(med_disposition d, uint64_t num_delivered, int max_deliver);

#endif
