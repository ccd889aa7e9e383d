/* D.7 execution of a route plan, as a pure state machine. The caller
 * drives it: d_run_advance() schedules dispatches (local adapters answer
 * at once); network dispatches wait in run->pending until the caller
 * fills each pending[i].resp and calls d_run_advance() again. Tests feed
 * simulated responses; d_http.c feeds libcurl's. Time comes only from the
 * responses' elapsedMs and d_run_sync_clock(), so every run replays. */
#ifndef D_ROUTE_H
#define D_ROUTE_H

#include "d_breaker.h"
#include "d_candidate.h"
#include "d_ctx.h"
#include "d_outcome.h"
#include "d_plan.h"

typedef struct d_attempt {
    int step_pos;                 /* position in plan->steps */
    int route_hop;
    char source_request_id[32];
    int64_t timeout_budget_ms;
    int64_t budget_before_ms, budget_after_ms;
    int64_t sent_at_unix_ms, deadline_unix_ms;
    int64_t response_bytes;
    int budget_cut;
    int sent;                     /* 0: circuit open / adapt failure / house (simulated: 1) */
    d_outcome outcome;
} d_attempt;

typedef struct d_pending {
    int attempt;                  /* index in run->attempts */
    char *payload;                /* owned request body */
    size_t payload_len;
    const char *endpoint;         /* borrowed from the registry */
    int64_t timeout_ms;           /* hard deadline of the request */
    d_response resp;              /* filled by the caller (body borrowed) */
} d_pending;

typedef struct d_switch {
    char from[D_ID_MAX];
    char to[D_ID_MAX];
    const char *reason;           /* no_fill|timeout|error|strategy_fallback|policy_block */
    int64_t at_unix_ms;
} d_switch;

typedef enum d_end {
    D_END_NONE = 0,
    D_END_SERVED,
    D_END_EXHAUSTED_NO_FILL,
    D_END_ALL_ERRORS,
    D_END_BUDGET,
    D_END_NO_SOURCE,
    D_END_REJECTED,
} d_end;

typedef struct d_run {
    const d_ctx *ctx;
    d_plan *plan;
    d_breakers *breakers;         /* may be NULL */
    int64_t start_unix_ms;
    int64_t elapsed_ms;
    int next_step;
    int group_first, group_count; /* the step or batch being run */
    int group_batch;
    int retry_pending;
    int64_t group_started_ms;
    d_attempt attempts[D_MAX_ATTEMPTS];
    int n_attempts;
    d_pending pending[D_MAX_STEPS];
    int n_pending;
    int group_attempt_first;      /* first attempt of the current step/batch */
    d_cand_list group_cands;      /* eligible candidates of the current step/batch */
    d_cand_list winners;          /* ranked candidates of the winning step/batch */
    d_mapping_log mappings;
    d_switch switches[D_MAX_ATTEMPTS + D_MAX_STEPS];
    int n_switches;
    char leaving_from[D_ID_MAX];  /* source (or parallel_batch) being left */
    const char *leaving_reason;
    int all_no_fill;              /* every finished step ended in no_fill */
    int any_no_fill_or_timeout;
    int fallback_entered;
    int fallback_used;            /* a fallback step was sent */
    d_end end;
    char final_code[D_CODE_MAX];
    d_tier final_tier;
    int hit_step_index;           /* 0 without a winner */
    d_tier last_tier_sent;
    int trigger_step_index;
    int64_t sc_budget_before, sc_budget_after;
} d_run;

void d_run_init(d_run *r, const d_ctx *ctx, d_plan *plan, d_breakers *breakers,
                int64_t start_unix_ms);
/* See the file comment. MED_ERR_NOMEM only. */
med_rc d_run_advance(d_run *r, med_err *err);
/* Moves the plan clock forward to the caller's monotonic elapsed time. */
void d_run_sync_clock(d_run *r, int64_t elapsed_ms);
/* Ends the run as a D.1 reject (no plan ran). */
void d_run_reject(d_run *r, const char *check_code);
void d_run_free(d_run *r);

/* The final source of the route ("none" without a winner). */
const char *d_run_final_source(const d_run *r);

#endif
