/* A.9 emit state on opportunity_records: the outcome of an attempt, and
 * the sweeper's pass over rows whose resend is due (per tenant, FOR
 * UPDATE SKIP LOCKED, so replicas share the work and a row is sent by one
 * of them at a time). */
#ifndef A_EMIT_STORE_H
#define A_EMIT_STORE_H

#include <stddef.h>
#include <stdint.h>
#include "med/emit_ack.h"
#include "med/pg.h"

/* The recorded result of one attempt. */
typedef struct a_emit_result {
    const char *opportunity_key, *contract_version, *event_key;
    const med_emit_ack *ack;      /* status, reason, when, next resend (0 = none) */
} a_emit_result;

/* Registers the statements (once per connection handle). */
med_rc a_emit_store_prepare(med_pg *pg, med_err *err);

/* The outcomes of first attempts of one tenant, in one statement. */
med_rc a_emit_store_results(med_pg *pg, const char *tenant_id, const a_emit_result *const *rs,
                            size_t n, med_err *err);

/* A row whose resend is due; strings point into the query result. */
typedef struct a_emit_due {
    const char *tenant_id, *app_id, *placement_id, *opportunity_key, *request_key;
    const char *trace_key, *anchor_hash, *contract_version, *event_key, *idempotency_key;
    int attempts;                 /* attempts made so far */
    int64_t first_attempt_ms;
    const uint8_t *payload;       /* the StageAudit sent before; NULL if gone */
    size_t payload_len;
} a_emit_due;

/* Resends one due row and fills *ack. */
typedef void (*a_emit_resend_fn)(void *ud, const a_emit_due *row, med_emit_ack *ack);

/* Tenants with resends due at now_ms (at most max_tenants), then for each
 * tenant up to per_tenant rows in one transaction: locked, resent through
 * fn, updated. *handled = rows resent. */
med_rc a_emit_store_sweep(med_pg *pg, int64_t now_ms, int max_tenants, int per_tenant,
                          a_emit_resend_fn fn, void *ud, int *handled, med_err *err);

#endif
