/* Delivery protobuf -> the JSON the SDK receives, A's reject reply -> the
 * 4xx/503 answer, and the edge's own deadline Delivery. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "edge_delivery.h"
#include "med/names.h"
#include "med/pbjson.h"
#include "med/reason.h"
#include "mediation/v1/common.pb-c.h"

static json_t *parse(const char *body, size_t len)
{
    json_error_t jerr;
    json_t *root = json_loadb(body, len, 0, &jerr);
    if (!root) fail_msg("not JSON: %s", jerr.text);
    return root;
}

static const char *str_at(const json_t *obj, const char *key)
{
    const char *v = json_string_value(json_object_get(obj, key));
    if (!v) fail_msg("no string member %s", key);
    return v;
}

typedef struct served_fixture {
    Mediation__V1__TraceContext tc;
    Mediation__V1__RenderTtlLite ttl;
    Mediation__V1__RenderPlanLite plan;
    Mediation__V1__WarningLite warning;
    Mediation__V1__WarningLite *warnings[1];
    Mediation__V1__Delivery__ExtensionsEntry ext[2];
    Mediation__V1__Delivery__ExtensionsEntry *exts[2];
    Mediation__V1__Delivery d;
} served_fixture;

static void served_init(served_fixture *f)
{
    mediation__v1__trace_context__init(&f->tc);
    f->tc.trace_key = (char *)"tr_0123456789abcdef";
    f->tc.request_key = (char *)"req_0123456789abcdef";
    f->tc.opportunity_key = (char *)"opp_1";
    f->tc.traceparent = (char *)"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    mediation__v1__render_ttl_lite__init(&f->ttl);
    f->ttl.render_ttl_ms = 7000;
    f->ttl.expire_at_unix_ms = 1771740007000LL; /* 2026-02-22T06:00:07.000Z */
    mediation__v1__render_plan_lite__init(&f->plan);
    f->plan.render_mode = (char *)"native_card";
    f->plan.ttl = &f->ttl;
    mediation__v1__warning_lite__init(&f->warning);
    f->warning.reason_code = (char *)"e_compose_missing_device_capabilities";
    f->warnings[0] = &f->warning;
    for (int i = 0; i < 2; i++) {
        mediation__v1__delivery__extensions_entry__init(&f->ext[i]);
        f->exts[i] = &f->ext[i];
    }
    f->ext[0].key = (char *)"partner";
    f->ext[0].value = (char *)"{\"tier\":2}";
    f->ext[1].key = (char *)"note";
    f->ext[1].value = (char *)"not json";
    mediation__v1__delivery__init(&f->d);
    f->d.trace = &f->tc;
    f->d.status = (char *)"served";
    f->d.response_reference = (char *)"rsp_0011223344556677";
    f->d.final_reason_code = (char *)"e_render_candidate_selected";
    f->d.render_plan_lite = &f->plan;
    f->d.n_warnings = 1;
    f->d.warnings = f->warnings;
    f->d.n_extensions = 2;
    f->d.extensions = f->exts;
    f->d.delivered_at_unix_ms = 1771740000000LL;
}

static void served_delivery_maps_to_camel_case_json(void **state)
{
    (void)state;
    served_fixture f;
    served_init(&f);
    char *body = NULL;
    size_t len = 0;
    med_err e;
    assert_int_equal(edge_delivery_to_json(&f.d, NULL, &body, &len, &e), MED_OK);
    json_t *j = parse(body, len);
    assert_string_equal(str_at(j, "status"), "served");
    assert_string_equal(str_at(j, "responseReference"), "rsp_0011223344556677");
    assert_string_equal(str_at(j, "finalReasonCode"), "e_render_candidate_selected");
    /* Keys of the trace surface at the top; the trace itself does not. */
    assert_string_equal(str_at(j, "traceKey"), "tr_0123456789abcdef");
    assert_string_equal(str_at(j, "requestKey"), "req_0123456789abcdef");
    assert_string_equal(str_at(j, "opportunityKey"), "opp_1");
    assert_null(json_object_get(j, "trace"));
    assert_null(strstr(body, "traceparent"));
    /* Nested messages, times, arrays and maps. */
    json_t *plan = json_object_get(j, "renderPlanLite");
    assert_string_equal(str_at(plan, "renderMode"), "native_card");
    json_t *ttl = json_object_get(plan, "ttl");
    assert_int_equal(json_integer_value(json_object_get(ttl, "renderTtlMs")), 7000);
    assert_string_equal(str_at(ttl, "expireAt"), "2026-02-22T06:00:07.000Z");
    assert_string_equal(str_at(j, "deliveredAt"), "2026-02-22T06:00:00.000Z");
    assert_null(json_object_get(plan, "fallbackReasonCode")); /* unset oneof */
    json_t *w = json_object_get(j, "warnings");
    assert_int_equal(json_array_size(w), 1);
    assert_string_equal(str_at(json_array_get(w, 0), "reasonCode"),
                        "e_compose_missing_device_capabilities");
    json_t *ext = json_object_get(j, "extensions");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(ext, "partner"), "tier")),
                     2);
    assert_string_equal(str_at(ext, "note"), "not json");
    /* Unset sub-messages are left out; proto3 scalars are always there. */
    assert_null(json_object_get(j, "stateTransitionLite"));
    assert_true(json_is_false(json_object_get(j, "edgeDeadlineError")));
    json_decref(j);
    free(body);
}

