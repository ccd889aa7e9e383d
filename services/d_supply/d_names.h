/* Wire strings of D's enums, and their parsers (exact, canonical values
 * only: aliases are mapped by the rule that reads the raw value). */
#ifndef D_NAMES_H
#define D_NAMES_H

#include "d_types.h"

const char *d_tier_name(d_tier t);             /* primary|secondary|fallback|none */
const char *d_status_name(d_status s);
const char *d_strategy_name(d_strategy s);
const char *d_fallback_policy_name(d_fallback_policy p);
const char *d_selection_mode_name(d_selection_mode m);
const char *d_outcome_type_name(d_outcome_type t);
const char *d_route_action_name(d_route_action a);
const char *d_transport_name(d_transport t);

/* 0 and *out set when s is a canonical value, -1 otherwise. */
int d_tier_parse(const char *s, d_tier *out);
int d_status_parse(const char *s, d_status *out);
int d_strategy_parse(const char *s, d_strategy *out);
int d_fallback_policy_parse(const char *s, d_fallback_policy *out);
int d_selection_mode_parse(const char *s, d_selection_mode *out);

#endif
