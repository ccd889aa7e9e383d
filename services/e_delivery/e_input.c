#include "e_input.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "med/reason.h"

#define CAPS(x) MEDIATION__V1__DEVICE_CAPABILITIES_LITE__##x
#define CTX(x) MEDIATION__V1__COMPOSE_CONTEXT_LITE__##x

static med_rc reject(med_err *err, const char *code, const char *field, const char *why)
{
    return med_err_set(err, MED_ERR_INVALID, code, field, "%s", why);
}

static int none_or_blank(const char *s)
{
    return e_blank(s) || strcmp(s, E_NONE) == 0 || strcmp(s, E_NA) == 0;
}

static int is_empty_message(const ProtobufCMessage *m)
{
    return protobuf_c_message_get_packed_size(m) == 0;
}

/* Row 1 */
static med_rc check_structure(const Mediation__V1__EComposeInputLite *lite, med_err *err)
{
    if (!lite || is_empty_message(&lite->base))
        return reject(err, MED_R_E_COMPOSE_INVALID_STRUCTURE, "eComposeInputLite", "not an object");
    if (lite->d_to_e_output_lite && is_empty_message(&lite->d_to_e_output_lite->base))
        return reject(err, MED_R_E_COMPOSE_INVALID_STRUCTURE, "dToEOutputLite", "empty object");
    if (lite->placement_spec_lite && is_empty_message(&lite->placement_spec_lite->base))
        return reject(err, MED_R_E_COMPOSE_INVALID_STRUCTURE, "placementSpecLite", "empty object");
    return MED_OK;
}

/* Row 2. proto3 cannot tell an absent string key from an empty one, so
 * "key present" is read as: the sub-message exists; the served=true
 * content rules are row 4. */
static med_rc check_auction_required(const Mediation__V1__DToEOutputLite *d, med_err *err)
{
    const char *code = MED_R_E_COMPOSE_MISSING_AUCTION_REQUIRED;
    if (!d) return reject(err, code, "dToEOutputLite", "absent");
    if (e_blank(d->opportunity_key)) return reject(err, code, "dToEOutputLite.opportunityKey", "missing");
    if (e_blank(d->trace_key)) return reject(err, code, "dToEOutputLite.traceKey", "missing");
    if (e_blank(d->request_key)) return reject(err, code, "dToEOutputLite.requestKey", "missing");
    if (e_blank(d->attempt_key)) return reject(err, code, "dToEOutputLite.attemptKey", "missing");
    const Mediation__V1__AuctionDecisionLite *a = d->auction_decision_lite;
    if (!a) return reject(err, code, "dToEOutputLite.auctionDecisionLite", "absent");
    if (!a->winner) return reject(err, code, "auctionDecisionLite.winner", "missing");
    if (!a->price) return reject(err, code, "auctionDecisionLite.price", "missing");
    if (!a->creative_handle) return reject(err, code, "auctionDecisionLite.creativeHandle", "missing");
    if (!a->debug_ref) return reject(err, code, "auctionDecisionLite.debugRef", "missing");
    if (!d->route_conclusion || e_blank(d->route_conclusion->route_outcome))
        return reject(err, code, "dToEOutputLite.routeConclusion.routeOutcome", "missing");
    return MED_OK;
}

/* Row 3 */
static med_rc check_consistency(const Mediation__V1__DToEOutputLite *d, med_err *err)
{
    const char *code = MED_R_E_COMPOSE_INCONSISTENT_AUCTION_RESULT;
    size_t n = d->n_normalized_candidates;
    if ((d->has_candidate != 0) != (n > 0) || d->candidate_count < 0 || (size_t)d->candidate_count != n)
        return reject(err, code, "dToEOutputLite.hasCandidate", "hasCandidate/count/list disagree");
    const char *route = d->route_conclusion->route_outcome;
    if (d->auction_decision_lite->served) {
        if (strcmp(route, "served_candidate") != 0 || !d->has_candidate)
            return reject(err, code, "auctionDecisionLite.served", "served but route is not served_candidate");
    } else if (strcmp(route, "no_fill") != 0 && strcmp(route, "error") != 0) {
        return reject(err, code, "routeConclusion.routeOutcome", "not served but route is not no_fill/error");
    }
    return MED_OK;
}

