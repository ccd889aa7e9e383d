#include "d_arena.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *track(d_arena *a, void *p)
{
    if (!p) {
        a->failed = 1;
        return NULL;
    }
    void **grown = realloc(a->blocks, (a->n + 1) * sizeof *grown);
    if (!grown) {
        free(p);
        a->failed = 1;
        return NULL;
    }
    a->blocks = grown;
    a->blocks[a->n++] = p;
    return p;
}

void *d_arena_alloc(d_arena *a, size_t size)
{
    return track(a, calloc(1, size ? size : 1));
}

char *d_arena_str(d_arena *a, const char *s)
{
    return track(a, strdup(s ? s : ""));
}

char *d_arena_printf(d_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    return track(a, n < 0 ? NULL : s);
}

void d_arena_free(d_arena *a)
{
    for (size_t i = 0; i < a->n; i++) free(a->blocks[i]);
    free(a->blocks);
    a->blocks = NULL;
    a->n = 0;
}
