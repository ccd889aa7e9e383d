/* Config documents (06 section 1) -> the pass-through lites. Members the
 * document does not carry stay unset so the reading stage applies its own
 * default. */
#include "a_lites.h"

#include <string.h>

#include "a_json.h"

#define NEW(a, T, init) ({ T *p_ = med_arena_alloc((a), sizeof(T)); if (p_) init(p_); p_; })

Mediation__V1__ConfigSnapshotLite *a_lite_config_snapshot(med_arena *a, const a_snapshot_ids *ids)
{
    Mediation__V1__ConfigSnapshotLite *c =
        NEW(a, Mediation__V1__ConfigSnapshotLite, mediation__v1__config_snapshot_lite__init);
    if (!c) return NULL;
    c->config_snapshot_id = (char *)(ids->snapshot_id ? ids->snapshot_id : "");
    c->resolved_config_ref = (char *)(ids->resolve_id ? ids->resolve_id : "");
    c->config_hash = (char *)(ids->config_hash ? ids->config_hash : "");
    c->effective_at_unix_ms = ids->effective_at_ms;
    return c;
}

static char *str_or(const json_t *obj, const char *name, const char *dflt)
{
    const char *s = a_json_str(obj, name);
    return (char *)(s ? s : dflt);
}

static Mediation__V1__ConstraintsLite *constraints_from_bwl(med_arena *a, const json_t *bwl,
                                                            const char *version)
{
    Mediation__V1__ConstraintsLite *c =
        NEW(a, Mediation__V1__ConstraintsLite, mediation__v1__constraints_lite__init);
    Mediation__V1__CategoryConstraints *cat =
        NEW(a, Mediation__V1__CategoryConstraints, mediation__v1__category_constraints__init);
    Mediation__V1__SourceConstraints *src =
        NEW(a, Mediation__V1__SourceConstraints, mediation__v1__source_constraints__init);
    Mediation__V1__PersonalizationConstraints *pers = NEW(
        a, Mediation__V1__PersonalizationConstraints, mediation__v1__personalization_constraints__init);
    Mediation__V1__RenderConstraints *rend =
        NEW(a, Mediation__V1__RenderConstraints, mediation__v1__render_constraints__init);
    if (!c || !cat || !src || !pers || !rend) return NULL;
    c->constraint_set_version = (char *)(version ? version : "NA");
    cat->bcat = a_json_str_array(a, json_object_get(bwl, "bcat"), &cat->n_bcat);
    cat->badv = a_json_str_array(a, json_object_get(bwl, "badv"), &cat->n_badv);
    src->source_selection_mode = str_or(bwl, "sourceSelectionMode", "all_except_blocked");
    src->allowed_source_ids =
        a_json_str_array(a, json_object_get(bwl, "allowedSourceIds"), &src->n_allowed_source_ids);
    src->blocked_source_ids =
        a_json_str_array(a, json_object_get(bwl, "blockedSourceIds"), &src->n_blocked_source_ids);
    c->category_constraints = cat;
    c->source_constraints = src;
    c->personalization_constraints = pers;
    c->render_constraints = rend;
    return c;
}

