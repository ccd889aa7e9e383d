/* Replay pages from assembled fragments: order and cursors (G.9 case 9),
 * empty results (12), equal bodies (13), anchors and pins (14),
 * rule_recompute determinism and divergence (15). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "g_replay_page.h"
#include "g_replay_qfix.h"
#include "med/reason.h"
/* the fixture is shared with the integration test; one source, compiled here */
#include "g_replay_fixture.c"

#define T10 1795428000000LL /* 2026-11-23T10:00:00Z */
#define MIN 60000LL

typedef struct world {
    med_arena a;
    g_opp opps[8];
    size_t n;
} world;

static void add(world *w, gfx_spec *s)
{
    gfx_opp(&w->a, s, &w->opps[w->n++]);
}

/* Validates x, selects, builds; returns the page (arena) or NULL with *e. */
static Mediation__V1__ReplayPage *replay(world *w, qfix *x, int64_t now, med_err *e)
{
    g_query q;
    g_select s;
    Mediation__V1__ReplayPage *p = NULL;
    med_err_clear(e);
    if (g_query_validate(&x->q, QFIX_NOW, &q, e) != MED_OK) return NULL;
    /* the store hands over what is visible at the cut; the world is all of it */
    med_rc rc = g_select_prefilter(&w->a, &q, w->opps, w->n, &s, e);
    if (rc == MED_OK) rc = g_select_page(&w->a, &q, &s, e);
    if (rc == MED_OK) rc = g_replay_page_build(&w->a, &q, &s, now, &p, e);
    /* the page borrows echo/hash/run id: keep them in the arena */
    if (p) {
        p->query_echo_json = med_arena_strdup(&w->a, p->query_echo_json);
        p->query_hash = med_arena_strdup(&w->a, p->query_hash);
        p->result_meta->replay_run_id = med_arena_strdup(&w->a, p->result_meta->replay_run_id);
    }
    g_query_free(&q);
    return p;
}

static const char *trace_of(const Mediation__V1__ReplayItem *it)
{
    return it->item_case == MEDIATION__V1__REPLAY_ITEM__ITEM_SUMMARY ? it->summary->trace_key
                                                                      : it->full->g_audit_record_lite->trace_key;
}

static void three_records(world *w)
{
    static const char *tags[] = {"1000", "1001", "1002"};
    for (int i = 0; i < 3; i++) {
        gfx_spec s;
        gfx_spec_default(&w->a, &s, tags[i], T10 + i * MIN);
        add(w, &s);
    }
}

/* G.9 case 9 */
static void test_case9_desc_pages_no_dup_no_gap(void **state)
{
    (void)state;
    world w = {0};
    three_records(&w);
    qfix x;
    qfix_range(&x, "2026-11-23T09:00:00Z", "2026-11-23T11:00:00Z", 2);
    med_err e;
    Mediation__V1__ReplayPage *p1 = replay(&w, &x, QFIX_NOW, &e);
    assert_non_null(p1);
    assert_int_equal(p1->http_status, 200);
    assert_int_equal(p1->n_items, 2);
    assert_string_equal(trace_of(p1->items[0]), "tr_1002");
    assert_string_equal(trace_of(p1->items[1]), "tr_1001");
    assert_string_equal(p1->items[0]->sort_value, "2026-11-23T10:02:00.000Z");
    assert_true(p1->result_meta->has_more);
    assert_int_equal(p1->result_meta->total_matched, 3);
    assert_int_equal(p1->result_meta->next_cursor_or_na_opt_case,
                     MEDIATION__V1__REPLAY_RESULT_META__NEXT_CURSOR_OR_NA_OPT_NEXT_CURSOR_OR_NA);
    qfix_cursor(&x, p1->result_meta->next_cursor_or_na);
    Mediation__V1__ReplayPage *p2 = replay(&w, &x, QFIX_NOW + 5, &e);
    assert_non_null(p2);
    assert_int_equal(p2->n_items, 1);
    assert_string_equal(trace_of(p2->items[0]), "tr_1000");
    assert_false(p2->result_meta->has_more);
    assert_int_equal(p2->result_meta->next_cursor_or_na_opt_case, 0);
    assert_string_equal(p1->query_hash, p2->query_hash);
    assert_string_equal(p1->result_meta->replay_run_id, p2->result_meta->replay_run_id);
    med_arena_free(&w.a);
}

