/* Stage E shared vocabulary: render modes, keys, warnings, the version
 * strings E stamps (E.4). Everything a rule produces is a plain struct;
 * const char * members borrow either static strings (reason codes,
 * versions) or the decoded ComposeInput, which must outlive the result. */
#ifndef E_TYPES_H
#define E_TYPES_H

#include <stddef.h>
#include <stdint.h>

/* E.4 output anchors. */
#define E_RENDER_PLAN_CONTRACT_VERSION "e_render_plan_contract_v1"
#define E_TRACKING_INJECTION_VERSION "e_tracking_injection_v1"
#define E_UI_CONSTRAINT_PROFILE_VERSION "e_ui_constraint_profile_v1"
#define E_GATE_RULE_VERSION "e_gate_rule_v1"
#define E_VALIDATION_RULE_VERSION "e_validation_rule_v1"
#define E_DECISION_RULE_VERSION "e_decision_rule_v1"
#define E_STATE_TRANSITION_RULE_VERSION "e_state_transition_rule_v1"
#define E_DELIVERY_CONTRACT_VERSION "e_delivery_contract_v1"
#define E_TO_F_EVENT_CONTRACT_VERSION "e_to_f_event_contract_v1"

#define E_STATUS_SERVED "served"
#define E_STATUS_NO_FILL "no_fill"
#define E_STATUS_ERROR "error"

#define E_SOURCE_D_ROUTE "d_route"
#define E_SOURCE_C_POLICY_BLOCK "c_policy_block"
#define E_SOURCE_A_TERMINAL "a_terminal"
#define E_SOURCE_B_REJECT "b_reject"

#define E_NONE "none"
#define E_NA "NA"

/* Chain order of E.5 (video first when the placement allows it). */
typedef enum e_mode {
    E_MODE_NONE = -1,
    E_MODE_VIDEO = 0,
    E_MODE_MRAID,
    E_MODE_WEBVIEW,
    E_MODE_NATIVE,
    E_MODE_COUNT
} e_mode;

typedef unsigned e_modeset; /* bit (1u << e_mode) */
#define E_MODE_BIT(m) (1u << (unsigned)(m))

const char *e_mode_name(e_mode m);   /* "none" for E_MODE_NONE */
e_mode e_mode_parse(const char *s);  /* E_MODE_NONE when unknown */

#define E_KEY_MAX 160
typedef struct e_keys {
    char trace_key[E_KEY_MAX];
    char request_key[E_KEY_MAX];
    char attempt_key[E_KEY_MAX];
    char opportunity_key[E_KEY_MAX];
} e_keys;

/* Copies each key, "NA" for a missing one. Sources are tried in order;
 * the first non-blank, non-"NA" value of each key wins. */
void e_keys_pick(e_keys *out, const char *const trace_keys[], const char *const request_keys[],
                 const char *const attempt_keys[], const char *const opportunity_keys[],
                 size_t n_sources);

/* "resp_" + hex20(traceKey:requestKey:attemptKey:opportunityKey) (E.1). */
#define E_REF_MAX 32
void e_response_reference(const e_keys *k, char out[E_REF_MAX]);

#define E_WARN_TEXT 96
typedef struct e_warning {
    const char *reason_code;
    char field_path[E_WARN_TEXT];
    const char *action;
    char original_value[E_WARN_TEXT];
    char corrected_value[E_WARN_TEXT];
} e_warning;

#define E_MAX_WARNINGS 16
typedef struct e_warnings {
    e_warning items[E_MAX_WARNINGS];
    int n;
} e_warnings;

/* Appends (drops silently past E_MAX_WARNINGS: warnings never decide). */
void e_warn(e_warnings *w, const char *code, const char *field_path, const char *action,
            const char *original, const char *corrected);
int e_warnings_has(const e_warnings *w, const char *code);

/* Blank = NULL, "" or only spaces. */
int e_blank(const char *s);

#endif