const Mediation__V1__NormalizedCandidateLite *
e_input_find_winner(const Mediation__V1__DToEOutputLite *d)
{
    const Mediation__V1__AuctionWinnerLite *w =
        d && d->auction_decision_lite ? d->auction_decision_lite->winner : NULL;
    if (!w || !w->source_id || !w->candidate_id) return NULL;
    for (size_t i = 0; i < d->n_normalized_candidates; i++) {
        const Mediation__V1__NormalizedCandidateLite *c = d->normalized_candidates[i];
        if (c && c->source_id && c->source_candidate_id && strcmp(c->source_id, w->source_id) == 0 &&
            strcmp(c->source_candidate_id, w->candidate_id) == 0)
            return c;
    }
    return NULL;
}

/* Row 4 */
static med_rc check_winner_binding(const Mediation__V1__DToEOutputLite *d, e_input *out,
                                   med_err *err)
{
    const Mediation__V1__AuctionDecisionLite *a = d->auction_decision_lite;
    if (!a->served) return MED_OK;
    const char *code = MED_R_E_COMPOSE_WINNER_BINDING_INVALID;
    if (none_or_blank(a->winner->source_id) || none_or_blank(a->winner->candidate_id))
        return reject(err, code, "auctionDecisionLite.winner", "winner ids empty");
    if (!(a->price->value > 0)) return reject(err, code, "auctionDecisionLite.price.value", "not > 0");
    if (none_or_blank(a->creative_handle->creative_id))
        return reject(err, code, "auctionDecisionLite.creativeHandle.creativeId", "empty");
    out->winner = e_input_find_winner(d);
    if (!out->winner) return reject(err, code, "auctionDecisionLite.winner", "winner not in the list");
    return MED_OK;
}

/* Row 5 */
static med_rc check_placement(const Mediation__V1__PlacementSpecLite *p, med_err *err)
{
    const char *code = MED_R_E_COMPOSE_MISSING_PLACEMENT_REQUIRED;
    if (!p) return reject(err, code, "placementSpecLite", "absent");
    if (e_blank(p->placement_key)) return reject(err, code, "placementSpecLite.placementKey", "missing");
    if (e_blank(p->placement_type)) return reject(err, code, "placementSpecLite.placementType", "missing");
    if (e_blank(p->placement_surface))
        return reject(err, code, "placementSpecLite.placementSurface", "missing");
    if (p->n_allowed_render_modes == 0)
        return reject(err, code, "placementSpecLite.allowedRenderModes", "missing");
    return MED_OK;
}

/* Row 6 for one list: unknown modes are dropped with a warning. */
static e_modeset parse_modes(char **modes, size_t n, const char *path, e_warnings *w)
{
    e_modeset set = 0;
    for (size_t i = 0; i < n; i++) {
        e_mode m = e_mode_parse(modes[i]);
        if (m == E_MODE_NONE)
            e_warn(w, MED_R_E_COMPOSE_INVALID_RENDER_MODE, path, "drop", modes[i], "");
        else
            set |= E_MODE_BIT(m);
    }
    return set;
}

/* Row 7 */
static int corrected_count(int32_t v, const char *path, e_warnings *w)
{
    if (v >= 1) return v;
    char orig[24];
    snprintf(orig, sizeof orig, "%" PRId32, v);
    e_warn(w, MED_R_E_COMPOSE_INVALID_NUMERIC_CORRECTED, path, "correct", orig, "1");
    return 1;
}

