#include "c_input.h"

#include <ctype.h>
#include <string.h>
#include "med/reason.h"

static int empty(const char *s) { return !s || !s[0]; }

int c_is_anchor(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > 128) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!isalnum(c) && c != '_' && c != '.' && c != ':' && c != '-') return 0;
    }
    return 1;
}

/* ---------------- keys ---------------- */

static void pick_key(char *dst, const char *body, const char *fallback)
{
    if (!empty(body))
        c_copy(dst, C_KEY_MAX, body);
    else if (!empty(fallback))
        c_copy(dst, C_KEY_MAX, fallback);
    else
        c_copy(dst, C_KEY_MAX, C_NA);
}

void c_input_keys(const Mediation__V1__NormalizedOpportunity *msg, const c_header_keys *hdr,
                  c_keys *out)
{
    static const c_header_keys none = { 0 };
    if (!hdr) hdr = &none;
    const Mediation__V1__TraceContextBlock *tc =
        msg && msg->blocks ? msg->blocks->trace_context : NULL;
    pick_key(out->trace_key, tc ? tc->trace_key : NULL, hdr->trace_key);
    pick_key(out->request_key, tc ? tc->request_key : NULL, hdr->request_key);
    /* No header carries the attempt key; the transport trace does. */
    pick_key(out->attempt_key, tc ? tc->attempt_key : NULL,
             msg && msg->trace ? msg->trace->attempt_key : NULL);
    pick_key(out->opportunity_key, msg ? msg->opportunity_key : NULL, hdr->opportunity_key);
}

/* ---------------- check 1 (structure of the optional count) ---------------- */

static med_rc check_frequency_count(const Mediation__V1__NormalizedOpportunity *m, c_input *out,
                                    c_warnings *w, med_err *err)
{
    const Mediation__V1__PolicyContext *pc = m->blocks ? m->blocks->policy_context : NULL;
    const Mediation__V1__RequestMeta *rm = m->blocks ? m->blocks->request_meta : NULL;
    const char *path = NULL;
    if (pc && pc->frequency_count_opt_case) {
        out->frequency_count = pc->frequency_count;
        path = "blocks.policyContext.frequencyCount";
    } else if (rm && rm->frequency_count_opt_case) {
        out->frequency_count = rm->frequency_count;
        path = "blocks.requestMeta.frequencyCount";
    } else {
        out->frequency_count = 0;
        c_warnings_add(w, MED_R_C_OPTIONAL_MISSING_IGNORED, "blocks.policyContext.frequencyCount",
                       "default_applied", C_NA);
        return MED_OK;
    }
    if (out->frequency_count < 0)
        return med_err_set(err, MED_ERR_INVALID, MED_R_C_INVALID_STRUCTURE, path,
                           "frequencyCount %lld is not a non-negative integer",
                           (long long)out->frequency_count);
    return MED_OK;
}

/* ---------------- check 2 (required fields) ---------------- */

typedef struct req_field {
    const char *value;
    const char *path;
} req_field;

static med_rc missing(const char *path, med_err *err)
{
    return med_err_set(err, MED_ERR_INVALID, MED_R_C_MISSING_REQUIRED_FIELD, path,
                       "required field missing");
}

static med_rc check_fields(const req_field *f, size_t n, med_err *err)
{
    for (size_t i = 0; i < n; i++)
        if (empty(f[i].value)) return missing(f[i].path, err);
    return MED_OK;
}

static med_rc check_blocks_present(const Mediation__V1__CanonicalBlocks *b, med_err *err)
{
    if (!b) return missing("blocks", err);
    if (!b->request_meta) return missing("blocks.requestMeta", err);
    if (!b->placement_meta) return missing("blocks.placementMeta", err);
    if (!b->user_context) return missing("blocks.userContext", err);
    if (!b->opportunity_context) return missing("blocks.opportunityContext", err);
    if (!b->policy_context) return missing("blocks.policyContext", err);
    if (!b->trace_context) return missing("blocks.traceContext", err);
    return MED_OK;
}

