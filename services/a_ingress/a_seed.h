/* What a created opportunity sends on (A.9): the OpportunitySeed for B
 * (bIngressPacketLite plus the config lites and version anchors), the
 * opportunity_created event and A's StageAudit. Pure; arena-owned. */
#ifndef A_SEED_H
#define A_SEED_H

#include <jansson.h>
#include "med/arena.h"
#include "a_decide.h"
#include "a_event.h"
#include "h_anchor.h"
#include "med/rconfig.h"
#include "mediation/v1/audit.pb-c.h"
#include "mediation/v1/opportunity.pb-c.h"

/* Everything the builders read besides the decision and the request. */
typedef struct a_seed_ctx {
    const a_decision *d;
    const a_request *req;
    const med_rconfig_entry *cfg;        /* NULL when no usable config */
    Mediation__V1__TraceContext *trace;  /* already carries A's keys and hop */
    int64_t received_at_ms, now_ms;
    const char *tenant_id;
} a_seed_ctx;

/* H.6 ingress injection of the 18 anchors from the resolved config and the
 * module versions. MED_OK with out->anchor_action reject when H says so. */
med_rc a_anchor_ingress(const a_seed_ctx *c, h_anchor_snapshot *out, med_err *err);
Mediation__V1__VersionAnchorSnapshot *a_anchor_pb(med_arena *a, const h_anchor_snapshot *s);

Mediation__V1__OpportunitySeed *a_seed_build(med_arena *a, const a_seed_ctx *c,
                                             Mediation__V1__VersionAnchorSnapshot *anchors);

/* opportunity_created (A.9); event_key minted by the caller. */
Mediation__V1__OpportunityCreatedEventLite *a_event_build(med_arena *a, const a_seed_ctx *c,
                                                          const char *event_key,
                                                          const char *idempotency_key);

/* StageAudit{stage a}: kind "decision" or "opportunity_created". */
Mediation__V1__StageAudit *a_audit_build(med_arena *a, const a_seed_ctx *c, const char *kind,
                                         const char *audit_id,
                                         Mediation__V1__OpportunityCreatedEventLite *event,
                                         Mediation__V1__VersionAnchorSnapshot *anchors);

#endif
