/* D.4 request adapt and budget: the per-step budget arithmetic and the
 * sourceRequestId. All times are ms on the plan's monotonic clock. */
#ifndef D_BUDGET_H
#define D_BUDGET_H

#include <stddef.h>
#include <stdint.h>

typedef struct d_budget_keys {
    const char *source_id, *opportunity_key, *request_key, *attempt_key;
    const char *route_path;
    int route_hop;
} d_budget_keys;

/* min(routeBudgetMs, strategyTimeoutMs). */
int64_t d_budget_effective(int64_t route_budget_ms, int64_t strategy_timeout_ms);
/* effectiveBudgetMs - elapsed. */
int64_t d_budget_remaining(int64_t effective_ms, int64_t elapsed_ms);
/* min(remaining, timeoutPolicyMs); <= 0 means nothing may be sent. */
int64_t d_budget_step(int64_t remaining_ms, int64_t timeout_policy_ms);

/* sr_ + first 24 hex of sha256(sourceId|opportunityKey|requestKey|
 * attemptKey|routePath|routeHop). 0, or -1 when out is too small. */
int d_source_request_id(const d_budget_keys *k, char *out, size_t cap);

#endif
