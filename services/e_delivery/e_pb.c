#include "e_pb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "med/names.h"
#include "med/reason.h"
#include "mediation/v1/audit.pb-c.h"
#include "mediation/v1/delivery.pb-c.h"

#define S(x) ((char *)(x))

/* Every sub-message of one Delivery + audit, so one calloc/free owns them
 * all; strings are borrowed from the outcome. */
typedef struct e_pb_store {
    Mediation__V1__TraceContext tc;
    Mediation__V1__StageHop hop;
    Mediation__V1__StageHop **hops;
    Mediation__V1__TraceKeys tk;
    /* plan */
    Mediation__V1__RenderPlanLite plan;
    Mediation__V1__RenderContainerLite container;
    Mediation__V1__ContainerParamsLite params;
    char *sandbox[1], *domains[1];
    Mediation__V1__CreativeBindingLite binding;
    Mediation__V1__TrackingInjectionLite tracking;
    Mediation__V1__TrackingHookLite hooks[4];
    Mediation__V1__UiConstraintsLite ui;
    Mediation__V1__LayoutConstraintLite layout;
    Mediation__V1__DisclosureConstraintLite disclosure;
    Mediation__V1__InteractionConstraintLite interaction;
    Mediation__V1__RenderTtlLite ttl;
    Mediation__V1__RenderPlanVersionAnchorsLite plan_anchors;
    /* consumption */
    Mediation__V1__CandidateConsumptionDecisionLite ccd;
    Mediation__V1__SelectedCandidateRefLite selected, *selected_p[1];
    Mediation__V1__DroppedCandidateRefLite dropped[E_MAX_DROPPED], *dropped_p[E_MAX_DROPPED];
    /* gate snapshot */
    Mediation__V1__RenderCapabilityGateSnapshotLite gate;
    Mediation__V1__PolicyModesLite policy_modes;
    char *disallowed[E_MODE_COUNT], *placement_modes[E_MODE_COUNT], *device_modes[E_MODE_COUNT];
    Mediation__V1__ModeEvaluationLite evals[E_MODE_COUNT], *evals_p[E_MODE_COUNT];
    Mediation__V1__ModeSelectionDecisionLite selection;
    char *eligible[E_MODE_COUNT];
    Mediation__V1__DegradePathEntryLite path[E_MODE_COUNT], *path_p[E_MODE_COUNT];
    Mediation__V1__EVersionSnapshotLite versions;
    /* validation snapshot */
    Mediation__V1__EValidationSnapshotLite validation;
    Mediation__V1__CandidateRefLite cand_ref;
    Mediation__V1__ValidationStageLite stages[4], *stages_p[4];
    Mediation__V1__DegradeAdjustmentLite adjust[4], *adjust_p[4];
    /* decision snapshot */
    Mediation__V1__EErrorDegradeDecisionSnapshotLite decision;
    Mediation__V1__ActionTakenLite actions[E_MAX_ACTIONS], *actions_p[E_MAX_ACTIONS];
    /* delivery */
    Mediation__V1__WarningLite warns[E_MAX_WARNINGS], *warns_p[E_MAX_WARNINGS];
    Mediation__V1__StateTransitionLite transition;
    Mediation__V1__RouteDeliveryConsistencyLite consistency;
    Mediation__V1__DeliveryVersionAnchorsLite delivery_anchors;
    Mediation__V1__Delivery d;
    /* audit */
    Mediation__V1__EStageAuditLite e_audit;
    Mediation__V1__DecisionPointLite point;
    Mediation__V1__StageAudit audit;
    char audit_id[64];
} e_pb_store;

static const char *or_none(const char *s)
{
    return e_blank(s) ? E_NONE : s;
}

static void fill_keys(e_pb_store *s, const e_outcome *o)
{
    mediation__v1__trace_keys__init(&s->tk);
    s->tk.trace_key = S(o->keys.trace_key);
    s->tk.request_key = S(o->keys.request_key);
    s->tk.attempt_key = S(o->keys.attempt_key);
    s->tk.opportunity_key = S(o->keys.opportunity_key);
}

