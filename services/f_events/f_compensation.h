/* F.8 archive compensation and the group consistency state: pure rules
 * the output loop (I/O) applies per recordKey. */
#ifndef F_COMPENSATION_H
#define F_COMPENSATION_H

#include <stddef.h>
#include <stdint.h>

#include "f_work.h"

/* Delay before retry number `attempt` (1 = after the first failure): 1 s,
 * 5 s, 30 s, 120 s, then every 120 s, while the retry still falls within
 * windows.compensation_ms of the first failure (the last one is moved to
 * that deadline). -1 when exhausted. */
int64_t f_compensation_next_delay_ms(int attempt, int64_t first_failure_ms, int64_t now_ms,
                                     const f_windows *w);

/* G answers worth retrying: g_archive_write_timeout,
 * g_archive_temporarily_unavailable, g_archive_rate_limited (and a failed
 * publish, code NULL). */
int f_compensation_code_retryable(const char *g_code);

/* One record's compensation state. */
typedef struct f_compensation {
    int failures;             /* failed attempts so far */
    int64_t first_failure_ms; /* 0 = none yet */
    int64_t next_attempt_ms;  /* when to resend the same recordKey */
    const char *final_status; /* NULL while retrying; "conflicted" when given up */
    const char *final_code;   /* f_output_archive_compensation_exhausted or G's code */
} f_compensation;

/* Applies one failed write (g_code NULL = the publish itself failed).
 * Returns 1 when the record is given up (final_* set), 0 when it is to be
 * resent at next_attempt_ms. */
int f_compensation_on_failure(f_compensation *c, const char *g_code, int64_t now_ms,
                              const f_windows *w);

/* Write progress of one record of a group, as the output loop knows it. */
typedef enum f_write_state {
    F_WRITE_PENDING = 0, /* not yet confirmed */
    F_WRITE_RETRYING,    /* failed, resend scheduled within the window */
    F_WRITE_WRITTEN,
    F_WRITE_FAILED,      /* exhausted, or a non-retryable G code */
} f_write_state;

typedef struct f_record_progress {
    const char *record_type;   /* decision_audit | billable_fact | attribution_fact */
    const char *record_status; /* the status G stored (committed, conflicted, ...) */
    f_write_state write;
} f_record_progress;

/* F.8 group state, first match: partial_timeout, partial_pending,
 * consistent_committed, consistent_non_billable. */
const char *f_group_consistency_state(const f_record_progress *r, size_t n);

#endif
