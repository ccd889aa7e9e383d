/* Stage replies -> HTTP answers: F's EventBatchAck (F.1, F.5), G's
 * ReplayPage (G.6, G.7) and ReconciliationReport (G.8). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "edge_answers.h"
#include "med/reason.h"

/* 2026-02-22T10:30:00.000Z */
#define RECEIVED_MS 1771756200000LL

static uint8_t *pack_msg(const ProtobufCMessage *m, size_t *len)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(n ? n : 1);
    assert_non_null(buf);
    *len = protobuf_c_message_pack(m, buf);
    return buf;
}

typedef med_rc (*answer_fn)(const uint8_t *, size_t, edge_answer *, med_err *);

/* Packs m, runs fn, checks status, returns the parsed body. */
static json_t *answer_of(answer_fn fn, const ProtobufCMessage *m, int status, int retry_after)
{
    size_t len = 0;
    uint8_t *buf = pack_msg(m, &len);
    edge_answer a;
    med_err e;
    med_err_clear(&e);
    med_rc rc = fn(buf, len, &a, &e);
    free(buf);
    if (rc != MED_OK) fail_msg("answer failed: %s %s", e.code, e.message);
    assert_int_equal(a.status, status);
    assert_int_equal(a.retry_after_sec, retry_after);
    json_t *j = json_loadb(a.body, a.len, 0, NULL);
    assert_non_null(j);
    edge_answer_free(&a);
    return j;
}

static const char *str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    if (!s) fail_msg("member %s is not a string", k);
    return s;
}

static void assert_keys(const json_t *o, const char *const *keys, size_t n)
{
    assert_int_equal(json_object_size(o), n);
    size_t i = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v) {
        (void)v;
        assert_string_equal(k, keys[i++]); /* the spec's order */
    }
}

static void assert_error_body(const json_t *j, const char *code, const char *field)
{
    const json_t *e = json_object_get(j, "error");
    assert_true(json_is_object(e));
    assert_int_equal(json_object_size(e), 3);
    assert_string_equal(str(e, "code"), code);
    assert_true(json_is_string(json_object_get(e, "message")));
    if (field)
        assert_string_equal(str(e, "field"), field);
    else
        assert_true(json_is_null(json_object_get(e, "field")));
}

/* ---- events ACK --------------------------------------------------------- */

static void ack_200_is_the_ack_body_in_spec_shape(void **state)
{
    (void)state;
    Mediation__V1__EventAck items[2] = { MEDIATION__V1__EVENT_ACK__INIT,
                                         MEDIATION__V1__EVENT_ACK__INIT };
    items[0].event_id = "evt_1";
    items[0].event_index = 0;
    items[0].ack_status = "accepted";
    items[0].ack_reason_code = (char *)MED_R_F_EVENT_ACCEPTED;
    items[0].server_event_key = "f_dedup_v1:client_event_id:app|b1|evt_1";
    items[1].event_id = "NA_1";
    items[1].event_index = 1;
    items[1].ack_status = "rejected";
    items[1].ack_reason_code = (char *)MED_R_F_EVENT_TYPE_UNSUPPORTED;
    items[1].server_event_key = "f_evt_rejected_1";
    Mediation__V1__EventAck *ptrs[2] = { &items[0], &items[1] };
    Mediation__V1__TraceContext tc = MEDIATION__V1__TRACE_CONTEXT__INIT;
    tc.trace_key = "tr_x";
    Mediation__V1__EventBatchAck ack = MEDIATION__V1__EVENT_BATCH_ACK__INIT;
    ack.trace = &tc;
    ack.batch_id = "b1";
    ack.received_at_unix_ms = RECEIVED_MS;
    ack.overall_status = "partial_success";
    ack.n_ack_items = 2;
    ack.ack_items = ptrs;
    ack.http_status = 200;
    json_t *j = answer_of(edge_ack_answer, &ack.base, 200, 0);
    static const char *const top[] = { "batchId", "receivedAt", "overallStatus", "ackItems" };
    assert_keys(j, top, 4);
    assert_string_equal(str(j, "batchId"), "b1");
    assert_string_equal(str(j, "receivedAt"), "2026-02-22T10:30:00.000Z");
    assert_string_equal(str(j, "overallStatus"), "partial_success");
    const json_t *arr = json_object_get(j, "ackItems");
    assert_int_equal(json_array_size(arr), 2);
    static const char *const item[] = { "eventId",       "eventIndex", "ackStatus",
                                        "ackReasonCode", "retryable",  "serverEventKey" };
    const json_t *second = json_array_get(arr, 1);
    assert_keys(second, item, 6);
    assert_string_equal(str(second, "eventId"), "NA_1");
    assert_int_equal(json_integer_value(json_object_get(second, "eventIndex")), 1);
    assert_string_equal(str(second, "ackReasonCode"), MED_R_F_EVENT_TYPE_UNSUPPORTED);
    assert_true(json_is_false(json_object_get(second, "retryable")));
    assert_string_equal(str(second, "serverEventKey"), "f_evt_rejected_1");
    json_decref(j);
}

