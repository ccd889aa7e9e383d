/* G.5 query validation order, queryEcho/queryHash, cursors (G.9 cases 10, 11). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "g_cursor.h"
#include "g_replay_qfix.h"
#include "g_replay_query.h"
#include "g_replay_time.h"
#include "med/b64url.h"
#include "med/reason.h"

#define START "2026-11-23T10:00:00.000Z"
#define END "2026-11-23T11:00:00.000Z"

static med_rc run(qfix *x, g_query *g, med_err *e)
{
    med_err_clear(e);
    return g_query_validate(&x->q, QFIX_NOW, g, e);
}

static void expect_fail(qfix *x, const char *code, int http)
{
    g_query g;
    med_err e;
    assert_int_not_equal(run(x, &g, &e), MED_OK);
    assert_string_equal(e.code, code);
    assert_int_equal(g_replay_http_status(e.code), http);
}

static void test_valid_range_defaults(void **state)
{
    (void)state;
    qfix x;
    qfix_range(&x, START, "2026-11-23T12:00:00+01:00", 50);
    x.q.sort = NULL;
    g_query g;
    med_err e;
    assert_int_equal(run(&x, &g, &e), MED_OK);
    assert_int_equal(g.sort_by, G_SORT_AUDIT_AT);
    assert_true(g.desc);
    assert_int_equal(g.exec, G_EXEC_SNAPSHOT);
    assert_string_equal(g.purpose, "debug");
    assert_int_equal(g.cut_ms, QFIX_NOW);
    assert_int_equal(g.end_ms - g.start_ms, 3600000);
    assert_non_null(strstr(g.echo_json, "\"resolvedReplayAsOfAt\":\"2026-11-23T12:00:00.000Z\""));
    assert_non_null(strstr(g.echo_json, "\"pageTokenOrNA\":\"NA\""));
    assert_non_null(strstr(g.echo_json, "\"endAt\":\"2026-11-23T11:00:00.000Z\""));
    assert_int_equal(strlen(g.query_hash), 64);
    assert_int_equal(strncmp(g.run_id, "replay_", 7), 0);
    assert_int_equal(strlen(g.run_id), 19);
    g_query_free(&g);
}

static void test_step1_order(void **state)
{
    (void)state;
    qfix x;
    qfix_range(&x, START, END, 10);
    x.q.output_mode = "";
    x.q.query_mode = "bogus"; /* missing comes first */
    expect_fail(&x, MED_R_G_REPLAY_MISSING_REQUIRED, 400);
    qfix_range(&x, START, END, 10);
    x.q.query_mode = "bogus";
    x.q.output_mode = "bogus";
    expect_fail(&x, MED_R_G_REPLAY_INVALID_QUERY_MODE, 400);
    qfix_range(&x, START, END, 10);
    qfix_exec(&x, "live");
    expect_fail(&x, MED_R_G_REPLAY_INVALID_QUERY_MODE, 400);
    qfix_range(&x, START, END, 10);
    x.q.output_mode = "raw";
    x.q.replay_contract_version = "g_replay_v2";
    expect_fail(&x, MED_R_G_REPLAY_INVALID_OUTPUT_MODE, 400);
    qfix_range(&x, START, END, 10);
    x.q.replay_contract_version = "g_replay_v2";
    x.p.page_size = 0;
    expect_fail(&x, MED_R_G_REPLAY_INVALID_CONTRACT_VERSION, 400);
    qfix_range(&x, START, END, 201);
    x.s.sort_by = "price";
    expect_fail(&x, MED_R_G_REPLAY_INVALID_PAGINATION, 400);
    qfix_range(&x, START, END, 200);
    x.s.sort_order = "up";
    expect_fail(&x, MED_R_G_REPLAY_INVALID_SORT, 400);
}

