/* Small jansson builders shared by Module H's JSON renderers. */
#include "h_json.h"

#include <stdlib.h>
#include <string.h>

json_t *h_json_strings(const char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        if (json_array_append_new(a, json_string(v[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

json_t *h_json_sorted_unique(const char **v, size_t n)
{
    if (n > 1) qsort(v, n, sizeof v[0], cmp_str);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (u == 0 || strcmp(v[i], v[u - 1]) != 0) v[u++] = v[i];
    return h_json_strings(v, u);
}
