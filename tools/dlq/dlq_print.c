#include "dlq_print.h"

#include <stdlib.h>
#include <string.h>

#include "dlq_record.h"
#include "med/ids.h"
#include "med/names.h"

#define PAYLOAD_PREVIEW 64

static const char *status_of(const dlq_status *st, size_t i)
{
    if (!st) return "?";
    return st[i].known ? st[i].status : DLQ_STATUS_OPEN;
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

static void table_row(FILE *out, const dlq_table_item *it)
{
    char at[32];
    med_format_utc_ms(it->dead_at_ms, at, sizeof at);
    fprintf(out, "t%lld\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", it->id, at, it->stage,
            it->failed_subject, it->reason_code, it->num_delivered, it->status, it->tenant,
            it->msg_id[0] ? it->msg_id : "-");
}

/* A merge cursor over both kinds, skipping what --open hides. */
typedef struct cursor {
    const dlq_list_rows *r;
    size_t i, j;
    int open_only;
} cursor;

static int open_ok(const cursor *c, const char *status)
{
    return !c->open_only || strcmp(status, DLQ_STATUS_OPEN) == 0;
}

static void skip_hidden(cursor *c)
{
    while (c->i < c->r->n && !open_ok(c, status_of(c->r->st, c->i))) c->i++;
    while (c->j < c->r->nt && !open_ok(c, c->r->t[c->j].status)) c->j++;
}

/* Next row (oldest dead_at first; MED_DLQ first on a tie), printed when
 * print is set. 0 when both are exhausted. */
static int next_row(cursor *c, FILE *out, int print)
{
    skip_hidden(c);
    int have_e = c->i < c->r->n, have_t = c->j < c->r->nt;
    if (!have_e && !have_t) return 0;
    int take_e = have_e && (!have_t || c->r->e[c->i].dl->dead_at_unix_ms <=
                                           c->r->t[c->j].dead_at_ms);
    if (take_e && print) list_row(out, &c->r->e[c->i], status_of(c->r->st, c->i));
    if (!take_e && print) table_row(out, &c->r->t[c->j]);
    if (take_e) c->i++;
    else c->j++;
    return 1;
}

void dlq_print_list(FILE *out, const dlq_list_rows *rows, int open_only, long limit)
{
    cursor c = {rows, 0, 0, open_only};
    size_t total = 0;
    while (next_row(&c, out, 0)) total++;
    size_t skip = limit > 0 && total > (size_t)limit ? total - (size_t)limit : 0;
    fprintf(out, "ID\tDEAD_AT\tSTAGE\tSUBJECT\tREASON\tATTEMPTS\tSTATUS\tTENANT\tMSG_ID\n");
    c = (cursor){rows, 0, 0, open_only};
    for (size_t k = 0; k < skip; k++) next_row(&c, out, 0);
    while (next_row(&c, out, 1)) {}
    fprintf(out, "# %zu dead letter(s)%s, %zu shown\n", total, open_only ? " open" : "",
            total - skip);
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

static void show_bytes(FILE *out, const uint8_t *data, size_t len)
{
    fprintf(out, "payload:         %zu bytes", len);
    size_t n = len < PAYLOAD_PREVIEW ? len : PAYLOAD_PREVIEW;
    if (n) fprintf(out, ", hex ");
    for (size_t i = 0; i < n; i++) fprintf(out, "%02x", data[i]);
    fprintf(out, "%s\n", len > n ? "..." : "");
}

static void show_payload(FILE *out, const Mediation__V1__DeadLetter *dl)
{
    show_bytes(out, dl->payload.data, dl->payload.len);
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

/* F's payload is an FOutboxRecords: its records are what was not archived. */
static void show_table_payload(FILE *out, const dlq_table_item *it)
{
    char *text = dlq_table_item_kind(it) == DLQ_TABLE_F_OUTBOX && it->payload_len
                     ? dlq_outbox_records_text(it->payload, it->payload_len)
                     : NULL;
    if (text) fprintf(out, "payload:         %zu bytes, FOutboxRecords %s", it->payload_len, text);
    else show_bytes(out, it->payload, it->payload_len);
    free(text);
}

void dlq_print_table_show(FILE *out, const dlq_table_item *it)
{
    char at[32];
    med_format_utc_ms(it->dead_at_ms, at, sizeof at);
    fprintf(out, "id:              t%lld (dead_letter_records, not in " MED_STREAM_DLQ ")\n", it->id);
    fprintf(out, "kind:            %s\n", dlq_table_kind_name(dlq_table_item_kind(it)));
    fprintf(out, "stage:           %s\n", it->stage);
    fprintf(out, "failed subject:  %s\n", it->failed_subject);
    if (it->stream[0])
        fprintf(out, "origin:          %s seq %lld consumer %s\n", it->stream, it->stream_seq,
                it->consumer);
    else fprintf(out, "origin:          -\n");
    fprintf(out, "tenant:          %s\n", it->tenant);
    fprintf(out, "msg id:          %s\n", it->msg_id[0] ? it->msg_id : "-");
    fprintf(out, "dead at:         %s\n", at);
    fprintf(out, "reason code:     %s\n", it->reason_code);
    fprintf(out, "last error:      %s\n", it->last_error);
    fprintf(out, "attempts:        %d\n", it->num_delivered);
    if (it->trace_key[0] || it->request_key[0] || it->opportunity_key[0])
        fprintf(out, "keys:            trace %s request %s opportunity %s\n",
                it->trace_key[0] ? it->trace_key : "-", it->request_key[0] ? it->request_key : "-",
                it->opportunity_key[0] ? it->opportunity_key : "-");
    show_table_payload(out, it);
    fprintf(out, "status:          %s", it->status);
    if (it->redriven_at[0]) fprintf(out, " at %s by %s", it->redriven_at, it->redriven_by);
    fprintf(out, "\n");
    if (it->note[0]) fprintf(out, "note:            %s\n", it->note);
}