/* Gate rules carry the C.3 member names; a document may leave any out. */
static Mediation__V1__PolicyConstraintsLite *gates(med_arena *a, const json_t *pcl)
{
    Mediation__V1__PolicyConstraintsLite *g = NEW(a, Mediation__V1__PolicyConstraintsLite,
                                                  mediation__v1__policy_constraints_lite__init);
    Mediation__V1__ComplianceGateRule *cg =
        NEW(a, Mediation__V1__ComplianceGateRule, mediation__v1__compliance_gate_rule__init);
    Mediation__V1__ConsentAuthGateRule *ca =
        NEW(a, Mediation__V1__ConsentAuthGateRule, mediation__v1__consent_auth_gate_rule__init);
    Mediation__V1__FrequencyCapGateRule *fc =
        NEW(a, Mediation__V1__FrequencyCapGateRule, mediation__v1__frequency_cap_gate_rule__init);
    Mediation__V1__CategoryGateRule *cat =
        NEW(a, Mediation__V1__CategoryGateRule, mediation__v1__category_gate_rule__init);
    if (!g || !cg || !ca || !fc || !cat) return NULL;
    const json_t *j = json_object_get(pcl, "complianceGate");
    cg->hard_blocked = json_is_true(json_object_get(j, "hardBlocked"));
    cg->degrade = json_is_true(json_object_get(j, "degrade"));
    j = json_object_get(pcl, "consentAuthGate");
    ca->blocked_consent_scopes = a_json_str_array(a, json_object_get(j, "blockedConsentScopes"),
                                                  &ca->n_blocked_consent_scopes);
    const json_t *dol = json_object_get(j, "degradeOnLimited");
    if (json_is_boolean(dol)) {
        ca->degrade_on_limited_opt_case =
            A_OPT(MEDIATION__V1__CONSENT_AUTH_GATE_RULE, DEGRADE_ON_LIMITED);
        ca->degrade_on_limited = json_is_true(dol);
    }
    j = json_object_get(pcl, "frequencyCapGate");
    if (json_is_integer(json_object_get(j, "hardCap"))) {
        fc->hard_cap_opt_case = A_OPT(MEDIATION__V1__FREQUENCY_CAP_GATE_RULE, HARD_CAP);
        fc->hard_cap = a_json_int(j, "hardCap", 0);
    }
    if (json_is_integer(json_object_get(j, "degradeThreshold"))) {
        fc->degrade_threshold_opt_case =
            A_OPT(MEDIATION__V1__FREQUENCY_CAP_GATE_RULE, DEGRADE_THRESHOLD);
        fc->degrade_threshold = a_json_int(j, "degradeThreshold", 0);
    }
    j = json_object_get(pcl, "categoryGate");
    cat->hard_blocked_categories = a_json_str_array(a, json_object_get(j, "hardBlockedCategories"),
                                                    &cat->n_hard_blocked_categories);
    cat->degraded_categories = a_json_str_array(a, json_object_get(j, "degradedCategories"),
                                                &cat->n_degraded_categories);
    g->compliance_gate = cg;
    g->consent_auth_gate = ca;
    g->frequency_cap_gate = fc;
    g->category_gate = cat;
    return g;
}

Mediation__V1__PolicySnapshotLite *a_lite_policy(med_arena *a, const json_t *policy_doc,
                                                 const json_t *bwl_doc, const char *policy_ref,
                                                 const a_snapshot_ids *ids)
{
    Mediation__V1__PolicySnapshotLite *p =
        NEW(a, Mediation__V1__PolicySnapshotLite, mediation__v1__policy_snapshot_lite__init);
    if (!p) return NULL;
    p->policy_snapshot_id = (char *)(ids->snapshot_id ? ids->snapshot_id : "");
    p->resolved_config_ref = (char *)(ids->resolve_id ? ids->resolve_id : "");
    p->config_hash = (char *)(ids->config_hash ? ids->config_hash : "");
    p->effective_at_unix_ms = ids->effective_at_ms;
    p->policy_snapshot_version = (char *)(policy_ref ? policy_ref : "NA");
    p->policy_pack_version = str_or(policy_doc, "policyPackVersion", "NA");
    p->policy_rule_version = str_or(policy_doc, "policyRuleVersion", "NA");
    p->snapshot_source = (char *)"resolvedConfigSnapshot";
    p->failure_mode = str_or(policy_doc, "failureMode", "fail_closed");
    int64_t ttl = a_json_int(policy_doc, "ttlSec", 0);
    if (ttl > 0) {
        p->expire_at_or_na_unix_ms_opt_case =
            A_OPT(MEDIATION__V1__POLICY_SNAPSHOT_LITE, EXPIRE_AT_OR_NA_UNIX_MS);
        p->expire_at_or_na_unix_ms = ids->effective_at_ms + ttl * 1000;
    }
    const json_t *pcl = json_object_get(policy_doc, "policyConstraintsLite");
    p->policy_constraints_lite = gates(a, pcl);
    if (p->policy_constraints_lite)
        p->policy_constraints_lite->constraints_lite =
            constraints_from_bwl(a, bwl_doc, policy_ref);
    return p;
}

