/* What the edge publishes to stage A: trace identity, the
 * OpportunityRequest protobuf and the NATS message headers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "edge_reply.h"
#include "edge_request.h"
#include "med/names.h"
#include "mediation/v1/opportunity.pb-c.h"

static const char k_parent[] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
static const char k_body[] =
    "{\"placementId\":\"plc_feed\",\"appContext\":{\"appId\":\"app_demo\"}}";

static void valid_traceparent_is_continued_as_a_child(void **state)
{
    (void)state;
    med_trace_headers h;
    med_err e;
    assert_int_equal(edge_trace_init(k_parent, "t1", "app_demo", "plc_feed", &h, &e), MED_OK);
    assert_int_equal(strlen(h.traceparent), 55);
    assert_memory_equal(h.traceparent, k_parent, 36);               /* version + trace id */
    assert_memory_not_equal(h.traceparent + 36, k_parent + 36, 16); /* new span */
    assert_int_equal(strncmp(h.trace_key, "tr_", 3), 0);
    assert_int_equal(strncmp(h.request_key, "req_", 4), 0);
    assert_string_equal(h.tenant, "t1");
    assert_string_equal(h.app, "app_demo");
    assert_string_equal(h.placement, "plc_feed");
    assert_string_equal(h.opportunity_key, "");
}

static void invalid_traceparent_starts_a_new_trace(void **state)
{
    (void)state;
    const char *bad[] = { NULL, "", "garbage",
                          "00-00000000000000000000000000000000-b7ad6b7169203331-01" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        med_trace_headers h1, h2;
        med_err e;
        assert_int_equal(edge_trace_init(bad[i], "t1", "a", "p", &h1, &e), MED_OK);
        assert_int_equal(edge_trace_init(bad[i], "t1", "a", "p", &h2, &e), MED_OK);
        assert_int_equal(strlen(h1.traceparent), 55);
        assert_memory_not_equal(h1.traceparent + 3, h2.traceparent + 3, 32);
        assert_string_not_equal(h1.request_key, h2.request_key);
    }
}

static void request_message_carries_body_trace_and_reply_inbox(void **state)
{
    (void)state;
    med_trace_headers h;
    med_err e;
    assert_int_equal(edge_trace_init(k_parent, "t1", "app_demo", "plc_feed", &h, &e), MED_OK);
    char reply_to[256];
    snprintf(reply_to, sizeof reply_to, "_INBOX.edge.0011.%s", h.request_key);
    /* The body buffer is not NUL-terminated in h2o: pass a prefix. */
    char buf[sizeof k_body + 8];
    memcpy(buf, k_body, sizeof k_body - 1);
    memcpy(buf + sizeof k_body - 1, "XXXXXXX", 8);
    edge_opportunity_in in = { .body = buf,
                               .body_len = sizeof k_body - 1,
                               .trace = &h,
                               .reply_to = reply_to,
                               .content_type = "application/json",
                               .environment = "ci",
                               .auth_method = "none",
                               .received_at_unix_ms = 1000,
                               .deadline_unix_ms = 3000 };
    natsMsg *m = NULL;
    assert_int_equal(edge_opportunity_msg(&in, &m, &e), MED_OK);
    assert_string_equal(natsMsg_GetSubject(m), MED_SUBJ_A_REQUEST);
    const char *v = NULL;
    assert_int_equal(natsMsgHeader_Get(m, MED_HDR_REPLY_TO, &v), NATS_OK);
    assert_string_equal(v, reply_to);
    assert_int_equal(natsMsgHeader_Get(m, MED_HDR_REQUEST_KEY, &v), NATS_OK);
    assert_string_equal(v, h.request_key);
    assert_int_equal(natsMsgHeader_Get(m, MED_HDR_TRACEPARENT, &v), NATS_OK);
    assert_string_equal(v, h.traceparent);
    assert_int_equal(natsMsgHeader_Get(m, MED_HDR_TENANT, &v), NATS_OK);
    assert_string_equal(v, "t1");
    assert_int_equal(natsMsgHeader_Get(m, MED_HDR_APP, &v), NATS_OK);
    assert_string_equal(v, "app_demo");
    assert_int_equal(natsMsgHeader_Get(m, MED_HDR_PLACEMENT, &v), NATS_OK);
    assert_string_equal(v, "plc_feed");

    Mediation__V1__OpportunityRequest *req = mediation__v1__opportunity_request__unpack(
        NULL, (size_t)natsMsg_GetDataLength(m), (const uint8_t *)natsMsg_GetData(m));
    assert_non_null(req);
    assert_string_equal(req->body_json, k_body);
    assert_string_equal(req->reply_to, reply_to);
    assert_string_equal(req->tenant_id, "t1");
    assert_string_equal(req->app_id, "app_demo");
    assert_string_equal(req->content_type, "application/json");
    assert_string_equal(req->edge_request_id, h.request_key);
    assert_string_equal(req->environment, "ci");
    assert_int_equal(req->received_at_unix_ms, 1000);
    assert_int_equal(req->deadline_unix_ms, 3000);
    assert_non_null(req->trace);
    assert_string_equal(req->trace->request_key, h.request_key);
    assert_string_equal(req->trace->trace_key, h.trace_key);
    assert_string_equal(req->trace->placement_id, "plc_feed");
    assert_int_equal(req->n_integrity_hints, 1);
    assert_string_equal(req->integrity_hints[0]->key, "authMethod");
    assert_string_equal(req->integrity_hints[0]->value, "\"none\"");
    assert_null(req->auth); /* no verified token: no auth context */
    mediation__v1__opportunity_request__free_unpacked(req, NULL);
    natsMsg_Destroy(m);

    char id[64];
    edge_msg_id("req_1", id, sizeof id);
    assert_string_equal(id, "edge:req_1");
}

