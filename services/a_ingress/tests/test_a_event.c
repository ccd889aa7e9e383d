/* A.8 createOpportunity and A.9 event cases 14-18 (spec 01 A.11). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "a_create.h"
#include "a_event.h"
#include "a_types.h"
#include "med/emit_publish.h"
#include "med/reason.h"

typedef struct create_fx {
    Mediation__V1__CreateOpportunityInputLite in;
    Mediation__V1__ImpSeedLite imp;
    Mediation__V1__ImpSeedLite *imps[1];
    Mediation__V1__OpportunityTimestamps ts;
    Mediation__V1__TraceInitLite ti;
} create_fx;

static void create_fixture(create_fx *f)
{
    mediation__v1__create_opportunity_input_lite__init(&f->in);
    mediation__v1__imp_seed_lite__init(&f->imp);
    mediation__v1__opportunity_timestamps__init(&f->ts);
    mediation__v1__trace_init_lite__init(&f->ti);
    f->imp.imp_key = (char *)"imp_0123456789abcdef";
    f->imp.placement_id = (char *)"chat_from_answer_v1";
    f->imp.placement_type = (char *)"native_feed";
    f->imps[0] = &f->imp;
    f->ts.request_at_unix_ms = 1771696800000LL;
    f->ts.trigger_at_unix_ms = 1771696801000LL;
    f->ts.opportunity_created_at_unix_ms = 1771696801010LL;
    f->ti.trace_key = (char *)"tr_0123456789abcdef";
    f->ti.request_key = (char *)"req_0123456789abcdef";
    f->ti.attempt_key = (char *)"att_0123456789abcdef";
    f->in.request_key = (char *)"req_0123456789abcdef";
    f->in.opportunity_key = (char *)"opp_0123456789abcdef";
    f->in.imp_seed = f->imps;
    f->in.n_imp_seed = 1;
    f->in.timestamps = &f->ts;
    f->in.trace_init = &f->ti;
    f->in.schema_version = (char *)"1.0.0";
    f->in.state = (char *)A_STATE_RECEIVED;
    f->in.create_opportunity_contract_version = (char *)A_VER_CREATE_OPPORTUNITY;
}

static void expect_reject(const create_fx *f, const char *code)
{
    const char *field;
    assert_string_equal(a_create_check(&f->in, &field), code);
    Mediation__V1__CreateOpportunityResultLite res;
    a_create_result(code, "opp_0123456789abcdef", f->in.trace_init, 1, &res);
    assert_string_equal(res.create_action, "rejected");
    assert_false(res.create_accepted);
    assert_string_equal(res.result_state, "error");
    assert_int_equal(res.opportunity_ref_or_na_opt_case, 0);
}

static void case14_create_checks(void **state)
{
    (void)state;
    create_fx f;
    const char *field;
    create_fixture(&f);
    assert_string_equal(a_create_check(&f.in, &field), MED_R_A_COP_CREATED);
    f.in.n_imp_seed = 0;
    expect_reject(&f, MED_R_A_COP_IMP_SEED_EMPTY);
    create_fixture(&f);
    f.ts.request_at_unix_ms = f.ts.trigger_at_unix_ms + 1;
    expect_reject(&f, MED_R_A_COP_TIMESTAMP_ORDER_INVALID);
    create_fixture(&f);
    f.ti.request_key = (char *)"req_ffffffffffffffff";
    expect_reject(&f, MED_R_A_COP_TRACE_REQUEST_MISMATCH);
    create_fixture(&f);
    f.in.opportunity_key = (char *)"bad";
    expect_reject(&f, MED_R_A_COP_INVALID_KEY_FORMAT);
    create_fixture(&f);
    f.in.state = (char *)"routed";
    expect_reject(&f, MED_R_A_COP_MISSING_REQUIRED_FIELD);
    assert_string_equal((a_create_check(&f.in, &field), field), "state");
}

static void case15_duplicate_noop(void **state)
{
    (void)state;
    create_fx f;
    create_fixture(&f);
    Mediation__V1__CreateOpportunityResultLite first, second;
    a_create_result(MED_R_A_COP_CREATED, f.in.opportunity_key, &f.ti, 1, &first);
    a_create_result(MED_R_A_COP_DUPLICATE_OPPORTUNITY_KEY, f.in.opportunity_key, &f.ti, 2, &second);
    assert_string_equal(first.create_action, "created");
    assert_string_equal(second.create_action, "duplicate_noop");
    assert_true(second.create_accepted);
    assert_string_equal(second.error_action, A_ERR_ALLOW);
    assert_string_equal(second.opportunity_ref_or_na, first.opportunity_ref_or_na);
    assert_ptr_equal(second.trace_init, first.trace_init);
}

static void case16_event_keys(void **state)
{
    (void)state;
    char key[65];
    a_event_idempotency_key("req_evt_001", "opp_evt_001", "att_evt_001", A_VER_OPPORTUNITY_EVENT,
                            key);
    assert_string_equal(key, "a2659edf97c0b38fc97852b0d5e8136426b18797406a4d91be7a5bc162fe8b36");
    const uint8_t rnd[10] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    char ek[64];
    a_event_key_from(1771696801010LL, rnd, ek, sizeof ek);
    assert_int_equal(strlen(ek), 7 + 36);
    assert_memory_equal(ek, "evt_oc_", 7);
    assert_memory_equal(ek + 7, "019c8", 5);   /* 48-bit ms timestamp first */
    assert_int_equal(ek[7 + 14], '7');         /* version nibble */
    assert_true(strchr("89ab", ek[7 + 19]) != NULL);   /* variant */
}

