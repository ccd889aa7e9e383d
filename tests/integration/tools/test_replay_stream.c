/* tools/replay-stream against a real nats-server: a sequence range and a
 * time range of one subject re-fed into a shadow subject arrive exactly,
 * in order, payloads and headers intact; a second run with the ids kept is
 * dropped by the duplicate window, --rewrite-msg-id gets through; dry-run
 * sends nothing; no consumer is left behind. Test-only streams
 * (tools_it.h), so no stage ever sees these messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <nats/nats.h>

#include "harness.h"
#include "med/ids.h"
#include "med/names.h"
#include "tools_it.h"

#define TOOL "tools/replay-stream/replay-stream"
#define MAXM 64

typedef struct world {
    natsConnection *nc;
    jsCtx *js;
} world;

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    assert_int_equal(natsConnection_ConnectTo(&w->nc, th_env("NATS_URL")), NATS_OK);
    assert_int_equal(natsConnection_JetStream(&w->js, w->nc, NULL), NATS_OK);
    ti_ensure_stream(w->js, TI_SRC_STREAM, TI_SRC_SUBJECTS);
    ti_ensure_stream(w->js, TI_SHADOW_STREAM, TI_SHADOW_SUBJECTS);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    jsCtx_Destroy(w->js);
    natsConnection_Destroy(w->nc);
    free(w);
    return 0;
}

/* Publishes message i on subject with its id and trace headers; returns
 * its stream sequence. */
static uint64_t publish(world *w, const char *subject, const char *run, int i)
{
    char body[64], id[64], trace[64];
    snprintf(body, sizeof body, "payload-%s-%d", run, i);
    snprintf(id, sizeof id, "it:%s:%d", run, i);
    snprintf(trace, sizeof trace, "tr_%s_%d", run, i);
    natsMsg *m = NULL;
    assert_int_equal(natsMsg_Create(&m, subject, NULL, body, (int)strlen(body)), NATS_OK);
    natsMsgHeader_Set(m, MED_HDR_MSG_ID, id);
    natsMsgHeader_Set(m, MED_HDR_TRACE_KEY, trace);
    natsMsgHeader_Set(m, MED_HDR_TENANT, "t_it_tools");
    natsMsgHeader_Add(m, "X-Multi", "one");
    natsMsgHeader_Add(m, "X-Multi", "two");
    jsPubAck *ack = NULL;
    jsErrCode jerr = 0;
    assert_int_equal(js_PublishMsg(&ack, w->js, m, NULL, &jerr), NATS_OK);
    uint64_t seq = ack->Sequence;
    jsPubAck_Destroy(ack);
    natsMsg_Destroy(m);
    return seq;
}

/* The shadow copy of message i is intact. */
static void assert_copy(natsMsg *m, const char *run, int i, uint64_t src_seq, int ids_kept)
{
    char body[64], id[64], trace[64], mark[64];
    snprintf(body, sizeof body, "payload-%s-%d", run, i);
    snprintf(id, sizeof id, "it:%s:%d", run, i);
    snprintf(trace, sizeof trace, "tr_%s_%d", run, i);
    snprintf(mark, sizeof mark, "%s/%llu", TI_SRC_STREAM, (unsigned long long)src_seq);
    assert_int_equal(natsMsg_GetDataLength(m), (int)strlen(body));
    assert_memory_equal(natsMsg_GetData(m), body, strlen(body));
    if (ids_kept) assert_string_equal(ti_header(m, MED_HDR_MSG_ID), id);
    else assert_true(strncmp(ti_header(m, MED_HDR_MSG_ID), id, strlen(id)) == 0 &&
                     strstr(ti_header(m, MED_HDR_MSG_ID), ".replay.") != NULL);
    assert_string_equal(ti_header(m, MED_HDR_TRACE_KEY), trace);
    assert_string_equal(ti_header(m, MED_HDR_TENANT), "t_it_tools");
    assert_string_equal(ti_header(m, MED_HDR_REPLAY_OF), mark);
    const char **vals = NULL;
    int nv = 0;
    assert_int_equal(natsMsgHeader_Values(m, "X-Multi", &vals, &nv), NATS_OK);
    assert_int_equal(nv, 2);
    assert_string_equal(vals[0], "one");
    assert_string_equal(vals[1], "two");
    free((void *)vals);
}

static int consumers_on(world *w, const char *stream)
{
    jsConsumerNamesList *l = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_ConsumerNames(&l, w->js, stream, NULL, &jerr);
    if (s == NATS_NOT_FOUND) return 0;
    assert_int_equal(s, NATS_OK);
    int n = l->Count;
    jsConsumerNamesList_Destroy(l);
    return n;
}

/* The tool's summary line, or the whole output when it differs. */
static void expect_out(const char *out, const char *want)
{
    if (!strstr(out, want)) fail_msg("want \"%s\" in the tool's output:\n%s", want, out);
}

