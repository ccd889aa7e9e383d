/* A.4: the dedup key, the record kept in Redis for the window, and the
 * decision a stored record implies. Pure (encode/decode included). */
#ifndef A_DEDUP_H
#define A_DEDUP_H

#include <stddef.h>
#include <stdint.h>
#include "a_types.h"
#include "med/err.h"

#define A_DEDUP_SRC_CLIENT   "client_request_id"
#define A_DEDUP_SRC_COMPUTED "computed"
#define A_DEDUP_INFLIGHT     "inflight"
#define A_DEDUP_COMPLETED    "completed"

typedef struct a_dedup_key {
    char dedup_key[A_DEDUP_KEY_MAX];
    char computed_dedup_key[65];  /* always computed, also with a client id */
    const char *source;           /* A_DEDUP_SRC_* */
} a_dedup_key;

/* canonical_trigger_type is A.3's normalised type; trigger_at_ms is
 * rendered in the canonical YYYY-MM-DDTHH:MM:SS.sssZ. client_request_id
 * NULL = none valid. */
void a_dedup_compute(const char *app_id, const char *session_id, const char *placement_id,
                     const char *canonical_trigger_type, int64_t trigger_at_ms,
                     const char *client_request_id, a_dedup_key *out);

/* "cli:" + appId + ":" + generated client id: the alias under which the
 * computed record is also stored (A.4, case 9). */
void a_dedup_alias_key(const char *app_id, const char *generated_client_id, char *out,
                       size_t cap);

/* The alias value (A.4): msgpack {aliasOf: <the computed record's
 * dedupKey>}. Only an "fp:" key can be aliased, so an alias never leads
 * to another alias. *out malloc'd. */
med_rc a_dedup_alias_encode(const char *alias_of, uint8_t **out, size_t *len, med_err *err);

typedef struct a_dedup_record {
    char state[16];                 /* inflight | completed */
    int64_t first_seen_at_ms;
    int32_t generation;
    uint64_t owner_stream_seq;
    char request_key[A_KEY_MAX], attempt_key[A_KEY_MAX], trace_key[A_FIELD_MAX];
    char opportunity_key[A_KEY_MAX], imp_key[A_KEY_MAX], generated_client_id[A_KEY_MAX];
    char app_id[A_FIELD_MAX], session_id[A_FIELD_MAX], placement_id[A_FIELD_MAX];
    /* the result, once completed */
    char trigger_action[32], decision_outcome[48], reason_code[64];
    char opportunity_ref[A_KEY_MAX];  /* "" = NA */
} a_dedup_record;

/* msgpack flat map (med/mpack.h); *out malloc'd. */
med_rc a_dedup_record_encode(const a_dedup_record *r, uint8_t **out, size_t *len, med_err *err);
/* Unknown keys are ignored; a record without state/firstSeenAtMs is
 * INFRA_DECODE_FAILED (treat as absent and overwrite). */
med_rc a_dedup_record_decode(const uint8_t *buf, size_t len, a_dedup_record *out, med_err *err);

typedef enum a_dedup_state {
    A_DEDUP_NEW = 0,
    A_DEDUP_RESUME,            /* the owner's own redelivery: continue idempotently */
    A_DEDUP_INFLIGHT_DUPLICATE,
    A_DEDUP_REUSED_RESULT,
    A_DEDUP_EXPIRED_RETRY,
} a_dedup_state;

/* Wire dedupState; RESUME reports "new" (A.4 table). */
const char *a_dedup_state_name(a_dedup_state s);

typedef struct a_dedup_decision {
    a_dedup_state state;
    int32_t generation;          /* for the key derivation */
    int64_t first_seen_at_ms;
    int keep_trace_key;          /* expired_retry with equal app/session/placement */
} a_dedup_decision;

/* rec NULL = no record. now_ms = receivedAt. */
void a_dedup_decide(const a_dedup_record *rec, int64_t now_ms, int window_sec, uint64_t my_seq,
                    const char *app_id, const char *session_id, const char *placement_id,
                    a_dedup_decision *out);

/* What A writes after deciding on what the claim script returned (A.4):
 * nothing (a duplicate, the owner's resume, not a create, Redis down), a
 * record where none is (new), or a compare-and-set over the bytes it saw
 * (expired retry, or an undecodable record that counts as absent). */
typedef enum a_dedup_claim {
    A_DEDUP_CLAIM_NONE = 0,
    A_DEDUP_CLAIM_IF_ABSENT,
    A_DEDUP_CLAIM_IF_UNCHANGED,
} a_dedup_claim;

/* What the bytes under a dedup key are: nothing usable (absent or
 * undecodable: counts as no record), a record (*rec filled) or an alias
 * of a computed record (alias_of filled, to be read and decided on). */
typedef enum a_dedup_bytes {
    A_DEDUP_BYTES_NONE = 0,
    A_DEDUP_BYTES_RECORD,
    A_DEDUP_BYTES_ALIAS,
} a_dedup_bytes;

a_dedup_bytes a_dedup_bytes_read(const uint8_t *buf, size_t len, a_dedup_record *rec,
                                 char *alias_of, size_t cap);

/* create: the decision creates an opportunity; record_seen: the script
 * returned stored bytes (decodable or not). */
a_dedup_claim a_dedup_claim_for(int create, int degraded, const a_dedup_decision *dd,
                                int record_seen);

#endif