static int device_complete(const Mediation__V1__DeviceCapabilitiesLite *dv)
{
    return dv && !e_blank(dv->platform_type) && !e_blank(dv->sdk_version) &&
           dv->webview_supported_opt_case == CAPS(WEBVIEW_SUPPORTED_OPT_WEBVIEW_SUPPORTED) &&
           dv->mraid_supported_opt_case == CAPS(MRAID_SUPPORTED_OPT_MRAID_SUPPORTED) &&
           dv->video_vast_supported_opt_case == CAPS(VIDEO_VAST_SUPPORTED_OPT_VIDEO_VAST_SUPPORTED) &&
           dv->max_render_slot_count_opt_case == CAPS(MAX_RENDER_SLOT_COUNT_OPT_MAX_RENDER_SLOT_COUNT);
}

/* Rows 6, 7 and 9 over placement and device. */
static med_rc check_modes_and_counts(const Mediation__V1__EComposeInputLite *lite, e_input *out,
                                     med_err *err)
{
    const Mediation__V1__PlacementSpecLite *p = lite->placement_spec_lite;
    const Mediation__V1__DeviceCapabilitiesLite *dv = lite->device_capabilities_lite;
    out->placement_modes = parse_modes(p->allowed_render_modes, p->n_allowed_render_modes,
                                       "placementSpecLite.allowedRenderModes", &out->warnings);
    if (!out->placement_modes)
        return reject(err, MED_R_E_COMPOSE_INVALID_RENDER_MODE, "placementSpecLite.allowedRenderModes",
                      "no known render mode left");
    if (dv) {
        out->device_modes = parse_modes(dv->supported_render_modes, dv->n_supported_render_modes,
                                        "deviceCapabilitiesLite.supportedRenderModes",
                                        &out->warnings);
        if (dv->n_supported_render_modes > 0 && !out->device_modes)
            return reject(err, MED_R_E_COMPOSE_INVALID_RENDER_MODE,
                          "deviceCapabilitiesLite.supportedRenderModes", "no known render mode left");
    }
    out->max_render_count = corrected_count(p->max_render_count, "placementSpecLite.maxRenderCount",
                                            &out->warnings);
    if (dv && dv->max_render_slot_count_opt_case == CAPS(MAX_RENDER_SLOT_COUNT_OPT_MAX_RENDER_SLOT_COUNT))
        out->max_render_slot_count = corrected_count(
            dv->max_render_slot_count, "deviceCapabilitiesLite.maxRenderSlotCount", &out->warnings);
    return MED_OK;
}

/* Row 8 */
static med_rc check_ui_objects(const Mediation__V1__PlacementSpecLite *p, med_err *err)
{
    if (!p->ui_constraint_profile)
        return reject(err, MED_R_E_UI_CONSTRAINT_INVALID, "placementSpecLite.uiConstraintProfile",
                      "not an object");
    if (!p->disclosure_policy)
        return reject(err, MED_R_E_UI_CONSTRAINT_INVALID, "placementSpecLite.disclosurePolicy",
                      "not an object");
    return MED_OK;
}

/* Row 9 */
static med_rc check_device(const Mediation__V1__DeviceCapabilitiesLite *dv, e_input *out,
                           med_err *err)
{
    if (device_complete(dv)) {
        out->webview_supported = dv->webview_supported != 0;
        out->mraid_supported = dv->mraid_supported != 0;
        out->video_supported = dv->video_vast_supported != 0;
        return MED_OK;
    }
    e_warn(&out->warnings, MED_R_E_COMPOSE_MISSING_DEVICE_CAPABILITIES, "deviceCapabilitiesLite",
           "default", dv ? "incomplete" : "absent", "[native_card]");
    if (!(out->placement_modes & E_MODE_BIT(E_MODE_NATIVE)))
        return reject(err, MED_R_E_COMPOSE_MISSING_DEVICE_CAPABILITIES, "deviceCapabilitiesLite",
                      "no device capabilities and the placement has no native_card");
    out->device_modes = E_MODE_BIT(E_MODE_NATIVE);
    out->webview_supported = out->mraid_supported = out->video_supported = 0;
    out->max_render_slot_count = 1;
    return MED_OK;
}

