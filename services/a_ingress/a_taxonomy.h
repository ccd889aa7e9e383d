/* A.3: trigger taxonomy, the placement override and the placement's
 * allowed trigger types. Pure. */
#ifndef A_TAXONOMY_H
#define A_TAXONOMY_H

#include <jansson.h>
#include <stddef.h>
#include "med/err.h"

#define A_TRIGGER_TYPE_MAX 64

typedef struct a_sensing {
    char trigger_type[A_TRIGGER_TYPE_MAX];  /* canonical; "unknown_trigger_type" outside the table */
    const char *trigger_decision;   /* pre-override outcome (opportunity_*) */
    const char *decision_outcome;   /* final outcome */
    const char *hit_type;
    const char *mapping_code;       /* a_trg_map_* */
    const char *trigger_action;     /* create_opportunity | no_op | reject */
    const char *decision_action;    /* allow | block | reject */
    double confidence_band;
} a_sensing;

/* Trim, lowercase, space/hyphen runs -> '_', "__" collapsed. */
void a_trigger_type_normalize(const char *raw, char *out, size_t cap);

/* Maps raw triggerType through the table, then applies the placement
 * document (NULL = none): enabled=false turns eligible into blocked with
 * a_trg_map_overridden_by_policy. has_score/score: intentScoreOrNA.
 * Returns MED_ERR_INVALID + a_trg_invalid_trigger_type (field
 * triggerContext.triggerType) for unknown types and for an eligible type
 * missing from a non-empty allowedTriggerTypes; *out is filled either way
 * (mapping code a_trg_map_unknown_trigger_reject for unknown types). */
med_rc a_taxonomy_map(const char *raw_trigger_type, const json_t *placement_doc, int has_score,
                      double score, a_sensing *out, med_err *err);

#endif
