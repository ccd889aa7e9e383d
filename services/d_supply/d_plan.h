/* D.7 route plan: filter the registry into a source pool, order it by the
 * deterministic tie-break, lay out the steps of the strategy, and derive
 * routePlanId. Pure: circuit state plays no part. */
#ifndef D_PLAN_H
#define D_PLAN_H

#include "d_ctx.h"
#include "med/err.h"

typedef enum d_step_status {
    D_STEP_PENDING = 0, D_STEP_RUNNING, D_STEP_FINISHED, D_STEP_SKIPPED
} d_step_status;

typedef struct d_step {
    int step_index;              /* from 1 */
    d_tier tier;
    int source;                  /* index in ctx->reg->sources */
    const char *entry_condition; /* static string */
    int64_t timeout_budget_ms;   /* min(effectiveBudgetMs, timeoutPolicyMs) */
    int max_retry_count;         /* 1 sequential, 0 in a batch */
    int batch_index;             /* 0 = sequential, >0 shared by batch members */
    d_step_status status;
} d_step;

typedef struct d_tiebreak_entry {
    int source;
    int rank;                    /* from 1, over the whole pool */
} d_tiebreak_entry;

typedef struct d_plan {
    char route_plan_id[32];      /* rp_ + 20 hex, "NA" before planning */
    d_step steps[D_MAX_STEPS];
    int n_steps;
    d_str_list filtered_out, ineligible, not_planned, effective_pool;
    d_tiebreak_entry tiebreak[D_MAX_SOURCES];
    int n_tiebreak;
    int terminated;              /* empty pool: d_route_no_available_source */
} d_plan;

/* Plans ctx; plan is caller storage, freed with d_plan_clear. Errors only
 * for ENOMEM. An empty pool is not an error: plan->terminated = 1. */
med_rc d_plan_build(const d_ctx *ctx, d_plan *plan, med_err *err);
void d_plan_clear(d_plan *plan);

/* Tie-break order of two registry sources (D.7): <0 when a runs first. */
int d_plan_compare_sources(const d_source *a, const d_source *b);

const char *d_step_status_name(d_step_status s);

#endif