static const char *first_filled(const char *a, const char *b, const char *c)
{
    if (!e_blank(a)) return a;
    if (!e_blank(b)) return b;
    return c;
}

/* Row 10 / E.4: blank D and constraint anchors are taken from dToE. */
static med_rc check_anchors(const Mediation__V1__EComposeInputLite *lite, e_input *out,
                            med_err *err)
{
    const Mediation__V1__EInputVersionAnchorsLite *v = lite->version_anchors;
    const Mediation__V1__DToEOutputLite *d = lite->d_to_e_output_lite;
    const Mediation__V1__DVersionAnchorsLite *dv = d->version_anchors;
    const char *cset = d->policy_constraints_lite ? d->policy_constraints_lite->constraint_set_version
                                                  : NULL;
    e_anchors *a = &out->anchors;
    a->e_compose_input_contract_version = v ? v->e_compose_input_contract_version : NULL;
    a->d_output_contract_version =
        first_filled(v ? v->d_output_contract_version : NULL, dv ? dv->d_output_contract_version : NULL, NULL);
    a->schema_version = v ? v->schema_version : NULL;
    a->placement_config_version = v ? v->placement_config_version : NULL;
    a->render_policy_version = v ? v->render_policy_version : NULL;
    a->device_capability_profile_version = v ? v->device_capability_profile_version : NULL;
    a->routing_policy_version =
        first_filled(v ? v->routing_policy_version : NULL, dv ? dv->routing_policy_version : NULL, NULL);
    a->constraint_set_version = first_filled(v ? v->constraint_set_version : NULL,
                                             dv ? dv->constraint_set_version : NULL, cset);
    const char *const vals[E_ANCHOR_COUNT] = {
        a->e_compose_input_contract_version, a->d_output_contract_version, a->schema_version,
        a->placement_config_version, a->render_policy_version, a->device_capability_profile_version,
        a->routing_policy_version, a->constraint_set_version,
    };
    static const char *const names[E_ANCHOR_COUNT] = {
        "versionAnchors.eComposeInputContractVersion", "versionAnchors.dOutputContractVersion",
        "versionAnchors.schemaVersion", "versionAnchors.placementConfigVersion",
        "versionAnchors.renderPolicyVersion", "versionAnchors.deviceCapabilityProfileVersion",
        "versionAnchors.routingPolicyVersion", "versionAnchors.constraintSetVersion",
    };
    for (int i = 0; i < E_ANCHOR_COUNT; i++)
        if (e_blank(vals[i]))
            return reject(err, MED_R_E_COMPOSE_INVALID_VERSION_ANCHOR, names[i], "blank anchor");
    return MED_OK;
}

