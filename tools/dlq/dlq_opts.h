/* tools/dlq command line. Pure. */
#ifndef DLQ_OPTS_H
#define DLQ_OPTS_H

#include <stddef.h>
#include <stdint.h>

#include "dlq_table.h"

#define DLQ_MAX_IDS 256

typedef enum dlq_cmd { DLQ_CMD_NONE = 0, DLQ_CMD_LIST, DLQ_CMD_SHOW, DLQ_CMD_REDRIVE } dlq_cmd;

typedef struct dlq_opts {
    dlq_cmd cmd;
    const char *nats_url;   /* NULL = $NATS_URL, else the local default */
    const char *pg_dsn;     /* NULL = $PG_DSN */
    const char *stage;
    long limit;             /* list: newest N (default 50, 0 = all) */
    int open_only;          /* list: only dead letters not re-driven */
    dlq_id ids[DLQ_MAX_IDS];  /* MED_DLQ sequences or t<dead_letter_records.id> */
    size_t n_ids;
    int all;                /* redrive every open dead letter of --stage */
    int force;              /* redrive even if re-driven or discarded before */
    int dry_run;
    int new_msg_id;         /* redrive under a new Nats-Msg-Id */
    const char *by;         /* operator recorded as redriven_by */
} dlq_opts;

/* 0 ok, 1 --help, -1 usage error (why filled). */
int dlq_opts_parse(int argc, char **argv, dlq_opts *o, char *why, size_t cap);
void dlq_usage(void *file);

#endif
