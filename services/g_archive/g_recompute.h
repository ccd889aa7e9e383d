/* rule_recompute (spec 04 G.6): G's own pure re-derivation of the G.7 key
 * facts from the archived inputs, under the archived anchors, to diff with
 * what the stages recorded. Diagnosis only, never the billing answer.
 *
 * What is recomputed, and from what:
 *   winner         D.x/E.6 selection rerun: D's dispatch records that
 *                  returned a candidate, in route order (step, hop), minus
 *                  sources whose every candidate E dropped, gated by E's
 *                  recorded capability gate (a render mode selected) and
 *                  validation (not block). Waterfall: the first survivor
 *                  (top1_strict: E scans only the first fill). Bidding and
 *                  hybrid rank by price, which D's audit does not archive:
 *                  the recorded winner stands iff it filled and E kept it,
 *                  else the first survivor (none when top1_strict E
 *                  dropped its one candidate).
 *   terminal       F.6 closure state machine rerun per closure over every
 *                  archived attribution fact F accepted or flagged (new,
 *                  committed, superseded, conflicted), ordered by (time;
 *                  impression, failure, rest; sourceEventId): impression
 *                  beats failure, a synthesized timeout failure is
 *                  superseded once, real terminals are final.
 *   billable facts F.7 rerun on the same sequence: billable_impression when
 *                  an impression closes the closure as success on a served
 *                  Delivery; billable_click for the first click after it
 *                  (a click pending <= 120 s before the impression is
 *                  upgraded); never on closed_failure.
 *   reason codes   keyReasonCodes rebuilt from the recomputed winner and
 *                  terminal (adapter filter codes are inputs, kept).
 *   non-key        event counts (each sourceEventId once) and render status.
 * The recorded side comes from the assembled record (what D/E/F decided:
 * E's selected candidate, F's record statuses, committed billable facts).
 * Pure. */
#ifndef G_RECOMPUTE_H
#define G_RECOMPUTE_H

#include "g_assemble.h"
#include "g_diff.h"

/* The recorded key facts of an assembled opportunity. */
void g_key_facts_recorded(med_arena *a, const g_opp *o, const g_assembled *g, g_key_facts *out);
/* The recomputed key facts. */
void g_key_facts_recompute(med_arena *a, const g_opp *o, const g_assembled *g, g_key_facts *out);

#endif
