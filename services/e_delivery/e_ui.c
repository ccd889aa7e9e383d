#include "e_ui.h"

#include <string.h>

#include "e_types.h"

#define PROF(x) MEDIATION__V1__UI_CONSTRAINT_PROFILE_LITE__##x
#define DISC(x) MEDIATION__V1__DISCLOSURE_POLICY_LITE__##x

static void resolve_profile(const Mediation__V1__UiConstraintProfileLite *u, e_ui *out)
{
    out->max_height_px = E_UI_DEFAULT_PX;
    out->max_width_px = E_UI_DEFAULT_PX;
    out->safe_max_height_px = E_UI_SAFE_MAX_PX;
    out->safe_max_width_px = E_UI_SAFE_MAX_PX;
    out->safe_area_required = out->click_guard_enabled = out->closeable = 1;
    if (!u) return;
    if (u->max_height_px_opt_case == PROF(MAX_HEIGHT_PX_OPT_MAX_HEIGHT_PX)) out->max_height_px = u->max_height_px;
    if (u->max_width_px_opt_case == PROF(MAX_WIDTH_PX_OPT_MAX_WIDTH_PX)) out->max_width_px = u->max_width_px;
    if (u->safe_max_height_px_opt_case == PROF(SAFE_MAX_HEIGHT_PX_OPT_SAFE_MAX_HEIGHT_PX))
        out->safe_max_height_px = u->safe_max_height_px;
    if (u->safe_max_width_px_opt_case == PROF(SAFE_MAX_WIDTH_PX_OPT_SAFE_MAX_WIDTH_PX))
        out->safe_max_width_px = u->safe_max_width_px;
    if (u->safe_area_required_opt_case == PROF(SAFE_AREA_REQUIRED_OPT_SAFE_AREA_REQUIRED))
        out->safe_area_required = u->safe_area_required != 0;
    if (u->click_guard_enabled_opt_case == PROF(CLICK_GUARD_ENABLED_OPT_CLICK_GUARD_ENABLED))
        out->click_guard_enabled = u->click_guard_enabled != 0;
    if (u->closeable_opt_case == PROF(CLOSEABLE_OPT_CLOSEABLE)) out->closeable = u->closeable != 0;
    if (u->max_card_count_opt_case == PROF(MAX_CARD_COUNT_OPT_MAX_CARD_COUNT))
        out->max_card_count = u->max_card_count;
    if (u->template_id_opt_case == PROF(TEMPLATE_ID_OPT_TEMPLATE_ID) && !e_blank(u->template_id))
        out->template_id = u->template_id;
}

static void resolve_disclosure(const Mediation__V1__DisclosurePolicyLite *d, e_ui *out)
{
    out->disclosure_label = "Sponsored";
    out->label_position = "top_left";
    out->must_be_visible = 1;
    if (!d) return;
    if (d->label_opt_case == DISC(LABEL_OPT_LABEL)) {
        out->disclosure_label = d->label ? d->label : "";
        out->disclosure_label_set = 1;
    }
    if (d->label_position_opt_case == DISC(LABEL_POSITION_OPT_LABEL_POSITION))
        out->label_position = d->label_position ? d->label_position : "";
    if (d->must_be_visible_opt_case == DISC(MUST_BE_VISIBLE_OPT_MUST_BE_VISIBLE))
        out->must_be_visible = d->must_be_visible != 0;
}

void e_ui_resolve(const Mediation__V1__PlacementSpecLite *p, e_ui *out)
{
    memset(out, 0, sizeof *out);
    resolve_profile(p ? p->ui_constraint_profile : NULL, out);
    resolve_disclosure(p ? p->disclosure_policy : NULL, out);
}

int e_ui_disclosure_valid(const e_ui *ui)
{
    static const char *const positions[] = { "top_left", "top_right", "bottom_left", "bottom_right" };
    if (e_blank(ui->disclosure_label) || !ui->must_be_visible) return 0;
    for (size_t i = 0; i < sizeof positions / sizeof *positions; i++)
        if (strcmp(ui->label_position, positions[i]) == 0) return 1;
    return 0;
}

int e_ui_size_valid(const e_ui *ui)
{
    return ui->max_height_px >= 1 && ui->max_height_px <= ui->safe_max_height_px &&
           ui->max_width_px >= 1 && ui->max_width_px <= ui->safe_max_width_px;
}

int e_ui_scene_blocked(const Mediation__V1__PlacementSpecLite *p, const char *tag)
{
    const Mediation__V1__UiConstraintProfileLite *u = p ? p->ui_constraint_profile : NULL;
    if (!u || e_blank(tag)) return 0;
    for (size_t i = 0; i < u->n_blocked_scene_tags; i++)
        if (u->blocked_scene_tags[i] && strcmp(u->blocked_scene_tags[i], tag) == 0) return 1;
    return 0;
}
