/* Chained hash table of pending requests (see edge_pending.h). */
#include "edge_pending.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PENDING_INITIAL_BUCKETS 64

typedef struct pending_node {
    struct pending_node *next;
    void *value;
    char key[]; /* NUL-terminated */
} pending_node;

struct edge_pending_table {
    pending_node **buckets;
    size_t nbuckets; /* power of two */
    size_t count;
};

/* FNV-1a: keys are random ids, any decent spread will do. */
static uint64_t hash_key(const char *key)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    return h;
}

edge_pending_table *edge_pending_new(void)
{
    edge_pending_table *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->buckets = calloc(PENDING_INITIAL_BUCKETS, sizeof *t->buckets);
    if (!t->buckets) {
        free(t);
        return NULL;
    }
    t->nbuckets = PENDING_INITIAL_BUCKETS;
    return t;
}

static pending_node **slot_of(const edge_pending_table *t, const char *key)
{
    pending_node **slot = &t->buckets[hash_key(key) & (t->nbuckets - 1)];
    while (*slot && strcmp((*slot)->key, key) != 0) slot = &(*slot)->next;
    return slot;
}

/* Doubling keeps chains short; a failed grow just leaves them longer. */
static void grow(edge_pending_table *t)
{
    size_t n = t->nbuckets * 2;
    pending_node **b = calloc(n, sizeof *b);
    if (!b) return;
    for (size_t i = 0; i < t->nbuckets; i++) {
        pending_node *node = t->buckets[i];
        while (node) {
            pending_node *next = node->next;
            size_t j = hash_key(node->key) & (n - 1);
            node->next = b[j];
            b[j] = node;
            node = next;
        }
    }
    free(t->buckets);
    t->buckets = b;
    t->nbuckets = n;
}

int edge_pending_put(edge_pending_table *t, const char *key, void *value)
{
    if (!t || !key) return -1;
    pending_node **slot = slot_of(t, key);
    if (*slot) return -1;
    size_t klen = strlen(key);
    pending_node *node = malloc(sizeof *node + klen + 1);
    if (!node) return -1;
    memcpy(node->key, key, klen + 1);
    node->value = value;
    node->next = NULL;
    *slot = node;
    if (++t->count > t->nbuckets) grow(t);
    return 0;
}

static void *unlink_slot(edge_pending_table *t, pending_node **slot)
{
    pending_node *node = *slot;
    void *v = node->value;
    *slot = node->next;
    free(node);
    t->count--;
    return v;
}

void *edge_pending_take(edge_pending_table *t, const char *key)
{
    if (!t || !key) return NULL;
    pending_node **slot = slot_of(t, key);
    return *slot ? unlink_slot(t, slot) : NULL;
}

void *edge_pending_get(const edge_pending_table *t, const char *key)
{
    if (!t || !key) return NULL;
    pending_node **slot = slot_of(t, key);
    return *slot ? (*slot)->value : NULL;
}

size_t edge_pending_count(const edge_pending_table *t)
{
    return t ? t->count : 0;
}

void *edge_pending_take_any(edge_pending_table *t)
{
    if (!t || !t->count) return NULL;
    for (size_t i = 0; i < t->nbuckets; i++)
        if (t->buckets[i]) return unlink_slot(t, &t->buckets[i]);
    return NULL;
}

void edge_pending_free(edge_pending_table *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->nbuckets; i++) {
        pending_node *node = t->buckets[i];
        while (node) {
            pending_node *next = node->next;
            free(node);
            node = next;
        }
    }
    free(t->buckets);
    free(t);
}
