#include "e_decide.h"

#include <string.h>

#include "med/reason.h"

static int starts(const char *s, const char *prefix)
{
    return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

static int in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0) return 1;
    return 0;
}

const char *e_canonical_of(const char *raw)
{
    static const char *const all_rejected[] = {
        MED_R_E_CANDIDATE_ALL_REJECTED, MED_R_E_MATERIAL_ALL_REJECTED, MED_R_E_UI_SIZE_OUT_OF_BOUND,
        MED_R_E_CANDIDATE_NOT_RENDERABLE_AFTER_COMPOSE, MED_R_E_MATERIAL_MISSING_REQUIRED,
        MED_R_E_MATERIAL_INVALID_FORMAT, MED_R_E_CANDIDATE_NOT_ELIGIBLE, NULL };
    static const char *const gate[] = { MED_R_E_GATE_ALL_MODES_REJECTED,
                                        MED_R_E_GATE_POLICY_MODE_DISALLOWED, NULL };
    static const char *const policy[] = {
        MED_R_E_POLICY_HARD_BLOCKED, MED_R_E_POLICY_SENSITIVE_SCENE_BLOCKED,
        MED_R_E_UI_SENSITIVE_SCENE_BLOCKED, MED_R_E_POLICY_SOFT_DEGRADED, MED_R_C_COMPLIANCE_HARD_BLOCK,
        MED_R_C_CONSENT_SCOPE_BLOCKED, MED_R_C_CATEGORY_RESTRICTED_BLOCK, NULL };
    static const char *const disclosure[] = { MED_R_E_DISCLOSURE_ALL_REJECTED, MED_R_E_DISCLOSURE_INVALID, NULL };
    static const char *const freq[] = { MED_R_E_UI_FREQUENCY_HARD_CAP, MED_R_E_UI_FREQUENCY_SOFT_CAP,
                                        MED_R_C_FREQUENCY_HARD_CAP_BLOCK, NULL };
    static const char *const invalid[] = {
        MED_R_E_COMPOSE_INVALID_STRUCTURE, MED_R_E_COMPOSE_INVALID_RENDER_MODE,
        MED_R_E_COMPOSE_INCONSISTENT_AUCTION_RESULT, MED_R_E_COMPOSE_WINNER_BINDING_INVALID,
        MED_R_E_UI_CONSTRAINT_INVALID, NULL };
    static const char *const upstream[] = {
        MED_R_C_MISSING_REQUIRED_FIELD, MED_R_C_POLICY_ENGINE_ERROR, NULL };
    if (!raw) return MED_R_E_ER_UNKNOWN;
    if (strcmp(raw, MED_R_E_NO_CANDIDATE_INPUT) == 0) return MED_R_E_NF_NO_CANDIDATE_INPUT;
    if (in_list(raw, all_rejected)) return MED_R_E_NF_ALL_CANDIDATE_REJECTED;
    if (in_list(raw, gate)) return MED_R_E_NF_CAPABILITY_GATE_REJECTED;
    if (in_list(raw, policy)) return MED_R_E_NF_POLICY_BLOCKED;
    if (in_list(raw, disclosure)) return MED_R_E_NF_DISCLOSURE_BLOCKED;
    if (in_list(raw, freq)) return MED_R_E_NF_FREQUENCY_CAPPED;
    if (in_list(raw, invalid) || starts(raw, "e_compose_missing_")) return MED_R_E_ER_INVALID_COMPOSE_INPUT;
    if (strcmp(raw, MED_R_E_COMPOSE_INVALID_VERSION_ANCHOR) == 0) return MED_R_E_ER_INVALID_VERSION_ANCHOR;
    if (strcmp(raw, MED_R_E_TRACKING_INJECTION_MISSING) == 0) return MED_R_E_ER_TRACKING_CONTRACT_BROKEN;
    if (strcmp(raw, MED_R_E_RENDER_COMPOSE_ERROR) == 0) return MED_R_E_ER_COMPOSE_RUNTIME_FAILURE;
    if (strcmp(raw, MED_R_E_RENDER_COMPOSE_TIMEOUT) == 0) return MED_R_E_ER_COMPOSE_TIMEOUT;
    if (in_list(raw, upstream) || starts(raw, "c_invalid_") || starts(raw, "c_policy_snapshot_"))
        return MED_R_E_ER_UPSTREAM_ERROR;
    return MED_R_E_ER_UNKNOWN;
}