static Mediation__V1__EventBatchAck reject_ack(int status, const char *code, const char *field,
                                               Mediation__V1__ErrorBodyLite *err)
{
    Mediation__V1__ErrorBodyLite e = MEDIATION__V1__ERROR_BODY_LITE__INIT;
    e.code = (char *)code;
    e.message = "refused";
    if (field) {
        e.field_opt_case = MEDIATION__V1__ERROR_BODY_LITE__FIELD_OPT_FIELD;
        e.field = (char *)field;
    }
    *err = e;
    Mediation__V1__EventBatchAck ack = MEDIATION__V1__EVENT_BATCH_ACK__INIT;
    ack.http_status = status;
    ack.error = err;
    return ack;
}

static void ack_rejects_keep_fs_status_and_code(void **state)
{
    (void)state;
    Mediation__V1__ErrorBodyLite eb;
    Mediation__V1__EventBatchAck ack =
        reject_ack(400, MED_R_F_ENVELOPE_EVENTS_INVALID, "events", &eb);
    json_t *j = answer_of(edge_ack_answer, &ack.base, 400, 0);
    assert_error_body(j, MED_R_F_ENVELOPE_EVENTS_INVALID, "events");
    json_decref(j);
    ack = reject_ack(403, MED_R_F_ENVELOPE_APP_MISMATCH, "appId", &eb);
    j = answer_of(edge_ack_answer, &ack.base, 403, 0);
    assert_error_body(j, MED_R_F_ENVELOPE_APP_MISMATCH, "appId");
    json_decref(j);
    /* Stores down: 503 with Retry-After, F's value or the edge's default. */
    ack = reject_ack(503, MED_R_F_EVENT_STORE_UNAVAILABLE, NULL, &eb);
    ack.retry_after_sec = 7;
    j = answer_of(edge_ack_answer, &ack.base, 503, 7);
    assert_error_body(j, MED_R_F_EVENT_STORE_UNAVAILABLE, NULL);
    json_decref(j);
    ack.retry_after_sec = 0;
    j = answer_of(edge_ack_answer, &ack.base, 503, EDGE_RETRY_AFTER_SEC);
    json_decref(j);
}

static void expect_unusable(answer_fn fn, const uint8_t *data, size_t len)
{
    edge_answer a;
    med_err e;
    med_err_clear(&e);
    assert_int_equal(fn(data, len, &a, &e), MED_ERR_INTERNAL);
    assert_string_equal(e.code, MED_R_EDGE_INTERNAL);
}

static void broken_replies_are_500_not_a_client_error(void **state)
{
    (void)state;
    static const uint8_t garbage[] = { 0xff, 0xff, 0xff, 0xff };
    expect_unusable(edge_ack_answer, garbage, sizeof garbage);
    expect_unusable(edge_replay_answer, garbage, sizeof garbage);
    expect_unusable(edge_recon_answer, garbage, sizeof garbage);
    /* No status at all, or an error status without an error body. */
    Mediation__V1__EventBatchAck ack = MEDIATION__V1__EVENT_BATCH_ACK__INIT;
    size_t len = 0;
    uint8_t *buf = pack_msg(&ack.base, &len);
    expect_unusable(edge_ack_answer, buf, len);
    free(buf);
    ack.http_status = 400;
    buf = pack_msg(&ack.base, &len);
    expect_unusable(edge_ack_answer, buf, len);
    free(buf);
    Mediation__V1__ReplayPage page = MEDIATION__V1__REPLAY_PAGE__INIT;
    page.http_status = 409;
    buf = pack_msg(&page.base, &len);
    expect_unusable(edge_replay_answer, buf, len);
    free(buf);
}

/* ---- replay page -------------------------------------------------------- */

