/* Messaging ceiling for the request path: one bare JetStream hop with the
 * same pattern the chain uses (publish with Nats-Msg-Id and a reply-inbox
 * header into a stream; a durable pull consumer fetches, publishes the
 * answer to the inbox over core NATS, acks), driven closed-loop by C
 * client threads. Prints throughput and p50/p95/p99 of the round trip.
 *   js_hop NATS_URL seconds concurrency [payload_bytes=600] */
#include <nats/nats.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STREAM "BENCH_HOP"
#define SUBJECT "bench.hop.request"
#define MAX_SAMPLES 4000000

static atomic_int g_stop;
static double *g_lat;
static atomic_long g_n;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, natsStatus s)
{
    fprintf(stderr, "js_hop: %s: %s\n", what, natsStatus_GetText(s));
    exit(1);
}

/* ---- responder: what one chain stage does per message ---- */
typedef struct responder {
    natsConnection *nc;
    jsCtx *js;
} responder;

static void *responder_run(void *ud)
{
    responder *r = ud;
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = STREAM;
    so.Config.AckPolicy = js_AckExplicit;
    natsSubscription *sub = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_PullSubscribe(&sub, r->js, SUBJECT, "hop", NULL, &so, &jerr);
    if (s != NATS_OK) die("pull subscribe", s);
    while (!atomic_load(&g_stop)) {
        natsMsgList list = { 0 };
        s = natsSubscription_Fetch(&list, sub, 64, 200, &jerr);
        if (s == NATS_TIMEOUT) continue;
        if (s != NATS_OK) break;
        for (int i = 0; i < list.Count; i++) {
            natsMsg *m = list.Msgs[i];
            const char *inbox = NULL;
            if (natsMsgHeader_Get(m, "Med-Reply-To", &inbox) == NATS_OK && inbox)
                natsConnection_Publish(r->nc, inbox, natsMsg_GetData(m), natsMsg_GetDataLength(m));
            natsMsg_Ack(m, NULL);
        }
        natsMsgList_Destroy(&list);
    }
    natsSubscription_Destroy(sub);
    return NULL;
}

/* ---- clients: publish into the stream, wait for the inbox ---- */
typedef struct client {
    natsConnection *nc;
    jsCtx *js;
    int id;
    int payload;
} client;

static void *client_run(void *ud)
{
    client *c = ud;
    char inbox[64], msgid[64];
    snprintf(inbox, sizeof inbox, "_INBOX.hop.%d", c->id);
    natsSubscription *sub = NULL;
    natsStatus s = natsConnection_SubscribeSync(&sub, c->nc, inbox);
    if (s != NATS_OK) die("subscribe inbox", s);
    char *data = malloc((size_t)c->payload);
    memset(data, 'x', (size_t)c->payload);
    for (long seq = 0; !atomic_load(&g_stop); seq++) {
        natsMsg *m = NULL;
        natsMsg_Create(&m, SUBJECT, NULL, data, c->payload);
        natsMsgHeader_Set(m, "Med-Reply-To", inbox);
        snprintf(msgid, sizeof msgid, "hop-%d-%ld", c->id, seq);
        jsPubOptions po;
        jsPubOptions_Init(&po);
        po.MsgId = msgid;
        double t0 = now_s();
        jsErrCode jerr = 0;
        jsPubAck *pa = NULL;
        s = js_PublishMsg(&pa, c->js, m, &po, &jerr);
        natsMsg_Destroy(m);
        jsPubAck_Destroy(pa);
        if (s != NATS_OK) continue;
        natsMsg *reply = NULL;
        if (natsSubscription_NextMsg(&reply, sub, 2000) != NATS_OK) continue;
        natsMsg_Destroy(reply);
        long i = atomic_fetch_add(&g_n, 1);
        if (i < MAX_SAMPLES) g_lat[i] = (now_s() - t0) * 1000.0;
    }
    free(data);
    natsSubscription_Destroy(sub);
    return NULL;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: js_hop NATS_URL seconds concurrency [payload_bytes]\n");
        return 2;
    }
    int secs = atoi(argv[2]), conc = atoi(argv[3]);
    int payload = argc > 4 ? atoi(argv[4]) : 600;
    g_lat = calloc(MAX_SAMPLES, sizeof *g_lat);
    natsOptions *o = NULL;
    natsOptions_Create(&o);
    natsOptions_SetURL(o, argv[1]);
    natsOptions_SetSendAsap(o, true);
    natsConnection *nc = NULL;
    natsStatus s = natsConnection_Connect(&nc, o);
    if (s != NATS_OK) die("connect", s);
    jsCtx *js = NULL;
    natsConnection_JetStream(&js, nc, NULL);
    jsStreamConfig sc;
    jsStreamConfig_Init(&sc);
    sc.Name = STREAM;
    const char *subjects[] = { SUBJECT };
    sc.Subjects = subjects;
    sc.SubjectsLen = 1;
    sc.Storage = js_FileStorage;
    sc.MaxAge = (int64_t)600 * 1000000000LL;
    jsErrCode jerr = 0;
    js_DeleteStream(js, STREAM, NULL, &jerr);
    if ((s = js_AddStream(NULL, js, &sc, NULL, &jerr)) != NATS_OK) die("add stream", s);

    responder r = { nc, js };
    pthread_t rt;
    pthread_create(&rt, NULL, responder_run, &r);
    pthread_t *ct = calloc((size_t)conc, sizeof *ct);
    client *cs = calloc((size_t)conc, sizeof *cs);
    double t0 = now_s();
    for (int i = 0; i < conc; i++) {
        cs[i] = (client){ nc, js, i, payload };
        pthread_create(&ct[i], NULL, client_run, &cs[i]);
    }
    struct timespec d = { secs, 0 };
    nanosleep(&d, NULL);
    atomic_store(&g_stop, 1);
    for (int i = 0; i < conc; i++) pthread_join(ct[i], NULL);
    double el = now_s() - t0;
    pthread_join(rt, NULL);
    long n = atomic_load(&g_n);
    if (n > MAX_SAMPLES) n = MAX_SAMPLES;
    qsort(g_lat, (size_t)n, sizeof *g_lat, cmp_d);
    printf("js_hop: %d clients, %d B payload, %.1f s: %ld round trips, %.0f/s, "
           "p50 %.2f ms, p95 %.2f ms, p99 %.2f ms\n",
           conc, payload, el, n, (double)n / el, n ? g_lat[n / 2] : 0,
           n ? g_lat[n * 95 / 100] : 0, n ? g_lat[n * 99 / 100] : 0);
    js_DeleteStream(js, STREAM, NULL, &jerr);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    natsOptions_Destroy(o);
    free(ct);
    free(cs);
    free(g_lat);
    return 0;
}
