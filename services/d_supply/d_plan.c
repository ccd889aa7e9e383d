#include "d_plan.h"

#include <stdlib.h>
#include <string.h>
#include "d_names.h"
#include "d_strlist.h"
#include "med/ids.h"
#include "med/reason.h"

#define COND_START "on_plan_start"
#define COND_PREVIOUS "on_previous_step_no_candidate"
#define COND_PRIMARY "on_primary_no_candidate"
#define COND_PRIOR_TIERS "on_prior_tiers_no_candidate"

const char *d_step_status_name(d_step_status s)
{
    static const char *const names[] = { "pending", "running", "finished", "skipped" };
    return (int)s >= 0 && s <= D_STEP_SKIPPED ? names[s] : "unknown";
}

static int cmp_num_desc(double a, double b) { return a > b ? -1 : a < b ? 1 : 0; }

/* "unlimited" (absent) sorts after every limit. */
static int cmp_limit_asc(int has_a, double a, int has_b, double b)
{
    if (has_a != has_b) return has_a ? -1 : 1;
    return a < b ? -1 : a > b ? 1 : 0;
}

int d_plan_compare_sources(const d_source *a, const d_source *b)
{
    int c;
    if (a->route_tier != b->route_tier) return a->route_tier < b->route_tier ? -1 : 1;
    if ((c = cmp_num_desc(a->priority_score, b->priority_score))) return c;
    if ((c = cmp_num_desc(a->success_rate, b->success_rate))) return c;
    if ((c = cmp_limit_asc(a->has_p95, (double)a->p95_latency_ms, b->has_p95,
                           (double)b->p95_latency_ms)))
        return c;
    if ((c = cmp_limit_asc(a->has_cost, a->cost_weight, b->has_cost, b->cost_weight))) return c;
    return strcmp(a->source_id, b->source_id);
}

/* Insertion sort: at most D_MAX_SOURCES entries, and no global state for
 * a qsort comparator. */
static void sort_pool(const d_source *sources, int *pool, int n)
{
    for (int i = 1; i < n; i++) {
        int v = pool[i], j = i - 1;
        while (j >= 0 && d_plan_compare_sources(&sources[pool[j]], &sources[v]) > 0) {
            pool[j + 1] = pool[j];
            j--;
        }
        pool[j + 1] = v;
    }
}

/* Steps 1-4 of D.7 filtering; pool receives registry indices. */
static int filter_sources(const d_ctx *ctx, d_plan *plan, int *pool, int *n_pool)
{
    const d_registry *reg = ctx->reg;
    const d_constraints *c = ctx->constraints;
    if (d_strlist_add_all(&plan->ineligible, &reg->rejected_ids) != 0) return -1;
    *n_pool = 0;
    for (int i = 0; i < reg->n_sources; i++) {
        const d_source *s = &reg->sources[i];
        int rc = 0;
        if (s->status != D_ST_ACTIVE || !d_source_supports(s, ctx->placement_type))
            rc = d_strlist_add(&plan->ineligible, s->source_id);
        else if ((c->mode == D_SEL_ALLOWLIST_ONLY && !d_strlist_has(&c->allowed, s->source_id)) ||
                 d_strlist_has(&c->blocked, s->source_id))
            rc = d_strlist_add(&plan->filtered_out, s->source_id);
        else
            pool[(*n_pool)++] = i;
        if (rc != 0) return -1;
    }
    return 0;
}

static void add_step(d_plan *plan, const d_ctx *ctx, int src, const char *cond, int batch)
{
    if (plan->n_steps >= D_MAX_STEPS) return;
    const d_source *s = &ctx->reg->sources[src];
    d_step *st = &plan->steps[plan->n_steps];
    memset(st, 0, sizeof *st);
    st->step_index = plan->n_steps + 1;
    st->tier = s->route_tier;
    st->source = src;
    st->entry_condition = cond;
    st->timeout_budget_ms = s->timeout_policy_ms < ctx->effective_budget_ms
                                ? s->timeout_policy_ms : ctx->effective_budget_ms;
    st->max_retry_count = batch ? 0 : 1;
    st->batch_index = batch;
    st->status = D_STEP_PENDING;
    plan->n_steps++;
}

