/* The EventBatch the edge hands to stage F (F.1): the raw body byte for
 * byte, tenant and app from the caller, reply inbox, times, request id,
 * auth, and the NATS headers (trace, Med-Tenant, Med-App, Med-Reply-To). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "edge_events_msg.h"
#include "med/names.h"
#include "mediation/v1/events.pb-c.h"

/* Whitespace and key order as the SDK sent them: F hashes what it gets. */
static const char k_body[] = "{ \"batchId\":\"b1\",  \"appId\":\"app_demo\",\"events\":[] }";

static edge_events_in input(const med_trace_headers *h, const med_auth_context *auth)
{
    edge_events_in in = {
        .body = k_body,
        .body_len = sizeof k_body - 1,
        .trace = h,
        .reply_to = "_INBOX.edge.0123456789abcdef.evb_1",
        .content_type = "application/json",
        .edge_request_id = "evb_1",
        .auth = auth,
        .received_at_unix_ms = 1000,
        .deadline_unix_ms = 6000,
    };
    return in;
}

static med_trace_headers trace(void)
{
    med_trace_headers h;
    memset(&h, 0, sizeof h);
    snprintf(h.traceparent, sizeof h.traceparent,
             "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    snprintf(h.trace_key, sizeof h.trace_key, "tr_1");
    snprintf(h.tenant, sizeof h.tenant, "t1");
    snprintf(h.app, sizeof h.app, "app_demo");
    return h;
}

static void batch_carries_the_raw_body_and_the_callers_identity(void **state)
{
    (void)state;
    med_trace_headers h = trace();
    med_auth_context auth;
    memset(&auth, 0, sizeof auth);
    snprintf(auth.actor_id, sizeof auth.actor_id, "sdk_key_1");
    snprintf(auth.tenant, sizeof auth.tenant, "t1");
    snprintf(auth.principal_role, sizeof auth.principal_role, "sdk");
    edge_events_in in = input(&h, &auth);
    uint8_t *buf = NULL;
    size_t len = 0;
    med_err e;
    assert_int_equal(edge_events_pack(&in, &buf, &len, &e), MED_OK);
    Mediation__V1__EventBatch *b = mediation__v1__event_batch__unpack(NULL, len, buf);
    free(buf);
    assert_non_null(b);
    assert_int_equal(b->body_case, MEDIATION__V1__EVENT_BATCH__BODY_BODY_JSON);
    assert_string_equal(b->body_json, k_body);
    assert_string_equal(b->tenant_id, "t1");
    assert_string_equal(b->app_id, "app_demo");
    assert_string_equal(b->reply_to, in.reply_to);
    assert_string_equal(b->edge_request_id, "evb_1");
    assert_string_equal(b->content_type, "application/json");
    assert_int_equal(b->received_at_unix_ms, 1000);
    assert_int_equal(b->deadline_unix_ms, 6000);
    assert_non_null(b->auth);
    assert_string_equal(b->auth->actor_id, "sdk_key_1");
    assert_string_equal(b->trace->trace_key, "tr_1");
    assert_string_equal(b->trace->app_id, "app_demo");
    mediation__v1__event_batch__free_unpacked(b, NULL);
}

static void message_headers_route_the_ack_back(void **state)
{
    (void)state;
    med_trace_headers h = trace();
    edge_events_in in = input(&h, NULL);
    natsMsg *m = NULL;
    med_err e;
    assert_int_equal(edge_events_msg(&in, &m, &e), MED_OK);
    assert_string_equal(natsMsg_GetSubject(m), MED_SUBJ_F_EVENTS);
    const char *v = NULL;
    assert_int_equal(natsMsgHeader_Get(m, MED_HDR_REPLY_TO, &v), NATS_OK);
    assert_string_equal(v, in.reply_to);
    assert_int_equal(natsMsgHeader_Get(m, MED_HDR_TENANT, &v), NATS_OK);
    assert_string_equal(v, "t1");
    assert_int_equal(natsMsgHeader_Get(m, MED_HDR_APP, &v), NATS_OK);
    assert_string_equal(v, "app_demo");
    assert_int_equal(natsMsgHeader_Get(m, MED_HDR_TRACEPARENT, &v), NATS_OK);
    /* A batch is not an opportunity's request. */
    assert_int_not_equal(natsMsgHeader_Get(m, MED_HDR_REQUEST_KEY, &v), NATS_OK);
    natsMsg_Destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(batch_carries_the_raw_body_and_the_callers_identity),
        cmocka_unit_test(message_headers_route_the_ack_back),
    };
    /* natsMsg needs the library's globals. */
    if (nats_Open(-1) != NATS_OK) return 1;
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    nats_Close();
    return failed;
}
