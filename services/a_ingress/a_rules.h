/* A.6 config-failure obedience, A.7 latency budget and A.8's reason-code
 * table. Pure. */
#ifndef A_RULES_H
#define A_RULES_H

#include <stdint.h>
#include "med/rconfig.h"

typedef struct a_config_outcome {
    const char *scenario;      /* "" | config_timeout | config_unavailable | config_version_invalid */
    const char *failure_mode;  /* "" | fail_open | fail_closed */
    const char *a_code;        /* a_trg_config_*, NULL when the config is fresh */
    const char *h_code;        /* H primaryReasonCode, NULL when fresh */
    int reject;                /* 1: stop in A (error Delivery) */
    int has_snapshot;          /* the entry is usable */
} a_config_outcome;

/* The H.9 / A.6 matrix over med_rconfig_status. */
void a_config_classify(med_rconfig_status st, a_config_outcome *out);

typedef struct a_budget {
    const char *latency_decision;   /* within_soft | soft_exceeded | hard_exceeded */
    const char *latency_reason_code;/* NULL within soft */
    int64_t elapsed_ms, soft_ms, hard_ms;
} a_budget;

/* aElapsedMs = now - receivedAt; > soft degrades, > hard rejects. */
void a_budget_check(int64_t received_at_ms, int64_t now_ms, int64_t soft_ms, int64_t hard_ms,
                    a_budget *out);

typedef struct a_code_class {
    const char *trigger_action;   /* create_opportunity | no_op | reject; NULL for a_trg_map_* (A.3 decides) */
    const char *error_action;     /* allow | degrade | reject */
    int retryable;
} a_code_class;

/* A.8 table; 0 when the code is A's, -1 otherwise. */
int a_code_classify(const char *code, a_code_class *out);

#endif
