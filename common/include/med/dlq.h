/* Dead letters: a message that failed for good is published as a
 * DeadLetter protobuf on med.dlq.<stage>.v1 (stream MED_DLQ) with the failed
 * subject, reason code, last error and retry history. Re-driving is an
 * explicit operator action (tools/dlq), never automatic. */
#ifndef MED_DLQ_H
#define MED_DLQ_H

#include <stdint.h>
#include <nats/nats.h>
#include "med/consumer.h"
#include "med/err.h"
#include "med/js.h"

#define MED_DLQ_HISTORY_MAX 16

typedef struct med_retry_attempt {
    uint32_t attempt;          /* delivery number, 1-based */
    int64_t at_unix_ms;
    char error_code[64];
    char error_message[256];
    int64_t next_delay_ms;     /* 0 for the last attempt */
} med_retry_attempt;

typedef struct med_retry_history {
    med_retry_attempt attempts[MED_DLQ_HISTORY_MAX];
    int n;
} med_retry_history;

/* Subject for a stage's dead letters: "med.dlq.<stage>.v1". */
int med_dlq_subject(const char *stage, char *out, size_t cap);

/* Publishes the dead letter synchronously (it must not be lost). The
 * original payload and headers are embedded. */
med_rc med_dlq_publish(med_js *js, const char *stage, natsMsg *failed,
                       const med_delivery_info *info, const char *reason_code,
                       const char *last_error, const med_retry_history *history,
                       med_err *err);

/* Encodes the DeadLetter protobuf without publishing (unit tests, tools).
 * *out is malloc'd; caller frees. */
med_rc med_dlq_encode(const char *stage, natsMsg *failed, const med_delivery_info *info,
                      const char *reason_code, const char *last_error,
                      const med_retry_history *history, uint8_t **out, size_t *len,
                      med_err *err);

#endif
