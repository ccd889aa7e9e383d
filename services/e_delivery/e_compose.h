/* Stage E's whole decision for one ComposeInput, every compose_source:
 * d_route (E.3..E.9), c_policy_block, a_terminal, b_reject (00 decision 1).
 * Pure: the outcome borrows strings from ci, which must outlive it. */
#ifndef E_COMPOSE_H
#define E_COMPOSE_H

#include "e_decide.h"
#include "e_gate.h"
#include "e_input.h"
#include "e_plan.h"
#include "e_ui.h"
#include "e_validate.h"
#include "mediation/v1/compose.pb-c.h"

/* Keys from the Med-* headers: the last resort (undecodable input). */
typedef struct e_header_keys {
    const char *trace_key;
    const char *request_key;
    const char *opportunity_key;
} e_header_keys;

typedef struct e_outcome {
    e_keys keys;
    char response_reference[E_REF_MAX];
    const char *compose_source;
    const char *upstream_code;   /* A/B/C/D code that decided, or NULL */
    int input_ok;                /* E.3 passed (d_route / C with input) */
    e_input in;
    e_ui ui;
    e_gate gate;
    e_validation val;
    e_decision dec;
    e_container container;
    e_ttl ttl;
    e_warnings warnings;         /* input warnings + E.7 corrections */
    int64_t decided_at_ms;
} e_outcome;

/* ci NULL = undecodable (error e_er_invalid_compose_input, header keys).
 * Always fills *out; never fails. */
void e_compose(const Mediation__V1__ComposeInput *ci, const e_header_keys *hk, int64_t now_ms,
               e_outcome *out);

#endif
