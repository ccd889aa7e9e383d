#include "g_audit_row.h"

#include <stdlib.h>
#include <jansson.h>
#include <string.h>

#include "med/reason.h"

static const char *nz(const char *a, const char *b)
{
    if (a && *a) return a;
    return b && *b ? b : NULL;
}

med_rc g_audit_row_build(const Mediation__V1__StageAudit *a, const med_trace_headers *h,
                         const char *msg_id, g_audit_row *out, med_err *err)
{
    memset(out, 0, sizeof *out);
    const Mediation__V1__TraceContext *tc = a->trace;
    /* The tenant travels in the header every stage copies; the trace
     * context is the fallback for a producer that only filled that. */
    out->tenant_id = nz(h->tenant, tc ? tc->tenant_id : NULL);
    if (!out->tenant_id)
        return med_err_set(err, MED_ERR_INVALID, MED_R_G_APPEND_MISSING_REQUIRED, "tenant",
                           "audit without a tenant cannot be stored");
    out->idempotency_key = nz(a->audit_id, msg_id);
    if (!out->idempotency_key)
        return med_err_set(err, MED_ERR_INVALID, MED_R_G_APPEND_MISSING_REQUIRED, "auditId",
                           "audit without an id cannot be stored idempotently");
    out->app_id = nz(h->app, tc ? tc->app_id : NULL);
    out->placement_id = nz(h->placement, tc ? tc->placement_id : NULL);
    out->audit_kind = nz(a->kind, "decision");
    out->stage = nz(a->stage, NULL);
    out->reason_code = nz(a->primary_reason_code, NULL);
    out->outcome = nz(a->decision_action, NULL);
    out->trace_key = nz(tc ? tc->trace_key : NULL, h->trace_key);
    out->request_key = nz(tc ? tc->request_key : NULL, h->request_key);
    out->opportunity_key = nz(tc ? tc->opportunity_key : NULL, h->opportunity_key);
    out->attempt_key = nz(a->decision_point ? a->decision_point->attempt_key : NULL,
                          tc ? tc->attempt_key : NULL);
    if (a->decision_point && a->decision_point->response_reference_or_na_opt_case ==
            MEDIATION__V1__DECISION_POINT_LITE__RESPONSE_REFERENCE_OR_NA_OPT_RESPONSE_REFERENCE_OR_NA)
        out->response_reference = nz(a->decision_point->response_reference_or_na, NULL);
    if (!out->response_reference && tc) out->response_reference = nz(tc->response_reference, NULL);
    out->anchor_hash = nz(a->anchor_hash, h->anchor_hash);
    json_t *j = json_pack("{s:s?, s:s?, s:s?, s:s?}", "stage", out->stage, "kind", out->audit_kind,
                          "primaryReasonCode", out->reason_code, "decisionAction", out->outcome);
    out->payload = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!out->payload)
        return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "audit payload");
    return MED_OK;
}

med_rc g_audit_row_set_bytes(g_audit_row *r, const uint8_t *data, size_t len, med_err *err)
{
    static const char hex[] = "0123456789abcdef";
    free(r->payload_pb_hex);
    r->payload_pb_hex = malloc(len * 2 + 1);
    if (!r->payload_pb_hex)
        return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "audit bytes");
    for (size_t i = 0; i < len; i++) {
        r->payload_pb_hex[2 * i] = hex[data[i] >> 4];
        r->payload_pb_hex[2 * i + 1] = hex[data[i] & 15];
    }
    r->payload_pb_hex[len * 2] = '\0';
    return MED_OK;
}

void g_audit_row_free(g_audit_row *r)
{
    if (!r) return;
    free(r->payload);
    free(r->payload_pb_hex);
    r->payload = NULL;
    r->payload_pb_hex = NULL;
}
