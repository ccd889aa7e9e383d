/* A.2 / A.3 acceptance cases 1, 3, 4, 5, 6 (spec 01 A.11). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "a_fixture.h"
#include "med/rfc3339.h"
#include "a_types.h"
#include "med/reason.h"

typedef struct run {
    a_request req;
    a_decision d;
    json_t *placement;
    int go;
} run;

static void run_body(run *r, json_t *body, int enabled)
{
    memset(r, 0, sizeof *r);
    r->placement = fixture_placement(enabled);
    a_decide_in in = fixture_in(r->placement);
    r->go = fixture_decide(&in, body, NULL, 0, &r->req, &r->d);
}

static void run_free(run *r)
{
    a_request_free(&r->req);
    json_decref(r->placement);
}

static void assert_reject(json_t *body, const char *code, const char *field)
{
    run r;
    run_body(&r, body, 1);
    assert_int_equal(r.go, 0);
    assert_int_equal(r.d.kind, A_KIND_REJECT_REPLY);
    assert_string_equal(r.d.reason_code, code);
    assert_string_equal(r.d.trigger_action, A_ACT_REJECT);
    assert_int_equal(r.d.retryable, 0);
    if (field) assert_string_equal(r.d.field, field);
    run_free(&r);
}

static void case01_fixture_creates_with_keys(void **state)
{
    (void)state;
    run r;
    run_body(&r, fixture_body(), 1);
    assert_int_equal(r.go, 1);
    assert_int_equal(r.d.kind, A_KIND_CREATE);
    assert_string_equal(r.d.trigger_action, A_ACT_CREATE);
    assert_string_equal(r.d.error_action, A_ERR_ALLOW);
    assert_string_equal(r.d.reason_code, MED_R_A_TRG_MAP_ANSWER_END_ELIGIBLE);
    assert_string_equal(r.d.sensing.hit_type, "workflow_hit");
    assert_string_equal(r.d.decision_outcome, A_OUT_ELIGIBLE);
    assert_memory_equal(r.d.keys.trace_key, "tr_", 3);
    assert_memory_equal(r.d.keys.request_key, "req_", 4);
    assert_memory_equal(r.d.keys.attempt_key, "att_", 4);
    assert_memory_equal(r.d.keys.opportunity_key, "opp_", 4);
    assert_memory_equal(r.d.keys.generated_client_id, "cli_", 4);
    assert_int_equal(strlen(r.d.keys.generated_client_id), 16);
    assert_int_equal(strlen(r.d.keys.request_key), 20);
    assert_string_equal(a_dedup_state_name(r.d.dedup.state), "new");
    run_free(&r);
}

static void case03_empty_placement_is_missing_required(void **state)
{
    (void)state;
    json_t *b = fixture_body();
    json_object_set_new(b, "placementId", json_string(""));
    assert_reject(b, MED_R_A_TRG_MISSING_REQUIRED_FIELD, "placementId");
    b = fixture_body();
    set_ac(b, "sessionId", "   ");
    assert_reject(b, MED_R_A_TRG_MISSING_REQUIRED_FIELD, "appContext.sessionId");
}

static void case04_context_structure(void **state)
{
    (void)state;
    json_t *b = fixture_body();
    json_object_del(b, "appContext");
    assert_reject(b, MED_R_A_TRG_INVALID_CONTEXT_STRUCTURE, "appContext");
    b = fixture_body();
    set_ac(b, "requestAt", "not-a-timestamp");
    assert_reject(b, MED_R_A_TRG_INVALID_CONTEXT_STRUCTURE, "appContext.requestAt");
    b = fixture_body();
    set_ac(b, "appId", "app_other");
    assert_reject(b, MED_R_A_TRG_INVALID_CONTEXT_STRUCTURE, "appContext.appId");
    b = fixture_body();
    set_tc(b, "triggerAt", "2026-02-21T18:05:00.001Z");   /* 300.001 s after requestAt */
    assert_reject(b, MED_R_A_TRG_INVALID_CONTEXT_STRUCTURE, "triggerContext.triggerAt");
    b = fixture_body();
    set_tc(b, "triggerAt", "2026-02-21T17:59:59.999Z");   /* before requestAt */
    assert_reject(b, MED_R_A_TRG_INVALID_CONTEXT_STRUCTURE, "triggerContext.triggerAt");
    b = fixture_body();
    json_object_set_new(b, "ingressEnvelopeVersion", json_string("ingress_v9"));
    assert_reject(b, MED_R_A_TRG_INVALID_CONTEXT_STRUCTURE, "ingressEnvelopeVersion");
}

static void case04_exactly_300s_passes(void **state)
{
    (void)state;
    json_t *b = fixture_body();
    set_tc(b, "triggerAt", "2026-02-21T18:05:00.000Z");
    run r;
    memset(&r, 0, sizeof r);
    r.placement = fixture_placement(1);
    a_decide_in in = fixture_in(r.placement);
    in.received_at_ms = 1771696800000LL + 290000;  /* within 300 s of requestAt */
    in.now_ms = in.received_at_ms + 1;
    r.go = fixture_decide(&in, b, NULL, 0, &r.req, &r.d);
    assert_int_equal(r.go, 1);
    assert_int_equal(r.d.kind, A_KIND_CREATE);
    run_free(&r);
}