static void replay_summary_page_in_spec_shape(void **state)
{
    (void)state;
    Mediation__V1__ReplayResultMeta meta = MEDIATION__V1__REPLAY_RESULT_META__INIT;
    meta.total_matched = 3;
    meta.returned_count = 1;
    meta.has_more = 1;
    meta.next_cursor_or_na_opt_case =
        MEDIATION__V1__REPLAY_RESULT_META__NEXT_CURSOR_OR_NA_OPT_NEXT_CURSOR_OR_NA;
    meta.next_cursor_or_na = "eyJ2IjoxfQ";
    meta.replay_run_id = "replay_0123456789ab";
    meta.replay_execution_mode = "snapshot_replay";
    meta.determinism_status = "deterministic";
    meta.snapshot_cutoff_at_unix_ms = RECEIVED_MS;
    Mediation__V1__ReplaySummaryItem__RecordCountByTypeEntry cnt =
        MEDIATION__V1__REPLAY_SUMMARY_ITEM__RECORD_COUNT_BY_TYPE_ENTRY__INIT;
    cnt.key = "decision_audit";
    cnt.value = 2;
    Mediation__V1__ReplaySummaryItem__RecordCountByTypeEntry *cnts[] = { &cnt };
    char *codes[] = { (char *)MED_R_E_ER_TRACKING_CONTRACT_BROKEN };
    Mediation__V1__ReplaySummaryItem sum = MEDIATION__V1__REPLAY_SUMMARY_ITEM__INIT;
    sum.opportunity_key = "opp_1";
    sum.trace_key = "tr_1";
    sum.terminal_status = "open";
    sum.n_key_reason_codes = 1;
    sum.key_reason_codes = codes;
    sum.n_record_count_by_type = 1;
    sum.record_count_by_type = cnts;
    Mediation__V1__ReplayItem item = MEDIATION__V1__REPLAY_ITEM__INIT;
    item.item_case = MEDIATION__V1__REPLAY_ITEM__ITEM_SUMMARY;
    item.summary = &sum;
    item.sort_value = "2026-02-22T10:30:00.000Z";
    Mediation__V1__ReplayItem *items[] = { &item };
    Mediation__V1__ReplayEmptyResultLite empty = MEDIATION__V1__REPLAY_EMPTY_RESULT_LITE__INIT;
    empty.empty_reason_code = (char *)MED_R_G_REPLAY_NOT_EMPTY;
    Mediation__V1__ReplayPage page = MEDIATION__V1__REPLAY_PAGE__INIT;
    page.http_status = 200;
    page.query_echo_json = "{\"outputMode\":\"summary\",\"queryMode\":\"by_opportunity\"}";
    page.query_hash = "ab";
    page.result_meta = &meta;
    page.n_items = 1;
    page.items = items;
    page.empty_result = &empty;
    page.generated_at_unix_ms = RECEIVED_MS + 1;
    json_t *j = answer_of(edge_replay_answer, &page.base, 200, 0);
    static const char *const top[] = { "queryEcho", "resultMeta", "items", "emptyResult",
                                       "generatedAt" };
    assert_keys(j, top, 5); /* no replayDiffSummaryLite when G sent none */
    assert_string_equal(str(json_object_get(j, "queryEcho"), "queryMode"), "by_opportunity");
    const json_t *m = json_object_get(j, "resultMeta");
    static const char *const meta_keys[] = { "totalMatched",        "returnedCount",
                                             "hasMore",             "nextCursorOrNA",
                                             "replayRunId",         "replayExecutionMode",
                                             "determinismStatus",   "snapshotCutoffAt" };
    assert_keys(m, meta_keys, 8);
    assert_int_equal(json_integer_value(json_object_get(m, "totalMatched")), 3);
    assert_true(json_is_true(json_object_get(m, "hasMore")));
    assert_string_equal(str(m, "nextCursorOrNA"), "eyJ2IjoxfQ");
    assert_string_equal(str(m, "snapshotCutoffAt"), "2026-02-22T10:30:00.000Z");
    assert_string_equal(str(j, "generatedAt"), "2026-02-22T10:30:00.001Z");
    const json_t *it = json_array_get(json_object_get(j, "items"), 0);
    static const char *const item_keys[] = { "opportunityKey",     "traceKey",
                                             "responseReferenceOrNA", "terminalStatus",
                                             "winnerAdapterIdOrNA", "keyReasonCodes",
                                             "recordCountByType" };
    assert_keys(it, item_keys, 7);
    assert_string_equal(str(it, "responseReferenceOrNA"), "NA");
    assert_string_equal(str(it, "winnerAdapterIdOrNA"), "NA");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(it, "recordCountByType"),
                                           "decision_audit")),
        2);
    assert_false(json_is_true(json_object_get(json_object_get(j, "emptyResult"), "isEmpty")));
    json_decref(j);
}

