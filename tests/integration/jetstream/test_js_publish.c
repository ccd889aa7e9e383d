/* Publishing against a real nats-server: Nats-Msg-Id dedup (sync and
 * async), core publish, trace header inheritance, connect failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "jst.h"
#include "med/headers.h"
#include "med/names.h"
#include "med/reason.h"

static natsMsg *new_msg(const char *subject, const char *text)
{
    natsMsg *m = NULL;
    med_err err;
    med_err_clear(&err);
    assert_int_equal(med_js_msg_new(subject, text, (int)strlen(text), NULL, &m, &err), MED_OK);
    return m;
}

static void test_duplicate_msg_id_dropped_and_reported(void **state)
{
    (void)state;
    med_js *js = jst_connect();
    char u[16], subject[64], msg_id[64];
    jst_unique(u, sizeof u);
    snprintf(subject, sizeof subject, "med.a.jstest%s.v1", u);
    snprintf(msg_id, sizeof msg_id, "req:%s", u);
    med_err err;
    med_err_clear(&err);
    const char *published = "med_js_published_total{stream=\"MED_CHAIN\"}";
    const char *dropped = "med_js_duplicates_total{stream=\"MED_CHAIN\"}";
    uint64_t published0 = jst_metric(published), dropped0 = jst_metric(dropped);

    natsMsg *m = new_msg(subject, "first");
    int dup = -1;
    assert_int_equal(med_js_publish(js, m, msg_id, &dup, &err), MED_OK);
    assert_int_equal(dup, 0);
    natsMsg_Destroy(m);

    m = new_msg(subject, "second, same id");
    dup = -1;
    assert_int_equal(med_js_publish(js, m, msg_id, &dup, &err), MED_OK);
    assert_int_equal(dup, 1);
    natsMsg_Destroy(m);

    m = new_msg(subject, "other id");
    char other_id[80];
    snprintf(other_id, sizeof other_id, "%s:other", msg_id);
    assert_int_equal(med_js_publish(js, m, other_id, &dup, &err), MED_OK);
    assert_int_equal(dup, 0);
    natsMsg_Destroy(m);

    /* without an id there is no dedup: NULL duplicate pointer is fine */
    m = new_msg(subject, "no id");
    assert_int_equal(med_js_publish(js, m, NULL, NULL, &err), MED_OK);
    natsMsg_Destroy(m);

    assert_int_equal(jst_subject_count(med_js_ctx(js), MED_STREAM_CHAIN, subject), 3);
    assert_int_equal(jst_metric(published) - published0, 3);
    assert_int_equal(jst_metric(dropped) - dropped0, 1);

    /* the stored message carries the id */
    natsMsg *last = NULL;
    assert_int_equal(js_GetLastMsg(&last, med_js_ctx(js), MED_STREAM_CHAIN, subject, NULL, NULL),
                     NATS_OK);
    assert_null(med_header_get(last, MED_HDR_MSG_ID)); /* "no id" was last */
    natsMsg_Destroy(last);
    med_js_close(js);
}

static void test_async_window_with_duplicates(void **state)
{
    (void)state;
    med_js *js = jst_connect();
    char u[16], subject[64];
    jst_unique(u, sizeof u);
    med_err err;
    med_err_clear(&err);
    /* A subject of its own in MED_CHAIN keeps the count exact. */
    const char *published = "med_js_published_total{stream=\"MED_CHAIN\"}";
    uint64_t published0 = jst_metric(published);
    snprintf(subject, sizeof subject, "med.b.jstest%s.v1", u);
    for (int i = 0; i < 1500; i++) {
        char id[64];
        snprintf(id, sizeof id, "%s:%d", u, i % 1200); /* last 300 are duplicates */
        natsMsg *m = new_msg(subject, "async");
        med_rc rc = med_js_publish_async(js, m, id, &err);
        if (rc != MED_OK) {
            natsMsg_Destroy(m);
            fail_msg("async publish %d: %s", i, err.message);
        }
    }
    assert_int_equal(med_js_publish_async_complete(js, 10000, &err), MED_OK);
    assert_int_equal(jst_subject_count(med_js_ctx(js), MED_STREAM_CHAIN, subject), 1200);
    /* async publishes are counted when handed over, duplicates included */
    assert_int_equal(jst_metric(published) - published0, 1500);
    med_js_close(js);
}

