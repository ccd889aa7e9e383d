/* C.4 outputs as protobuf: the PolicyDecision to D (routable only), the
 * terminal ComposeInput to E (block / reject, or a forwarded B reject), and
 * the StageAudit to G. Everything is built in the arena and borrows its
 * strings from the c_eval and the input message. NULL = out of memory. */
#ifndef C_OUTPUT_H
#define C_OUTPUT_H

#include "med/arena.h"
#include "c_types.h"
#include "mediation/v1/audit.pb-c.h"
#include "mediation/v1/compose.pb-c.h"
#include "mediation/v1/policy.pb-c.h"

#define C_COMPOSE_SOURCE_BLOCK "c_policy_block"
#define C_COMPOSE_SOURCE_B_REJECT "b_reject"

typedef struct c_out_ctx {
    med_arena *arena;
    const c_eval *e;                                   /* NULL for a forwarded B reject */
    const Mediation__V1__NormalizedOpportunity *msg;   /* NULL when undecodable */
    Mediation__V1__TraceContext *trace;                /* input trace + this hop */
    int64_t now_ms;
} c_out_ctx;

Mediation__V1__CPolicyDecisionLite *c_output_decision_lite(const c_out_ctx *c);

Mediation__V1__PolicyDecision *c_output_policy_decision(
    const c_out_ctx *c, Mediation__V1__PolicyAuditSnapshotLite *audit);

Mediation__V1__ComposeInput *c_output_compose_block(const c_out_ctx *c);

/* B already rejected (normalize_accepted=false): forwarded unevaluated. */
Mediation__V1__ComposeInput *c_output_compose_b_reject(const c_out_ctx *c, const c_keys *keys);

/* audit may be NULL (forwarded B reject: C made no decision). */
Mediation__V1__StageAudit *c_output_stage_audit(const c_out_ctx *c,
                                                Mediation__V1__PolicyAuditSnapshotLite *audit,
                                                const char *audit_id, const char *instance);

#endif