static void replay_full_item_with_raw_payload_and_diff(void **state)
{
    (void)state;
    Mediation__V1__GAuditRecordLite audit = MEDIATION__V1__GAUDIT_RECORD_LITE__INIT;
    audit.audit_record_id = "aud_1";
    audit.audit_at_unix_ms = RECEIVED_MS;
    Mediation__V1__FToGArchiveRecordLite rec = MEDIATION__V1__FTO_GARCHIVE_RECORD_LITE__INIT;
    rec.record_key = "rk_1";
    rec.record_type = "billable_fact";
    Mediation__V1__FToGArchiveRecordLite *recs[] = { &rec };
    static const char raw[] = "{\"placementId\":\"plc_feed\"}";
    Mediation__V1__ReplayFullItem full = MEDIATION__V1__REPLAY_FULL_ITEM__INIT;
    full.g_audit_record_lite = &audit;
    full.n_f_to_g_archive_record_lite = 1;
    full.f_to_g_archive_record_lite = recs;
    full.raw_payload.data = (uint8_t *)raw;
    full.raw_payload.len = sizeof raw - 1;
    char *dcodes[] = { (char *)MED_R_G_REPLAY_DIFF_WINNER_CHANGED };
    Mediation__V1__ReplayItemDiffLite diff = MEDIATION__V1__REPLAY_ITEM_DIFF_LITE__INIT;
    diff.diff_status = "diverged";
    diff.n_diff_reason_codes = 1;
    diff.diff_reason_codes = dcodes;
    diff.field_diff_count = 1;
    Mediation__V1__ReplayItem item = MEDIATION__V1__REPLAY_ITEM__INIT;
    item.item_case = MEDIATION__V1__REPLAY_ITEM__ITEM_FULL;
    item.full = &full;
    item.diff = &diff;
    Mediation__V1__ReplayFullItem bare = MEDIATION__V1__REPLAY_FULL_ITEM__INIT;
    Mediation__V1__ReplayItem item2 = MEDIATION__V1__REPLAY_ITEM__INIT;
    item2.item_case = MEDIATION__V1__REPLAY_ITEM__ITEM_FULL;
    item2.full = &bare;
    Mediation__V1__ReplayItem *items[] = { &item, &item2 };
    Mediation__V1__ReplayDiffSummaryLite sumdiff = MEDIATION__V1__REPLAY_DIFF_SUMMARY_LITE__INIT;
    sumdiff.diff_status = "diverged";
    sumdiff.compared_at_unix_ms = RECEIVED_MS;
    Mediation__V1__ReplayPage page = MEDIATION__V1__REPLAY_PAGE__INIT;
    page.http_status = 200;
    page.query_echo_json = "{}";
    page.n_items = 2;
    page.items = items;
    page.replay_diff_summary_lite = &sumdiff;
    json_t *j = answer_of(edge_replay_answer, &page.base, 200, 0);
    const json_t *it = json_array_get(json_object_get(j, "items"), 0);
    assert_string_equal(str(json_object_get(it, "gAuditRecordLite"), "auditRecordId"), "aud_1");
    assert_string_equal(
        str(json_array_get(json_object_get(it, "fToGArchiveRecordLite"), 0), "recordKey"),
        "rk_1");
    assert_true(json_is_array(json_object_get(it, "factDecisionAuditLite")));
    /* The raw payload is the redacted request itself, not base64. */
    assert_string_equal(str(json_object_get(it, "rawPayload"), "placementId"), "plc_feed");
    const json_t *d = json_object_get(it, "diff");
    assert_string_equal(str(d, "diffStatus"), "diverged");
    assert_int_equal(json_integer_value(json_object_get(d, "fieldDiffCount")), 1);
    /* No raw payload sent: no member at all. */
    const json_t *it2 = json_array_get(json_object_get(j, "items"), 1);
    assert_null(json_object_get(it2, "rawPayload"));
    assert_null(json_object_get(it2, "diff"));
    const json_t *s = json_object_get(j, "replayDiffSummaryLite");
    assert_string_equal(str(s, "diffStatus"), "diverged");
    assert_string_equal(str(s, "comparedAt"), "2026-02-22T10:30:00.000Z");
    json_decref(j);
}