Mediation__V1__RoutingContextLite *a_lite_routing(med_arena *a, const json_t *route_doc)
{
    Mediation__V1__RoutingContextLite *r =
        NEW(a, Mediation__V1__RoutingContextLite, mediation__v1__routing_context_lite__init);
    Mediation__V1__ExecutionStrategyLite *e =
        NEW(a, Mediation__V1__ExecutionStrategyLite, mediation__v1__execution_strategy_lite__init);
    if (!r || !e) return NULL;
    r->routing_policy_version = str_or(route_doc, "routingPolicyVersion", "NA");
    r->route_budget_ms = a_json_int(route_doc, "routeBudgetMs", 0);
    r->fallback_profile_version = str_or(route_doc, "fallbackProfileVersion", "NA");
    const json_t *es = json_object_get(route_doc, "executionStrategyLite");
    e->strategy_type = str_or(es, "strategyType", "");
    e->strategy_timeout_ms = a_json_int(es, "strategyTimeoutMs", 0);
    e->fallback_policy = str_or(es, "fallbackPolicy", "");
    e->execution_strategy_version = str_or(es, "executionStrategyVersion", "");
    if (json_is_integer(json_object_get(es, "parallelFanout"))) {
        e->parallel_fanout_opt_case = A_OPT(MEDIATION__V1__EXECUTION_STRATEGY_LITE, PARALLEL_FANOUT);
        e->parallel_fanout = (int32_t)a_json_int(es, "parallelFanout", 1);
    }
    if (json_is_boolean(json_object_get(es, "enableSecondaryBidding"))) {
        e->enable_secondary_bidding_opt_case =
            A_OPT(MEDIATION__V1__EXECUTION_STRATEGY_LITE, ENABLE_SECONDARY_BIDDING);
        e->enable_secondary_bidding = json_is_true(json_object_get(es, "enableSecondaryBidding"));
    }
    r->execution_strategy_lite = e;
    return r;
}

#define UI MEDIATION__V1__UI_CONSTRAINT_PROFILE_LITE
#define UI_INT(u, obj, name, field, FIELD)                                \
    do {                                                                  \
        if (json_is_integer(json_object_get(obj, name))) {                \
            (u)->field##_opt_case = A_OPT(UI, FIELD);                     \
            (u)->field = (int32_t)a_json_int(obj, name, 0);               \
        }                                                                 \
    } while (0)
#define UI_BOOL(u, obj, name, field, FIELD)                               \
    do {                                                                  \
        if (json_is_boolean(json_object_get(obj, name))) {                \
            (u)->field##_opt_case = A_OPT(UI, FIELD);                     \
            (u)->field = json_is_true(json_object_get(obj, name));        \
        }                                                                 \
    } while (0)

/* An object profile maps member by member; a string names a profile. */
static Mediation__V1__UiConstraintProfileLite *ui_profile(med_arena *a, const json_t *v)
{
    if (!json_is_object(v) && !json_is_string(v)) return NULL;
    Mediation__V1__UiConstraintProfileLite *u = NEW(a, Mediation__V1__UiConstraintProfileLite,
                                                    mediation__v1__ui_constraint_profile_lite__init);
    if (!u) return NULL;
    if (json_is_string(v)) {
        u->ui_constraint_profile_version = (char *)json_string_value(v);
        return u;
    }
    UI_INT(u, v, "maxHeightPx", max_height_px, MAX_HEIGHT_PX);
    UI_INT(u, v, "maxWidthPx", max_width_px, MAX_WIDTH_PX);
    UI_INT(u, v, "safeMaxHeightPx", safe_max_height_px, SAFE_MAX_HEIGHT_PX);
    UI_INT(u, v, "safeMaxWidthPx", safe_max_width_px, SAFE_MAX_WIDTH_PX);
    UI_INT(u, v, "maxCardCount", max_card_count, MAX_CARD_COUNT);
    UI_BOOL(u, v, "safeAreaRequired", safe_area_required, SAFE_AREA_REQUIRED);
    UI_BOOL(u, v, "clickGuardEnabled", click_guard_enabled, CLICK_GUARD_ENABLED);
    UI_BOOL(u, v, "closeable", closeable, CLOSEABLE);
    u->blocked_scene_tags =
        a_json_str_array(a, json_object_get(v, "blockedSceneTags"), &u->n_blocked_scene_tags);
    const char *tid = a_json_str(v, "templateId");
    if (tid) {
        u->template_id_opt_case = A_OPT(UI, TEMPLATE_ID);
        u->template_id = (char *)tid;
    }
    u->ui_constraint_profile_version = str_or(v, "uiConstraintProfileVersion", "");
    return u;
}

