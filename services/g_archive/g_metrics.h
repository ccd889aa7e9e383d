/* G's service level metrics (observability/metrics.md, names in
 * med/metric_names.h), counted where G answers a replay or a
 * reconciliation (g_replay_serve.c, g_recon_serve.c), never in the rules. */
#ifndef G_METRICS_H
#define G_METRICS_H

#include "g_replay_query.h"
#include "mediation/v1/replay.pb-c.h"

/* One replay run that reached the store: ok when a 200 page was built,
 * error otherwise (store/system failure). A query refused as invalid
 * (400/409) is the caller's fault and no run. For a recompute run, each
 * item's diff counts match (exact_match, semantically_equivalent) or
 * mismatch (diverged); not_comparable items are not compared. */
void g_metrics_replay(const g_query *q, const Mediation__V1__ReplayPage *page, int ok);

/* One reconciliation report: one count per diff by its diff_code. */
void g_metrics_recon(const Mediation__V1__ReconciliationReport *r);

#endif
