#include "g_replay_page.h"

#include <string.h>

#include "g_diff.h"
#include "g_recompute.h"
#include "g_replay_time.h"
#include "med/reason.h"

#define PAGE(x) MEDIATION__V1__REPLAY_##x

static int blank(const char *s)
{
    return !s || !*s || strcmp(s, "NA") == 0;
}

static med_rc nomem(med_err *err)
{
    return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "replay page");
}

/* ---- anchors (G.6) ---- */

const char *g_anchor_value(const Mediation__V1__ReplayAnchorsLite *r, int i)
{
    if (!r) return "";
    const char *v[G_ANCHOR_COUNT] = {r->schema_version, r->mapping_rule_version, r->routing_policy_version,
                                     r->policy_rule_version, r->delivery_rule_version, r->event_contract_version,
                                     r->dedup_fingerprint_version, r->anchor_hash};
    return i >= 0 && i < G_ANCHOR_COUNT && v[i] ? v[i] : "";
}

int g_anchor_missing(const Mediation__V1__ReplayAnchorsLite *r)
{
    for (int i = 0; i < G_ANCHOR_COUNT; i++)
        if (blank(g_anchor_value(r, i))) return 1;
    return 0;
}

int g_anchor_pin_mismatches(const Mediation__V1__ReplayAnchorsLite *r, const Mediation__V1__ReplayQuery *q)
{
    int n = 0;
    for (size_t p = 0; p < q->n_pinned_versions; p++) {
        const char *name = q->pinned_versions[p]->key, *want = q->pinned_versions[p]->value;
        int i = 0;
        while (i < G_ANCHOR_COUNT && strcmp(g_anchor_names[i], name ? name : "") != 0) i++;
        n += i == G_ANCHOR_COUNT || strcmp(g_anchor_value(r, i), want ? want : "") != 0;
    }
    return n;
}

/* ---- items ---- */

static Mediation__V1__ReplaySummaryItem *summary_item(med_arena *a, const g_assembled *g)
{
    Mediation__V1__ReplaySummaryItem *s = MED_NEW(a, Mediation__V1__ReplaySummaryItem);
    Mediation__V1__ReplaySummaryItem__RecordCountByTypeEntry **e =
        MED_NEWN(a, Mediation__V1__ReplaySummaryItem__RecordCountByTypeEntry *, 3);
    if (!s || !e) return NULL;
    mediation__v1__replay_summary_item__init(s);
    const Mediation__V1__GAuditRecordLite *r = g->rec;
    s->opportunity_key = r->opportunity_key;
    s->trace_key = r->trace_key;
    if (r->response_reference_or_na_opt_case) {
        s->response_reference_or_na_opt_case = PAGE(SUMMARY_ITEM__RESPONSE_REFERENCE_OR_NA_OPT_RESPONSE_REFERENCE_OR_NA);
        s->response_reference_or_na = r->response_reference_or_na;
    }
    s->terminal_status = (char *)g->terminal_status;
    const Mediation__V1__WinnerSnapshotLite *w = r->winner_snapshot;
    if (w && w->winner_adapter_id_or_na_opt_case) {
        s->winner_adapter_id_or_na_opt_case = PAGE(SUMMARY_ITEM__WINNER_ADAPTER_ID_OR_NA_OPT_WINNER_ADAPTER_ID_OR_NA);
        s->winner_adapter_id_or_na = w->winner_adapter_id_or_na;
    }
    s->key_reason_codes = g->key_reason_codes;
    s->n_key_reason_codes = g->n_key_reason_codes;
    for (int i = 0; i < 3; i++) {
        if (!(e[i] = MED_NEW(a, Mediation__V1__ReplaySummaryItem__RecordCountByTypeEntry))) return NULL;
        mediation__v1__replay_summary_item__record_count_by_type_entry__init(e[i]);
        e[i]->key = (char *)g_record_types[i];
        e[i]->value = g->count_by_type[i];
    }
    s->record_count_by_type = e;
    s->n_record_count_by_type = 3;
    return s;
}

