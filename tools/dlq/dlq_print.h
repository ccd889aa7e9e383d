/* tools/dlq output: the list table and one dead letter in full. */
#ifndef DLQ_PRINT_H
#define DLQ_PRINT_H

#include <stddef.h>
#include <stdio.h>

#include "dlq_store.h"
#include "dlq_stream.h"

/* Tab-separated, oldest first, the newest `limit` rows (0 = all) after the
 * --open filter. st NULL = no database: status "?". */
void dlq_print_list(FILE *out, const dlq_entry *e, size_t n, const dlq_status *st,
                    int open_only, long limit);
void dlq_print_show(FILE *out, const dlq_entry *e, const dlq_status *st);

#endif
