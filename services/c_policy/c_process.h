/* One input message to C's packed outputs, without NATS: decode, check,
 * evaluate, build and pack. Exactly one of the PolicyDecision (to D) or the
 * ComposeInput (to E), then always the StageAudit. The relay glue
 * (c_service.c) only hands these to med_relay_out_add. */
#ifndef C_PROCESS_H
#define C_PROCESS_H

#include <stddef.h>
#include <stdint.h>
#include "c_types.h"
#include "med/err.h"
#include "mediation/v1/common.pb-c.h"

#define C_SUBJ_AUDIT "med.audit.c.v1"
#define C_MSG_ID_ROUTE "c.route"
#define C_MSG_ID_COMPOSE "c.compose"
#define C_MSG_ID_AUDIT "c.audit"

typedef struct c_process_in {
    const uint8_t *data;
    size_t len;
    c_header_keys hdr;                          /* Med-* header values */
    const Mediation__V1__TraceContext *hdr_trace; /* headers as a trace, for undecodable input */
    uint64_t stream_seq;                        /* id fallback when no key is known */
    const char *stage;
    const char *instance;
    int64_t now_ms;                             /* evalNow; tests fix it */
} c_process_in;

typedef struct c_emit_item {
    const char *subject;
    char msg_id[192];
    uint8_t *data; /* malloc'd */
    size_t len;
} c_emit_item;

typedef struct c_emit {
    c_emit_item v[3];
    int n;
    char final_action[16]; /* allow|degrade|block|reject|forward (metrics, tests) */
    char primary_code[64];
} c_emit;

void c_emit_free(c_emit *e);

/* MED_OK with out filled; MED_ERR_NOMEM (retry) or MED_ERR_IO when the
 * audit would lack a required field (C.4: publish nothing, retry until
 * max_deliver sends the message to the DLQ). */
med_rc c_process(const c_process_in *in, c_emit *out, med_err *err);

#endif
