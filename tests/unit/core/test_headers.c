/* Med-* / traceparent propagation between NATS messages and the protobuf
 * TraceContext. natsMsg_Create needs no server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "mediation/v1/common.pb-c.h"
#include "med/headers.h"
#include "med/names.h"
#include "med/reason.h"

typedef struct hdr_case {
    const char *name;
    const char *value;
} hdr_case;

static const hdr_case all_headers[] = {
    { MED_HDR_TRACEPARENT, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" },
    { MED_HDR_TRACE_KEY, "tr_0123456789abcdef" },
    { MED_HDR_REQUEST_KEY, "req_fedcba9876543210" },
    { MED_HDR_OPPORTUNITY_KEY, "opp_00112233445566ff" },
    { MED_HDR_TENANT, "t_acme" },
    { MED_HDR_APP, "app_demo" },
    { MED_HDR_PLACEMENT, "plc_feed" },
    { MED_HDR_ANCHOR_HASH, "anc_aabbccddeeff0011" },
};
#define N_HEADERS (sizeof all_headers / sizeof all_headers[0])

static natsMsg *new_msg(void)
{
    natsMsg *m = NULL;
    assert_int_equal(natsMsg_Create(&m, "med.test.v1", NULL, "x", 1), NATS_OK);
    return m;
}

static natsMsg *msg_with_all_headers(void)
{
    natsMsg *m = new_msg();
    for (size_t i = 0; i < N_HEADERS; i++)
        assert_int_equal(natsMsgHeader_Set(m, all_headers[i].name, all_headers[i].value), NATS_OK);
    /* A per-hop header that must not travel. */
    assert_int_equal(natsMsgHeader_Set(m, MED_HDR_REPLY_TO, "_INBOX.abc"), NATS_OK);
    return m;
}

static void test_copy_all_eight(void **state)
{
    (void)state;
    natsMsg *in = msg_with_all_headers();
    natsMsg *out = new_msg();
    med_err err = { 0 };
    assert_int_equal(med_headers_copy(in, out, &err), MED_OK);
    for (size_t i = 0; i < N_HEADERS; i++) {
        const char *v = med_header_get(out, all_headers[i].name);
        assert_non_null(v);
        assert_string_equal(v, all_headers[i].value);
        assert_string_equal(v, med_header_get(in, all_headers[i].name));
    }
    assert_null(med_header_get(out, MED_HDR_REPLY_TO));
    natsMsg_Destroy(in);
    natsMsg_Destroy(out);
}

static void test_read_write_struct(void **state)
{
    (void)state;
    natsMsg *in = msg_with_all_headers();
    med_trace_headers h;
    memset(&h, 'x', sizeof h);
    med_headers_read(in, &h);
    assert_string_equal(h.traceparent, all_headers[0].value);
    assert_string_equal(h.trace_key, all_headers[1].value);
    assert_string_equal(h.request_key, all_headers[2].value);
    assert_string_equal(h.opportunity_key, all_headers[3].value);
    assert_string_equal(h.tenant, all_headers[4].value);
    assert_string_equal(h.app, all_headers[5].value);
    assert_string_equal(h.placement, all_headers[6].value);
    assert_string_equal(h.anchor_hash, all_headers[7].value);

    natsMsg *out = new_msg();
    assert_int_equal(med_headers_write(out, &h, NULL), MED_OK);
    for (size_t i = 0; i < N_HEADERS; i++)
        assert_string_equal(med_header_get(out, all_headers[i].name), all_headers[i].value);
    natsMsg_Destroy(in);
    natsMsg_Destroy(out);
}

static void test_missing_headers_are_empty(void **state)
{
    (void)state;
    natsMsg *in = new_msg();
    assert_int_equal(natsMsgHeader_Set(in, MED_HDR_TENANT, "t_only"), NATS_OK);
    med_trace_headers h;
    med_headers_read(in, &h);
    assert_string_equal(h.tenant, "t_only");
    assert_string_equal(h.traceparent, "");
    assert_string_equal(h.anchor_hash, "");
    assert_null(med_header_get(in, MED_HDR_TRACE_KEY));

    /* Empty fields are not written as empty headers. */
    natsMsg *out = new_msg();
    assert_int_equal(med_headers_write(out, &h, NULL), MED_OK);
    assert_string_equal(med_header_get(out, MED_HDR_TENANT), "t_only");
    assert_null(med_header_get(out, MED_HDR_TRACEPARENT));

    /* A message without any header block at all. */
    natsMsg *bare = new_msg();
    med_headers_read(bare, &h);
    assert_string_equal(h.tenant, "");
    assert_int_equal(med_headers_copy(bare, out, NULL), MED_OK);
    natsMsg_Destroy(in);
    natsMsg_Destroy(out);
    natsMsg_Destroy(bare);
}

