/* Small jansson builders shared by Module H's JSON renderers (snapshots,
 * decision audits, GET bodies), so each file does not carry its own copy. */
#ifndef H_JSON_H
#define H_JSON_H

#include <jansson.h>
#include <stddef.h>

/* [v[0], ..., v[n-1]] as a new array; NULL when out of memory. */
json_t *h_json_strings(const char *const *v, size_t n);
/* v sorted bytewise (in place) with duplicates dropped, as a new array;
 * NULL when out of memory. */
json_t *h_json_sorted_unique(const char **v, size_t n);

#endif
