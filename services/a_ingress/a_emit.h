/* A.9 opportunity_created on the wire: the event's message (StageAudit
 * bytes + trace headers) and one attempt of it through common/emit_*
 * (digest store med:<env>:a:idem:oc:<key>, PubAck -> a_oc_emit_*). The
 * first attempt runs in A's batch before the seed leaves; resends come
 * from a_sweeper over the stored payload. */
#ifndef A_EMIT_H
#define A_EMIT_H

#include <stddef.h>
#include <stdint.h>
#include <nats/nats.h>
#include "a_emit_store.h"
#include "med/emit_ack.h"
#include "med/headers.h"
#include "med/js.h"
#include "med/log.h"
#include "med/redis.h"
#include "mediation/v1/audit.pb-c.h"

/* A row whose first attempt left no outcome (a crash mid-publish) is
 * resent this long after the attempt started. */
#define A_EMIT_PENDING_GRACE_MS 10000

typedef struct a_emit_ctx {
    med_js *js;
    med_redis *redis;         /* the calling thread's; NULL = unchecked */
    const char *app_env;
    const char *subject;      /* A_OC_EMIT_SUBJECT */
    int64_t window_ms;        /* A_OC_EMIT_WINDOW_SEC */
} a_emit_ctx;

/* The event's digest from its StageAudit, or the first missing required
 * field (then *missing is set and nothing may be sent). */
med_rc a_emit_digest_of(const Mediation__V1__StageAudit *audit, char digest[65],
                        const char **missing, med_err *err);

/* One attempt of the event packed in payload: contract check result
 * `missing` (NULL = complete), digest, publish, ack. */
void a_emit_attempt(const a_emit_ctx *c, const uint8_t *payload, size_t len,
                    const med_trace_headers *h, const char *idempotency_key,
                    const char *digest, const char *missing, int attempt,
                    int64_t first_attempt_ms, med_emit_ack *ack);

/* a_emit_resend_fn for the sweeper; ud is an a_emit_ctx. */
void a_emit_resend(void *ud, const a_emit_due *row, med_emit_ack *ack);

#endif
