/* One request's allocations for the protobuf messages A builds: every
 * pointer the builders hand out lives until a_arena_free, so a partly
 * built message never leaks and packing never needs a per-field free. */
#ifndef A_ARENA_H
#define A_ARENA_H

#include <stddef.h>

typedef struct a_arena {
    void **ptrs;
    size_t n, cap;
    int failed;        /* an allocation failed: the result is incomplete */
} a_arena;

void *a_arena_alloc(a_arena *a, size_t size);               /* zeroed; NULL + failed on ENOMEM */
char *a_arena_strdup(a_arena *a, const char *s);            /* NULL s -> NULL */
char *a_arena_printf(a_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Takes ownership of p (malloc'd); frees it now when tracking fails. */
void *a_arena_adopt(a_arena *a, void *p);
void a_arena_free(a_arena *a);

#endif
