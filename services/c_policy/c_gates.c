#include "c_gates.h"

#include <stdio.h>
#include <string.h>
#include "med/reason.h"

static const char *or_default(const char *configured, const char *def)
{
    return configured && configured[0] ? configured : def;
}

static c_risk degrade_risk(const char *configured, c_risk def)
{
    c_risk r = c_risk_parse(configured);
    return r ? r : def;
}

static void result(c_gate_result *out, const char *gate, c_action action, const char *rule_id,
                   c_risk risk, const char *code)
{
    memset(out, 0, sizeof *out);
    out->gate = gate;
    out->action = action;
    c_copy(out->rule_id, sizeof out->rule_id, rule_id);
    out->risk = risk;
    out->reason_code = code;
}

/* An allow carries no risk of its own; "low" keeps the field meaningful. */
static void allow(c_gate_result *out, const char *gate, const char *configured, const char *def)
{
    result(out, gate, C_ACT_ALLOW, or_default(configured, def), C_RISK_LOW, MED_R_C_POLICY_PASS);
}

void c_gate_compliance(const Mediation__V1__ComplianceGateRule *rule,
                       const Mediation__V1__OpportunityContext *oc, c_gate_result *out)
{
    const Mediation__V1__ComplianceGateRule none = MEDIATION__V1__COMPLIANCE_GATE_RULE__INIT;
    if (!rule) rule = &none;
    int outcome_blocked = oc && oc->decision_outcome &&
                          strcmp(oc->decision_outcome, "opportunity_blocked_by_policy") == 0;
    if (rule->hard_blocked || outcome_blocked)
        result(out, C_GATE_COMPLIANCE, C_ACT_BLOCK,
               or_default(rule->rule_id, "compliance_hard_block_rule"), C_RISK_HIGH,
               MED_R_C_COMPLIANCE_HARD_BLOCK);
    else if (rule->degrade)
        result(out, C_GATE_COMPLIANCE, C_ACT_DEGRADE,
               or_default(rule->degrade_rule_id, "compliance_degrade_rule"),
               degrade_risk(rule->degrade_risk_level, C_RISK_MEDIUM), MED_R_C_POLICY_DEGRADED_PASS);
    else
        allow(out, C_GATE_COMPLIANCE, rule->allow_rule_id, "compliance_allow_rule");
}

static int scope_blocked(const Mediation__V1__ConsentAuthGateRule *rule, const char *scope)
{
    if (rule->n_blocked_consent_scopes == 0) return strcmp(scope, "consent_denied") == 0;
    for (size_t i = 0; i < rule->n_blocked_consent_scopes; i++)
        if (strcmp(rule->blocked_consent_scopes[i], scope) == 0) return 1;
    return 0;
}

void c_gate_consent_auth(const Mediation__V1__ConsentAuthGateRule *rule, const char *consent_scope,
                         c_gate_result *out)
{
    const Mediation__V1__ConsentAuthGateRule none = MEDIATION__V1__CONSENT_AUTH_GATE_RULE__INIT;
    if (!rule) rule = &none;
    const char *scope = consent_scope ? consent_scope : "";
    int degrade_on_limited = rule->degrade_on_limited_opt_case ? rule->degrade_on_limited : 1;
    int limited = strcmp(scope, "consent_limited") == 0 ||
                  strcmp(scope, "unknown_consent_scope") == 0;
    if (scope_blocked(rule, scope)) {
        result(out, C_GATE_CONSENT, C_ACT_BLOCK,
               or_default(rule->rule_id, "consent_scope_block_rule"), C_RISK_HIGH,
               MED_R_C_CONSENT_SCOPE_BLOCKED);
    } else if (limited && degrade_on_limited) {
        result(out, C_GATE_CONSENT, C_ACT_DEGRADE,
               or_default(rule->degrade_rule_id, "consent_scope_degrade_rule"),
               degrade_risk(rule->degrade_risk_level, C_RISK_MEDIUM), MED_R_C_POLICY_DEGRADED_PASS);
        out->non_personalized_only = 1;
    } else {
        allow(out, C_GATE_CONSENT, rule->allow_rule_id, "consent_scope_allow_rule");
    }
}

void c_gate_frequency_cap(const Mediation__V1__FrequencyCapGateRule *rule, int64_t count,
                          c_gate_result *out)
{
    const Mediation__V1__FrequencyCapGateRule none = MEDIATION__V1__FREQUENCY_CAP_GATE_RULE__INIT;
    if (!rule) rule = &none;
    if (rule->hard_cap_opt_case && count > rule->hard_cap)
        result(out, C_GATE_FREQUENCY, C_ACT_BLOCK,
               or_default(rule->rule_id, "frequency_hard_cap_rule"), C_RISK_HIGH,
               MED_R_C_FREQUENCY_HARD_CAP_BLOCK);
    else if (rule->degrade_threshold_opt_case && count >= rule->degrade_threshold)
        result(out, C_GATE_FREQUENCY, C_ACT_DEGRADE,
               or_default(rule->degrade_rule_id, "frequency_degrade_rule"),
               degrade_risk(rule->degrade_risk_level, C_RISK_MEDIUM),
               MED_R_C_FREQUENCY_SOFT_CAP_DEGRADE);
    else
        allow(out, C_GATE_FREQUENCY, rule->allow_rule_id, "frequency_allow_rule");
}

/* The first flag, in input order, that the list names; NULL if none. */
static const char *first_match(char *const *flags, size_t n_flags, char *const *list, size_t n)
{
    for (size_t i = 0; i < n_flags; i++)
        for (size_t j = 0; j < n; j++)
            if (flags[i] && list[j] && strcmp(flags[i], list[j]) == 0) return flags[i];
    return NULL;
}

void c_gate_category(const Mediation__V1__CategoryGateRule *rule, char *const *flags,
                     size_t n_flags, c_gate_result *out)
{
    const Mediation__V1__CategoryGateRule none = MEDIATION__V1__CATEGORY_GATE_RULE__INIT;
    if (!rule) rule = &none;
    char name[C_RULE_ID_MAX];
    const char *hit =
        first_match(flags, n_flags, rule->hard_blocked_categories, rule->n_hard_blocked_categories);
    if (hit) {
        snprintf(name, sizeof name, "category_block_%s", hit);
        result(out, C_GATE_CATEGORY, C_ACT_BLOCK, or_default(rule->rule_id, name), C_RISK_HIGH,
               MED_R_C_CATEGORY_RESTRICTED_BLOCK);
        return;
    }
    hit = first_match(flags, n_flags, rule->degraded_categories, rule->n_degraded_categories);
    if (hit) {
        snprintf(name, sizeof name, "category_degrade_%s", hit);
        result(out, C_GATE_CATEGORY, C_ACT_DEGRADE, or_default(rule->degrade_rule_id, name),
               degrade_risk(rule->degrade_risk_level, C_RISK_LOW), MED_R_C_CATEGORY_SOFT_RISK_DEGRADE);
        return;
    }
    allow(out, C_GATE_CATEGORY, rule->allow_rule_id, "category_allow_rule");
}

void c_guard_snapshot_expired(c_gate_result *out)
{
    result(out, C_GATE_SNAPSHOT_GUARD, C_ACT_DEGRADE, "snapshot_expired_fail_open_rule",
           C_RISK_MEDIUM, MED_R_C_POLICY_SNAPSHOT_EXPIRED);
}
