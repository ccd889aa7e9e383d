/* A valid NormalizedOpportunity for C's tests (consent granted, count 1,
 * no flags, fail_closed snapshot that never expires), built from fields
 * the tests can change before running C on it. */
#ifndef C_FIXTURE_H
#define C_FIXTURE_H

#include "c_decide.h"
#include "c_process.h"
#include "mediation/v1/opportunity.pb-c.h"

#define C_FX_NOW 1767225600000LL /* 2026-01-01T00:00:00Z */

typedef struct c_fx {
    Mediation__V1__NormalizedOpportunity msg;
    Mediation__V1__TraceContext trace;
    Mediation__V1__CanonicalBlocks blocks;
    Mediation__V1__RequestMeta rm;
    Mediation__V1__PlacementMeta pm;
    Mediation__V1__UserContext uc;
    Mediation__V1__OpportunityContext oc;
    Mediation__V1__PolicyContext pc;
    Mediation__V1__TraceContextBlock tc;
    Mediation__V1__NormalizationSummary ns;
    Mediation__V1__MappingAuditSnapshotLite mas;
    Mediation__V1__PolicySnapshotLite snap;
    Mediation__V1__PolicyConstraintsLite pcl;
    Mediation__V1__ComplianceGateRule co;
    Mediation__V1__ConsentAuthGateRule cs;
    Mediation__V1__FrequencyCapGateRule fq;
    Mediation__V1__CategoryGateRule ca;
    Mediation__V1__ConstraintsLite base;
    Mediation__V1__CategoryConstraints cc;
    Mediation__V1__SourceConstraints sc;
    Mediation__V1__RenderConstraints rnd;
    Mediation__V1__RoutingContextLite routing;
    Mediation__V1__ConfigSnapshotLite cfg;
    Mediation__V1__VersionAnchorSnapshot vas;
    Mediation__V1__PlacementSpecLite ps;
    Mediation__V1__DeviceCapabilitiesLite dc;
    char *flags[4];
    char *hard_categories[4];
    char *degraded_categories[4];
    char *allowed[4];
    char *blocked[4];
    char *bcat[4];
    char *render_modes[4];
} c_fx;

void c_fx_init(c_fx *f);
void c_fx_set_count(c_fx *f, int64_t count);
void c_fx_add_flag(c_fx *f, const char *flag);
void c_fx_add_hard_category(c_fx *f, const char *cat);

/* Runs C.2 checks then the gates (or the reject) like c_process does.
 * Returns the check result; e must be freed with c_eval_free. */
med_rc c_fx_run(c_fx *f, int64_t now, c_eval *e);

/* Packs f->msg and runs c_process with the fixture's headers. */
med_rc c_fx_process(c_fx *f, int64_t now, c_emit *out);
/* The output published on subject, or NULL. */
const c_emit_item *c_fx_find(const c_emit *out, const char *subject);

#endif
