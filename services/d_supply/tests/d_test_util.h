/* Shared fixtures of D's unit tests: a registry from inline JSON and a
 * context with the spec's defaults. */
#ifndef D_TEST_UTIL_H
#define D_TEST_UTIL_H

#include "d_ctx.h"
#include "d_plan.h"
#include "d_registry.h"
#include "d_route.h"

typedef struct d_fixture {
    d_registry reg;
    d_constraints cons;
    d_ctx ctx;
    d_plan plan;
    d_breakers breakers;
} d_fixture;

/* Builds reg from route_policy JSON text; ctx: waterfall, budget 3000,
 * strategy 3000, on_no_fill_or_error, placement native_feed. */
void d_fixture_init(d_fixture *f, const char *route_policy_json);
void d_fixture_plan(d_fixture *f);
void d_fixture_free(d_fixture *f);

/* "{sourceId...}" entry JSON of an active alliance source. */
char *d_src_json(const char *id, const char *tier, double score, int timeout_ms, double cost);

/* Index of the step of sourceId in the plan, -1 if none. */
int d_fixture_step_of(const d_fixture *f, const char *source_id);
const char *d_fixture_step_source(const d_fixture *f, int pos);

/* Runs the plan to its end answering every network dispatch with
 * answer(ud, source_id, request payload, route_hop, &resp). */
typedef void (*d_answer_fn)(void *ud, const char *source_id, const char *payload, int hop,
                            d_response *resp, char *body, size_t cap);
int d_fixture_run(d_fixture *f, d_run *r, d_answer_fn answer, void *ud, int *http_calls);

/* A bid response body for the request payload (echoes its id). */
void d_bid_body(const char *payload, const char *bids_json, char *body, size_t cap);

#endif