/* Entry condition of the first step of a tier, given what ran before. */
static const char *tier_entry(const d_plan *plan, d_tier tier)
{
    if (plan->n_steps == 0) return COND_START;
    if (tier == D_TIER_FALLBACK) return COND_PRIOR_TIERS;
    if (tier == D_TIER_SECONDARY) return COND_PRIMARY;
    return COND_PREVIOUS;
}

static int tier_is_batch(const d_strategy_cfg *st, d_tier tier)
{
    if (tier == D_TIER_FALLBACK) return 0;
    if (st->type == D_STRAT_BIDDING)
        return tier == D_TIER_PRIMARY || st->enable_secondary_bidding;
    return st->type == D_STRAT_HYBRID && tier == D_TIER_PRIMARY;
}

/* Whether a tier gets steps at all under the strategy. */
static int tier_planned(const d_strategy_cfg *st, d_tier tier)
{
    if (tier == D_TIER_FALLBACK) return st->fallback_policy != D_FB_DISABLED;
    if (tier == D_TIER_SECONDARY && st->type == D_STRAT_BIDDING)
        return st->enable_secondary_bidding;
    return 1;
}

static void lay_out_tier(const d_ctx *ctx, d_plan *plan, const int *pool, int n_pool,
                         d_tier tier, int *next_batch)
{
    const d_strategy_cfg *st = &ctx->strategy;
    if (!tier_planned(st, tier)) return;
    int batch = tier_is_batch(st, tier);
    int fanout = st->parallel_fanout > 0 ? st->parallel_fanout : 1;
    int in_tier = 0;
    int batch_id = batch ? ++*next_batch : 0;
    const char *cond = NULL;
    for (int i = 0; i < n_pool; i++) {
        if (ctx->reg->sources[pool[i]].route_tier != tier) continue;
        if (batch && in_tier >= fanout) break;
        if (!cond) cond = tier_entry(plan, tier);
        else if (!batch) cond = COND_PREVIOUS;
        add_step(plan, ctx, pool[i], cond, batch_id);
        in_tier++;
    }
}

static int planned(const d_plan *plan, int src)
{
    for (int i = 0; i < plan->n_steps; i++)
        if (plan->steps[i].source == src) return 1;
    return 0;
}

static json_t *list_json(const d_str_list *l)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < l->n; i++) json_array_append_new(a, json_string(l->items[i]));
    return a;
}

static json_t *tier_sources_json(const d_ctx *ctx, const d_plan *plan, d_tier tier)
{
    json_t *a = json_array();
    for (int i = 0; a && i < plan->n_steps; i++)
        if (plan->steps[i].tier == tier)
            json_array_append_new(a, json_string(ctx->reg->sources[plan->steps[i].source].source_id));
    return a;
}

static const char *or_na(const char *s) { return s && s[0] ? s : "NA"; }