static void case05_placement_and_trigger_type(void **state)
{
    (void)state;
    json_t *b = fixture_body();
    json_object_set_new(b, "placementId", json_string("missing_placement"));
    assert_reject(b, MED_R_A_TRG_INVALID_PLACEMENT_ID, "placementId");

    run r;
    b = fixture_body();
    set_tc(b, "triggerType", "non_existing_trigger");
    run_body(&r, b, 1);
    assert_int_equal(r.d.kind, A_KIND_REJECT_REPLY);
    assert_string_equal(r.d.reason_code, MED_R_A_TRG_INVALID_TRIGGER_TYPE);
    assert_int_equal(r.d.n_secondary, 1);
    assert_string_equal(r.d.secondary[0], MED_R_A_TRG_MAP_UNKNOWN_TRIGGER_REJECT);
    run_free(&r);

    b = fixture_body();
    set_tc(b, "triggerType", " Answer-End ");
    run_body(&r, b, 1);
    assert_int_equal(r.d.kind, A_KIND_CREATE);
    assert_string_equal(r.d.sensing.trigger_type, "answer_end");
    run_free(&r);

    b = fixture_body();
    set_tc(b, "triggerType", "unknown_trigger_type");
    assert_reject(b, MED_R_A_TRG_INVALID_TRIGGER_TYPE, "triggerContext.triggerType");
}

static void case06_no_op_block_and_override(void **state)
{
    (void)state;
    run r;
    json_t *b = fixture_body();
    set_tc(b, "triggerType", "manual_refresh");
    run_body(&r, b, 1);
    assert_int_equal(r.d.kind, A_KIND_TERMINAL);
    assert_string_equal(r.d.trigger_action, A_ACT_NO_OP);
    assert_string_equal(r.d.decision_outcome, A_OUT_INELIGIBLE);
    assert_string_equal(r.d.reason_code, MED_R_A_TRG_MAP_MANUAL_REFRESH_INELIGIBLE);
    assert_string_equal(r.d.delivery_status_hint, "no_fill");
    run_free(&r);

    b = fixture_body();
    set_tc(b, "triggerType", "blocked_by_policy");
    run_body(&r, b, 1);
    assert_string_equal(r.d.trigger_action, A_ACT_NO_OP);
    assert_string_equal(r.d.decision_outcome, A_OUT_BLOCKED);
    assert_string_equal(r.d.decision_action, "block");
    assert_string_equal(r.d.reason_code, MED_R_A_TRG_MAP_BLOCKED_BY_POLICY);
    run_free(&r);

    run_body(&r, fixture_body(), 0);
    assert_int_equal(r.d.kind, A_KIND_TERMINAL);
    assert_string_equal(r.d.reason_code, MED_R_A_TRG_MAP_OVERRIDDEN_BY_POLICY);
    assert_string_equal(r.d.sensing.trigger_decision, A_OUT_ELIGIBLE);
    assert_string_equal(r.d.decision_outcome, A_OUT_BLOCKED);
    assert_string_equal(r.d.sensing.hit_type, "no_hit");
    run_free(&r);
}

static void taxonomy_allowed_trigger_types(void **state)
{
    (void)state;
    json_t *plc = json_pack("{s:s, s:b, s:[s]}", "placementId", F_PLACEMENT, "enabled", 1,
                            "allowedTriggerTypes", "intent_spike");
    a_sensing s;
    med_err e;
    assert_int_equal(a_taxonomy_map("answer_end", plc, 0, 0, &s, &e), MED_ERR_INVALID);
    assert_string_equal(e.code, MED_R_A_TRG_INVALID_TRIGGER_TYPE);
    assert_int_equal(a_taxonomy_map("Intent Spike", plc, 1, 1.7, &s, &e), MED_OK);
    assert_true(s.confidence_band == 1.0);
    assert_int_equal(a_taxonomy_map("manual_refresh", plc, 0, 0, &s, &e), MED_OK);
    assert_true(s.confidence_band == 0.5);
    json_decref(plc);
    char out[64];
    a_trigger_type_normalize("  Tool -- Result__Ready ", out, sizeof out);
    assert_string_equal(out, "tool_result_ready");
}

static void rfc3339_parsing(void **state)
{
    (void)state;
    int64_t ms;
    assert_int_equal(med_rfc3339_parse("2026-02-21T18:00:01Z", &ms), 0);
    assert_int_equal(ms, 1771696801000LL);
    assert_int_equal(med_rfc3339_parse("2026-02-21T20:00:01.5+02:00", &ms), 0);
    assert_int_equal(ms, 1771696801500LL);
    assert_int_equal(med_rfc3339_parse("2026-02-30T00:00:00Z", &ms), -1);
    assert_int_equal(med_rfc3339_parse("2026-02-21 18:00:01Z", &ms), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(case01_fixture_creates_with_keys),
        cmocka_unit_test(case03_empty_placement_is_missing_required),
        cmocka_unit_test(case04_context_structure),
        cmocka_unit_test(case04_exactly_300s_passes),
        cmocka_unit_test(case05_placement_and_trigger_type),
        cmocka_unit_test(case06_no_op_block_and_override),
        cmocka_unit_test(taxonomy_allowed_trigger_types),
        cmocka_unit_test(rfc3339_parsing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
