#include "b_arena.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct b_arena_chunk {
    b_arena_chunk *next;
    max_align_t data[];
};

void *b_arena_alloc(b_arena *a, size_t size)
{
    b_arena_chunk *c = calloc(1, sizeof *c + size);
    if (!c) {
        a->failed = 1;
        return NULL;
    }
    c->next = a->head;
    a->head = c;
    return c->data;
}

char *b_arena_strdup(b_arena *a, const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = b_arena_alloc(a, n);
    if (d) memcpy(d, s, n);
    return d;
}

char *b_arena_printf(b_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        a->failed = 1;
        return NULL;
    }
    char *d = b_arena_alloc(a, (size_t)n + 1);
    if (!d) return NULL;
    va_start(ap, fmt);
    vsnprintf(d, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return d;
}

void b_arena_free(b_arena *a)
{
    b_arena_chunk *c = a->head;
    while (c) {
        b_arena_chunk *n = c->next;
        free(c);
        c = n;
    }
    a->head = NULL;
    a->failed = 0;
}