/* G.9 case 11 */
static void test_case11_mode_alias_span_future(void **state)
{
    (void)state;
    qfix x;
    qfix_opportunity(&x, "op_1", 10);
    x.q.time_range = &x.r;
    x.r.start_at = START;
    expect_fail(&x, MED_R_G_REPLAY_INVALID_QUERY_MODE, 400);
    qfix_range(&x, START, END, 10);
    x.q.opportunity_id = "op_1";
    expect_fail(&x, MED_R_G_REPLAY_INVALID_QUERY_MODE, 400);
    qfix_range(&x, START, END, 10);
    qfix_exec(&x, "rule_recompute");
    x.q.replay_purpose_opt_case = MEDIATION__V1__REPLAY_QUERY__REPLAY_PURPOSE_OPT_REPLAY_PURPOSE;
    x.q.replay_purpose = "dispute";
    expect_fail(&x, MED_R_G_REPLAY_INVALID_QUERY_MODE, 400);
    qfix_opportunity(&x, "op_A", 10);
    x.q.opportunity_id = "op_B";
    expect_fail(&x, MED_R_G_REPLAY_OPPORTUNITY_ALIAS_CONFLICT, 409);
    qfix_opportunity(&x, "", 10);
    expect_fail(&x, MED_R_G_REPLAY_MISSING_REQUIRED, 400);
    qfix_range(&x, START, "", 10);
    expect_fail(&x, MED_R_G_REPLAY_MISSING_REQUIRED, 400);
    qfix_range(&x, "2026-11-16T10:00:00.000Z", "2026-11-23T10:00:01.000Z", 10);
    expect_fail(&x, MED_R_G_REPLAY_INVALID_TIME_RANGE, 400);
    qfix_range(&x, "2026-11-16T10:00:00.000Z", "2026-11-23T10:00:00.000Z", 10);
    g_query g;
    med_err e;
    assert_int_equal(run(&x, &g, &e), MED_OK); /* exactly 7 d is allowed */
    g_query_free(&g);
    qfix_range(&x, END, START, 10);
    expect_fail(&x, MED_R_G_REPLAY_INVALID_TIME_RANGE, 400);
    qfix_range(&x, "yesterday", END, 10);
    expect_fail(&x, MED_R_G_REPLAY_INVALID_TIME_RANGE, 400);
    qfix_range(&x, START, END, 10);
    qfix_as_of(&x, "2026-11-23T12:00:00.001Z");
    expect_fail(&x, MED_R_G_REPLAY_INVALID_AS_OF_TIME, 400);
    qfix_range(&x, START, END, 10);
    qfix_as_of(&x, "soon");
    expect_fail(&x, MED_R_G_REPLAY_INVALID_AS_OF_TIME, 400);
}

static void test_alias_only_and_dispute_forces_snapshot(void **state)
{
    (void)state;
    qfix x;
    qfix_opportunity(&x, "", 10);
    x.q.opportunity_id = "op_9";
    x.q.replay_purpose_opt_case = MEDIATION__V1__REPLAY_QUERY__REPLAY_PURPOSE_OPT_REPLAY_PURPOSE;
    x.q.replay_purpose = "dispute";
    g_query g;
    med_err e;
    assert_int_equal(run(&x, &g, &e), MED_OK);
    assert_string_equal(g.opportunity_key, "op_9");
    assert_int_equal(g.exec, G_EXEC_SNAPSHOT);
    assert_non_null(strstr(g.echo_json, "\"replayExecutionMode\":\"snapshot_replay\""));
    g_query_free(&g);
}

static void hash_of(qfix *x, char out[65])
{
    g_query g;
    med_err e;
    assert_int_equal(run(x, &g, &e), MED_OK);
    memcpy(out, g.query_hash, 65);
    g_query_free(&g);
}

static void test_hash_normalizes_sets_and_offsets(void **state)
{
    (void)state;
    qfix x;
    char h1[65], h2[65], h3[65];
    char *a1[] = {"net_b", "net_a", "net_a"}, *a2[] = {"net_a", "net_b"};
    qfix_range(&x, START, END, 10);
    qfix_as_of(&x, "2026-11-23T11:30:00.000Z");
    x.f.adapter_id_in = a1;
    x.f.n_adapter_id_in = 3;
    hash_of(&x, h1);
    qfix_range(&x, "2026-11-23T11:00:00+01:00", END, 10);
    qfix_as_of(&x, "2026-11-23T11:30:00Z");
    x.f.adapter_id_in = a2;
    x.f.n_adapter_id_in = 2;
    hash_of(&x, h2);
    assert_string_equal(h1, h2);
    x.f.trace_key = "tr_1"; /* other filters: other query */
    hash_of(&x, h3);
    assert_string_not_equal(h1, h3);
}

