#include "d_input.h"

#include <string.h>
#include "d_budget.h"
#include "d_names.h"
#include "d_strlist.h"
#include "d_types.h"
#include "med/reason.h"

static int set_(const char *s) { return s && s[0]; }

int d_anchor_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > 128) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '.' || c == ':' || c == '-';
        if (!ok) return 0;
    }
    return 1;
}

static med_rc reject(med_err *err, const char *code, const char *field)
{
    return med_err_set(err, MED_ERR_INVALID, code, field, "input rejected: %s", code);
}

static void take_keys(const Mediation__V1__TraceKeys *k, d_ctx *c)
{
    c->trace_key = k ? k->trace_key : "";
    c->request_key = k ? k->request_key : "";
    c->attempt_key = k ? k->attempt_key : "";
    c->opportunity_key = k ? k->opportunity_key : "";
}

static int keys_complete(const d_ctx *c)
{
    return set_(c->trace_key) && set_(c->request_key) && set_(c->attempt_key) &&
           set_(c->opportunity_key);
}

/* Check 2: every required object. */
static const char *missing_field(const Mediation__V1__PolicyDecision *pd)
{
    const Mediation__V1__RoutableOpportunityLite *ro = pd->routable_opportunity_lite;
    const Mediation__V1__RoutingContextLite *rc = pd->routing_context_lite;
    const Mediation__V1__ConstraintsLite *cl = pd->c_policy_decision_lite->constraints_lite;
    if (!ro || !ro->blocks || !ro->blocks->placement_meta || !ro->blocks->request_meta ||
        !ro->blocks->user_context || !ro->blocks->opportunity_context ||
        !ro->blocks->policy_context || !ro->blocks->trace_context)
        return "routableOpportunityLite.blocks";
    if (!pd->policy_audit_snapshot_lite) return "policyAuditSnapshotLite";
    if (!rc || !rc->execution_strategy_lite) return "routingContextLite.executionStrategyLite";
    if (!cl || !cl->source_constraints || !cl->category_constraints ||
        !cl->personalization_constraints || !cl->render_constraints)
        return "cPolicyDecisionLite.constraintsLite";
    if (!set_(ro->blocks->placement_meta->placement_type) ||
        !set_(ro->blocks->placement_meta->placement_key))
        return "routableOpportunityLite.blocks.placementMeta";
    return NULL;
}

static int route_state_ok(const Mediation__V1__CPolicyDecisionLite *c)
{
    const char *a = c->final_policy_action;
    int action_ok = a && (!strcmp(a, "allow") || !strcmp(a, "degrade"));
    int to_routed = c->state_update && c->state_update->to_state &&
                    !strcmp(c->state_update->to_state, "routed");
    return c->is_routable && action_ok && to_routed;
}

static const char *bad_anchor(const Mediation__V1__PolicyDecision *pd)
{
    const Mediation__V1__RoutingContextLite *rc = pd->routing_context_lite;
    const Mediation__V1__ConfigSnapshotLite *cs = pd->config_snapshot_lite;
    if (!pd->d_input_contract_version || strcmp(pd->d_input_contract_version, D_INPUT_CONTRACT_VERSION))
        return "dInputContractVersion";
    if (!d_anchor_valid(pd->schema_version)) return "schemaVersion";
    if (!d_anchor_valid(rc->routing_policy_version)) return "routingPolicyVersion";
    if (!d_anchor_valid(rc->fallback_profile_version)) return "fallbackProfileVersion";
    if (!d_anchor_valid(rc->execution_strategy_lite->execution_strategy_version))
        return "executionStrategyVersion";
    if (!d_anchor_valid(cs->config_snapshot_id)) return "configSnapshotId";
    if (!d_anchor_valid(cs->resolved_config_ref)) return "resolvedConfigRef";
    if (!set_(cs->config_hash)) return "configHash";
    return NULL;
}