/* Row 11: optional context fields get defaults, each with a warning. */
static void apply_context(const Mediation__V1__EComposeInputLite *lite, int64_t now_ms,
                          e_input *out)
{
    const Mediation__V1__ComposeContextLite *c = lite->compose_context_lite;
    const char *code = MED_R_E_COMPOSE_OPTIONAL_DEFAULT_APPLIED;
    char buf[24];
    if (c && c->compose_request_at_unix_ms_opt_case == CTX(COMPOSE_REQUEST_AT_UNIX_MS_OPT_COMPOSE_REQUEST_AT_UNIX_MS)) {
        out->compose_request_at_ms = c->compose_request_at_unix_ms;
    } else {
        out->compose_request_at_ms = now_ms;
        snprintf(buf, sizeof buf, "%" PRId64, now_ms);
        e_warn(&out->warnings, code, "composeContextLite.composeRequestAt", "default", "", buf);
    }
    if (c && c->compose_mode_opt_case == CTX(COMPOSE_MODE_OPT_COMPOSE_MODE) && !e_blank(c->compose_mode)) {
        out->compose_mode = c->compose_mode;
    } else {
        out->compose_mode = "sync_delivery";
        e_warn(&out->warnings, code, "composeContextLite.composeMode", "default", "", "sync_delivery");
    }
    if (c && c->compose_source_opt_case == CTX(COMPOSE_SOURCE_OPT_COMPOSE_SOURCE) && !e_blank(c->compose_source)) {
        out->compose_source = c->compose_source;
    } else {
        out->compose_source = E_SOURCE_D_ROUTE;
        e_warn(&out->warnings, code, "composeContextLite.composeSource", "default", "", E_SOURCE_D_ROUTE);
    }
    const Mediation__V1__PlacementSpecLite *p = lite->placement_spec_lite;
    if (c && c->render_ttl_ms_opt_case == CTX(RENDER_TTL_MS_OPT_RENDER_TTL_MS)) {
        out->render_ttl_ms = c->render_ttl_ms;
    } else if (p->render_ttl_ms_opt_case == MEDIATION__V1__PLACEMENT_SPEC_LITE__RENDER_TTL_MS_OPT_RENDER_TTL_MS) {
        out->render_ttl_ms = p->render_ttl_ms;
    } else {
        out->render_ttl_ms = E_DEFAULT_RENDER_TTL_MS;
        e_warn(&out->warnings, code, "composeContextLite.renderTtlMs", "default", "", "5000");
    }
}

/* Policy signals and scene tag: the compose context first, else the
 * winner's copy (D forwards C's signals on the candidate, 00 decision 2). */
static void read_signals(const Mediation__V1__EComposeInputLite *lite, e_input *out)
{
    const Mediation__V1__ComposeContextLite *c = lite->compose_context_lite;
    const Mediation__V1__NormalizedCandidateLite *w = out->winner;
    const Mediation__V1__PolicySignalsLite *s = c ? c->policy_signals_lite : NULL;
    if (!s && w) s = w->policy_signals_lite;
    out->sensitive_scene_blocked = s ? s->sensitive_scene_blocked != 0 : 0;
    out->frequency_cap_state = s && !e_blank(s->frequency_cap_state) ? s->frequency_cap_state : E_NONE;
    out->scene_tag = c && !e_blank(c->scene_tag) ? c->scene_tag : (w ? w->scene_tag : NULL);
}

med_rc e_input_check(const Mediation__V1__EComposeInputLite *lite, int64_t now_ms, e_input *out,
                     med_err *err)
{
    memset(out, 0, sizeof *out);
    out->compose_source = E_SOURCE_D_ROUTE;
    out->compose_request_at_ms = now_ms;
    out->render_ttl_ms = E_DEFAULT_RENDER_TTL_MS;
    med_rc rc = check_structure(lite, err);
    if (rc != MED_OK) return rc;
    const Mediation__V1__DToEOutputLite *d = lite->d_to_e_output_lite;
    out->d = d;
    out->placement = lite->placement_spec_lite;
    if ((rc = check_auction_required(d, err)) != MED_OK) return rc;
    out->served = d->auction_decision_lite->served != 0;
    out->route_outcome = d->route_conclusion->route_outcome;
    out->route_final_code = d->route_conclusion->final_reason_code;
    out->constraints = d->policy_constraints_lite;
    if ((rc = check_consistency(d, err)) != MED_OK) return rc;
    if ((rc = check_winner_binding(d, out, err)) != MED_OK) return rc;
    if ((rc = check_placement(lite->placement_spec_lite, err)) != MED_OK) return rc;
    if ((rc = check_modes_and_counts(lite, out, err)) != MED_OK) return rc;
    if ((rc = check_ui_objects(lite->placement_spec_lite, err)) != MED_OK) return rc;
    if ((rc = check_device(lite->device_capabilities_lite, out, err)) != MED_OK) return rc;
    if ((rc = check_anchors(lite, out, err)) != MED_OK) return rc;
    apply_context(lite, now_ms, out);
    read_signals(lite, out);
    return MED_OK;
}
