/* Per-tenant rate limit of G appends (G.2 row 4), pure: a fixed one-second
 * window per tenant in a small table the caller owns. Per replica: the
 * limit protects this process and the store, it is not a global quota. */
#ifndef G_RATE_H
#define G_RATE_H

#include <stdint.h>

#define G_RATE_SLOTS 128
#define G_RATE_TENANT_MAX 64

typedef struct g_rate_slot {
    char tenant[G_RATE_TENANT_MAX];
    int64_t window_start_ms;
    int64_t count;
} g_rate_slot;

typedef struct g_rate {
    int64_t per_sec;            /* 0 = unlimited */
    g_rate_slot slots[G_RATE_SLOTS];
} g_rate;

void g_rate_init(g_rate *r, int64_t per_sec);
/* 1 when tenant may append one more record at now_ms (and counts it). A
 * tenant that does not fit the table takes the slot idle the longest. */
int g_rate_allow(g_rate *r, const char *tenant, int64_t now_ms);

#endif
