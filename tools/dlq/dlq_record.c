#include "dlq_record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "med/names.h"

static int set(const char *s)
{
    return s && *s;
}

void dlq_origin_of(const Mediation__V1__DeadLetter *dl, uint64_t dlq_seq, dlq_origin *out)
{
    if (set(dl->stream)) {
        out->stream = dl->stream;
        out->consumer = dl->consumer ? dl->consumer : "";
        out->seq = dl->stream_seq;
    } else {
        out->stream = MED_STREAM_DLQ;
        out->consumer = "";
        out->seq = dlq_seq;
    }
}

const char *dlq_tenant_of(const Mediation__V1__DeadLetter *dl)
{
    if (set(dl->tenant_id)) return dl->tenant_id;
    if (dl->trace && set(dl->trace->tenant_id)) return dl->trace->tenant_id;
    const char *h = dlq_header(dl, MED_HDR_TENANT);
    return set(h) ? h : DLQ_PLATFORM_TENANT;
}

const char *dlq_header(const Mediation__V1__DeadLetter *dl, const char *name)
{
    for (size_t i = 0; i < dl->n_headers; i++)
        if (dl->headers[i]->key && strcasecmp(dl->headers[i]->key, name) == 0)
            return dl->headers[i]->value;
    return NULL;
}

static json_t *history_json(const Mediation__V1__DeadLetter *dl)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < dl->n_history; i++) {
        const Mediation__V1__RetryAttempt *a = dl->history[i];
        json_t *o = json_pack("{s:I, s:I, s:s, s:s, s:I}", "attempt", (json_int_t)a->attempt,
                              "atUnixMs", (json_int_t)a->at_unix_ms, "errorCode",
                              a->error_code ? a->error_code : "", "errorMessage",
                              a->error_message ? a->error_message : "", "nextDelayMs",
                              (json_int_t)a->next_delay_ms);
        if (!o || json_array_append_new(arr, o) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

static json_t *headers_json(const Mediation__V1__DeadLetter *dl)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < dl->n_headers; i++)
        if (json_object_set_new(o, dl->headers[i]->key ? dl->headers[i]->key : "",
                                json_string(dl->headers[i]->value ? dl->headers[i]->value : "")))
            return json_decref(o), NULL;
    return o;
}

/* bytea in hex input form. */
static json_t *payload_hex(const Mediation__V1__DeadLetter *dl)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = dl->payload.len;
    char *s = malloc(n * 2 + 3);
    if (!s) return NULL;
    s[0] = '\\';
    s[1] = 'x';
    for (size_t i = 0; i < n; i++) {
        s[2 + 2 * i] = hex[dl->payload.data[i] >> 4];
        s[3 + 2 * i] = hex[dl->payload.data[i] & 15];
    }
    s[2 + 2 * n] = '\0';
    json_t *j = json_string(s);
    free(s);
    return j;
}

static int put(json_t *o, const char *k, const char *v)
{
    return json_object_set_new(o, k, set(v) ? json_string(v) : json_null());
}

static int put_int(json_t *o, const char *k, long long v)
{
    return json_object_set_new(o, k, json_integer(v));
}

json_t *dlq_row_json(const Mediation__V1__DeadLetter *dl, uint64_t dlq_seq)
{
    dlq_origin og;
    dlq_origin_of(dl, dlq_seq, &og);
    const Mediation__V1__TraceContext *t = dl->trace;
    json_t *o = json_object();
    if (!o) return NULL;
    int bad = put(o, "tenant_id", dlq_tenant_of(dl)) | put(o, "stage", dl->stage) |
              put(o, "failed_subject", dl->failed_subject) | put(o, "stream", og.stream) |
              json_object_set_new(o, "consumer", json_string(og.consumer)) |
              put_int(o, "stream_seq", (long long)og.seq) | put(o, "msg_id", dl->msg_id) |
              put(o, "reason_code", set(dl->reason_code) ? dl->reason_code : "unknown") |
              put(o, "last_error", dl->last_error) |
              put_int(o, "num_delivered", (long long)dl->num_delivered) |
              json_object_set_new(o, "history", history_json(dl)) |
              json_object_set_new(o, "headers", headers_json(dl)) |
              json_object_set_new(o, "payload", payload_hex(dl)) |
              put(o, "trace_key", t ? t->trace_key : dlq_header(dl, MED_HDR_TRACE_KEY)) |
              put(o, "request_key", t ? t->request_key : dlq_header(dl, MED_HDR_REQUEST_KEY)) |
              put(o, "opportunity_key",
                  t ? t->opportunity_key : dlq_header(dl, MED_HDR_OPPORTUNITY_KEY)) |
              put_int(o, "dead_at_ms", (long long)dl->dead_at_unix_ms);
    if (bad || !json_object_get(o, "history") || !json_object_get(o, "headers") ||
        !json_object_get(o, "payload")) {
        json_decref(o);
        return NULL;
    }
    return o;
}

dlq_redrive_verdict dlq_redrive_check(const char *status, int force)
{
    if (force || !status || strcmp(status, DLQ_STATUS_OPEN) == 0) return DLQ_REDRIVE_GO;
    if (strcmp(status, DLQ_STATUS_DISCARDED) == 0) return DLQ_REDRIVE_DISCARDED;
    return DLQ_REDRIVE_ALREADY_DONE;
}

int dlq_redrive_msg_id(const Mediation__V1__DeadLetter *dl, uint64_t dlq_seq, int repeat,
                       int64_t now_ms, char *out, size_t cap)
{
    char base[384];
    int n = set(dl->msg_id)
                ? snprintf(base, sizeof base, "%s.redrive.%llu", dl->msg_id,
                           (unsigned long long)dlq_seq)
                : snprintf(base, sizeof base, "redrive.%s.%llu", dl->stage ? dl->stage : "",
                           (unsigned long long)dlq_seq);
    if (n < 0 || (size_t)n >= sizeof base) return -1;
    n = repeat ? snprintf(out, cap, "%s.%lld", base, (long long)now_ms)
               : snprintf(out, cap, "%s", base);
    return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}