void e_decision_init(e_decision *d, const char *route_outcome, const char *route_final_code)
{
    memset(d, 0, sizeof *d);
    d->route_outcome = route_outcome && *route_outcome ? route_outcome : E_NA;
    d->route_final_code = route_final_code && *route_final_code ? route_final_code : E_NONE;
}

void e_decision_add(e_decision *d, const char *stage, const char *action, const char *raw,
                    const char *canonical)
{
    if (d->n_actions >= E_MAX_ACTIONS) return;
    d->actions[d->n_actions++] = (e_action_rec){ stage, action, raw ? raw : E_NONE,
                                                 canonical ? canonical : E_NONE };
}

static const e_action_rec *first_with(const e_decision *d, const char *prefix)
{
    for (int i = 0; i < d->n_actions; i++)
        if (starts(d->actions[i].canonical, prefix)) return &d->actions[i];
    return NULL;
}

static const char *fail_strategy(const e_decision *d)
{
    int closed = 0;
    for (int i = 0; i < d->n_actions; i++) {
        const char *a = d->actions[i].action;
        if (strcmp(a, E_ACT_SAFE_PAYLOAD) == 0) return "mixed";
        if (strcmp(a, E_ACT_TERMINAL) == 0 || strcmp(a, E_ACT_BLOCK) == 0) closed = 1;
    }
    return closed ? "fail_closed" : "fail_open";
}

static const char *status_of_route(const char *route)
{
    if (strcmp(route, "served_candidate") == 0) return E_STATUS_SERVED;
    if (strcmp(route, "error") == 0) return E_STATUS_ERROR;
    return E_STATUS_NO_FILL; /* no_fill, C block, A no-op */
}

static void set_final(e_decision *d, const char *status, const e_action_rec *a)
{
    d->status = status;
    d->final_code = a->canonical;
    d->canonical = a->canonical;
    d->raw = a->raw;
    d->failure_class = status;
}

static void consistency(e_decision *d)
{
    const char *route_status = status_of_route(d->route_outcome);
    if (strcmp(route_status, d->status) == 0) {
        d->consistency_action = "pass_through";
        d->consistency_code = E_NONE;
    } else {
        d->consistency_action = "override_by_e";
        d->consistency_code = strcmp(d->status, E_STATUS_NO_FILL) == 0
                                  ? MED_R_E_CANDIDATE_NOT_RENDERABLE_AFTER_COMPOSE
                                  : d->final_code;
    }
}

void e_decision_finish(e_decision *d, int renderable)
{
    static const e_action_rec unknown = { "decision", E_ACT_TERMINAL, "e_er_unknown", "e_er_unknown" };
    const e_action_rec *a;
    if ((a = first_with(d, "e_er_")))
        set_final(d, E_STATUS_ERROR, a);
    else if ((a = first_with(d, "e_nf_")))
        set_final(d, E_STATUS_NO_FILL, a);
    else if (renderable && strcmp(d->route_outcome, "served_candidate") == 0) {
        d->status = E_STATUS_SERVED;
        d->final_code = MED_R_E_RENDER_CANDIDATE_SELECTED;
        d->raw = MED_R_E_RENDER_CANDIDATE_SELECTED;
        d->canonical = E_NONE;
        d->failure_class = E_NONE;
    } else {
        /* E.9 forbidden states (e.g. a failed route turning served) */
        d->self_check_failed = renderable;
        int room = d->n_actions < E_MAX_ACTIONS;
        e_decision_add(d, unknown.stage, unknown.action, MED_R_E_ER_UNKNOWN, MED_R_E_ER_UNKNOWN);
        set_final(d, E_STATUS_ERROR, room ? &d->actions[d->n_actions - 1] : &unknown);
    }
    d->fail_strategy = fail_strategy(d);
    consistency(d);
}