static Mediation__V1__DisclosurePolicyLite *disclosure(med_arena *a, const json_t *v)
{
    Mediation__V1__DisclosurePolicyLite *d =
        NEW(a, Mediation__V1__DisclosurePolicyLite, mediation__v1__disclosure_policy_lite__init);
    if (!d || !json_is_object(v)) return d;
    const char *s;
    if ((s = a_json_str(v, "label"))) {
        d->label_opt_case = A_OPT(MEDIATION__V1__DISCLOSURE_POLICY_LITE, LABEL);
        d->label = (char *)s;
    }
    if ((s = a_json_str(v, "labelPosition"))) {
        d->label_position_opt_case = A_OPT(MEDIATION__V1__DISCLOSURE_POLICY_LITE, LABEL_POSITION);
        d->label_position = (char *)s;
    }
    if (json_is_boolean(json_object_get(v, "mustBeVisible"))) {
        d->must_be_visible_opt_case = A_OPT(MEDIATION__V1__DISCLOSURE_POLICY_LITE, MUST_BE_VISIBLE);
        d->must_be_visible = json_is_true(json_object_get(v, "mustBeVisible"));
    }
    return d;
}

Mediation__V1__PlacementSpecLite *a_lite_placement_spec(med_arena *a, const json_t *placement_doc,
                                                        const json_t *template_whitelist_doc,
                                                        const char *placement_id,
                                                        const char *placement_config_version)
{
    Mediation__V1__PlacementSpecLite *p =
        NEW(a, Mediation__V1__PlacementSpecLite, mediation__v1__placement_spec_lite__init);
    if (!p) return NULL;
    p->placement_key = (char *)(placement_id ? placement_id : "");
    p->placement_type = str_or(placement_doc, "placementType", "");
    p->placement_surface = str_or(placement_doc, "placementSurface", "");
    p->placement_config_version = (char *)(placement_config_version ? placement_config_version : "NA");
    const json_t *tw = json_object_get(template_whitelist_doc, p->placement_type);
    if (!json_is_object(tw)) return p;
    p->allowed_render_modes = a_json_str_array(a, json_object_get(tw, "allowedRenderModes"),
                                               &p->n_allowed_render_modes);
    p->max_render_count = (int32_t)a_json_int(tw, "maxRenderCount", 0);
    p->ui_constraint_profile = ui_profile(a, json_object_get(tw, "uiConstraintProfile"));
    p->disclosure_policy = disclosure(a, json_object_get(tw, "disclosurePolicy"));
    if (json_is_integer(json_object_get(tw, "renderTtlMs"))) {
        p->render_ttl_ms_opt_case = A_OPT(MEDIATION__V1__PLACEMENT_SPEC_LITE, RENDER_TTL_MS);
        p->render_ttl_ms = a_json_int(tw, "renderTtlMs", 0);
    }
    return p;
}

#define DC MEDIATION__V1__DEVICE_CAPABILITIES_LITE
#define DC_BOOL(d, obj, name, field, FIELD)                               \
    do {                                                                  \
        if (json_is_boolean(json_object_get(obj, name))) {                \
            (d)->field##_opt_case = A_OPT(DC, FIELD);                     \
            (d)->field = json_is_true(json_object_get(obj, name));        \
        }                                                                 \
    } while (0)

Mediation__V1__DeviceCapabilitiesLite *a_lite_device_caps(med_arena *a, const json_t *caps,
                                                          const char *sdk_version)
{
    if (!json_is_object(caps)) return NULL;
    Mediation__V1__DeviceCapabilitiesLite *d = NEW(a, Mediation__V1__DeviceCapabilitiesLite,
                                                   mediation__v1__device_capabilities_lite__init);
    if (!d) return NULL;
    d->platform_type = str_or(caps, "platformType", "");
    d->sdk_version = str_or(caps, "sdkVersion", sdk_version ? sdk_version : "");
    d->supported_render_modes = a_json_str_array(a, json_object_get(caps, "supportedRenderModes"),
                                                 &d->n_supported_render_modes);
    DC_BOOL(d, caps, "webviewSupported", webview_supported, WEBVIEW_SUPPORTED);
    DC_BOOL(d, caps, "mraidSupported", mraid_supported, MRAID_SUPPORTED);
    DC_BOOL(d, caps, "videoVastSupported", video_vast_supported, VIDEO_VAST_SUPPORTED);
    if (json_is_integer(json_object_get(caps, "maxRenderSlotCount"))) {
        d->max_render_slot_count_opt_case = A_OPT(DC, MAX_RENDER_SLOT_COUNT);
        d->max_render_slot_count = (int32_t)a_json_int(caps, "maxRenderSlotCount", 0);
    }
    d->device_capability_profile_version = str_or(caps, "deviceCapabilityProfileVersion", "");
    return d;
}
