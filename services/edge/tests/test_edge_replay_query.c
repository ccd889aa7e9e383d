/* GET /v1/replay parameters and POST /v1/replay bodies -> ReplayQuery
 * (06 section 5: both give the same query), what the edge refuses itself,
 * and GET /v1/reconciliation -> ReconciliationQuery. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "edge_replay_query.h"
#include "med/reason.h"

#define NOW_MS 1795000000000LL

static const med_trace_headers k_trace = {
    .traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    .trace_key = "tr_0123456789abcdef",
    .tenant = "t1",
};

static edge_query_caller caller(const char *method)
{
    edge_query_caller who = { .tenant = "t1", .http_method = method, .trace = &k_trace };
    return who;
}

/* Packs with a fixed caller so two queries compare byte for byte. */
static void packed(edge_replay_query *rq, uint8_t **out, size_t *len)
{
    edge_query_caller who = caller("GET");
    med_err e;
    assert_int_equal(edge_replay_request_pack(rq, &who, NOW_MS, out, len, &e), MED_OK);
}

static void from_params(const char *q, edge_replay_query *rq)
{
    med_err e;
    med_err_clear(&e);
    edge_replay_query_init(rq);
    med_rc rc = edge_replay_query_from_params(q, strlen(q), rq, &e);
    if (rc != MED_OK) fail_msg("params refused: %s %s (%s)", e.code, e.message, e.field);
}

static void from_json(const char *body, edge_replay_query *rq)
{
    json_error_t jerr;
    json_t *doc = json_loads(body, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) fail_msg("test body is not JSON: %s", jerr.text);
    med_err e;
    med_err_clear(&e);
    edge_replay_query_init(rq);
    med_rc rc = edge_replay_query_from_json(doc, rq, &e);
    json_decref(doc);
    if (rc != MED_OK) fail_msg("body refused: %s %s (%s)", e.code, e.message, e.field);
}

