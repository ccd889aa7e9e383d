/* The messages a decision turns into (A.1, A.8): aTriggerSyncResultLite,
 * the inbox OpportunityRejectReply, and the terminal ComposeInput for E.
 * Pure; every pointer lives in the arena or in the decision. */
#ifndef A_OUT_H
#define A_OUT_H

#include "med/arena.h"
#include "a_decide.h"
#include "mediation/v1/compose.pb-c.h"
#include "mediation/v1/opportunity.pb-c.h"

#define A_RETRY_AFTER_SEC 1

/* TraceInitLite of the decision ("NA" for keys it could not compute). */
Mediation__V1__TraceInitLite *a_out_trace_init(med_arena *a, const a_decision *d);
/* aDedupSnapshotLite of the decision (NULL when no dedup key was made). */
Mediation__V1__ADedupSnapshotLite *a_out_dedup_snapshot(med_arena *a, const a_decision *d);
Mediation__V1__ATriggerSyncResultLite *a_out_sync_result(med_arena *a, const a_decision *d,
                                                         const char *trigger_contract_version,
                                                         int64_t now_ms);
/* http_status 400, or 503 + retry_after_sec when retryable. */
Mediation__V1__OpportunityRejectReply *a_out_reject_reply(med_arena *a, const a_decision *d,
                                                          Mediation__V1__TraceContext *trace,
                                                          int64_t now_ms);
/* compose_source a_terminal, upstream_terminal{stage a, ...}. */
Mediation__V1__ComposeInput *a_out_terminal_compose(med_arena *a, const a_decision *d,
                                                    const char *trigger_contract_version,
                                                    Mediation__V1__TraceContext *trace,
                                                    int64_t now_ms);

#endif
