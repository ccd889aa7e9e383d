/* F.5 dedup: the canonical key, the fingerprint, and the key-state table. */
#ifndef F_DEDUP_H
#define F_DEDUP_H

#include "f_dict.h"
#include "f_work.h"

#define F_KEY_SOURCE_IDEMPOTENCY "client_idempotency"
#define F_KEY_SOURCE_EVENT_ID "client_event_id"
#define F_KEY_SOURCE_COMPUTED "computed"
#define F_KEY_SOURCE_NONE "none"

#define F_DEDUP_OUTCOME_NEW "new"
#define F_DEDUP_OUTCOME_INFLIGHT "duplicate_inflight"
#define F_DEDUP_OUTCOME_COMMITTED "duplicate_committed"
#define F_DEDUP_OUTCOME_CONFLICT "rejected_conflict"

typedef struct f_dedup_key {
    const char *source;      /* F_KEY_SOURCE_*, NULL when rejected */
    const char *key;         /* canonicalDedupKey */
    const char *fingerprint; /* source (3)'s value, always set */
    int idem_fallback;       /* a malformed idempotencyKey fell through */
    const char *reject;      /* step 8 reject code, or NULL */
} f_dedup_key;

/* The |-joined normalized semantic fields of ev (F.5), in the arena.
 * *usable = 0 when a field the digest needs is malformed (a non-integer
 * eventSeq): the digest then still serves as fingerprint, never as key. */
char *f_dedup_semantic_digest(med_arena *a, const Mediation__V1__SdkEvent *ev, f_event_type t,
                              int *usable);
/* Source (3): sha256hex(appId|eventType|requestKey|attemptKey|
 * opportunityKey|responseReferenceOrNA|renderAttemptIdOrNA|digest). */
char *f_dedup_fingerprint(med_arena *a, const char *app_id, const Mediation__V1__SdkEvent *ev,
                          f_event_type t, int *usable);
/* Step 8: the first usable key source. ev must be normalized (step 7). */
med_rc f_dedup_compute(med_arena *a, const char *app_id, const char *batch_id,
                       const Mediation__V1__SdkEvent *ev, f_event_type t, int global_verified,
                       f_dedup_key *out);

/* The key record as a fast path (Redis) or the store sees it. */
typedef enum f_key_state {
    F_KEY_NONE = 0,
    F_KEY_EXPIRED,
    F_KEY_INFLIGHT,   /* locked by a batch still processing */
    F_KEY_COMMITTED,  /* accepted_committed, within its window */
} f_key_state;

typedef struct f_dedup_verdict {
    int process;          /* 1: lock (or take over) and process */
    f_ack_status status;  /* when !process: DUPLICATE or REJECTED */
    const char *reason;
    const char *outcome;  /* F_DEDUP_OUTCOME_* */
    int retryable;
} f_dedup_verdict;

/* The F.5 key-state table. lock_age_ms: how long an inflight lock has been
 * held (ignored for other states). */
f_dedup_verdict f_dedup_decide(f_key_state state, int64_t lock_age_ms, int same_fingerprint,
                               const f_windows *w);

/* Step 10 for one candidate: first = it is the row's first occurrence.
 * A row the batch won is inflight-locked by the batch itself for every
 * later occurrence; a lost row holds a committed record (the store reads
 * lost claims after the holder committed). */
f_dedup_verdict f_dedup_row_verdict(const f_dedup_row *row, const char *fingerprint, int first,
                                    const f_windows *w);

#endif
