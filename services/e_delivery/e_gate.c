#include "e_gate.h"

#include <string.h>

#include "med/reason.h"

static e_modeset policy_disallowed(const e_input *in)
{
    const Mediation__V1__ConstraintsLite *c = in->constraints;
    if (!c || !c->render_constraints) return 0;
    e_modeset set = 0;
    const Mediation__V1__RenderConstraints *r = c->render_constraints;
    for (size_t i = 0; i < r->n_disallow_render_modes; i++) {
        e_mode m = e_mode_parse(r->disallow_render_modes[i]);
        if (m != E_MODE_NONE) set |= E_MODE_BIT(m);
    }
    return set;
}

static const char *device_fail_code(e_mode m)
{
    switch (m) {
    case E_MODE_MRAID: return MED_R_E_GATE_MRAID_NOT_SUPPORTED;
    case E_MODE_WEBVIEW: return MED_R_E_GATE_WEBVIEW_NOT_SUPPORTED;
    case E_MODE_NATIVE: return MED_R_E_GATE_NATIVE_NOT_SUPPORTED;
    default: return MED_R_E_GATE_VIDEO_NOT_SUPPORTED;
    }
}

static int device_flag(const e_input *in, e_mode m)
{
    switch (m) {
    case E_MODE_MRAID: return in->mraid_supported;
    case E_MODE_WEBVIEW: return in->webview_supported;
    case E_MODE_NATIVE: return in->max_render_slot_count >= 1;
    default: return in->video_supported;
    }
}

/* Policy first (whatever else), then placement, then device. */
static e_mode_eval evaluate(const e_input *in, e_modeset disallowed, e_mode m)
{
    e_mode_eval ev = { .mode = m, .pass = 0, .reason_code = NULL };
    if (disallowed & E_MODE_BIT(m))
        ev.reason_code = MED_R_E_GATE_POLICY_MODE_DISALLOWED;
    else if (!(in->placement_modes & E_MODE_BIT(m)) || !(in->device_modes & E_MODE_BIT(m)) ||
             !device_flag(in, m))
        ev.reason_code = device_fail_code(m);
    else {
        ev.pass = 1;
        ev.reason_code = MED_R_E_GATE_MODE_PASS;
    }
    return ev;
}

void e_gate_evaluate(const e_input *in, e_gate *out)
{
    memset(out, 0, sizeof *out);
    out->policy_disallowed = policy_disallowed(in);
    /* video leads the chain only when the placement lists it */
    int video_first = (in->placement_modes & E_MODE_BIT(E_MODE_VIDEO)) != 0;
    const e_mode order_video[E_MODE_COUNT] = { E_MODE_VIDEO, E_MODE_MRAID, E_MODE_WEBVIEW, E_MODE_NATIVE };
    const e_mode order_plain[E_MODE_COUNT] = { E_MODE_MRAID, E_MODE_WEBVIEW, E_MODE_NATIVE, E_MODE_VIDEO };
    const e_mode *order = video_first ? order_video : order_plain;
    for (int i = 0; i < E_MODE_COUNT; i++) {
        e_mode m = order[i];
        out->evals[i] = evaluate(in, out->policy_disallowed, m);
        if (!(in->placement_modes & E_MODE_BIT(m))) continue;
        out->chain[out->n_chain++] = m;
        if (out->evals[i].pass)
            out->eligible[out->n_eligible++] = m;
        else if (out->evals[i].reason_code == MED_R_E_GATE_POLICY_MODE_DISALLOWED)
            out->any_policy_failure = 1;
    }
    if (out->n_eligible > 0)
        out->final_gate_code = MED_R_E_GATE_MODE_PASS;
    else if (out->any_policy_failure)
        out->final_gate_code = MED_R_E_GATE_POLICY_MODE_DISALLOWED;
    else
        out->final_gate_code = MED_R_E_GATE_ALL_MODES_REJECTED;
}

const e_mode_eval *e_gate_eval_of(const e_gate *g, e_mode m)
{
    for (int i = 0; i < E_MODE_COUNT; i++)
        if (g->evals[i].mode == m) return &g->evals[i];
    return NULL;
}