static void reply_headers_kept_are_trace_ones(void **state)
{
    (void)state;
    assert_true(edge_reply_header_wanted("traceparent"));
    assert_true(edge_reply_header_wanted("Med-Trace-Key"));
    assert_true(edge_reply_header_wanted("med-opportunity-key"));
    assert_false(edge_reply_header_wanted("Med-Reply-To"));
    assert_false(edge_reply_header_wanted("Med-Fault"));
    assert_false(edge_reply_header_wanted("Nats-Msg-Id"));
    char p1[64], p2[64];
    assert_int_equal(edge_inbox_prefix(p1, sizeof p1), 0);
    assert_int_equal(edge_inbox_prefix(p2, sizeof p2), 0);
    assert_int_equal(strncmp(p1, "_INBOX.edge.", 12), 0);
    assert_string_not_equal(p1, p2);
}

static void reply_copy_keeps_key_payload_and_trace_headers(void **state)
{
    (void)state;
    natsMsg *m = NULL;
    assert_int_equal(natsMsg_Create(&m, "_INBOX.edge.ab.req_123", NULL, "\x01\x02", 2), NATS_OK);
    natsMsgHeader_Set(m, MED_HDR_TRACE_KEY, "tr_1");
    natsMsgHeader_Set(m, MED_HDR_REPLY_TO, "_INBOX.x");
    natsMsgHeader_Set(m, "Other", "y");
    edge_reply *r = edge_reply_from_msg(m, "_INBOX.edge.ab");
    assert_non_null(r);
    assert_string_equal(r->key, "req_123");
    assert_int_equal(r->len, 2);
    assert_memory_equal(r->data, "\x01\x02", 2);
    assert_int_equal(r->n_headers, 1);
    assert_string_equal(r->names[0], MED_HDR_TRACE_KEY);
    assert_string_equal(r->values[0], "tr_1");
    edge_reply_free(r);
    assert_null(edge_reply_from_msg(m, "_INBOX.edge.other"));
    natsMsg_Destroy(m);
}

int main(void)
{
    /* nats.c must be initialised before messages are built. */
    if (nats_Open(-1) != NATS_OK) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_traceparent_is_continued_as_a_child),
        cmocka_unit_test(invalid_traceparent_starts_a_new_trace),
        cmocka_unit_test(request_message_carries_body_trace_and_reply_inbox),
        cmocka_unit_test(reply_headers_kept_are_trace_ones),
        cmocka_unit_test(reply_copy_keeps_key_payload_and_trace_headers),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    nats_Close();
    return rc;
}