static void fill_versions(e_pb_store *s, const e_outcome *o)
{
    Mediation__V1__EVersionSnapshotLite *v = &s->versions;
    const e_anchors *a = &o->in.anchors;
    mediation__v1__eversion_snapshot_lite__init(v);
    v->e_compose_input_contract_version = S(or_none(a->e_compose_input_contract_version));
    v->d_output_contract_version = S(or_none(a->d_output_contract_version));
    v->schema_version = S(or_none(a->schema_version));
    v->placement_config_version = S(or_none(a->placement_config_version));
    v->render_policy_version = S(or_none(a->render_policy_version));
    v->device_capability_profile_version = S(or_none(a->device_capability_profile_version));
    v->routing_policy_version = S(or_none(a->routing_policy_version));
    v->constraint_set_version = S(or_none(a->constraint_set_version));
    v->render_plan_contract_version = S(E_RENDER_PLAN_CONTRACT_VERSION);
    v->tracking_injection_version = S(E_TRACKING_INJECTION_VERSION);
    v->ui_constraint_profile_version = S(E_UI_CONSTRAINT_PROFILE_VERSION);
    v->gate_rule_version = S(E_GATE_RULE_VERSION);
    v->validation_rule_version = S(E_VALIDATION_RULE_VERSION);
    v->decision_rule_version = S(E_DECISION_RULE_VERSION);
    v->state_transition_rule_version = S(E_STATE_TRANSITION_RULE_VERSION);
    v->e_delivery_contract_version = S(E_DELIVERY_CONTRACT_VERSION);
    v->e_to_f_event_contract_version = S(E_TO_F_EVENT_CONTRACT_VERSION);
}

static size_t mode_names(e_modeset set, char **out)
{
    size_t n = 0;
    for (int m = 0; m < E_MODE_COUNT; m++)
        if (set & E_MODE_BIT(m)) out[n++] = S(e_mode_name((e_mode)m));
    return n;
}

static void fill_policy_modes(e_pb_store *s, const e_outcome *o)
{
    Mediation__V1__PolicyModesLite *pm = &s->policy_modes;
    mediation__v1__policy_modes_lite__init(pm);
    pm->n_disallow_render_modes = mode_names(o->gate.policy_disallowed, s->disallowed);
    pm->disallow_render_modes = s->disallowed;
    const Mediation__V1__ConstraintsLite *c = o->in.constraints;
    if (!c) return;
    if (c->personalization_constraints)
        pm->non_personalized_only = c->personalization_constraints->non_personalized_only;
    if (c->category_constraints) {
        pm->bcat = c->category_constraints->bcat;
        pm->n_bcat = c->category_constraints->n_bcat;
        pm->badv = c->category_constraints->badv;
        pm->n_badv = c->category_constraints->n_badv;
    }
}

static void fill_gate(e_pb_store *s, const e_outcome *o)
{
    const e_gate *g = &o->gate;
    const e_validation *v = &o->val;
    Mediation__V1__RenderCapabilityGateSnapshotLite *gs = &s->gate;
    mediation__v1__render_capability_gate_snapshot_lite__init(gs);
    gs->trace_keys = &s->tk;
    gs->n_placement_modes = mode_names(o->in.placement_modes, s->placement_modes);
    gs->placement_modes = s->placement_modes;
    gs->n_device_modes = mode_names(o->in.device_modes, s->device_modes);
    gs->device_modes = s->device_modes;
    fill_policy_modes(s, o);
    gs->policy_modes = &s->policy_modes;
    int evaluated = o->input_ok && g->final_gate_code;
    for (int i = 0; evaluated && i < E_MODE_COUNT; i++) {
        mediation__v1__mode_evaluation_lite__init(&s->evals[i]);
        s->evals[i].mode = S(e_mode_name(g->evals[i].mode));
        s->evals[i].gate_result = S(g->evals[i].pass ? "pass" : "fail");
        s->evals[i].gate_reason_code = S(g->evals[i].reason_code);
        s->evals_p[gs->n_mode_evaluations++] = &s->evals[i];
    }
    gs->mode_evaluations = s->evals_p;
    Mediation__V1__ModeSelectionDecisionLite *sd = &s->selection;
    mediation__v1__mode_selection_decision_lite__init(sd);
    for (int i = 0; i < g->n_eligible; i++) s->eligible[i] = S(e_mode_name(g->eligible[i]));
    sd->n_eligible_modes = (size_t)g->n_eligible;
    sd->eligible_modes = s->eligible;
    sd->selected_render_mode = S(e_mode_name(o->container.mode));
    for (int i = 0; i < v->n_degrade_path; i++) {
        mediation__v1__degrade_path_entry_lite__init(&s->path[i]);
        s->path[i].rejected_mode = S(e_mode_name(v->degrade_path[i].mode));
        s->path[i].reject_reason_code = S(v->degrade_path[i].reason_code);
        s->path_p[i] = &s->path[i];
    }
    sd->n_degrade_path = (size_t)v->n_degrade_path;
    sd->degrade_path = s->path_p;
    sd->final_gate_reason_code = S(g->final_gate_code ? g->final_gate_code : E_NONE);
    gs->selection_decision = sd;
    gs->version_snapshot = &s->versions;
    gs->snapshot_at_unix_ms = o->decided_at_ms;
}