static void test_async_failure_is_reported(void **state)
{
    (void)state;
    med_js *js = jst_connect();
    med_err err;
    med_err_clear(&err);
    const char *failed = "med_js_publish_failed_total{stream=\"unknown\"}";
    uint64_t failed0 = jst_metric(failed);
    /* No stream captures it: every ack is a failure. */
    natsMsg *m = new_msg(MED_SUBJ_H_GET, "nobody stores this");
    if (med_js_publish_async(js, m, NULL, &err) != MED_OK) natsMsg_Destroy(m);
    med_rc rc = med_js_publish_async_complete(js, 5000, &err);
    assert_int_not_equal(rc, MED_OK);
    assert_string_equal(err.code, MED_R_INFRA_PUBLISH_FAILED);
    assert_int_equal(jst_metric(failed) - failed0, 1);
    /* reported once: the next round starts clean */
    assert_int_equal(med_js_publish_async_complete(js, 1000, &err), MED_OK);
    med_js_close(js);
}

static void test_core_publish_and_inherited_headers(void **state)
{
    (void)state;
    med_js *js = jst_connect();
    char u[16], inbox[64];
    jst_unique(u, sizeof u);
    snprintf(inbox, sizeof inbox, "_INBOX.jstest.%s", u);
    natsSubscription *sub = NULL;
    assert_int_equal(natsConnection_SubscribeSync(&sub, med_js_conn(js), inbox), NATS_OK);
    assert_int_equal(natsConnection_Flush(med_js_conn(js)), NATS_OK);

    natsMsg *in = new_msg("med.c.normalized.v1", "in");
    natsMsgHeader_Set(in, MED_HDR_TRACE_KEY, "tr_feedfacecafebeef");
    natsMsgHeader_Set(in, MED_HDR_TENANT, "tenant_9");
    natsMsgHeader_Set(in, "X-Not-Trace", "stays behind");
    natsMsg *out = NULL;
    med_err err;
    med_err_clear(&err);
    assert_int_equal(med_js_msg_new(inbox, "reply", 5, in, &out, &err), MED_OK);
    assert_int_equal(med_js_publish_core(js, out, &err), MED_OK);
    natsMsg_Destroy(out);
    natsMsg_Destroy(in);

    natsMsg *got = NULL;
    assert_int_equal(natsSubscription_NextMsg(&got, sub, 2000), NATS_OK);
    assert_int_equal(natsMsg_GetDataLength(got), 5);
    assert_memory_equal(natsMsg_GetData(got), "reply", 5);
    assert_string_equal(med_header_get(got, MED_HDR_TRACE_KEY), "tr_feedfacecafebeef");
    assert_string_equal(med_header_get(got, MED_HDR_TENANT), "tenant_9");
    assert_null(med_header_get(got, "X-Not-Trace"));
    natsMsg_Destroy(got);
    natsSubscription_Destroy(sub);
    med_js_close(js);
}

static void test_connect_failures(void **state)
{
    (void)state;
    med_err err;
    med_err_clear(&err);
    med_js *js = NULL;
    /* Port 1 on loopback: nothing listens there. */
    med_js_opts down = { .url = "nats://127.0.0.1:1", .connect_timeout_ms = 200 };
    assert_int_equal(med_js_connect(&down, &js, &err), MED_ERR_UNAVAILABLE);
    assert_null(js);
    assert_string_equal(err.code, MED_R_INFRA_NATS_UNAVAILABLE);

    /* Asked to keep trying, start-up goes on and reports "not connected". */
    med_js_opts retry = down;
    retry.retry_on_failed_connect = 1;
    assert_int_equal(med_js_connect(&retry, &js, &err), MED_OK);
    assert_non_null(js);
    assert_false(med_js_connected(js));
    assert_int_not_equal(med_js_ensure_streams(js, NULL, &err), MED_OK);
    med_js_close(js);

    med_js_opts none = { .url = NULL };
    assert_int_equal(med_js_connect(&none, &js, &err), MED_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duplicate_msg_id_dropped_and_reported),
        cmocka_unit_test(test_async_window_with_duplicates),
        cmocka_unit_test(test_async_failure_is_reported),
        cmocka_unit_test(test_core_publish_and_inherited_headers),
        cmocka_unit_test(test_connect_failures),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    nats_Close();
    return rc;
}
