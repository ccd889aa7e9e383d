/* Rules outside the E.11 fixture: responseReference formula, the E.8
 * canonical table, terminal inputs of A and B (00 decision 1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "e_fixture.h"
#include "med/ids.h"
#include "med/reason.h"
#include "mediation/v1/opportunity.pb-c.h"

static void response_reference_formula(void **state)
{
    (void)state;
    e_keys k;
    const char *t[] = { "tr_1" }, *r[] = { "req_1" }, *a[] = { NULL }, *o[] = { "opp_1" };
    e_keys_pick(&k, t, r, a, o, 1);
    assert_string_equal(k.attempt_key, "NA");
    char ref[E_REF_MAX], want[65];
    e_response_reference(&k, ref);
    const char *joined = "tr_1:req_1:NA:opp_1";
    med_sha256_hex(joined, strlen(joined), want);
    assert_int_equal(strlen(ref), 25);
    assert_memory_equal(ref, "resp_", 5);
    assert_memory_equal(ref + 5, want, 20);
}

static void canonical_table(void **state)
{
    (void)state;
    assert_string_equal(e_canonical_of(MED_R_E_UI_SIZE_OUT_OF_BOUND), MED_R_E_NF_ALL_CANDIDATE_REJECTED);
    assert_string_equal(e_canonical_of(MED_R_C_COMPLIANCE_HARD_BLOCK), MED_R_E_NF_POLICY_BLOCKED);
    assert_string_equal(e_canonical_of(MED_R_E_UI_FREQUENCY_HARD_CAP), MED_R_E_NF_FREQUENCY_CAPPED);
    assert_string_equal(e_canonical_of(MED_R_E_COMPOSE_MISSING_PLACEMENT_REQUIRED),
                        MED_R_E_ER_INVALID_COMPOSE_INPUT);
    assert_string_equal(e_canonical_of(MED_R_E_TRACKING_INJECTION_MISSING), MED_R_E_ER_TRACKING_CONTRACT_BROKEN);
    assert_string_equal(e_canonical_of(MED_R_E_RENDER_COMPOSE_TIMEOUT), MED_R_E_ER_COMPOSE_TIMEOUT);
    assert_string_equal(e_canonical_of(MED_R_C_POLICY_SNAPSHOT_EXPIRED), MED_R_E_ER_UPSTREAM_ERROR);
    assert_string_equal(e_canonical_of(MED_R_C_INVALID_STRUCTURE), MED_R_E_ER_UPSTREAM_ERROR);
    assert_string_equal(e_canonical_of("something_else"), MED_R_E_ER_UNKNOWN);
}

static e_outcome *terminal(e_fx *f, const char *source, Mediation__V1__ATriggerSyncResultLite *a,
                           Mediation__V1__UpstreamTerminalLite *u)
{
    f->ci.compose_source = (char *)source;
    f->ci.e_compose_input_lite = NULL;
    f->ci.a_trigger_sync_result_lite = a;
    f->ci.upstream_terminal = u;
    e_outcome *o = e_fx_compose(f);
    assert_non_null(o);
    return o;
}

static void a_terminal_no_op_block_and_reject(void **state)
{
    (void)state;
    e_fx *f = e_fx_new();
    Mediation__V1__ATriggerSyncResultLite a;
    mediation__v1__atrigger_sync_result_lite__init(&a);
    a.trigger_action = (char *)"no_op";
    a.reason_code = (char *)MED_R_A_TRG_DUPLICATE_INFLIGHT;
    e_outcome *o = terminal(f, "a_terminal", &a, NULL);
    assert_string_equal(o->dec.status, "no_fill");
    assert_string_equal(o->dec.raw, MED_R_A_TRG_DUPLICATE_INFLIGHT);
    assert_string_equal(o->upstream_code, MED_R_A_TRG_DUPLICATE_INFLIGHT);
    /* the first request's keys from the trace give the same reference */
    e_outcome *routed = calloc(1, sizeof *routed);
    assert_non_null(routed);
    e_fx *g = e_fx_new();
    e_compose(&g->ci, NULL, FX_T0, routed);
    assert_string_equal(o->response_reference, routed->response_reference);
    free(routed);
    free(g);
    free(o);
    a.reason_code = (char *)MED_R_A_TRG_MAP_BLOCKED_BY_POLICY;
    o = terminal(f, "a_terminal", &a, NULL);
    assert_string_equal(o->dec.final_code, MED_R_E_NF_POLICY_BLOCKED);
    free(o);
    a.trigger_action = (char *)"reject";
    a.reason_code = (char *)MED_R_A_TRG_CONFIG_TIMEOUT_NO_SNAPSHOT;
    o = terminal(f, "a_terminal", &a, NULL);
    assert_string_equal(o->dec.status, "error");
    assert_string_equal(o->dec.final_code, MED_R_E_ER_UPSTREAM_ERROR);
    assert_string_equal(o->dec.consistency_action, "pass_through");
    free(o);
    free(f);
}

static void b_reject_is_error(void **state)
{
    (void)state;
    e_fx *f = e_fx_new();
    Mediation__V1__UpstreamTerminalLite u;
    mediation__v1__upstream_terminal_lite__init(&u);
    u.stage = (char *)"b";
    u.reason_code = (char *)"b_input_missing_required";
    e_outcome *o = terminal(f, "b_reject", NULL, &u);
    assert_string_equal(o->dec.status, "error");
    assert_string_equal(o->dec.final_code, MED_R_E_ER_UPSTREAM_ERROR);
    assert_string_equal(o->upstream_code, "b_input_missing_required");
    free(o);
    free(f);
}

static void undecodable_input_is_error_with_header_keys(void **state)
{
    (void)state;
    e_header_keys hk = { "tr_h", "req_h", "opp_h" };
    e_outcome *o = calloc(1, sizeof *o);
    assert_non_null(o);
    e_compose(NULL, &hk, FX_T0, o);
    assert_string_equal(o->dec.status, "error");
    assert_string_equal(o->dec.final_code, MED_R_E_ER_INVALID_COMPOSE_INPUT);
    assert_string_equal(o->keys.request_key, "req_h");
    free(o);
}

static void url_host(void **state)
{
    (void)state;
    char h[64];
    e_url_host("https://user@cdn.example.com:8443/x?y", h, sizeof h);
    assert_string_equal(h, "cdn.example.com");
    assert_false(e_url_is_https("http://a.example"));
    assert_true(e_url_is_https("https://a.example"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(response_reference_formula),
        cmocka_unit_test(canonical_table),
        cmocka_unit_test(a_terminal_no_op_block_and_reject),
        cmocka_unit_test(b_reject_is_error),
        cmocka_unit_test(undecodable_input_is_error_with_header_keys),
        cmocka_unit_test(url_host),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