static void fill_consumption(e_pb_store *s, const e_outcome *o)
{
    const e_validation *v = &o->val;
    Mediation__V1__CandidateConsumptionDecisionLite *c = &s->ccd;
    mediation__v1__candidate_consumption_decision_lite__init(c);
    c->selection_mode = S(v->selection_mode ? v->selection_mode : "top1_strict");
    c->scanned_candidate_count = v->scanned;
    if (o->container.mode != E_MODE_NONE && o->in.winner) {
        mediation__v1__selected_candidate_ref_lite__init(&s->selected);
        s->selected.source_id = o->in.winner->source_id;
        s->selected.candidate_id = o->in.winner->source_candidate_id;
        s->selected.render_mode = S(e_mode_name(o->container.mode));
        s->selected.slot_index = 1;
        s->selected_p[0] = &s->selected;
        c->selected_candidate_refs = s->selected_p;
        c->n_selected_candidate_refs = 1;
    }
    for (int i = 0; i < v->n_dropped; i++) {
        mediation__v1__dropped_candidate_ref_lite__init(&s->dropped[i]);
        s->dropped[i].source_id = v->dropped[i].cand ? v->dropped[i].cand->source_id : S("");
        s->dropped[i].candidate_id = v->dropped[i].cand ? v->dropped[i].cand->source_candidate_id : S("");
        s->dropped[i].drop_reason_code = S(v->dropped[i].reason_code);
        s->dropped_p[i] = &s->dropped[i];
    }
    c->n_dropped_candidate_refs = (size_t)v->n_dropped;
    c->dropped_candidate_refs = s->dropped_p;
    c->consumption_reason_code = S(v->consumption_code ? v->consumption_code : MED_R_E_NO_CANDIDATE_INPUT);
}

static void fill_validation(e_pb_store *s, const e_outcome *o)
{
    const e_validation *v = &o->val;
    Mediation__V1__EValidationSnapshotLite *vs = &s->validation;
    mediation__v1__evalidation_snapshot_lite__init(vs);
    vs->trace_keys = &s->tk;
    mediation__v1__candidate_ref_lite__init(&s->cand_ref);
    if (o->in.winner) {
        s->cand_ref.source_id = o->in.winner->source_id;
        s->cand_ref.candidate_id = o->in.winner->source_candidate_id;
    }
    for (int i = 0; i < v->n_stages; i++) {
        mediation__v1__validation_stage_lite__init(&s->stages[i]);
        s->stages[i].stage_name = S(v->stages[i].stage_name);
        s->stages[i].candidate_ref = &s->cand_ref;
        s->stages[i].stage_action = S(v->stages[i].action);
        s->stages[i].stage_reason_code = S(v->stages[i].reason_code);
        s->stages_p[i] = &s->stages[i];
    }
    vs->n_validation_stages = (size_t)v->n_stages;
    vs->validation_stages = s->stages_p;
    vs->final_validation_action = S(v->final_action ? v->final_action : E_NONE);
    vs->final_validation_reason_code = S(v->final_code ? v->final_code : MED_R_E_CANDIDATE_NOT_SELECTED);
    for (int i = 0; i < v->n_adjust; i++) {
        mediation__v1__degrade_adjustment_lite__init(&s->adjust[i]);
        s->adjust[i].field_path = S(v->adjustments[i].field_path);
        s->adjust[i].from = S(v->adjustments[i].from);
        s->adjust[i].to = S(v->adjustments[i].to);
        s->adjust_p[i] = &s->adjust[i];
    }
    vs->n_degrade_adjustments = (size_t)v->n_adjust;
    vs->degrade_adjustments = s->adjust_p;
    vs->validation_rule_version = S(E_VALIDATION_RULE_VERSION);
    vs->validated_at_unix_ms = o->decided_at_ms;
}

