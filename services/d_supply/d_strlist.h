/* A growable list of owned strings (source IDs, categories, domains). */
#ifndef D_STRLIST_H
#define D_STRLIST_H

#include <jansson.h>
#include "d_types.h"

/* Appends a copy of s unless already present (lists keep the first entry).
 * 0, or -1 on ENOMEM. */
int d_strlist_add(d_str_list *l, const char *s);
int d_strlist_has(const d_str_list *l, const char *s);
/* Adds every string member of a JSON array (non-strings skipped). */
int d_strlist_add_json(d_str_list *l, const json_t *arr);
int d_strlist_add_all(d_str_list *l, const d_str_list *from);
void d_strlist_sort(d_str_list *l);
void d_strlist_free(d_str_list *l);

/* Bounded copy that always terminates (NULL src -> ""). */
void d_copy_str(char *dst, size_t cap, const char *src);

#endif
