#include "med/retry_history.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mediation/v1/dlq.pb-c.h"
#include "med/js.h"
#include "med/reason.h"

static void copy_trunc(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

int med_retry_history_key(const char *stage, const char *stream, uint64_t stream_seq,
                          char *out, size_t cap)
{
    if (!stage || !*stage || !stream || !*stream || !out || cap == 0) return -1;
    int n = snprintf(out, cap, "%s.%s.%llu", stage, stream, (unsigned long long)stream_seq);
    return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}

void med_retry_attempt_set(med_retry_attempt *a, uint32_t attempt, int64_t at_unix_ms,
                           const char *code, const char *message, int64_t next_delay_ms)
{
    a->attempt = attempt;
    a->at_unix_ms = at_unix_ms;
    copy_trunc(a->error_code, sizeof a->error_code, code);
    copy_trunc(a->error_message, sizeof a->error_message, message);
    a->next_delay_ms = next_delay_ms;
}

void med_retry_history_append(med_retry_history *h, const med_retry_attempt *a)
{
    if (h->n < 0) h->n = 0;
    if (h->n >= MED_DLQ_HISTORY_MAX) {
        memmove(&h->attempts[0], &h->attempts[1],
                (MED_DLQ_HISTORY_MAX - 1) * sizeof h->attempts[0]);
        h->n = MED_DLQ_HISTORY_MAX - 1;
    }
    h->attempts[h->n++] = *a;
}

void med_retry_history_keep_before(med_retry_history *h, uint32_t attempt)
{
    int kept = 0;
    for (int i = 0; i < h->n; i++)
        if (h->attempts[i].attempt < attempt) h->attempts[kept++] = h->attempts[i];
    h->n = kept;
}

/* ---- protobuf codec ---- */

size_t med_retry_history_to_pb(const med_retry_history *h,
                               Mediation__V1__RetryAttempt items[MED_DLQ_HISTORY_MAX],
                               Mediation__V1__RetryAttempt *ptrs[MED_DLQ_HISTORY_MAX])
{
    int n = h ? h->n : 0;
    if (n > MED_DLQ_HISTORY_MAX) n = MED_DLQ_HISTORY_MAX;
    for (int i = 0; i < n; i++) {
        const med_retry_attempt *a = &h->attempts[i];
        mediation__v1__retry_attempt__init(&items[i]);
        items[i].attempt = a->attempt;
        items[i].at_unix_ms = a->at_unix_ms;
        items[i].error_code = (char *)a->error_code;
        items[i].error_message = (char *)a->error_message;
        items[i].next_delay_ms = a->next_delay_ms;
        ptrs[i] = &items[i];
    }
    return n > 0 ? (size_t)n : 0;
}

med_rc med_retry_history_encode(const med_retry_history *h, uint8_t **out, size_t *len,
                                med_err *err)
{
    *out = NULL;
    *len = 0;
    Mediation__V1__RetryAttempt items[MED_DLQ_HISTORY_MAX];
    Mediation__V1__RetryAttempt *ptrs[MED_DLQ_HISTORY_MAX];
    size_t n = med_retry_history_to_pb(h, items, ptrs);
    if (n == 0) return MED_OK;
    Mediation__V1__DeadLetter holder = MEDIATION__V1__DEAD_LETTER__INIT;
    holder.n_history = n;
    holder.history = ptrs;
    size_t size = mediation__v1__dead_letter__get_packed_size(&holder);
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "retry history");
    *len = mediation__v1__dead_letter__pack(&holder, buf);
    *out = buf;
    return MED_OK;
}

med_rc med_retry_history_decode(const uint8_t *buf, size_t len, med_retry_history *out,
                                med_err *err)
{
    memset(out, 0, sizeof *out);
    if (len == 0) return MED_OK;
    Mediation__V1__DeadLetter *dl = mediation__v1__dead_letter__unpack(NULL, len, buf);
    if (!dl)
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_DECODE_FAILED, NULL,
                           "retry history is not a valid RetryAttempt list");
    for (size_t i = 0; i < dl->n_history; i++) {
        const Mediation__V1__RetryAttempt *p = dl->history[i];
        med_retry_attempt a;
        med_retry_attempt_set(&a, p->attempt, p->at_unix_ms, p->error_code, p->error_message,
                              p->next_delay_ms);
        med_retry_history_append(out, &a);
    }
    mediation__v1__dead_letter__free_unpacked(dl, NULL);
    return MED_OK;
}

/* ---- KV ---- */

med_rc med_retry_history_load(kvStore *kv, const char *key, med_retry_history *out,
                              med_err *err)
{
    memset(out, 0, sizeof *out);
    kvEntry *e = NULL;
    natsStatus s = kvStore_Get(&e, kv, key);
    if (s == NATS_NOT_FOUND) return MED_OK;
    if (s != NATS_OK)
        return med_js_status_err(s, 0, MED_R_INFRA_NATS_UNAVAILABLE, "load retry history", err);
    med_rc rc = med_retry_history_decode(kvEntry_Value(e), (size_t)kvEntry_ValueLen(e), out, err);
    kvEntry_Destroy(e);
    return rc;
}

med_rc med_retry_history_store(kvStore *kv, const char *key, const med_retry_history *h,
                               med_err *err)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    med_rc rc = med_retry_history_encode(h, &buf, &len, err);
    if (rc != MED_OK) return rc;
    natsStatus s = kvStore_Put(NULL, kv, key, buf, (int)len);
    free(buf);
    return med_js_status_err(s, 0, MED_R_INFRA_NATS_UNAVAILABLE, "store retry history", err);
}

med_rc med_retry_history_forget(kvStore *kv, const char *key, med_err *err)
{
    natsStatus s = kvStore_Delete(kv, key);
    return med_js_status_err(s, 0, MED_R_INFRA_NATS_UNAVAILABLE, "forget retry history", err);
}
