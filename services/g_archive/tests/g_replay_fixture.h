/* Test fixture for replay: the fragments one opportunity leaves behind
 * (A/B/D/E StageAudits, the Delivery, F's archive records), built the way
 * the stages build them. Shared by the unit tests and the g_replay
 * integration test (which packs them into table rows). Everything lives in
 * the caller's arena. */
#ifndef G_REPLAY_FIXTURE_H
#define G_REPLAY_FIXTURE_H

#include <stdint.h>

#include "g_assemble.h"

#define GFX_MAX_DISPATCH 4
#define GFX_MAX_FACTS 6

typedef struct gfx_fact_spec {
    const char *event_type;        /* impression | click | ad_filled | error ... */
    const char *attribution_type;  /* attr_impression | attr_failure_terminal | ... */
    const char *record_status;     /* committed (default) | new | conflicted | ... */
    int64_t at_ms;
    const char *source_event_id;
    const char *reason_code;
} gfx_fact_spec;

typedef struct gfx_spec {
    const char *tenant, *app_id, *placement_id;
    const char *trace_key, *request_key, *attempt_key, *opportunity_key, *response_reference;
    int64_t audit_at_ms;
    const char *delivery_status;                   /* served (default) | no_fill | error */
    const char *winner;                            /* E's selected source; NULL = first candidate dispatch */
    const char *dispatch[GFX_MAX_DISPATCH];        /* D's dispatches in route order */
    const char *outcome[GFX_MAX_DISPATCH];         /* candidate (default) | no_fill | timeout | error */
    int64_t price_micros;
    const char *strategy;                          /* waterfall (default) | bidding */
    const char *e_dropped;                         /* E dropped this source's candidate */
    int drop_dedup_anchor;                         /* anchor snapshot without dedupFingerprintVersion */
    gfx_fact_spec facts[GFX_MAX_FACTS];            /* F's attribution facts (event_type NULL ends) */
    int billable_impression;                       /* add a committed billable_fact for the closure */
} gfx_spec;

/* A spec with every key derived from tag (e.g. "1"), served by net_a at at_ms. */
void gfx_spec_default(med_arena *a, gfx_spec *s, const char *tag, int64_t at_ms);
/* Adds impression at +1 s (with ad_filled before) and its billable fact. */
void gfx_spec_rendered(gfx_spec *s);

Mediation__V1__StageAudit *gfx_audit(med_arena *a, const gfx_spec *s, char stage);
Mediation__V1__Delivery *gfx_delivery(med_arena *a, const gfx_spec *s);
/* The archive records: a decision_audit and an attribution_fact per fact,
 * plus the billable fact. */
size_t gfx_archive(med_arena *a, const gfx_spec *s, Mediation__V1__FToGArchiveRecordLite ***out);
/* An opportunity with its keys and every fragment loaded. */
void gfx_opp(med_arena *a, const gfx_spec *s, g_opp *o);

#endif
