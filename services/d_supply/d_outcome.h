/* D.6 error normalize: one normalizedSourceOutcomeLite per dispatch, from
 * how the dispatch ended (transport, HTTP status, what the adapter parsed,
 * what candidate normalization kept). Tested as timeout, then error, then
 * no_fill; anything else is error / non_retryable / d_en_unknown. */
#ifndef D_OUTCOME_H
#define D_OUTCOME_H

#include "d_adapter.h"
#include "d_types.h"

typedef struct d_outcome {
    int source;                  /* registry index */
    int step_index;
    int route_hop;
    d_outcome_type type;
    int retryable;
    char reason_code[D_CODE_MAX];
    d_route_action action;
    d_transport transport;
    int http_status;             /* 0 = none */
    int64_t elapsed_ms;
    int has_nbr;
    int nbr;
    int conflict_resolved;       /* nbr together with bids: local view won */
} d_outcome;

/* What candidate normalization (D.5) made of the bids of one dispatch. */
typedef struct d_bid_tally {
    int bids;                    /* bids offered */
    int eligible;                /* kept */
    int policy_dropped;
    int currency_dropped;
} d_bid_tally;

typedef struct d_classify_in {
    const d_response *resp;
    const d_parsed *parsed;      /* NULL when nothing was parsed */
    const d_bid_tally *tally;    /* NULL when there were no bids */
    int budget_cut;              /* the route budget, not the source cap, set the deadline */
} d_classify_in;

/* Fills type, retryable, reason_code, http/transport fields; action is
 * set by d_outcome_route_action. */
void d_outcome_classify(const d_classify_in *in, d_outcome *out);

/* D.6 routeAction; a timeout with no retry left becomes non_retryable. */
void d_outcome_route_action(d_outcome *o, int retry_left, int budget_left, int circuit_closed);

/* D.7 switch reason of leaving a step with this outcome. */
const char *d_outcome_switch_reason(const d_outcome *o);

#endif
