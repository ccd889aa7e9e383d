#include "dlq_stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "med/dlq.h"
#include "med/names.h"

#define IDLE_MS 3000

static int nats_fail(const char *what, natsStatus s, jsErrCode jerr, char *why, size_t cap)
{
    snprintf(why, cap, "%s: %s (%d)", what, natsStatus_GetText(s), (int)jerr);
    return -1;
}

void dlq_entries_free(dlq_entries *e)
{
    for (size_t i = 0; i < e->n; i++) mediation__v1__dead_letter__free_unpacked(e->items[i].dl, NULL);
    free(e->items);
    memset(e, 0, sizeof *e);
}

static int append(dlq_entries *e, uint64_t seq, Mediation__V1__DeadLetter *dl)
{
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 64;
        dlq_entry *items = realloc(e->items, cap * sizeof *items);
        if (!items) return -1;
        e->items = items;
        e->cap = cap;
    }
    e->items[e->n++] = (dlq_entry){seq, dl};
    return 0;
}

static Mediation__V1__DeadLetter *decode(natsMsg *m)
{
    return mediation__v1__dead_letter__unpack(NULL, (size_t)natsMsg_GetDataLength(m),
                                              (const uint8_t *)natsMsg_GetData(m));
}

/* Takes one delivered message; returns 1 when the read is complete. */
static int take(natsMsg *m, uint64_t stop_seq, dlq_entries *out, int *oom)
{
    jsMsgMetaData *meta = NULL;
    if (natsMsg_GetMetaData(&meta, m) != NATS_OK) return 0;
    uint64_t seq = meta->Sequence.Stream, pending = meta->NumPending;
    jsMsgMetaData_Destroy(meta);
    if (seq > stop_seq) return 1;
    Mediation__V1__DeadLetter *dl = decode(m);
    if (dl && append(out, seq, dl) != 0) {
        mediation__v1__dead_letter__free_unpacked(dl, NULL);
        *oom = 1;
        return 1;
    }
    if (!dl) fprintf(stderr, "dlq: MED_DLQ seq %llu is not a DeadLetter, skipped\n",
                     (unsigned long long)seq);
    return pending == 0 || seq >= stop_seq;
}

static int stream_last_seq(jsCtx *js, uint64_t *last, char *why, size_t cap)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetStreamInfo(&si, js, MED_STREAM_DLQ, NULL, &jerr);
    if (s != NATS_OK) return nats_fail("stream " MED_STREAM_DLQ, s, jerr, why, cap);
    *last = si->State.LastSeq;
    jsStreamInfo_Destroy(si);
    return 0;
}

static int drain(natsSubscription *sub, uint64_t stop_seq, dlq_entries *out, char *why, size_t cap)
{
    int oom = 0;
    for (;;) {
        natsMsg *m = NULL;
        natsStatus s = natsSubscription_NextMsg(&m, sub, IDLE_MS);
        if (s == NATS_TIMEOUT) return 0; /* nothing (more) for this filter */
        if (s != NATS_OK) return nats_fail("read " MED_STREAM_DLQ, s, 0, why, cap);
        int done = take(m, stop_seq, out, &oom);
        natsMsg_Destroy(m);
        if (oom) return snprintf(why, cap, "out of memory"), -1;
        if (done) return 0;
    }
}