static med_rc check_required(const Mediation__V1__NormalizedOpportunity *m, med_err *err)
{
    if (empty(m->opportunity_key)) return missing("opportunityKey", err);
    if (empty(m->state)) return missing("state", err);
    med_rc rc = check_blocks_present(m->blocks, err);
    if (rc != MED_OK) return rc;
    const Mediation__V1__CanonicalBlocks *b = m->blocks;
    const req_field f[] = {
        { b->request_meta->request_key, "blocks.requestMeta.requestKey" },
        { b->request_meta->channel_type, "blocks.requestMeta.channelType" },
        { b->placement_meta->placement_key, "blocks.placementMeta.placementKey" },
        { b->placement_meta->placement_type, "blocks.placementMeta.placementType" },
        { b->placement_meta->placement_surface, "blocks.placementMeta.placementSurface" },
        { b->user_context->session_key, "blocks.userContext.sessionKey" },
        { b->user_context->actor_type, "blocks.userContext.actorType" },
        { b->user_context->session_state, "blocks.userContext.sessionState" },
        { b->opportunity_context->trigger_decision, "blocks.opportunityContext.triggerDecision" },
        { b->opportunity_context->decision_outcome, "blocks.opportunityContext.decisionOutcome" },
        { b->opportunity_context->hit_type, "blocks.opportunityContext.hitType" },
        { b->policy_context->consent_scope, "blocks.policyContext.consentScope" },
        { b->trace_context->trace_key, "blocks.traceContext.traceKey" },
        { b->trace_context->request_key, "blocks.traceContext.requestKey" },
        { b->trace_context->attempt_key, "blocks.traceContext.attemptKey" },
    };
    rc = check_fields(f, sizeof f / sizeof f[0], err);
    if (rc != MED_OK) return rc;
    if (!m->normalization_summary) return missing("normalizationSummary", err);
    if (!m->mapping_audit_snapshot_lite) return missing("mappingAuditSnapshotLite", err);
    return MED_OK;
}

/* ---------------- check 3 (anchors) ---------------- */

static med_rc bad_anchor(const char *path, med_err *err)
{
    return med_err_set(err, MED_ERR_INVALID, MED_R_C_INVALID_VERSION_ANCHOR, path,
                       "version anchor missing, malformed or unknown");
}

static med_rc check_anchors(const Mediation__V1__NormalizedOpportunity *m, med_err *err)
{
    const Mediation__V1__NormalizationSummary *ns = m->normalization_summary;
    if (!c_is_anchor(m->schema_version)) return bad_anchor("schemaVersion", err);
    if (empty(m->c_input_contract_version) ||
        strcmp(m->c_input_contract_version, C_INPUT_CONTRACT_V1) != 0)
        return bad_anchor("cInputContractVersion", err);
    if (!c_is_anchor(ns->mapping_profile_version))
        return bad_anchor("normalizationSummary.mappingProfileVersion", err);
    if (!c_is_anchor(ns->enum_dict_version))
        return bad_anchor("normalizationSummary.enumDictVersion", err);
    if (!c_is_anchor(ns->conflict_policy_version))
        return bad_anchor("normalizationSummary.conflictPolicyVersion", err);
    return MED_OK;
}

/* ---------------- check 5 (canonical enums, B.4 / B.5 dictionaries) ---------------- */

static int in_set(const char *v, const char *const *set)
{
    for (size_t i = 0; set[i]; i++)
        if (strcmp(v, set[i]) == 0) return 1;
    return 0;
}

static const char *const k_decision[] = { "opportunity_eligible", "opportunity_ineligible",
                                          "opportunity_blocked_by_policy", NULL };
static const char *const k_hit_type[] = { "explicit_hit", "workflow_hit", "contextual_hit",
                                          "scheduled_hit", "policy_forced_hit", "no_hit", NULL };
