/* G.4 archive writes as pure rules: the write state machine of one record,
 * the order gate of a group (closureKeyOrNA|traceKey), what a due record
 * becomes at a given instant (written, still waiting, retried on the
 * ladder, or terminal 15 min after ingest) and the group state F and
 * operators read. The store loads a group's rows, asks g_group_plan and
 * applies the plan; nothing here does I/O. */
#ifndef G_ARCHIVE_STATE_H
#define G_ARCHIVE_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "med/err.h"

typedef enum g_write_status {
    G_WS_PENDING = 0,
    G_WS_WRITING,
    G_WS_WRITTEN,
    G_WS_FAILED_RETRYABLE,
    G_WS_FAILED_TERMINAL,
    G_WS__COUNT
} g_write_status;

/* Declaration order is the write order inside a group. */
typedef enum g_record_type {
    G_RT_DECISION_AUDIT = 0,
    G_RT_BILLABLE_FACT,
    G_RT_ATTRIBUTION_FACT,
    G_RT__COUNT
} g_record_type;

typedef enum g_record_status {
    G_RS_NEW = 0,
    G_RS_COMMITTED,
    G_RS_DUPLICATE,
    G_RS_CONFLICTED,
    G_RS_REJECTED,
    G_RS_SUPERSEDED,
    G_RS__COUNT
} g_record_status;

typedef enum g_group_state {
    G_GS_PARTIAL_TIMEOUT = 0,
    G_GS_PARTIAL_PENDING,
    G_GS_CONSISTENT_COMMITTED,
    G_GS_CONSISTENT_NON_BILLABLE,
} g_group_state;

/* Wire names ("write_failed_retryable", "billable_fact", ...). */
const char *g_write_status_name(g_write_status s);
const char *g_record_type_name(g_record_type t);
const char *g_record_status_name(g_record_status s);
const char *g_group_state_name(g_group_state s);
/* 0 and *out set when s is a known wire name, -1 otherwise. */
int g_write_status_parse(const char *s, g_write_status *out);
int g_record_type_parse(const char *s, g_record_type *out);
int g_record_status_parse(const char *s, g_record_status *out);

typedef enum g_write_event {
    G_EV_GATE_OPEN = 0,      /* pending | write_failed_retryable -> writing */
    G_EV_WRITE_OK,           /* writing -> written */
    G_EV_WRITE_RETRYABLE,    /* writing -> write_failed_retryable */
    G_EV_WRITE_FATAL,        /* writing | pending | retryable -> write_failed_terminal */
    G_EV_DEADLINE,           /* pending | retryable -> write_failed_terminal (15 min) */
} g_write_event;

/* 1 and *next set when ev applies to a record in cur with record status
 * rs; 0 when the transition is not allowed (written and terminal are
 * final; a `new` record never leaves pending / writing / retryable). */
int g_write_next(g_write_status cur, g_record_status rs, g_write_event ev, g_write_status *next);
/* Terminal: written or write_failed_terminal. */
int g_write_status_terminal(g_write_status s);

/* A failed archive write as G.4 names it. */
typedef struct g_write_failure {
    const char *reason;   /* g_archive_write_timeout / _temporarily_unavailable / _rate_limited, or the error's own code */
    int retryable;
} g_write_failure;

/* Store failure -> G.4 code: a timeout is g_archive_write_timeout, an
 * unreachable or failing store g_archive_temporarily_unavailable, a
 * throttled one (err_code g_archive_rate_limited) g_archive_rate_limited;
 * anything else (bad data, a bug) is not retryable and keeps err_code. */
g_write_failure g_write_failure_classify(med_rc rc, const char *err_code);

/* Delay before retry number `failures` (1-based) of a record whose write
 * failed retryably: 1 s, 5 s, 30 s, then 120 s repeating. */
int64_t g_write_retry_delay_ms(int failures);
/* 1 once window_ms have passed since ingest (inclusive). */
int g_write_deadline_passed(int64_t ingest_ms, int64_t now_ms, int64_t window_ms);

/* One archive record of a group as the gate sees it. Strings borrowed. */
typedef struct g_group_row {
    const char *record_key;
    const char *source_event_id;   /* "" when unknown */
    g_record_type type;
    g_record_status status;
    g_write_status ws;
    int64_t output_at_ms;
    int64_t ingest_ms;             /* created_at */
    int write_attempts;            /* failed writes so far */
} g_group_row;

/* Write order: decision_audit, billable_fact, attribution_fact; the same
 * type by outputAt, then recordKey bytes. qsort-compatible. */
int g_group_row_cmp(const void *a, const void *b);

/* Gate: sets open[i] = 1 for every row of one group that may be written
 * now: a decision_audit that is not `new`; a fact once the decision_audit
 * of its source event (any decision_audit when either side has no source
 * event id) is written or opens in this same call. Rows already terminal
 * or `new` never open. Returns how many opened. */
size_t g_gate_open(const g_group_row *rows, size_t n, unsigned char *open);

typedef struct g_plan_policy {
    int64_t window_ms;      /* G.4 compensation: 15 min */
    int64_t recheck_ms;     /* how often a waiting record's gate is re-read */
} g_plan_policy;

/* What to do with one row (see g_group_plan). */
typedef struct g_row_update {
    int change;               /* 0: leave the row alone */
    g_write_status ws;
    const char *reason;       /* write_reason_code after the update, NULL = none */
    int64_t next_attempt_ms;  /* 0 = none */
    int attempt;              /* 1 when this update counts a failed write */
} g_row_update;

/* Plans one group at now_ms (rows in any order): rows past the window go
 * write_failed_terminal g_archive_compensation_exhausted; rows the gate
 * opens go written; facts still closed stay pending
 * g_archive_waiting_decision_audit, rechecked at the earlier of now +
 * recheck and their deadline. Returns how many rows changed. */
size_t g_group_plan(const g_group_row *rows, size_t n, int64_t now_ms, const g_plan_policy *p,
                    g_row_update *out);

/* Plans the rows whose write just failed with f: write_failed_retryable
 * on the ladder (never later than the deadline), or terminal when f is not
 * retryable or the window has passed. */
void g_failure_plan(const g_group_row *row, const g_write_failure *f, int64_t now_ms,
                    const g_plan_policy *p, g_row_update *out);

/* Group state, first match: partial_timeout (a terminal failure),
 * partial_pending (a record not terminal yet), consistent_committed (all
 * written, a decision_audit and a committed billable_fact),
 * consistent_non_billable. */
g_group_state g_group_state_of(const g_group_row *rows, size_t n);

#endif
