/* What the outbox stores for a processed batch: the packed EventBatchAck,
 * the archive records (FOutboxRecords) and the batch's StageAudit. */
#ifndef F_STORE_PACK_H
#define F_STORE_PACK_H

#include "f_store.h"
#include "f_work.h"
#include "mediation/v1/common.pb-c.h"

typedef struct f_pack_ctx {
    const Mediation__V1__TraceContext *trace; /* borrowed; NULL = empty */
    const char *instance;                     /* StageAudit.instance */
    int64_t started_at_ms;
} f_pack_ctx;

/* Fills ob's ack/records/audit buffers (malloc'd) and record_count from a
 * batch after phase 6. ob->key must be set: the audit id derives from it.
 * Sets the ACK's http_status to 200 when the rules left it 0. */
med_rc f_pack_batch(f_batch_work *b, const f_pack_ctx *ctx, f_outbox_row *ob, med_err *err);

/* The trace every record of the outbox row is published under: ctx's
 * trace with the tenant and app set (arena copy). */
Mediation__V1__TraceContext *f_pack_trace(med_arena *a, const Mediation__V1__TraceContext *src,
                                          const char *tenant_id, const char *app_id);

/* Packs an envelope-reject (or 503) ACK: the rules' b->ack when present,
 * else a minimal one with http_status and error{code, message, field}. */
med_rc f_pack_reject_ack(f_batch_work *b, const Mediation__V1__TraceContext *trace, int http_status,
                         const char *code, const char *message, const char *field,
                         int retry_after_sec, uint8_t **out, size_t *len, med_err *err);

#endif
