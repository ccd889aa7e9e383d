/* Fixture G of B.11 as protobuf structs on the stack (no heap), so each
 * test tweaks one field and runs the pipeline. */
#ifndef B_FIXTURE_H
#define B_FIXTURE_H

#include "b_normalize.h"
#include "mediation/v1/opportunity.pb-c.h"

#define B_FIX_SALT "test_salt"
#define B_FIX_NOW 1767229384123LL   /* 2026-01-01T01:03:04.123Z */

typedef struct b_fixture {
    Mediation__V1__OpportunitySeed seed;
    Mediation__V1__TraceContext trace;
    Mediation__V1__BIngressPacketLite pkt;
    Mediation__V1__OpportunitySeedLite os;
    Mediation__V1__OpportunityTimestamps ts;
    Mediation__V1__TraceInitLite ti;
    Mediation__V1__TriggerSnapshotLite trig;
    Mediation__V1__SensingDecisionLite sens;
    Mediation__V1__SourceInputBundleLite bundle;
    Mediation__V1__SourceSlotLite app, plc, def;
    Mediation__V1__AppContextRawLite app_ctx, plc_ctx, def_ctx;
    Mediation__V1__ConfigFailureLite cfail;
    Mediation__V1__ConfigSnapshotLite csnap;
    Mediation__V1__RoutingContextLite route;
    char *app_flags[4], *plc_flags[4];
    Mediation__V1__SourceSlotLite__NumericSignalsEntry numsig;
    Mediation__V1__SourceSlotLite__NumericSignalsEntry *numsigs[1];
    Mediation__V1__SourceSlotLite__MalformedFieldsEntry malformed;
    Mediation__V1__SourceSlotLite__MalformedFieldsEntry *malformeds[1];
    Mediation__V1__BIngressPacketLite__DebugHintsEntry hint;
    Mediation__V1__BIngressPacketLite__DebugHintsEntry *hints[1];
} b_fixture;

void b_fixture_init(b_fixture *f);
/* Runs the pipeline on f with the given schema body (NULL = defaults). */
void b_fixture_run(b_fixture *f, const json_t *schema_doc, b_normalize_out *out);
/* Setters for the slot oneofs. */
void b_fix_set_actor(Mediation__V1__SourceSlotLite *s, const char *v);
void b_fix_set_channel(Mediation__V1__SourceSlotLite *s, const char *v);
void b_fix_set_ptype(Mediation__V1__SourceSlotLite *s, const char *v);
void b_fix_set_flags(Mediation__V1__SourceSlotLite *s, char **store, const char *a, const char *b);
/* Mapping-audit record by slot, NULL when absent. */
const Mediation__V1__MappingAuditRecordLite *b_fix_record(const b_normalize_out *o, const char *slot);
/* Packs every audit of o and reports whether needle occurs in the bytes. */
int b_fix_audit_contains(const b_normalize_out *o, const char *needle);

#endif
