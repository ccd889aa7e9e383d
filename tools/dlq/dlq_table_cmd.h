/* tools/dlq commands on table-only dead letters (t<id>): collect them for
 * list, show one, re-drive one (F's outbox: re-arm the f_outbox row; G's
 * quarantine: only with --force, republish under a new msg id). */
#ifndef DLQ_TABLE_CMD_H
#define DLQ_TABLE_CMD_H

#include <stddef.h>

#include "dlq_ctx.h"
#include "dlq_table.h"

/* Every table-only dead letter of --stage (all stages without), across
 * tenants, oldest first; *items owned (dlq_table_items_free). 0 on success. */
int dlq_table_collect(dlq_ctx *c, dlq_table_item **items, size_t *n);
void dlq_table_items_free(dlq_table_item *items, size_t n);

/* show t<id>: an exit code. */
int dlq_table_show(dlq_ctx *c, long long id);
/* redrive t<id>: counts into c->failed / refused / duplicates. */
void dlq_table_redrive(dlq_ctx *c, long long id);
/* redrive --stage X --all, table side: every open F outbox dead letter of
 * the stage (G quarantines need an explicit per-id --force). */
void dlq_table_redrive_stage(dlq_ctx *c);

#endif