/* Check 7. */
static int take_strategy(const Mediation__V1__ExecutionStrategyLite *es, d_strategy_cfg *st)
{
    if (d_strategy_parse(es->strategy_type, &st->type) != 0) return -1;
    if (d_fallback_policy_parse(es->fallback_policy, &st->fallback_policy) != 0) return -1;
    int has_fanout = es->parallel_fanout_opt_case ==
                     MEDIATION__V1__EXECUTION_STRATEGY_LITE__PARALLEL_FANOUT_OPT_PARALLEL_FANOUT;
    int fanout = has_fanout ? es->parallel_fanout : 1;
    if (st->type == D_STRAT_WATERFALL && fanout != 1) return -1;
    if (st->type != D_STRAT_WATERFALL && (!has_fanout || fanout < 1 || fanout > 32)) return -1;
    if (es->strategy_timeout_ms <= 0) return -1;
    st->parallel_fanout = fanout;
    st->strategy_timeout_ms = es->strategy_timeout_ms;
    st->version = es->execution_strategy_version;
    st->enable_secondary_bidding =
        es->enable_secondary_bidding_opt_case ==
            MEDIATION__V1__EXECUTION_STRATEGY_LITE__ENABLE_SECONDARY_BIDDING_OPT_ENABLE_SECONDARY_BIDDING &&
        es->enable_secondary_bidding;
    return 0;
}

static int add_all(d_str_list *l, char **items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (d_strlist_add(l, items[i]) != 0) return -1;
    return 0;
}

static int take_constraints(const Mediation__V1__ConstraintsLite *cl, d_constraints *c)
{
    const Mediation__V1__SourceConstraints *sc = cl->source_constraints;
    if (d_selection_mode_parse(sc->source_selection_mode, &c->mode) != 0) c->mode = D_SEL_ALL_EXCEPT_BLOCKED;
    c->non_personalized_only = cl->personalization_constraints->non_personalized_only;
    return add_all(&c->allowed, sc->allowed_source_ids, sc->n_allowed_source_ids) |
           add_all(&c->blocked, sc->blocked_source_ids, sc->n_blocked_source_ids) |
           add_all(&c->bcat, cl->category_constraints->bcat, cl->category_constraints->n_bcat) |
           add_all(&c->badv, cl->category_constraints->badv, cl->category_constraints->n_badv) |
           add_all(&c->disallow_render_modes, cl->render_constraints->disallow_render_modes,
                   cl->render_constraints->n_disallow_render_modes);
}

static void take_context(const Mediation__V1__PolicyDecision *pd, d_ctx *c)
{
    const Mediation__V1__CPolicyDecisionLite *cp = pd->c_policy_decision_lite;
    const Mediation__V1__CanonicalBlocks *b = pd->routable_opportunity_lite->blocks;
    const Mediation__V1__RoutingContextLite *rc = pd->routing_context_lite;
    const Mediation__V1__ConfigSnapshotLite *cs = pd->config_snapshot_lite;
    c->routing_policy_version = rc->routing_policy_version;
    c->fallback_profile_version = rc->fallback_profile_version;
    c->constraint_set_version = cp->constraints_lite->constraint_set_version;
    c->placement_type = b->placement_meta->placement_type;
    c->placement_key = b->placement_meta->placement_key;
    c->channel_type = b->request_meta->channel_type;
    c->actor_type = b->user_context->actor_type;
    c->language = b->user_context->language_opt_case ? b->user_context->language : NULL;
    c->app_id = pd->trace ? pd->trace->app_id : NULL;
    c->final_policy_action = cp->final_policy_action;
    c->policy_decision_reason_code = cp->policy_decision_reason_code;
    c->policy_snapshot_id = cp->policy_snapshot_id;
    c->policy_snapshot_version = cp->policy_snapshot_version;
    c->config_snapshot_id = cs->config_snapshot_id;
    c->resolved_config_ref = cs->resolved_config_ref;
    c->config_hash = cs->config_hash;
    c->config_effective_at_ms = cs->effective_at_unix_ms;
}

