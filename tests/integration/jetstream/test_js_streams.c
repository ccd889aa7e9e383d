/* med_js_ensure_streams against a real nats-server: idempotent, the
 * streams of 00-architecture.md with their subjects and retention, the
 * retry-history KV bucket, and request/reply subjects left to core NATS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "jst.h"
#include "med/names.h"

#define NS_PER_SEC INT64_C(1000000000)
#define DAY_NS (86400 * NS_PER_SEC)

typedef struct expected_stream {
    const char *name;
    const char *subjects[6];
    int64_t max_age_ns;
} expected_stream;

static const expected_stream expected[] = {
    { MED_STREAM_CHAIN, { "med.a.>", "med.b.>", "med.c.>", "med.d.>", "med.e.>" }, DAY_NS },
    { MED_STREAM_DELIVERY, { "med.delivery.v1" }, 7 * DAY_NS },
    { MED_STREAM_EVENTS, { "med.f.events.v1" }, 14 * DAY_NS },
    { MED_STREAM_ARCHIVE, { "med.g.archive.v1" }, 30 * DAY_NS },
    { MED_STREAM_AUDIT, { "med.audit.*.v1" }, 7 * DAY_NS },
    { MED_STREAM_CONFIG, { "med.h.config.v1" }, 0 },
    { MED_STREAM_DLQ, { "med.dlq.*.v1" }, 30 * DAY_NS },
};
#define N_EXPECTED (sizeof expected / sizeof expected[0])

static int n_subjects(const expected_stream *e)
{
    int n = 0;
    while (n < 6 && e->subjects[n]) n++;
    return n;
}

static jsStreamInfo *stream_info(med_js *js, const char *name)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetStreamInfo(&si, med_js_ctx(js), name, NULL, &jerr);
    if (s != NATS_OK) fail_msg("stream %s: %s (%d)", name, natsStatus_GetText(s), (int)jerr);
    return si;
}

static void check_stream(med_js *js, const expected_stream *e, int64_t dup_ns)
{
    jsStreamInfo *si = stream_info(js, e->name);
    const jsStreamConfig *c = si->Config;
    assert_int_equal(c->SubjectsLen, n_subjects(e));
    for (int i = 0; i < c->SubjectsLen; i++) {
        int found = 0;
        for (int j = 0; j < c->SubjectsLen; j++)
            if (strcmp(c->Subjects[j], e->subjects[i]) == 0) found = 1;
        if (!found) fail_msg("stream %s lacks subject %s", e->name, e->subjects[i]);
    }
    assert_int_equal(c->MaxAge, e->max_age_ns);
    assert_int_equal(c->Retention, js_LimitsPolicy);
    assert_int_equal(c->Storage, js_FileStorage);
    assert_int_equal(c->Replicas, 1);
    assert_int_equal(c->Duplicates, dup_ns);
    jsStreamInfo_Destroy(si);
}

static void test_ensure_is_idempotent(void **state)
{
    (void)state;
    med_js *js = jst_connect(); /* ensures once */
    med_err err;
    med_err_clear(&err);
    assert_int_equal(med_js_ensure_streams(js, NULL, &err), MED_OK);
    med_stream_opts same = { .replicas = 1, .duplicate_window_ms = 120000 };
    assert_int_equal(med_js_ensure_streams(js, &same, &err), MED_OK);
    for (size_t i = 0; i < N_EXPECTED; i++) check_stream(js, &expected[i], 120 * NS_PER_SEC);
    med_js_close(js);
}

static void test_ensure_updates_changed_settings(void **state)
{
    (void)state;
    med_js *js = jst_connect();
    med_err err;
    med_err_clear(&err);
    med_stream_opts shorter = { .duplicate_window_ms = 60000 };
    assert_int_equal(med_js_ensure_streams(js, &shorter, &err), MED_OK);
    for (size_t i = 0; i < N_EXPECTED; i++) check_stream(js, &expected[i], 60 * NS_PER_SEC);
    /* and back, so the other tests see the defaults */
    assert_int_equal(med_js_ensure_streams(js, NULL, &err), MED_OK);
    for (size_t i = 0; i < N_EXPECTED; i++) check_stream(js, &expected[i], 120 * NS_PER_SEC);
    med_js_close(js);
}

static void test_retry_history_bucket(void **state)
{
    (void)state;
    med_js *js = jst_connect();
    kvStore *kv = NULL;
    assert_int_equal(js_KeyValue(&kv, med_js_ctx(js), MED_KV_RETRY_HISTORY), NATS_OK);
    kvStore_Destroy(kv);
    jsStreamInfo *si = stream_info(js, "KV_" MED_KV_RETRY_HISTORY);
    assert_int_equal(si->Config->MaxAge, DAY_NS);
    assert_int_equal(si->Config->Storage, js_FileStorage);
    jsStreamInfo_Destroy(si);
    med_js_close(js);
}

/* A request on these subjects must reach a responder or nobody, never a
 * stream (which would answer with a PubAck). */
static void test_request_reply_subjects_not_captured(void **state)
{
    (void)state;
    med_js *js = jst_connect();
    const char *subjects[] = { MED_SUBJ_H_GET, MED_SUBJ_H_PUBLISH, MED_SUBJ_G_REPLAY,
                               MED_SUBJ_G_RECONCILE };
    for (size_t i = 0; i < sizeof subjects / sizeof subjects[0]; i++) {
        natsMsg *reply = NULL;
        natsStatus s = natsConnection_RequestString(&reply, med_js_conn(js), subjects[i],
                                                    "{}", 500);
        if (s == NATS_OK)
            fail_msg("%s was answered (%.*s): a stream captures it", subjects[i],
                     natsMsg_GetDataLength(reply), natsMsg_GetData(reply));
        assert_true(s == NATS_NO_RESPONDERS || s == NATS_TIMEOUT);
        assert_null(reply);

        /* And no stream of any name captures it: a JetStream publish finds
         * nobody to store it. */
        natsMsg *m = NULL;
        med_err err;
        med_err_clear(&err);
        assert_int_equal(med_js_msg_new(subjects[i], "x", 1, NULL, &m, &err), MED_OK);
        assert_int_not_equal(med_js_publish(js, m, NULL, NULL, &err), MED_OK);
        natsMsg_Destroy(m);
    }
    med_js_close(js);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ensure_is_idempotent),
        cmocka_unit_test(test_ensure_updates_changed_settings),
        cmocka_unit_test(test_retry_history_bucket),
        cmocka_unit_test(test_request_reply_subjects_not_captured),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    nats_Close();
    return rc;
}