static void fill_decision(e_pb_store *s, const e_outcome *o)
{
    const e_decision *d = &o->dec;
    Mediation__V1__EErrorDegradeDecisionSnapshotLite *ds = &s->decision;
    mediation__v1__eerror_degrade_decision_snapshot_lite__init(ds);
    ds->trace_keys = &s->tk;
    ds->final_delivery_status = S(d->status);
    ds->final_canonical_reason_code = S(d->canonical);
    ds->failure_class = S(d->failure_class);
    ds->fail_strategy = S(d->fail_strategy);
    for (int i = 0; i < d->n_actions; i++) {
        mediation__v1__action_taken_lite__init(&s->actions[i]);
        s->actions[i].stage = S(d->actions[i].stage);
        s->actions[i].action = S(d->actions[i].action);
        s->actions[i].raw_reason_code = S(d->actions[i].raw);
        s->actions[i].canonical_reason_code = S(d->actions[i].canonical);
        s->actions_p[i] = &s->actions[i];
    }
    ds->n_actions_taken = (size_t)d->n_actions;
    ds->actions_taken = s->actions_p;
    ds->n_mode_degrade_path = s->selection.n_degrade_path;
    ds->mode_degrade_path = s->path_p;
    ds->decision_rule_version = S(E_DECISION_RULE_VERSION);
    ds->decided_at_unix_ms = o->decided_at_ms;
}

static void fill_params(e_pb_store *s, const e_container *c)
{
    Mediation__V1__ContainerParamsLite *p = &s->params;
    mediation__v1__container_params_lite__init(p);
    switch (c->mode) {
    case E_MODE_NATIVE:
        p->slot_id = S(c->slot_id);
        p->template_id = S(c->template_id);
        p->max_card_count = c->max_card_count;
        break;
    case E_MODE_WEBVIEW:
        p->url = S(c->url);
        s->sandbox[0] = S("allow-scripts");
        p->sandbox_flags = s->sandbox;
        p->n_sandbox_flags = 1;
        s->domains[0] = S(c->host);
        p->allowed_domains = s->domains;
        p->n_allowed_domains = c->host[0] ? 1 : 0;
        break;
    case E_MODE_MRAID:
        p->html_snippet_ref = S(c->html_snippet_ref);
        p->mraid_version = S(c->mraid_version);
        p->expand_policy = S("user_gesture_required");
        break;
    case E_MODE_VIDEO:
        p->vast_tag_url = S(c->vast_tag_url);
        p->video_slot_width = c->video_width;
        p->video_slot_height = c->video_height;
        p->autoplay_policy = S("muted_autoplay");
        break;
    default:
        break;
    }
}

static void fill_hooks(e_pb_store *s, const e_outcome *o)
{
    static const char *const names[4][2] = { { "ad_render_started", "ad_filled" },
                                             { "ad_rendered", "impression" },
                                             { "ad_render_failed", "error" },
                                             { "on_click", "click" } };
    Mediation__V1__TrackingInjectionLite *t = &s->tracking;
    mediation__v1__tracking_injection_lite__init(t);
    for (int i = 0; i < 4; i++) {
        Mediation__V1__TrackingHookLite *h = &s->hooks[i];
        mediation__v1__tracking_hook_lite__init(h);
        h->event_name = S(names[i][0]);
        h->wire_event_type = S(names[i][1]);
        h->response_reference = S(o->response_reference);
        h->trace_key = S(o->keys.trace_key);
        h->request_key = S(o->keys.request_key);
        h->attempt_key = S(o->keys.attempt_key);
        h->opportunity_key = S(o->keys.opportunity_key);
    }
    t->on_render_start = &s->hooks[0];
    t->on_render_success = &s->hooks[1];
    t->on_render_failure = &s->hooks[2];
    t->on_click = &s->hooks[3];
}