/* rawPayload stays unset: no stage archives the raw SDK body (A keeps it
 * out of its audit; B's audit holds only redacted values, which the full
 * item already carries). */
static Mediation__V1__ReplayFullItem *full_item(med_arena *a, const g_assembled *g)
{
    Mediation__V1__ReplayFullItem *f = MED_NEW(a, Mediation__V1__ReplayFullItem);
    if (!f) return NULL;
    mediation__v1__replay_full_item__init(f);
    f->g_audit_record_lite = g->rec;
    f->f_to_g_archive_record_lite = g->arch;
    f->n_f_to_g_archive_record_lite = g->n_arch;
    f->fact_decision_audit_lite = g->fda;
    f->n_fact_decision_audit_lite = g->n_fda;
    return f;
}

static Mediation__V1__ReplayItemDiffLite *item_diff_pb(med_arena *a, const g_item_diff *d)
{
    Mediation__V1__ReplayItemDiffLite *p = MED_NEW(a, Mediation__V1__ReplayItemDiffLite);
    char **codes = MED_NEWN(a, char *, d->n_codes);
    if (!p || !codes) return NULL;
    mediation__v1__replay_item_diff_lite__init(p);
    p->diff_status = (char *)d->status;
    for (size_t i = 0; i < d->n_codes; i++) codes[i] = (char *)d->codes[i];
    p->diff_reason_codes = codes;
    p->n_diff_reason_codes = d->n_codes;
    p->field_diff_count = d->field_diff_count;
    return p;
}

typedef struct page_state {
    g_assembled *g;
    g_item_diff *diffs;
    int *has_diff;
    int any_missing, any_mismatch;
} page_state;

static med_rc assemble_all(med_arena *a, const g_query *q, const g_select *s, page_state *st, med_err *err)
{
    st->g = MED_NEWN(a, g_assembled, s->n_page);
    st->diffs = MED_NEWN(a, g_item_diff, s->n_page);
    st->has_diff = MED_NEWN(a, int, s->n_page);
    if (!st->g || !st->diffs || !st->has_diff) return nomem(err);
    for (size_t i = 0; i < s->n_page; i++) {
        med_rc rc = g_assemble(a, s->page[i], &st->g[i], err);
        if (rc != MED_OK) return rc;
        const Mediation__V1__ReplayAnchorsLite *an = st->g[i].rec->replay_anchors;
        st->any_missing |= g_anchor_missing(an);
        int mism = g_anchor_pin_mismatches(an, q->raw);
        st->any_mismatch |= mism > 0;
        if (q->exec == G_EXEC_SNAPSHOT && mism) {
            g_diff_version_mismatch(mism, &st->diffs[i]);
            st->has_diff[i] = 1;
        }
    }
    return MED_OK;
}

/* G.6 table, rule_recompute column: the whole request fails. */
static med_rc recompute_gate(const page_state *st, med_err *err)
{
    if (st->any_missing)
        return med_err_set(err, MED_ERR_INVALID, MED_R_G_REPLAY_MISSING_VERSION_ANCHOR, "replayExecutionMode",
                           "an item lacks a replay anchor: rule_recompute cannot run");
    if (st->any_mismatch)
        return med_err_set(err, MED_ERR_CONFLICT, MED_R_G_REPLAY_VERSION_ANCHOR_CONFLICT, "pinnedVersions",
                           "a pinned version differs from the archived anchor");
    return MED_OK;
}

static void recompute_all(med_arena *a, const g_select *s, page_state *st)
{
    for (size_t i = 0; i < s->n_page; i++) {
        st->has_diff[i] = 1;
        if (st->g[i].missing_snapshot) {
            g_diff_not_comparable(&st->diffs[i]);
            continue;
        }
        g_key_facts rec, re;
        g_key_facts_recorded(a, s->page[i], &st->g[i], &rec);
        g_key_facts_recompute(a, s->page[i], &st->g[i], &re);
        g_diff_items(&rec, &re, &st->diffs[i]);
    }
}

