/* A.6 / A.7 / A.8 tables. */
#include "a_rules.h"

#include <string.h>

#include "a_types.h"
#include "med/reason.h"

void a_config_classify(med_rconfig_status st, a_config_outcome *out)
{
    memset(out, 0, sizeof *out);
    out->scenario = "";
    out->failure_mode = "";
    switch (st) {
    case MED_RCFG_FRESH:
    case MED_RCFG_PIN_MISSED:   /* A never pins: the current entry is what it asked for */
        out->has_snapshot = 1;
        return;
    case MED_RCFG_STALE_TIMEOUT:
        *out = (a_config_outcome){"config_timeout", "fail_open",
                                  MED_R_A_TRG_CONFIG_TIMEOUT_WITH_SNAPSHOT,
                                  MED_R_H_CFG_FAIL_OPEN_TIMEOUT_STALE_GRACE, 0, 1};
        return;
    case MED_RCFG_STALE_UNAVAILABLE:
        *out = (a_config_outcome){"config_unavailable", "fail_open",
                                  MED_R_A_TRG_CONFIG_UNAVAILABLE_WITH_SNAPSHOT,
                                  MED_R_H_CFG_FAIL_OPEN_UNAVAILABLE_STABLE_SNAPSHOT, 0, 1};
        return;
    case MED_RCFG_NONE_TIMEOUT:
        *out = (a_config_outcome){"config_timeout", "fail_closed",
                                  MED_R_A_TRG_CONFIG_TIMEOUT_NO_SNAPSHOT,
                                  MED_R_H_CFG_FAIL_CLOSED_NO_STABLE_SNAPSHOT, 1, 0};
        return;
    case MED_RCFG_NONE_UNAVAILABLE:
        *out = (a_config_outcome){"config_unavailable", "fail_closed",
                                  MED_R_A_TRG_CONFIG_UNAVAILABLE_NO_SNAPSHOT,
                                  MED_R_H_CFG_FAIL_CLOSED_NO_STABLE_SNAPSHOT, 1, 0};
        return;
    case MED_RCFG_VERSION_INVALID:
    default:
        *out = (a_config_outcome){"config_version_invalid", "fail_closed",
                                  MED_R_A_TRG_CONFIG_VERSION_INVALID,
                                  MED_R_H_CFG_FAIL_CLOSED_VERSION_INVALID, 1, 0};
        return;
    }
}

void a_budget_check(int64_t received_at_ms, int64_t now_ms, int64_t soft_ms, int64_t hard_ms,
                    a_budget *out)
{
    out->elapsed_ms = now_ms - received_at_ms;
    if (out->elapsed_ms < 0) out->elapsed_ms = 0;
    out->soft_ms = soft_ms;
    out->hard_ms = hard_ms;
    if (out->elapsed_ms > hard_ms) {
        out->latency_decision = "hard_exceeded";
        out->latency_reason_code = MED_R_A_TRG_HARD_BUDGET_EXCEEDED;
    } else if (out->elapsed_ms > soft_ms) {
        out->latency_decision = "soft_exceeded";
        out->latency_reason_code = MED_R_A_TRG_SOFT_BUDGET_EXCEEDED;
    } else {
        out->latency_decision = "within_soft";
        out->latency_reason_code = NULL;
    }
}

typedef struct code_row {
    const char *code;
    a_code_class cls;
} code_row;

static const code_row code_rows[] = {
    {MED_R_A_TRG_MISSING_REQUIRED_FIELD, {A_ACT_REJECT, A_ERR_REJECT, 0}},
    {MED_R_A_TRG_INVALID_CONTEXT_STRUCTURE, {A_ACT_REJECT, A_ERR_REJECT, 0}},
    {MED_R_A_TRG_INVALID_PLACEMENT_ID, {A_ACT_REJECT, A_ERR_REJECT, 0}},
    {MED_R_A_TRG_INVALID_TRIGGER_TYPE, {A_ACT_REJECT, A_ERR_REJECT, 0}},
    {MED_R_A_TRG_DUPLICATE_INFLIGHT, {A_ACT_NO_OP, A_ERR_ALLOW, 0}},
    {MED_R_A_TRG_DUPLICATE_REUSED_RESULT, {A_ACT_NO_OP, A_ERR_ALLOW, 0}},
    {MED_R_A_TRG_SOFT_BUDGET_EXCEEDED, {A_ACT_CREATE, A_ERR_DEGRADE, 0}},
    {MED_R_A_TRG_CONFIG_TIMEOUT_WITH_SNAPSHOT, {A_ACT_CREATE, A_ERR_DEGRADE, 0}},
    {MED_R_A_TRG_CONFIG_UNAVAILABLE_WITH_SNAPSHOT, {A_ACT_CREATE, A_ERR_DEGRADE, 0}},
    {MED_R_A_TRG_HARD_BUDGET_EXCEEDED, {A_ACT_REJECT, A_ERR_REJECT, 0}},
    {MED_R_A_TRG_CONFIG_TIMEOUT_NO_SNAPSHOT, {A_ACT_REJECT, A_ERR_REJECT, 0}},
    {MED_R_A_TRG_CONFIG_UNAVAILABLE_NO_SNAPSHOT, {A_ACT_REJECT, A_ERR_REJECT, 0}},
    {MED_R_A_TRG_CONFIG_VERSION_INVALID, {A_ACT_REJECT, A_ERR_REJECT, 0}},
    {MED_R_A_TRG_INTERNAL_UNAVAILABLE, {A_ACT_REJECT, A_ERR_REJECT, 1}},
};

int a_code_classify(const char *code, a_code_class *out)
{
    if (!code) return -1;
    for (size_t i = 0; i < sizeof code_rows / sizeof code_rows[0]; i++)
        if (strcmp(code_rows[i].code, code) == 0) {
            *out = code_rows[i].cls;
            return 0;
        }
    if (strncmp(code, "a_trg_map_", 10) == 0) {
        *out = (a_code_class){NULL, A_ERR_ALLOW, 0};
        return 0;
    }
    return -1;
}
