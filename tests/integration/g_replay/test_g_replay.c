/* Replay (spec 04 G.5-G.7, G.9 cases 9-15) against real servers: rows
 * seeded as A..F store them, med-g-archive answering med.g.replay.v1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "g_replay_qfix.h"
#include "g_replay_seed.h"
#include "g_replay_time.h"
#include "harness.h"
#include "med/ids.h"
#include "med/names.h"
#include "med/reason.h"

#define SEC 1000LL
#define BULK_N 10000

typedef struct world {
    th_proc g;
    natsConnection *nc;
    PGconn *pg;
    med_arena a;
    char tenant[40], run[20];
    int64_t base;          /* a quiet minute of this run, 10 min ago */
    int64_t as_of;         /* a fixed cut after every seeded row */
} world;

static world W;

static char *tag(const char *what)
{
    return med_arena_printf(&W.a, "%s_%s", what, W.run);
}

static void spec(gfx_spec *s, const char *what, int64_t at)
{
    gfx_spec_default(&W.a, s, tag(what), at);
    s->tenant = W.tenant;
}

static int setup(void **state)
{
    (void)state;
    memset(&W, 0, sizeof W);
    med_random_hex(W.run, sizeof W.run, 6);
    snprintf(W.tenant, sizeof W.tenant, "t_gr_%s", W.run);
    W.pg = PQconnectdb(th_env("PG_ADMIN_DSN"));
    assert_int_equal(PQstatus(W.pg), CONNECTION_OK);
    assert_int_equal(natsConnection_ConnectTo(&W.nc, th_env("NATS_URL")), NATS_OK);
    th_proc_init_ci(&W.g, "g_archive_replay", "g_archive", "med-g-archive", "ADMIN_HTTP_PORT", "200");
    th_proc_start_ready(&W.g);
    W.base = (med_now_unix_ms() / 60000 - 10) * 60000;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    th_proc_free(&W.g);
    natsConnection_Destroy(W.nc);
    PQfinish(W.pg);
    med_arena_free(&W.a);
    return 0;
}

/* ---- request/reply ---- */

static Mediation__V1__ReplayPage *ask_as(qfix *x, const char *tenant)
{
    x->q.tenant_id = (char *)tenant;
    size_t len = mediation__v1__replay_query__get_packed_size(&x->q);
    uint8_t *buf = malloc(len ? len : 1);
    mediation__v1__replay_query__pack(&x->q, buf);
    natsMsg *reply = NULL;
    natsStatus st = natsConnection_Request(&reply, W.nc, MED_SUBJ_G_REPLAY, buf, (int)len, 20000);
    free(buf);
    assert_int_equal(st, NATS_OK);
    Mediation__V1__ReplayPage *p = mediation__v1__replay_page__unpack(
        NULL, (size_t)natsMsg_GetDataLength(reply), (const uint8_t *)natsMsg_GetData(reply));
    natsMsg_Destroy(reply);
    assert_non_null(p);
    return p;
}

static Mediation__V1__ReplayPage *ask(qfix *x)
{
    return ask_as(x, W.tenant);
}

static void page_free(Mediation__V1__ReplayPage *p)
{
    mediation__v1__replay_page__free_unpacked(p, NULL);
}

static char *time_text(int64_t ms)
{
    char t[G_TIME_TEXT_CAP];
    g_time_format(ms, t);
    return med_arena_strdup(&W.a, t);
}

static void range(qfix *x, int64_t from, int64_t to, int page_size)
{
    qfix_range(x, time_text(from), time_text(to), page_size);
    qfix_as_of(x, time_text(W.as_of));
}

/* ---- seeds ---- */

/* gfx_archive's impression attribution fact of a rendered opportunity */
#define LEGACY_IMPRESSION 3

