/* tools/dlq: the operator's view of the dead-letter queue (00-architecture:
 * "a DLQ message is re-driven only by an explicit operator command").
 *
 * Dead letters are read from MED_DLQ (the DeadLetter protobufs stages
 * publish through common/src/dlq.c) and recorded in dead_letter_records,
 * which also holds whether one was re-driven, when and by whom. A re-drive
 * republishes the original payload and headers to the failed subject,
 * inside a transaction holding the record's row lock, and is refused the
 * second time unless --force. Dead letters only in dead_letter_records
 * (F's outbox sweeper, G's quarantine; ids t<N>) are handled by
 * dlq_table_cmd.c with their own re-drive rules.
 *
 * Exit: 0 done; 1 a failure; 2 usage; 3 a re-drive was refused (already
 * re-driven or discarded); 4 the stream dropped a re-drive as a duplicate
 * (its Nats-Msg-Id is still inside the duplicate window: retry later or
 * use --new-msg-id). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>

#include "dlq_ctx.h"
#include "dlq_opts.h"
#include "dlq_print.h"
#include "dlq_record.h"
#include "dlq_store.h"
#include "dlq_stream.h"
#include "dlq_table.h"
#include "dlq_table_cmd.h"
#include "dlq_table_store.h"
#include "med/ids.h"


/* ---- connections ---- */

static int connect_nats(dlq_ctx *c)
{
    const char *url = c->o->nats_url ? c->o->nats_url : getenv("NATS_URL");
    natsStatus s = natsConnection_ConnectTo(&c->nc, url && *url ? url : NATS_DEFAULT_URL);
    if (s == NATS_OK) s = natsConnection_JetStream(&c->js, c->nc, NULL);
    if (s == NATS_OK) return 0;
    fprintf(stderr, "dlq: nats: %s\n", natsStatus_GetText(s));
    return -1;
}

/* The database is needed to re-drive; list and show work without it. */
static int connect_pg(dlq_ctx *c, int required)
{
    const char *dsn = c->o->pg_dsn ? c->o->pg_dsn : getenv("PG_DSN");
    char why[512];
    if (!dsn || !*dsn) {
        if (required) fprintf(stderr, "dlq: redrive needs the database: --pg DSN or PG_DSN\n");
        return required ? -1 : 0;
    }
    c->pg = dlq_store_open(dsn, why, sizeof why);
    if (c->pg) return 0;
    fprintf(stderr, "dlq: %s%s\n", why, required ? "" : " (status not shown)");
    return required ? -1 : 0;
}

/* ---- record + status, one transaction per tenant ---- */

static int sync_tenant(dlq_ctx *c, const dlq_entry *e, size_t n, unsigned char *done,
                       size_t first, dlq_status *st)
{
    const char *tenant = dlq_tenant_of(e[first].dl);
    json_t *rows = json_array();
    size_t *idx = calloc(n, sizeof *idx), k = 0;
    int rc = rows && idx ? 0 : -1;
    for (size_t j = first; rc == 0 && j < n; j++) {
        if (done[j] || strcmp(dlq_tenant_of(e[j].dl), tenant) != 0) continue;
        json_t *row = dlq_row_json(e[j].dl, e[j].seq);
        if (!row || json_array_append_new(rows, row) != 0) rc = -1;
        done[j] = 1;
        idx[k++] = j;
    }
    dlq_status *tmp = rc == 0 ? calloc(k ? k : 1, sizeof *tmp) : NULL;
    char why[512] = "out of memory";
    if (!tmp || dlq_store_sync(c->pg, tenant, rows, tmp, why, sizeof why) != 0) {
        fprintf(stderr, "dlq: record dead letters of tenant %s: %s\n", tenant, why);
        rc = -1;
    } else {
        for (size_t m = 0; m < k; m++) st[idx[m]] = tmp[m];
    }
    free(tmp);
    free(idx);
    json_decref(rows);
    return rc;
}

static int sync_entries(dlq_ctx *c, const dlq_entry *e, size_t n, dlq_status *st)
{
    unsigned char *done = calloc(n ? n : 1, 1);
    if (!done) return -1;
    int rc = 0;
    for (size_t i = 0; i < n; i++)
        if (!done[i] && sync_tenant(c, e, n, done, i, st) != 0) rc = -1;
    free(done);
    return rc;
}

/* ---- list ---- */

static int cmd_list(dlq_ctx *c)
{
    if (c->o->open_only && !c->pg) {
        fprintf(stderr, "dlq: --open needs the database (--pg or PG_DSN)\n");
        return EXIT_FAIL;
    }
    dlq_entries es;
    char why[512];
    if (dlq_stream_read(c->js, c->o->stage, &es, why, sizeof why) != 0) {
        fprintf(stderr, "dlq: %s\n", why);
        return EXIT_FAIL;
    }
    dlq_status *st = calloc(es.n ? es.n : 1, sizeof *st);
    int rc = st ? EXIT_OK : EXIT_FAIL;
    if (st && c->pg && sync_entries(c, es.items, es.n, st) != 0) rc = EXIT_FAIL;
    dlq_table_item *t = NULL;
    size_t nt = 0;
    if (c->pg && dlq_table_collect(c, &t, &nt) != 0) rc = EXIT_FAIL;
    dlq_list_rows rows = {es.items, es.n, c->pg ? st : NULL, t, nt};
    if (st) dlq_print_list(stdout, &rows, c->o->open_only, c->o->limit);
    dlq_table_items_free(t, nt);
    free(st);
    dlq_entries_free(&es);
    return rc;
}

