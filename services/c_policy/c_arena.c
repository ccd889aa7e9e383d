#include "c_arena.h"

#include <stdlib.h>

struct c_arena_block {
    c_arena_block *next;
    max_align_t payload[]; /* keeps every allocation aligned */
};

void c_arena_init(c_arena *a)
{
    a->head = NULL;
}

void *c_arena_alloc(c_arena *a, size_t n)
{
    /* One block per allocation: a message set holds a few dozen objects,
     * so simplicity beats packing them into pages. */
    c_arena_block *b = calloc(1, sizeof *b + (n ? n : 1));
    if (!b) return NULL;
    b->next = a->head;
    a->head = b;
    return b->payload;
}

void c_arena_free(c_arena *a)
{
    while (a->head) {
        c_arena_block *next = a->head->next;
        free(a->head);
        a->head = next;
    }
}