static void case17_retry_ladder_and_exhaustion(void **state)
{
    (void)state;
    a_emit_ack ack;
    int64_t t0 = 1000000, now = t0;
    a_event_ack(A_PUB_RETRYABLE, 1, t0, now, A_EVENT_WINDOW_MS, &ack);
    assert_string_equal(ack.ack_reason_code, MED_R_A_OC_EMIT_REJECTED_RETRYABLE);
    assert_int_equal(ack.next_retry_at_ms - now, 1000);
    now = ack.next_retry_at_ms;
    a_event_ack(A_PUB_RETRYABLE, 2, t0, now, A_EVENT_WINDOW_MS, &ack);
    assert_int_equal(ack.next_retry_at_ms - now, 5000);
    now = ack.next_retry_at_ms;
    a_event_ack(A_PUB_ACK, 3, t0, now, A_EVENT_WINDOW_MS, &ack);
    assert_string_equal(ack.ack_status, "accepted");
    assert_int_equal(ack.next_retry_at_ms, 0);

    /* endless retryable rejection in a 6 s window: t=0, 1, 6, then stop */
    now = t0;
    int attempt = 1;
    for (;; attempt++) {
        a_event_ack(A_PUB_RETRYABLE, attempt, t0, now, 6000, &ack);
        if (!ack.retryable) break;
        now = ack.next_retry_at_ms;
    }
    assert_int_equal(attempt, 3);
    assert_string_equal(ack.ack_reason_code, MED_R_A_OC_EMIT_RETRY_EXHAUSTED);
    assert_int_equal(a_event_retry_delay_ms(5), 120000);
}

static void case18_conflict_and_duplicate(void **state)
{
    (void)state;
    assert_true(a_event_payload_conflicts("aa", "bb"));
    assert_false(a_event_payload_conflicts("aa", "aa"));
    assert_false(a_event_payload_conflicts("", "bb"));
    a_emit_ack ack;
    a_event_ack(A_PUB_PAYLOAD_CONFLICT, 2, 0, 10, A_EVENT_WINDOW_MS, &ack);
    assert_string_equal(ack.ack_reason_code, MED_R_A_OC_EMIT_PAYLOAD_CONFLICT);
    assert_false(ack.retryable);
    a_event_ack(A_PUB_ACK_DUPLICATE, 1, 0, 10, A_EVENT_WINDOW_MS, &ack);
    assert_string_equal(ack.ack_status, "duplicate");
    assert_string_equal(ack.ack_reason_code, MED_R_A_OC_EMIT_DUPLICATE_NOOP);
    assert_int_equal(ack.next_retry_at_ms, 0);
    a_event_ack(A_PUB_FAILED, 1, 0, 10, A_EVENT_WINDOW_MS, &ack);
    assert_string_equal(ack.ack_reason_code, MED_R_A_OC_EMIT_REJECTED_NON_RETRYABLE);
    Mediation__V1__OpportunityCreatedEventLite ev;
    mediation__v1__opportunity_created_event_lite__init(&ev);
    assert_string_equal(a_event_missing_field(&ev), "eventKey");
}

