/* E.6 candidate consumption (top1_strict) and the validation chain of the
 * evaluated winner: material, policy flags, disclosure, UI safety. */
#ifndef E_VALIDATE_H
#define E_VALIDATE_H

#include "e_gate.h"
#include "e_ui.h"

#define E_STAGE_MATERIAL "material_integrity_check"
#define E_STAGE_POLICY "policy_flag_intercept"
#define E_STAGE_DISCLOSURE "disclosure_check"
#define E_STAGE_UI "ui_safety_check"

#define E_ACTION_ALLOW "allow"
#define E_ACTION_DEGRADE "degrade"
#define E_ACTION_BLOCK "block"

typedef struct e_stage_rec {
    const char *stage_name;
    const char *action;       /* allow | degrade | block */
    const char *reason_code;
} e_stage_rec;

typedef struct e_adjust {
    const char *field_path;
    const char *from;
    const char *to;
} e_adjust;

typedef struct e_dropped {
    const Mediation__V1__NormalizedCandidateLite *cand;
    const char *reason_code;
} e_dropped;

#define E_MAX_DROPPED 32

typedef struct e_validation {
    int evaluated;                        /* the winner went through the chain */
    e_stage_rec stages[4];
    int n_stages;
    e_modeset modes_left;
    e_degrade_entry lost[E_MODE_COUNT];   /* modes validation removed, why */
    int n_lost;
    e_adjust adjustments[4];
    int n_adjust;
    int blocked;
    const char *block_stage;
    const char *block_code;
    const char *final_action;             /* allow | degrade | block | none */
    const char *final_code;
    /* the outcome */
    e_mode mode;                          /* E_MODE_NONE unless the winner renders */
    e_degrade_entry degrade_path[E_MODE_COUNT];
    int n_degrade_path;
    /* candidateConsumptionDecision */
    const char *selection_mode;
    int scanned;
    e_dropped dropped[E_MAX_DROPPED];
    int n_dropped;
    const char *consumption_code;
} e_validation;

/* Consumes the candidates of a checked input under its gate result. */
void e_validate(const e_input *in, const e_gate *gate, const e_ui *ui, e_validation *out);

/* "https://host/..." -> 1 */
int e_url_is_https(const char *url);

#endif
