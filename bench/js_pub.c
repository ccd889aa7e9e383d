/* Baseline for the event benchmark: raw JetStream publish of N messages of
 * a given size into a file stream, asynchronously with a window of
 * outstanding acks (what F does for archive records). Prints msg/s.
 *   js_pub NATS_URL count [payload_bytes=600] [window=1000] */
#include <nats/nats.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STREAM "BENCH_PUB"
#define SUBJECT "bench.pub.event"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fail(const char *what, natsStatus s)
{
    fprintf(stderr, "js_pub: %s: %s\n", what, natsStatus_GetText(s));
    return 1;
}

static int stream_reset(jsCtx *js)
{
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = STREAM;
    const char *subjects[] = { SUBJECT };
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    jsErrCode jerr = 0;
    (void)js_DeleteStream(js, STREAM, NULL, &jerr);
    natsStatus s = js_AddStream(NULL, js, &cfg, NULL, &jerr);
    return s == NATS_OK ? 0 : fail("add stream", s);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: js_pub NATS_URL count [payload_bytes] [window]\n");
        return 2;
    }
    long count = atol(argv[2]);
    int size = argc > 3 ? atoi(argv[3]) : 600;
    int window = argc > 4 ? atoi(argv[4]) : 1000;
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    natsStatus s = natsConnection_ConnectTo(&nc, argv[1]);
    if (s != NATS_OK) return fail("connect", s);
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.PublishAsync.MaxPending = window;
    s = natsConnection_JetStream(&js, nc, &jo);
    if (s != NATS_OK) return fail("jetstream", s);
    if (stream_reset(js) != 0) return 1;
    char *payload = malloc((size_t)size);
    if (!payload) return 1;
    memset(payload, 'x', (size_t)size);
    double t0 = now_s();
    for (long i = 0; i < count; i++) {
        natsMsg *m = NULL;
        char id[32];
        snprintf(id, sizeof id, "pub-%ld", i);
        s = natsMsg_Create(&m, SUBJECT, NULL, payload, size);
        if (s == NATS_OK) s = natsMsgHeader_Set(m, "Nats-Msg-Id", id);
        if (s == NATS_OK) s = js_PublishMsgAsync(js, &m, NULL);
        if (s != NATS_OK) return fail("publish", s);
    }
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = 30000;
    s = js_PublishAsyncComplete(js, &po);
    if (s != NATS_OK) return fail("complete", s);
    double dt = now_s() - t0;
    printf("FIGURES js_publish_async messages=%ld bytes=%d window=%d seconds=%.2f msg_per_s=%.0f\n",
           count, size, window, dt, (double)count / dt);
    jsErrCode jerr = 0;
    (void)js_DeleteStream(js, STREAM, NULL, &jerr);
    free(payload);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    return 0;
}
