/* StageAudit -> audit_records row mapping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "g_audit_row.h"
#include "med/reason.h"

static void audit_init(Mediation__V1__StageAudit *a, Mediation__V1__TraceContext *tc)
{
    mediation__v1__stage_audit__init(a);
    mediation__v1__trace_context__init(tc);
    tc->trace_key = "tr_0123456789abcdef";
    tc->request_key = "req_0123456789abcdef";
    tc->opportunity_key = "opp_0123456789abcdef";
    tc->tenant_id = "t_trace";
    tc->attempt_key = "att_0123456789abcdef";
    a->trace = tc;
    a->stage = "b";
    a->kind = "decision";
    a->primary_reason_code = "b_norm_accepted";
    a->decision_action = "allow";
    a->audit_id = "b.audit:opp_0123456789abcdef";
}

static void row_takes_header_tenant_and_trace_keys(void **state)
{
    (void)state;
    Mediation__V1__StageAudit a;
    Mediation__V1__TraceContext tc;
    audit_init(&a, &tc);
    med_trace_headers h = { 0 };
    strcpy(h.tenant, "t_header");
    strcpy(h.app, "app_demo");
    g_audit_row r;
    med_err e;
    assert_int_equal(g_audit_row_build(&a, &h, "ignored", &r, &e), MED_OK);
    assert_string_equal(r.tenant_id, "t_header");
    assert_string_equal(r.app_id, "app_demo");
    assert_string_equal(r.stage, "b");
    assert_string_equal(r.idempotency_key, "b.audit:opp_0123456789abcdef");
    assert_string_equal(r.opportunity_key, "opp_0123456789abcdef");
    assert_string_equal(r.attempt_key, "att_0123456789abcdef");
    json_error_t je;
    json_t *p = json_loads(r.payload, 0, &je);
    assert_non_null(p);
    assert_string_equal(json_string_value(json_object_get(p, "primaryReasonCode")),
                        "b_norm_accepted");
    json_decref(p);
    const uint8_t bytes[] = { 0x0a, 0xff, 0x10 };
    assert_int_equal(g_audit_row_set_bytes(&r, bytes, sizeof bytes, &e), MED_OK);
    assert_string_equal(r.payload_pb_hex, "0aff10");
    g_audit_row_free(&r);
}

static void row_falls_back_to_trace_tenant_and_msg_id(void **state)
{
    (void)state;
    Mediation__V1__StageAudit a;
    Mediation__V1__TraceContext tc;
    audit_init(&a, &tc);
    a.audit_id = "";
    med_trace_headers h = { 0 };
    g_audit_row r;
    med_err e;
    assert_int_equal(g_audit_row_build(&a, &h, "b.audit:x", &r, &e), MED_OK);
    assert_string_equal(r.tenant_id, "t_trace");
    assert_string_equal(r.idempotency_key, "b.audit:x");
    g_audit_row_free(&r);
}

static void row_without_tenant_or_id_is_refused(void **state)
{
    (void)state;
    Mediation__V1__StageAudit a;
    Mediation__V1__TraceContext tc;
    audit_init(&a, &tc);
    tc.tenant_id = "";
    med_trace_headers h = { 0 };
    g_audit_row r;
    med_err e;
    assert_int_equal(g_audit_row_build(&a, &h, "x", &r, &e), MED_ERR_INVALID);
    assert_string_equal(e.code, MED_R_G_APPEND_MISSING_REQUIRED);
    assert_null(r.payload);
    tc.tenant_id = "t";
    a.audit_id = "";
    assert_int_equal(g_audit_row_build(&a, &h, NULL, &r, &e), MED_ERR_INVALID);
    assert_string_equal(e.field, "auditId");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(row_takes_header_tenant_and_trace_keys),
        cmocka_unit_test(row_falls_back_to_trace_tenant_and_msg_id),
        cmocka_unit_test(row_without_tenant_or_id_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
