/* Stage D's shared vocabulary: limits, enums and the plain structs the pure
 * rules pass between each other (spec 02 part D). Wire strings of the enums
 * live in d_names.c so every rule spells them the same way. */
#ifndef D_TYPES_H
#define D_TYPES_H

#include <stddef.h>
#include <stdint.h>

#define D_MAX_SOURCES 64
#define D_MAX_STEPS 64
#define D_MAX_PLACEMENT_TYPES 16
#define D_ID_MAX 72           /* sourceId is <= 64 chars */
#define D_CODE_MAX 64
#define D_VERSION_MAX 64
#define D_URL_MAX 512
#define D_MAX_ATTEMPTS (D_MAX_STEPS * 2)   /* one retry per sequential step */

/* Contract versions D stamps into its outputs and audits. */
#define D_INPUT_CONTRACT_VERSION "d_input_contract_v1"
#define D_OUTPUT_CONTRACT_VERSION "d_output_contract_v1"
#define D_ADAPTER_CONTRACT_VERSION "d_adapter_contract_v1"
#define D_CANDIDATE_NORMALIZE_VERSION "d_candidate_normalize_v1"
#define D_ERROR_NORMALIZE_VERSION "d_error_normalize_v1"
#define D_MAPPING_PROFILE_VERSION "d_mapping_profile_v1"
#define D_ROUTE_PLAN_RULE_VERSION "d_route_plan_rule_v1"
#define D_ROUTE_AUDIT_SCHEMA_VERSION "d_route_audit_v1"

typedef enum d_source_type { D_SRC_ALLIANCE = 0, D_SRC_HOUSE, D_SRC_SIMULATED } d_source_type;
typedef enum d_status { D_ST_ACTIVE = 0, D_ST_PAUSED, D_ST_DRAINING, D_ST_DISABLED } d_status;
typedef enum d_tier { D_TIER_PRIMARY = 0, D_TIER_SECONDARY, D_TIER_FALLBACK, D_TIER_NONE } d_tier;
typedef enum d_strategy { D_STRAT_WATERFALL = 0, D_STRAT_BIDDING, D_STRAT_HYBRID } d_strategy;
typedef enum d_fallback_policy {
    D_FB_ON_NO_FILL_ONLY = 0, D_FB_ON_NO_FILL_OR_ERROR, D_FB_DISABLED
} d_fallback_policy;
typedef enum d_selection_mode { D_SEL_ALL_EXCEPT_BLOCKED = 0, D_SEL_ALLOWLIST_ONLY } d_selection_mode;

/* D.6 outcomeType. */
typedef enum d_outcome_type {
    D_OUT_CANDIDATE = 0, D_OUT_NO_FILL, D_OUT_TIMEOUT, D_OUT_ERROR
} d_outcome_type;
typedef enum d_route_action {
    D_ACT_RETRY_SAME_SOURCE = 0, D_ACT_FALLBACK_NEXT_SOURCE, D_ACT_TERMINAL
} d_route_action;

/* How a dispatch ended on the wire, before any HTTP status is read. */
typedef enum d_transport {
    D_TR_OK = 0,
    D_TR_CONNECT_TIMEOUT,   /* not connected by the deadline */
    D_TR_READ_TIMEOUT,      /* connected, response incomplete at the deadline */
    D_TR_DEADLINE,          /* any other deadline */
    D_TR_TRANSIENT,         /* DNS, refused, reset, TLS */
    D_TR_OVERSIZED,         /* body over the cap: cut before the end */
    D_TR_CIRCUIT_OPEN,      /* never sent: breaker open */
    D_TR_LOCAL,             /* no I/O (house) */
} d_transport;

/* What `send` returns (D.3). body is borrowed from the caller. */
typedef struct d_response {
    d_transport transport;
    int http_status;
    const char *body;
    size_t body_len;
    int64_t elapsed_ms;
} d_response;

/* What a simulated_inventory source answers (routingAttributes.simulatedOutcome). */
typedef enum d_sim_outcome {
    D_SIM_FILL = 0, D_SIM_NO_FILL, D_SIM_TIMEOUT, D_SIM_ERROR
} d_sim_outcome;

/* One D.2 registry entry. */
typedef struct d_source {
    char source_id[D_ID_MAX];
    char adapter_id[D_ID_MAX];
    d_source_type type;
    d_status status;
    char status_reason_code[D_CODE_MAX];
    char adapter_contract_version[D_VERSION_MAX];
    char capability_profile_version[D_VERSION_MAX];
    char endpoint[D_URL_MAX];
    int64_t timeout_policy_ms;
    char placement_types[D_MAX_PLACEMENT_TYPES][D_ID_MAX];
    int n_placement_types;
    /* routingAttributes */
    d_tier route_tier;
    double priority_score;
    double success_rate;
    int has_p95;
    int64_t p95_latency_ms;
    int has_cost;
    double cost_weight;
    /* index of the adapter implementation (d_adapter.h) */
    int adapter_kind;
    /* simulated_inventory: the scripted answer (routingAttributes.simulated*) */
    d_sim_outcome sim_outcome;
    int64_t sim_price_micros;
    int64_t sim_latency_ms;
    int sim_http_status;
    int sim_has_nbr;
    int sim_nbr;
} d_source;

/* The input's source constraints (C.4) merged with the black_white_list
 * document; bcat/badv are the blocked categories and domains. */
typedef struct d_str_list {
    char **items;
    size_t n;
} d_str_list;

typedef struct d_constraints {
    d_selection_mode mode;
    d_str_list allowed;
    d_str_list blocked;
    d_str_list bcat;
    d_str_list badv;
    d_str_list disallow_render_modes;
    int non_personalized_only;
} d_constraints;

#endif