static const char *const k_session_state[] = { "active", "resumed", "idle", "ended", NULL };
static const char *const k_consent[] = { "consent_granted", "consent_limited", "consent_denied",
                                         "unknown_consent_scope", NULL };
static const char *const k_channel[] = { "sdk_server", "sdk_client", "webhook", "batch",
                                         "unknown_channel_type", NULL };
static const char *const k_actor[] = { "human", "agent", "agent_chain", "system",
                                       "unknown_actor_type", NULL };
static const char *const k_placement[] = { "chat_inline", "tool_result", "workflow_checkpoint",
                                           "agent_handoff", "unknown_placement_type", NULL };
static const char *const k_placement_alias[] = { "in_message", "chat_inline_v1",
                                                 "chat_from_answer_v1", "tool_output",
                                                 "function_result", "workflow_step",
                                                 "agent_transfer", NULL };

static int is_token(const char *v)
{
    for (const char *p = v; *p; p++)
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '_') return 0;
    return v[0] != '\0';
}

/* Placement types are also defined by placement config documents (the
 * demo's native_feed), so besides B's canonical set any canonical-form
 * token passes unless it is one of B's raw aliases or another slot's
 * unknown_* value. */
static int placement_type_ok(const char *v)
{
    if (in_set(v, k_placement)) return 1;
    if (!is_token(v) || in_set(v, k_placement_alias)) return 0;
    if (strncmp(v, "chat_inline_", 12) == 0 || strncmp(v, "unknown_", 8) == 0) return 0;
    return 1;
}

static med_rc bad_enum(const char *path, const char *v, med_err *err)
{
    return med_err_set(err, MED_ERR_INVALID, MED_R_C_INVALID_REQUIRED_ENUM, path,
                       "value '%.64s' is not canonical", v);
}

static med_rc check_enums(const Mediation__V1__CanonicalBlocks *b, med_err *err)
{
    const struct {
        const char *v;
        const char *const *set;
        const char *path;
    } e[] = {
        { b->request_meta->channel_type, k_channel, "blocks.requestMeta.channelType" },
        { b->user_context->actor_type, k_actor, "blocks.userContext.actorType" },
        { b->user_context->session_state, k_session_state, "blocks.userContext.sessionState" },
        { b->opportunity_context->trigger_decision, k_decision,
          "blocks.opportunityContext.triggerDecision" },
        { b->opportunity_context->decision_outcome, k_decision,
          "blocks.opportunityContext.decisionOutcome" },
        { b->opportunity_context->hit_type, k_hit_type, "blocks.opportunityContext.hitType" },
        { b->policy_context->consent_scope, k_consent, "blocks.policyContext.consentScope" },
    };
    for (size_t i = 0; i < sizeof e / sizeof e[0]; i++)
        if (!in_set(e[i].v, e[i].set)) return bad_enum(e[i].path, e[i].v, err);
    if (!placement_type_ok(b->placement_meta->placement_type))
        return bad_enum("blocks.placementMeta.placementType", b->placement_meta->placement_type,
                        err);
    return MED_OK;
}

/* ---------------- check 7 (snapshot fields) ---------------- */

static med_rc bad_snapshot(const char *path, med_err *err)
{
    return med_err_set(err, MED_ERR_INVALID, MED_R_C_POLICY_SNAPSHOT_INVALID, path,
                       "policy snapshot field invalid");
}

static int is_config_hash(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > 128) return 0;
    for (size_t i = 0; i < n; i++)
        if (isspace((unsigned char)s[i])) return 0;
    return 1;
}

/* A rule's optional ids must be anchors and its risk a known level. */
static int rule_ok(const char *rule_id, const char *degrade_id, const char *allow_id,
                   const char *risk)
{
    if (!empty(rule_id) && !c_is_anchor(rule_id)) return 0;
    if (!empty(degrade_id) && !c_is_anchor(degrade_id)) return 0;
    if (!empty(allow_id) && !c_is_anchor(allow_id)) return 0;
    return empty(risk) || c_risk_parse(risk) != 0;
}

