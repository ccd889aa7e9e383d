#include "e_validate.h"

#include <string.h>

#include "med/reason.h"

int e_url_is_https(const char *url)
{
    return url && strncmp(url, "https://", 8) == 0 && url[8] && url[8] != '/';
}

static void add_stage(e_validation *v, const char *name, const char *action, const char *code)
{
    if (v->n_stages < 4) v->stages[v->n_stages++] = (e_stage_rec){ name, action, code };
}

static void lose_mode(e_validation *v, e_mode m, const char *code)
{
    if (!(v->modes_left & E_MODE_BIT(m))) return;
    v->modes_left &= ~E_MODE_BIT(m);
    v->lost[v->n_lost++] = (e_degrade_entry){ m, code };
}

static e_mode first_left(const e_gate *g, e_modeset left)
{
    for (int i = 0; i < g->n_eligible; i++)
        if (left & E_MODE_BIT(g->eligible[i])) return g->eligible[i];
    return E_MODE_NONE;
}

static void block(e_validation *v, const char *stage, const char *code)
{
    add_stage(v, stage, E_ACTION_BLOCK, code);
    v->blocked = 1;
    v->block_stage = stage;
    v->block_code = code;
}

/* Which asset a mode lacks: NULL when complete. */
static const char *material_gap(const Mediation__V1__NormalizedCandidateLite *c, e_mode m)
{
    const Mediation__V1__RenderAssetsLite *ra = c->render_assets;
    switch (m) {
    case E_MODE_NATIVE:
        if (e_blank(c->creative_ref ? c->creative_ref->creative_id : NULL) || c->n_asset_refs == 0 ||
            e_blank(c->destination_ref))
            return MED_R_E_MATERIAL_MISSING_REQUIRED;
        return NULL;
    case E_MODE_WEBVIEW:
        if (!ra || e_blank(ra->webview_url)) return MED_R_E_MATERIAL_MISSING_REQUIRED;
        return e_url_is_https(ra->webview_url) ? NULL : MED_R_E_MATERIAL_INVALID_FORMAT;
    case E_MODE_MRAID:
        return !ra || e_blank(ra->html_snippet_ref) ? MED_R_E_MATERIAL_MISSING_REQUIRED : NULL;
    default:
        if (!ra || e_blank(ra->vast_tag_url) || !ra->video_slot_spec) return MED_R_E_MATERIAL_MISSING_REQUIRED;
        return e_url_is_https(ra->vast_tag_url) ? NULL : MED_R_E_MATERIAL_INVALID_FORMAT;
    }
}

static int material_check(const e_input *in, const e_gate *g, e_validation *v)
{
    const char *last = NULL;
    for (int i = 0; i < g->n_eligible; i++) {
        const char *gap = material_gap(in->winner, g->eligible[i]);
        if (gap) {
            lose_mode(v, g->eligible[i], gap);
            last = gap;
        }
    }
    if (!v->modes_left) {
        block(v, E_STAGE_MATERIAL, last ? last : MED_R_E_MATERIAL_MISSING_REQUIRED);
        return 0;
    }
    add_stage(v, E_STAGE_MATERIAL, last ? E_ACTION_DEGRADE : E_ACTION_ALLOW,
              last ? last : E_NONE);
    return 1;
}

static int has_flag(const Mediation__V1__NormalizedCandidateLite *c, const char *flag)
{
    for (size_t i = 0; i < c->n_policy_flags; i++)
        if (c->policy_flags[i] && strcmp(c->policy_flags[i], flag) == 0) return 1;
    return 0;
}

/* Degrade to native_card only ("never a more intrusive mode"). */
static int degrade_to_native(const e_gate *g, e_validation *v, const char *stage, const char *code)
{
    if (!(v->modes_left & E_MODE_BIT(E_MODE_NATIVE))) {
        block(v, stage, code);
        return 0;
    }
    e_mode before = first_left(g, v->modes_left);
    for (int m = 0; m < E_MODE_COUNT; m++)
        if (m != E_MODE_NATIVE) lose_mode(v, (e_mode)m, code);
    if (before != E_MODE_NATIVE && v->n_adjust < 4)
        v->adjustments[v->n_adjust++] =
            (e_adjust){ "renderPlanLite.renderMode", e_mode_name(before), e_mode_name(E_MODE_NATIVE) };
    add_stage(v, stage, E_ACTION_DEGRADE, code);
    return 1;
}

static int policy_check(const e_input *in, const e_gate *g, e_validation *v)
{
    if (has_flag(in->winner, "hard_block")) {
        block(v, E_STAGE_POLICY, MED_R_E_POLICY_HARD_BLOCKED);
        return 0;
    }
    if (in->sensitive_scene_blocked) {
        block(v, E_STAGE_POLICY, MED_R_E_POLICY_SENSITIVE_SCENE_BLOCKED);
        return 0;
    }
    if (has_flag(in->winner, "soft_risk"))
        return degrade_to_native(g, v, E_STAGE_POLICY, MED_R_E_POLICY_SOFT_DEGRADED);
    add_stage(v, E_STAGE_POLICY, E_ACTION_ALLOW, MED_R_E_POLICY_PASSED);
    return 1;
}

static int disclosure_check(const e_ui *ui, e_validation *v)
{
    if (!e_ui_disclosure_valid(ui)) {
        block(v, E_STAGE_DISCLOSURE, MED_R_E_DISCLOSURE_INVALID);
        return 0;
    }
    add_stage(v, E_STAGE_DISCLOSURE, E_ACTION_ALLOW, E_NONE);
    return 1;
}

