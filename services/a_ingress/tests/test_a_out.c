/* What a decision emits (A.1, A.8): reject replies (cases 3, 13) and the
 * terminal ComposeInput with the first request's keys (cases 6, 7, 12). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "a_fixture.h"
#include "a_out.h"
#include "a_types.h"
#include "med/reason.h"

static void case03_reject_reply_is_400_with_field(void **state)
{
    (void)state;
    json_t *b = fixture_body(), *plc = fixture_placement(1);
    json_object_set_new(b, "placementId", json_string(""));
    a_decide_in in = fixture_in(plc);
    a_request req;
    a_decision d;
    assert_int_equal(fixture_decide(&in, b, NULL, 0, &req, &d), 0);
    med_arena ar = {0};
    Mediation__V1__OpportunityRejectReply *r = a_out_reject_reply(&ar, &d, NULL, 5);
    assert_int_equal(r->http_status, 400);
    assert_int_equal(r->retry_after_sec, 0);
    assert_string_equal(r->error->code, MED_R_A_TRG_MISSING_REQUIRED_FIELD);
    assert_string_equal(r->error->field, "placementId");
    assert_false(r->result->request_accepted);
    assert_false(r->result->retryable);
    assert_string_equal(r->result->trace_init_lite->request_key, A_NA);
    assert_int_equal(r->result->opportunity_ref_or_na_opt_case, 0);
    size_t len = mediation__v1__opportunity_reject_reply__get_packed_size(r);
    assert_true(len > 0);
    med_arena_free(&ar);
    a_request_free(&req);
    json_decref(plc);
}

static void case13_internal_unavailable_is_503(void **state)
{
    (void)state;
    a_decision d;
    memset(&d, 0, sizeof d);
    a_decision_internal_unavailable(&d, "redis and postgres down");
    med_arena ar = {0};
    Mediation__V1__OpportunityRejectReply *r = a_out_reject_reply(&ar, &d, NULL, 5);
    assert_int_equal(r->http_status, 503);
    assert_int_equal(r->retry_after_sec, A_RETRY_AFTER_SEC);
    assert_true(r->result->retryable);
    assert_string_equal(r->error->code, MED_R_A_TRG_INTERNAL_UNAVAILABLE);
    med_arena_free(&ar);
}

static void case07_duplicate_compose_carries_first_keys(void **state)
{
    (void)state;
    json_t *plc = fixture_placement(1);
    a_decide_in in = fixture_in(plc);
    a_request r1, r2;
    a_decision d1, d2;
    fixture_decide(&in, fixture_body(), NULL, 0, &r1, &d1);
    a_dedup_record rec;
    a_decision_record(&d1, &r1, in.received_at_ms, 7, A_DEDUP_INFLIGHT, &rec);
    in.stream_seq = 8;
    fixture_decide(&in, fixture_body(), &rec, 0, &r2, &d2);
    med_arena ar = {0};
    Mediation__V1__ComposeInput *c = a_out_terminal_compose(&ar, &d2, NULL, NULL, 5);
    assert_string_equal(c->compose_source, "a_terminal");
    assert_string_equal(c->upstream_terminal->stage, "a");
    assert_string_equal(c->upstream_terminal->decision_action, A_ACT_NO_OP);
    assert_string_equal(c->upstream_terminal->delivery_status_hint, "no_fill");
    assert_string_equal(c->upstream_terminal->reason_code, MED_R_A_TRG_DUPLICATE_INFLIGHT);
    assert_string_equal(c->a_trigger_sync_result_lite->trace_init_lite->request_key,
                        d1.keys.request_key);
    assert_string_equal(c->a_trigger_sync_result_lite->trace_init_lite->opportunity_key,
                        d1.keys.opportunity_key);
    assert_string_equal(c->a_trigger_sync_result_lite->a_dedup_snapshot_lite->dedup_state,
                        "inflight_duplicate");
    assert_true(c->a_trigger_sync_result_lite->request_accepted);
    med_arena_free(&ar);
    a_request_free(&r1);
    a_request_free(&r2);
    json_decref(plc);
}

static void case12_config_reject_compose_is_error(void **state)
{
    (void)state;
    json_t *plc = fixture_placement(1);
    a_decide_in in = fixture_in(plc);
    in.config_status = MED_RCFG_VERSION_INVALID;
    a_request req;
    a_decision d;
    fixture_decide(&in, fixture_body(), NULL, 0, &req, &d);
    med_arena ar = {0};
    Mediation__V1__ComposeInput *c = a_out_terminal_compose(&ar, &d, NULL, NULL, 5);
    assert_string_equal(c->upstream_terminal->delivery_status_hint, "error");
    assert_string_equal(c->upstream_terminal->decision_action, A_ACT_REJECT);
    assert_string_equal(c->upstream_terminal->reason_code, MED_R_A_TRG_CONFIG_VERSION_INVALID);
    assert_false(c->a_trigger_sync_result_lite->request_accepted);
    med_arena_free(&ar);
    a_request_free(&req);
    json_decref(plc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(case03_reject_reply_is_400_with_field),
        cmocka_unit_test(case13_internal_unavailable_is_503),
        cmocka_unit_test(case07_duplicate_compose_carries_first_keys),
        cmocka_unit_test(case12_config_reject_compose_is_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
