#include "dlq_table_cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dlq_print.h"
#include "dlq_record.h"
#include "dlq_store.h"
#include "dlq_stream.h"
#include "dlq_table_store.h"
#include "med/ids.h"
#include "med/names.h"

/* ---- list / show ---- */

static int by_dead_at(const void *a, const void *b)
{
    const dlq_table_item *x = a, *y = b;
    if (x->dead_at_ms != y->dead_at_ms) return x->dead_at_ms < y->dead_at_ms ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

int dlq_table_collect(dlq_ctx *c, dlq_table_item **items, size_t *n)
{
    *items = NULL;
    *n = 0;
    dlq_tenants ts;
    char why[512];
    int rc = dlq_table_tenants(c->pg, c->o->stage, &ts, why, sizeof why);
    for (size_t i = 0; rc == 0 && i < ts.n; i++)
        rc = dlq_table_read(c->pg, ts.names[i], c->o->stage, items, n, why, sizeof why);
    dlq_tenants_free(&ts);
    if (rc != 0) fprintf(stderr, "dlq: table-only dead letters: %s\n", why);
    if (*n > 1) qsort(*items, *n, sizeof **items, by_dead_at);
    return rc;
}

void dlq_table_items_free(dlq_table_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++) dlq_table_item_free(&items[i]);
    free(items);
}

/* Finds t<id>'s tenant and opens its locked transaction: 0 locked, else
 * failed (counted, reported). */
static int lock_item(dlq_ctx *c, long long id, dlq_table_item *it)
{
    char tenant[128], why[512];
    int f = dlq_table_tenant_of(c->pg, id, tenant, sizeof tenant, why, sizeof why);
    if (f == 1) snprintf(why, sizeof why, "no table-only dead letter t%lld", id);
    if (f == 0 && dlq_table_begin_locked(c->pg, tenant, id, it, why, sizeof why) == 0) return 0;
    fprintf(stderr, "dlq: t%lld: %s\n", id, why);
    return -1;
}

int dlq_table_show(dlq_ctx *c, long long id)
{
    if (!c->pg) {
        fprintf(stderr, "dlq: t%lld lives in dead_letter_records: --pg DSN or PG_DSN\n", id);
        return EXIT_FAIL;
    }
    dlq_table_item it;
    if (lock_item(c, id, &it) != 0) return EXIT_FAIL;
    dlq_store_rollback(c->pg); /* read only */
    dlq_print_table_show(stdout, &it);
    dlq_table_item_free(&it);
    return EXIT_OK;
}

/* ---- redrive ---- */

static void refuse(dlq_ctx *c, const dlq_table_item *it, dlq_table_plan p)
{
    c->refused++;
    if (p == DLQ_TPLAN_REFUSE_INVALID)
        printf("refused t%lld: G quarantined it as an invalid archive record; the same bytes "
               "would be quarantined again (fix the cause, then --force to republish)\n",
               it->id);
    else
        printf("refused t%lld: already %s%s%s%s%s (use --force to re-drive again)\n", it->id,
               it->status, it->redriven_at[0] ? " at " : "", it->redriven_at,
               it->redriven_by[0] ? " by " : "", it->redriven_by);
    dlq_store_rollback(c->pg);
}

static void fail_tx(dlq_ctx *c, const dlq_table_item *it, const char *why)
{
    dlq_store_rollback(c->pg);
    c->failed++;
    fprintf(stderr, "dlq: redrive t%lld: %s\n", it->id, why);
}

static int mark_and_commit(dlq_ctx *c, const dlq_table_item *it, const char *note, int copies,
                           char *why, size_t cap)
{
    const char *by = dlq_operator_name(c);
    if (dlq_store_mark_redriven(c->pg, it->id, by, note, why, cap) != 0) return -1;
    if (copies && dlq_table_mark_outbox_copies(c->pg, it->msg_id, by, note, why, cap) != 0)
        return -1;
    return dlq_store_commit(c->pg, why, cap);
}

/* F republishes through its own path: the sweeper takes the re-armed row
 * (published_at NULL, dead_at NULL, next attempt due), publishes each
 * record under its recordKey as Nats-Msg-Id, and dead-letters it again if
 * the new window runs out. Nothing is published from here. */
static void rearm_outbox(dlq_ctx *c, const dlq_table_item *it)
{
    char why[512], note[512];
    int rearmed = 0;
    if (dlq_table_rearm_outbox(c->pg, it->msg_id, &rearmed, why, sizeof why) == 0 && !rearmed)
        snprintf(why, sizeof why, "f_outbox row %s is not dead-lettered (published, re-armed "
                 "or purged): nothing to re-arm", it->msg_id);
    snprintf(note, sizeof note, "re-armed f_outbox %s: F's sweeper republishes it (next attempt "
             "now, window restarted)", it->msg_id);
    if (!rearmed || mark_and_commit(c, it, note, 1, why, sizeof why) != 0) {
        fail_tx(c, it, why);
        return;
    }
    printf("redriven t%lld: %s\n", it->id, note);
}