static void assert_same(const char *params, const char *body)
{
    edge_replay_query a, b;
    from_params(params, &a);
    from_json(body, &b);
    uint8_t *pa = NULL, *pb = NULL;
    size_t la = 0, lb = 0;
    packed(&a, &pa, &la);
    packed(&b, &pb, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(pa, pb, la);
    free(pa);
    free(pb);
    edge_replay_query_free(&a);
    edge_replay_query_free(&b);
}

/* Every field of G.5, both ways. */
static const char k_all_params[] =
    "queryMode=by_time_range&outputMode=full&pagination.pageSize=50"
    "&pagination.pageTokenOrNA=NA&sort.sortBy=eventAt&sort.sortOrder=asc"
    "&replayContractVersion=g_replay_v1&opportunityKey=opp_1&opportunityId=opp_1"
    "&timeRange.startAt=2026-02-22T10%3A00%3A00.000Z&timeRange.endAt=2026-02-22T11:00:00.000Z"
    "&filters.traceKey=tr_1&filters.requestKey=req_1&filters.attemptKey=att_1"
    "&filters.responseReference=resp_f_001&filters.adapterIdIn=a,b"
    "&filters.recordTypeIn=decision_audit&filters.recordStatusIn=written,pending"
    "&filters.hasTimeoutOnly=true&filters.hasConflictOnly=false&includeRawPayload=true"
    "&cursor=eyJ2IjoxfQ&replayAsOfAt=2026-02-22T12:00:00.000Z"
    "&replayExecutionMode=rule_recompute&replayPurpose=debug"
    "&pinnedVersions.schemaVersion=1.0.0&pinnedVersions.dedupFingerprintVersion=f_dedup_v1";
static const char k_all_body[] =
    "{\"pinnedVersions\":{\"schemaVersion\":\"1.0.0\","
    "\"dedupFingerprintVersion\":\"f_dedup_v1\"},"
    "\"replayPurpose\":\"debug\",\"replayExecutionMode\":\"rule_recompute\","
    "\"replayAsOfAt\":\"2026-02-22T12:00:00.000Z\",\"cursor\":\"eyJ2IjoxfQ\","
    "\"includeRawPayload\":true,"
    "\"filters\":{\"traceKey\":\"tr_1\",\"requestKey\":\"req_1\",\"attemptKey\":\"att_1\","
    "\"responseReference\":\"resp_f_001\",\"adapterIdIn\":[\"a\",\"b\"],"
    "\"recordTypeIn\":[\"decision_audit\"],\"recordStatusIn\":[\"written\",\"pending\"],"
    "\"hasTimeoutOnly\":true,\"hasConflictOnly\":false},"
    "\"timeRange\":{\"startAt\":\"2026-02-22T10:00:00.000Z\","
    "\"endAt\":\"2026-02-22T11:00:00.000Z\"},"
    "\"opportunityId\":\"opp_1\",\"opportunityKey\":\"opp_1\","
    "\"replayContractVersion\":\"g_replay_v1\","
    "\"sort\":{\"sortOrder\":\"asc\",\"sortBy\":\"eventAt\"},"
    "\"pagination\":{\"pageTokenOrNA\":\"NA\",\"pageSize\":50},"
    "\"outputMode\":\"full\",\"queryMode\":\"by_time_range\"}";

static void get_and_post_give_the_same_message(void **state)
{
    (void)state;
    assert_same(k_all_params, k_all_body);
    assert_same("queryMode=by_opportunity&outputMode=summary&opportunityKey=opp_9"
                "&replayContractVersion=g_replay_v1&pagination.pageSize=2",
                "{\"queryMode\":\"by_opportunity\",\"outputMode\":\"summary\","
                "\"opportunityKey\":\"opp_9\",\"replayContractVersion\":\"g_replay_v1\","
                "\"pagination\":{\"pageSize\":2}}");
    /* JSON null = absent; the client's authContextLite is ignored. */
    assert_same("queryMode=by_opportunity",
                "{\"queryMode\":\"by_opportunity\",\"cursor\":null,\"filters\":null,"
                "\"authContextLite\":{\"role\":\"config_admin\"}}");
    /* A '+' in a query string is a space, as in any form encoding. */
    assert_same("opportunityKey=a+b%2Bc", "{\"opportunityKey\":\"a b+c\"}");
    /* Repeated list parameters add up. */
    assert_same("filters.adapterIdIn=a&filters.adapterIdIn=b,c",
                "{\"filters\":{\"adapterIdIn\":[\"a\",\"b\",\"c\"]}}");
}

static void every_field_lands_where_g_reads_it(void **state)
{
    (void)state;
    edge_replay_query rq;
    from_params(k_all_params, &rq);
    uint8_t *buf = NULL;
    size_t len = 0;
    edge_query_caller who = caller("POST");
    who.raw_read_allowed = 1;
    med_err e;
    assert_int_equal(edge_replay_request_pack(&rq, &who, NOW_MS, &buf, &len, &e), MED_OK);
    edge_replay_query_free(&rq);
    Mediation__V1__ReplayQuery *q = mediation__v1__replay_query__unpack(NULL, len, buf);
    free(buf);
    assert_non_null(q);
    assert_string_equal(q->query_mode, "by_time_range");
    assert_string_equal(q->output_mode, "full");
    assert_int_equal(q->pagination->page_size, 50);
    assert_string_equal(q->pagination->page_token_or_na, "NA");
    assert_string_equal(q->sort->sort_by, "eventAt");
    assert_string_equal(q->sort->sort_order, "asc");
    assert_string_equal(q->replay_contract_version, "g_replay_v1");
    assert_string_equal(q->opportunity_key, "opp_1");
    assert_string_equal(q->opportunity_id, "opp_1");
    assert_string_equal(q->time_range->start_at, "2026-02-22T10:00:00.000Z");
    assert_string_equal(q->time_range->end_at, "2026-02-22T11:00:00.000Z");
    assert_string_equal(q->filters->trace_key, "tr_1");
    assert_string_equal(q->filters->request_key, "req_1");
    assert_string_equal(q->filters->attempt_key, "att_1");
    assert_string_equal(q->filters->response_reference, "resp_f_001");
    assert_int_equal(q->filters->n_adapter_id_in, 2);
    assert_string_equal(q->filters->adapter_id_in[1], "b");
    assert_int_equal(q->filters->n_record_type_in, 1);
    assert_int_equal(q->filters->n_record_status_in, 2);
    assert_int_equal(q->filters->has_timeout_only_opt_case,
                     MEDIATION__V1__REPLAY_FILTERS__HAS_TIMEOUT_ONLY_OPT_HAS_TIMEOUT_ONLY);
    assert_true(q->filters->has_timeout_only);
    assert_int_equal(q->filters->has_conflict_only_opt_case,
                     MEDIATION__V1__REPLAY_FILTERS__HAS_CONFLICT_ONLY_OPT_HAS_CONFLICT_ONLY);
    assert_false(q->filters->has_conflict_only);
    assert_true(q->include_raw_payload);
    assert_string_equal(q->cursor, "eyJ2IjoxfQ");
    assert_string_equal(q->replay_as_of_at, "2026-02-22T12:00:00.000Z");
    assert_string_equal(q->replay_execution_mode, "rule_recompute");
    assert_string_equal(q->replay_purpose, "debug");
    /* Pins go out sorted by name. */
    assert_int_equal(q->n_pinned_versions, 2);
    assert_string_equal(q->pinned_versions[0]->key, "dedupFingerprintVersion");
    assert_string_equal(q->pinned_versions[1]->value, "1.0.0");
    /* What the edge adds. */
    assert_string_equal(q->tenant_id, "t1");
    assert_string_equal(q->trace->tenant_id, "t1");
    assert_string_equal(q->trace->trace_key, "tr_0123456789abcdef");
    assert_int_equal(q->received_at_unix_ms, NOW_MS);
    assert_string_equal(q->http_method, "POST");
    assert_true(q->raw_read_allowed);
    mediation__v1__replay_query__free_unpacked(q, NULL);
}

static Mediation__V1__ReplayQuery *unpacked_params(const char *params)
{
    edge_replay_query rq;
    from_params(params, &rq);
    uint8_t *buf = NULL;
    size_t len = 0;
    packed(&rq, &buf, &len);
    edge_replay_query_free(&rq);
    Mediation__V1__ReplayQuery *q = mediation__v1__replay_query__unpack(NULL, len, buf);
    free(buf);
    assert_non_null(q);
    return q;
}

static int32_t page_size_of_body(const char *body)
{
    edge_replay_query rq;
    from_json(body, &rq);
    int32_t n = rq.msg.pagination ? rq.msg.pagination->page_size : 0;
    edge_replay_query_free(&rq);
    return n;
}

static void a_bad_page_size_travels_as_invalid_for_g(void **state)
{
    (void)state;
    const char *bad[] = { "abc", "0", "-5", "1.5", "2147483648", "99999999999999999999", "",
                          "5x" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char q[128];
        snprintf(q, sizeof q, "pagination.pageSize=%s", bad[i]);
        Mediation__V1__ReplayQuery *m = unpacked_params(q);
        assert_int_equal(m->pagination->page_size, EDGE_RQ_PAGE_SIZE_INVALID);
        mediation__v1__replay_query__free_unpacked(m, NULL);
    }
    assert_int_equal(page_size_of_body("{\"pagination\":{\"pageSize\":\"50\"}}"),
                     EDGE_RQ_PAGE_SIZE_INVALID);
    assert_int_equal(page_size_of_body("{\"pagination\":{\"pageSize\":1.5}}"),
                     EDGE_RQ_PAGE_SIZE_INVALID);
    assert_int_equal(page_size_of_body("{\"pagination\":{\"pageSize\":0}}"),
                     EDGE_RQ_PAGE_SIZE_INVALID);
    assert_int_equal(page_size_of_body("{\"pagination\":{\"pageSize\":true}}"),
                     EDGE_RQ_PAGE_SIZE_INVALID);
    assert_int_equal(page_size_of_body("{\"pagination\":{\"pageSize\":4294967296}}"),
                     EDGE_RQ_PAGE_SIZE_INVALID);
    /* Out of G's 1..200 but a number: sent as is, G judges it. */
    assert_int_equal(page_size_of_body("{\"pagination\":{\"pageSize\":201}}"), 201);
    Mediation__V1__ReplayQuery *m = unpacked_params("pagination.pageSize=007");
    assert_int_equal(m->pagination->page_size, 7);
    mediation__v1__replay_query__free_unpacked(m, NULL);
}

static void absent_groups_stay_absent_and_present_ones_exist(void **state)
{
    (void)state;
    Mediation__V1__ReplayQuery *m = unpacked_params("queryMode=by_opportunity");
    assert_null(m->pagination);
    assert_null(m->sort);
    assert_null(m->time_range);
    assert_null(m->filters);
    assert_int_equal(m->cursor_opt_case, MEDIATION__V1__REPLAY_QUERY__CURSOR_OPT__NOT_SET);
    assert_int_equal(m->include_raw_payload_opt_case,
                     MEDIATION__V1__REPLAY_QUERY__INCLUDE_RAW_PAYLOAD_OPT__NOT_SET);
    mediation__v1__replay_query__free_unpacked(m, NULL);
    /* A time range with one end is still a time range (G: invalid mode or
     * range, not "absent"); an empty cursor is still a cursor. */
    m = unpacked_params("timeRange.startAt=x&cursor=&filters.adapterIdIn=");
    assert_non_null(m->time_range);
    assert_string_equal(m->time_range->end_at, "");
    assert_int_equal(m->cursor_opt_case, MEDIATION__V1__REPLAY_QUERY__CURSOR_OPT_CURSOR);
    assert_string_equal(m->cursor, "");
    assert_non_null(m->filters);
    assert_int_equal(m->filters->n_adapter_id_in, 0);
    mediation__v1__replay_query__free_unpacked(m, NULL);
    edge_replay_query rq;
    from_json("{\"timeRange\":{}}", &rq);
    assert_non_null(rq.msg.time_range);
    edge_replay_query_free(&rq);
}

static void expect_params_refused(const char *q, const char *code, const char *field)
{
    edge_replay_query rq;
    edge_replay_query_init(&rq);
    med_err e;
    med_err_clear(&e);
    assert_int_equal(edge_replay_query_from_params(q, strlen(q), &rq, &e), MED_ERR_INVALID);
    edge_replay_query_free(&rq);
    assert_string_equal(e.code, code);
    assert_string_equal(e.field, field ? field : "");
}

static void expect_body_refused(const char *body, const char *code, const char *field)
{
    json_t *doc = json_loads(body, 0, NULL);
    assert_non_null(doc);
    edge_replay_query rq;
    edge_replay_query_init(&rq);
    med_err e;
    med_err_clear(&e);
    assert_int_equal(edge_replay_query_from_json(doc, &rq, &e), MED_ERR_INVALID);
    edge_replay_query_free(&rq);
    json_decref(doc);
    assert_string_equal(e.code, code);
    assert_string_equal(e.field, field ? field : "");
}

static void what_cannot_travel_is_refused_with_its_path(void **state)
{
    (void)state;
    /* A misspelt filter must not widen the result silently. */
    expect_params_refused("filter.traceKey=tr_1", MED_R_EDGE_FIELD_INVALID, "filter.traceKey");
    expect_params_refused("filters.traceKeys=tr_1", MED_R_EDGE_FIELD_INVALID,
                          "filters.traceKeys");
    expect_params_refused("filters=x", MED_R_EDGE_FIELD_INVALID, "filters");
    expect_params_refused("pinnedVersions.=1", MED_R_EDGE_FIELD_INVALID, "pinnedVersions.");
    expect_body_refused("{\"filters\":{\"traceKeys\":\"x\"}}", MED_R_EDGE_FIELD_INVALID,
                        "filters.traceKeys");
    expect_body_refused("{\"queryMod\":\"by_opportunity\"}", MED_R_EDGE_FIELD_INVALID,
                        "queryMod");
    /* Booleans, strings, lists, objects of the wrong JSON type. */
    expect_params_refused("filters.hasTimeoutOnly=yes", MED_R_EDGE_FIELD_TYPE,
                          "filters.hasTimeoutOnly");
    expect_params_refused("includeRawPayload=TRUE", MED_R_EDGE_FIELD_TYPE, "includeRawPayload");
    expect_body_refused("{\"includeRawPayload\":\"true\"}", MED_R_EDGE_FIELD_TYPE,
                        "includeRawPayload");
    expect_body_refused("{\"queryMode\":5}", MED_R_EDGE_FIELD_TYPE, "queryMode");
    expect_body_refused("{\"filters\":{\"adapterIdIn\":\"a,b\"}}", MED_R_EDGE_FIELD_TYPE,
                        "filters.adapterIdIn");
    expect_body_refused("{\"filters\":{\"adapterIdIn\":[\"a\",1]}}", MED_R_EDGE_FIELD_TYPE,
                        "filters.adapterIdIn");
    expect_body_refused("{\"timeRange\":\"2026-02-22\"}", MED_R_EDGE_FIELD_TYPE, "timeRange");
    expect_body_refused("{\"pinnedVersions\":{\"schemaVersion\":1}}", MED_R_EDGE_FIELD_TYPE,
                        "pinnedVersions.schemaVersion");
    expect_body_refused("{\"pinnedVersions\":[]}", MED_R_EDGE_FIELD_TYPE, "pinnedVersions");
    /* A scalar parameter given twice: which one would G see? */
    expect_params_refused("queryMode=by_opportunity&queryMode=by_time_range",
                          MED_R_EDGE_QUERY_MALFORMED, "queryMode");
    expect_params_refused("pinnedVersions.a=1&pinnedVersions.a=2", MED_R_EDGE_QUERY_MALFORMED,
                          "pinnedVersions.a");
    expect_params_refused("cursor=%zz", MED_R_EDGE_QUERY_MALFORMED, NULL);
    expect_params_refused("cursor=a%00b", MED_R_EDGE_QUERY_MALFORMED, NULL);
}

static Mediation__V1__ReconciliationQuery *recon(const char *q, med_rc want, const char *code)
{
    edge_query_caller who = caller("GET");
    uint8_t *buf = NULL;
    size_t len = 0;
    med_err e;
    med_err_clear(&e);
    assert_int_equal(edge_recon_request_pack(q, strlen(q), &who, NOW_MS, &buf, &len, &e), want);
    if (want != MED_OK) {
        assert_string_equal(e.code, code);
        return NULL;
    }
    Mediation__V1__ReconciliationQuery *m =
        mediation__v1__reconciliation_query__unpack(NULL, len, buf);
    free(buf);
    assert_non_null(m);
    return m;
}

static void reconciliation_parameters(void **state)
{
    (void)state;
    Mediation__V1__ReconciliationQuery *m =
        recon("granularity=daily&windowStart=2026-02-21T00%3A00%3A00.000Z", MED_OK, NULL);
    assert_string_equal(m->granularity, "daily");
    assert_int_equal(m->window_start_opt_case,
                     MEDIATION__V1__RECONCILIATION_QUERY__WINDOW_START_OPT_WINDOW_START);
    assert_string_equal(m->window_start, "2026-02-21T00:00:00.000Z");
    assert_string_equal(m->tenant_id, "t1");
    assert_int_equal(m->received_at_unix_ms, NOW_MS);
    mediation__v1__reconciliation_query__free_unpacked(m, NULL);
    /* No windowStart: the last closed window (G decides which). */
    m = recon("granularity=hourly", MED_OK, NULL);
    assert_int_equal(m->window_start_opt_case,
                     MEDIATION__V1__RECONCILIATION_QUERY__WINDOW_START_OPT__NOT_SET);
    mediation__v1__reconciliation_query__free_unpacked(m, NULL);
    /* An unknown granularity is G's to refuse; an unknown parameter ours. */
    m = recon("granularity=weekly", MED_OK, NULL);
    assert_string_equal(m->granularity, "weekly");
    mediation__v1__reconciliation_query__free_unpacked(m, NULL);
    recon("granularity=daily&window=x", MED_ERR_INVALID, MED_R_EDGE_FIELD_INVALID);
    recon("granularity=daily&granularity=hourly", MED_ERR_INVALID, MED_R_EDGE_QUERY_MALFORMED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(get_and_post_give_the_same_message),
        cmocka_unit_test(every_field_lands_where_g_reads_it),
        cmocka_unit_test(a_bad_page_size_travels_as_invalid_for_g),
        cmocka_unit_test(absent_groups_stay_absent_and_present_ones_exist),
        cmocka_unit_test(what_cannot_travel_is_refused_with_its_path),
        cmocka_unit_test(reconciliation_parameters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