static void keys_come_from_the_edge_when_the_trace_lacks_them(void **state)
{
    (void)state;
    Mediation__V1__Delivery d;
    mediation__v1__delivery__init(&d);
    d.status = (char *)"no_fill";
    d.request_key = (char *)"req_from_e";
    edge_trace_keys keys = { "tr_edge", "req_edge", NULL };
    char *body = NULL;
    size_t len = 0;
    med_err e;
    assert_int_equal(edge_delivery_to_json(&d, &keys, &body, &len, &e), MED_OK);
    json_t *j = parse(body, len);
    assert_string_equal(str_at(j, "traceKey"), "tr_edge");
    assert_string_equal(str_at(j, "requestKey"), "req_from_e"); /* E's own value wins */
    json_decref(j);
    free(body);
}

static void reply_bytes_of_a_delivery_answer_200(void **state)
{
    (void)state;
    served_fixture f;
    served_init(&f);
    size_t n = mediation__v1__delivery__get_packed_size(&f.d);
    uint8_t *buf = malloc(n);
    assert_non_null(buf);
    mediation__v1__delivery__pack(&f.d, buf);
    edge_answer a;
    med_err e;
    assert_int_equal(edge_reply_answer(buf, n, NULL, NULL, &a, &e), MED_OK);
    assert_int_equal(a.status, 200);
    assert_int_equal(a.retry_after_sec, 0);
    json_t *j = parse(a.body, a.len);
    assert_string_equal(str_at(j, "status"), "served");
    json_decref(j);
    edge_answer_free(&a);
    /* A Delivery never decodes as a reject that carries an HTTP status. */
    Mediation__V1__OpportunityRejectReply *rr =
        mediation__v1__opportunity_reject_reply__unpack(NULL, n, buf);
    assert_true(rr == NULL || rr->http_status == 0);
    if (rr) mediation__v1__opportunity_reject_reply__free_unpacked(rr, NULL);
    free(buf);
}

static void pack_reject(int status, int retry_after, const char *field, uint8_t **out, size_t *n)
{
    Mediation__V1__ErrorBodyLite err;
    mediation__v1__error_body_lite__init(&err);
    err.code = (char *)"a_trg_missing_required_field";
    err.message = (char *)"triggerContext.triggerAt is required";
    if (field) {
        err.field_opt_case = MEDIATION__V1__ERROR_BODY_LITE__FIELD_OPT_FIELD;
        err.field = (char *)field;
    }
    Mediation__V1__OpportunityRejectReply rr;
    mediation__v1__opportunity_reject_reply__init(&rr);
    rr.http_status = status;
    rr.error = &err;
    rr.retry_after_sec = retry_after;
    *n = mediation__v1__opportunity_reject_reply__get_packed_size(&rr);
    *out = malloc(*n);
    assert_non_null(*out);
    mediation__v1__opportunity_reject_reply__pack(&rr, *out);
}

static void reject_from_a_answers_its_status_and_error_body(void **state)
{
    (void)state;
    uint8_t *buf = NULL;
    size_t n = 0;
    pack_reject(400, 0, "triggerContext.triggerAt", &buf, &n);
    edge_answer a;
    med_err e;
    assert_int_equal(edge_reply_answer(buf, n, NULL, NULL, &a, &e), MED_OK);
    assert_int_equal(a.status, 400);
    json_t *j = parse(a.body, a.len);
    json_t *err = json_object_get(j, "error");
    assert_string_equal(str_at(err, "code"), "a_trg_missing_required_field");
    assert_string_equal(str_at(err, "field"), "triggerContext.triggerAt");
    json_decref(j);
    edge_answer_free(&a);
    free(buf);

    pack_reject(503, 5, NULL, &buf, &n);
    assert_int_equal(edge_reply_answer(buf, n, NULL, NULL, &a, &e), MED_OK);
    assert_int_equal(a.status, 503);
    assert_int_equal(a.retry_after_sec, 5);
    j = parse(a.body, a.len);
    assert_true(json_is_null(json_object_get(json_object_get(j, "error"), "field")));
    json_decref(j);
    edge_answer_free(&a);
    free(buf);
}