static void fill_ui(e_pb_store *s, const e_ui *u)
{
    mediation__v1__ui_constraints_lite__init(&s->ui);
    mediation__v1__layout_constraint_lite__init(&s->layout);
    mediation__v1__disclosure_constraint_lite__init(&s->disclosure);
    mediation__v1__interaction_constraint_lite__init(&s->interaction);
    s->layout.max_height_px = u->max_height_px;
    s->layout.max_width_px = u->max_width_px;
    s->layout.safe_area_required = u->safe_area_required;
    s->disclosure.disclosure_label = S(u->disclosure_label);
    s->disclosure.label_position = S(u->label_position);
    s->disclosure.must_be_visible = u->must_be_visible;
    s->interaction.click_guard_enabled = u->click_guard_enabled;
    s->interaction.closeable = u->closeable;
    s->interaction.frequency_cap_hint = 0;
    s->ui.layout_constraint = &s->layout;
    s->ui.disclosure_constraint = &s->disclosure;
    s->ui.interaction_constraint = &s->interaction;
}

static void fill_warnings(e_pb_store *s, const e_outcome *o)
{
    for (int i = 0; i < o->warnings.n; i++) {
        const e_warning *w = &o->warnings.items[i];
        mediation__v1__warning_lite__init(&s->warns[i]);
        s->warns[i].reason_code = S(w->reason_code);
        s->warns[i].field_path = S(w->field_path);
        s->warns[i].action = S(w->action);
        s->warns[i].original_value = S(w->original_value);
        s->warns[i].corrected_value = S(w->corrected_value);
        s->warns[i].rule_version = S(E_VALIDATION_RULE_VERSION);
        s->warns_p[i] = &s->warns[i];
    }
}

static void fill_plan(e_pb_store *s, const e_outcome *o)
{
    Mediation__V1__RenderPlanLite *p = &s->plan;
    mediation__v1__render_plan_lite__init(p);
    p->opportunity_key = S(o->keys.opportunity_key);
    p->trace_key = S(o->keys.trace_key);
    p->request_key = S(o->keys.request_key);
    p->attempt_key = S(o->keys.attempt_key);
    p->response_reference = S(o->response_reference);
    p->delivery_status = S(o->dec.status);
    p->render_mode = S(e_mode_name(o->container.mode));
    mediation__v1__render_container_lite__init(&s->container);
    s->container.container_type = p->render_mode;
    fill_params(s, &o->container);
    s->container.container_params = &s->params;
    p->render_container = &s->container;
    mediation__v1__creative_binding_lite__init(&s->binding);
    const Mediation__V1__NormalizedCandidateLite *w = o->container.mode != E_MODE_NONE ? o->in.winner : NULL;
    s->binding.creative_id = S(w && w->creative_ref ? w->creative_ref->creative_id : E_NONE);
    s->binding.asset_refs = w ? w->asset_refs : NULL;
    s->binding.n_asset_refs = w ? w->n_asset_refs : 0;
    s->binding.destination_ref = S(w ? or_none(w->destination_ref) : E_NONE);
    p->creative_binding = &s->binding;
    fill_hooks(s, o);
    p->tracking_injection = &s->tracking;
    fill_ui(s, &o->ui);
    p->ui_constraints = &s->ui;
    mediation__v1__render_ttl_lite__init(&s->ttl);
    s->ttl.render_ttl_ms = o->ttl.render_ttl_ms;
    s->ttl.expire_at_unix_ms = o->ttl.expire_at_ms;
    p->ttl = &s->ttl;
    mediation__v1__render_plan_version_anchors_lite__init(&s->plan_anchors);
    s->plan_anchors.render_plan_contract_version = S(E_RENDER_PLAN_CONTRACT_VERSION);
    s->plan_anchors.render_policy_version = s->versions.render_policy_version;
    s->plan_anchors.placement_config_version = s->versions.placement_config_version;
    s->plan_anchors.tracking_injection_version = S(E_TRACKING_INJECTION_VERSION);
    s->plan_anchors.ui_constraint_profile_version = S(E_UI_CONSTRAINT_PROFILE_VERSION);
    p->version_anchors = &s->plan_anchors;
    p->candidate_consumption_decision = &s->ccd;
    p->render_capability_gate_snapshot_lite = &s->gate;
    p->e_validation_snapshot_lite = &s->validation;
    p->e_error_degrade_decision_snapshot_lite = &s->decision;
    p->n_warnings = (size_t)o->warnings.n;
    p->warnings = s->warns_p;
}