static void test_long_value_copied_unchanged(void **state)
{
    (void)state;
    char longv[MED_HDR_VALUE_MAX + 40];
    memset(longv, 'k', sizeof longv - 1);
    longv[sizeof longv - 1] = '\0';
    natsMsg *in = new_msg();
    natsMsg *out = new_msg();
    assert_int_equal(natsMsgHeader_Set(in, MED_HDR_ANCHOR_HASH, longv), NATS_OK);
    assert_int_equal(med_headers_copy(in, out, NULL), MED_OK);
    assert_string_equal(med_header_get(out, MED_HDR_ANCHOR_HASH), longv);
    /* The fixed-size struct drops it rather than keep a cut, wrong value. */
    med_trace_headers h;
    med_headers_read(in, &h);
    assert_string_equal(h.anchor_hash, "");
    natsMsg_Destroy(in);
    natsMsg_Destroy(out);
}

static void test_write_rejects_header_injection(void **state)
{
    (void)state;
    med_trace_headers h;
    memset(&h, 0, sizeof h);
    strcpy(h.tenant, "t1\r\nMed-Tenant: t2");
    natsMsg *out = new_msg();
    med_err err = { 0 };
    assert_int_equal(med_headers_write(out, &h, &err), MED_ERR_INVALID);
    assert_string_equal(err.field, MED_HDR_TENANT);
    assert_string_equal(err.code, MED_R_INFRA_ENCODE_FAILED);
    assert_null(med_header_get(out, MED_HDR_TENANT));
    natsMsg_Destroy(out);
}

static void test_trace_ctx_mirror(void **state)
{
    (void)state;
    natsMsg *in = msg_with_all_headers();
    med_trace_headers h;
    med_headers_read(in, &h);

    Mediation__V1__TraceContext tc;
    mediation__v1__trace_context__init(&tc);
    med_headers_to_trace_ctx(&h, &tc);
    assert_string_equal(tc.traceparent, all_headers[0].value);
    assert_string_equal(tc.trace_key, all_headers[1].value);
    assert_string_equal(tc.request_key, all_headers[2].value);
    assert_string_equal(tc.opportunity_key, all_headers[3].value);
    assert_string_equal(tc.tenant_id, all_headers[4].value);
    assert_string_equal(tc.app_id, all_headers[5].value);
    assert_string_equal(tc.placement_id, all_headers[6].value);
    assert_string_equal(tc.anchor_hash, all_headers[7].value);

    /* Through the wire format and back into headers. */
    size_t len = mediation__v1__trace_context__get_packed_size(&tc);
    uint8_t buf[1024];
    assert_true(len <= sizeof buf);
    mediation__v1__trace_context__pack(&tc, buf);
    Mediation__V1__TraceContext *decoded = mediation__v1__trace_context__unpack(NULL, len, buf);
    assert_non_null(decoded);
    med_trace_headers back;
    med_headers_from_trace_ctx(decoded, &back);
    mediation__v1__trace_context__free_unpacked(decoded, NULL);
    assert_string_equal(back.traceparent, h.traceparent);
    assert_string_equal(back.anchor_hash, h.anchor_hash);
    natsMsg *out = new_msg();
    assert_int_equal(med_headers_write(out, &back, NULL), MED_OK);
    for (size_t i = 0; i < N_HEADERS; i++)
        assert_string_equal(med_header_get(out, all_headers[i].name), all_headers[i].value);
    natsMsg_Destroy(in);
    natsMsg_Destroy(out);
}

static void test_from_trace_ctx_null_fields(void **state)
{
    (void)state;
    Mediation__V1__TraceContext tc;
    mediation__v1__trace_context__init(&tc);
    tc.tenant_id = (char *)"t9";
    tc.app_id = NULL;
    med_trace_headers h;
    memset(&h, 'x', sizeof h);
    med_headers_from_trace_ctx(&tc, &h);
    assert_string_equal(h.tenant, "t9");
    assert_string_equal(h.app, "");
    assert_string_equal(h.traceparent, "");
}

/* natsMsg_Destroy hands messages to the library's collector, which only
 * exists between nats_Open and nats_Close. */
static int nats_setup(void **state)
{
    (void)state;
    return nats_Open(-1) == NATS_OK ? 0 : -1;
}

static int nats_teardown(void **state)
{
    (void)state;
    return nats_CloseAndWait(0) == NATS_OK ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copy_all_eight),
        cmocka_unit_test(test_read_write_struct),
        cmocka_unit_test(test_missing_headers_are_empty),
        cmocka_unit_test(test_long_value_copied_unchanged),
        cmocka_unit_test(test_write_rejects_header_injection),
        cmocka_unit_test(test_trace_ctx_mirror),
        cmocka_unit_test(test_from_trace_ctx_null_fields),
    };
    return cmocka_run_group_tests(tests, nats_setup, nats_teardown);
}
