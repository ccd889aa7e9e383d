/* Requests waiting for their reply, keyed by request key. Used only on
 * the edge's loop thread, so it takes no locks. */
#ifndef EDGE_PENDING_H
#define EDGE_PENDING_H

#include <stddef.h>

typedef struct edge_pending_table edge_pending_table;

edge_pending_table *edge_pending_new(void);
/* 0 on success; -1 when the key is already present or memory ran out. */
int edge_pending_put(edge_pending_table *t, const char *key, void *value);
/* Removes and returns the value, NULL when absent. */
void *edge_pending_take(edge_pending_table *t, const char *key);
void *edge_pending_get(const edge_pending_table *t, const char *key);
size_t edge_pending_count(const edge_pending_table *t);
/* Removes and returns any one value (NULL when empty): for draining. */
void *edge_pending_take_any(edge_pending_table *t);
/* Frees the table; values are the caller's. */
void edge_pending_free(edge_pending_table *t);

#endif
