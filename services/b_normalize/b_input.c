#include "b_input.h"

#include <math.h>
#include <string.h>

#include "med/ids.h"
#include "med/reason.h"

static med_rc missing(med_err *err, const char *field)
{
    return med_err_set(err, MED_ERR_INVALID, MED_R_B_MISSING_REQUIRED_FIELD, field,
                       "required %s missing", field);
}

static int empty(const char *s) { return !s || !s[0]; }

static med_rc check_slot(const Mediation__V1__SourceSlotLite *s, const char *name, med_err *err)
{
    if (!s) return missing(err, name);
    if (s->invalid_slot_json_opt_case)
        return med_err_set(err, MED_ERR_INVALID, MED_R_B_INVALID_STRUCTURE, name,
                           "slot %s is not an object", name);
    return MED_OK;
}

static med_rc check_seed_block(const Mediation__V1__OpportunitySeedLite *s, med_err *err)
{
    if (!s) return missing(err, "opportunitySeed");
    if (empty(s->opportunity_key)) return missing(err, "opportunitySeed.opportunityKey");
    if (empty(s->state)) return missing(err, "opportunitySeed.state");
    if (empty(s->placement_id)) return missing(err, "opportunitySeed.placementId");
    if (!s->timestamps) return missing(err, "opportunitySeed.timestamps");
    return MED_OK;
}

static med_rc check_a_blocks(const Mediation__V1__BIngressPacketLite *p, med_err *err)
{
    const Mediation__V1__TraceInitLite *t = p->trace_init_lite;
    if (!t) return missing(err, "traceInitLite");
    if (empty(t->trace_key)) return missing(err, "traceInitLite.traceKey");
    if (empty(t->request_key)) return missing(err, "traceInitLite.requestKey");
    if (empty(t->attempt_key)) return missing(err, "traceInitLite.attemptKey");
    if (!p->trigger_snapshot_lite) return missing(err, "triggerSnapshotLite");
    if (empty(p->trigger_snapshot_lite->trigger_type)) return missing(err, "triggerSnapshotLite.triggerType");
    if (empty(p->trigger_snapshot_lite->trigger_decision))
        return missing(err, "triggerSnapshotLite.triggerDecision");
    if (!p->sensing_decision_lite) return missing(err, "sensingDecisionLite");
    if (empty(p->sensing_decision_lite->decision_outcome))
        return missing(err, "sensingDecisionLite.decisionOutcome");
    if (empty(p->sensing_decision_lite->hit_type)) return missing(err, "sensingDecisionLite.hitType");
    return MED_OK;
}

med_rc b_input_required(const Mediation__V1__OpportunitySeed *seed, med_err *err)
{
    const Mediation__V1__BIngressPacketLite *p = seed ? seed->b_ingress_packet_lite : NULL;
    if (!p) return missing(err, "bIngressPacketLite");
    med_rc rc = check_seed_block(p->opportunity_seed, err);
    if (rc == MED_OK) rc = check_a_blocks(p, err);
    if (rc != MED_OK) return rc;
    const Mediation__V1__SourceInputBundleLite *b = p->source_input_bundle_lite;
    if (!b) return missing(err, "sourceInputBundleLite");
    if ((rc = check_slot(b->app_explicit, "sourceInputBundleLite.appExplicit", err)) != MED_OK ||
        (rc = check_slot(b->placement_config, "sourceInputBundleLite.placementConfig", err)) != MED_OK ||
        (rc = check_slot(b->default_policy, "sourceInputBundleLite.defaultPolicy", err)) != MED_OK)
        return rc;
    if (empty(p->b_input_contract_version)) return missing(err, "bInputContractVersion");
    return MED_OK;
}

static med_rc bad_trace(med_err *err, const char *field)
{
    return med_err_set(err, MED_ERR_INVALID, MED_R_B_INVALID_TRACE_CONTEXT, field,
                       "%s malformed or inconsistent", field);
}

med_rc b_input_trace(const Mediation__V1__BIngressPacketLite *p, med_err *err)
{
    const Mediation__V1__TraceInitLite *t = p->trace_init_lite;
    const Mediation__V1__OpportunitySeedLite *s = p->opportunity_seed;
    if (!med_key_format_valid(t->trace_key)) return bad_trace(err, "traceInitLite.traceKey");
    if (!med_key_format_valid(t->request_key)) return bad_trace(err, "traceInitLite.requestKey");
    if (!med_key_format_valid(t->attempt_key)) return bad_trace(err, "traceInitLite.attemptKey");
    if (!med_key_format_valid(s->opportunity_key)) return bad_trace(err, "opportunitySeed.opportunityKey");
    if (!empty(s->request_key) && strcmp(s->request_key, t->request_key) != 0)
        return bad_trace(err, "opportunitySeed.requestKey");
    return MED_OK;
}

static int has_snapshot_ref(const Mediation__V1__ResolvedConfigSnapshotRef *r)
{
    return r && (!empty(r->snapshot_id) || !empty(r->config_hash));
}

med_rc b_input_config_gate(const Mediation__V1__BIngressPacketLite *p, med_err *err)
{
    const Mediation__V1__ConfigFailureLite *f = p->config_failure;
    if (!f || (empty(f->config_failure_scenario) && empty(f->failure_mode))) return MED_OK;
    const char *sc = f->config_failure_scenario ? f->config_failure_scenario : "";
    if (strcmp(sc, "config_version_invalid") == 0)
        return med_err_set(err, MED_ERR_INVALID, MED_R_H_CFG_FAIL_CLOSED_VERSION_INVALID,
                           "configFailure", "seed ran on an invalid config version");
    int degraded = strcmp(sc, "config_timeout") == 0 || strcmp(sc, "config_unavailable") == 0 ||
                   (f->failure_mode && strcmp(f->failure_mode, "fail_open") == 0);
    if (degraded && !has_snapshot_ref(p->resolved_config_snapshot_ref) &&
        !has_snapshot_ref(f->resolved_config_snapshot_ref))
        return med_err_set(err, MED_ERR_INVALID, MED_R_H_CFG_FAIL_CLOSED_NO_STABLE_SNAPSHOT,
                           "resolvedConfigSnapshotRef", "no stable config snapshot to map on");
    return MED_OK;
}

void b_input_value_range(const Mediation__V1__BIngressPacketLite *p, double *band, int *corrected,
                         b_verdict *v)
{
    *corrected = 0;
    if (strcmp(p->opportunity_seed->state, "received") != 0) b_verdict_reject(v, MED_R_B_INVALID_VALUE_RANGE);
    double b = p->sensing_decision_lite->confidence_band;
    *band = b;
    if (!isfinite(b)) {
        b_verdict_reject(v, MED_R_B_INVALID_VALUE_RANGE);
        *band = 0;
        return;
    }
    if (b < 0 || b > 1) {
        *band = b < 0 ? 0 : 1;
        *corrected = 1;
        b_verdict_degrade(v, MED_R_B_VALUE_CORRECTED);
    }
}

int b_input_slot_empty(const Mediation__V1__SourceSlotLite *s)
{
    return !s->app_id_opt_case && !s->session_id_opt_case && !s->channel_type_opt_case &&
           !s->actor_type_opt_case && !s->placement_type_opt_case &&
           !s->placement_surface_opt_case && !s->policy_gate_hint_opt_case &&
           !s->n_restricted_category_flags && !s->n_experiment_tags && !s->device_id_opt_case &&
           !s->intent_score_opt_case && !s->n_numeric_signals && !s->app_context &&
           !s->n_malformed_fields && !s->conversation_turn_id_or_na_opt_case && !s->n_extensions;
}
