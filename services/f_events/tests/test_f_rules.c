/* F's rules one at a time: envelope and per-event validation edges, the
 * dedup key sources and key-state table, the closure table, ACK details,
 * timer ids, the billing-claim feedback and output checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "f_ack.h"
#include "f_closure.h"
#include "f_dedup.h"
#include "f_keys.h"
#include "f_timers.h"
#include "med/ids.h"
#include "med/reason.h"
#include "test_f_fixture.h"

#define ENV_OK "\"batchId\":\"b_1\",\"appId\":\"app_chat_main\",\"sdkVersion\":\"2.1\"," \
               "\"sentAt\":\"2026-02-22T10:29:59.500Z\",\"schemaVersion\":\"schema_v1\""

static void envelope_is(const char *body, const char *auth_app, const char *reason, int status,
                        const char *field)
{
    f_batch_work b;
    med_err err;
    f_batch_init(&b, "tenant_a", auth_app, FX_T0, NULL);
    assert_int_equal(f_envelope_parse(&b, body, strlen(body), &err), MED_OK);
    if (!reason) {
        assert_null(b.envelope_reason);
    } else {
        assert_non_null(b.envelope_reason);
        assert_string_equal(b.envelope_reason, reason);
        assert_int_equal(b.envelope_http_status, status);
        if (field) assert_string_equal(b.envelope_field, field);
        assert_int_equal(b.ack->http_status, status);
        assert_string_equal(b.audit->envelope_reason_code, reason);
    }
    f_batch_free(&b);
}

static void envelope_checks_in_order(void **state)
{
    (void)state;
    envelope_is("{" ENV_OK ",\"events\":[{}]}", FX_APP, NULL, 0, NULL);
    envelope_is("not json", FX_APP, MED_R_EDGE_JSON_MALFORMED, 400, NULL);
    envelope_is("[1,2]", FX_APP, MED_R_EDGE_JSON_MALFORMED, 400, NULL);
    envelope_is("{" ENV_OK ",\"events\":{}}", FX_APP, MED_R_F_ENVELOPE_EVENTS_INVALID, 400, "events");
    envelope_is("{" ENV_OK "}", FX_APP, MED_R_F_ENVELOPE_EVENTS_INVALID, 400, "events");
    /* events before batchId, batchId before schema, schema before the rest */
    envelope_is("{\"batchId\":\"bad id\",\"schemaVersion\":\"schema_v9\",\"events\":[{}]}", FX_APP,
                MED_R_F_ENVELOPE_BATCH_ID_INVALID, 400, "batchId");
    envelope_is("{\"batchId\":7,\"events\":[{}]}", FX_APP, MED_R_F_ENVELOPE_BATCH_ID_INVALID, 400, NULL);
    envelope_is("{\"batchId\":\"b1\",\"events\":[{}]}", FX_APP, MED_R_F_ENVELOPE_SCHEMA_UNSUPPORTED, 400,
                "schemaVersion");
    envelope_is("{\"batchId\":\"b1\",\"schemaVersion\":\"schema_v1\",\"sdkVersion\":\"1\","
                "\"sentAt\":\"2026-02-22T10:29:59.500Z\",\"events\":[{}]}",
                FX_APP, MED_R_F_ENVELOPE_MISSING_REQUIRED, 400, "appId");
    envelope_is("{\"batchId\":\"b1\",\"appId\":\"app_chat_main\",\"schemaVersion\":\"schema_v1\","
                "\"sentAt\":\"2026-02-22T10:29:59.500Z\",\"events\":[{}]}",
                FX_APP, MED_R_F_ENVELOPE_MISSING_REQUIRED, 400, "sdkVersion");
    envelope_is("{\"batchId\":\"b1\",\"appId\":\"app_chat_main\",\"schemaVersion\":\"schema_v1\","
                "\"sdkVersion\":\"1\",\"sentAt\":\"yesterday\",\"events\":[{}]}",
                FX_APP, MED_R_F_ENVELOPE_MISSING_REQUIRED, 400, "sentAt");
    envelope_is("{" ENV_OK ",\"events\":[{}]}", "app_other", MED_R_F_ENVELOPE_APP_MISMATCH, 403, "appId");
    /* duplicate keys are ambiguous: the edge and F could read different values */
    envelope_is("{" ENV_OK ",\"appId\":\"app_other\",\"events\":[{}]}", FX_APP, MED_R_EDGE_JSON_MALFORMED,
                400, NULL);
    /* 100 events is the limit, not over it */
    json_t *hundred = json_array();
    for (int i = 0; i < 100; i++) json_array_append_new(hundred, json_object());
    char *body = fx_body("batch_100", hundred);
    envelope_is(body, FX_APP, NULL, 0, NULL);
    free(body);
}