static natsMsg *quarantined_msg(const dlq_table_item *it, const char *msg_id)
{
    natsMsg *m = NULL;
    if (natsMsg_Create(&m, it->failed_subject, NULL, (const char *)it->payload,
                       (int)it->payload_len) != NATS_OK)
        return NULL;
    char mark[64];
    snprintf(mark, sizeof mark, DLQ_TABLE_MARK "/t%lld", it->id);
    const char *h[][2] = {{MED_HDR_TENANT, it->tenant}, {MED_HDR_TRACE_KEY, it->trace_key},
                          {MED_HDR_REQUEST_KEY, it->request_key},
                          {MED_HDR_OPPORTUNITY_KEY, it->opportunity_key},
                          {MED_HDR_REDRIVE_OF, mark}, {MED_HDR_MSG_ID, msg_id}};
    natsStatus s = NATS_OK;
    for (size_t i = 0; s == NATS_OK && i < sizeof h / sizeof h[0]; i++)
        if (h[i][1][0]) s = natsMsgHeader_Set(m, h[i][0], h[i][1]);
    if (s == NATS_OK) return m;
    natsMsg_Destroy(m);
    return NULL;
}

/* --force on a G quarantine: the stored payload to its failed subject
 * under "<msg_id>.redrive.t<id>", so neither the stream's duplicate window
 * nor G's idempotency treats it as the quarantined delivery. */
static void republish(dlq_ctx *c, const dlq_table_item *it)
{
    char id[512], why[512] = "", note[1024];
    int repeat = strcmp(it->status, DLQ_STATUS_OPEN) != 0;
    natsMsg *m = NULL;
    if (dlq_table_msg_id(it, repeat, med_now_unix_ms(), id, sizeof id) != 0)
        snprintf(why, sizeof why, "message id too long");
    else if (!(m = quarantined_msg(it, id)))
        snprintf(why, sizeof why, "could not build the message");
    uint64_t stored = 0;
    int dup = 0;
    if (!m || dlq_stream_publish_msg(c->js, m, &stored, &dup, why, sizeof why) != 0) {
        fail_tx(c, it, why);
        return;
    }
    if (dup) {
        dlq_store_rollback(c->pg);
        c->duplicates++;
        printf("dropped t%lld: the stream still remembers Nats-Msg-Id \"%s\"\n", it->id, id);
        return;
    }
    snprintf(note, sizeof note, "redriven to %s as seq %llu, msg id %s", it->failed_subject,
             (unsigned long long)stored, id);
    if (mark_and_commit(c, it, note, 0, why, sizeof why) != 0) {
        dlq_store_rollback(c->pg);
        c->failed++;
        fprintf(stderr, "dlq: redrive t%lld was published (seq %llu) but not recorded: %s\n",
                it->id, (unsigned long long)stored, why);
        return;
    }
    printf("redriven t%lld: %s\n", it->id, note);
}

static void dry_run(dlq_ctx *c, const dlq_table_item *it, dlq_table_plan p)
{
    dlq_store_rollback(c->pg);
    if (p == DLQ_TPLAN_REARM_OUTBOX)
        printf("would redrive t%lld: re-arm f_outbox %s (F's sweeper republishes it; status %s)\n",
               it->id, it->msg_id, it->status);
    else
        printf("would redrive t%lld: %s -> %s (%zu bytes, new msg id, status %s)\n", it->id,
               it->stage, it->failed_subject, it->payload_len, it->status);
}

void dlq_table_redrive(dlq_ctx *c, long long id)
{
    dlq_table_item it;
    if (lock_item(c, id, &it) != 0) {
        c->failed++;
        return;
    }
    dlq_table_plan p = dlq_table_plan_of(dlq_table_item_kind(&it), it.status, c->o->force);
    if (dlq_table_plan_refused(p)) refuse(c, &it, p);
    else if (p == DLQ_TPLAN_UNSUPPORTED)
        fail_tx(c, &it, "no re-drive rule for this dead letter (not F's outbox, not G's quarantine)");
    else if (c->o->dry_run) dry_run(c, &it, p);
    else if (p == DLQ_TPLAN_REARM_OUTBOX) rearm_outbox(c, &it);
    else republish(c, &it);
    dlq_table_item_free(&it);
}

void dlq_table_redrive_stage(dlq_ctx *c)
{
    dlq_table_item *items = NULL;
    size_t n = 0;
    if (dlq_table_collect(c, &items, &n) != 0) c->failed++;
    for (size_t i = 0; i < n; i++)
        if (strcmp(items[i].status, DLQ_STATUS_OPEN) == 0 &&
            dlq_table_item_kind(&items[i]) == DLQ_TABLE_F_OUTBOX)
            dlq_table_redrive(c, items[i].id);
    dlq_table_items_free(items, n);
}