static void fill_delivery(e_pb_store *s, const e_outcome *o, const e_pb_ctx *ctx)
{
    Mediation__V1__Delivery *d = &s->d;
    mediation__v1__delivery__init(d);
    d->trace = &s->tc;
    d->status = S(o->dec.status);
    d->response_reference = S(o->response_reference);
    d->final_reason_code = S(o->dec.final_code);
    d->opportunity_key = S(o->keys.opportunity_key);
    d->trace_key = S(o->keys.trace_key);
    d->request_key = S(o->keys.request_key);
    d->attempt_key = S(o->keys.attempt_key);
    d->render_plan_lite = &s->plan;
    mediation__v1__state_transition_lite__init(&s->transition);
    s->transition.from_state = S("routed");
    s->transition.to_state = S(o->dec.status);
    s->transition.state_reason_code = S(o->dec.final_code);
    s->transition.state_rule_version = S(E_STATE_TRANSITION_RULE_VERSION);
    s->transition.transition_at_unix_ms = o->decided_at_ms;
    d->state_transition_lite = &s->transition;
    mediation__v1__route_delivery_consistency_lite__init(&s->consistency);
    s->consistency.route_outcome = S(o->dec.route_outcome);
    s->consistency.route_final_reason_code = S(o->dec.route_final_code);
    s->consistency.consistency_action = S(o->dec.consistency_action);
    s->consistency.consistency_reason_code = S(o->dec.consistency_code);
    d->route_delivery_consistency_lite = &s->consistency;
    mediation__v1__delivery_version_anchors_lite__init(&s->delivery_anchors);
    s->delivery_anchors.e_delivery_contract_version = S(E_DELIVERY_CONTRACT_VERSION);
    s->delivery_anchors.render_plan_contract_version = S(E_RENDER_PLAN_CONTRACT_VERSION);
    s->delivery_anchors.routing_policy_version = s->versions.routing_policy_version;
    s->delivery_anchors.decision_rule_version = S(E_DECISION_RULE_VERSION);
    d->version_anchors = &s->delivery_anchors;
    d->n_warnings = (size_t)o->warnings.n;
    d->warnings = s->warns_p;
    d->final_canonical_reason_code = S(o->dec.canonical);
    d->raw_reason_code = S(o->dec.raw);
    d->compose_source = S(o->compose_source);
    d->version_anchor_snapshot = (Mediation__V1__VersionAnchorSnapshot *)ctx->anchor_snapshot;
    d->delivered_at_unix_ms = o->decided_at_ms;
    d->upstream_reason_code = S(o->upstream_code ? o->upstream_code : "");
    const Mediation__V1__AuctionDecisionLite *ad = o->in.d ? o->in.d->auction_decision_lite : NULL;
    if (strcmp(o->dec.status, "served") == 0 && ad && ad->price) {
        d->winner_price_micros = ad->price->value_micros;
        d->winner_currency = S(ad->price->currency ? ad->price->currency : "");
    }
}

