#include "med/arena.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *med_arena_adopt(med_arena *a, void *p)
{
    if (!p) {
        a->failed = 1;
        return NULL;
    }
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 32;
        void **np = realloc(a->ptrs, cap * sizeof *np);
        if (!np) {
            free(p);
            a->failed = 1;
            return NULL;
        }
        a->ptrs = np;
        a->cap = cap;
    }
    a->ptrs[a->n++] = p;
    return p;
}

void *med_arena_alloc(med_arena *a, size_t size)
{
    return med_arena_adopt(a, calloc(1, size ? size : 1));
}

char *med_arena_strdup(med_arena *a, const char *s)
{
    return s ? med_arena_adopt(a, strdup(s)) : NULL;
}

char *med_arena_printf(med_arena *a, const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    return n < 0 ? med_arena_adopt(a, NULL) : med_arena_adopt(a, s);
}

void med_arena_free(med_arena *a)
{
    for (size_t i = 0; i < a->n; i++) free(a->ptrs[i]);
    free(a->ptrs);
    memset(a, 0, sizeof *a);
}

void med_arena_init(med_arena *a)
{
    memset(a, 0, sizeof *a);
}