static void test_cursor_roundtrip_and_order(void **state)
{
    (void)state;
    g_sort_key k = {1795428000000LL, "tr_b", "rq", "at", "gar_1"};
    char *c = g_cursor_encode("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", QFIX_NOW, &k);
    assert_non_null(c);
    assert_null(strchr(c, '='));
    g_cursor d;
    med_err e;
    assert_int_equal(g_cursor_decode(c, &d, &e), MED_OK);
    assert_int_equal(d.cut_ms, QFIX_NOW);
    assert_int_equal(d.after.sort_ms, k.sort_ms);
    assert_string_equal(d.after.trace_key, "tr_b");
    assert_string_equal(d.after.audit_record_id, "gar_1");
    g_cursor_free(&d);
    free(c);
    g_sort_key a = {5, "tr_a", "", "", ""}, b = {5, "tr_b", "", "", ""}, later = {6, "tr_a", "", "", ""};
    assert_true(g_sort_key_cmp(&a, &b, 0) < 0);
    assert_true(g_sort_key_cmp(&a, &b, 1) < 0); /* ties ascend both ways */
    assert_true(g_sort_key_cmp(&later, &a, 1) < 0);
    assert_true(g_sort_key_cmp(&later, &a, 0) > 0);
}

static char *b64(const char *json)
{
    size_t cap = med_b64url_encoded_len(strlen(json)) + 1;
    char *out = malloc(cap);
    med_b64url_encode((const uint8_t *)json, strlen(json), out, cap);
    return out;
}

static void expect_bad_cursor(const char *text)
{
    g_cursor d;
    med_err e;
    assert_int_equal(g_cursor_decode(text, &d, &e), MED_ERR_INVALID);
    assert_string_equal(e.code, MED_R_G_REPLAY_INVALID_CURSOR);
}

/* G.9 case 10: garbage, unknown v, bad after */
static void test_case10_bad_cursor_shapes(void **state)
{
    (void)state;
    const char *h = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    char json[512];
    expect_bad_cursor("%%%not-base64%%%");
    expect_bad_cursor("");
    char *c = b64("not json");
    expect_bad_cursor(c);
    free(c);
    snprintf(json, sizeof json,
             "{\"v\":2,\"queryHash\":\"%s\",\"resolvedReplayAsOfAt\":\"2026-11-23T10:00:00.000Z\","
             "\"after\":[\"2026-11-23T10:00:00.000Z\",\"a\",\"b\",\"c\",\"d\"]}", h);
    expect_bad_cursor(c = b64(json));
    free(c);
    snprintf(json, sizeof json,
             "{\"v\":1,\"queryHash\":\"%s\",\"resolvedReplayAsOfAt\":\"2026-11-23T10:00:00.000Z\","
             "\"after\":[\"2026-11-23T10:00:00.000Z\",\"a\",\"b\",\"c\"]}", h);
    expect_bad_cursor(c = b64(json));
    free(c);
    snprintf(json, sizeof json,
             "{\"v\":1,\"queryHash\":\"%s\",\"resolvedReplayAsOfAt\":\"2026-11-23T10:00:00.000Z\","
             "\"after\":[\"later\",\"a\",\"b\",\"c\",\"d\"]}", h);
    expect_bad_cursor(c = b64(json));
    free(c);
    snprintf(json, sizeof json,
             "{\"v\":1,\"queryHash\":\"xyz\",\"resolvedReplayAsOfAt\":\"2026-11-23T10:00:00.000Z\","
             "\"after\":[\"2026-11-23T10:00:00.000Z\",\"a\",\"b\",\"c\",\"d\"]}");
    expect_bad_cursor(c = b64(json));
    free(c);
}

