/* tools/replay-stream: re-feeds the messages of one subject stored in a
 * JetStream stream (00-architecture "replay from a stream"), selected by
 * time or sequence range, to the stage's input subject or a shadow subject,
 * headers kept. Reads with an ordered consumer (ephemeral, no acks, removed
 * by the server when the run ends): nothing durable is left behind.
 *
 * Re-feeding with the original Nats-Msg-Id is safe: the stream's
 * duplicate window drops what it still remembers and every stage is
 * idempotent on its business keys. --rewrite-msg-id gives each message a
 * new id for a shadow run that must not be deduplicated against the
 * original. Exit: 0 done, 1 a publish or connection failed, 2 usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nats/nats.h>

#include "med/ids.h"
#include "med/names.h"
#include "rs_opts.h"

typedef struct rs_run {
    const rs_opts *o;
    natsConnection *nc;
    jsCtx *js;
    natsSubscription *sub;
    char stream[128];
    char run_id[40];
    uint64_t stop_seq;
    long selected, published, duplicates, failed;
    uint64_t first_seq, last_seq;
    int64_t started_mono;
} rs_run;

static void sleep_ms(int64_t ms)
{
    if (ms <= 0) return;
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int fail_status(const char *what, natsStatus s, jsErrCode jerr)
{
    fprintf(stderr, "replay-stream: %s: %s (%d)\n", what, natsStatus_GetText(s), (int)jerr);
    return -1;
}

static int connect_nats(rs_run *r)
{
    const char *url = r->o->nats_url ? r->o->nats_url : getenv("NATS_URL");
    natsStatus s = natsConnection_ConnectTo(&r->nc, url && *url ? url : NATS_DEFAULT_URL);
    if (s != NATS_OK) return fail_status("connect", s, 0);
    s = natsConnection_JetStream(&r->js, r->nc, NULL);
    return s == NATS_OK ? 0 : fail_status("jetstream context", s, 0);
}

#define START_SLACK_MS 2000
static int subscribe(rs_run *r)
{
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Ordered = true;
    if (r->o->stream) so.Stream = r->o->stream;
    if (r->o->range == RS_RANGE_SEQ) {
        so.Config.DeliverPolicy = js_DeliverByStartSequence;
        so.Config.OptStartSeq = r->o->from_seq;
    } else {
        /* The server's start-time lookup is not exact to the millisecond
         * (it was seen to start past messages stored just after --since):
         * start a little earlier and let rs_select skip what is before. */
        so.Config.DeliverPolicy = js_DeliverByStartTime;
        so.Config.OptStartTime = (r->o->since_ms - START_SLACK_MS) * 1000000LL;
    }
    jsErrCode jerr = 0;
    natsStatus s = js_SubscribeSync(&r->sub, r->js, r->o->subject, NULL, &so, &jerr);
    return s == NATS_OK ? 0 : fail_status("ordered consumer", s, jerr);
}

/* The run covers what the stream held when it started. *any = 0 when the
 * selection is empty: nothing pending and nothing pushed to us yet. */
static int snapshot_bounds(rs_run *r, int *any)
{
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    natsStatus s = natsSubscription_GetConsumerInfo(&ci, r->sub, NULL, &jerr);
    if (s != NATS_OK) return fail_status("consumer info", s, jerr);
    snprintf(r->stream, sizeof r->stream, "%s", ci->Stream);
    *any = ci->NumPending > 0 || ci->Delivered.Consumer > 0;
    jsConsumerInfo_Destroy(ci);
    jsStreamInfo *si = NULL;
    s = js_GetStreamInfo(&si, r->js, r->stream, NULL, &jerr);
    if (s != NATS_OK) return fail_status("stream info", s, jerr);
    r->stop_seq = si->State.LastSeq;
    jsStreamInfo_Destroy(si);
    return 0;
}

