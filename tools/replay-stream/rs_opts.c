#include "rs_opts.h"

#include "med/rfc3339.h"

#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rs_usage(void *file)
{
    fputs("usage: replay-stream --subject SUBJECT [--stream NAME]\n"
          "         (--since RFC3339 [--until RFC3339] | --from-seq N [--to-seq M])\n"
          "         [--to SUBJECT] [--rewrite-msg-id [--run-id ID]] [--core]\n"
          "         [--rate MSGS_PER_SEC] [--limit N] [--dry-run] [--nats URL] [--idle-ms MS]\n"
          "Re-feeds the stored messages of SUBJECT, selected by time [since, until) or by\n"
          "stream sequence [from, to], to their own subject or to --to, headers kept.\n",
          (FILE *)file);
}

/* ---- RFC 3339 ---- */

int rs_parse_time_ms(const char *s, int64_t *out_ms)
{
    return s ? med_rfc3339_parse(s, out_ms) : -1;
}

/* ---- options ---- */

enum {
    OPT_SUBJECT = 1000, OPT_STREAM, OPT_SINCE, OPT_UNTIL, OPT_FROM_SEQ, OPT_TO_SEQ, OPT_TO,
    OPT_REWRITE, OPT_RUN_ID, OPT_CORE, OPT_RATE, OPT_LIMIT, OPT_DRY_RUN, OPT_NATS, OPT_IDLE,
    OPT_HELP
};

static const struct option long_opts[] = {
    {"subject", required_argument, NULL, OPT_SUBJECT},
    {"stream", required_argument, NULL, OPT_STREAM},
    {"since", required_argument, NULL, OPT_SINCE},
    {"until", required_argument, NULL, OPT_UNTIL},
    {"from-seq", required_argument, NULL, OPT_FROM_SEQ},
    {"to-seq", required_argument, NULL, OPT_TO_SEQ},
    {"to", required_argument, NULL, OPT_TO},
    {"rewrite-msg-id", no_argument, NULL, OPT_REWRITE},
    {"run-id", required_argument, NULL, OPT_RUN_ID},
    {"core", no_argument, NULL, OPT_CORE},
    {"rate", required_argument, NULL, OPT_RATE},
    {"limit", required_argument, NULL, OPT_LIMIT},
    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
    {"nats", required_argument, NULL, OPT_NATS},
    {"idle-ms", required_argument, NULL, OPT_IDLE},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static int fail(char *why, size_t cap, const char *msg, const char *arg)
{
    snprintf(why, cap, "%s%s%s", msg, arg ? ": " : "", arg ? arg : "");
    return -1;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end = NULL;
    if (!s || !*s || *s == '-') return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end) return -1;
    *out = v;
    return 0;
}

/* A literal subject: tokens, no wildcards, no spaces. */
static int literal_subject(const char *s)
{
    if (!s || !*s || s[0] == '.' || s[strlen(s) - 1] == '.' || strstr(s, "..")) return 0;
    return strpbrk(s, "*> \t\r\n") == NULL;
}

typedef struct raw_args {
    const char *since, *until, *from, *to_seq, *rate, *limit, *idle;
} raw_args;

static int take_opt(int c, rs_opts *o, raw_args *r)
{
    switch (c) {
    case OPT_SUBJECT: o->subject = optarg; break;
    case OPT_STREAM: o->stream = optarg; break;
    case OPT_SINCE: r->since = optarg; break;
    case OPT_UNTIL: r->until = optarg; break;
    case OPT_FROM_SEQ: r->from = optarg; break;
    case OPT_TO_SEQ: r->to_seq = optarg; break;
    case OPT_TO: o->to = optarg; break;
    case OPT_REWRITE: o->rewrite_msg_id = 1; break;
    case OPT_RUN_ID: o->run_id = optarg; break;
    case OPT_CORE: o->core = 1; break;
    case OPT_RATE: r->rate = optarg; break;
    case OPT_LIMIT: r->limit = optarg; break;
    case OPT_DRY_RUN: o->dry_run = 1; break;
    case OPT_NATS: o->nats_url = optarg; break;
    case OPT_IDLE: r->idle = optarg; break;
    case OPT_HELP: return 1;
    default: return -1;
    }
    return 0;
}

