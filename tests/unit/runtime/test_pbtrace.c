#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "med/pbtrace.h"
#include "med/reason.h"
#include "med/relay.h"
#include "mediation/v1/opportunity.pb-c.h"

static uint8_t *pack_request(size_t n_hops, size_t *len)
{
    Mediation__V1__TraceContext tc;
    mediation__v1__trace_context__init(&tc);
    tc.traceparent = (char *)"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    tc.trace_key = (char *)"tr_abcdef0123456789";
    tc.request_key = (char *)"req_0123456789abcdef";
    tc.tenant_id = (char *)"t1";
    tc.app_id = (char *)"app_demo";
    tc.placement_id = (char *)"plc_feed";
    Mediation__V1__StageHop h[2];
    Mediation__V1__StageHop *hp[2] = { &h[0], &h[1] };
    for (size_t i = 0; i < 2; i++) {
        mediation__v1__stage_hop__init(&h[i]);
        h[i].stage = (char *)(i ? "x2" : "x1");
    }
    tc.hops = hp;
    tc.n_hops = n_hops;
    Mediation__V1__OpportunityRequest req;
    mediation__v1__opportunity_request__init(&req);
    req.trace = &tc;
    *len = mediation__v1__opportunity_request__get_packed_size(&req);
    uint8_t *buf = malloc(*len);
    assert_non_null(buf);
    mediation__v1__opportunity_request__pack(&req, buf);
    return buf;
}

static Mediation__V1__OpportunitySeed *rewrap(size_t n_hops)
{
    size_t len;
    uint8_t *in = pack_request(n_hops, &len);
    med_hop hop = { .stage = "a", .instance = "a-1", .at_unix_ms = 42 };
    uint8_t *out = NULL;
    size_t out_len = 0;
    med_err err;
    assert_int_equal(med_pb_rewrap(&mediation__v1__opportunity_request__descriptor,
                                   &mediation__v1__opportunity_seed__descriptor, in, len, &hop,
                                   &out, &out_len, &err),
                     MED_OK);
    Mediation__V1__OpportunitySeed *s = mediation__v1__opportunity_seed__unpack(NULL, out_len, out);
    assert_non_null(s);
    free(in);
    free(out);
    return s;
}

static void rewrap_keeps_trace_and_appends_hop(void **state)
{
    (void)state;
    Mediation__V1__OpportunitySeed *s = rewrap(2);
    assert_non_null(s->trace);
    assert_string_equal(s->trace->traceparent, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    assert_string_equal(s->trace->trace_key, "tr_abcdef0123456789");
    assert_string_equal(s->trace->request_key, "req_0123456789abcdef");
    assert_string_equal(s->trace->tenant_id, "t1");
    assert_string_equal(s->trace->app_id, "app_demo");
    assert_string_equal(s->trace->placement_id, "plc_feed");
    assert_int_equal(s->trace->n_hops, 3);
    assert_string_equal(s->trace->hops[0]->stage, "x1");
    assert_string_equal(s->trace->hops[1]->stage, "x2");
    assert_string_equal(s->trace->hops[2]->stage, "a");
    assert_string_equal(s->trace->hops[2]->instance, "a-1");
    assert_int_equal(s->trace->hops[2]->at_unix_ms, 42);
    mediation__v1__opportunity_seed__free_unpacked(s, NULL);
}

static void rewrap_first_hop(void **state)
{
    (void)state;
    Mediation__V1__OpportunitySeed *s = rewrap(0);
    assert_int_equal(s->trace->n_hops, 1);
    assert_string_equal(s->trace->hops[0]->stage, "a");
    mediation__v1__opportunity_seed__free_unpacked(s, NULL);
}

static void rewrap_rejects_garbage_as_permanent(void **state)
{
    (void)state;
    const uint8_t junk[] = { 0x0a, 0x05, 0x01 };
    med_hop hop = { .stage = "a" };
    uint8_t *out = NULL;
    size_t out_len = 0;
    med_err err;
    med_err_clear(&err);
    med_rc rc = med_pb_rewrap(&mediation__v1__opportunity_request__descriptor,
                              &mediation__v1__opportunity_seed__descriptor, junk, sizeof junk,
                              &hop, &out, &out_len, &err);
    assert_int_equal(rc, MED_ERR_INVALID);
    assert_false(med_rc_is_retryable(rc));
    assert_string_equal(err.code, MED_R_INFRA_DECODE_FAILED);
    assert_null(out);
}

static void trace_of_message_without_trace_is_null(void **state)
{
    (void)state;
    Mediation__V1__StageHop h;
    mediation__v1__stage_hop__init(&h);
    assert_null(med_pb_trace_of(&h.base));
    assert_null(med_pb_trace_of(NULL));
}

static void msg_id_uses_request_key_or_stream_seq(void **state)
{
    (void)state;
    med_trace_headers h;
    memset(&h, 0, sizeof h);
    med_delivery_info info = { .stream_seq = 77 };
    med_relay_in in = { .headers = &h, .info = &info };
    char id[128];
    med_relay_msg_id(&in, "a.seed", id, sizeof id);
    assert_string_equal(id, "a.seed:seq-77");
    strcpy(h.request_key, "req_1234567890abcdef");
    med_relay_msg_id(&in, "a.seed", id, sizeof id);
    assert_string_equal(id, "a.seed:req_1234567890abcdef");
}

static void relay_out_owns_and_frees(void **state)
{
    (void)state;
    med_relay_out out = { .n = 0 };
    med_err err;
    for (int i = 0; i < MED_RELAY_MAX_OUT; i++)
        assert_int_equal(med_relay_out_add(&out, "s", "id", malloc(8), 8, 0, &err), MED_OK);
    /* One too many: refused, and the buffer it was handed is still freed. */
    assert_int_not_equal(med_relay_out_add(&out, "s", "id", malloc(8), 8, 0, &err), MED_OK);
    assert_int_equal(out.n, MED_RELAY_MAX_OUT);
    med_relay_out_free(&out);
    assert_int_equal(out.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rewrap_keeps_trace_and_appends_hop),
        cmocka_unit_test(rewrap_first_hop),
        cmocka_unit_test(rewrap_rejects_garbage_as_permanent),
        cmocka_unit_test(trace_of_message_without_trace_is_null),
        cmocka_unit_test(msg_id_uses_request_key_or_stream_seq),
        cmocka_unit_test(relay_out_owns_and_frees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
