/* tools/dlq: what one command run shares (connections, counters, exit
 * codes) between main.c (MED_DLQ dead letters) and dlq_table_cmd.c
 * (table-only dead letters). */
#ifndef DLQ_CTX_H
#define DLQ_CTX_H

#include <libpq-fe.h>
#include <nats/nats.h>

#include "dlq_opts.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_REFUSED = 3, EXIT_DUPLICATE = 4 };

typedef struct dlq_ctx {
    const dlq_opts *o;
    natsConnection *nc;
    jsCtx *js;
    PGconn *pg;   /* NULL: no database (list/show only) */
    int failed, refused, duplicates;
} dlq_ctx;

/* --by, else $USER, else "operator". */
const char *dlq_operator_name(const dlq_ctx *c);
/* Ends a re-drive transaction that marked nothing (commits what it
 * recorded, the status unchanged). */
void dlq_keep_record(dlq_ctx *c);

#endif