/* One event through phases 1-2; returns the batch for inspection. */
static void validate_one(f_batch_work *b, json_t *ev)
{
    json_t *a = json_array();
    json_array_append_new(a, ev);
    char *body = fx_body("batch_v", a);
    fx_batch(b, FX_T0);
    fx_parse_validate(b, body);
    free(body);
}

static void expect_reject(json_t *ev, const char *reason)
{
    f_batch_work b;
    validate_one(&b, ev);
    assert_int_equal(b.events[0].status, F_ACK_REJECTED);
    assert_string_equal(b.events[0].reason, reason);
    assert_int_equal(b.events[0].retryable, 0);
    assert_int_equal(b.n_dedup, 0); /* nothing claimed */
    f_batch_free(&b);
}

static json_t *without(json_t *ev, const char *k)
{
    json_object_del(ev, k);
    return ev;
}

static json_t *set(json_t *ev, const char *k, json_t *v)
{
    json_object_set_new(ev, k, v);
    return ev;
}

static void validation_steps(void **state)
{
    (void)state;
    expect_reject(json_string("not an object"), MED_R_F_EVENT_MISSING_REQUIRED);
    expect_reject(json_object(), MED_R_F_EVENT_MISSING_REQUIRED);
    expect_reject(without(fx_ev("impression", "e1"), "eventType"), MED_R_F_EVENT_MISSING_REQUIRED);
    expect_reject(set(fx_ev("impression", "e1"), "eventType", json_integer(3)), MED_R_F_EVENT_TYPE_UNSUPPORTED);
    expect_reject(without(fx_ev("impression", "e1"), "traceKey"), MED_R_F_EVENT_MISSING_REQUIRED);
    expect_reject(without(fx_ev("impression", "e1"), "responseReference"), MED_R_F_EVENT_MISSING_REQUIRED);
    expect_reject(set(fx_ev("impression", "e1"), "eventVersion", json_integer(1)), MED_R_F_EVENT_MISSING_REQUIRED);
    expect_reject(set(fx_ev("impression", "e1"), "eventAt", json_string("2026-02-30T00:00:00Z")),
                  MED_R_F_EVENT_TIME_INVALID);
    /* more than 300 s ahead of receivedAt */
    json_t *future = fx_ev("impression", "e1");
    fx_ev_at(future, FX_T0 + 301000);
    expect_reject(future, MED_R_F_EVENT_TIME_INVALID);
    expect_reject(without(fx_ev("postback", "e1"), "eventSeq"), MED_R_F_EVENT_SEQ_MISSING_REQUIRED);
    expect_reject(without(fx_ev("impression", "e1"), "creativeId"), MED_R_F_EVENT_MISSING_REQUIRED);
    expect_reject(without(fx_ev("click", "e1"), "clickTarget"), MED_R_F_EVENT_MISSING_REQUIRED);
    expect_reject(without(fx_ev("error", "e1"), "renderAttemptId"), MED_R_F_EVENT_MISSING_REQUIRED);
    expect_reject(set(fx_ev("impression", "e1"), "renderAttemptId", json_string("ra|x")),
                  MED_R_F_EVENT_MISSING_REQUIRED);
    /* responseReference is optional before the auction */
    f_batch_work b;
    validate_one(&b, without(fx_ev("opportunity_created", "e1"), "responseReference"));
    assert_int_equal(b.events[0].status, F_ACK_PENDING);
    assert_int_equal(b.events[0].layer, F_LAYER_DIAGNOSTICS);
    assert_int_equal(b.n_deliveries, 0);
    f_batch_free(&b);
    /* a non-terminal error needs no renderAttemptId and opens no closure */
    validate_one(&b, set(without(fx_ev("error", "e1"), "renderAttemptId"), "errorClass",
                         json_string("non_terminal")));
    assert_int_equal(b.events[0].status, F_ACK_PENDING);
    assert_int_equal(b.events[0].closure_row, -1);
    f_batch_free(&b);
}