static void reply_kind_header_decides_the_reading(void **state)
{
    (void)state;
    uint8_t *buf = NULL;
    size_t n = 0;
    pack_reject(400, 0, "placementId", &buf, &n);
    edge_answer a;
    med_err e;
    /* Marked reject: read as one. */
    assert_int_equal(edge_reply_answer(buf, n, MED_REPLY_KIND_REJECT, NULL, &a, &e), MED_OK);
    assert_int_equal(a.status, 400);
    edge_answer_free(&a);
    /* Marked delivery: never read as a reject; these bytes are no
     * Delivery, so the reply is unusable rather than a 400. */
    assert_int_equal(edge_reply_answer(buf, n, MED_REPLY_KIND_DELIVERY, NULL, &a, &e),
                     MED_ERR_INVALID);
    assert_int_not_equal(a.status, 400);
    free(buf);
    /* A payload that is no reject but is marked as one is refused. */
    const uint8_t empty[] = { 0x0a, 0x00 };
    assert_int_equal(edge_reply_answer(empty, sizeof empty, MED_REPLY_KIND_REJECT, NULL, &a, &e),
                     MED_ERR_INVALID);
    assert_string_equal(e.code, MED_R_INFRA_DECODE_FAILED);
}

static void garbage_reply_is_a_decode_failure(void **state)
{
    (void)state;
    const uint8_t junk[] = { 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01 };
    edge_answer a;
    med_err e;
    assert_int_equal(edge_reply_answer(junk, sizeof junk, NULL, NULL, &a, &e), MED_ERR_INVALID);
    assert_string_equal(e.code, MED_R_INFRA_DECODE_FAILED);
    assert_null(a.body);
}

static void deadline_delivery_is_an_error_with_a_fresh_reference(void **state)
{
    (void)state;
    edge_trace_keys keys = { "tr_aaaaaaaaaaaaaaaa", "req_bbbbbbbbbbbbbbbb", NULL };
    char *b1 = NULL, *b2 = NULL;
    size_t l1 = 0, l2 = 0;
    med_err e;
    assert_int_equal(edge_deadline_delivery_json(&keys, &b1, &l1, &e), MED_OK);
    assert_int_equal(edge_deadline_delivery_json(&keys, &b2, &l2, &e), MED_OK);
    json_t *j1 = parse(b1, l1), *j2 = parse(b2, l2);
    assert_string_equal(str_at(j1, "status"), "error");
    assert_string_equal(str_at(j1, "finalReasonCode"), MED_R_E_ER_EDGE_DEADLINE);
    assert_string_equal(str_at(j1, "finalReasonCode"), "e_er_edge_deadline");
    assert_true(json_is_true(json_object_get(j1, "edgeDeadlineError")));
    assert_string_equal(str_at(j1, "traceKey"), "tr_aaaaaaaaaaaaaaaa");
    assert_string_equal(str_at(j1, "requestKey"), "req_bbbbbbbbbbbbbbbb");
    const char *r1 = str_at(j1, "responseReference"), *r2 = str_at(j2, "responseReference");
    assert_int_equal(strncmp(r1, "rsp_", 4), 0);
    assert_true(strlen(r1) > 4);
    assert_string_not_equal(r1, r2);
    json_decref(j1);
    json_decref(j2);
    free(b1);
    free(b2);
}

static void or_na_oneofs_read_na_when_unset(void **state)
{
    (void)state;
    Mediation__V1__PolicySnapshotLite p;
    mediation__v1__policy_snapshot_lite__init(&p);
    p.policy_snapshot_id = (char *)"ps_1";
    json_t *j = med_pb_to_json(&p.base, NULL);
    assert_non_null(j);
    assert_string_equal(str_at(j, "policySnapshotId"), "ps_1");
    assert_string_equal(str_at(j, "expireAtOrNA"), "NA");
    assert_true(json_is_null(json_object_get(j, "effectiveAt"))); /* 0 ms = unset time */
    json_decref(j);
    p.expire_at_or_na_unix_ms_opt_case =
        MEDIATION__V1__POLICY_SNAPSHOT_LITE__EXPIRE_AT_OR_NA_UNIX_MS_OPT_EXPIRE_AT_OR_NA_UNIX_MS;
    p.expire_at_or_na_unix_ms = 1771740007000LL;
    j = med_pb_to_json(&p.base, NULL);
    assert_string_equal(str_at(j, "expireAtOrNA"), "2026-02-22T06:00:07.000Z");
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(served_delivery_maps_to_camel_case_json),
        cmocka_unit_test(keys_come_from_the_edge_when_the_trace_lacks_them),
        cmocka_unit_test(reply_bytes_of_a_delivery_answer_200),
        cmocka_unit_test(reject_from_a_answers_its_status_and_error_body),
        cmocka_unit_test(reply_kind_header_decides_the_reading),
        cmocka_unit_test(garbage_reply_is_a_decode_failure),
        cmocka_unit_test(deadline_delivery_is_an_error_with_a_fresh_reference),
        cmocka_unit_test(or_na_oneofs_read_na_when_unset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
