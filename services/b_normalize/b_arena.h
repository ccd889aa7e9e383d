/* Bump allocator for one normalization: every protobuf object and string B
 * builds for its outputs lives here and is freed at once, so the pipeline
 * never has to track ownership of hundreds of small pieces. */
#ifndef B_ARENA_H
#define B_ARENA_H

#include <stddef.h>

typedef struct b_arena_chunk b_arena_chunk;

typedef struct b_arena {
    b_arena_chunk *head;
    int failed; /* set once an allocation failed; callers check at the end */
} b_arena;

/* Zeroed memory, NULL (and a->failed) on ENOMEM. */
void *b_arena_alloc(b_arena *a, size_t size);
/* NULL in -> NULL out (not a failure). */
char *b_arena_strdup(b_arena *a, const char *s);
char *b_arena_printf(b_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void b_arena_free(b_arena *a);

#define B_NEW(a, T) ((T *)b_arena_alloc((a), sizeof(T)))
#define B_NEWN(a, T, n) ((T *)b_arena_alloc((a), sizeof(T) * ((n) ? (n) : 1)))

#endif