/* routePlanId: rp_ + 20 hex of sha256 over sorted-key compact JSON. */
static int derive_plan_id(const d_ctx *ctx, d_plan *plan)
{
    const d_strategy_cfg *st = &ctx->strategy;
    const d_constraints *c = ctx->constraints;
    json_t *doc = json_pack(
        "{s:{s:s,s:s,s:s,s:s}, s:s, s:s, s:{s:s,s:i,s:I,s:s,s:s,s:b}, s:s, s:s,"
        " s:{s:o,s:o,s:o}, s:{s:s,s:o,s:o,s:o,s:o,s:o,s:o}}",
        "keys", "traceKey", or_na(ctx->trace_key), "requestKey", or_na(ctx->request_key),
        "attemptKey", or_na(ctx->attempt_key), "opportunityKey", or_na(ctx->opportunity_key),
        "routingPolicyVersion", or_na(ctx->routing_policy_version),
        "fallbackProfileVersion", or_na(ctx->fallback_profile_version),
        "strategy", "strategyType", d_strategy_name(st->type), "parallelFanout",
        st->parallel_fanout, "strategyTimeoutMs", (json_int_t)st->strategy_timeout_ms,
        "fallbackPolicy", d_fallback_policy_name(st->fallback_policy),
        "executionStrategyVersion", or_na(st->version), "enableSecondaryBidding",
        st->enable_secondary_bidding,
        "placementType", or_na(ctx->placement_type), "configSnapshotId",
        or_na(ctx->config_snapshot_id),
        "steps", "primary", tier_sources_json(ctx, plan, D_TIER_PRIMARY), "secondary",
        tier_sources_json(ctx, plan, D_TIER_SECONDARY), "fallback",
        tier_sources_json(ctx, plan, D_TIER_FALLBACK),
        "sourceFilterSnapshot", "sourceSelectionMode", d_selection_mode_name(c->mode),
        "allowedSourceIds", list_json(&c->allowed), "blockedSourceIds", list_json(&c->blocked),
        "filteredOutSourceIds", list_json(&plan->filtered_out), "ineligibleSourceIds",
        list_json(&plan->ineligible), "notPlannedSourceIds", list_json(&plan->not_planned),
        "effectiveSourcePoolIds", list_json(&plan->effective_pool));
    if (!doc) return -1;
    char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(doc);
    if (!text) return -1;
    int rc = med_hash_key(plan->route_plan_id, sizeof plan->route_plan_id, "rp_", text, 20);
    free(text);
    return rc;
}

static int collect_lists(const d_ctx *ctx, d_plan *plan, const int *pool, int n_pool)
{
    for (int i = 0; i < n_pool; i++) {
        const char *id = ctx->reg->sources[pool[i]].source_id;
        d_str_list *l = planned(plan, pool[i]) ? &plan->effective_pool : &plan->not_planned;
        if (d_strlist_add(l, id) != 0) return -1;
        plan->tiebreak[plan->n_tiebreak].source = pool[i];
        plan->tiebreak[plan->n_tiebreak].rank = i + 1;
        plan->n_tiebreak++;
    }
    d_strlist_sort(&plan->filtered_out);
    d_strlist_sort(&plan->ineligible);
    d_strlist_sort(&plan->not_planned);
    d_strlist_sort(&plan->effective_pool);
    return 0;
}

med_rc d_plan_build(const d_ctx *ctx, d_plan *plan, med_err *err)
{
    memset(plan, 0, sizeof *plan);
    int pool[D_MAX_SOURCES];
    int n_pool = 0;
    if (filter_sources(ctx, plan, pool, &n_pool) != 0) goto nomem;
    sort_pool(ctx->reg->sources, pool, n_pool);
    int next_batch = 0;
    for (d_tier t = D_TIER_PRIMARY; t <= D_TIER_FALLBACK; t++)
        lay_out_tier(ctx, plan, pool, n_pool, t, &next_batch);
    if (collect_lists(ctx, plan, pool, n_pool) != 0) goto nomem;
    plan->terminated = plan->n_steps == 0;
    if (derive_plan_id(ctx, plan) != 0) goto nomem;
    return MED_OK;
nomem:
    d_plan_clear(plan);
    return med_err_set(err, MED_ERR_NOMEM, MED_R_D_ROUTE_NO_AVAILABLE_SOURCE, NULL, "ENOMEM");
}

void d_plan_clear(d_plan *plan)
{
    d_strlist_free(&plan->filtered_out);
    d_strlist_free(&plan->ineligible);
    d_strlist_free(&plan->not_planned);
    d_strlist_free(&plan->effective_pool);
}