/* G.9 case 9: equal auditAt orders by ascending traceKey both ways */
static void test_case9_ties_ascend_both_ways(void **state)
{
    (void)state;
    world w = {0};
    static const char *tags[] = {"b", "c", "a"};
    for (int i = 0; i < 3; i++) {
        gfx_spec s;
        gfx_spec_default(&w.a, &s, tags[i], T10);
        add(&w, &s);
    }
    for (int desc = 0; desc < 2; desc++) {
        qfix x;
        qfix_range(&x, "2026-11-23T09:00:00Z", "2026-11-23T11:00:00Z", 2);
        x.s.sort_order = desc ? "desc" : "asc";
        med_err e;
        Mediation__V1__ReplayPage *p = replay(&w, &x, QFIX_NOW, &e);
        assert_non_null(p);
        assert_string_equal(trace_of(p->items[0]), "tr_a");
        assert_string_equal(trace_of(p->items[1]), "tr_b");
        qfix_cursor(&x, p->result_meta->next_cursor_or_na);
        p = replay(&w, &x, QFIX_NOW, &e);
        assert_non_null(p);
        assert_int_equal(p->n_items, 1);
        assert_string_equal(trace_of(p->items[0]), "tr_c");
    }
    med_arena_free(&w.a);
}

static void test_sort_by_event_at(void **state)
{
    (void)state;
    world w = {0};
    gfx_spec s1, s2;
    gfx_spec_default(&w.a, &s1, "early", T10);
    gfx_spec_default(&w.a, &s2, "late", T10 + MIN);
    gfx_spec_rendered(&s1);
    s1.facts[1].at_ms = T10 + 10 * MIN; /* impression long after the Delivery */
    add(&w, &s1);
    add(&w, &s2);
    qfix x;
    qfix_range(&x, "2026-11-23T09:00:00Z", "2026-11-23T11:00:00Z", 5);
    x.s.sort_by = "eventAt";
    med_err e;
    Mediation__V1__ReplayPage *p = replay(&w, &x, QFIX_NOW, &e);
    assert_non_null(p);
    assert_string_equal(trace_of(p->items[0]), "tr_early");
    assert_string_equal(p->items[0]->sort_value, "2026-11-23T10:10:00.000Z");
    med_arena_free(&w.a);
}

