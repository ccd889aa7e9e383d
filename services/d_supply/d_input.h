/* D.1 input checks: PolicyDecision -> d_ctx, in the spec's order. A reject
 * calls no adapter. Strings in the context are borrowed from pd. */
#ifndef D_INPUT_H
#define D_INPUT_H

#include <jansson.h>
#include "d_ctx.h"
#include "med/err.h"
#include "mediation/v1/policy.pb-c.h"

typedef struct d_input {
    d_ctx ctx;
    d_constraints cons;
    int budget_corrected;        /* d_invalid_route_budget_corrected (degrade) */
    int64_t original_route_budget_ms;
} d_input;

/* Checks 1-7 and 9. loaded_config_hash: hash of the config entry D read
 * (NULL when it could not be read). MED_ERR_INVALID with the check code in
 * err->code on a reject; in->ctx keys are filled as far as they exist. */
med_rc d_input_check(const Mediation__V1__PolicyDecision *pd, const char *loaded_config_hash,
                     d_input *in, med_err *err);

/* Merges the black_white_list document into the constraints: blocked IDs,
 * bcat and badv add up; an allowlist in the document narrows the pool. */
int d_input_merge_bwl(d_constraints *c, const json_t *bwl);

/* Check 8, once the registry is built: at least one source registered. */
med_rc d_input_check_supply(d_input *in, const d_registry *reg, med_err *err);

void d_input_free(d_input *in);

/* An anchor is 1-128 characters of [A-Za-z0-9_.:-]. */
int d_anchor_valid(const char *s);

#endif
