/* E.3 input checks and E.4 input anchors: turns an eComposeInputLite into
 * the checked view every later rule reads. Pure. */
#ifndef E_INPUT_H
#define E_INPUT_H

#include "e_types.h"
#include "med/err.h"
#include "mediation/v1/compose.pb-c.h"

#define E_DEFAULT_RENDER_TTL_MS 5000
#define E_ANCHOR_COUNT 8

/* E.4 input anchors in spec order. */
typedef struct e_anchors {
    const char *e_compose_input_contract_version;
    const char *d_output_contract_version;
    const char *schema_version;
    const char *placement_config_version;
    const char *render_policy_version;
    const char *device_capability_profile_version;
    const char *routing_policy_version;
    const char *constraint_set_version;
} e_anchors;

typedef struct e_input {
    /* borrowed from the ComposeInput */
    const Mediation__V1__DToEOutputLite *d;
    const Mediation__V1__PlacementSpecLite *placement;
    const Mediation__V1__NormalizedCandidateLite *winner; /* served only */
    const Mediation__V1__ConstraintsLite *constraints;    /* may be NULL */
    const char *compose_source;
    const char *compose_mode;
    const char *route_outcome;
    const char *route_final_code;
    const char *scene_tag;
    const char *frequency_cap_state; /* none | soft | hard */
    int sensitive_scene_blocked;
    int served;
    /* placement and device after rows 6, 7, 9 */
    e_modeset placement_modes;
    e_modeset device_modes;
    int webview_supported, mraid_supported, video_supported;
    int max_render_count;
    int max_render_slot_count;
    int64_t compose_request_at_ms;
    int64_t render_ttl_ms; /* as received (or default); E.7 corrects */
    e_anchors anchors;
    e_warnings warnings;
} e_input;

/* Runs E.3 rows 1..11 in order. A reject returns MED_ERR_INVALID with
 * err->code = the raw code (e_compose_*, e_ui_constraint_invalid) and
 * err->field the offending path; *out keeps what was read so far (the
 * keys of the error Delivery). now_ms is E's clock for composeRequestAt. */
med_rc e_input_check(const Mediation__V1__EComposeInputLite *lite, int64_t now_ms, e_input *out,
                     med_err *err);

/* The candidate of d whose (sourceId, candidateId) is the winner; NULL. */
const Mediation__V1__NormalizedCandidateLite *
e_input_find_winner(const Mediation__V1__DToEOutputLite *d);

#endif
