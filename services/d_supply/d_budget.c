#include "d_budget.h"

#include <stdio.h>
#include "med/ids.h"

int64_t d_budget_effective(int64_t route_budget_ms, int64_t strategy_timeout_ms)
{
    return route_budget_ms < strategy_timeout_ms ? route_budget_ms : strategy_timeout_ms;
}

int64_t d_budget_remaining(int64_t effective_ms, int64_t elapsed_ms)
{
    return effective_ms - elapsed_ms;
}

int64_t d_budget_step(int64_t remaining_ms, int64_t timeout_policy_ms)
{
    return remaining_ms < timeout_policy_ms ? remaining_ms : timeout_policy_ms;
}

static const char *s(const char *v) { return v ? v : ""; }

int d_source_request_id(const d_budget_keys *k, char *out, size_t cap)
{
    char text[1024];
    int n = snprintf(text, sizeof text, "%s|%s|%s|%s|%s|%d", s(k->source_id),
                     s(k->opportunity_key), s(k->request_key), s(k->attempt_key),
                     s(k->route_path), k->route_hop);
    if (n < 0 || (size_t)n >= sizeof text) return -1;
    return med_hash_key(out, cap, "sr_", text, 24);
}
