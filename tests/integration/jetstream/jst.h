/* Shared helpers of the JetStream integration tests: connection from
 * NATS_URL, unique names so tests never see each other's messages, and
 * polling with a deadline. */
#ifndef MED_TEST_JST_H
#define MED_TEST_JST_H

#include <stddef.h>
#include <stdint.h>
#include <nats/nats.h>
#include "med/js.h"

/* Fails the test when NATS_URL is unset or the server is unreachable.
 * Streams are ensured (idempotent). */
med_js *jst_connect(void);
/* 8 random lowercase hex chars: unique stage/subject/durable names. */
void jst_unique(char *out, size_t cap);
void jst_sleep_ms(int ms);
int64_t jst_now_ms(void);
/* Polls pred every 10 ms until it returns non-zero or timeout_ms passes. */
int jst_wait_until(int (*pred)(void *), void *arg, int timeout_ms);
/* Messages stored in a stream for one subject. */
uint64_t jst_subject_count(jsCtx *js, const char *stream, const char *subject);

/* Value of one rendered metric series, e.g.
 * `med_js_published_total{stream="MED_CHAIN"}`; 0 when absent. */
uint64_t jst_metric(const char *series);

#endif