static void fill_audit(e_pb_store *s, const e_outcome *o, const e_pb_ctx *ctx)
{
    Mediation__V1__EStageAuditLite *ea = &s->e_audit;
    mediation__v1__estage_audit_lite__init(ea);
    ea->render_capability_gate_snapshot_lite = &s->gate;
    ea->e_validation_snapshot_lite = &s->validation;
    ea->e_error_degrade_decision_snapshot_lite = &s->decision;
    ea->candidate_consumption_decision = &s->ccd;
    ea->n_warnings = (size_t)o->warnings.n;
    ea->warnings = s->warns_p;
    ea->response_reference = S(o->response_reference);
    ea->delivery_status = S(o->dec.status);
    ea->final_reason_code = S(o->dec.final_code);
    ea->route_delivery_consistency_lite = &s->consistency;
    Mediation__V1__DecisionPointLite *dp = &s->point;
    mediation__v1__decision_point_lite__init(dp);
    dp->decision_type = S("Delivery");
    dp->decided_at_unix_ms = o->decided_at_ms;
    dp->status = S(o->dec.status);
    dp->reason_code = S(o->dec.final_code);
    dp->rule_version = S(E_DECISION_RULE_VERSION);
    dp->trace_key = S(o->keys.trace_key);
    dp->attempt_key = S(o->keys.attempt_key);
    dp->response_reference_or_na_opt_case =
        MEDIATION__V1__DECISION_POINT_LITE__RESPONSE_REFERENCE_OR_NA_OPT_RESPONSE_REFERENCE_OR_NA;
    dp->response_reference_or_na = S(o->response_reference);
    Mediation__V1__StageAudit *a = &s->audit;
    mediation__v1__stage_audit__init(a);
    a->trace = &s->tc;
    a->stage = S(MED_STAGE_E);
    a->kind = S("decision");
    a->primary_reason_code = S(o->dec.final_code);
    a->anchor_hash = S(ctx->anchor_snapshot && ctx->anchor_snapshot->anchor_hash ? ctx->anchor_snapshot->anchor_hash
                                                                                  : (s->tc.anchor_hash ? s->tc.anchor_hash : ""));
    a->version_anchor_snapshot = (Mediation__V1__VersionAnchorSnapshot *)ctx->anchor_snapshot;
    a->started_at_unix_ms = a->finished_at_unix_ms = a->emitted_at_unix_ms = o->decided_at_ms;
    snprintf(s->audit_id, sizeof s->audit_id, "e.audit:%s", o->response_reference);
    a->audit_id = s->audit_id;
    a->instance = S(ctx->hop && ctx->hop->instance ? ctx->hop->instance : "");
    a->decision_action = S(o->dec.status);
    a->decision_point = dp;
    a->snapshot_case = MEDIATION__V1__STAGE_AUDIT__SNAPSHOT_E_AUDIT;
    a->e_audit = ea;
}

static med_rc fill_trace(e_pb_store *s, const e_outcome *o, const e_pb_ctx *ctx, med_err *err)
{
    static const med_hop no_hop = { .stage = MED_STAGE_E, .instance = "", .at_unix_ms = 0 };
    med_rc rc = med_pb_trace_with_hop(ctx->trace, ctx->hop ? ctx->hop : &no_hop, &s->tc, &s->hop,
                                      &s->hops, err);
    if (rc != MED_OK) return rc;
    /* E owns the responseReference; the keys it answered with win */
    s->tc.response_reference = S(o->response_reference);
    s->tc.trace_key = S(o->keys.trace_key);
    s->tc.request_key = S(o->keys.request_key);
    s->tc.attempt_key = S(o->keys.attempt_key);
    s->tc.opportunity_key = S(o->keys.opportunity_key);
    if (e_blank(s->tc.tenant_id) && ctx->tenant_id) s->tc.tenant_id = S(ctx->tenant_id);
    return MED_OK;
}

med_rc e_pb_build(const e_outcome *o, const e_pb_ctx *ctx, e_pb_out *out, med_err *err)
{
    memset(out, 0, sizeof *out);
    e_pb_store *s = calloc(1, sizeof *s);
    if (!s) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "delivery store");
    med_rc rc = fill_trace(s, o, ctx, err);
    if (rc == MED_OK) {
        fill_keys(s, o);
        fill_versions(s, o);
        fill_gate(s, o);
        fill_consumption(s, o);
        fill_validation(s, o);
        fill_decision(s, o);
        fill_warnings(s, o);
        fill_plan(s, o);
        fill_delivery(s, o, ctx);
        fill_audit(s, o, ctx);
        rc = med_pb_pack(&s->d.base, &out->delivery, &out->delivery_len, err);
    }
    if (rc == MED_OK) rc = med_pb_pack(&s->audit.base, &out->audit, &out->audit_len, err);
    if (rc != MED_OK) e_pb_out_free(out);
    free(s->hops);
    free(s);
    return rc;
}

void e_pb_out_free(e_pb_out *out)
{
    if (!out) return;
    free(out->delivery);
    free(out->audit);
    memset(out, 0, sizeof *out);
}