static void sequence_range_into_shadow(void **state)
{
    world *w = *state;
    char run[9], src[64], shadow[64];
    ti_rand_hex(run, 8);
    snprintf(src, sizeof src, "it.tools.src.%s", run);
    snprintf(shadow, sizeof shadow, "it.tools.shadow.%s.seq", run);
    uint64_t seq[10];
    for (int i = 0; i < 10; i++) seq[i] = publish(w, src, run, i);
    char from[24], to[24], out[8192];
    snprintf(from, sizeof from, "%llu", (unsigned long long)seq[3]);
    snprintf(to, sizeof to, "%llu", (unsigned long long)seq[6]);
    const char *args[] = {"--subject", src, "--from-seq", from, "--to-seq", to, "--to", shadow,
                          "--nats", th_env("NATS_URL"), NULL};
    assert_int_equal(ti_run(TOOL, args, out, sizeof out), 0);
    expect_out(out, "selected=4 published=4 duplicates=0 failed=0");

    natsMsg *got[MAXM];
    int n = ti_read_subject(w->js, TI_SHADOW_STREAM, shadow, got, MAXM);
    assert_int_equal(n, 4);
    for (int k = 0; k < 4; k++) assert_copy(got[k], run, 3 + k, seq[3 + k], 1);
    ti_free_msgs(got, n);

    /* the same run again: the ids are kept, the duplicate window drops all */
    assert_int_equal(ti_run(TOOL, args, out, sizeof out), 0);
    expect_out(out, "selected=4 published=4 duplicates=4");
    n = ti_read_subject(w->js, TI_SHADOW_STREAM, shadow, got, MAXM);
    assert_int_equal(n, 4);
    ti_free_msgs(got, n);

    /* a shadow run with new ids gets through once more */
    const char *rw[] = {"--subject", src, "--from-seq", from, "--to-seq", to, "--to", shadow,
                        "--rewrite-msg-id", "--run-id", "r2", "--rate", "200", "--nats",
                        th_env("NATS_URL"), NULL};
    assert_int_equal(ti_run(TOOL, rw, out, sizeof out), 0);
    expect_out(out, "selected=4 published=4 duplicates=0");
    n = ti_read_subject(w->js, TI_SHADOW_STREAM, shadow, got, MAXM);
    assert_int_equal(n, 8);
    for (int k = 0; k < 4; k++) assert_copy(got[4 + k], run, 3 + k, seq[3 + k], 0);
    assert_true(strstr(ti_header(got[4], MED_HDR_MSG_ID), ".replay.r2") != NULL);
    ti_free_msgs(got, n);
    assert_int_equal(consumers_on(w, TI_SRC_STREAM), 0);
}

static void time_range_into_shadow(void **state)
{
    world *w = *state;
    char run[9], src[64], shadow[64], since[32], until[32], out[8192];
    ti_rand_hex(run, 8);
    snprintf(src, sizeof src, "it.tools.src.%s", run);
    snprintf(shadow, sizeof shadow, "it.tools.shadow.%s.time", run);
    for (int i = 0; i < 3; i++) publish(w, src, run, i);
    th_sleep_ms(1100);
    med_format_utc_ms(med_now_unix_ms(), since, sizeof since);
    uint64_t seq[4];
    for (int i = 0; i < 4; i++) seq[i] = publish(w, src, run, 10 + i);
    th_sleep_ms(1100);
    med_format_utc_ms(med_now_unix_ms(), until, sizeof until);
    for (int i = 0; i < 2; i++) publish(w, src, run, 20 + i);

    const char *args[] = {"--subject", src, "--since", since, "--until", until, "--to", shadow,
                          "--stream", TI_SRC_STREAM, "--nats", th_env("NATS_URL"), NULL};
    assert_int_equal(ti_run(TOOL, args, out, sizeof out), 0);
    expect_out(out, "selected=4 published=4 duplicates=0 failed=0");
    natsMsg *got[MAXM];
    int n = ti_read_subject(w->js, TI_SHADOW_STREAM, shadow, got, MAXM);
    assert_int_equal(n, 4);
    for (int k = 0; k < 4; k++) assert_copy(got[k], run, 10 + k, seq[k], 1);
    ti_free_msgs(got, n);
    assert_int_equal(consumers_on(w, TI_SRC_STREAM), 0);
}

static void dry_run_and_empty_selection_send_nothing(void **state)
{
    world *w = *state;
    char run[9], src[64], shadow[64], from[24], out[8192];
    ti_rand_hex(run, 8);
    snprintf(src, sizeof src, "it.tools.src.%s", run);
    snprintf(shadow, sizeof shadow, "it.tools.shadow.%s.dry", run);
    uint64_t first = 0;
    for (int i = 0; i < 3; i++) {
        uint64_t s = publish(w, src, run, i);
        if (!first) first = s;
    }
    snprintf(from, sizeof from, "%llu", (unsigned long long)first);
    const char *dry[] = {"--subject", src, "--from-seq", from, "--to", shadow, "--dry-run",
                         "--nats", th_env("NATS_URL"), NULL};
    assert_int_equal(ti_run(TOOL, dry, out, sizeof out), 0);
    expect_out(out, "selected=3 published=0");
    int lines = 0;
    for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        lines += strncmp(p, "seq=", 4) == 0;
    assert_int_equal(lines, 3);
    natsMsg *got[MAXM];
    assert_int_equal(ti_read_subject(w->js, TI_SHADOW_STREAM, shadow, got, MAXM), 0);

    /* past the end of the stream: nothing selected, no waiting */
    snprintf(from, sizeof from, "%llu", (unsigned long long)th_stream_last_seq(w->js, TI_SRC_STREAM) + 100);
    const char *past[] = {"--subject", src, "--from-seq", from, "--to", shadow, "--nats",
                          th_env("NATS_URL"), NULL};
    long long t0 = th_now_ms();
    assert_int_equal(ti_run(TOOL, past, out, sizeof out), 0);
    expect_out(out, "selected=0 published=0");
    assert_true(th_now_ms() - t0 < 2500);
    const char *bad[] = {"--subject", src, NULL};
    assert_int_equal(ti_run(TOOL, bad, out, sizeof out), 2);
}

int main(void)
{
    srand((unsigned)th_now_ms());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sequence_range_into_shadow),
        cmocka_unit_test(time_range_into_shadow),
        cmocka_unit_test(dry_run_and_empty_selection_send_nothing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
