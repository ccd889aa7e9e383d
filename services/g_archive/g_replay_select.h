/* Which opportunities a replay query matches and which of them this page
 * returns (spec 04 G.5, G.6 empty result): caller scope, filters, the
 * order, the cursor. Pure: the I/O hands over every opportunity visible at
 * the cut (the base set) and, when a filter or the order needs them, their
 * fragments. */
#ifndef G_REPLAY_SELECT_H
#define G_REPLAY_SELECT_H

#include <stddef.h>

#include "g_assemble.h"
#include "g_replay_query.h"

typedef struct g_select {
    size_t n_base;          /* visible at the cut, before scope and filters */
    size_t n_in_scope;
    g_opp **matched;        /* after scope and key/record filters (arena) */
    size_t n_matched;
    int need_d;             /* adapter/timeout filters: D audits of every match */
    int need_archive;       /* eventAt order: archive rows of every match */
    /* after g_select_page */
    size_t total;           /* totalMatched */
    g_opp **page;           /* this page, in order (points into matched) */
    size_t n_page;
    int has_more;
    int64_t *sort_ms;       /* sort value of each page item */
} g_select;

/* Scope, the key filters (traceKey, requestKey, attemptKey,
 * responseReference) and the record filters evaluated by the store
 * (o->arch_match). Sets need_d / need_archive. */
med_rc g_select_prefilter(med_arena *a, const g_query *q, g_opp *opps, size_t n, g_select *out, med_err *err);
/* The fragment filters (adapterIdIn, hasTimeoutOnly; fragments loaded
 * when need_d), the order and the page after the cursor. */
med_rc g_select_page(med_arena *a, const g_query *q, g_select *s, med_err *err);

/* sortValue of one opportunity for q's sortBy (eventAt needs archive rows). */
int64_t g_select_sort_ms(med_arena *a, const g_query *q, const g_opp *o);

/* G.6 empty result, first match: not found / no record in range (nothing
 * before filters), access denied (only outside scope), filtered out;
 * else g_replay_not_empty. */
const char *g_select_empty_reason(const g_query *q, const g_select *s);

#endif
