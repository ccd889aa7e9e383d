/* A valid ReplayQuery to mutate in tests (storage inside the struct). */
#ifndef G_REPLAY_QFIX_H
#define G_REPLAY_QFIX_H

#include <string.h>

#include "mediation/v1/replay.pb-c.h"

#define QFIX_NOW 1795435200000LL /* 2026-11-23T12:00:00.000Z: receipt time of the tests */

typedef struct qfix {
    Mediation__V1__ReplayQuery q;
    Mediation__V1__ReplayPagination p;
    Mediation__V1__ReplaySort s;
    Mediation__V1__ReplayTimeRange r;
    Mediation__V1__ReplayFilters f;
    Mediation__V1__ReplayQuery__PinnedVersionsEntry pin;
    Mediation__V1__ReplayQuery__PinnedVersionsEntry *pins[1];
} qfix;

static inline void qfix_range(qfix *x, const char *start, const char *end, int page_size)
{
    memset(x, 0, sizeof *x);
    mediation__v1__replay_query__init(&x->q);
    mediation__v1__replay_pagination__init(&x->p);
    mediation__v1__replay_sort__init(&x->s);
    mediation__v1__replay_time_range__init(&x->r);
    mediation__v1__replay_filters__init(&x->f);
    mediation__v1__replay_query__pinned_versions_entry__init(&x->pin);
    x->q.query_mode = "by_time_range";
    x->q.output_mode = "summary";
    x->q.replay_contract_version = "g_replay_v1";
    x->p.page_size = page_size;
    x->q.pagination = &x->p;
    x->s.sort_by = "auditAt";
    x->s.sort_order = "desc";
    x->q.sort = &x->s;
    x->r.start_at = (char *)start;
    x->r.end_at = (char *)end;
    x->q.time_range = &x->r;
    x->q.filters = &x->f;
    x->q.tenant_id = "t1";
}

static inline void qfix_opportunity(qfix *x, const char *key, int page_size)
{
    qfix_range(x, "", "", page_size);
    x->q.query_mode = "by_opportunity";
    x->q.time_range = NULL;
    x->q.opportunity_key = (char *)key;
}

static inline void qfix_pin(qfix *x, const char *name, const char *value)
{
    x->pin.key = (char *)name;
    x->pin.value = (char *)value;
    x->pins[0] = &x->pin;
    x->q.pinned_versions = x->pins;
    x->q.n_pinned_versions = 1;
}

static inline void qfix_exec(qfix *x, const char *mode)
{
    x->q.replay_execution_mode_opt_case = MEDIATION__V1__REPLAY_QUERY__REPLAY_EXECUTION_MODE_OPT_REPLAY_EXECUTION_MODE;
    x->q.replay_execution_mode = (char *)mode;
}

static inline void qfix_cursor(qfix *x, const char *cursor)
{
    x->q.cursor_opt_case = MEDIATION__V1__REPLAY_QUERY__CURSOR_OPT_CURSOR;
    x->q.cursor = (char *)cursor;
}

static inline void qfix_as_of(qfix *x, const char *t)
{
    x->q.replay_as_of_at_opt_case = MEDIATION__V1__REPLAY_QUERY__REPLAY_AS_OF_AT_OPT_REPLAY_AS_OF_AT;
    x->q.replay_as_of_at = (char *)t;
}

#endif
