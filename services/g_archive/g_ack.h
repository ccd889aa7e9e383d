/* G's answers on Med-Reply-To, pure: ArchiveWriteAck for an ArchiveRecord
 * (G.4, F's compensation reads its code) and AppendAck for an append
 * (G.2 gAppendAckLite). */
#ifndef G_ACK_H
#define G_ACK_H

#include <stddef.h>
#include <stdint.h>

#include "g_append_check.h"
#include "g_archive_state.h"
#include "med/err.h"
#include "mediation/v1/archive.pb-c.h"
#include "mediation/v1/audit.pb-c.h"

/* Where one ArchiveRecord ended. Strings borrowed. */
typedef struct g_archive_result {
    const char *record_key;
    g_write_status ws;
    const char *reason;                /* g_archive_* / g_ingest_*; NULL = none */
    int retryable;
    const char *stored_record_status;  /* the stored row's status (no-op, conflict) */
    const char *group_state;           /* fgArchiveConsistencyState; NULL = unknown */
} g_archive_result;

/* *out malloc'd (caller frees). trace may be NULL. */
med_rc g_archive_ack_pack(const g_archive_result *r, const Mediation__V1__TraceContext *trace,
                          int64_t now_ms, uint8_t **out, size_t *len, med_err *err);

/* token: appendToken, used only when v->with_token. */
med_rc g_append_ack_pack(const char *request_id, const g_append_verdict *v, const char *token,
                         const Mediation__V1__TraceContext *trace, int64_t now_ms, uint8_t **out,
                         size_t *len, med_err *err);

#endif
