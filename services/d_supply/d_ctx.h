/* The per-opportunity context every D rule reads: keys, versions, the
 * execution strategy, the placement and the supply section. Strings are
 * borrowed from the decoded PolicyDecision (or a test's literals). */
#ifndef D_CTX_H
#define D_CTX_H

#include <stdint.h>
#include "d_registry.h"
#include "d_types.h"

typedef struct d_strategy_cfg {
    d_strategy type;
    int parallel_fanout;             /* 1 when absent (waterfall) */
    int enable_secondary_bidding;
    d_fallback_policy fallback_policy;
    int64_t strategy_timeout_ms;
    const char *version;             /* executionStrategyVersion */
} d_strategy_cfg;

typedef struct d_ctx {
    const char *tenant_id;           /* scopes the circuit breakers; NULL = "NA" */
    const char *trace_key, *request_key, *attempt_key, *opportunity_key;
    const char *routing_policy_version;
    const char *fallback_profile_version;
    const char *constraint_set_version;
    d_strategy_cfg strategy;
    int64_t route_budget_ms;         /* after the D.1 row 9 correction */
    int64_t effective_budget_ms;     /* min(routeBudgetMs, strategyTimeoutMs) */
    const char *placement_type, *placement_key, *channel_type, *actor_type;
    const char *language, *app_id;
    const char *final_policy_action, *policy_decision_reason_code;
    const char *policy_snapshot_id, *policy_snapshot_version;
    const char *config_snapshot_id, *resolved_config_ref, *config_hash;
    int64_t config_effective_at_ms;
    const d_constraints *constraints;
    const d_registry *reg;
} d_ctx;

#endif