med_rc d_input_check(const Mediation__V1__PolicyDecision *pd, const char *loaded_hash,
                     d_input *in, med_err *err)
{
    memset(in, 0, sizeof *in);
    in->ctx.constraints = &in->cons;
    const Mediation__V1__CPolicyDecisionLite *cp = pd ? pd->c_policy_decision_lite : NULL;
    take_keys(cp ? cp->keys : NULL, &in->ctx);
    if (!cp || !keys_complete(&in->ctx)) return reject(err, MED_R_D_INVALID_STRUCTURE, "keys");
    const char *miss = missing_field(pd);
    if (miss) return reject(err, MED_R_D_MISSING_REQUIRED_FIELD, miss);
    if (!route_state_ok(cp)) return reject(err, MED_R_D_INVALID_ROUTE_INPUT_STATE, "cPolicyDecisionLite");
    if (!pd->config_snapshot_lite || !set_(pd->config_snapshot_lite->config_snapshot_id))
        return reject(err, MED_R_D_CONFIG_SNAPSHOT_MISSING, "configSnapshotLite");
    const char *anchor = bad_anchor(pd);
    if (anchor) return reject(err, MED_R_D_INVALID_VERSION_ANCHOR, anchor);
    take_context(pd, &in->ctx);
    if (!loaded_hash || strcmp(loaded_hash, pd->config_snapshot_lite->config_hash) != 0)
        return reject(err, MED_R_D_INVALID_CONFIG_SNAPSHOT, "configSnapshotLite.configHash");
    if (take_strategy(pd->routing_context_lite->execution_strategy_lite, &in->ctx.strategy) != 0)
        return reject(err, MED_R_D_INVALID_EXECUTION_STRATEGY_CONTRACT, "executionStrategyLite");
    if (take_constraints(cp->constraints_lite, &in->cons) != 0)
        return med_err_set(err, MED_ERR_NOMEM, MED_R_D_INVALID_STRUCTURE, NULL, "ENOMEM");
    in->original_route_budget_ms = pd->routing_context_lite->route_budget_ms;
    in->ctx.route_budget_ms = in->original_route_budget_ms;
    if (in->ctx.route_budget_ms <= 0) {
        in->budget_corrected = 1;   /* row 9: degrade, run on the strategy timeout */
        in->ctx.route_budget_ms = in->ctx.strategy.strategy_timeout_ms;
    }
    in->ctx.effective_budget_ms =
        d_budget_effective(in->ctx.route_budget_ms, in->ctx.strategy.strategy_timeout_ms);
    return MED_OK;
}

med_rc d_input_check_supply(d_input *in, const d_registry *reg, med_err *err)
{
    in->ctx.reg = reg;
    if (reg->n_sources == 0) return reject(err, MED_R_D_INVALID_SUPPLY_CONTEXT, "sources");
    return MED_OK;
}

int d_input_merge_bwl(d_constraints *c, const json_t *bwl)
{
    if (!json_is_object(bwl)) return 0;
    int rc = d_strlist_add_json(&c->blocked, json_object_get(bwl, "blockedSourceIds")) |
             d_strlist_add_json(&c->bcat, json_object_get(bwl, "bcat")) |
             d_strlist_add_json(&c->badv, json_object_get(bwl, "badv"));
    d_selection_mode m;
    const char *mode = json_string_value(json_object_get(bwl, "sourceSelectionMode"));
    if (d_selection_mode_parse(mode, &m) == 0 && m == D_SEL_ALLOWLIST_ONLY &&
        c->mode == D_SEL_ALL_EXCEPT_BLOCKED) {
        c->mode = D_SEL_ALLOWLIST_ONLY;
        rc |= d_strlist_add_json(&c->allowed, json_object_get(bwl, "allowedSourceIds"));
    }
    return rc ? -1 : 0;
}

void d_input_free(d_input *in)
{
    d_strlist_free(&in->cons.allowed);
    d_strlist_free(&in->cons.blocked);
    d_strlist_free(&in->cons.bcat);
    d_strlist_free(&in->cons.badv);
    d_strlist_free(&in->cons.disallow_render_modes);
}
