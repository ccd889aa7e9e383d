#include "g_replay_select.h"

#include <stdlib.h>
#include <string.h>

#include "med/reason.h"

static int covers(char *const *v, size_t n, const char *want)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], "*") == 0 || (want && strcmp(v[i], want) == 0)) return 1;
    return 0;
}

/* A caller without bindings (an internal tool) sees the tenant; a token's
 * bindings limit it like every other route ("*" = any, empty = none). */
static int in_scope(const Mediation__V1__ReplayQuery *q, const g_opp *o)
{
    const Mediation__V1__ScopeBindings *b = q->auth ? q->auth->scope_bindings : NULL;
    if (!b) return 1;
    return covers(b->app_ids, b->n_app_ids, o->app_id) &&
           covers(b->placement_ids, b->n_placement_ids, o->placement_id);
}

static int key_ok(const char *want, const char *have)
{
    return !want || !*want || strcmp(want, have ? have : "") == 0;
}

static int key_filters_pass(const Mediation__V1__ReplayFilters *f, const g_opp *o)
{
    if (!f) return 1;
    return key_ok(f->trace_key, o->trace_key) && key_ok(f->request_key, o->request_key) &&
           key_ok(f->attempt_key, o->attempt_key) && key_ok(f->response_reference, o->response_reference);
}

static int has_record_filters(const Mediation__V1__ReplayFilters *f)
{
    return f && (f->n_record_type_in || f->n_record_status_in || (f->has_conflict_only_opt_case && f->has_conflict_only));
}

static int has_fragment_filters(const Mediation__V1__ReplayFilters *f)
{
    return f && (f->n_adapter_id_in || (f->has_timeout_only_opt_case && f->has_timeout_only));
}

med_rc g_select_prefilter(med_arena *a, const g_query *q, g_opp *opps, size_t n, g_select *out, med_err *err)
{
    memset(out, 0, sizeof *out);
    const Mediation__V1__ReplayFilters *f = q->raw->filters;
    out->n_base = n;
    out->matched = MED_NEWN(a, g_opp *, n);
    if (!out->matched) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "replay matches");
    for (size_t i = 0; i < n; i++) {
        if (!in_scope(q->raw, &opps[i])) continue;
        out->n_in_scope++;
        if (!key_filters_pass(f, &opps[i])) continue;
        if (has_record_filters(f) && !opps[i].arch_match) continue;
        out->matched[out->n_matched++] = &opps[i];
    }
    out->need_d = has_fragment_filters(f);
    out->need_archive = q->sort_by == G_SORT_EVENT_AT;
    return MED_OK;
}

static int listed(char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; s && i < n; i++)
        if (strcmp(v[i], s) == 0) return 1;
    return 0;
}

/* Both read D's dispatch records: who was asked, who timed out. */
static int fragment_filters_pass(const Mediation__V1__ReplayFilters *f, const g_opp *o)
{
    const Mediation__V1__DSupplyAuditLite *d = g_frags_d_audit(&o->f);
    const Mediation__V1__RouteAuditSnapshotLite *ra = d ? d->route_audit_snapshot_lite : NULL;
    int want_timeout = f->has_timeout_only_opt_case && f->has_timeout_only;
    int adapter_hit = !f->n_adapter_id_in, timeout_hit = !want_timeout;
    for (size_t i = 0; ra && i < ra->n_dispatch_records; i++) {
        const Mediation__V1__DispatchRecordLite *r = ra->dispatch_records[i];
        adapter_hit |= listed(f->adapter_id_in, f->n_adapter_id_in, r->source_id);
        timeout_hit |= r->outcome_type && strcmp(r->outcome_type, "timeout") == 0;
    }
    return adapter_hit && timeout_hit;
}

int64_t g_select_sort_ms(med_arena *a, const g_query *q, const g_opp *o)
{
    switch (q->sort_by) {
    case G_SORT_OUTPUT_AT:
        return o->has_output ? o->min_output_ms : o->audit_at_ms;
    case G_SORT_EVENT_AT:
        return g_assemble_event_at(a, o);
    default:
        return o->audit_at_ms;
    }
}

typedef struct keyed {
    g_sort_key k;
    g_opp *o;
} keyed;

static int keyed_cmp(const void *x, const void *y, void *desc)
{
    return g_sort_key_cmp(&((const keyed *)x)->k, &((const keyed *)y)->k, *(const int *)desc);
}

static g_sort_key key_of(int64_t ms, const g_opp *o)
{
    return (g_sort_key){ms, o->trace_key, o->request_key, o->attempt_key, o->audit_record_id};
}

static void sort_keyed(keyed *v, size_t n, int desc)
{
    qsort_r(v, n, sizeof *v, keyed_cmp, &desc);
}

med_rc g_select_page(med_arena *a, const g_query *q, g_select *s, med_err *err)
{
    const Mediation__V1__ReplayFilters *f = q->raw->filters;
    keyed *v = MED_NEWN(a, keyed, s->n_matched);
    s->page = MED_NEWN(a, g_opp *, (size_t)q->page_size);
    s->sort_ms = MED_NEWN(a, int64_t, (size_t)q->page_size);
    if (!v || !s->page || !s->sort_ms) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "replay page");
    size_t n = 0;
    for (size_t i = 0; i < s->n_matched; i++) {
        if (s->need_d && !fragment_filters_pass(f, s->matched[i])) continue;
        v[n].o = s->matched[i];
        v[n].k = key_of(g_select_sort_ms(a, q, s->matched[i]), s->matched[i]);
        n++;
    }
    s->total = n;
    sort_keyed(v, n, q->desc);
    size_t start = 0;
    if (q->has_cursor)
        while (start < n && g_sort_key_cmp(&v[start].k, &q->cursor.after, q->desc) <= 0) start++;
    for (size_t i = start; i < n && s->n_page < (size_t)q->page_size; i++) {
        s->sort_ms[s->n_page] = v[i].k.sort_ms;
        s->page[s->n_page++] = v[i].o;
    }
    s->has_more = start + s->n_page < n;
    return MED_OK;
}

const char *g_select_empty_reason(const g_query *q, const g_select *s)
{
    if (s->n_base == 0)
        return q->mode == G_QM_BY_OPPORTUNITY ? MED_R_G_REPLAY_NOT_FOUND_OPPORTUNITY : MED_R_G_REPLAY_NO_RECORD_IN_TIME_RANGE;
    if (s->n_in_scope == 0) return MED_R_G_REPLAY_ACCESS_DENIED_SCOPE;
    if (s->total == 0) return MED_R_G_REPLAY_FILTERED_OUT;
    return MED_R_G_REPLAY_NOT_EMPTY;
}