static void seed_all(void)
{
    gfx_spec s;
    /* by_opportunity: a served, rendered, billed opportunity */
    spec(&s, "sum", W.base);
    s.dispatch[0] = "net_b";
    s.outcome[0] = "timeout";
    s.dispatch[1] = "net_a";
    gfx_spec_rendered(&s);
    seed_decisions(W.pg, &s, W.base);
    /* its impression (record 3) stored before payload_pb existed */
    seed_archive(W.pg, &s, W.base + 2 * SEC, LEGACY_IMPRESSION);
    /* pagination: 10:00, 10:01, 10:02 (+ two sharing 10:03) one minute later */
    static const char *names[] = {"p0", "p1", "p2", "p3b", "p3a"};
    for (int i = 0; i < 5; i++) {
        spec(&s, names[i], W.base + 60 * SEC + (i < 3 ? i : 3) * SEC);
        seed_decisions(W.pg, &s, s.audit_at_ms);
    }
    /* the cut: decided at +2 min, its impression archived 30 s later */
    spec(&s, "cut", W.base + 120 * SEC);
    gfx_spec_rendered(&s);
    seed_decisions(W.pg, &s, s.audit_at_ms);
    seed_archive(W.pg, &s, s.audit_at_ms + 30 * SEC, -1);
    W.as_of = med_now_unix_ms();
}

/* ---- by_opportunity ---- */

static void test_by_opportunity_summary(void **state)
{
    (void)state;
    qfix x;
    qfix_opportunity(&x, tag("op_sum"), 10);
    Mediation__V1__ReplayPage *p = ask(&x);
    assert_int_equal(p->http_status, 200);
    assert_int_equal(p->n_items, 1);
    const Mediation__V1__ReplaySummaryItem *it = p->items[0]->summary;
    assert_non_null(it);
    assert_string_equal(it->trace_key, tag("tr_sum"));
    assert_string_equal(it->response_reference_or_na, tag("resp_sum"));
    assert_string_equal(it->terminal_status, "impression");
    assert_string_equal(it->winner_adapter_id_or_na, "net_a");
    assert_true(it->n_key_reason_codes >= 2);
    assert_string_equal(it->key_reason_codes[1], MED_R_D_TO_READ_TIMEOUT);
    for (size_t i = 0; i < it->n_record_count_by_type; i++) {
        const char *k = it->record_count_by_type[i]->key;
        int64_t v = it->record_count_by_type[i]->value;
        assert_int_equal(v, strcmp(k, "billable_fact") == 0 ? 1 : 2);
    }
    assert_string_equal(p->result_meta->determinism_status, "deterministic");
    assert_string_equal(p->empty_result->empty_reason_code, MED_R_G_REPLAY_NOT_EMPTY);
    page_free(p);
}

static void test_by_opportunity_full(void **state)
{
    (void)state;
    qfix x;
    qfix_opportunity(&x, tag("op_sum"), 10);
    x.q.output_mode = "full";
    Mediation__V1__ReplayPage *p = ask(&x);
    assert_int_equal(p->http_status, 200);
    const Mediation__V1__ReplayFullItem *f = p->items[0]->full;
    assert_non_null(f);
    const Mediation__V1__GAuditRecordLite *r = f->g_audit_record_lite;
    assert_int_equal(r->audit_at_unix_ms, W.base);
    assert_int_equal(r->n_adapter_participation, 2);
    assert_true(r->adapter_participation[0]->did_timeout);
    assert_string_equal(r->render_result_snapshot->render_status, "rendered");
    assert_string_equal(r->replay_anchors->dedup_fingerprint_version, "f_dedup_v1");
    assert_int_equal(f->n_f_to_g_archive_record_lite, 5);
    assert_string_equal(f->f_to_g_archive_record_lite[0]->record_type, "decision_audit");
    assert_string_equal(f->f_to_g_archive_record_lite[4]->record_type, "attribution_fact");
    assert_int_equal(f->n_fact_decision_audit_lite, 2);
    /* the impression came from a pre-0018 row (JSON payload, no payload_pb) */
    const Mediation__V1__AttributionFactLite *imp = NULL;
    for (size_t i = 0; i < f->n_f_to_g_archive_record_lite; i++) {
        const Mediation__V1__FToGArchiveRecordLite *a = f->f_to_g_archive_record_lite[i];
        if (a->attribution_fact && strcmp(a->attribution_fact->event_type, "impression") == 0) {
            imp = a->attribution_fact;
            assert_string_equal(a->record_status, "committed");
            assert_true(a->relation_keys->closure_key_or_na_opt_case);
            assert_string_equal(a->version_anchors->dedup_fingerprint_version, "f_dedup_v1");
        }
    }
    assert_non_null(imp);
    assert_string_equal(imp->attribution_type, "attr_impression");
    assert_true(imp->fact_at_unix_ms > W.base);
    page_free(p);
}

