/* tools/replay-stream: options and the per-message rules (which messages
 * of the stream are selected, when to stop, the message id of a shadow
 * run, pacing). Pure, so the rules are unit-tested without a server. */
#ifndef RS_OPTS_H
#define RS_OPTS_H

#include <stddef.h>
#include <stdint.h>

typedef enum rs_range { RS_RANGE_NONE = 0, RS_RANGE_TIME, RS_RANGE_SEQ } rs_range;

typedef struct rs_opts {
    const char *subject;       /* filter subject (required) */
    const char *stream;        /* NULL = the stream that captures subject */
    const char *to;            /* target subject; NULL = each message's own subject */
    const char *nats_url;
    const char *run_id;        /* shadow-run tag for rewritten ids; NULL = random */
    rs_range range;
    int64_t since_ms, until_ms;   /* time range [since, until); until 0 = open */
    uint64_t from_seq, to_seq;    /* sequence range [from, to]; to 0 = open */
    int rewrite_msg_id;        /* new Nats-Msg-Id per message (shadow runs) */
    int core;                  /* plain NATS publish instead of JetStream */
    int dry_run;
    double rate;               /* messages per second; 0 = unlimited */
    long limit;                /* most messages to send; 0 = no limit */
    int idle_ms;               /* give up after this long without a message */
} rs_opts;

/* Parses argv (argv[0] = program). 0 on success; -1 with a sentence in
 * why (usage error); 1 when --help was asked. */
int rs_opts_parse(int argc, char **argv, rs_opts *o, char *why, size_t why_cap);
void rs_usage(void *file);

/* RFC 3339 (date 'T' time, optional fraction, 'Z' or +-HH:MM) -> Unix ms. */
int rs_parse_time_ms(const char *s, int64_t *out_ms);

typedef enum rs_verdict { RS_SEND = 0, RS_SKIP, RS_STOP } rs_verdict;

/* What to do with the message at stream sequence seq stored at ts_ms;
 * stop_seq is the stream's last sequence when the run started (messages
 * published after it are not part of the run), sent = messages selected
 * so far. */
rs_verdict rs_select(const rs_opts *o, uint64_t seq, int64_t ts_ms, uint64_t stop_seq, long sent);

/* The Nats-Msg-Id of a rewritten message: "<orig>.replay.<run_id>", or
 * "replay.<run_id>.<stream>.<seq>" when the original had none. 0 on
 * success, -1 if it does not fit. */
int rs_rewrite_msg_id(const char *orig, const char *run_id, const char *stream, uint64_t seq,
                      char *out, size_t cap);

/* Milliseconds after the run's start before message number n (0-based) may
 * go out at rate messages/s (0 = at once). */
int64_t rs_pace_offset_ms(long n, double rate);

#endif
