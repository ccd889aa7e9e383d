/* D.3 simulated: a test-fixture source (sourceType simulated_inventory)
 * that answers without a network what its registry entry scripts in
 * routingAttributes, so tests and demos reach every D.5 / D.6 outcome:
 *
 *   simulatedOutcome     fill | no_fill | timeout | error (required)
 *   simulatedPriceMicros fill: the bid, in micros of settlementCurrency [0]
 *   simulatedCreative    fill: a houseAds-shaped creative
 *                        [creativeId "sim_<sourceId>", landingType external]
 *   simulatedNbr         no_fill: the OpenRTB no-bid reason [none]
 *   simulatedHttpStatus  error: 400..599 [500]
 *   simulatedLatencyMs   how long the answer "took" [0]
 *
 * The answer is shaped as the wire would have ended, and then takes the
 * same path as any dispatch (D.5 normalize, D.6 classify, breaker). A
 * timeout is a read timeout that used the step's whole timeoutBudgetMs:
 * the plan clock moves by the budget, as after a real one, but nothing
 * sleeps. A latency beyond the budget is a late answer: dropped, counted
 * as a timeout (d_route.c). */
#include <stdio.h>
#include <string.h>
#include "d_adapter.h"
#include "d_registry.h"

static const char *const sim_caps[] = { "request_adapt", "candidate_normalize", "error_normalize",
                                        "source_trace" };

static int outcome_parse(const char *s, d_sim_outcome *out)
{
    static const char *const names[] = { "fill", "no_fill", "timeout", "error" };
    for (size_t i = 0; s && i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(s, names[i])) {
            *out = (d_sim_outcome)i;
            return 0;
        }
    return -1;
}

/* An optional integer field in [lo, hi]; -1 when present but not one. */
static int int_field(const json_t *ra, const char *key, int64_t lo, int64_t hi, int64_t dflt,
                     int64_t *out, int *present)
{
    const json_t *v = json_object_get(ra, key);
    if (present) *present = v != NULL;
    *out = dflt;
    if (!v) return 0;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) return -1;
    *out = json_integer_value(v);
    return 0;
}

int d_simulated_parse(const json_t *ra, d_source *s)
{
    if (!json_is_object(ra) ||
        outcome_parse(json_string_value(json_object_get(ra, "simulatedOutcome")), &s->sim_outcome) != 0)
        return -1;
    const json_t *creative = json_object_get(ra, "simulatedCreative");
    if (creative && !json_is_object(creative)) return -1;
    int64_t status = 0, nbr = 0;
    if (int_field(ra, "simulatedPriceMicros", 0, INT64_MAX / 2, 0, &s->sim_price_micros, NULL) != 0 ||
        int_field(ra, "simulatedLatencyMs", 0, 3600000, 0, &s->sim_latency_ms, NULL) != 0 ||
        int_field(ra, "simulatedHttpStatus", 400, 599, 500, &status, NULL) != 0 ||
        int_field(ra, "simulatedNbr", 0, 1000, 0, &nbr, &s->sim_has_nbr) != 0)
        return -1;
    s->sim_http_status = (int)status;
    s->sim_nbr = (int)nbr;
    return 0;
}

static med_rc sim_adapt(const d_adapt_in *in, char **payload, size_t *len, med_err *err)
{
    (void)in;
    (void)err;
    *payload = NULL;
    *len = 0;
    return MED_OK;
}

/* The scripted creative, with creativeId defaulted. Owned by the caller. */
static json_t *creative_of(const d_adapt_in *in)
{
    const json_t *ra = in->reg ? json_object_get(in->reg->simulated, in->source->source_id) : NULL;
    const json_t *c = json_object_get(ra, "simulatedCreative");
    json_t *copy = json_is_object(c) ? json_deep_copy(c) : json_object();
    if (!copy || json_object_get(copy, "creativeId")) return copy;
    char id[D_ID_MAX + 8];
    snprintf(id, sizeof id, "sim_%s", in->source->source_id);
    json_object_set_new(copy, "creativeId", json_string(id));
    return copy;
}

static void respond_fill(const d_adapt_in *in, d_parsed *out)
{
    json_t *creative = creative_of(in);
    double price = (double)in->source->sim_price_micros / 1e6;
    json_t *bid = creative ? d_adapter_creative_bid(creative, price, out->cur) : NULL;
    if (creative) json_decref(creative);
    out->bids = bid ? json_array() : NULL;
    if (out->bids && json_array_append_new(out->bids, bid) == 0) {
        out->kind = D_PARSE_BIDS;
        return;
    }
    /* ENOMEM: no bid could be built, which D.6 reads as a broken answer. */
    if (bid) json_decref(bid);
    d_parsed_clear(out);
    out->kind = D_PARSE_MALFORMED;
}

static void sim_respond(const d_adapt_in *in, d_response *resp, d_parsed *out)
{
    const d_source *s = in->source;
    memset(out, 0, sizeof *out);
    snprintf(out->cur, sizeof out->cur, "%s", in->reg ? in->reg->settlement_currency : "USD");
    resp->elapsed_ms = s->sim_latency_ms;
    switch (s->sim_outcome) {
    case D_SIM_FILL:
        respond_fill(in, out);
        break;
    case D_SIM_NO_FILL:
        resp->http_status = s->sim_has_nbr ? 200 : 204;
        out->kind = D_PARSE_NO_BID;
        out->has_nbr = s->sim_has_nbr;
        out->nbr = s->sim_nbr;
        break;
    case D_SIM_TIMEOUT:
        resp->transport = D_TR_READ_TIMEOUT;
        resp->http_status = 0;
        resp->elapsed_ms = in->timeout_budget_ms;
        break;
    case D_SIM_ERROR:
        resp->http_status = s->sim_http_status;
        out->kind = D_PARSE_HTTP_ERROR;
        break;
    }
}

const d_adapter d_adapter_simulated = {
    .name = "simulated",
    .needs_network = 0,
    .breaker_gated = 1,
    .capabilities = sim_caps,
    .n_capabilities = sizeof sim_caps / sizeof sim_caps[0],
    .adapt_request = sim_adapt,
    .parse_response = NULL,
    .respond_local = sim_respond,
};
