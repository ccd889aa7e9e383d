#include "d_outcome.h"

#include <stdio.h>
#include <string.h>
#include "med/reason.h"

static void set(d_outcome *o, d_outcome_type t, int retryable, const char *code)
{
    o->type = t;
    o->retryable = t == D_OUT_NO_FILL ? 0 : retryable;   /* a no_fill never retries */
    snprintf(o->reason_code, sizeof o->reason_code, "%s", code);
}

static int classify_timeout(const d_classify_in *in, d_outcome *o)
{
    const char *code;
    switch (in->resp->transport) {
    case D_TR_CONNECT_TIMEOUT: code = MED_R_D_TO_CONNECT_TIMEOUT; break;
    case D_TR_READ_TIMEOUT: code = MED_R_D_TO_READ_TIMEOUT; break;
    case D_TR_DEADLINE: code = MED_R_D_TO_SOURCE_DEADLINE_EXCEEDED; break;
    default: return 0;
    }
    if (in->budget_cut) set(o, D_OUT_TIMEOUT, 0, MED_R_D_TO_ROUTE_BUDGET_EXHAUSTED);
    else set(o, D_OUT_TIMEOUT, 1, code);
    return 1;
}

static int classify_transport_error(const d_classify_in *in, d_outcome *o)
{
    switch (in->resp->transport) {
    case D_TR_CIRCUIT_OPEN: set(o, D_OUT_ERROR, 1, MED_R_D_ER_DEPENDENCY_UNAVAILABLE); return 1;
    case D_TR_TRANSIENT: set(o, D_OUT_ERROR, 1, MED_R_D_ER_TRANSIENT_NETWORK); return 1;
    case D_TR_OVERSIZED: set(o, D_OUT_ERROR, 0, MED_R_D_EN_MALFORMED_RESPONSE); return 1;
    default: return 0;
    }
}

static int classify_http(int st, d_outcome *o)
{
    if (st == 0 || st == 200 || st == 204) return 0;
    if (st >= 500 && st <= 599) set(o, D_OUT_ERROR, 1, MED_R_D_ER_UPSTREAM_5XX);
    else if (st == 429) set(o, D_OUT_ERROR, 1, MED_R_D_ER_RATE_LIMITED);
    else if (st == 408) set(o, D_OUT_ERROR, 1, MED_R_D_ER_TRANSIENT_NETWORK);
    else if (st == 401 || st == 403) set(o, D_OUT_ERROR, 0, MED_R_D_EN_AUTH_FAILED);
    else if (st == 404) set(o, D_OUT_ERROR, 0, MED_R_D_EN_CONTRACT_MISMATCH);
    else if (st >= 400 && st <= 499) set(o, D_OUT_ERROR, 0, MED_R_D_EN_INVALID_REQUEST);
    else set(o, D_OUT_ERROR, 0, MED_R_D_EN_UNKNOWN);
    return 1;
}

/* OpenRTB 2.6 no-bid reason codes. */
static void classify_nbr(int has_nbr, int nbr, d_outcome *o)
{
    if (!has_nbr) set(o, D_OUT_NO_FILL, 0, MED_R_D_NF_INVENTORY_UNAVAILABLE);
    else if (nbr == 1) set(o, D_OUT_ERROR, 1, MED_R_D_ER_DEPENDENCY_UNAVAILABLE);
    else if (nbr == 2) set(o, D_OUT_ERROR, 0, MED_R_D_EN_INVALID_REQUEST);
    else if (nbr == 3 || nbr == 4 || nbr == 5 || nbr == 7)
        set(o, D_OUT_NO_FILL, 0, MED_R_D_NF_POLICY_FILTERED);
    else if (nbr == 6 || nbr == 8) set(o, D_OUT_NO_FILL, 0, MED_R_D_NF_TARGETING_UNMATCHED);
    else if (nbr == 9 || nbr == 10) set(o, D_OUT_NO_FILL, 0, MED_R_D_NF_FREQUENCY_CAPPED);
    else set(o, D_OUT_NO_FILL, 0, MED_R_D_NF_UNKNOWN);
}

/* D.5: when every bid was dropped, a policy drop makes it a no_fill;
 * otherwise the source broke the contract. */
static void classify_bids(const d_classify_in *in, d_outcome *o)
{
    const d_bid_tally *t = in->tally;
    if (in->parsed->has_nbr) o->conflict_resolved = 1;
    if (t && t->eligible > 0) set(o, D_OUT_CANDIDATE, 0, MED_R_D_ROUTE_SHORT_CIRCUIT_SERVED);
    else if (t && t->policy_dropped > 0) set(o, D_OUT_NO_FILL, 0, MED_R_D_NF_POLICY_FILTERED);
    else set(o, D_OUT_ERROR, 0, MED_R_D_EN_CONTRACT_MISMATCH);
}

static void classify_parsed(const d_classify_in *in, d_outcome *o)
{
    const d_parsed *p = in->parsed;
    if (!p) { set(o, D_OUT_ERROR, 0, MED_R_D_EN_UNKNOWN); return; }
    o->has_nbr = p->has_nbr;
    o->nbr = p->nbr;
    switch (p->kind) {
    case D_PARSE_MALFORMED: set(o, D_OUT_ERROR, 0, MED_R_D_EN_MALFORMED_RESPONSE); break;
    case D_PARSE_ID_MISMATCH: set(o, D_OUT_ERROR, 0, MED_R_D_EN_CONTRACT_MISMATCH); break;
    case D_PARSE_NO_BID: classify_nbr(p->has_nbr, p->nbr, o); break;
    case D_PARSE_BIDS: classify_bids(in, o); break;
    default: set(o, D_OUT_ERROR, 0, MED_R_D_EN_UNKNOWN); break;
    }
}

void d_outcome_classify(const d_classify_in *in, d_outcome *o)
{
    o->transport = in->resp->transport;
    o->http_status = in->resp->http_status;
    o->elapsed_ms = in->resp->elapsed_ms;
    o->conflict_resolved = 0;
    if (classify_timeout(in, o) || classify_transport_error(in, o)) return;
    if (in->resp->transport != D_TR_OK && in->resp->transport != D_TR_LOCAL) {
        set(o, D_OUT_ERROR, 0, MED_R_D_EN_UNKNOWN);
        return;
    }
    if (classify_http(in->resp->http_status, o)) return;
    classify_parsed(in, o);
}

void d_outcome_route_action(d_outcome *o, int retry_left, int budget_left, int circuit_closed)
{
    if (!strcmp(o->reason_code, MED_R_D_TO_ROUTE_BUDGET_EXHAUSTED)) {
        o->action = D_ACT_TERMINAL;
        return;
    }
    if (o->type != D_OUT_CANDIDATE && o->retryable && retry_left && budget_left &&
        circuit_closed) {
        o->action = D_ACT_RETRY_SAME_SOURCE;
        return;
    }
    o->action = D_ACT_FALLBACK_NEXT_SOURCE;
    if (o->type == D_OUT_TIMEOUT) o->retryable = 0;
}

const char *d_outcome_switch_reason(const d_outcome *o)
{
    switch (o->type) {
    case D_OUT_NO_FILL: return "no_fill";
    case D_OUT_TIMEOUT: return "timeout";
    default: return "error";
    }
}
