/* D.2 circuit breaker, one per source: two consecutive timeouts or errors
 * open it for D_BREAKER_OPEN_MS, then a single probe is let through. A
 * no_fill is not a failure. Process-local state (the spec keeps it in
 * Redis; see README); the caller passes the clock. */
#ifndef D_BREAKER_H
#define D_BREAKER_H

#include <stdint.h>
#include "d_types.h"

#define D_BREAKER_THRESHOLD 2
#define D_BREAKER_OPEN_MS 30000
#define D_BREAKER_MAX 256

typedef struct d_breaker_state {
    char source_id[D_ID_MAX];
    int consecutive_failures;
    int64_t open_until_ms;       /* 0 = closed */
    int probing;                 /* half-open: the one probe is in flight */
} d_breaker_state;

typedef struct d_breakers {
    d_breaker_state items[D_BREAKER_MAX];
    int n;
} d_breakers;

/* 1 when a dispatch may go out now (closed, or the half-open probe). */
int d_breaker_allow(d_breakers *b, const char *source_id, int64_t now_ms);
/* 1 when the circuit is closed (a retry may follow). */
int d_breaker_closed(const d_breakers *b, const char *source_id, int64_t now_ms);
/* Feeds the outcome of a dispatch that was sent. */
void d_breaker_record(d_breakers *b, const char *source_id, d_outcome_type t, int64_t now_ms);

#endif
