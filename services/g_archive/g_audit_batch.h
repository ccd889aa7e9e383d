/* The audit consumer's batch transform (med.audit.*.v1, StageAudit):
 * a StageAudit carrying a gAppendRequestLite goes through G.2 (checks in
 * order, idempotency key, appendToken, 7 d window, AppendAck to
 * Med-Reply-To; ack / nak with backoff on rate limit and store outage /
 * dead-letter otherwise); every other StageAudit is appended to
 * audit_records as before (g_audit_row, g_audit_store). One statement set
 * per tenant per fetched batch for each path. */
#ifndef G_AUDIT_BATCH_H
#define G_AUDIT_BATCH_H

#include <stdint.h>

#include "g_rate.h"
#include "med/relay.h"

/* State of the audit consumer (its one thread). */
typedef struct g_audit_ctx {
    int prepared;          /* statements registered on the service's connection */
    int64_t window_ms;     /* G_APPEND_WINDOW_SEC */
    g_rate rate;           /* G_APPEND_RATE_PER_SEC per tenant */
} g_audit_ctx;

void g_audit_ctx_init(g_audit_ctx *c, int64_t window_ms, int64_t rate_per_sec);

/* A med_relay_batch_fn; ud is a g_audit_ctx *. */
void g_audit_batch(void *ud, const med_relay_in *ins, size_t n, med_relay_out *outs, med_rc *rcs,
                   med_err *errs);

#endif