static med_rc items(med_arena *a, const g_query *q, const g_select *s, const page_state *st,
                    Mediation__V1__ReplayPage *p, med_err *err)
{
    p->items = MED_NEWN(a, Mediation__V1__ReplayItem *, s->n_page);
    if (!p->items) return nomem(err);
    for (size_t i = 0; i < s->n_page; i++) {
        Mediation__V1__ReplayItem *it = MED_NEW(a, Mediation__V1__ReplayItem);
        if (!it) return nomem(err);
        mediation__v1__replay_item__init(it);
        if (q->full) {
            it->item_case = PAGE(ITEM__ITEM_FULL);
            it->full = full_item(a, &st->g[i]);
        } else {
            it->item_case = PAGE(ITEM__ITEM_SUMMARY);
            it->summary = summary_item(a, &st->g[i]);
        }
        if (st->has_diff[i]) it->diff = item_diff_pb(a, &st->diffs[i]);
        char sv[G_TIME_TEXT_CAP];
        g_time_format(s->sort_ms[i], sv);
        it->sort_value = med_arena_strdup(a, sv);
        p->items[p->n_items++] = it;
    }
    return a->failed ? nomem(err) : MED_OK;
}

static Mediation__V1__ReplayDiffSummaryLite *page_diff(med_arena *a, const g_select *s, const page_state *st,
                                                       int64_t now_ms, const char **status)
{
    g_item_diff *v = MED_NEWN(a, g_item_diff, s->n_page);
    Mediation__V1__ReplayDiffSummaryLite *d = MED_NEW(a, Mediation__V1__ReplayDiffSummaryLite);
    if (!v || !d) return NULL;
    size_t n = 0;
    for (size_t i = 0; i < s->n_page; i++)
        if (st->has_diff[i]) v[n++] = st->diffs[i];
    g_page_diff pd;
    g_diff_page(v, n, &pd);
    mediation__v1__replay_diff_summary_lite__init(d);
    d->diff_status = (char *)pd.status;
    d->diff_reason_codes = MED_NEWN(a, char *, pd.n_codes);
    if (!d->diff_reason_codes) return NULL;
    for (size_t i = 0; i < pd.n_codes; i++) d->diff_reason_codes[i] = (char *)pd.codes[i];
    d->n_diff_reason_codes = pd.n_codes;
    d->field_diff_count = pd.field_diff_count;
    d->compared_at_unix_ms = now_ms;
    *status = pd.status;
    return d;
}

static Mediation__V1__ReplayResultMeta *meta(med_arena *a, const g_query *q, const g_select *s,
                                             const char *determinism)
{
    Mediation__V1__ReplayResultMeta *m = MED_NEW(a, Mediation__V1__ReplayResultMeta);
    if (!m) return NULL;
    mediation__v1__replay_result_meta__init(m);
    m->total_matched = (int64_t)s->total;
    m->returned_count = (int32_t)s->n_page;
    m->has_more = s->has_more;
    if (s->has_more && s->n_page) {
        const g_opp *last = s->page[s->n_page - 1];
        g_sort_key k = {s->sort_ms[s->n_page - 1], last->trace_key, last->request_key, last->attempt_key,
                        last->audit_record_id};
        char *c = med_arena_adopt(a, g_cursor_encode(q->query_hash, q->cut_ms, &k));
        if (!c) return NULL;
        m->next_cursor_or_na_opt_case = PAGE(RESULT_META__NEXT_CURSOR_OR_NA_OPT_NEXT_CURSOR_OR_NA);
        m->next_cursor_or_na = c;
    }
    m->replay_run_id = (char *)q->run_id;
    m->replay_execution_mode = (char *)(q->exec == G_EXEC_RECOMPUTE ? "rule_recompute" : "snapshot_replay");
    m->determinism_status = (char *)determinism;
    m->snapshot_cutoff_at_unix_ms = q->cut_ms;
    return m;
}