/* G.9 case 12 + tenant isolation */
static void test_unknown_and_other_tenant(void **state)
{
    (void)state;
    qfix x;
    qfix_opportunity(&x, tag("op_nobody"), 10);
    Mediation__V1__ReplayPage *p = ask(&x);
    assert_int_equal(p->http_status, 200);
    assert_int_equal(p->n_items, 0);
    assert_true(p->empty_result->is_empty);
    assert_string_equal(p->empty_result->empty_reason_code, MED_R_G_REPLAY_NOT_FOUND_OPPORTUNITY);
    page_free(p);
    qfix_opportunity(&x, tag("op_sum"), 10);
    p = ask_as(&x, "t_someone_else");
    assert_int_equal(p->n_items, 0);
    assert_string_equal(p->empty_result->empty_reason_code, MED_R_G_REPLAY_NOT_FOUND_OPPORTUNITY);
    page_free(p);
}

/* G.9 case 9 over NATS: pageSize 2, desc, no duplicate or gap */
static void test_case9_pagination(void **state)
{
    (void)state;
    qfix x;
    range(&x, W.base + 60 * SEC, W.base + 65 * SEC, 2);
    const char *want[] = {"p3a", "p3b", "p2", "p1", "p0"};
    size_t got = 0;
    char *cursor = NULL;
    for (int page = 0; page < 5; page++) {
        if (cursor) qfix_cursor(&x, cursor);
        Mediation__V1__ReplayPage *p = ask(&x);
        assert_int_equal(p->http_status, 200);
        assert_int_equal(p->result_meta->total_matched, 5);
        for (size_t i = 0; i < p->n_items; i++, got++) {
            assert_true(got < 5);
            assert_string_equal(p->items[i]->summary->trace_key, tag(med_arena_printf(&W.a, "tr_%s", want[got])));
        }
        int more = p->result_meta->has_more;
        cursor = more ? med_arena_strdup(&W.a, p->result_meta->next_cursor_or_na) : NULL;
        page_free(p);
        if (!more) break;
    }
    assert_int_equal(got, 5);
}

/* G.9 case 10 over NATS */
static void test_case10_invalid_cursor(void **state)
{
    (void)state;
    qfix x;
    range(&x, W.base + 60 * SEC, W.base + 65 * SEC, 2);
    qfix_cursor(&x, "not-a-cursor");
    Mediation__V1__ReplayPage *p = ask(&x);
    assert_int_equal(p->http_status, 400);
    assert_non_null(p->error);
    assert_string_equal(p->error->code, MED_R_G_REPLAY_INVALID_CURSOR);
    assert_int_equal(p->n_items, 0);
    page_free(p);
    qfix_range(&x, "2026-11-16T10:00:00Z", "2026-11-23T10:00:01Z", 2);
    p = ask(&x);
    assert_int_equal(p->http_status, 400);
    assert_string_equal(p->error->code, MED_R_G_REPLAY_INVALID_TIME_RANGE);
    page_free(p);
    qfix_opportunity(&x, "op_A", 2);
    x.q.opportunity_id = "op_B";
    p = ask(&x);
    assert_int_equal(p->http_status, 409);
    assert_string_equal(p->error->code, MED_R_G_REPLAY_OPPORTUNITY_ALIAS_CONFLICT);
    page_free(p);
}

/* G.9 case 13: a record stored after the cut never shows */
static void test_case13_stored_after_cut(void **state)
{
    (void)state;
    qfix x;
    qfix_opportunity(&x, tag("op_cut"), 10);
    qfix_as_of(&x, time_text(W.base + 120 * SEC - 1));
    Mediation__V1__ReplayPage *p = ask(&x);
    assert_int_equal(p->n_items, 0); /* decided after the cut */
    assert_string_equal(p->empty_result->empty_reason_code, MED_R_G_REPLAY_NOT_FOUND_OPPORTUNITY);
    page_free(p);
    qfix_as_of(&x, time_text(W.base + 125 * SEC));
    p = ask(&x);
    assert_int_equal(p->n_items, 1);
    assert_string_equal(p->items[0]->summary->terminal_status, "open"); /* impression archived later */
    for (size_t i = 0; i < p->items[0]->summary->n_record_count_by_type; i++)
        assert_int_equal(p->items[0]->summary->record_count_by_type[i]->value, 0);
    page_free(p);
    qfix_as_of(&x, time_text(W.as_of));
    p = ask(&x);
    assert_string_equal(p->items[0]->summary->terminal_status, "impression");
    assert_int_equal(p->result_meta->snapshot_cutoff_at_unix_ms, W.as_of);
    page_free(p);
}