/* 17/18: the real publish results behind the table (common/emit_*). */
static void case17_18_publish_outcomes(void **state)
{
    (void)state;
    assert_int_equal(med_emit_classify(NATS_OK, 0, 0), A_PUB_ACK);
    assert_int_equal(med_emit_classify(NATS_OK, 0, 1), A_PUB_ACK_DUPLICATE);
    assert_int_equal(med_emit_classify(NATS_TIMEOUT, 0, 0), A_PUB_RETRYABLE);
    assert_int_equal(med_emit_classify(NATS_NO_RESPONDERS, 0, 0), A_PUB_RETRYABLE);
    assert_int_equal(med_emit_classify(NATS_CONNECTION_DISCONNECTED, 0, 0), A_PUB_RETRYABLE);
    assert_int_equal(med_emit_classify(NATS_ERR, JSStreamNotFoundErr, 0), A_PUB_RETRYABLE);
    assert_int_equal(med_emit_classify(NATS_ERR, JSClusterNotAvailErr, 0), A_PUB_RETRYABLE);
    assert_int_equal(med_emit_classify(NATS_ERR, JSStreamOfflineErr, 0), A_PUB_RETRYABLE);
    assert_int_equal(med_emit_classify(NATS_ERR, JSStreamWrongLastSequenceErr, 0), A_PUB_FAILED);
    assert_int_equal(med_emit_classify(NATS_MAX_PAYLOAD, 0, 0), A_PUB_FAILED);
    /* the digest store's values */
    const char *d = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    char v[80];
    assert_int_equal(med_emit_digest_compare(NULL, 0, d), MED_EMIT_DIGEST_NEW);
    med_emit_digest_value(d, 0, v, sizeof v);
    assert_int_equal(med_emit_digest_compare(v, strlen(v), d), MED_EMIT_DIGEST_RESEND);
    med_emit_digest_value(d, 1, v, sizeof v);
    assert_int_equal(med_emit_digest_compare(v, strlen(v), d), MED_EMIT_DIGEST_ACKED);
    v[0] = 'b';
    assert_int_equal(med_emit_digest_compare(v, strlen(v), d), MED_EMIT_DIGEST_CONFLICT);
    /* exhausted is flagged for the alert */
    a_emit_ack ack;
    a_event_ack(A_PUB_RETRYABLE, 2, 0, 1001, 6000, &ack);
    assert_true(ack.exhausted);
    assert_false(ack.retryable);
}

/* The digest leaves out eventKey and the wall-clock fields only. */
static void case18_event_digest(void **state)
{
    (void)state;
    Mediation__V1__OpportunityCreatedEventLite ev;
    mediation__v1__opportunity_created_event_lite__init(&ev);
    ev.event_key = (char *)"evt_oc_1";
    ev.event_at_unix_ms = 1;
    ev.placement_id = (char *)"plc_feed";
    char a[65], b[65];
    med_err e;
    assert_int_equal(a_event_digest(&ev, a, &e), MED_OK);
    ev.event_key = (char *)"evt_oc_2";
    ev.event_at_unix_ms = 2;
    ev.handoff_to_b_at_unix_ms = 3;
    assert_int_equal(a_event_digest(&ev, b, &e), MED_OK);
    assert_string_equal(a, b);
    ev.placement_id = (char *)"plc_other";
    assert_int_equal(a_event_digest(&ev, b, &e), MED_OK);
    assert_string_not_equal(a, b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(case14_create_checks),
        cmocka_unit_test(case15_duplicate_noop),
        cmocka_unit_test(case16_event_keys),
        cmocka_unit_test(case17_retry_ladder_and_exhaustion),
        cmocka_unit_test(case18_conflict_and_duplicate),
        cmocka_unit_test(case17_18_publish_outcomes),
        cmocka_unit_test(case18_event_digest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
