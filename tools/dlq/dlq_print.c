#include "dlq_print.h"

#include <string.h>

#include "dlq_record.h"
#include "med/ids.h"

#define PAYLOAD_PREVIEW 64

static const char *status_of(const dlq_status *st, size_t i)
{
    if (!st) return "?";
    return st[i].known ? st[i].status : DLQ_STATUS_OPEN;
}

static int shown(const dlq_status *st, size_t i, int open_only)
{
    return !open_only || strcmp(status_of(st, i), DLQ_STATUS_OPEN) == 0;
}

static void list_row(FILE *out, const dlq_entry *e, const char *status)
{
    const Mediation__V1__DeadLetter *dl = e->dl;
    char at[32];
    med_format_utc_ms(dl->dead_at_unix_ms, at, sizeof at);
    fprintf(out, "%llu\t%s\t%s\t%s\t%s\t%llu\t%s\t%s\t%s\n", (unsigned long long)e->seq, at,
            dl->stage, dl->failed_subject, dl->reason_code, (unsigned long long)dl->num_delivered,
            status, dlq_tenant_of(dl), dl->msg_id[0] ? dl->msg_id : "-");
}

void dlq_print_list(FILE *out, const dlq_entry *e, size_t n, const dlq_status *st,
                    int open_only, long limit)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) total += shown(st, i, open_only);
    size_t skip = limit > 0 && total > (size_t)limit ? total - (size_t)limit : 0;
    fprintf(out, "ID\tDEAD_AT\tSTAGE\tSUBJECT\tREASON\tATTEMPTS\tSTATUS\tTENANT\tMSG_ID\n");
    for (size_t i = 0; i < n; i++) {
        if (!shown(st, i, open_only)) continue;
        if (skip > 0) {
            skip--;
            continue;
        }
        list_row(out, &e[i], status_of(st, i));
    }
    fprintf(out, "# %zu dead letter(s)%s, %zu shown\n", total, open_only ? " open" : "",
            limit > 0 && total > (size_t)limit ? (size_t)limit : total);
}

static void show_history(FILE *out, const Mediation__V1__DeadLetter *dl)
{
    for (size_t i = 0; i < dl->n_history; i++) {
        const Mediation__V1__RetryAttempt *a = dl->history[i];
        char at[32];
        med_format_utc_ms(a->at_unix_ms, at, sizeof at);
        fprintf(out, "  attempt %u at %s: %s %s (next delay %lld ms)\n", a->attempt, at,
                a->error_code, a->error_message, (long long)a->next_delay_ms);
    }
}

static void show_payload(FILE *out, const Mediation__V1__DeadLetter *dl)
{
    fprintf(out, "payload:         %zu bytes", dl->payload.len);
    size_t n = dl->payload.len < PAYLOAD_PREVIEW ? dl->payload.len : PAYLOAD_PREVIEW;
    if (n) fprintf(out, ", hex ");
    for (size_t i = 0; i < n; i++) fprintf(out, "%02x", dl->payload.data[i]);
    fprintf(out, "%s\n", dl->payload.len > n ? "..." : "");
}

void dlq_print_show(FILE *out, const dlq_entry *e, const dlq_status *st)
{
    const Mediation__V1__DeadLetter *dl = e->dl;
    char at[32];
    med_format_utc_ms(dl->dead_at_unix_ms, at, sizeof at);
    fprintf(out, "id:              %llu\n", (unsigned long long)e->seq);
    fprintf(out, "stage:           %s\n", dl->stage);
    fprintf(out, "failed subject:  %s\n", dl->failed_subject);
    fprintf(out, "origin:          %s seq %llu consumer %s\n", dl->stream,
            (unsigned long long)dl->stream_seq, dl->consumer);
    fprintf(out, "tenant:          %s\n", dlq_tenant_of(dl));
    fprintf(out, "msg id:          %s\n", dl->msg_id[0] ? dl->msg_id : "-");
    fprintf(out, "dead at:         %s\n", at);
    fprintf(out, "reason code:     %s\n", dl->reason_code);
    fprintf(out, "last error:      %s\n", dl->last_error);
    fprintf(out, "attempts:        %llu\n", (unsigned long long)dl->num_delivered);
    show_history(out, dl);
    fprintf(out, "headers:\n");
    for (size_t i = 0; i < dl->n_headers; i++)
        fprintf(out, "  %s: %s\n", dl->headers[i]->key, dl->headers[i]->value);
    show_payload(out, dl);
    if (!st) {
        fprintf(out, "status:          ? (no database)\n");
        return;
    }
    fprintf(out, "status:          %s", st->known ? st->status : DLQ_STATUS_OPEN);
    if (st->redriven_at[0]) fprintf(out, " at %s by %s", st->redriven_at, st->redriven_by);
    fprintf(out, "\n");
}
