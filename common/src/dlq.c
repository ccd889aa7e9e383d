#include "med/dlq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mediation/v1/common.pb-c.h"
#include "mediation/v1/dlq.pb-c.h"
#include "med/headers.h"
#include "med/ids.h"
#include "med/log.h"
#include "med/metrics.h"
#include "med/names.h"
#include "med/reason.h"
#include "med/retry_history.h"

int med_dlq_subject(const char *stage, char *out, size_t cap)
{
    if (!stage || !*stage || !out || cap == 0) return -1;
    /* The stage is one subject token. */
    if (strpbrk(stage, ".*> \t\r\n")) return -1;
    int n = snprintf(out, cap, "%s%s%s", MED_SUBJ_DLQ_PREFIX, stage, MED_SUBJ_VERSION_SUFFIX);
    return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}

static char *str_or_empty(const char *s) { return (char *)(s ? s : ""); }

/* Everything the DeadLetter points into, so encode can free it in one go. */
typedef struct dl_parts {
    Mediation__V1__TraceContext trace;
    med_trace_headers th;
    Mediation__V1__RetryAttempt attempts[MED_DLQ_HISTORY_MAX];
    Mediation__V1__RetryAttempt *attempt_ptrs[MED_DLQ_HISTORY_MAX];
    Mediation__V1__DeadLetter__HeadersEntry *entries;
    Mediation__V1__DeadLetter__HeadersEntry **entry_ptrs;
    const char **keys; /* from natsMsgHeader_Keys: the array is ours */
} dl_parts;

static void parts_free(dl_parts *p)
{
    free(p->entries);
    free(p->entry_ptrs);
    free((void *)p->keys);
}

/* A header with several values keeps its first: the Med-* headers are
 * single-valued, and the map cannot hold repeats. */
static med_rc fill_headers(natsMsg *failed, dl_parts *p, Mediation__V1__DeadLetter *dl,
                           med_err *err)
{
    int count = 0;
    natsStatus s = natsMsgHeader_Keys(failed, &p->keys, &count);
    if (s == NATS_NOT_FOUND || count <= 0) return MED_OK;
    if (s != NATS_OK)
        return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_ENCODE_FAILED, NULL,
                           "read headers of failed message: %s", natsStatus_GetText(s));
    p->entries = calloc((size_t)count, sizeof *p->entries);
    p->entry_ptrs = calloc((size_t)count, sizeof *p->entry_ptrs);
    if (!p->entries || !p->entry_ptrs)
        return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "dead letter headers");
    size_t n = 0;
    for (int i = 0; i < count; i++) {
        const char *value = NULL;
        if (natsMsgHeader_Get(failed, p->keys[i], &value) != NATS_OK) value = "";
        Mediation__V1__DeadLetter__HeadersEntry *e = &p->entries[n];
        mediation__v1__dead_letter__headers_entry__init(e);
        e->key = (char *)p->keys[i];
        e->value = str_or_empty(value);
        p->entry_ptrs[n++] = e;
    }
    dl->n_headers = n;
    dl->headers = p->entry_ptrs;
    return MED_OK;
}

static void fill_history(const med_retry_history *h, dl_parts *p, Mediation__V1__DeadLetter *dl)
{
    dl->n_history = med_retry_history_to_pb(h, p->attempts, p->attempt_ptrs);
    dl->history = dl->n_history > 0 ? p->attempt_ptrs : NULL;
}

static void fill_delivery(const med_delivery_info *info, Mediation__V1__DeadLetter *dl)
{
    if (!info) return;
    dl->stream = str_or_empty(info->stream);
    dl->consumer = str_or_empty(info->consumer);
    dl->stream_seq = info->stream_seq;
    dl->num_delivered = info->num_delivered;
}

static med_rc pack(const Mediation__V1__DeadLetter *dl, uint8_t **out, size_t *len,
                   med_err *err)
{
    size_t size = mediation__v1__dead_letter__get_packed_size(dl);
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "dead letter");
    *len = mediation__v1__dead_letter__pack(dl, buf);
    *out = buf;
    return MED_OK;
}

