#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "e_passthrough.h"
#include "med/reason.h"
#include "mediation/v1/compose.pb-c.h"
#include "mediation/v1/delivery.pb-c.h"

static uint8_t *pack_compose(const char *request_key, size_t *len)
{
    Mediation__V1__TraceContext tc;
    mediation__v1__trace_context__init(&tc);
    tc.trace_key = (char *)"tr_0123456789abcdef";
    tc.request_key = (char *)request_key;
    tc.tenant_id = (char *)"t1";
    Mediation__V1__StageHop h1;
    mediation__v1__stage_hop__init(&h1);
    h1.stage = (char *)"d";
    Mediation__V1__StageHop *hops[] = { &h1 };
    tc.hops = hops;
    tc.n_hops = 1;
    Mediation__V1__ComposeInput ci;
    mediation__v1__compose_input__init(&ci);
    ci.trace = &tc;
    *len = mediation__v1__compose_input__get_packed_size(&ci);
    uint8_t *buf = malloc(*len);
    assert_non_null(buf);
    mediation__v1__compose_input__pack(&ci, buf);
    return buf;
}

static Mediation__V1__Delivery *build(const char *request_key)
{
    size_t len;
    uint8_t *in = pack_compose(request_key, &len);
    med_hop hop = { .stage = "e", .instance = "e-1", .at_unix_ms = 1700000000000 };
    uint8_t *out = NULL;
    size_t out_len = 0;
    med_err err;
    assert_int_equal(e_delivery_build_passthrough(in, len, &hop, &out, &out_len, &err), MED_OK);
    Mediation__V1__Delivery *d = mediation__v1__delivery__unpack(NULL, out_len, out);
    assert_non_null(d);
    free(in);
    free(out);
    return d;
}

static void delivery_carries_trace_and_hop(void **state)
{
    (void)state;
    Mediation__V1__Delivery *d = build("req_aaaaaaaaaaaaaaaa");
    assert_string_equal(d->status, "no_fill");
    assert_string_equal(d->final_reason_code, MED_R_E_NF_NO_CANDIDATE);
    assert_non_null(d->trace);
    assert_string_equal(d->trace->trace_key, "tr_0123456789abcdef");
    assert_string_equal(d->trace->tenant_id, "t1");
    assert_int_equal(d->trace->n_hops, 2);
    assert_string_equal(d->trace->hops[0]->stage, "d");
    assert_string_equal(d->trace->hops[1]->stage, "e");
    assert_string_equal(d->trace->hops[1]->instance, "e-1");
    assert_int_equal(d->trace->hops[1]->at_unix_ms, 1700000000000);
    mediation__v1__delivery__free_unpacked(d, NULL);
}

static void response_reference_is_stable_per_request(void **state)
{
    (void)state;
    Mediation__V1__Delivery *a = build("req_aaaaaaaaaaaaaaaa");
    Mediation__V1__Delivery *b = build("req_aaaaaaaaaaaaaaaa");
    Mediation__V1__Delivery *c = build("req_bbbbbbbbbbbbbbbb");
    assert_string_equal(a->response_reference, b->response_reference);
    assert_string_not_equal(a->response_reference, c->response_reference);
    assert_int_equal(strncmp(a->response_reference, "rsp_", 4), 0);
    assert_int_equal(strlen(a->response_reference), 4 + 16);
    mediation__v1__delivery__free_unpacked(a, NULL);
    mediation__v1__delivery__free_unpacked(b, NULL);
    mediation__v1__delivery__free_unpacked(c, NULL);
}

static void garbage_is_a_permanent_failure(void **state)
{
    (void)state;
    const uint8_t junk[] = { 0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f };
    med_hop hop = { .stage = "e" };
    uint8_t *out = NULL;
    size_t out_len = 0;
    med_err err;
    med_err_clear(&err);
    assert_int_equal(e_delivery_build_passthrough(junk, sizeof junk, &hop, &out, &out_len, &err),
                     MED_ERR_INVALID);
    assert_string_equal(err.code, MED_R_INFRA_DECODE_FAILED);
    assert_null(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(delivery_carries_trace_and_hop),
        cmocka_unit_test(response_reference_is_stable_per_request),
        cmocka_unit_test(garbage_is_a_permanent_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
