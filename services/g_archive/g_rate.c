#include "g_rate.h"

#include <stdio.h>
#include <string.h>

void g_rate_init(g_rate *r, int64_t per_sec)
{
    memset(r, 0, sizeof *r);
    r->per_sec = per_sec < 0 ? 0 : per_sec;
}

static g_rate_slot *slot_for(g_rate *r, const char *tenant)
{
    g_rate_slot *oldest = &r->slots[0];
    for (int i = 0; i < G_RATE_SLOTS; i++) {
        g_rate_slot *s = &r->slots[i];
        if (strncmp(s->tenant, tenant, sizeof s->tenant - 1) == 0) return s; /* long ids compare truncated */
        if (s->window_start_ms < oldest->window_start_ms) oldest = s;
    }
    snprintf(oldest->tenant, sizeof oldest->tenant, "%s", tenant);
    oldest->window_start_ms = 0;
    oldest->count = 0;
    return oldest;
}

int g_rate_allow(g_rate *r, const char *tenant, int64_t now_ms)
{
    if (r->per_sec == 0) return 1;
    g_rate_slot *s = slot_for(r, tenant ? tenant : "");
    if (now_ms - s->window_start_ms >= 1000) {
        s->window_start_ms = now_ms;
        s->count = 0;
    }
    if (s->count >= r->per_sec) return 0;
    s->count++;
    return 1;
}
