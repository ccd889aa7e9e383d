#include "med/rows.h"

#include <string.h>

int med_rows_put(json_t *row, const char *column, const char *value)
{
    return json_object_set_new(row, column, value ? json_string(value) : json_null());
}

size_t med_rows_next_tenant_group(const char *const *tenants, size_t n, unsigned char *taken,
                                  size_t *idx)
{
    size_t first = 0;
    while (first < n && (taken[first] || !tenants[first])) first++;
    size_t k = 0;
    for (size_t i = first; i < n; i++)
        if (!taken[i] && tenants[i] && strcmp(tenants[i], tenants[first]) == 0) {
            taken[i] = 1;
            idx[k++] = i;
        }
    return k;
}