static int check_range(rs_opts *o, const raw_args *r, char *why, size_t cap)
{
    int by_time = r->since || r->until, by_seq = r->from || r->to_seq;
    if (by_time == by_seq)
        return fail(why, cap, "give exactly one of --since/--until or --from-seq/--to-seq", NULL);
    if (by_time) {
        o->range = RS_RANGE_TIME;
        if (!r->since) return fail(why, cap, "--until needs --since", NULL);
        if (rs_parse_time_ms(r->since, &o->since_ms)) return fail(why, cap, "bad --since", r->since);
        if (r->until && rs_parse_time_ms(r->until, &o->until_ms))
            return fail(why, cap, "bad --until", r->until);
        if (r->until && o->until_ms <= o->since_ms)
            return fail(why, cap, "--until must be after --since", NULL);
        return 0;
    }
    o->range = RS_RANGE_SEQ;
    if (!r->from) return fail(why, cap, "--to-seq needs --from-seq", NULL);
    if (parse_u64(r->from, &o->from_seq) || o->from_seq == 0)
        return fail(why, cap, "--from-seq must be a sequence >= 1", r->from);
    if (r->to_seq && (parse_u64(r->to_seq, &o->to_seq) || o->to_seq < o->from_seq))
        return fail(why, cap, "--to-seq must be >= --from-seq", r->to_seq);
    return 0;
}

static int check_numbers(rs_opts *o, const raw_args *r, char *why, size_t cap)
{
    char *end = NULL;
    if (r->rate) {
        o->rate = strtod(r->rate, &end);
        if (*end || o->rate < 0) return fail(why, cap, "bad --rate", r->rate);
    }
    if (r->limit) {
        o->limit = strtol(r->limit, &end, 10);
        if (*end || o->limit < 0) return fail(why, cap, "bad --limit", r->limit);
    }
    if (r->idle) {
        o->idle_ms = (int)strtol(r->idle, &end, 10);
        if (*end || o->idle_ms <= 0) return fail(why, cap, "bad --idle-ms", r->idle);
    }
    return 0;
}

int rs_opts_parse(int argc, char **argv, rs_opts *o, char *why, size_t why_cap)
{
    memset(o, 0, sizeof *o);
    o->idle_ms = 3000;
    raw_args r = {0};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
        int t = take_opt(c, o, &r);
        if (t == 1) return 1;
        if (t < 0) return fail(why, why_cap, "unknown or incomplete option", argv[optind - 1]);
    }
    if (optind < argc) return fail(why, why_cap, "unexpected argument", argv[optind]);
    if (!o->subject || !*o->subject) return fail(why, why_cap, "--subject is required", NULL);
    if (o->to && !literal_subject(o->to))
        return fail(why, why_cap, "--to must be a literal subject", o->to);
    if (o->run_id && !o->rewrite_msg_id)
        return fail(why, why_cap, "--run-id only with --rewrite-msg-id", NULL);
    if (check_range(o, &r, why, why_cap)) return -1;
    return check_numbers(o, &r, why, why_cap);
}

/* ---- per-message rules ---- */

rs_verdict rs_select(const rs_opts *o, uint64_t seq, int64_t ts_ms, uint64_t stop_seq, long sent)
{
    if (seq > stop_seq) return RS_STOP;
    if (o->limit > 0 && sent >= o->limit) return RS_STOP;
    if (o->range == RS_RANGE_SEQ) {
        if (o->to_seq && seq > o->to_seq) return RS_STOP;
        return seq < o->from_seq ? RS_SKIP : RS_SEND;
    }
    if (o->until_ms && ts_ms >= o->until_ms) return RS_STOP;
    return ts_ms < o->since_ms ? RS_SKIP : RS_SEND;
}

int rs_rewrite_msg_id(const char *orig, const char *run_id, const char *stream, uint64_t seq,
                      char *out, size_t cap)
{
    int n = orig && *orig
                ? snprintf(out, cap, "%s.replay.%s", orig, run_id)
                : snprintf(out, cap, "replay.%s.%s.%llu", run_id, stream ? stream : "",
                           (unsigned long long)seq);
    return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}

int64_t rs_pace_offset_ms(long n, double rate)
{
    if (rate <= 0 || n <= 0) return 0;
    return (int64_t)((double)n * 1000.0 / rate);
}