static int ui_check(const e_input *in, const e_gate *g, const e_ui *ui, e_validation *v)
{
    if (!e_ui_size_valid(ui)) {
        block(v, E_STAGE_UI, MED_R_E_UI_SIZE_OUT_OF_BOUND);
        return 0;
    }
    if (strcmp(in->frequency_cap_state, "hard") == 0) {
        block(v, E_STAGE_UI, MED_R_E_UI_FREQUENCY_HARD_CAP);
        return 0;
    }
    if (e_ui_scene_blocked(in->placement, in->scene_tag)) {
        block(v, E_STAGE_UI, MED_R_E_UI_SENSITIVE_SCENE_BLOCKED);
        return 0;
    }
    if (strcmp(in->frequency_cap_state, "soft") == 0)
        return degrade_to_native(g, v, E_STAGE_UI, MED_R_E_UI_FREQUENCY_SOFT_CAP);
    add_stage(v, E_STAGE_UI, E_ACTION_ALLOW, E_NONE);
    return 1;
}

static void run_chain(const e_input *in, const e_gate *g, const e_ui *ui, e_validation *v)
{
    v->evaluated = 1;
    v->modes_left = 0;
    for (int i = 0; i < g->n_eligible; i++) v->modes_left |= E_MODE_BIT(g->eligible[i]);
    if (material_check(in, g, v) && policy_check(in, g, v) && disclosure_check(ui, v))
        ui_check(in, g, ui, v);
    v->mode = v->blocked ? E_MODE_NONE : first_left(g, v->modes_left);
}

static const char *lost_code(const e_validation *v, e_mode m)
{
    for (int i = 0; i < v->n_lost; i++)
        if (v->lost[i].mode == m) return v->lost[i].reason_code;
    return NULL;
}

/* Chain modes before the used one, or every failed one when none is used. */
static void build_degrade_path(const e_gate *g, e_validation *v)
{
    for (int i = 0; i < g->n_chain; i++) {
        e_mode m = g->chain[i];
        if (m == v->mode) break;
        const e_mode_eval *ev = e_gate_eval_of(g, m);
        const char *code = ev && !ev->pass ? ev->reason_code : lost_code(v, m);
        if (!code && v->blocked) code = v->block_code;
        if (code) v->degrade_path[v->n_degrade_path++] = (e_degrade_entry){ m, code };
    }
}

static void drop(e_validation *v, const Mediation__V1__NormalizedCandidateLite *c, const char *code)
{
    if (v->n_dropped < E_MAX_DROPPED) v->dropped[v->n_dropped++] = (e_dropped){ c, code };
}

static const char *all_blocked_code(const e_validation *v)
{
    if (v->block_stage && strcmp(v->block_stage, E_STAGE_DISCLOSURE) == 0)
        return MED_R_E_DISCLOSURE_ALL_REJECTED;
    if (v->block_stage && strcmp(v->block_stage, E_STAGE_MATERIAL) == 0) return MED_R_E_MATERIAL_ALL_REJECTED;
    return MED_R_E_CANDIDATE_ALL_REJECTED;
}

static void finish_validation_summary(e_validation *v)
{
    if (!v->evaluated) {
        v->final_action = E_NONE;
        v->final_code = MED_R_E_CANDIDATE_NOT_SELECTED;
        return;
    }
    if (v->blocked) {
        v->final_action = E_ACTION_BLOCK;
        v->final_code = all_blocked_code(v);
        return;
    }
    v->final_action = E_ACTION_ALLOW;
    v->final_code = MED_R_E_POLICY_PASSED;
    for (int i = 0; i < v->n_stages; i++)
        if (strcmp(v->stages[i].action, E_ACTION_DEGRADE) == 0) {
            v->final_action = E_ACTION_DEGRADE;
            v->final_code = v->stages[i].reason_code;
            break;
        }
}

void e_validate(const e_input *in, const e_gate *gate, const e_ui *ui, e_validation *out)
{
    memset(out, 0, sizeof *out);
    out->mode = E_MODE_NONE;
    out->selection_mode = "top1_strict";
    const Mediation__V1__DToEOutputLite *d = in->d;
    const Mediation__V1__NormalizedCandidateLite *w = in->served ? in->winner : NULL;
    for (size_t i = 0; d && i < d->n_normalized_candidates; i++)
        if (d->normalized_candidates[i] != w) drop(out, d->normalized_candidates[i], MED_R_E_CANDIDATE_NOT_SELECTED);
    if (!w) {
        out->consumption_code = MED_R_E_NO_CANDIDATE_INPUT;
        finish_validation_summary(out);
        return;
    }
    out->scanned = 1;
    if (!w->candidate_status || strcmp(w->candidate_status, "eligible") != 0) {
        drop(out, w, MED_R_E_CANDIDATE_NOT_ELIGIBLE);
        out->consumption_code = MED_R_E_CANDIDATE_NOT_RENDERABLE_AFTER_COMPOSE;
        finish_validation_summary(out);
        return;
    }
    if (gate->n_eligible > 0) run_chain(in, gate, ui, out);
    build_degrade_path(gate, out);
    finish_validation_summary(out);
    if (out->mode == E_MODE_NONE) {
        drop(out, w, out->blocked ? out->block_code : gate->final_gate_code);
        out->consumption_code = MED_R_E_CANDIDATE_NOT_RENDERABLE_AFTER_COMPOSE;
    } else {
        out->consumption_code = MED_R_E_RENDER_CANDIDATE_SELECTED;
    }
}
