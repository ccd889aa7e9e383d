#include "g_archive_check.h"

#include "g_archive_state.h"
#include "med/reason.h"

static int blank(const char *s) { return !s || !*s; }

static med_rc missing(med_err *err, const char *field)
{
    return med_err_set(err, MED_ERR_INVALID, MED_R_G_INGEST_INVALID_RECORD, field,
                       "archive record without %s", field);
}

/* Only the source key the order gate groups by is required: F sends the
 * decision_audit of an event it rejected for missing keys, and that audit
 * must still be archived. */
static med_rc check_keys(const Mediation__V1__FToGArchiveRecordLite *r, med_err *err)
{
    if (!r->payload_ref) return missing(err, "record.payloadRef");
    if (blank(r->payload_ref->payload_type)) return missing(err, "record.payloadRef.payloadType");
    if (blank(r->payload_ref->payload_key)) return missing(err, "record.payloadRef.payloadKey");
    if (!r->source_keys) return missing(err, "record.sourceKeys");
    if (blank(r->source_keys->trace_key)) return missing(err, "record.sourceKeys.traceKey");
    if (!r->relation_keys) return missing(err, "record.relationKeys");
    if (blank(r->relation_keys->canonical_dedup_key))
        return missing(err, "record.relationKeys.canonicalDedupKey");
    return MED_OK;
}

static med_rc check_anchors(const Mediation__V1__ArchiveVersionAnchorsLite *a, med_err *err)
{
    if (!a) return missing(err, "record.versionAnchors");
    if (blank(a->event_contract_version)) return missing(err, "record.versionAnchors.eventContractVersion");
    if (blank(a->mapping_rule_version)) return missing(err, "record.versionAnchors.mappingRuleVersion");
    if (blank(a->dedup_fingerprint_version))
        return missing(err, "record.versionAnchors.dedupFingerprintVersion");
    if (blank(a->closure_rule_version)) return missing(err, "record.versionAnchors.closureRuleVersion");
    if (blank(a->billing_rule_version)) return missing(err, "record.versionAnchors.billingRuleVersion");
    if (blank(a->archive_contract_version))
        return missing(err, "record.versionAnchors.archiveContractVersion");
    return MED_OK;
}

med_rc g_archive_check(const Mediation__V1__ArchiveRecord *rec, med_err *err)
{
    const Mediation__V1__FToGArchiveRecordLite *r = rec ? rec->record : NULL;
    if (!r) return missing(err, "record");
    if (blank(r->record_key)) return missing(err, "record.recordKey");
    g_record_type t;
    if (g_record_type_parse(r->record_type, &t) != 0) return missing(err, "record.recordType");
    g_record_status s;
    if (g_record_status_parse(r->record_status, &s) != 0) return missing(err, "record.recordStatus");
    med_rc rc = check_keys(r, err);
    if (rc == MED_OK) rc = check_anchors(r->version_anchors, err);
    if (rc != MED_OK) return rc;
    if (blank(r->decision_reason_code)) return missing(err, "record.decisionReasonCode");
    if (r->output_at_unix_ms <= 0) return missing(err, "record.outputAt");
    return MED_OK;
}
