/* Retry history of a message that is being redelivered, kept in the KV
 * bucket MED_KV_RETRY_HISTORY (not in process memory) so that it survives
 * restarts and a redelivery to another replica, and ends up in the
 * DeadLetter.
 *
 * Key: "<stage>.<stream>.<stream_seq>" (the stream is part of it because a
 * stage may consume several streams whose sequences overlap).
 * Value: the protobuf wire form of `repeated RetryAttempt history = 10`,
 * i.e. a DeadLetter with only `history` set, readable with dlq.proto. */
#ifndef MED_RETRY_HISTORY_H
#define MED_RETRY_HISTORY_H

#include <stddef.h>
#include <stdint.h>
#include <nats/nats.h>
#include "mediation/v1/dlq.pb-c.h"
#include "med/dlq.h"
#include "med/err.h"

/* 0 on success, -1 when a part is empty or it does not fit. */
int med_retry_history_key(const char *stage, const char *stream, uint64_t stream_seq,
                          char *out, size_t cap);

/* Appends; when full the oldest attempt is dropped (the latest matter most). */
void med_retry_history_append(med_retry_history *h, const med_retry_attempt *a);
/* Drops attempts numbered >= attempt: left over from a delivery whose
 * outcome was never settled, or from an earlier stream with the same seq. */
void med_retry_history_keep_before(med_retry_history *h, uint32_t attempt);
/* Fills one attempt; strings are truncated to fit. */
void med_retry_attempt_set(med_retry_attempt *a, uint32_t attempt, int64_t at_unix_ms,
                           const char *code, const char *message, int64_t next_delay_ms);

/* The attempts of h as protobuf RetryAttempt messages in items, pointed to
 * by ptrs; their strings point into h, which must outlive them. Returns
 * how many (0 for a NULL or empty history). */
size_t med_retry_history_to_pb(const med_retry_history *h,
                               Mediation__V1__RetryAttempt items[MED_DLQ_HISTORY_MAX],
                               Mediation__V1__RetryAttempt *ptrs[MED_DLQ_HISTORY_MAX]);
/* *out is malloc'd (NULL with *len 0 for an empty history); caller frees. */
med_rc med_retry_history_encode(const med_retry_history *h, uint8_t **out, size_t *len,
                                med_err *err);
med_rc med_retry_history_decode(const uint8_t *buf, size_t len, med_retry_history *out,
                                med_err *err);

/* KV access. load: a missing key is an empty history (MED_OK). */
med_rc med_retry_history_load(kvStore *kv, const char *key, med_retry_history *out,
                              med_err *err);
med_rc med_retry_history_store(kvStore *kv, const char *key, const med_retry_history *h,
                               med_err *err);
med_rc med_retry_history_forget(kvStore *kv, const char *key, med_err *err);

#endif
