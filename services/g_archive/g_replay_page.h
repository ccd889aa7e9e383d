/* The replay reply (spec 04 G.6 gReplayResultLite, G.7 diff) for a
 * validated query whose page fragments are loaded: summary or full items,
 * the mode rules on replay anchors and pins, item and page diffs,
 * determinism, the empty result and the next cursor. Pure. */
#ifndef G_REPLAY_PAGE_H
#define G_REPLAY_PAGE_H

#include "g_replay_query.h"
#include "g_replay_select.h"
#include "mediation/v1/replay.pb-c.h"

/* *out (arena) is the 200 page. rule_recompute on an item without an
 * anchor fails MED_ERR_INVALID g_replay_missing_version_anchor, a pin that
 * differs from the archive MED_ERR_CONFLICT g_replay_version_anchor_conflict
 * (G.6 table); the caller answers those with g_replay_page_error. */
med_rc g_replay_page_build(med_arena *a, const g_query *q, const g_select *s, int64_t now_ms,
                           Mediation__V1__ReplayPage **out, med_err *err);

/* The error reply for err (status from g_replay_http_status). */
Mediation__V1__ReplayPage *g_replay_page_error(med_arena *a, const Mediation__V1__ReplayQuery *q,
                                               const med_err *err, int64_t now_ms);

/* Anchors of G.6 by name (g_anchor_names order); "" when absent. */
const char *g_anchor_value(const Mediation__V1__ReplayAnchorsLite *r, int i);
/* Whether any anchor is absent. */
int g_anchor_missing(const Mediation__V1__ReplayAnchorsLite *r);
/* How many of the query's pins differ from r (an unknown anchor name
 * cannot match the archive, so it differs). */
int g_anchor_pin_mismatches(const Mediation__V1__ReplayAnchorsLite *r, const Mediation__V1__ReplayQuery *q);

#endif
