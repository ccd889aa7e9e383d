/* Allocation arena for building one output's protobuf tree: every node and
 * string of the tree comes from here and is freed in one call. */
#ifndef D_ARENA_H
#define D_ARENA_H

#include <stddef.h>

typedef struct d_arena {
    void **blocks;
    size_t n;
    int failed;           /* sticky: one allocation failed */
} d_arena;

void *d_arena_alloc(d_arena *a, size_t size);        /* zeroed; NULL on ENOMEM */
char *d_arena_str(d_arena *a, const char *s);        /* NULL s -> "" */
char *d_arena_printf(d_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void d_arena_free(d_arena *a);

#endif
