/* Vocabulary shared by C's rules: gate and action names, the result of one
 * gate, the keys, and the evaluation record (c_eval) the output builders
 * turn into protobuf. Strings in these structs are either literals, fixed
 * buffers, or borrowed from the decoded input message, which must outlive
 * the c_eval. */
#ifndef C_TYPES_H
#define C_TYPES_H

#include <stddef.h>
#include <stdint.h>
#include "mediation/v1/opportunity.pb-c.h"

#define C_NA "NA"
#define C_INPUT_CONTRACT_V1 "c_input_contract_v1"
#define C_D_INPUT_CONTRACT_V1 "d_input_contract_v1"
#define C_SNAPSHOT_SOURCE "resolvedConfigSnapshot"
#define C_STATE_RECEIVED "received"
#define C_STATE_ROUTED "routed"
#define C_STATE_ERROR "error"
#define C_FAIL_OPEN "fail_open"
#define C_FAIL_CLOSED "fail_closed"

#define C_GATE_COMPLIANCE "compliance_gate"
#define C_GATE_CONSENT "consent_auth_gate"
#define C_GATE_FREQUENCY "frequency_cap_gate"
#define C_GATE_CATEGORY "category_gate"
#define C_GATE_SNAPSHOT_GUARD "snapshot_guard"
#define C_GATE_ENGINE_GUARD "engine_guard"
#define C_GATE_INPUT_GUARD "input_guard"

#define C_SC_BLOCK "short_circuit_block"
#define C_SC_ALLOW "short_circuit_allow"

#define C_MODE_ALL_EXCEPT_BLOCKED "all_except_blocked"
#define C_MODE_ALLOWLIST_ONLY "allowlist_only"

#define C_KEY_MAX 160
#define C_RULE_ID_MAX 192
#define C_MAX_STEPS 8
#define C_MAX_WARNINGS 16
#define C_MAX_SECONDARY (C_MAX_STEPS + 1)
#define C_RAW_VALUE_MAX 257 /* C.4 inputIssues rawValue <= 256 chars */

typedef enum c_action { C_ACT_ALLOW, C_ACT_DEGRADE, C_ACT_BLOCK, C_ACT_REJECT } c_action;

/* Ordered so that a larger value wins a degrade tie (C.3). */
typedef enum c_risk { C_RISK_LOW = 1, C_RISK_MEDIUM = 2, C_RISK_HIGH = 3 } c_risk;

const char *c_action_name(c_action a);
const char *c_risk_name(c_risk r);
/* 0 when s is not high|medium|low. */
c_risk c_risk_parse(const char *s);

typedef struct c_gate_result {
    const char *gate;
    c_action action;
    char rule_id[C_RULE_ID_MAX];
    c_risk risk;
    const char *reason_code;
    int non_personalized_only; /* degrade effect on personalization */
} c_gate_result;

typedef struct c_keys {
    char trace_key[C_KEY_MAX];
    char request_key[C_KEY_MAX];
    char attempt_key[C_KEY_MAX];
    char opportunity_key[C_KEY_MAX];
} c_keys;

/* Keys as the Med-* headers carry them ("" or NULL = absent). */
typedef struct c_header_keys {
    const char *trace_key;
    const char *request_key;
    const char *opportunity_key;
} c_header_keys;

typedef struct c_warning {
    const char *reason_code;
    const char *field_path;
    const char *action;
    char original_value[C_RAW_VALUE_MAX];
} c_warning;

typedef struct c_warnings {
    c_warning v[C_MAX_WARNINGS];
    size_t n;
} c_warnings;

/* Adds a warning; beyond C_MAX_WARNINGS the rest are dropped (the audit
 * keeps the first ones, which is enough to explain the decision). */
void c_warnings_add(c_warnings *w, const char *code, const char *path, const char *action,
                    const char *original);

/* A list of borrowed strings; the pointer array is malloc'd. */
typedef struct c_strlist {
    const char **v;
    size_t n;
} c_strlist;

/* C.4 constraintsLite, always complete. */
typedef struct c_constraints {
    const char *constraint_set_version;
    c_strlist bcat;
    c_strlist badv;
    int non_personalized_only;
    c_strlist disallow_render_modes;
    const char *source_selection_mode;
    c_strlist allowed_source_ids;
    c_strlist blocked_source_ids;
    c_strlist reason_codes;
} c_constraints;

void c_constraints_free(c_constraints *c);

/* C.4 inputIssues[] item of a reject. */
typedef struct c_input_issue {
    char field_path[128];
    char raw_value[C_RAW_VALUE_MAX];
    const char *reason_code;
} c_input_issue;

/* Everything C decided about one message. */
typedef struct c_eval {
    c_keys keys;
    int64_t eval_start_ms;
    int64_t eval_end_ms;
    c_gate_result steps[C_MAX_STEPS]; /* gates and guards that ran, in order */
    size_t n_steps;
    size_t winner; /* index into steps */
    c_action final_action;
    int is_routable;
    int policy_degraded;
    const char *primary_code;
    const char *conflict_code;
    const char *secondary[C_MAX_SECONDARY];
    size_t n_secondary;
    const char *short_circuit_action;
    const char *short_circuit_gate;
    c_constraints constraints;
    const char *from_state;
    const char *to_state;
    const char *state_reason;
    c_warnings warnings;
    /* Borrowed; NULL when there is none. Gives the policy versions. */
    const Mediation__V1__PolicySnapshotLite *snapshot;
    int has_issue;
    c_input_issue issue;
} c_eval;

void c_eval_init(c_eval *e);
void c_eval_free(c_eval *e);

/* Copies src into a fixed buffer, truncating; NULL/"" gives "". */
void c_copy(char *dst, size_t cap, const char *src);

#endif