static int copy_headers(natsMsg *src, natsMsg *dst)
{
    const char **keys = NULL;
    int n = 0;
    natsStatus s = natsMsgHeader_Keys(src, &keys, &n);
    if (s == NATS_NOT_FOUND) return 0;
    if (s != NATS_OK) return -1;
    for (int i = 0; s == NATS_OK && i < n; i++) {
        const char **vals = NULL;
        int nv = 0;
        s = natsMsgHeader_Values(src, keys[i], &vals, &nv);
        for (int j = 0; s == NATS_OK && j < nv; j++) s = natsMsgHeader_Add(dst, keys[i], vals[j]);
        free((void *)vals);
    }
    free((void *)keys);
    return s == NATS_OK ? 0 : -1;
}

static const char *msg_id_of(natsMsg *m)
{
    const char *v = NULL;
    return natsMsgHeader_Get(m, MED_HDR_MSG_ID, &v) == NATS_OK ? v : "";
}

/* The message as it goes out: same payload and headers, the target
 * subject, a Med-Replay-Of marker, and a new id for a shadow run. */
static natsMsg *outgoing(rs_run *r, natsMsg *src, uint64_t seq)
{
    const char *subject = r->o->to ? r->o->to : natsMsg_GetSubject(src);
    natsMsg *m = NULL;
    if (natsMsg_Create(&m, subject, NULL, natsMsg_GetData(src), natsMsg_GetDataLength(src)) !=
            NATS_OK ||
        copy_headers(src, m) != 0) {
        natsMsg_Destroy(m);
        return NULL;
    }
    char mark[192], id[512];
    snprintf(mark, sizeof mark, "%s/%llu", r->stream, (unsigned long long)seq);
    natsStatus s = natsMsgHeader_Set(m, MED_HDR_REPLAY_OF, mark);
    if (s == NATS_OK && r->o->rewrite_msg_id) {
        if (rs_rewrite_msg_id(msg_id_of(src), r->run_id, r->stream, seq, id, sizeof id) != 0)
            s = NATS_INVALID_ARG;
        else s = natsMsgHeader_Set(m, MED_HDR_MSG_ID, id);
    }
    if (s != NATS_OK) {
        natsMsg_Destroy(m);
        return NULL;
    }
    return m;
}

static void list_one(rs_run *r, natsMsg *src, uint64_t seq, int64_t ts_ms)
{
    char at[32];
    med_format_utc_ms(ts_ms, at, sizeof at);
    printf("seq=%llu time=%s subject=%s msg_id=%s bytes=%d -> %s\n", (unsigned long long)seq, at,
           natsMsg_GetSubject(src), msg_id_of(src), natsMsg_GetDataLength(src),
           r->o->to ? r->o->to : natsMsg_GetSubject(src));
}

static void publish_one(rs_run *r, natsMsg *src, uint64_t seq)
{
    sleep_ms(r->started_mono + rs_pace_offset_ms(r->selected - 1, r->o->rate) - med_mono_ms());
    natsMsg *m = outgoing(r, src, seq);
    if (!m) {
        r->failed++;
        fprintf(stderr, "replay-stream: seq %llu: could not build the message\n",
                (unsigned long long)seq);
        return;
    }
    natsStatus s;
    jsErrCode jerr = 0;
    jsPubAck *ack = NULL;
    if (r->o->core) s = natsConnection_PublishMsg(r->nc, m);
    else s = js_PublishMsg(&ack, r->js, m, NULL, &jerr);
    if (s != NATS_OK) {
        r->failed++;
        fprintf(stderr, "replay-stream: seq %llu: publish failed: %s (%d)\n",
                (unsigned long long)seq, natsStatus_GetText(s), (int)jerr);
    } else {
        r->published++;
        if (ack && ack->Duplicate) r->duplicates++;
    }
    jsPubAck_Destroy(ack);
    natsMsg_Destroy(m);
}

/* Handles one delivered message; returns 1 when the run is over. */
static int handle(rs_run *r, natsMsg *m)
{
    jsMsgMetaData *meta = NULL;
    if (natsMsg_GetMetaData(&meta, m) != NATS_OK) return 0; /* not a stream message */
    uint64_t seq = meta->Sequence.Stream, pending = meta->NumPending;
    int64_t ts_ms = meta->Timestamp / 1000000LL;
    jsMsgMetaData_Destroy(meta);
    rs_verdict v = rs_select(r->o, seq, ts_ms, r->stop_seq, r->selected);
    if (v == RS_STOP) return 1;
    if (v == RS_SEND) {
        r->selected++;
        if (!r->first_seq) r->first_seq = seq;
        r->last_seq = seq;
        if (r->o->dry_run) list_one(r, m, seq, ts_ms);
        else publish_one(r, m, seq);
    }
    return pending == 0 || seq >= r->stop_seq;
}

