/* Small JSON helpers over jansson for A's builders: text of scalars and
 * string arrays copied into the request arena. */
#ifndef A_JSON_H
#define A_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include "med/arena.h"

/* Proto oneof case constant: A_OPT(MEDIATION__V1__SOURCE_SLOT_LITE, APP_ID). */
#define A_OPT_(msg, FIELD) msg##__##FIELD##_OPT_##FIELD
#define A_OPT(msg, FIELD) A_OPT_(msg, FIELD)

/* A string member, or NULL. */
const char *a_json_str(const json_t *obj, const char *name);
/* A scalar as text: strings as they are, numbers and booleans as their
 * JSON text (arena). NULL for null, objects, arrays and absent values. */
char *a_json_scalar_text(med_arena *a, const json_t *v);
/* The compact JSON text of any value (arena). */
char *a_json_text(med_arena *a, const json_t *v);
/* Strings of an array (other members skipped) into an arena array. */
char **a_json_str_array(med_arena *a, const json_t *arr, size_t *n);
/* Integer member or dflt. */
int64_t a_json_int(const json_t *obj, const char *name, int64_t dflt);

#endif
