/* E.6/E.7 UI constraints: the placement's uiConstraintProfile and
 * disclosurePolicy with the spec defaults applied (320 x 320 px, booleans
 * true, "Sponsored" top_left visible). */
#ifndef E_UI_H
#define E_UI_H

#include "mediation/v1/common.pb-c.h"

#define E_UI_DEFAULT_PX 320
#define E_UI_SAFE_MAX_PX 4096

typedef struct e_ui {
    int max_height_px, max_width_px;
    int safe_max_height_px, safe_max_width_px;
    int safe_area_required, click_guard_enabled, closeable;
    int max_card_count; /* 0 = profile has none */
    const char *template_id; /* NULL = default */
    const char *disclosure_label;    /* borrowed or static */
    const char *label_position;
    int must_be_visible;
    int disclosure_label_set; /* label present in the policy (maybe blank) */
} e_ui;

void e_ui_resolve(const Mediation__V1__PlacementSpecLite *p, e_ui *out);

/* disclosure_check: 1 when label, position and visibility are valid. */
int e_ui_disclosure_valid(const e_ui *ui);
/* Both sizes within [1, safe max]. */
int e_ui_size_valid(const e_ui *ui);
/* tag listed in the profile's blockedSceneTags. */
int e_ui_scene_blocked(const Mediation__V1__PlacementSpecLite *p, const char *tag);

#endif
