#include "d_strlist.h"

#include <stdlib.h>
#include <string.h>

int d_strlist_has(const d_str_list *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i], s) == 0) return 1;
    return 0;
}

int d_strlist_add(d_str_list *l, const char *s)
{
    if (!s || d_strlist_has(l, s)) return 0;
    char **grown = realloc(l->items, (l->n + 1) * sizeof *grown);
    if (!grown) return -1;
    l->items = grown;
    l->items[l->n] = strdup(s);
    if (!l->items[l->n]) return -1;
    l->n++;
    return 0;
}

int d_strlist_add_json(d_str_list *l, const json_t *arr)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
        if (json_is_string(v) && d_strlist_add(l, json_string_value(v)) != 0) return -1;
    return 0;
}

int d_strlist_add_all(d_str_list *l, const d_str_list *from)
{
    for (size_t i = 0; i < from->n; i++)
        if (d_strlist_add(l, from->items[i]) != 0) return -1;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void d_strlist_sort(d_str_list *l)
{
    if (l->n > 1) qsort(l->items, l->n, sizeof *l->items, cmp_str);
}

void d_strlist_free(d_str_list *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

void d_copy_str(char *dst, size_t cap, const char *src)
{
    if (!cap) return;
    size_t n = src ? strlen(src) : 0;
    if (n >= cap) n = cap - 1;
    if (n) memcpy(dst, src, n);
    dst[n] = '\0';
}