static void pump(rs_run *r)
{
    for (;;) {
        natsMsg *m = NULL;
        natsStatus s = natsSubscription_NextMsg(&m, r->sub, r->o->idle_ms);
        if (s == NATS_TIMEOUT) {
            fprintf(stderr, "replay-stream: no message for %d ms, stopping\n", r->o->idle_ms);
            return;
        }
        if (s != NATS_OK) {
            r->failed++;
            fail_status("next message", s, 0);
            return;
        }
        int done = handle(r, m);
        natsMsg_Destroy(m);
        if (done) return;
    }
}

/* Consumer info read right after the consumer was made can miss what is
 * already on its way to us (neither pending nor counted as delivered):
 * before calling a selection empty, wait briefly for a first message.
 * 1 when more may follow. */
#define EMPTY_GRACE_MS 500
static int first_message(rs_run *r)
{
    natsMsg *m = NULL;
    int wait = r->o->idle_ms > 0 && r->o->idle_ms < EMPTY_GRACE_MS ? r->o->idle_ms : EMPTY_GRACE_MS;
    if (natsSubscription_NextMsg(&m, r->sub, wait) != NATS_OK) return 0;
    int done = handle(r, m);
    natsMsg_Destroy(m);
    return !done;
}

static void summary(const rs_run *r)
{
    printf("replay-stream: stream=%s subject=%s to=%s selected=%ld published=%ld duplicates=%ld "
           "failed=%ld first_seq=%llu last_seq=%llu dry_run=%s msg_ids=%s%s%s elapsed_ms=%lld\n",
           r->stream[0] ? r->stream : "?", r->o->subject, r->o->to ? r->o->to : "(original)",
           r->selected, r->published, r->duplicates, r->failed,
           (unsigned long long)r->first_seq, (unsigned long long)r->last_seq,
           r->o->dry_run ? "true" : "false", r->o->rewrite_msg_id ? "rewritten" : "kept",
           r->o->rewrite_msg_id ? " run_id=" : "", r->o->rewrite_msg_id ? r->run_id : "",
           (long long)(med_mono_ms() - r->started_mono));
}

static int run(rs_run *r)
{
    int any = 0;
    if (connect_nats(r) != 0 || subscribe(r) != 0 || snapshot_bounds(r, &any) != 0) return 1;
    if (any || first_message(r)) pump(r);
    if (r->o->core && !r->o->dry_run && natsConnection_FlushTimeout(r->nc, 5000) != NATS_OK)
        r->failed++;
    summary(r);
    return r->failed ? 1 : 0;
}

static void init_run_id(rs_run *r)
{
    if (r->o->run_id) snprintf(r->run_id, sizeof r->run_id, "%s", r->o->run_id);
    else if (med_random_hex(r->run_id, sizeof r->run_id, 6) != 0)
        snprintf(r->run_id, sizeof r->run_id, "%lld", (long long)med_now_unix_ms());
}

int main(int argc, char **argv)
{
    rs_opts o;
    char why[256] = "";
    int p = rs_opts_parse(argc, argv, &o, why, sizeof why);
    if (p == 1) {
        rs_usage(stdout);
        return 0;
    }
    if (p != 0) {
        fprintf(stderr, "replay-stream: %s\n", why);
        rs_usage(stderr);
        return 2;
    }
    rs_run r = {.o = &o, .started_mono = med_mono_ms()};
    init_run_id(&r);
    int code = run(&r);
    if (r.sub) {
        natsSubscription_Unsubscribe(r.sub); /* the ordered consumer goes with it */
        natsSubscription_Destroy(r.sub);
    }
    jsCtx_Destroy(r.js);
    natsConnection_Destroy(r.nc);
    nats_Close();
    return code;
}
