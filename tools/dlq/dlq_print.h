/* tools/dlq output: the list table and one dead letter in full. */
#ifndef DLQ_PRINT_H
#define DLQ_PRINT_H

#include <stddef.h>
#include <stdio.h>

#include "dlq_store.h"
#include "dlq_stream.h"
#include "dlq_table.h"

/* What list shows: MED_DLQ dead letters (st NULL = no database: status
 * "?") and table-only ones (ID t<id>). */
typedef struct dlq_list_rows {
    const dlq_entry *e;
    size_t n;
    const dlq_status *st;
    const dlq_table_item *t;
    size_t nt;
} dlq_list_rows;

/* Tab-separated, both kinds merged by dead_at, oldest first, the newest
 * `limit` rows (0 = all) after the --open filter. */
void dlq_print_list(FILE *out, const dlq_list_rows *rows, int open_only, long limit);
void dlq_print_show(FILE *out, const dlq_entry *e, const dlq_status *st);
/* One table-only dead letter in full; F's records decoded. */
void dlq_print_table_show(FILE *out, const dlq_table_item *it);

#endif
