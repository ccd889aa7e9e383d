/* One request's allocations for the protobuf messages a stage builds:
 * every pointer handed out lives until med_arena_free, so a partly built
 * message never leaks and packing never needs a per-field free. A zeroed
 * struct is an empty arena. Not thread-safe (one per request). */
#ifndef MED_ARENA_H
#define MED_ARENA_H

#include <stddef.h>

typedef struct med_arena {
    void **ptrs;
    size_t n, cap;
    int failed;        /* sticky: an allocation failed, the result is incomplete */
} med_arena;

void med_arena_init(med_arena *a);
void *med_arena_alloc(med_arena *a, size_t size);       /* zeroed; NULL + failed on ENOMEM */
char *med_arena_strdup(med_arena *a, const char *s);    /* NULL s -> NULL */
char *med_arena_printf(med_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Takes ownership of p (malloc'd); frees it now when tracking fails. */
void *med_arena_adopt(med_arena *a, void *p);
void med_arena_free(med_arena *a);

/* Typed helpers: one T, or n of them (at least one), zeroed. */
#define MED_NEW(a, T) ((T *)med_arena_alloc((a), sizeof(T)))
#define MED_NEWN(a, T, n) ((T *)med_arena_alloc((a), sizeof(T) * ((n) ? (n) : 1)))

#endif
