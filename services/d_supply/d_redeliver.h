/* D.9 redelivery rules, pure: the Redis key and value shapes of the lock
 * and the finished output, the Nats-Msg-Id, and the reuse / wait / run
 * decision from what Redis answered. The Redis round trips are in
 * d_store.c; d_service.c applies the verdict. */
#ifndef D_REDELIVER_H
#define D_REDELIVER_H

#include <stddef.h>
#include <stdint.h>
#include "med/err.h"

/* What the lock holder may still spend after its route budget: building,
 * storing and publishing the output. Added to the holder's deadline so a
 * waiter comes back after the output is stored, not just before. */
#define D_RD_GRACE_MS 250
/* A wait shorter than this is not worth a nak round trip: wait at least it. */
#define D_RD_MIN_WAIT_MS 20
/* Outputs of one message: ComposeInput and StageAudit. */
#define D_RD_MAX_PUBS 2
#define D_RD_RECORD_VERSION "d_out_v1"

typedef enum d_rd_lock {
    D_RD_LOCK_DOWN = 0,   /* Redis did not answer (or not asked: no keys) */
    D_RD_LOCK_ACQUIRED,   /* SET NX created it: this delivery holds it */
    D_RD_LOCK_HELD,       /* someone else (another replica, or an earlier
                           * delivery of this one) holds it */
} d_rd_lock;

typedef enum d_rd_out {
    D_RD_OUT_DOWN = 0,    /* Redis did not answer */
    D_RD_OUT_ABSENT,      /* no stored output (or one that does not decode) */
    D_RD_OUT_FOUND,
} d_rd_out;

/* Everything the decision reads; filled by the edge. */
typedef struct d_rd_view {
    int keyed;                        /* opportunityKey and attemptKey both set */
    d_rd_lock lock;
    d_rd_out out;
    int64_t holder_deadline_unix_ms;  /* LOCK_HELD: the holder's, 0 when unknown */
    int64_t now_unix_ms;
    int last_delivery;                /* a nak would not be redelivered */
} d_rd_view;

typedef enum d_rd_action {
    D_RD_RUN = 0,   /* route (today's path) */
    D_RD_REUSE,     /* republish the stored output, call no network */
    D_RD_WAIT,      /* nak, delayed by delay_ms */
} d_rd_action;

typedef struct d_rd_verdict {
    d_rd_action action;
    int64_t delay_ms;     /* WAIT only */
    int store;            /* RUN: store the output (this delivery owns the lock) */
    int take_over;        /* RUN: overwrite the stale lock first */
    const char *why;      /* static text for the log */
} d_rd_verdict;

/* The D.9 table:
 *   no keys                               -> run, store nothing
 *   output stored                         -> reuse
 *   lock not answered                     -> run; the stream drops the duplicate
 *   lock acquired (output absent/unread)  -> run, store
 *   lock held, output not answered        -> run, store nothing
 *   lock held, holder deadline ahead      -> wait the rest of the holder's
 *                                            budget (>= D_RD_MIN_WAIT_MS)
 *   lock held, deadline passed / unknown,
 *   or this is the last delivery          -> take over: run, store */
d_rd_verdict d_rd_decide(const d_rd_view *v);

/* Holder's deadline: started + the effective route budget (D.1 row 9: a
 * budget <= 0 runs on the strategy timeout) + D_RD_GRACE_MS. */
int64_t d_rd_deadline(int64_t started_unix_ms, int64_t route_budget_ms, int64_t strategy_timeout_ms);

/* "med:<env>:d:<kind>:<tenant>:<opportunityKey>:<attemptKey>", kind "lock"
 * or "out" (same shape as A's med:<env>:a:dedup:<tenant>:<key>); an empty
 * tenant is written NA. -1 when a key part is missing or out is too small. */
int d_rd_key(const char *env, const char *kind, const char *tenant, const char *opportunity_key,
             const char *attempt_key, char *out, size_t cap);
/* Nats-Msg-Id "d:<opportunityKey>:<attemptKey>" (attempt NA when missing);
 * -1 without an opportunity key or when out is too small. */
int d_rd_msg_id(const char *opportunity_key, const char *attempt_key, char *out, size_t cap);

/* Lock value (msgpack {owner, deadlineAtUnixMs}); *out malloc'd. */
med_rc d_rd_lock_encode(const char *owner, int64_t deadline_unix_ms, uint8_t **out, size_t *len,
                        med_err *err);
/* The deadline in a lock value; 0 when it does not decode. */
int64_t d_rd_lock_deadline(const uint8_t *buf, size_t len);

/* One publish of a stored output. Strings and data are borrowed. */
typedef struct d_rd_pub {
    const char *subject;
    const char *msg_id;
    const uint8_t *data;
    size_t len;
} d_rd_pub;

/* A decoded output record: pubs borrow from the record's own storage. */
typedef struct d_rd_record {
    d_rd_pub pubs[D_RD_MAX_PUBS];
    int n;
    void *owned;          /* decoded map the pubs point into */
} d_rd_record;

/* msgpack {v, n, s0, i0, d0, s1, i1, d1}; *out malloc'd. n is 1..D_RD_MAX_PUBS. */
med_rc d_rd_record_encode(const d_rd_pub *pubs, int n, uint8_t **out, size_t *len, med_err *err);
/* INFRA_DECODE_FAILED on anything but a complete record of this version. */
med_rc d_rd_record_decode(const uint8_t *buf, size_t len, d_rd_record *rec, med_err *err);
void d_rd_record_free(d_rd_record *rec);

#endif
