/* The payload-digest store of emitted events (A.9 / B.10): Redis key
 * med:<env>:<stage>:idem:<kind>:<eventIdempotencyKey>, value "<digest>"
 * once the key is claimed and "<digest>:acked" once a publish was
 * accepted, TTL = the stage's resend window. The digest is sha256 of the
 * deterministic proto encoding of the event with its uuidv7 eventKey and
 * its wall-clock eventAt left out (spec 01 section 0: the only fields
 * allowed to differ between two runs of the same input), so a redelivered
 * input that rebuilds the same event is a repeat, not a conflict. */
#ifndef MED_EMIT_DIGEST_H
#define MED_EMIT_DIGEST_H

#include <stddef.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>
#include "med/emit_ack.h"
#include "med/err.h"
#include "med/redis.h"

/* med:<env>:<stage>:idem:<kind>:<key> ("oc" for A, "sig" for B). */
void med_emit_digest_key(const char *app_env, const char *stage, const char *kind,
                         const char *idempotency_key, char *out, size_t cap);

/* sha256 hex of m's protobuf encoding (protobuf-c packs fields in number
 * order: deterministic for equal messages). The caller clears eventKey and
 * eventAt on a shallow copy first. */
med_rc med_emit_digest_pb(const ProtobufCMessage *m, char out[65], med_err *err);

/* Claims key for digest (SET NX) or compares with what is there. On a
 * Redis failure returns its rc with *state = MED_EMIT_DIGEST_UNKNOWN. */
med_rc med_emit_digest_claim(med_redis *r, const char *key, const char *digest, int64_t ttl_ms,
                             med_emit_digest_state *state, med_err *err);
/* After an accepted (or duplicate) publish: "<digest>:acked", so a later
 * repeat within the window is a duplicate without a second publish. */
med_rc med_emit_digest_mark_acked(med_redis *r, const char *key, const char *digest,
                                  int64_t ttl_ms, med_err *err);

/* An emitter thread's own Redis connection (med_redis is one per
 * thread), connected on first use: NULL while Redis cannot be reached,
 * tried again at most once a second. Zero-initialise with host/port. */
typedef struct med_emit_redis {
    const char *host;
    int port;
    med_redis *r;
    int64_t next_try_ms;
} med_emit_redis;

med_redis *med_emit_redis_get(med_emit_redis *h);
void med_emit_redis_close(med_emit_redis *h);

#endif
