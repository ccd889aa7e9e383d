/* C.3 gates, one function each. A gate reads only its rule object from the
 * policy snapshot (NULL = every field at its default) and the canonical
 * blocks; it cannot fail on validated input. */
#ifndef C_GATES_H
#define C_GATES_H

#include "c_types.h"

void c_gate_compliance(const Mediation__V1__ComplianceGateRule *rule,
                       const Mediation__V1__OpportunityContext *oc, c_gate_result *out);

void c_gate_consent_auth(const Mediation__V1__ConsentAuthGateRule *rule, const char *consent_scope,
                         c_gate_result *out);

void c_gate_frequency_cap(const Mediation__V1__FrequencyCapGateRule *rule, int64_t count,
                          c_gate_result *out);

void c_gate_category(const Mediation__V1__CategoryGateRule *rule, char *const *flags,
                     size_t n_flags, c_gate_result *out);

/* The fail_open expiry degrade (C.2). */
void c_guard_snapshot_expired(c_gate_result *out);

#endif