int dlq_stream_read(jsCtx *js, const char *stage, dlq_entries *out, char *why, size_t cap)
{
    memset(out, 0, sizeof *out);
    char subject[128];
    if (stage) {
        if (med_dlq_subject(stage, subject, sizeof subject) != 0)
            return snprintf(why, cap, "invalid stage \"%s\"", stage), -1;
    } else {
        snprintf(subject, sizeof subject, "%s", MED_SUBJ_DLQ_ALL);
    }
    uint64_t stop_seq = 0;
    if (stream_last_seq(js, &stop_seq, why, cap)) return -1;
    if (stop_seq == 0) return 0;
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = MED_STREAM_DLQ;
    so.Ordered = true;
    so.Config.DeliverPolicy = js_DeliverAll;
    natsSubscription *sub = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_SubscribeSync(&sub, js, subject, NULL, &so, &jerr);
    if (s != NATS_OK) return nats_fail("read " MED_STREAM_DLQ, s, jerr, why, cap);
    jsConsumerInfo *ci = NULL;
    int any = 1;
    if (natsSubscription_GetConsumerInfo(&ci, sub, NULL, &jerr) == NATS_OK) {
        any = ci->NumPending > 0 || ci->Delivered.Consumer > 0;
        jsConsumerInfo_Destroy(ci);
    }
    int rc = any ? drain(sub, stop_seq, out, why, cap) : 0;
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
    if (rc != 0) dlq_entries_free(out);
    return rc;
}

int dlq_stream_get(jsCtx *js, uint64_t seq, Mediation__V1__DeadLetter **out, char *why,
                   size_t cap)
{
    *out = NULL;
    natsMsg *m = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetMsg(&m, js, MED_STREAM_DLQ, seq, NULL, &jerr);
    if (s == NATS_NOT_FOUND || jerr == JSNoMessageFoundErr) {
        snprintf(why, cap, "no dead letter with id %llu in " MED_STREAM_DLQ,
                 (unsigned long long)seq);
        return 1;
    }
    if (s != NATS_OK) return nats_fail("get " MED_STREAM_DLQ " message", s, jerr, why, cap);
    *out = decode(m);
    natsMsg_Destroy(m);
    if (!*out) {
        snprintf(why, cap, "id %llu is not a DeadLetter", (unsigned long long)seq);
        return 1;
    }
    return 0;
}

static natsMsg *original(const Mediation__V1__DeadLetter *dl, uint64_t seq, const char *msg_id)
{
    natsMsg *m = NULL;
    if (natsMsg_Create(&m, dl->failed_subject, NULL, (const char *)dl->payload.data,
                       (int)dl->payload.len) != NATS_OK)
        return NULL;
    natsStatus s = NATS_OK;
    for (size_t i = 0; s == NATS_OK && i < dl->n_headers; i++)
        s = natsMsgHeader_Set(m, dl->headers[i]->key, dl->headers[i]->value);
    char mark[64];
    snprintf(mark, sizeof mark, "%s/%llu", MED_STREAM_DLQ, (unsigned long long)seq);
    if (s == NATS_OK) s = natsMsgHeader_Set(m, MED_HDR_REDRIVE_OF, mark);
    if (s == NATS_OK && msg_id) s = natsMsgHeader_Set(m, MED_HDR_MSG_ID, msg_id);
    if (s != NATS_OK) {
        natsMsg_Destroy(m);
        return NULL;
    }
    return m;
}

int dlq_stream_republish(jsCtx *js, const Mediation__V1__DeadLetter *dl, uint64_t seq,
                         const char *msg_id, uint64_t *stored_seq, int *duplicate, char *why,
                         size_t cap)
{
    *stored_seq = 0;
    *duplicate = 0;
    if (!dl->failed_subject || !*dl->failed_subject)
        return snprintf(why, cap, "dead letter %llu has no failed subject",
                        (unsigned long long)seq), -1;
    natsMsg *m = original(dl, seq, msg_id);
    if (!m) return snprintf(why, cap, "could not build the message"), -1;
    return dlq_stream_publish_msg(js, m, stored_seq, duplicate, why, cap);
}

int dlq_stream_publish_msg(jsCtx *js, natsMsg *m, uint64_t *stored_seq, int *duplicate,
                           char *why, size_t cap)
{
    *stored_seq = 0;
    *duplicate = 0;
    jsPubAck *ack = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_PublishMsg(&ack, js, m, NULL, &jerr);
    natsMsg_Destroy(m);
    if (s != NATS_OK) return nats_fail("publish", s, jerr, why, cap);
    *stored_seq = ack->Sequence;
    *duplicate = ack->Duplicate;
    jsPubAck_Destroy(ack);
    return 0;
}