/* ---- show ---- */

static int cmd_show(dlq_ctx *c)
{
    if (c->o->ids[0].table) return dlq_table_show(c, (long long)c->o->ids[0].n);
    Mediation__V1__DeadLetter *dl = NULL;
    char why[512];
    int g = dlq_stream_get(c->js, c->o->ids[0].n, &dl, why, sizeof why);
    if (g != 0) {
        fprintf(stderr, "dlq: %s\n", why);
        return EXIT_FAIL;
    }
    dlq_entry e = {c->o->ids[0].n, dl};
    dlq_status st = {0};
    int rc = c->pg && sync_entries(c, &e, 1, &st) != 0 ? EXIT_FAIL : EXIT_OK;
    dlq_print_show(stdout, &e, c->pg ? &st : NULL);
    mediation__v1__dead_letter__free_unpacked(dl, NULL);
    return rc;
}

/* ---- redrive ---- */

const char *dlq_operator_name(const dlq_ctx *c)
{
    if (c->o->by) return c->o->by;
    const char *u = getenv("USER");
    return u && *u ? u : "operator";
}

/* Ends a re-drive transaction that marked nothing: the dead letter stays
 * recorded (as list would record it), its status unchanged. */
void dlq_keep_record(dlq_ctx *c)
{
    char why[512];
    if (dlq_store_commit(c->pg, why, sizeof why) != 0) {
        dlq_store_rollback(c->pg);
        fprintf(stderr, "dlq: %s\n", why);
    }
}

static int refuse(dlq_ctx *c, uint64_t seq, const dlq_status *st)
{
    c->refused++;
    printf("refused %llu: already %s%s%s%s%s (use --force to re-drive again)\n",
           (unsigned long long)seq, st->status, st->redriven_at[0] ? " at " : "", st->redriven_at,
           st->redriven_by[0] ? " by " : "", st->redriven_by);
    dlq_keep_record(c);
    return 0;
}

/* F's MED_DLQ copy of an outbox dead letter carries FOutboxRecords, which
 * G cannot read as an ArchiveRecord: it is re-driven through its table
 * row (which re-arms F's outbox), never republished as is. */
static void refuse_outbox_copy(dlq_ctx *c, uint64_t seq, const Mediation__V1__DeadLetter *dl)
{
    long long id = 0;
    char why[512];
    if (dlq_table_find_outbox(c->pg, dl->msg_id, &id, why, sizeof why) != 0)
        fprintf(stderr, "dlq: %s\n", why);
    c->refused++;
    if (id)
        printf("refused %llu: F outbox dead letter %s: re-drive it as t%lld (re-arms F's outbox)\n",
               (unsigned long long)seq, dl->msg_id, id);
    else
        printf("refused %llu: F outbox dead letter %s: its outbox row is not dead-lettered "
               "(nothing to re-arm)\n", (unsigned long long)seq, dl->msg_id);
    dlq_keep_record(c);
}

/* Publishes inside the row lock, then records it. */
static void publish_and_mark(dlq_ctx *c, uint64_t seq, const Mediation__V1__DeadLetter *dl,
                             const dlq_status *st)
{
    char id[512], why[512], note[768];
    const char *msg_id = NULL;
    int repeat = strcmp(st->status, DLQ_STATUS_OPEN) != 0;
    if (c->o->new_msg_id &&
        dlq_redrive_msg_id(dl, seq, repeat, med_now_unix_ms(), id, sizeof id) == 0)
        msg_id = id;
    uint64_t stored = 0;
    int dup = 0;
    if (dlq_stream_republish(c->js, dl, seq, msg_id, &stored, &dup, why, sizeof why) != 0) {
        dlq_keep_record(c);
        c->failed++;
        fprintf(stderr, "dlq: redrive %llu: %s\n", (unsigned long long)seq, why);
        return;
    }
    if (dup) {
        dlq_keep_record(c);
        c->duplicates++;
        printf("dropped %llu: the stream still remembers Nats-Msg-Id \"%s\" (duplicate window); "
               "retry later or use --new-msg-id\n",
               (unsigned long long)seq, msg_id ? msg_id : dl->msg_id);
        return;
    }
    snprintf(note, sizeof note, "redriven to %s as seq %llu, msg id %s", dl->failed_subject,
             (unsigned long long)stored, msg_id ? msg_id : (dl->msg_id[0] ? dl->msg_id : "(none)"));
    if (dlq_store_mark_redriven(c->pg, st->id, dlq_operator_name(c), note, why, sizeof why) != 0 ||
        dlq_store_commit(c->pg, why, sizeof why) != 0) {
        dlq_store_rollback(c->pg);
        c->failed++;
        fprintf(stderr, "dlq: redrive %llu was published (seq %llu) but not recorded: %s\n",
                (unsigned long long)seq, (unsigned long long)stored, why);
        return;
    }
    printf("redriven %llu: %s\n", (unsigned long long)seq, note);
}

