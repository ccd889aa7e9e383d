#include "b_audit.h"

#include <stdlib.h>
#include <string.h>

#include "med/reason.h"

static int by_slot(const void *x, const void *y)
{
    const Mediation__V1__MappingAuditRecordLite *a = *(void *const *)x, *b = *(void *const *)y;
    return strcmp(a->semantic_slot, b->semantic_slot);
}

void b_audit_sort(Mediation__V1__MappingAuditSnapshotLite *s)
{
    qsort(s->records, s->n_records, sizeof *s->records, by_slot);
}

static int blank(const char *s) { return !s || !s[0]; }

med_rc b_audit_validate(const Mediation__V1__MappingAuditSnapshotLite *s, med_err *err)
{
    if (!s || blank(s->trace_key) || blank(s->request_key) || blank(s->b_input_contract_version) ||
        blank(s->mapping_profile_version) || blank(s->enum_dict_version) ||
        blank(s->conflict_policy_version) || blank(s->redaction_policy_version) ||
        blank(s->bucket_dict_version))
        return med_err_set(err, MED_ERR_INVALID, MED_R_B_MAPPING_AUDIT_MISSING_SNAPSHOT_META,
                           "mappingAuditSnapshotLite", "mapping audit meta incomplete");
    for (size_t i = 0; i < s->n_records; i++) {
        const Mediation__V1__MappingAuditRecordLite *r = s->records[i];
        if (blank(r->semantic_slot) || r->n_raw_value == 0 || blank(r->normalized) ||
            blank(r->conflict_action) || blank(r->rule_version) || blank(r->reason_code) ||
            blank(r->source) || blank(r->mapping_action))
            return med_err_set(err, MED_ERR_INVALID, MED_R_B_MAPPING_AUDIT_MISSING_RECORD_FIELD,
                               r->semantic_slot ? r->semantic_slot : "records",
                               "mapping audit record incomplete");
    }
    return MED_OK;
}
