/* B.7 redaction: the policy (spec defaults + the schema document's
 * redactionFieldLevels), value redaction, the redactionSnapshotLite and the
 * guard that no raw S2/S3 value reaches an audit verbatim. */
#ifndef B_REDACT_H
#define B_REDACT_H

#include <jansson.h>
#include "med/arena.h"
#include "med/err.h"
#include "mediation/v1/opportunity.pb-c.h"

#define B_REDACT_MAX_RULES 32
#define B_REDACT_MAX_DECISIONS 64
#define B_REDACT_MAX_SENSITIVE 32

typedef struct b_redact_rule {
    char path[96];         /* "extensions.*" matches the prefix */
    char cls[24];          /* S0_public | S1_quasi_identifier | S2_identifier | S3_sensitive_content */
    char action[12];       /* pass | coarsen | hash | drop */
    char coarsen[16];      /* time_bucket | range_bucket | prefix_mask | "" */
} b_redact_rule;

typedef struct b_redact_policy {
    char version[64];
    char algorithm[16];
    char salt_key_ref[64];
    char failure_mode[16];
    b_redact_rule rules[B_REDACT_MAX_RULES];
    int n_rules;
} b_redact_policy;

/* Spec defaults, then levels {fieldPath: action or class} on top. A level
 * that is neither -> b_redaction_policy_missing_or_invalid. */
med_rc b_redact_policy_build(const json_t *levels, const char *version, const char *salt_key_ref,
                             b_redact_policy *out, med_err *err);
med_rc b_redact_policy_validate(const b_redact_policy *p, med_err *err);
/* The rule for a path; unlisted paths are S0 pass. */
b_redact_rule b_redact_rule_for(const b_redact_policy *p, const char *path);
/* sha256(salt|value) hex. */
void b_redact_hash(const char *salt, const char *value, char out[65]);

typedef struct b_redactor {
    const b_redact_policy *policy;
    const char *salt;
    med_arena *arena;
    Mediation__V1__RedactionFieldDecisionLite *decisions[B_REDACT_MAX_DECISIONS];
    int n_decisions;
    const char *sensitive[B_REDACT_MAX_SENSITIVE]; /* raw S2/S3 values seen */
    int sensitive_substr[B_REDACT_MAX_SENSITIVE];  /* S2 ids: also inside other text */
    int n_sensitive;
    int pass, hash, coarsen, drop;
} b_redactor;

void b_redactor_init(b_redactor *r, const b_redact_policy *p, const char *salt, med_arena *a);
/* Redacted text of raw at path (arena), recording one field decision per
 * distinct (path, raw). A drop gives "NA". Failures reject:
 * b_redaction_execution_failed. */
med_rc b_redactor_apply(b_redactor *r, const char *path, const char *raw, const char **out,
                        med_err *err);
/* The snapshot over every decision made so far, sorted by path. */
Mediation__V1__RedactionSnapshotLite *b_redactor_snapshot(b_redactor *r, const char *trace_key,
                                                          const char *request_key,
                                                          const char *attempt_key,
                                                          int64_t now_ms);
/* b_redaction_before_audit_violation when any of the n audit strings holds
 * a raw S2/S3 value verbatim. */
med_rc b_redactor_guard(const b_redactor *r, const char *const *texts, size_t n, med_err *err);
/* The policy as it travels (RedactionPolicyLite), in the arena. */
Mediation__V1__RedactionPolicyLite *b_redact_policy_lite(med_arena *a, const b_redact_policy *p);

#endif