static void redrive_one(dlq_ctx *c, uint64_t seq, const Mediation__V1__DeadLetter *dl)
{
    json_t *row = dlq_row_json(dl, seq);
    dlq_status st;
    char why[512] = "out of memory";
    if (!row || dlq_store_begin_locked(c->pg, dlq_tenant_of(dl), row, &st, why, sizeof why) != 0) {
        json_decref(row);
        c->failed++;
        fprintf(stderr, "dlq: redrive %llu: %s\n", (unsigned long long)seq, why);
        return;
    }
    json_decref(row);
    if (dlq_is_f_outbox_letter(dl)) {
        refuse_outbox_copy(c, seq, dl);
        return;
    }
    if (dlq_redrive_check(st.status, c->o->force) != DLQ_REDRIVE_GO) {
        refuse(c, seq, &st);
        return;
    }
    if (c->o->dry_run) {
        dlq_keep_record(c);
        printf("would redrive %llu: %s -> %s (%zu bytes, %zu headers, status %s)\n",
               (unsigned long long)seq, dl->stage, dl->failed_subject, dl->payload.len,
               dl->n_headers, st.status);
        return;
    }
    publish_and_mark(c, seq, dl, &st);
}

static void redrive_ids(dlq_ctx *c)
{
    for (size_t i = 0; i < c->o->n_ids; i++) {
        if (c->o->ids[i].table) {
            dlq_table_redrive(c, (long long)c->o->ids[i].n);
            continue;
        }
        Mediation__V1__DeadLetter *dl = NULL;
        char why[512];
        if (dlq_stream_get(c->js, c->o->ids[i].n, &dl, why, sizeof why) != 0) {
            c->failed++;
            fprintf(stderr, "dlq: %s\n", why);
            continue;
        }
        redrive_one(c, c->o->ids[i].n, dl);
        mediation__v1__dead_letter__free_unpacked(dl, NULL);
    }
}

/* --stage X --all: every dead letter of the stage still open. */
static void redrive_stage(dlq_ctx *c)
{
    dlq_entries es;
    char why[512];
    if (dlq_stream_read(c->js, c->o->stage, &es, why, sizeof why) != 0) {
        c->failed++;
        fprintf(stderr, "dlq: %s\n", why);
        return;
    }
    dlq_status *st = calloc(es.n ? es.n : 1, sizeof *st);
    if (!st || sync_entries(c, es.items, es.n, st) != 0) c->failed++;
    for (size_t i = 0; st && i < es.n; i++)
        if (st[i].known && strcmp(st[i].status, DLQ_STATUS_OPEN) == 0)
            redrive_one(c, es.items[i].seq, es.items[i].dl);
    free(st);
    dlq_entries_free(&es);
    dlq_table_redrive_stage(c);
}

static int cmd_redrive(dlq_ctx *c)
{
    if (c->o->all) redrive_stage(c);
    else redrive_ids(c);
    printf("dlq redrive: failed=%d refused=%d duplicates=%d dry_run=%s\n", c->failed, c->refused,
           c->duplicates, c->o->dry_run ? "true" : "false");
    if (c->failed) return EXIT_FAIL;
    if (c->refused) return EXIT_REFUSED;
    return c->duplicates ? EXIT_DUPLICATE : EXIT_OK;
}

static int run(dlq_ctx *c)
{
    int need_pg = c->o->cmd == DLQ_CMD_REDRIVE;
    if (connect_nats(c) != 0 || connect_pg(c, need_pg) != 0) return EXIT_FAIL;
    switch (c->o->cmd) {
    case DLQ_CMD_LIST: return cmd_list(c);
    case DLQ_CMD_SHOW: return cmd_show(c);
    case DLQ_CMD_REDRIVE: return cmd_redrive(c);
    default: return EXIT_USAGE;
    }
}

int main(int argc, char **argv)
{
    dlq_opts o;
    char why[256] = "";
    int p = dlq_opts_parse(argc, argv, &o, why, sizeof why);
    if (p == 1) {
        dlq_usage(stdout);
        return EXIT_OK;
    }
    if (p != 0) {
        fprintf(stderr, "dlq: %s\n", why);
        dlq_usage(stderr);
        return EXIT_USAGE;
    }
    dlq_ctx c = {.o = &o};
    int code = run(&c);
    if (c.pg) PQfinish(c.pg);
    jsCtx_Destroy(c.js);
    natsConnection_Destroy(c.nc);
    nats_Close();
    return code;
}
