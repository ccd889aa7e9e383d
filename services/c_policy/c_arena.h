/* A bump allocator for the protobuf messages C builds per input: every
 * sub-message and pointer array of one output set lives here and is freed
 * at once after packing, so builders need no per-field free path. */
#ifndef C_ARENA_H
#define C_ARENA_H

#include <stddef.h>

typedef struct c_arena_block c_arena_block;

typedef struct c_arena {
    c_arena_block *head;
} c_arena;

void c_arena_init(c_arena *a);
/* Zeroed memory, or NULL when out of memory. */
void *c_arena_alloc(c_arena *a, size_t n);
void c_arena_free(c_arena *a);

#endif