static int strings_ok(char *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (empty(v[i])) return 0;
    return 1;
}

static med_rc check_rules(const Mediation__V1__PolicyConstraintsLite *pc, med_err *err)
{
    const Mediation__V1__ComplianceGateRule *co = pc->compliance_gate;
    if (co && !rule_ok(co->rule_id, co->degrade_rule_id, co->allow_rule_id, co->degrade_risk_level))
        return bad_snapshot("policySnapshotLite.policyConstraintsLite.complianceGate", err);
    const Mediation__V1__ConsentAuthGateRule *cs = pc->consent_auth_gate;
    if (cs && !rule_ok(cs->rule_id, cs->degrade_rule_id, cs->allow_rule_id, cs->degrade_risk_level))
        return bad_snapshot("policySnapshotLite.policyConstraintsLite.consentAuthGate", err);
    for (size_t i = 0; cs && i < cs->n_blocked_consent_scopes; i++)
        if (empty(cs->blocked_consent_scopes[i]) || !in_set(cs->blocked_consent_scopes[i], k_consent))
            return bad_snapshot(
                "policySnapshotLite.policyConstraintsLite.consentAuthGate.blockedConsentScopes", err);
    const Mediation__V1__FrequencyCapGateRule *fq = pc->frequency_cap_gate;
    if (fq && (!rule_ok(fq->rule_id, fq->degrade_rule_id, fq->allow_rule_id, fq->degrade_risk_level) ||
               (fq->hard_cap_opt_case && fq->hard_cap < 0) ||
               (fq->degrade_threshold_opt_case && fq->degrade_threshold < 0)))
        return bad_snapshot("policySnapshotLite.policyConstraintsLite.frequencyCapGate", err);
    const Mediation__V1__CategoryGateRule *ca = pc->category_gate;
    if (ca && (!rule_ok(ca->rule_id, ca->degrade_rule_id, ca->allow_rule_id, ca->degrade_risk_level) ||
               !strings_ok(ca->hard_blocked_categories, ca->n_hard_blocked_categories) ||
               !strings_ok(ca->degraded_categories, ca->n_degraded_categories)))
        return bad_snapshot("policySnapshotLite.policyConstraintsLite.categoryGate", err);
    return MED_OK;
}

static med_rc check_lists(const Mediation__V1__ConstraintsLite *base, med_err *err)
{
    const Mediation__V1__SourceConstraints *sc = base ? base->source_constraints : NULL;
    if (!sc || empty(sc->source_selection_mode)) return MED_OK;
    const char *mode = sc->source_selection_mode;
    if (strcmp(mode, C_MODE_ALL_EXCEPT_BLOCKED) != 0 && strcmp(mode, C_MODE_ALLOWLIST_ONLY) != 0)
        return bad_snapshot("policySnapshotLite.policyConstraintsLite.constraintsLite."
                            "sourceConstraints.sourceSelectionMode", err);
    int any_allowed = 0;
    for (size_t i = 0; i < sc->n_allowed_source_ids; i++)
        any_allowed |= !empty(sc->allowed_source_ids[i]);
    if (strcmp(mode, C_MODE_ALLOWLIST_ONLY) == 0 && !any_allowed)
        return bad_snapshot("policySnapshotLite.policyConstraintsLite.constraintsLite."
                            "sourceConstraints.allowedSourceIds", err);
    return MED_OK;
}

