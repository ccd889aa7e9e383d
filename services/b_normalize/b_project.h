/* B.9 OpenRTB 2.6 projection of the canonical opportunity (only imp[], app,
 * device, user, regs, ext) and its target coverage. Takes redacted
 * identifiers only: user.id / device.id are the salted hashes. */
#ifndef B_PROJECT_H
#define B_PROJECT_H

#include <stddef.h>
#include "med/arena.h"
#include "med/err.h"
#include "mediation/v1/opportunity.pb-c.h"

typedef struct b_proj_input {
    const char *request_key, *placement_key, *placement_surface;
    const char *placement_type, *trigger_decision, *decision_outcome, *hit_type;
    const char *session_key_hashed, *device_id_hashed;   /* NULL = missing */
    const char *consent_scope;
    const char *const *flags;
    size_t n_flags;
    int flags_invalid;         /* the flags were not a list of strings */
    const char *trace_key, *attempt_key, *app_id;
    const char *request_ts, *channel_type, *actor_type, *policy_gate_hint, *perf_bucket;
    int perf_bucket_degraded;  /* unknown or outlier bucket */
    int redaction_enforced;    /* a redaction snapshot with beforeAuditEnforced */
} b_proj_input;

typedef struct b_projection {
    Mediation__V1__OpenrtbProjectionLite *lite;
    Mediation__V1__ProjectionTargetCoverageLite **coverage;
    size_t n_coverage;
    const char *disposition;   /* mapped | partial | unmapped */
    const char *reason_code;
} b_projection;

/* MED_OK with a mapped/partial projection; MED_ERR_INVALID with the B.9
 * reject code (unmapped, or no redaction first) and out still filled with
 * the coverage. MED_ERR_NOMEM on allocation failure. */
med_rc b_project(med_arena *a, const b_proj_input *in, const char *version, b_projection *out,
                 med_err *err);

#endif