static const char *hint_of(const char *code)
{
    if (strcmp(code, MED_R_G_REPLAY_NOT_FOUND_OPPORTUNITY) == 0)
        return "no Delivery of this opportunity was recorded at or before the cut";
    if (strcmp(code, MED_R_G_REPLAY_NO_RECORD_IN_TIME_RANGE) == 0)
        return "no opportunity was decided in the range at or before the cut";
    if (strcmp(code, MED_R_G_REPLAY_ACCESS_DENIED_SCOPE) == 0)
        return "records exist only outside the caller's app/placement scope";
    if (strcmp(code, MED_R_G_REPLAY_FILTERED_OUT) == 0) return "records exist but the filters exclude all of them";
    return "";
}

static Mediation__V1__ReplayEmptyResultLite *empty_result(med_arena *a, const g_query *q, const g_select *s)
{
    Mediation__V1__ReplayEmptyResultLite *e = MED_NEW(a, Mediation__V1__ReplayEmptyResultLite);
    if (!e) return NULL;
    mediation__v1__replay_empty_result_lite__init(e);
    const char *code = g_select_empty_reason(q, s);
    e->is_empty = s->n_page == 0;
    e->empty_reason_code = (char *)code;
    e->diagnostic_hint = (char *)hint_of(code);
    return e;
}

static Mediation__V1__ReplayPage *new_page(med_arena *a, const Mediation__V1__ReplayQuery *q, int status,
                                           int64_t now_ms)
{
    Mediation__V1__ReplayPage *p = MED_NEW(a, Mediation__V1__ReplayPage);
    if (!p) return NULL;
    mediation__v1__replay_page__init(p);
    p->trace = q ? q->trace : NULL;
    p->http_status = status;
    p->generated_at_unix_ms = now_ms;
    return p;
}

med_rc g_replay_page_build(med_arena *a, const g_query *q, const g_select *s, int64_t now_ms,
                           Mediation__V1__ReplayPage **out, med_err *err)
{
    page_state st = {0};
    med_rc rc = assemble_all(a, q, s, &st, err);
    if (rc == MED_OK && q->exec == G_EXEC_RECOMPUTE && (rc = recompute_gate(&st, err)) == MED_OK)
        recompute_all(a, s, &st);
    if (rc != MED_OK) return rc;
    Mediation__V1__ReplayPage *p = new_page(a, q->raw, 200, now_ms);
    if (!p || (rc = items(a, q, s, &st, p, err)) != MED_OK) return p ? rc : nomem(err);
    const char *determinism = st.any_missing || st.any_mismatch ? "not_comparable" : "deterministic";
    if (q->exec == G_EXEC_RECOMPUTE || st.any_mismatch) {
        const char *status = NULL;
        p->replay_diff_summary_lite = page_diff(a, s, &st, now_ms, &status);
        if (q->exec == G_EXEC_RECOMPUTE && status) determinism = g_diff_determinism(status);
    }
    p->query_echo_json = q->echo_json;
    p->query_hash = (char *)q->query_hash;
    p->result_meta = meta(a, q, s, determinism);
    p->empty_result = empty_result(a, q, s);
    if (a->failed || !p->result_meta || !p->empty_result) return nomem(err);
    *out = p;
    return MED_OK;
}

Mediation__V1__ReplayPage *g_replay_page_error(med_arena *a, const Mediation__V1__ReplayQuery *q,
                                               const med_err *err, int64_t now_ms)
{
    Mediation__V1__ReplayPage *p = new_page(a, q, g_replay_http_status(err->code), now_ms);
    Mediation__V1__ErrorBodyLite *e = MED_NEW(a, Mediation__V1__ErrorBodyLite);
    if (!p || !e) return NULL;
    mediation__v1__error_body_lite__init(e);
    e->code = med_arena_strdup(a, err->code[0] ? err->code : MED_R_INFRA_NOMEM);
    e->message = med_arena_strdup(a, err->message);
    if (err->field[0]) {
        e->field_opt_case = MEDIATION__V1__ERROR_BODY_LITE__FIELD_OPT_FIELD;
        e->field = med_arena_strdup(a, err->field);
    }
    p->error = e;
    return a->failed ? NULL : p;
}