med_rc c_input_check_snapshot(const Mediation__V1__PolicySnapshotLite *s, med_err *err)
{
    if (empty(s->policy_snapshot_id)) return bad_snapshot("policySnapshotLite.policySnapshotId", err);
    if (empty(s->resolved_config_ref))
        return bad_snapshot("policySnapshotLite.resolvedConfigRef", err);
    if (s->effective_at_unix_ms <= 0) return bad_snapshot("policySnapshotLite.effectiveAt", err);
    if (!c_is_anchor(s->policy_snapshot_version))
        return bad_snapshot("policySnapshotLite.policySnapshotVersion", err);
    if (!c_is_anchor(s->policy_pack_version))
        return bad_snapshot("policySnapshotLite.policyPackVersion", err);
    if (!c_is_anchor(s->policy_rule_version))
        return bad_snapshot("policySnapshotLite.policyRuleVersion", err);
    if (empty(s->snapshot_source) || strcmp(s->snapshot_source, C_SNAPSHOT_SOURCE) != 0)
        return bad_snapshot("policySnapshotLite.snapshotSource", err);
    if (!is_config_hash(s->config_hash)) return bad_snapshot("policySnapshotLite.configHash", err);
    if (s->expire_at_or_na_unix_ms_opt_case && s->expire_at_or_na_unix_ms <= 0)
        return bad_snapshot("policySnapshotLite.expireAtOrNA", err);
    if (empty(s->failure_mode) ||
        (strcmp(s->failure_mode, C_FAIL_OPEN) != 0 && strcmp(s->failure_mode, C_FAIL_CLOSED) != 0))
        return bad_snapshot("policySnapshotLite.failureMode", err);
    if (!s->policy_constraints_lite)
        return bad_snapshot("policySnapshotLite.policyConstraintsLite", err);
    med_rc rc = check_rules(s->policy_constraints_lite, err);
    if (rc != MED_OK) return rc;
    return check_lists(s->policy_constraints_lite->constraints_lite, err);
}

/* ---------------- checks 2..8 in order ---------------- */

static med_rc check_snapshot_and_expiry(const Mediation__V1__NormalizedOpportunity *m,
                                        int64_t eval_now, c_input *out, med_err *err)
{
    const Mediation__V1__PolicySnapshotLite *s = m->policy_snapshot_lite;
    if (!s)
        return med_err_set(err, MED_ERR_INVALID, MED_R_C_POLICY_SNAPSHOT_MISSING,
                           "policySnapshotLite", "no policy snapshot in the message");
    med_rc rc = c_input_check_snapshot(s, err);
    if (rc != MED_OK) return rc;
    out->fail_open = strcmp(s->failure_mode, C_FAIL_OPEN) == 0;
    out->snapshot_expired = s->expire_at_or_na_unix_ms_opt_case &&
                            eval_now >= s->expire_at_or_na_unix_ms;
    if (out->snapshot_expired && !out->fail_open)
        return med_err_set(err, MED_ERR_INVALID, MED_R_C_POLICY_SNAPSHOT_EXPIRED,
                           "policySnapshotLite.expireAtOrNA", "snapshot expired under fail_closed");
    return MED_OK;
}

med_rc c_input_check(const Mediation__V1__NormalizedOpportunity *msg, const c_header_keys *hdr,
                     int64_t eval_now, c_input *out, c_warnings *w, med_err *err)
{
    memset(out, 0, sizeof *out);
    out->msg = msg;
    out->snapshot = msg->policy_snapshot_lite;
    c_input_keys(msg, hdr, &out->keys);
    med_rc rc = check_frequency_count(msg, out, w, err);
    if (rc == MED_OK) rc = check_required(msg, err);
    if (rc == MED_OK) rc = check_anchors(msg, err);
    if (rc == MED_OK && strcmp(msg->state, C_STATE_RECEIVED) != 0)
        rc = med_err_set(err, MED_ERR_INVALID, MED_R_C_INVALID_INPUT_STATE, "state",
                         "state '%.32s' is not received", msg->state);
    if (rc == MED_OK) rc = check_enums(msg->blocks, err);
    if (rc == MED_OK) rc = check_snapshot_and_expiry(msg, eval_now, out, err);
    return rc;
}
