#include "a_json.h"

#include <stdlib.h>

const char *a_json_str(const json_t *obj, const char *name)
{
    const json_t *v = obj ? json_object_get(obj, name) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

char *a_json_text(med_arena *a, const json_t *v)
{
    if (!v) return NULL;
    return med_arena_adopt(a, json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS));
}

char *a_json_scalar_text(med_arena *a, const json_t *v)
{
    if (json_is_string(v)) return (char *)json_string_value(v);
    if (json_is_number(v) || json_is_boolean(v)) return a_json_text(a, v);
    return NULL;
}

char **a_json_str_array(med_arena *a, const json_t *arr, size_t *n)
{
    *n = 0;
    if (!json_is_array(arr) || json_array_size(arr) == 0) return NULL;
    char **out = med_arena_alloc(a, json_array_size(arr) * sizeof *out);
    if (!out) return NULL;
    size_t i;
    const json_t *v;
    json_array_foreach(arr, i, v)
        if (json_is_string(v)) out[(*n)++] = (char *)json_string_value(v);
    return out;
}

int64_t a_json_int(const json_t *obj, const char *name, int64_t dflt)
{
    const json_t *v = obj ? json_object_get(obj, name) : NULL;
    if (json_is_integer(v)) return (int64_t)json_integer_value(v);
    if (json_is_real(v)) return (int64_t)json_real_value(v);
    return dflt;
}
