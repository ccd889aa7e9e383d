/* What F takes from a Delivery (f_delivery_record.c, pure): the default
 * render attempt of a served Delivery, and the one decision_audit record a
 * no_fill / error Delivery closes its loop with (00 decision 3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "f_delivery_record.h"
#include "f_keys.h"
#include "f_work.h"
#include "med/reason.h"

static Mediation__V1__Delivery delivery(const char *status, Mediation__V1__TraceContext *tc)
{
    mediation__v1__trace_context__init(tc);
    tc->anchor_hash = "anchor_trace";
    Mediation__V1__Delivery d = MEDIATION__V1__DELIVERY__INIT;
    d.trace = tc;
    d.status = (char *)status;
    d.response_reference = "resp_f_001";
    d.final_reason_code = strcmp(status, "served") == 0 ? "e_render_candidate_selected"
                                                        : "e_nf_no_candidate_input";
    d.trace_key = "tr_001";
    d.request_key = "req_001";
    d.attempt_key = "att_001";
    d.opportunity_key = "opp_001";
    d.delivered_at_unix_ms = 1771740000000LL;
    return d;
}

static void served_gets_the_default_attempt(void **state)
{
    (void)state;
    med_arena a;
    med_arena_init(&a);
    Mediation__V1__TraceContext tc;
    Mediation__V1__Delivery d = delivery("served", &tc);
    f_delivery_facts f;
    med_err err;
    assert_int_equal(f_delivery_facts_of(&a, &d, NULL, 5, &f, &err), MED_OK);
    char want[32];
    f_default_render_attempt_id("resp_f_001", "att_001", want, sizeof want);
    assert_non_null(f.default_render_attempt_id);
    assert_string_equal(f.default_render_attempt_id, want);
    assert_int_equal(strncmp(want, "ra_", 3), 0);
    assert_int_equal(strlen(want), 19);
    assert_int_equal(f.terminal, 0);
    assert_int_equal(f.delivered_at_ms, 1771740000000LL);
    assert_string_equal(f.anchor_hash, "anchor_trace");
    /* the header's anchor wins */
    assert_int_equal(f_delivery_facts_of(&a, &d, "anchor_hdr", 5, &f, &err), MED_OK);
    assert_string_equal(f.anchor_hash, "anchor_hdr");
    med_arena_free(&a);
}

static void no_fill_closes_its_loop_with_one_audit(void **state)
{
    (void)state;
    med_arena a;
    med_arena_init(&a);
    Mediation__V1__TraceContext tc;
    Mediation__V1__Delivery d = delivery("no_fill", &tc);
    f_delivery_facts f;
    med_err err;
    assert_int_equal(f_delivery_facts_of(&a, &d, NULL, 5, &f, &err), MED_OK);
    assert_int_equal(f.terminal, 1);
    assert_null(f.default_render_attempt_id);
    Mediation__V1__FToGArchiveRecordLite *r = f_delivery_terminal_record(&a, &f, "app_chat_main", NULL, 42);
    assert_non_null(r);
    assert_string_equal(r->record_type, "decision_audit");
    assert_string_equal(r->group_consistency_state, "consistent_non_billable");
    assert_string_equal(r->decision_reason_code, "e_nf_no_candidate_input");
    assert_string_equal(r->payload_ref->payload_key, "delivery_resp_f_001|e_nf_no_candidate_input");
    assert_string_equal(r->relation_keys->canonical_dedup_key,
                        "f_dedup_v1:none:app_chat_main|resp_f_001|delivery");
    /* recordKey = sha256hex(recordType|payloadKey|canonicalDedupKey|archiveContractVersion) */
    char *want = f_sha256(&a, "decision_audit|delivery_resp_f_001|e_nf_no_candidate_input|"
                              "f_dedup_v1:none:app_chat_main|resp_f_001|delivery|f_archive_contract_v1");
    assert_string_equal(r->record_key, want);
    assert_string_equal(r->decision_audit->decision_action, "drop");
    assert_string_equal(r->anchor_hash, "anchor_trace");
    assert_string_equal(r->version_anchors->archive_contract_version, "f_archive_contract_v1");
    assert_true(r->version_anchors->event_contract_version[0] != '\0');
    med_arena_free(&a);
}

static void unusable_delivery_is_refused(void **state)
{
    (void)state;
    med_arena a;
    med_arena_init(&a);
    Mediation__V1__TraceContext tc;
    Mediation__V1__Delivery d = delivery("served", &tc);
    d.response_reference = "";
    f_delivery_facts f;
    med_err err;
    assert_int_equal(f_delivery_facts_of(&a, &d, NULL, 5, &f, &err), MED_ERR_INVALID);
    d = delivery("maybe", &tc);
    assert_int_equal(f_delivery_facts_of(&a, &d, NULL, 5, &f, &err), MED_ERR_INVALID);
    med_arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(served_gets_the_default_attempt),
        cmocka_unit_test(no_fill_closes_its_loop_with_one_audit),
        cmocka_unit_test(unusable_delivery_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
