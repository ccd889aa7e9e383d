#include "dlq_table.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dlq_record.h"
#include "med/names.h"
#include "mediation/v1/archive.pb-c.h"

static int set(const char *s)
{
    return s && *s;
}

int dlq_id_parse(const char *s, dlq_id *out)
{
    if (!s) return -1;
    int table = *s == DLQ_TABLE_ID_PREFIX;
    const char *digits = table ? s + 1 : s;
    if (*digits < '0' || *digits > '9') return -1;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(digits, &end, 10);
    if (*end || v == 0 || errno) return -1;
    out->n = v;
    out->table = table;
    return 0;
}

void dlq_id_format(dlq_id id, char *out, size_t cap)
{
    snprintf(out, cap, "%s%llu", id.table ? "t" : "", (unsigned long long)id.n);
}

dlq_table_kind dlq_table_kind_of(const char *stage, const char *stream, const char *failed_subject)
{
    if (!stage) return DLQ_TABLE_UNKNOWN;
    /* F's sweeper writes no stream: the records never were a stream message */
    if (strcmp(stage, MED_STAGE_F) == 0 && !set(stream) && failed_subject &&
        strcmp(failed_subject, MED_SUBJ_G_ARCHIVE) == 0)
        return DLQ_TABLE_F_OUTBOX;
    /* G quarantines a delivered archive message: it has its stream origin */
    if (strcmp(stage, MED_STAGE_G) == 0 && set(stream) && set(failed_subject))
        return DLQ_TABLE_G_QUARANTINE;
    return DLQ_TABLE_UNKNOWN;
}

const char *dlq_table_kind_name(dlq_table_kind k)
{
    switch (k) {
    case DLQ_TABLE_F_OUTBOX: return "f_outbox (archive records F could not publish)";
    case DLQ_TABLE_G_QUARANTINE: return "g_quarantine (an invalid archive record)";
    default: return "unknown (no re-drive rule)";
    }
}

void dlq_table_item_free(dlq_table_item *it)
{
    free(it->payload);
    it->payload = NULL;
    it->payload_len = 0;
}

dlq_table_kind dlq_table_item_kind(const dlq_table_item *it)
{
    return dlq_table_kind_of(it->stage, it->stream, it->failed_subject);
}

dlq_table_plan dlq_table_plan_of(dlq_table_kind k, const char *status, int force)
{
    if (k == DLQ_TABLE_UNKNOWN) return DLQ_TPLAN_UNSUPPORTED;
    dlq_redrive_verdict v = dlq_redrive_check(status, force);
    if (v == DLQ_REDRIVE_ALREADY_DONE) return DLQ_TPLAN_REFUSE_DONE;
    if (v == DLQ_REDRIVE_DISCARDED) return DLQ_TPLAN_REFUSE_DISCARDED;
    if (k == DLQ_TABLE_F_OUTBOX) return DLQ_TPLAN_REARM_OUTBOX;
    return force ? DLQ_TPLAN_REPUBLISH : DLQ_TPLAN_REFUSE_INVALID;
}

int dlq_table_plan_refused(dlq_table_plan p)
{
    return p == DLQ_TPLAN_REFUSE_DONE || p == DLQ_TPLAN_REFUSE_DISCARDED ||
           p == DLQ_TPLAN_REFUSE_INVALID;
}

int dlq_table_msg_id(const dlq_table_item *it, int repeat, int64_t now_ms, char *out, size_t cap)
{
    char base[448];
    int n = set(it->msg_id)
                ? snprintf(base, sizeof base, "%s.redrive.t%lld", it->msg_id, it->id)
                : snprintf(base, sizeof base, "redrive.%s.t%lld", it->stage, it->id);
    if (n < 0 || (size_t)n >= sizeof base) return -1;
    n = repeat ? snprintf(out, cap, "%s.%lld", base, (long long)now_ms)
               : snprintf(out, cap, "%s", base);
    return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}

/* Appends to a malloc'd buffer; -1 on allocation failure. */
static int append(char **buf, size_t *len, size_t *cap, const char *a, const char *b,
                  const char *c)
{
    size_t need = strlen(a) + strlen(b) + strlen(c) + 8;
    if (*len + need > *cap) {
        size_t ncap = (*cap + need) * 2;
        char *nb = realloc(*buf, ncap);
        if (!nb) return -1;
        *buf = nb;
        *cap = ncap;
    }
    *len += (size_t)snprintf(*buf + *len, *cap - *len, "  %s %s%s\n", a, b, c);
    return 0;
}

char *dlq_outbox_records_text(const uint8_t *pb, size_t len)
{
    Mediation__V1__FOutboxRecords *r = mediation__v1__foutbox_records__unpack(NULL, len, pb);
    if (!r) return NULL;
    size_t cap = 64, n = 0;
    char *buf = malloc(cap);
    if (buf) n = (size_t)snprintf(buf, cap, "records: %zu\n", r->n_records);
    for (size_t i = 0; buf && i < r->n_records; i++) {
        const Mediation__V1__FToGArchiveRecordLite *rec = r->records[i];
        char status[64] = "";
        if (set(rec->record_status)) snprintf(status, sizeof status, " [%s]", rec->record_status);
        if (append(&buf, &n, &cap, set(rec->record_type) ? rec->record_type : "?",
                   set(rec->record_key) ? rec->record_key : "-", status) != 0) {
            free(buf);
            buf = NULL;
        }
    }
    mediation__v1__foutbox_records__free_unpacked(r, NULL);
    return buf;
}

int dlq_is_f_outbox_letter(const Mediation__V1__DeadLetter *dl)
{
    return dlq_table_kind_of(dl->stage, dl->stream, dl->failed_subject) == DLQ_TABLE_F_OUTBOX;
}