/* G.9 case 12 */
static void test_case12_empty_results(void **state)
{
    (void)state;
    world w = {0};
    qfix x;
    med_err e;
    qfix_opportunity(&x, "op_unknown", 10);
    Mediation__V1__ReplayPage *p = replay(&w, &x, QFIX_NOW, &e);
    assert_non_null(p);
    assert_int_equal(p->http_status, 200);
    assert_int_equal(p->n_items, 0);
    assert_true(p->empty_result->is_empty);
    assert_string_equal(p->empty_result->empty_reason_code, MED_R_G_REPLAY_NOT_FOUND_OPPORTUNITY);
    qfix_range(&x, "2026-11-23T09:00:00Z", "2026-11-23T11:00:00Z", 10);
    p = replay(&w, &x, QFIX_NOW, &e);
    assert_string_equal(p->empty_result->empty_reason_code, MED_R_G_REPLAY_NO_RECORD_IN_TIME_RANGE);
    three_records(&w);
    x.f.trace_key = "tr_nobody";
    p = replay(&w, &x, QFIX_NOW, &e);
    assert_int_equal(p->n_items, 0);
    assert_string_equal(p->empty_result->empty_reason_code, MED_R_G_REPLAY_FILTERED_OUT);
    char *adapters[] = {"net_z"};
    x.f.trace_key = "";
    x.f.adapter_id_in = adapters;
    x.f.n_adapter_id_in = 1;
    p = replay(&w, &x, QFIX_NOW, &e);
    assert_string_equal(p->empty_result->empty_reason_code, MED_R_G_REPLAY_FILTERED_OUT);
    adapters[0] = "net_a";
    p = replay(&w, &x, QFIX_NOW, &e);
    assert_int_equal(p->n_items, 3);
    assert_false(p->empty_result->is_empty);
    assert_string_equal(p->empty_result->empty_reason_code, MED_R_G_REPLAY_NOT_EMPTY);
    /* a caller bound to another app sees only "outside scope" */
    Mediation__V1__AuthContextLite auth = MEDIATION__V1__AUTH_CONTEXT_LITE__INIT;
    Mediation__V1__ScopeBindings sb = MEDIATION__V1__SCOPE_BINDINGS__INIT;
    char *apps[] = {"app_other"}, *any[] = {"*"};
    sb.app_ids = apps;
    sb.n_app_ids = 1;
    sb.placement_ids = any;
    sb.n_placement_ids = 1;
    auth.scope_bindings = &sb;
    x.q.auth = &auth;
    p = replay(&w, &x, QFIX_NOW, &e);
    assert_int_equal(p->n_items, 0);
    assert_string_equal(p->empty_result->empty_reason_code, MED_R_G_REPLAY_ACCESS_DENIED_SCOPE);
    med_arena_free(&w.a);
}

static void test_timeout_filter(void **state)
{
    (void)state;
    world w = {0};
    gfx_spec s1, s2;
    gfx_spec_default(&w.a, &s1, "to", T10);
    s1.dispatch[0] = "net_b";
    s1.outcome[0] = "timeout";
    s1.dispatch[1] = "net_a";
    gfx_spec_default(&w.a, &s2, "plain", T10);
    add(&w, &s1);
    add(&w, &s2);
    qfix x;
    qfix_range(&x, "2026-11-23T09:00:00Z", "2026-11-23T11:00:00Z", 10);
    x.f.has_timeout_only_opt_case = MEDIATION__V1__REPLAY_FILTERS__HAS_TIMEOUT_ONLY_OPT_HAS_TIMEOUT_ONLY;
    x.f.has_timeout_only = 1;
    med_err e;
    Mediation__V1__ReplayPage *p = replay(&w, &x, QFIX_NOW, &e);
    assert_int_equal(p->n_items, 1);
    assert_string_equal(trace_of(p->items[0]), "tr_to");
    med_arena_free(&w.a);
}

static uint8_t *pack_page(Mediation__V1__ReplayPage *p, size_t *len)
{
    *len = mediation__v1__replay_page__get_packed_size(p);
    uint8_t *b = malloc(*len ? *len : 1);
    mediation__v1__replay_page__pack(p, b);
    return b;
}