static void subenums_normalized(void **state)
{
    (void)state;
    f_batch_work b;
    json_t *pb = fx_ev("postback", "e_pb");
    json_object_set_new(pb, "postbackType", json_string("refund"));
    json_object_set_new(pb, "postbackStatus", json_string("weird"));
    json_t *a = json_array();
    json_array_append_new(a, pb);
    char *body = fx_body("batch_se", a);
    fx_store s;
    fx_store_init(&s);
    fx_run(&s, &b, FX_T0, body);
    free(body);
    assert_string_equal(fx_ack_status(&b, 0), "accepted");
    assert_string_equal(fx_ack_code(&b, 0), MED_R_F_EVENT_SUBENUM_UNKNOWN_NORMALIZED);
    assert_string_equal(b.events[0].ev->postback_type, "unknown");
    assert_string_equal(b.req->events[0]->postback_type, "refund"); /* as received */
    assert_string_equal(b.events[0].raw_sub_enums_json, "{\"postbackStatus\":\"weird\",\"postbackType\":\"refund\"}");
    assert_string_equal(b.audit->decisions[0]->raw_sub_enum_values_json, b.events[0].raw_sub_enums_json);
    assert_int_equal(b.events[0].layer, F_LAYER_BILLING);
    fx_store_free(&s);
    f_batch_free(&b);
}

static void ack_precedence_and_ids(void **state)
{
    (void)state;
    f_batch_work b;
    json_t *ev = fx_ev("auction_started", "e_as");
    json_object_set_new(ev, "auctionChannel", json_string("header"));
    json_object_set_new(ev, "idempotencyKey", json_string("short"));
    json_t *a = json_array();
    json_array_append_new(a, ev);
    json_array_append_new(a, json_pack("{s:i}", "eventId", 5));
    char *body = fx_body("batch_ack", a);
    fx_store s;
    fx_store_init(&s);
    fx_run(&s, &b, FX_T0, body);
    free(body);
    /* fallback outranks normalization */
    assert_string_equal(fx_ack_code(&b, 0), MED_R_F_IDEMPOTENCY_KEY_INVALID_FALLBACK);
    assert_string_equal(b.ack->ack_items[1]->event_id, "NA_1");
    assert_string_equal(b.ack->ack_items[1]->server_event_key, "f_evt_rejected_1");
    assert_string_equal(b.ack->overall_status, "partial_success");
    /* the rejected event's audit uses the F.8 fallback dedup key and is
     * rejected for its missing eventVersion anchor */
    const Mediation__V1__FToGArchiveRecordLite *r = b.events[1].records[0];
    assert_string_equal(r->relation_keys->canonical_dedup_key, "f_dedup_v1:none:app_chat_main|batch_ack|1");
    assert_string_equal(r->record_status, "rejected");
    assert_string_equal(r->decision_reason_code, MED_R_F_OUTPUT_MISSING_VERSION_ANCHOR);
    assert_string_equal(b.audit->decisions[1]->ack->ack_reason_code, MED_R_F_EVENT_MISSING_REQUIRED);
    fx_store_free(&s);
    f_batch_free(&b);
}