static uint8_t *body_of(Mediation__V1__ReplayPage *p, size_t *len)
{
    p->generated_at_unix_ms = 0;
    if (p->replay_diff_summary_lite) p->replay_diff_summary_lite->compared_at_unix_ms = 0;
    *len = mediation__v1__replay_page__get_packed_size(p);
    uint8_t *b = malloc(*len ? *len : 1);
    mediation__v1__replay_page__pack(p, b);
    return b;
}

/* G.9 case 15 over NATS */
static void test_case15_recompute_twice(void **state)
{
    (void)state;
    qfix x;
    qfix_opportunity(&x, tag("op_sum"), 10);
    qfix_as_of(&x, time_text(W.as_of));
    qfix_exec(&x, "rule_recompute");
    x.q.output_mode = "full";
    Mediation__V1__ReplayPage *a = ask(&x), *b = ask(&x);
    assert_int_equal(a->http_status, 200);
    assert_string_equal(a->items[0]->diff->diff_status, "exact_match");
    assert_string_equal(a->items[0]->diff->diff_reason_codes[0], MED_R_G_REPLAY_DIFF_NONE);
    assert_string_equal(a->replay_diff_summary_lite->diff_status, "exact_match");
    assert_string_equal(a->result_meta->determinism_status, "deterministic");
    assert_true(a->generated_at_unix_ms <= b->generated_at_unix_ms);
    size_t la, lb;
    uint8_t *ba = body_of(a, &la), *bb = body_of(b, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(ba, bb, la);
    free(ba);
    free(bb);
    page_free(a);
    page_free(b);
}

/* 10,000 opportunities paged through in snapshot mode (timed, printed). */
static void test_bulk_snapshot_timing(void **state)
{
    (void)state;
    gfx_spec s;
    spec(&s, "bulk_tmpl", W.base + 200 * SEC);
    int64_t first = W.base + 200 * SEC;
    long long t0 = th_now_ms();
    seed_bulk(W.pg, &s, tag("big"), BULK_N, first, 5);
    long long seeded = th_now_ms() - t0;
    W.as_of = med_now_unix_ms();
    qfix x;
    range(&x, first, first + (int64_t)BULK_N * 5, 200);
    size_t got = 0;
    int pages = 0;
    char *cursor = NULL;
    t0 = th_now_ms();
    for (;;) {
        if (cursor) qfix_cursor(&x, cursor);
        Mediation__V1__ReplayPage *p = ask(&x);
        assert_int_equal(p->http_status, 200);
        assert_int_equal(p->result_meta->total_matched, BULK_N);
        got += p->n_items;
        pages++;
        int more = p->result_meta->has_more;
        free(cursor);
        cursor = more ? strdup(p->result_meta->next_cursor_or_na) : NULL;
        page_free(p);
        if (!more) break;
    }
    long long took = th_now_ms() - t0;
    assert_int_equal(got, BULK_N);
    printf("g_replay: %d opportunities (seeded in %lld ms) replayed in %d pages of 200, snapshot "
           "summary: %lld ms (%.1f ms/page)\n", BULK_N, seeded, pages, took, (double)took / pages);
    qfix_range(&x, time_text(first), time_text(first + (int64_t)BULK_N * 5), 200);
    qfix_as_of(&x, time_text(W.as_of));
    x.q.output_mode = "full";
    t0 = th_now_ms();
    Mediation__V1__ReplayPage *p = ask(&x);
    assert_int_equal(p->n_items, 200);
    printf("g_replay: one full page of 200 out of %d: %lld ms\n", BULK_N, th_now_ms() - t0);
    page_free(p);
}

static int seed(void **state)
{
    (void)state;
    seed_all();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_by_opportunity_summary, seed),
        cmocka_unit_test(test_by_opportunity_full),
        cmocka_unit_test(test_unknown_and_other_tenant),
        cmocka_unit_test(test_case9_pagination),
        cmocka_unit_test(test_case10_invalid_cursor),
        cmocka_unit_test(test_case13_stored_after_cut),
        cmocka_unit_test(test_case15_recompute_twice),
        cmocka_unit_test(test_bulk_snapshot_timing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
