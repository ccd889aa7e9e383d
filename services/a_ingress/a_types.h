/* Stage A: version defaults (spec 01 section 0) and the wire values of A's
 * small enums, defined once for every a_* file. */
#ifndef A_TYPES_H
#define A_TYPES_H

#define A_VER_INGRESS_ENVELOPE       "ingress_v1"
#define A_VER_TRIGGER_CONTRACT       "a_trigger_v1"
#define A_VER_TRIGGER_TAXONOMY       "a_trigger_taxonomy_v1"
#define A_VER_CREATE_OPPORTUNITY     "a_create_opportunity_v1"
#define A_VER_OPPORTUNITY_EVENT      "a_opportunity_event_v1"
#define A_VER_DEDUP                  "a_dedup_v1"
#define A_VER_B_INPUT_CONTRACT       "b_input_contract_v1"
#define A_VER_VERSION_ANCHOR         "h_version_anchor_v1"
#define A_DEFAULT_SCHEMA_VERSION     "1.0.0"

/* Spec defaults; every one is overridable (00 decision 6). */
#define A_DEFAULT_DEDUP_WINDOW_SEC   120
#define A_DEFAULT_SOFT_BUDGET_MS     50
#define A_DEFAULT_HARD_BUDGET_MS     150
#define A_CLOCK_SKEW_LIMIT_MS        300000

/* triggerAction / errorAction / decisionOutcome wire values (A.3, A.8). */
#define A_ACT_CREATE   "create_opportunity"
#define A_ACT_NO_OP    "no_op"
#define A_ACT_REJECT   "reject"
#define A_ERR_ALLOW    "allow"
#define A_ERR_DEGRADE  "degrade"
#define A_ERR_REJECT   "reject"
#define A_OUT_ELIGIBLE   "opportunity_eligible"
#define A_OUT_INELIGIBLE "opportunity_ineligible"
#define A_OUT_BLOCKED    "opportunity_blocked_by_policy"

#define A_STATE_RECEIVED "received"
#define A_NA "NA"

/* Keys are short ("opp_" + 16 hex); dedup keys carry an app id and a client
 * id of up to 128 chars. */
#define A_KEY_MAX   64
#define A_DEDUP_KEY_MAX 400
#define A_FIELD_MAX 160

#endif