static void dedup_sources(void **state)
{
    (void)state;
    f_batch_work b;
    /* an eventId F cannot use falls to the computed key */
    char longid[200];
    memset(longid, 'x', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    validate_one(&b, fx_ev("impression", longid));
    f_event_work *e = &b.events[0];
    assert_string_equal(e->key_source, "computed");
    char want_src[512], want[65];
    snprintf(want_src, sizeof want_src,
             "app_chat_main|impression|rq_f_001|at_f_001|op_f_001|resp_f_001|ra_001|creative_001|ra_001");
    med_sha256_hex(want_src, strlen(want_src), want);
    assert_string_equal(e->fingerprint, want);
    char key[128];
    snprintf(key, sizeof key, "f_dedup_v1:computed:%s", want);
    assert_string_equal(e->dedup_key, key);
    f_batch_free(&b);

    /* the fingerprint is source (3)'s value whatever the key */
    validate_one(&b, set(fx_ev("impression", "e_ok"), "idempotencyKey", json_string("idem_key_0001")));
    assert_string_equal(b.events[0].key_source, "client_idempotency");
    assert_string_equal(b.events[0].fingerprint, want);
    f_batch_free(&b);

    /* no source: bad eventId and a digest field that is not an integer */
    json_t *ev = fx_ev("click", longid);
    json_object_set_new(ev, "eventSeq", json_real(2.5));
    expect_reject(ev, MED_R_F_EVENT_ID_INVALID_NO_FALLBACK);
    /* a malformed eventSeq with a usable key reaches step 11 */
    fx_store s;
    fx_store_init(&s);
    json_t *a = json_array();
    json_array_append_new(a, set(fx_ev("click", "e_c"), "eventSeq", json_string("3")));
    json_array_append_new(a, set(fx_ev("interaction", "e_i"), "eventSeq", json_integer(0)));
    char *body = fx_body("batch_seq", a);
    fx_run(&s, &b, FX_T0, body);
    free(body);
    assert_string_equal(fx_ack_code(&b, 0), MED_R_F_EVENT_SEQ_INVALID);
    assert_string_equal(fx_ack_code(&b, 1), MED_R_F_EVENT_SEQ_INVALID);
    assert_int_equal(b.dedup[0].release, 1);
    fx_store_free(&s);
    f_batch_free(&b);
}

static void dedup_table(void **state)
{
    (void)state;
    f_windows w;
    f_windows_default(&w);
    f_dedup_verdict v = f_dedup_decide(F_KEY_NONE, 0, 0, &w);
    assert_true(v.process);
    assert_true(f_dedup_decide(F_KEY_EXPIRED, 0, 0, &w).process);
    v = f_dedup_decide(F_KEY_INFLIGHT, 119999, 1, &w);
    assert_false(v.process);
    assert_string_equal(v.reason, MED_R_F_DEDUP_INFLIGHT_DUPLICATE);
    assert_true(f_dedup_decide(F_KEY_INFLIGHT, 120000, 0, &w).process); /* holder died */
    v = f_dedup_decide(F_KEY_INFLIGHT, 10, 0, &w);
    assert_int_equal(v.status, F_ACK_REJECTED);
    assert_string_equal(v.reason, MED_R_F_DEDUP_PAYLOAD_CONFLICT);
    v = f_dedup_decide(F_KEY_COMMITTED, 0, 1, &w);
    assert_int_equal(v.status, F_ACK_DUPLICATE);
    assert_string_equal(v.reason, MED_R_F_DEDUP_COMMITTED_DUPLICATE);
    assert_string_equal(f_dedup_decide(F_KEY_COMMITTED, 0, 0, &w).reason, MED_R_F_DEDUP_PAYLOAD_CONFLICT);
    /* a lost claim whose record vanished: retryable store reject */
    f_dedup_row r = {.key = "k", .fingerprint = "f", .won = 0, .stored_found = 0};
    v = f_dedup_row_verdict(&r, "f", 1, &w);
    assert_string_equal(v.reason, MED_R_F_EVENT_STORE_UNAVAILABLE);
    assert_true(v.retryable);
}

static void closure_table(void **state)
{
    (void)state;
    struct { f_closure_state st; f_terminal_source src; f_closure_input in;
             f_closure_state to; f_ack_status ack; const char *code; } rows[] = {
        {F_CLOSURE_NONE, F_TERMINAL_NONE, F_CI_AD_FILLED, F_CLOSURE_OPEN, F_ACK_ACCEPTED, MED_R_F_EVENT_ACCEPTED},
        {F_CLOSURE_CLOSED_SUCCESS, F_TERMINAL_NONE, F_CI_AD_FILLED, F_CLOSURE_CLOSED_SUCCESS, F_ACK_ACCEPTED,
         MED_R_F_TERMINAL_EVENT_IGNORED},
        {F_CLOSURE_OPEN, F_TERMINAL_NONE, F_CI_IMPRESSION, F_CLOSURE_CLOSED_SUCCESS, F_ACK_ACCEPTED, MED_R_F_EVENT_ACCEPTED},
        {F_CLOSURE_OPEN, F_TERMINAL_NONE, F_CI_FAILURE, F_CLOSURE_CLOSED_FAILURE, F_ACK_ACCEPTED, MED_R_F_EVENT_ACCEPTED},
        {F_CLOSURE_OPEN, F_TERMINAL_NONE, F_CI_SYNTH_FAILURE, F_CLOSURE_CLOSED_FAILURE, F_ACK_ACCEPTED,
         MED_R_F_TERMINAL_TIMEOUT_AUTOFILL},
        {F_CLOSURE_CLOSED_SUCCESS, F_TERMINAL_NONE, F_CI_IMPRESSION, F_CLOSURE_CLOSED_SUCCESS, F_ACK_DUPLICATE,
         MED_R_F_BILLING_CONFLICT_DUPLICATE_IMPRESSION},
        {F_CLOSURE_CLOSED_SUCCESS, F_TERMINAL_NONE, F_CI_FAILURE, F_CLOSURE_CLOSED_SUCCESS, F_ACK_DUPLICATE,
         MED_R_F_TERMINAL_CONFLICT_FAILURE_AFTER_IMPRESSION},
        {F_CLOSURE_CLOSED_FAILURE, F_TERMINAL_SYSTEM_TIMEOUT, F_CI_IMPRESSION, F_CLOSURE_CLOSED_SUCCESS,
         F_ACK_ACCEPTED, MED_R_F_TERMINAL_SUPERSEDED_BY_IMPRESSION},
        {F_CLOSURE_CLOSED_FAILURE, F_TERMINAL_SYSTEM_TIMEOUT, F_CI_FAILURE, F_CLOSURE_CLOSED_FAILURE,
         F_ACK_DUPLICATE, MED_R_F_TERMINAL_DUPLICATE_FAILURE_AFTER_SYNTHESIZED},
        {F_CLOSURE_CLOSED_FAILURE, F_TERMINAL_REAL_FAILURE, F_CI_IMPRESSION, F_CLOSURE_CLOSED_FAILURE,
         F_ACK_DUPLICATE, MED_R_F_TERMINAL_CONFLICT_IMPRESSION_AFTER_FAILURE},
        {F_CLOSURE_CLOSED_FAILURE, F_TERMINAL_REAL_FAILURE, F_CI_FAILURE, F_CLOSURE_CLOSED_FAILURE,
         F_ACK_DUPLICATE, MED_R_F_TERMINAL_DUPLICATE_FAILURE},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        f_closure_verdict v = f_closure_apply(rows[i].st, rows[i].src, rows[i].in);
        assert_int_equal(v.to_state, rows[i].to);
        assert_int_equal(v.status, rows[i].ack);
        assert_string_equal(v.reason, rows[i].code);
    }
    f_closure_verdict v = f_closure_apply(F_CLOSURE_NONE, F_TERMINAL_NONE, F_CI_IMPRESSION);
    assert_true(v.start_signal_missing);
    v = f_closure_apply(F_CLOSURE_CLOSED_FAILURE, F_TERMINAL_SYSTEM_TIMEOUT, F_CI_IMPRESSION);
    assert_true(v.supersede);
}

static void ids_and_keys(void **state)
{
    (void)state;
    char out[32], want[65];
    f_default_render_attempt_id("resp_f_001", "at_f_001", out, sizeof out);
    med_sha256_hex("resp_f_001:at_f_001", strlen("resp_f_001:at_f_001"), want);
    char exp[32];
    snprintf(exp, sizeof exp, "ra_%.16s", want);
    assert_string_equal(out, exp);
    assert_int_equal(strlen(out), 19);

    med_arena a;
    med_arena_init(&a);
    med_sha256_hex("resp_f_001|ra_001|timeout", strlen("resp_f_001|ra_001|timeout"), want);
    snprintf(exp, sizeof exp, "evt_timeout_%.16s", want);
    assert_string_equal(f_timeout_event_id(&a, "resp_f_001|ra_001"), exp);
    /* factId = p + "_" + hex20(p|sourceEventId|traceKey|type) */
    med_sha256_hex("bill|evt_1|tr_1|billable_impression", strlen("bill|evt_1|tr_1|billable_impression"), want);
    snprintf(exp, sizeof exp, "bill_%.20s", want);
    assert_string_equal(f_fact_id(&a, "bill", "evt_1", "tr_1", "billable_impression"), exp);
    med_sha256_hex("attr_click|click|NA|NA|evt_2", strlen("attr_click|click|NA|NA|evt_2"), want);
    assert_string_equal(f_attribution_key(&a, "attr_click", "click", NULL, NULL, "evt_2"), want);
    assert_true(f_token_valid("a.b_c:d-e", 1, 128));
    assert_false(f_token_valid("", 1, 128));
    assert_false(f_token_valid("abc", 8, 200));
    med_arena_free(&a);
}

static void claim_lost_downgrades(void **state)
{
    (void)state;
    fx_store s;
    fx_store_init(&s);
    fx_delivery(&s, FX_RR, "served", 2000000);
    f_batch_work b;
    json_t *a = json_array();
    json_array_append_new(a, fx_ev("impression", "e_imp"));
    char *body = fx_body("batch_cl", a);
    fx_batch(&b, FX_T0);
    fx_parse_validate(&b, body);
    free(body);
    fx_load(&s, &b);
    fx_decide(&b);
    assert_int_equal(b.events[0].n_claims, 1);
    assert_int_equal(b.events[0].claims[0].amount_micros, 2000000);
    assert_string_equal(b.events[0].claims[0].billing_key, "resp_f_001|ra_001|billable_impression");
    assert_string_equal(b.events[0].fact_decision->decision_action, "both_emit");
    med_err err;
    assert_int_equal(f_phase_claim_lost(&b, 0, 0, &err), MED_OK);
    assert_int_equal(b.events[0].n_billable, 0);
    assert_string_equal(b.events[0].fact_decision->decision_action, "attribution_emit");
    assert_string_equal(b.events[0].fact_decision->conflict_decision, "billing_key_duplicate");
    assert_string_equal(b.events[0].attribution[0]->attribution_type, "attr_impression_duplicate");
    assert_int_not_equal(f_phase_claim_lost(&b, 0, 5, &err), MED_OK);
    assert_int_equal(f_phase_output(&b, &err), MED_OK);
    assert_string_equal(fx_ack_status(&b, 0), "accepted");
    assert_int_equal(fx_count_records(&b, "billable_fact", NULL), 0);
    fx_store_free(&s);
    f_batch_free(&b);
}

static void delivery_not_found(void **state)
{
    (void)state;
    fx_store s;
    fx_store_init(&s); /* no Delivery known */
    f_batch_work b;
    json_t *a = json_array();
    json_array_append_new(a, fx_ev("impression", "e_imp"));
    char *body = fx_body("batch_nf", a);
    fx_run(&s, &b, FX_T0, body);
    free(body);
    assert_string_equal(fx_ack_status(&b, 0), "accepted");
    assert_string_equal(b.events[0].fact_decision->decision_reason_code, MED_R_F_BILLING_DELIVERY_NOT_FOUND);
    assert_int_equal(fx_count_records(&b, "billable_fact", NULL), 0);
    /* the request's anchor hash stands in for the Delivery's */
    assert_string_equal(b.records[0]->anchor_hash, "anchor_req");
    fx_store_free(&s);
    f_batch_free(&b);
}

static void postback_conflict(void **state)
{
    (void)state;
    fx_store s;
    fx_store_init(&s);
    fx_delivery(&s, FX_RR, "served", 1);
    f_batch_work b;
    json_t *a = json_array();
    json_array_append_new(a, fx_ev("error", "e_err"));
    json_array_append_new(a, fx_ev("postback", "e_pb"));
    char *body = fx_body("batch_pb", a);
    fx_run(&s, &b, FX_T0, body);
    free(body);
    assert_string_equal(fx_ack_status(&b, 1), "accepted");
    assert_string_equal(b.events[1].fact_decision->decision_reason_code, MED_R_F_BILLING_POSTBACK_CONFLICT);
    assert_int_equal(fx_count_records(&b, "attribution_fact", "conflicted"), 1);
    fx_store_free(&s);
    f_batch_free(&b);
}

static void ad_filled_on_closed(void **state)
{
    (void)state;
    fx_store s;
    fx_store_init(&s);
    fx_delivery(&s, FX_RR, "served", 1);
    f_batch_work b;
    json_t *a = json_array();
    json_array_append_new(a, fx_ev("ad_filled", "e_af"));
    json_array_append_new(a, fx_ev("impression", "e_imp"));
    char *body = fx_body("batch_af", a);
    fx_run(&s, &b, FX_T0, body);
    free(body);
    /* impressions apply first: the later-sorted ad_filled is ignored */
    assert_string_equal(fx_ack_status(&b, 0), "accepted");
    assert_string_equal(b.events[0].fact_decision->decision_reason_code, MED_R_F_TERMINAL_EVENT_IGNORED);
    assert_true(b.events[1].closure_decision->start_signal_missing);
    fx_store_free(&s);
    f_batch_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(envelope_checks_in_order), cmocka_unit_test(validation_steps),
        cmocka_unit_test(subenums_normalized),      cmocka_unit_test(ack_precedence_and_ids),
        cmocka_unit_test(dedup_sources),            cmocka_unit_test(dedup_table),
        cmocka_unit_test(closure_table),            cmocka_unit_test(ids_and_keys),
        cmocka_unit_test(claim_lost_downgrades),    cmocka_unit_test(delivery_not_found),
        cmocka_unit_test(postback_conflict),        cmocka_unit_test(ad_filled_on_closed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
