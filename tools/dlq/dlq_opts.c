#include "dlq_opts.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void dlq_usage(void *file)
{
    fputs("usage: dlq [--nats URL] [--pg DSN] list [--stage STAGE] [--limit N] [--open]\n"
          "       dlq [--nats URL] [--pg DSN] show ID\n"
          "       dlq [--nats URL] [--pg DSN] redrive ID... | --stage STAGE --all\n"
          "                 [--dry-run] [--force] [--new-msg-id] [--by OPERATOR]\n"
          "ID is the dead letter's sequence in MED_DLQ, or t<N> for one only in\n"
          "dead_letter_records (F's outbox, G's quarantine) (first column of list).\n"
          "redrive republishes the original message and headers to its failed subject once;\n"
          "a dead letter already re-driven (or discarded) is refused unless --force.\n",
          (FILE *)file);
}

enum {
    OPT_NATS = 1000, OPT_PG, OPT_STAGE, OPT_LIMIT, OPT_OPEN, OPT_ALL, OPT_FORCE, OPT_DRY_RUN,
    OPT_NEW_ID, OPT_BY, OPT_HELP
};

static const struct option long_opts[] = {
    {"nats", required_argument, NULL, OPT_NATS},
    {"pg", required_argument, NULL, OPT_PG},
    {"stage", required_argument, NULL, OPT_STAGE},
    {"limit", required_argument, NULL, OPT_LIMIT},
    {"open", no_argument, NULL, OPT_OPEN},
    {"all", no_argument, NULL, OPT_ALL},
    {"force", no_argument, NULL, OPT_FORCE},
    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
    {"new-msg-id", no_argument, NULL, OPT_NEW_ID},
    {"by", required_argument, NULL, OPT_BY},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static int fail(char *why, size_t cap, const char *msg, const char *arg)
{
    snprintf(why, cap, "%s%s%s", msg, arg ? ": " : "", arg ? arg : "");
    return -1;
}

static int take_opt(int c, dlq_opts *o, const char **limit)
{
    switch (c) {
    case OPT_NATS: o->nats_url = optarg; break;
    case OPT_PG: o->pg_dsn = optarg; break;
    case OPT_STAGE: o->stage = optarg; break;
    case OPT_LIMIT: *limit = optarg; break;
    case OPT_OPEN: o->open_only = 1; break;
    case OPT_ALL: o->all = 1; break;
    case OPT_FORCE: o->force = 1; break;
    case OPT_DRY_RUN: o->dry_run = 1; break;
    case OPT_NEW_ID: o->new_msg_id = 1; break;
    case OPT_BY: o->by = optarg; break;
    case OPT_HELP: return 1;
    default: return -1;
    }
    return 0;
}

static int command_of(const char *s)
{
    if (strcmp(s, "list") == 0) return DLQ_CMD_LIST;
    if (strcmp(s, "show") == 0) return DLQ_CMD_SHOW;
    if (strcmp(s, "redrive") == 0) return DLQ_CMD_REDRIVE;
    return DLQ_CMD_NONE;
}

static int take_ids(int argc, char **argv, int first, dlq_opts *o, char *why, size_t cap)
{
    for (int i = first; i < argc; i++) {
        if (o->n_ids == DLQ_MAX_IDS) return fail(why, cap, "too many ids", NULL);
        if (dlq_id_parse(argv[i], &o->ids[o->n_ids])) return fail(why, cap, "not a dead letter id", argv[i]);
        o->n_ids++;
    }
    return 0;
}

static int check_command(dlq_opts *o, char *why, size_t cap)
{
    int redrive_flags = o->all || o->force || o->dry_run || o->new_msg_id || o->by;
    switch (o->cmd) {
    case DLQ_CMD_LIST:
        if (o->n_ids || redrive_flags) return fail(why, cap, "list takes --stage, --limit, --open", NULL);
        return 0;
    case DLQ_CMD_SHOW:
        if (o->n_ids != 1 || redrive_flags || o->stage || o->open_only)
            return fail(why, cap, "show takes exactly one id", NULL);
        return 0;
    case DLQ_CMD_REDRIVE:
        if (o->open_only) return fail(why, cap, "--open is for list", NULL);
        if (o->all && (!o->stage || o->n_ids))
            return fail(why, cap, "--all needs --stage and no ids", NULL);
        if (!o->all && (o->n_ids == 0 || o->stage))
            return fail(why, cap, "redrive takes ids, or --stage STAGE --all", NULL);
        return 0;
    default:
        return fail(why, cap, "missing command (list, show, redrive)", NULL);
    }
}

int dlq_opts_parse(int argc, char **argv, dlq_opts *o, char *why, size_t cap)
{
    memset(o, 0, sizeof *o);
    o->limit = 50;
    const char *limit = NULL;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
        int t = take_opt(c, o, &limit);
        if (t == 1) return 1;
        if (t < 0) return fail(why, cap, "unknown or incomplete option", argv[optind - 1]);
    }
    if (optind >= argc) return fail(why, cap, "missing command (list, show, redrive)", NULL);
    o->cmd = command_of(argv[optind]);
    if (o->cmd == DLQ_CMD_NONE) return fail(why, cap, "unknown command", argv[optind]);
    if (take_ids(argc, argv, optind + 1, o, why, cap)) return -1;
    if (limit) {
        char *end = NULL;
        o->limit = strtol(limit, &end, 10);
        if (*end || o->limit < 0) return fail(why, cap, "bad --limit", limit);
    }
    return check_command(o, why, cap);
}