med_rc med_dlq_encode(const char *stage, natsMsg *failed, const med_delivery_info *info,
                      const char *reason_code, const char *last_error,
                      const med_retry_history *history, uint8_t **out, size_t *len,
                      med_err *err)
{
    *out = NULL;
    *len = 0;
    if (!stage || !*stage || !failed)
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_ENCODE_FAILED, NULL,
                           "dead letter needs a stage and the failed message");
    dl_parts *p = calloc(1, sizeof *p);
    if (!p) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "dead letter");
    Mediation__V1__DeadLetter dl = MEDIATION__V1__DEAD_LETTER__INIT;
    mediation__v1__trace_context__init(&p->trace);
    med_headers_read(failed, &p->th);
    med_headers_to_trace_ctx(&p->th, &p->trace);
    dl.trace = &p->trace;
    dl.stage = (char *)stage;
    dl.failed_subject = str_or_empty(natsMsg_GetSubject(failed));
    fill_delivery(info, &dl);
    dl.reason_code = str_or_empty(reason_code);
    dl.last_error = str_or_empty(last_error);
    fill_history(history, p, &dl);
    dl.payload.data = (uint8_t *)natsMsg_GetData(failed);
    dl.payload.len = (size_t)natsMsg_GetDataLength(failed);
    dl.dead_at_unix_ms = med_now_unix_ms();
    dl.msg_id = str_or_empty(med_header_get(failed, MED_HDR_MSG_ID));
    dl.tenant_id = p->th.tenant;
    med_rc rc = fill_headers(failed, p, &dl, err);
    if (rc == MED_OK) rc = pack(&dl, out, len, err);
    parts_free(p);
    free(p);
    return rc;
}

static void dlq_msg_id(const char *stage, const med_delivery_info *info, natsMsg *failed,
                       char *out, size_t cap)
{
    if (info && info->stream)
        snprintf(out, cap, "%s%s.%s.%llu", MED_DLQ_MSG_ID_PREFIX, stage, info->stream,
                 (unsigned long long)info->stream_seq);
    else /* not from a stream: nothing to deduplicate against */
        snprintf(out, cap, "%s%s.%s.%lld", MED_DLQ_MSG_ID_PREFIX, stage,
                 natsMsg_GetSubject(failed), (long long)med_now_unix_ms());
}

static void count_dead_letter(const char *stage)
{
    char labels[96];
    snprintf(labels, sizeof labels, "stage=\"%s\"", stage);
    med_counter *c = med_counter_get("med_dlq_published_total",
                                     "Messages published to the dead-letter queue", labels);
    if (c) med_counter_inc(c);
}

med_rc med_dlq_publish(med_js *js, const char *stage, natsMsg *failed,
                       const med_delivery_info *info, const char *reason_code,
                       const char *last_error, const med_retry_history *history,
                       med_err *err)
{
    char subject[128];
    if (med_dlq_subject(stage, subject, sizeof subject) != 0)
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_PUBLISH_FAILED, NULL,
                           "invalid stage for a DLQ subject: \"%s\"", stage ? stage : "");
    uint8_t *buf = NULL;
    size_t len = 0;
    med_rc rc = med_dlq_encode(stage, failed, info, reason_code, last_error, history, &buf,
                               &len, err);
    if (rc != MED_OK) return rc;
    natsMsg *m = NULL;
    rc = med_js_msg_new(subject, buf, (int)len, failed, &m, err);
    free(buf);
    if (rc != MED_OK) return rc;
    char msg_id[256];
    dlq_msg_id(stage, info, failed, msg_id, sizeof msg_id);
    int duplicate = 0;
    rc = med_js_publish(js, m, msg_id, &duplicate, err);
    natsMsg_Destroy(m);
    if (rc != MED_OK) return rc;
    if (!duplicate) count_dead_letter(stage);
    med_trace_headers th;
    med_headers_read(failed, &th);
    med_log_ctx lc = { .trace_id = th.trace_key, .request_id = th.request_key,
                       .tenant_id = th.tenant, .error_code = reason_code };
    MED_LOGW(&lc, "dead-lettered %s seq %llu after %llu deliveries%s: %s",
             natsMsg_GetSubject(failed), (unsigned long long)(info ? info->stream_seq : 0),
             (unsigned long long)(info ? info->num_delivered : 0),
             duplicate ? " (already in the DLQ)" : "", last_error ? last_error : "");
    return MED_OK;
}
