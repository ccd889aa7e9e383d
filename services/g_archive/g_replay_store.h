/* Replay reads (spec 04 G.5 cut semantics). Every statement runs inside the
 * caller's med_pg_tx with the query's tenant, so row-level security makes
 * another tenant's rows absent. Visible iff stored by the cut: the
 * Delivery (auditAt = its created_at) and every fragment with
 * created_at <= cut, so rows appended later never change a past cut.
 * Fragments are read per page in one statement for all of the page's
 * opportunities, never per item. */
#ifndef G_REPLAY_STORE_H
#define G_REPLAY_STORE_H

#include <stddef.h>

#include "g_assemble.h"
#include "g_replay_query.h"
#include "med/pg.h"

/* Registers the statements on pg (the replay server's own connection). */
med_rc g_replay_store_prepare(med_pg *pg, med_err *err);

/* The base set: Delivery rows decided in the query's range (or of its
 * opportunity) and stored by the cut, with the earliest linked archive
 * outputAt and whether a linked record passes the record filters. *opps
 * lives in a; their key strings in *keep, which the caller PQclears once
 * done with them. */
med_rc g_replay_store_candidates(med_pg *pg, const g_query *q, med_arena *a, g_opp **opps, size_t *n,
                                 PGresult **keep, med_err *err);

enum {
    G_LOAD_AUDITS = 1,     /* A..E decision audits */
    G_LOAD_D_ONLY = 2,     /* only D's (adapter filters) */
    G_LOAD_ARCHIVE = 4,    /* archive records */
    G_LOAD_DELIVERY = 8,   /* the packed Delivery */
    G_LOAD_ALL = G_LOAD_AUDITS | G_LOAD_ARCHIVE | G_LOAD_DELIVERY,
};

/* Loads the fragments named by what for opps[0..n) in one statement. */
med_rc g_replay_store_fragments(med_pg *pg, int64_t cut_ms, g_opp **opps, size_t n, unsigned what,
                                med_arena *a, med_err *err);

#endif
