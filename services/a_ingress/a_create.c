/* A.8 createOpportunity checks, first failure wins in the spec's order. */
#include "a_create.h"

#include <string.h>

#include "a_types.h"
#include "med/ids.h"
#include "med/reason.h"

static int empty(const char *s)
{
    return !s || !*s;
}

static const char *fail(const char **field, const char *f, const char *code)
{
    *field = f;
    return code;
}

static const char *check_imps(const Mediation__V1__CreateOpportunityInputLite *in,
                              const char **field)
{
    if (in->n_imp_seed == 0) return fail(field, "impSeed", MED_R_A_COP_IMP_SEED_EMPTY);
    for (size_t i = 0; i < in->n_imp_seed; i++) {
        const Mediation__V1__ImpSeedLite *imp = in->imp_seed[i];
        if (!imp || empty(imp->imp_key) || empty(imp->placement_id) ||
            empty(imp->placement_type) || imp->slot_index < 0)
            return fail(field, "impSeed", MED_R_A_COP_MISSING_REQUIRED_FIELD);
    }
    return NULL;
}

static const char *check_keys(const Mediation__V1__CreateOpportunityInputLite *in,
                              const char **field)
{
    if (empty(in->request_key)) return fail(field, "requestKey", MED_R_A_COP_MISSING_REQUIRED_FIELD);
    if (empty(in->opportunity_key))
        return fail(field, "opportunityKey", MED_R_A_COP_MISSING_REQUIRED_FIELD);
    if (!med_key_format_valid(in->request_key))
        return fail(field, "requestKey", MED_R_A_COP_INVALID_KEY_FORMAT);
    if (!med_key_format_valid(in->opportunity_key))
        return fail(field, "opportunityKey", MED_R_A_COP_INVALID_KEY_FORMAT);
    for (size_t i = 0; i < in->n_imp_seed; i++)
        if (!med_key_format_valid(in->imp_seed[i]->imp_key))
            return fail(field, "impSeed.impKey", MED_R_A_COP_INVALID_KEY_FORMAT);
    return NULL;
}

static const char *check_trace(const Mediation__V1__CreateOpportunityInputLite *in,
                               const char **field)
{
    const Mediation__V1__TraceInitLite *t = in->trace_init;
    if (!t || empty(t->trace_key) || empty(t->request_key) || empty(t->attempt_key))
        return fail(field, "traceInit", MED_R_A_COP_MISSING_REQUIRED_FIELD);
    if (strcmp(t->request_key, in->request_key) != 0)
        return fail(field, "traceInit.requestKey", MED_R_A_COP_TRACE_REQUEST_MISMATCH);
    return NULL;
}

const char *a_create_check(const Mediation__V1__CreateOpportunityInputLite *in,
                           const char **field)
{
    *field = "";
    if (!in) return fail(field, "", MED_R_A_COP_MISSING_REQUIRED_FIELD);
    if (empty(in->create_opportunity_contract_version) ||
        strcmp(in->create_opportunity_contract_version, A_VER_CREATE_OPPORTUNITY) != 0)
        return fail(field, "createOpportunityContractVersion", MED_R_A_COP_MISSING_REQUIRED_FIELD);
    if (empty(in->schema_version)) return fail(field, "schemaVersion", MED_R_A_COP_MISSING_REQUIRED_FIELD);
    if (empty(in->state) || strcmp(in->state, A_STATE_RECEIVED) != 0)
        return fail(field, "state", MED_R_A_COP_MISSING_REQUIRED_FIELD);
    const Mediation__V1__OpportunityTimestamps *ts = in->timestamps;
    if (!ts || ts->request_at_unix_ms <= 0 || ts->trigger_at_unix_ms <= 0 ||
        ts->opportunity_created_at_unix_ms <= 0)
        return fail(field, "timestamps", MED_R_A_COP_MISSING_REQUIRED_FIELD);
    if (ts->request_at_unix_ms > ts->trigger_at_unix_ms ||
        ts->trigger_at_unix_ms > ts->opportunity_created_at_unix_ms)
        return fail(field, "timestamps", MED_R_A_COP_TIMESTAMP_ORDER_INVALID);
    const char *code;
    if ((code = check_imps(in, field)) || (code = check_keys(in, field)) ||
        (code = check_trace(in, field)))
        return code;
    return MED_R_A_COP_CREATED;
}

void a_create_result(const char *reason_code, const char *opportunity_ref,
                     Mediation__V1__TraceInitLite *trace_init, int64_t now_ms,
                     Mediation__V1__CreateOpportunityResultLite *res)
{
    mediation__v1__create_opportunity_result_lite__init(res);
    int created = strcmp(reason_code, MED_R_A_COP_CREATED) == 0;
    int dup = strcmp(reason_code, MED_R_A_COP_DUPLICATE_OPPORTUNITY_KEY) == 0;
    res->create_accepted = created || dup;
    res->create_action = (char *)(created ? "created" : dup ? "duplicate_noop" : "rejected");
    res->result_state = (char *)(res->create_accepted ? A_STATE_RECEIVED : "error");
    res->reason_code = (char *)reason_code;
    res->error_action = (char *)(res->create_accepted ? A_ERR_ALLOW : A_ERR_REJECT);
    if (res->create_accepted && opportunity_ref) {
        res->opportunity_ref_or_na_opt_case =
            MEDIATION__V1__CREATE_OPPORTUNITY_RESULT_LITE__OPPORTUNITY_REF_OR_NA_OPT_OPPORTUNITY_REF_OR_NA;
        res->opportunity_ref_or_na = (char *)opportunity_ref;
    }
    res->trace_init = trace_init;
    res->returned_at_unix_ms = now_ms;
    res->create_opportunity_contract_version = (char *)A_VER_CREATE_OPPORTUNITY;
}
