/* B.4 enum dictionary: token rule, canonical values, aliases (built-in plus
 * the schema document's enumAliases), unknown_* fallback. */
#ifndef B_ENUM_H
#define B_ENUM_H

#include <stddef.h>
#include <jansson.h>
#include "med/err.h"

#define B_MAP_EXACT   "exact_match"
#define B_MAP_ALIAS   "alias_map"
#define B_MAP_UNKNOWN "unknown_fallback"

typedef struct b_enum_result {
    char value[64];              /* canonical or unknown_* */
    const char *mapping_action;  /* B_MAP_* */
} b_enum_result;

/* trim, lowercase, space/hyphen runs -> '_', "__" collapsed. */
void b_enum_token(const char *raw, char *out, size_t cap);
/* raw NULL is treated as unknown. doc_aliases: {slot: {alias: canonical}}
 * (NULL = built-ins only); an alias whose target is not canonical is
 * ignored (aliases must target canonical values). Unknown slot name ->
 * MED_ERR_INVALID b_invalid_structure. */
med_rc b_enum_normalize(const char *slot, const char *raw, const json_t *doc_aliases,
                        b_enum_result *out, med_err *err);
/* Slots whose unknown value rejects (B.4 "gating"). */
int b_enum_is_gating(const char *slot);
int b_enum_is_unknown(const char *value);
/* unknown_* value of a slot, NULL for an unknown slot. */
const char *b_enum_unknown_of(const char *slot);

#endif
