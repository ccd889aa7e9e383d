/* D.3 adapter interface: a table of operations per adapter kind. Only the
 * I/O layer (d_http.c) sends; everything here is pure. The shared halves of
 * normalization (D.5 d_candidate.h, D.6 d_outcome.h) run on what
 * parse_response / respond_local produce. */
#ifndef D_ADAPTER_H
#define D_ADAPTER_H

#include <jansson.h>
#include "d_types.h"
#include "med/err.h"

struct d_registry;

typedef enum d_adapter_kind {
    D_ADAPTER_NONE = -1,
    D_ADAPTER_OPENRTB26_HTTP = 0,
    D_ADAPTER_HOUSE = 1,
    D_ADAPTER_SIMULATED = 2,
} d_adapter_kind;

/* Everything adapt_request may read: the canonical fields of the step. */
typedef struct d_adapt_in {
    const d_source *source;
    const struct d_registry *reg;        /* settlement currency, house ads */
    const char *source_request_id;
    int64_t timeout_budget_ms;           /* -> tmax */
    const char *opportunity_key;         /* -> source.tid */
    const char *placement_key;           /* -> imp[0].tagid */
    const char *placement_type;
    const char *channel_type;
    const char *language;                /* NULL when absent */
    const char *app_id;                  /* NULL when absent */
    const d_constraints *constraints;
} d_adapt_in;

typedef enum d_parse_kind {
    D_PARSE_BIDS = 0,        /* 200 with at least one bid (bids set) */
    D_PARSE_NO_BID,          /* 204, or 200 without seatbid / with none */
    D_PARSE_MALFORMED,       /* unparsable or schema-invalid */
    D_PARSE_ID_MISMATCH,     /* response id != request id */
    D_PARSE_HTTP_ERROR,      /* any other HTTP status: classified by D.6 */
} d_parse_kind;

typedef struct d_parsed {
    d_parse_kind kind;
    json_t *bids;            /* owned array of bid objects, or NULL */
    int has_nbr;
    int nbr;
    char cur[8];             /* response-level currency, default USD */
} d_parsed;

typedef struct d_adapter {
    const char *name;                       /* openrtb26_http | house | simulated */
    int needs_network;
    /* A local adapter standing in for a network source: its dispatches are
     * gated and counted by the circuit breaker as if sent. */
    int breaker_gated;
    const char *const *capabilities;        /* describe: what it implements */
    size_t n_capabilities;
    /* Wire payload of one dispatch; *payload malloc'd (NULL for local
     * adapters). Failure: d_adapter_request_adapt_contract_invalid. */
    med_rc (*adapt_request)(const d_adapt_in *in, char **payload, size_t *len, med_err *err);
    /* Network adapters: response -> bids / no-bid / malformed. */
    void (*parse_response)(const d_adapt_in *in, const d_response *resp, d_parsed *out);
    /* Local adapters: the answer without I/O. resp arrives preset as a
     * local answer ({D_TR_LOCAL, 200, 0 ms}); an adapter that simulates the
     * wire sets what a network dispatch would have ended with. */
    void (*respond_local)(const d_adapt_in *in, d_response *resp, d_parsed *out);
} d_adapter;

/* The four capabilities every entry must declare (D.2 check 2). */
extern const char *const d_required_capabilities[4];

const d_adapter *d_adapter_get(d_adapter_kind kind);   /* NULL for NONE */
d_adapter_kind d_adapter_kind_for(d_source_type type);
void d_parsed_clear(d_parsed *p);

extern const d_adapter d_adapter_openrtb26;
extern const d_adapter d_adapter_house;
extern const d_adapter d_adapter_simulated;

/* A houseAds-shaped creative as one OpenRTB bid (price in currency units,
 * id and crid = creativeId, adm = native markup of its display fields);
 * NULL on ENOMEM. Shared by the local adapters. */
json_t *d_adapter_creative_bid(const json_t *creative, double price, const char *currency);

/* simulated_inventory entries (D.2 check 1): reads the simulated* fields
 * of routingAttributes into s; -1 when one is missing or malformed. */
int d_simulated_parse(const json_t *routing_attributes, d_source *s);

#endif
