/* GET decision audit -> StageAudit on med.audit.h.v1. */
#include "h_get_audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "med/names.h"
#include "med/reason.h"

#define AUDIT_SUBJECT MED_SUBJ_AUDIT_PREFIX MED_STAGE_H MED_SUBJ_VERSION_SUFFIX

static char *jstr(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return (char *)(s ? s : "");
}

/* The typed lite: the scalar members; the full object (path, digests)
 * travels in snapshot_json. */
static void fill_lite(const h_get_decisions *d, Mediation__V1__HConfigDecisionAuditSnapshotLite *l,
                      int64_t now_ms)
{
    const json_t *f = d->audit_full;
    l->snapshot_id = (char *)d->snapshot_id;
    l->request_key = jstr(f, "requestKey");
    l->trace_key = jstr(f, "traceKey");
    l->resolve_id = jstr(f, "resolveId");
    l->config_key = jstr(f, "configKey");
    l->decision_action = (char *)d->action;
    l->primary_reason_code = (char *)d->primary;
    l->n_secondary_reason_codes = d->n_secondary;
    l->secondary_reason_codes = (char **)d->secondary;
    l->generated_at_unix_ms = now_ms;
    l->config_decision_audit_contract_version = H_GET_DECISION_CONTRACT;
}

med_rc h_get_audit_pack(const h_get_decisions *d, const Mediation__V1__TraceContext *trace,
                        const char *instance, const char *audit_id, int64_t now_ms,
                        uint8_t **out, size_t *len, med_err *err)
{
    *out = NULL;
    char *full = json_dumps(d->audit_full, JSON_COMPACT);
    if (!full) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "audit json");
    Mediation__V1__HConfigDecisionAuditSnapshotLite lite =
        MEDIATION__V1__HCONFIG_DECISION_AUDIT_SNAPSHOT_LITE__INIT;
    fill_lite(d, &lite, now_ms);
    Mediation__V1__HStageAuditLite h = MEDIATION__V1__HSTAGE_AUDIT_LITE__INIT;
    h.h_config_decision_audit_snapshot_lite = &lite;
    Mediation__V1__StageAudit a = MEDIATION__V1__STAGE_AUDIT__INIT;
    a.trace = (Mediation__V1__TraceContext *)trace;
    a.stage = MED_STAGE_H;
    a.kind = "decision";
    a.primary_reason_code = (char *)d->primary;
    a.n_secondary_reason_codes = d->n_secondary;
    a.secondary_reason_codes = (char **)d->secondary;
    a.anchor_hash = "NA"; /* no anchors at GET time (decisions 25) */
    a.started_at_unix_ms = a.finished_at_unix_ms = a.emitted_at_unix_ms = now_ms;
    a.audit_id = (char *)audit_id;
    a.instance = (char *)(instance ? instance : "");
    a.decision_action = (char *)d->action;
    a.snapshot_case = MEDIATION__V1__STAGE_AUDIT__SNAPSHOT_H_AUDIT;
    a.h_audit = &h;
    a.snapshot_type = H_GET_AUDIT_SNAPSHOT_TYPE;
    a.snapshot_json = (ProtobufCBinaryData){ strlen(full), (uint8_t *)full };
    *len = mediation__v1__stage_audit__get_packed_size(&a);
    *out = malloc(*len ? *len : 1);
    if (*out) mediation__v1__stage_audit__pack(&a, *out);
    free(full);
    return *out ? MED_OK : med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "audit");
}

med_rc h_get_audit_publish(med_js *js, const h_get_decisions *d,
                           const Mediation__V1__TraceContext *trace, const char *instance,
                           int http_status, int64_t now_ms, med_err *err)
{
    if (!js || !d->audit_full) return MED_OK;
    /* One audit per answer: the snapshotId repeats for equal inputs, so the
     * answer's status and time keep repeated GETs apart in the dup window. */
    char id[96];
    snprintf(id, sizeof id, "h_get_audit:%s:%d:%lld", d->snapshot_id, http_status,
             (long long)now_ms);
    uint8_t *buf = NULL;
    size_t len = 0;
    med_rc rc = h_get_audit_pack(d, trace, instance, id, now_ms, &buf, &len, err);
    if (rc != MED_OK) return rc;
    natsMsg *m = NULL;
    rc = med_js_msg_new(AUDIT_SUBJECT, buf, (int)len, NULL, &m, err);
    free(buf);
    if (rc != MED_OK) return rc;
    rc = med_js_publish_async(js, m, id, err);
    if (rc != MED_OK) natsMsg_Destroy(m); /* ownership passes only on MED_OK */
    return rc;
}
