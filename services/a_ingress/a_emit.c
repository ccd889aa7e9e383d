#include "a_emit.h"

#include <stdio.h>
#include <string.h>

#include "a_event.h"
#include "med/emit_digest.h"
#include "med/emit_publish.h"
#include "med/ids.h"
#include "med/names.h"
#include "med/reason.h"

med_rc a_emit_digest_of(const Mediation__V1__StageAudit *audit, char digest[65],
                        const char **missing, med_err *err)
{
    const Mediation__V1__OpportunityCreatedEventLite *ev =
        audit && audit->snapshot_case == MEDIATION__V1__STAGE_AUDIT__SNAPSHOT_A_AUDIT &&
                audit->a_audit
            ? audit->a_audit->opportunity_created_event_lite
            : NULL;
    digest[0] = '\0';
    *missing = a_event_missing_field(ev);
    if (*missing) return MED_OK;
    return a_event_digest(ev, digest, err);
}

static natsMsg *event_msg(const char *subject, const uint8_t *payload, size_t len,
                          const med_trace_headers *h, med_err *err)
{
    natsMsg *m = NULL;
    if (med_js_msg_new(subject, payload, (int)len, NULL, &m, err) != MED_OK) return NULL;
    if (h && med_headers_write(m, h, err) != MED_OK) {
        natsMsg_Destroy(m);
        return NULL;
    }
    return m;
}

void a_emit_attempt(const a_emit_ctx *c, const uint8_t *payload, size_t len,
                    const med_trace_headers *h, const char *idempotency_key,
                    const char *digest, const char *missing, int attempt,
                    int64_t first_attempt_ms, med_emit_ack *ack)
{
    med_log_ctx lc = { .trace_id = h ? h->trace_key : NULL,
                       .request_id = h ? h->request_key : NULL,
                       .tenant_id = h ? h->tenant : NULL };
    if (missing) {
        med_emit_ack_decide(&a_event_codes, MED_EMIT_CONTRACT_INVALID, attempt, first_attempt_ms,
                            med_now_unix_ms(), c->window_ms, ack);
        med_emit_count(MED_STAGE_A, ack->ack_reason_code);
        lc.error_code = ack->ack_reason_code;
        MED_LOGW(&lc, "opportunity_created %s not sent: %s missing", idempotency_key, missing);
        return;
    }
    char key[256];
    med_emit_digest_key(c->app_env, MED_STAGE_A, "oc", idempotency_key, key, sizeof key);
    med_err e;
    med_err_clear(&e);
    natsMsg *m = event_msg(c->subject, payload, len, h, &e);
    if (!m) {
        /* Nothing went out: retry by the ladder like a publish failure. */
        med_emit_ack_decide(&a_event_codes, MED_EMIT_RETRYABLE, attempt, first_attempt_ms,
                            med_now_unix_ms(), c->window_ms, ack);
        med_emit_count(MED_STAGE_A, ack->ack_reason_code);
        return;
    }
    med_emit_event ev = {
        .stage = MED_STAGE_A, .codes = &a_event_codes, .msg = m, .msg_id = idempotency_key,
        .digest = digest, .digest_key = key, .window_ms = c->window_ms, .attempt = attempt,
        .first_attempt_at_ms = first_attempt_ms, .log = &lc,
    };
    med_emit_try(c->js, c->redis, &ev, ack);
    natsMsg_Destroy(m);
}

/* The trace headers of a stored row; the traceparent comes from the
 * stored event's own trace context, so a resend joins the request's trace
 * like attempt 1 did. */
static void row_headers(const a_emit_due *row, const Mediation__V1__StageAudit *audit,
                        med_trace_headers *h)
{
    memset(h, 0, sizeof *h);
    snprintf(h->tenant, sizeof h->tenant, "%s", row->tenant_id);
    snprintf(h->app, sizeof h->app, "%s", row->app_id);
    snprintf(h->placement, sizeof h->placement, "%s", row->placement_id);
    snprintf(h->trace_key, sizeof h->trace_key, "%s", row->trace_key);
    snprintf(h->request_key, sizeof h->request_key, "%s", row->request_key);
    snprintf(h->opportunity_key, sizeof h->opportunity_key, "%s", row->opportunity_key);
    snprintf(h->anchor_hash, sizeof h->anchor_hash, "%s", row->anchor_hash);
    if (audit && audit->trace && audit->trace->traceparent)
        snprintf(h->traceparent, sizeof h->traceparent, "%s", audit->trace->traceparent);
}

void a_emit_resend(void *ud, const a_emit_due *row, med_emit_ack *ack)
{
    const a_emit_ctx *c = ud;
    Mediation__V1__StageAudit *audit =
        row->payload ? mediation__v1__stage_audit__unpack(NULL, row->payload_len, row->payload)
                     : NULL;
    med_trace_headers h;
    row_headers(row, audit, &h);
    char digest[65];
    const char *missing = "payload";
    med_err e;
    med_err_clear(&e);
    if (audit && a_emit_digest_of(audit, digest, &missing, &e) != MED_OK) missing = "payload";
    /* A stored event must still be the row's: same idempotency key. */
    if (!missing && strcmp(audit->a_audit->opportunity_created_event_lite->event_idempotency_key,
                           row->idempotency_key) != 0)
        missing = "eventIdempotencyKey";
    a_emit_attempt(c, row->payload, row->payload_len, &h, row->idempotency_key, digest, missing,
                   row->attempts + 1, row->first_attempt_ms, ack);
    if (audit) mediation__v1__stage_audit__free_unpacked(audit, NULL);
}
