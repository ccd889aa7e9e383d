/* Canary circuit breaker (spec 04 H.7): one per
 * appId|placementId|rolloutPolicyVersion, over a 5-min sliding window of
 * the canary's outcomes.
 *
 *   closed --trip--> open --cooldown--> half_open (rollout capped at 1.00 %)
 *   half_open --trip--> open;   any --h_breaker_reset (operator)--> closed
 *
 * Half-open never closes by itself: the spec lets only an operator restore.
 * Pure: the state is a plain struct the service keeps (Redis, msgpack via
 * h_breaker_encode/decode); every call takes the time as now_ms. */
#ifndef H_BREAKER_H
#define H_BREAKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "med/err.h"

/* 10 slots of 30 s: a sample leaves the window between 4.5 and 5 min after
 * it was recorded, never later. */
#define H_BREAKER_SLOTS 10
#define H_BREAKER_SLOT_MS 30000
#define H_BREAKER_WINDOW_MS ((int64_t)H_BREAKER_SLOTS * H_BREAKER_SLOT_MS)
#define H_BREAKER_DEFAULT_COOLDOWN_MS 600000
/* Half-open canary share, in basis points of 100 % (1.00 %). */
#define H_BREAKER_HALF_OPEN_BP 100
/* Latency histogram: bucket i holds lo[i] <= ms < lo[i+1]; p95 reads as the
 * lower bound of its bucket, so a threshold on a bound (the listed values)
 * trips exactly, one between bounds trips at the next bound. */
#define H_BREAKER_LAT_BUCKETS 16

/* A threshold < 0 is off. Rates are in basis points of 1.0 (0.2 -> 2000),
 * integers so "reaches" (>=) is exact. */
typedef struct h_breaker_thresholds {
    int32_t error_rate_bp;
    int32_t no_fill_rate_bp;
    int64_t p95_latency_ms;
    int64_t critical_reason_code_count;
} h_breaker_thresholds;

typedef enum h_breaker_mode {
    H_BREAKER_CLOSED = 0,
    H_BREAKER_OPEN = 1,
    H_BREAKER_HALF_OPEN = 2
} h_breaker_mode;
const char *h_breaker_mode_name(h_breaker_mode m); /* "closed" / "open" / "half_open" */

typedef struct h_breaker_slot {
    int64_t epoch; /* now_ms / H_BREAKER_SLOT_MS of its samples; -1 = empty */
    uint32_t requests, errors, no_fills, critical;
    uint32_t latency[H_BREAKER_LAT_BUCKETS];
} h_breaker_slot;

typedef struct h_breaker_state {
    h_breaker_mode mode;
    int64_t opened_at_ms; /* last trip; 0 while closed */
    uint32_t trips;       /* trips since the last operator reset */
    h_breaker_slot slots[H_BREAKER_SLOTS];
} h_breaker_state;

/* One canary request's outcome. latency_ms < 0 = no sample. */
typedef struct h_breaker_outcome {
    bool error;
    bool no_fill;
    int64_t latency_ms;
    uint32_t critical_reason_codes;
} h_breaker_outcome;

/* Window totals at now_ms. p95_latency_ms is -1 without samples. */
typedef struct h_breaker_stats {
    uint64_t requests, errors, no_fills, critical, latency_samples;
    int64_t p95_latency_ms;
} h_breaker_stats;

/* Every threshold off. */
void h_breaker_thresholds_off(h_breaker_thresholds *t);
/* Closed, empty window. */
void h_breaker_init(h_breaker_state *s);
/* "appId|placementId|rolloutPolicyVersion" into out (malloc'd, caller
 * frees). MED_ERR_INVALID when a part is missing. */
med_rc h_breaker_key(const char *app_id, const char *placement_id,
                     const char *rollout_policy_version, char **out, med_err *err);

/* The mode at now_ms without changing s: open turns half_open once
 * cooldown_ms (<= 0: the default) passed since the trip. */
h_breaker_mode h_breaker_mode_at(const h_breaker_state *s, int64_t cooldown_ms, int64_t now_ms);
/* Applies that transition to s; entering half-open empties the window so
 * the probe is judged on its own traffic. Returns the mode. */
h_breaker_mode h_breaker_advance(h_breaker_state *s, int64_t cooldown_ms, int64_t now_ms);
/* Advances, adds the outcome (ignored while open: no canary traffic then)
 * and trips when a threshold is reached. *tripped (may be NULL) says
 * whether this call opened the breaker. A sample older than its slot's
 * current contents is dropped (replicas report slightly out of order).
 * MED_ERR_INVALID on NULL arguments or now_ms < 0. */
med_rc h_breaker_record(h_breaker_state *s, const h_breaker_thresholds *t, int64_t cooldown_ms,
                        const h_breaker_outcome *o, int64_t now_ms, bool *tripped, med_err *err);
void h_breaker_stats_at(const h_breaker_state *s, int64_t now_ms, h_breaker_stats *out);
/* True when the stats reach any threshold that is on. */
bool h_breaker_should_trip(const h_breaker_stats *st, const h_breaker_thresholds *t);
/* Operator restore: closed, empty window, trip count cleared. */
void h_breaker_reset(h_breaker_state *s);

/* msgpack flat map (med_mmap); *out malloc'd, caller frees. Decode
 * rejects anything not produced by encode (MED_ERR_INVALID,
 * infra_decode_failed). */
med_rc h_breaker_encode(const h_breaker_state *s, uint8_t **out, size_t *len, med_err *err);
med_rc h_breaker_decode(const uint8_t *buf, size_t len, h_breaker_state *out, med_err *err);

#endif