static void replay_errors_keep_gs_status(void **state)
{
    (void)state;
    Mediation__V1__ErrorBodyLite e = MEDIATION__V1__ERROR_BODY_LITE__INIT;
    e.code = (char *)MED_R_G_REPLAY_OPPORTUNITY_ALIAS_CONFLICT;
    e.message = "opportunityKey and opportunityId differ";
    e.field_opt_case = MEDIATION__V1__ERROR_BODY_LITE__FIELD_OPT_FIELD;
    e.field = "opportunityId";
    Mediation__V1__ReplayPage page = MEDIATION__V1__REPLAY_PAGE__INIT;
    page.http_status = 409;
    page.error = &e;
    json_t *j = answer_of(edge_replay_answer, &page.base, 409, 0);
    assert_error_body(j, MED_R_G_REPLAY_OPPORTUNITY_ALIAS_CONFLICT, "opportunityId");
    json_decref(j);
    page.http_status = 400;
    e.code = (char *)MED_R_G_REPLAY_INVALID_PAGINATION;
    e.field = "pagination.pageSize";
    j = answer_of(edge_replay_answer, &page.base, 400, 0);
    assert_error_body(j, MED_R_G_REPLAY_INVALID_PAGINATION, "pagination.pageSize");
    json_decref(j);
}

/* ---- reconciliation ------------------------------------------------------ */

static void reconciliation_report_without_transport_members(void **state)
{
    (void)state;
    Mediation__V1__ReconRecordLite arch = MEDIATION__V1__RECON_RECORD_LITE__INIT;
    arch.record_key = "a";
    arch.amount_micros = 200000;
    Mediation__V1__ReconRecordLite bill = MEDIATION__V1__RECON_RECORD_LITE__INIT;
    bill.record_key = "a";
    bill.amount_micros = 250000;
    Mediation__V1__ReconDiffLite diff = MEDIATION__V1__RECON_DIFF_LITE__INIT;
    diff.record_key = "a";
    diff.diff_code = (char *)MED_R_RECON_AMOUNT_MISMATCH;
    diff.archive_record = &arch;
    diff.billing_record = &bill;
    diff.amount_diff_micros = -50000;
    Mediation__V1__ReconDiffLite *diffs[] = { &diff };
    Mediation__V1__TraceContext tc = MEDIATION__V1__TRACE_CONTEXT__INIT;
    Mediation__V1__ReconciliationReport r = MEDIATION__V1__RECONCILIATION_REPORT__INIT;
    r.trace = &tc;
    r.http_status = 200;
    r.granularity = "daily";
    r.window_start_unix_ms = RECEIVED_MS;
    r.total_archive_records = 3;
    r.total_billing_records = 3;
    r.matched_count = 1;
    r.diff_count = 1;
    r.n_diffs = 1;
    r.diffs = diffs;
    json_t *j = answer_of(edge_recon_answer, &r.base, 200, 0);
    assert_null(json_object_get(j, "trace"));
    assert_null(json_object_get(j, "httpStatus"));
    assert_null(json_object_get(j, "error"));
    assert_string_equal(str(j, "granularity"), "daily");
    assert_string_equal(str(j, "windowStart"), "2026-02-22T10:30:00.000Z");
    assert_int_equal(json_integer_value(json_object_get(j, "matchedCount")), 1);
    assert_true(json_is_false(json_object_get(j, "pass")));
    const json_t *d = json_array_get(json_object_get(j, "diffs"), 0);
    assert_string_equal(str(d, "diffCode"), MED_R_RECON_AMOUNT_MISMATCH);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(d, "billingRecord"), "amountMicros")),
        250000);
    json_decref(j);
    Mediation__V1__ErrorBodyLite e = MEDIATION__V1__ERROR_BODY_LITE__INIT;
    e.code = (char *)MED_R_EDGE_FIELD_INVALID;
    e.message = "granularity must be hourly or daily";
    Mediation__V1__ReconciliationReport bad = MEDIATION__V1__RECONCILIATION_REPORT__INIT;
    bad.http_status = 400;
    bad.error = &e;
    j = answer_of(edge_recon_answer, &bad.base, 400, 0);
    assert_error_body(j, MED_R_EDGE_FIELD_INVALID, NULL);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ack_200_is_the_ack_body_in_spec_shape),
        cmocka_unit_test(ack_rejects_keep_fs_status_and_code),
        cmocka_unit_test(broken_replies_are_500_not_a_client_error),
        cmocka_unit_test(replay_summary_page_in_spec_shape),
        cmocka_unit_test(replay_full_item_with_raw_payload_and_diff),
        cmocka_unit_test(replay_errors_keep_gs_status),
        cmocka_unit_test(reconciliation_report_without_transport_members),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