/* Bodies equal except generatedAt / comparedAt. */
static void assert_same_body(Mediation__V1__ReplayPage *a, Mediation__V1__ReplayPage *b)
{
    a->generated_at_unix_ms = b->generated_at_unix_ms = 0;
    if (a->replay_diff_summary_lite) a->replay_diff_summary_lite->compared_at_unix_ms = 0;
    if (b->replay_diff_summary_lite) b->replay_diff_summary_lite->compared_at_unix_ms = 0;
    size_t la, lb;
    uint8_t *pa = pack_page(a, &la), *pb = pack_page(b, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(pa, pb, la);
    free(pa);
    free(pb);
}

/* G.9 case 13 (the replica part: the body is a function of query + cut +
 * fragments; the stored-after-cut part is the integration test's) */
static void test_case13_equal_bodies(void **state)
{
    (void)state;
    world w1 = {0}, w2 = {0};
    three_records(&w1);
    three_records(&w2);
    qfix x;
    qfix_range(&x, "2026-11-23T09:00:00Z", "2026-11-23T11:00:00Z", 10);
    qfix_as_of(&x, "2026-11-23T11:30:00Z");
    x.q.output_mode = "full";
    med_err e;
    Mediation__V1__ReplayPage *a = replay(&w1, &x, QFIX_NOW, &e);
    Mediation__V1__ReplayPage *b = replay(&w2, &x, QFIX_NOW + 777, &e);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_not_equal(a->generated_at_unix_ms, b->generated_at_unix_ms);
    assert_same_body(a, b);
    med_arena_free(&w1.a);
    med_arena_free(&w2.a);
}

/* G.9 case 14 */
static void test_case14_missing_anchor_and_pins(void **state)
{
    (void)state;
    world w = {0};
    gfx_spec s;
    gfx_spec_default(&w.a, &s, "noanchor", T10);
    s.drop_dedup_anchor = 1;
    add(&w, &s);
    qfix x;
    med_err e;
    qfix_opportunity(&x, "op_noanchor", 10);
    Mediation__V1__ReplayPage *p = replay(&w, &x, QFIX_NOW, &e);
    assert_non_null(p);
    assert_int_equal(p->http_status, 200);
    assert_string_equal(p->result_meta->determinism_status, "not_comparable");
    assert_null(p->replay_diff_summary_lite);
    qfix_exec(&x, "rule_recompute");
    assert_null(replay(&w, &x, QFIX_NOW, &e));
    assert_string_equal(e.code, MED_R_G_REPLAY_MISSING_VERSION_ANCHOR);
    assert_int_equal(g_replay_http_status(e.code), 400);
    med_arena_free(&w.a);

    world w2 = {0};
    gfx_spec_default(&w2.a, &s, "pinned", T10);
    add(&w2, &s);
    qfix_opportunity(&x, "op_pinned", 10);
    qfix_pin(&x, "routingPolicyVersion", "rp-2");
    p = replay(&w2, &x, QFIX_NOW, &e);
    assert_non_null(p);
    assert_int_equal(p->http_status, 200);
    assert_string_equal(p->result_meta->determinism_status, "not_comparable");
    assert_non_null(p->replay_diff_summary_lite);
    assert_string_equal(p->replay_diff_summary_lite->diff_status, "not_comparable");
    assert_int_equal(p->replay_diff_summary_lite->n_diff_reason_codes, 1);
    assert_string_equal(p->replay_diff_summary_lite->diff_reason_codes[0], MED_R_G_REPLAY_DIFF_VERSION_MISMATCH);
    assert_non_null(p->items[0]->diff);
    qfix_exec(&x, "rule_recompute");
    assert_null(replay(&w2, &x, QFIX_NOW, &e));
    assert_string_equal(e.code, MED_R_G_REPLAY_VERSION_ANCHOR_CONFLICT);
    assert_int_equal(g_replay_http_status(e.code), 409);
    qfix_pin(&x, "routingPolicyVersion", "rp-1"); /* the archived one: fine */
    p = replay(&w2, &x, QFIX_NOW, &e);
    assert_non_null(p);
    assert_string_equal(p->result_meta->determinism_status, "deterministic");
    med_arena_free(&w2.a);
}

/* G.9 case 15 */
static void test_case15_recompute_exact_twice(void **state)
{
    (void)state;
    world w = {0};
    gfx_spec s;
    gfx_spec_default(&w.a, &s, "exact", T10);
    s.dispatch[0] = "net_b";
    s.outcome[0] = "no_fill";
    s.dispatch[1] = "net_a";
    gfx_spec_rendered(&s);
    add(&w, &s);
    qfix x;
    qfix_opportunity(&x, "op_exact", 10);
    qfix_exec(&x, "rule_recompute");
    x.q.output_mode = "full";
    med_err e;
    Mediation__V1__ReplayPage *a = replay(&w, &x, QFIX_NOW, &e);
    assert_non_null(a);
    assert_string_equal(a->items[0]->diff->diff_status, "exact_match");
    assert_int_equal(a->items[0]->diff->n_diff_reason_codes, 1);
    assert_string_equal(a->items[0]->diff->diff_reason_codes[0], MED_R_G_REPLAY_DIFF_NONE);
    assert_string_equal(a->replay_diff_summary_lite->diff_status, "exact_match");
    assert_string_equal(a->replay_diff_summary_lite->diff_reason_codes[0], MED_R_G_REPLAY_DIFF_NONE);
    assert_string_equal(a->result_meta->determinism_status, "deterministic");
    assert_string_equal(a->result_meta->replay_execution_mode, "rule_recompute");
    Mediation__V1__ReplayPage *b = replay(&w, &x, QFIX_NOW + 1000, &e);
    assert_non_null(b);
    assert_same_body(a, b);
    med_arena_free(&w.a);
}

/* G.9 case 15: another winner */
static void test_case15_other_winner_diverges(void **state)
{
    (void)state;
    world w = {0};
    gfx_spec s;
    gfx_spec_default(&w.a, &s, "div", T10);
    s.dispatch[0] = "net_a";
    s.dispatch[1] = "net_b";
    s.winner = "net_b"; /* E/D recorded net_b although net_a filled first in the waterfall */
    add(&w, &s);
    qfix x;
    qfix_opportunity(&x, "op_div", 10);
    qfix_exec(&x, "rule_recompute");
    med_err e;
    Mediation__V1__ReplayPage *p = replay(&w, &x, QFIX_NOW, &e);
    assert_non_null(p);
    const Mediation__V1__ReplayItemDiffLite *d = p->items[0]->diff;
    assert_string_equal(d->diff_status, "diverged");
    assert_string_equal(d->diff_reason_codes[0], MED_R_G_REPLAY_DIFF_WINNER_CHANGED);
    assert_true(d->field_diff_count >= 1);
    assert_string_equal(p->replay_diff_summary_lite->diff_status, "diverged");
    assert_string_equal(p->result_meta->determinism_status, "non_deterministic");
    /* the summary still reports what was archived */
    assert_string_equal(p->items[0]->summary->winner_adapter_id_or_na, "net_b");
    med_arena_free(&w.a);
}

static const char *recompute_status(gfx_spec *s)
{
    world w = {0};
    add(&w, s);
    qfix x;
    qfix_opportunity(&x, s->opportunity_key, 10);
    qfix_exec(&x, "rule_recompute");
    med_err e;
    Mediation__V1__ReplayPage *p = replay(&w, &x, QFIX_NOW, &e);
    assert_non_null(p);
    const char *st = p->items[0]->diff->diff_status; /* a string constant of g_diff */
    med_arena_free(&w.a);
    return st;
}

/* No false divergence where D/E legitimately chose otherwise. */
static void test_recompute_bidding_and_dropped_top(void **state)
{
    (void)state;
    med_arena a = {0};
    gfx_spec s;
    gfx_spec_default(&a, &s, "bid", T10);
    s.strategy = "bidding";
    s.dispatch[1] = "net_b";
    s.winner = "net_b"; /* the higher bid, dispatched second */
    assert_string_equal(recompute_status(&s), "exact_match");
    gfx_spec_default(&a, &s, "drop", T10);
    s.dispatch[1] = "net_b";
    s.delivery_status = "no_fill";
    s.e_dropped = "net_a"; /* top1_strict: E dropped the first fill, never scans net_b */
    assert_string_equal(recompute_status(&s), "exact_match");
    s.winner = NULL;
    s.delivery_status = "served"; /* ...yet a winner was recorded: the rerun disagrees */
    s.winner = "net_b";
    assert_string_equal(recompute_status(&s), "diverged");
    med_arena_free(&a);
}

static void test_recompute_terminal_and_billing(void **state)
{
    (void)state;
    world w = {0};
    gfx_spec s;
    gfx_spec_default(&w.a, &s, "term", T10);
    /* a real terminal failure, then an impression F nevertheless committed */
    s.facts[0] = (gfx_fact_spec){"error", "attr_failure_terminal", "committed", T10 + 500, "ev_fail", MED_R_F_FACTS_MAPPED};
    s.facts[1] = (gfx_fact_spec){"impression", "attr_impression", "committed", T10 + 900, "ev_imp", MED_R_F_FACTS_MAPPED};
    s.billable_impression = 1;
    add(&w, &s);
    qfix x;
    qfix_opportunity(&x, "op_term", 10);
    qfix_exec(&x, "rule_recompute");
    med_err e;
    Mediation__V1__ReplayPage *p = replay(&w, &x, QFIX_NOW, &e);
    assert_non_null(p);
    const Mediation__V1__ReplayItemDiffLite *d = p->items[0]->diff;
    assert_string_equal(d->diff_status, "diverged");
    int term = 0, bill = 0;
    for (size_t i = 0; i < d->n_diff_reason_codes; i++) {
        term |= strcmp(d->diff_reason_codes[i], MED_R_G_REPLAY_DIFF_TERMINAL_STATUS_CHANGED) == 0;
        bill |= strcmp(d->diff_reason_codes[i], MED_R_G_REPLAY_DIFF_BILLABLE_FACT_CHANGED) == 0;
    }
    assert_true(term);
    assert_true(bill);
    /* page codes: sorted union */
    const Mediation__V1__ReplayDiffSummaryLite *ps = p->replay_diff_summary_lite;
    for (size_t i = 1; i < ps->n_diff_reason_codes; i++)
        assert_true(strcmp(ps->diff_reason_codes[i - 1], ps->diff_reason_codes[i]) < 0);
    med_arena_free(&w.a);
}

static void test_recompute_missing_snapshot(void **state)
{
    (void)state;
    world w = {0};
    gfx_spec s;
    gfx_spec_default(&w.a, &s, "nodel", T10);
    add(&w, &s);
    w.opps[0].f.delivery = NULL;
    w.opps[0].f.stage[G_ST_E] = NULL;
    qfix x;
    qfix_opportunity(&x, "op_nodel", 10);
    qfix_exec(&x, "rule_recompute");
    med_err e;
    Mediation__V1__ReplayPage *p = replay(&w, &x, QFIX_NOW, &e);
    assert_non_null(p);
    assert_string_equal(p->items[0]->diff->diff_status, "not_comparable");
    assert_string_equal(p->result_meta->determinism_status, "not_comparable");
    med_arena_free(&w.a);
}

static void test_recompute_empty_page_is_exact(void **state)
{
    (void)state;
    world w = {0};
    qfix x;
    qfix_opportunity(&x, "op_none", 10);
    qfix_exec(&x, "rule_recompute");
    med_err e;
    Mediation__V1__ReplayPage *p = replay(&w, &x, QFIX_NOW, &e);
    assert_non_null(p);
    assert_string_equal(p->replay_diff_summary_lite->diff_status, "exact_match");
    assert_string_equal(p->result_meta->determinism_status, "deterministic");
    med_arena_free(&w.a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_case9_desc_pages_no_dup_no_gap),
        cmocka_unit_test(test_case9_ties_ascend_both_ways),
        cmocka_unit_test(test_sort_by_event_at),
        cmocka_unit_test(test_case12_empty_results),
        cmocka_unit_test(test_timeout_filter),
        cmocka_unit_test(test_case13_equal_bodies),
        cmocka_unit_test(test_case14_missing_anchor_and_pins),
        cmocka_unit_test(test_case15_recompute_exact_twice),
        cmocka_unit_test(test_case15_other_winner_diverges),
        cmocka_unit_test(test_recompute_bidding_and_dropped_top),
        cmocka_unit_test(test_recompute_terminal_and_billing),
        cmocka_unit_test(test_recompute_missing_snapshot),
        cmocka_unit_test(test_recompute_empty_page_is_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