/* A cursor issued by page 1 of x. */
static char *first_cursor(qfix *x)
{
    g_query g;
    med_err e;
    assert_int_equal(run(x, &g, &e), MED_OK);
    g_sort_key k = {1795428000000LL, "tr_1", "rq_1", "at_1", "gar_x"};
    char *c = g_cursor_encode(g.query_hash, g.cut_ms, &k);
    g_query_free(&g);
    return c;
}

/* G.9 case 10: other filters, another replayAsOfAt, cursor != pageTokenOrNA */
static void test_case10_cursor_against_query(void **state)
{
    (void)state;
    qfix x;
    g_query g;
    med_err e;
    qfix_range(&x, START, END, 2);
    qfix_as_of(&x, "2026-11-23T11:30:00.000Z");
    char *c = first_cursor(&x);
    qfix_cursor(&x, c);
    assert_int_equal(run(&x, &g, &e), MED_OK); /* same query, same cut */
    assert_true(g.has_cursor);
    g_query_free(&g);
    x.q.replay_as_of_at_opt_case = 0; /* a follow-up may omit the cut */
    assert_int_equal(run(&x, &g, &e), MED_OK);
    assert_int_equal(g.cut_ms, 1795433400000LL);
    g_query_free(&g);
    qfix_as_of(&x, "2026-11-23T11:31:00.000Z");
    expect_fail(&x, MED_R_G_REPLAY_INVALID_CURSOR, 400);
    qfix_as_of(&x, "2026-11-23T11:30:00.000Z");
    x.f.trace_key = "tr_other";
    expect_fail(&x, MED_R_G_REPLAY_INVALID_CURSOR, 400);
    x.f.trace_key = "";
    x.p.page_token_or_na_opt_case = MEDIATION__V1__REPLAY_PAGINATION__PAGE_TOKEN_OR_NA_OPT_PAGE_TOKEN_OR_NA;
    x.p.page_token_or_na = "something-else";
    expect_fail(&x, MED_R_G_REPLAY_INVALID_CURSOR, 400);
    x.p.page_token_or_na = c; /* both set and equal: fine */
    assert_int_equal(run(&x, &g, &e), MED_OK);
    g_query_free(&g);
    x.q.cursor_opt_case = 0; /* the token alone is the cursor */
    assert_int_equal(run(&x, &g, &e), MED_OK);
    assert_true(g.has_cursor);
    g_query_free(&g);
    qfix_cursor(&x, "garbage!");
    x.p.page_token_or_na_opt_case = 0;
    expect_fail(&x, MED_R_G_REPLAY_INVALID_CURSOR, 400);
    free(c);
}

static void test_time_parse(void **state)
{
    (void)state;
    int64_t ms;
    assert_int_equal(g_time_parse("2026-11-23T10:00:00Z", &ms), 0);
    assert_int_equal(ms, 1795428000000LL);
    assert_int_equal(g_time_parse("2026-11-23T11:00:00.5+01:00", &ms), 0);
    assert_int_equal(ms, 1795428000500LL);
    assert_int_equal(g_time_parse("2026-02-30T10:00:00Z", &ms), -1);
    assert_int_equal(g_time_parse("2026-11-23 10:00:00Z", &ms), -1);
    assert_int_equal(g_time_parse("2026-11-23T10:00:00", &ms), -1);
    char t[G_TIME_TEXT_CAP];
    g_time_format(1795428000500LL, t);
    assert_string_equal(t, "2026-11-23T10:00:00.500Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_range_defaults),
        cmocka_unit_test(test_step1_order),
        cmocka_unit_test(test_case11_mode_alias_span_future),
        cmocka_unit_test(test_alias_only_and_dispute_forces_snapshot),
        cmocka_unit_test(test_hash_normalizes_sets_and_offsets),
        cmocka_unit_test(test_cursor_roundtrip_and_order),
        cmocka_unit_test(test_case10_bad_cursor_shapes),
        cmocka_unit_test(test_case10_cursor_against_query),
        cmocka_unit_test(test_time_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
