/* F.8 compensation driven by G's answers (G.4 ArchiveWriteAck), pure:
 * what one ack means for its record, the reply subject F asks G to
 * answer on, and the Nats-Msg-Id of a compensation resend. The I/O side
 * is f_archive_comp.c. */
#ifndef F_ARCHIVE_ACK_H
#define F_ARCHIVE_ACK_H

#include <stddef.h>
#include <stdint.h>

#include "f_compensation.h"
#include "f_work.h"

typedef enum f_ack_action {
    F_ACK_NOTHING = 0, /* G holds it (pending, waiting for its audit, writing): G's own work */
    F_ACK_WRITTEN,     /* written: compensation, if any, ends */
    F_ACK_RETRY,       /* retryable G code: resend on the F.8 ladder */
    F_ACK_CONFLICT,    /* non-retryable G code: conflicted with that code */
} f_ack_action;

/* write_status: ArchiveWriteAck.archive_write_status; code: its
 * ack_reason_code (NULL/"" = none); retryable: its flag. A retryable flag
 * or one of the three F.8 codes is a retry; a payload conflict or an
 * invalid record, or a terminal status, is a conflict (*code_out
 * = the code, g_archive_compensation_exhausted when G gave none). */
f_ack_action f_archive_ack_decide(const char *write_status, const char *code, int retryable,
                                  const char **code_out);

/* The stored compensation of one recordKey and what the sweeper does
 * with it when it is due at now_ms. */
typedef enum f_comp_step {
    F_COMP_RESEND = 0, /* resend now as attempt *failures_out; next due at *next_ms */
    F_COMP_EXHAUSTED,  /* window over: conflicted f_output_archive_compensation_exhausted */
} f_comp_step;

/* failures: attempts G answered retryably or left unconfirmed so far
 * (>= 1); the F.8 ladder of f_compensation_on_failure counted from
 * first_failure_ms. *failures_out = failures + 1 on a resend. */
f_comp_step f_comp_due(int failures, int64_t first_failure_ms, int64_t now_ms, const f_windows *w,
                       int *failures_out, int64_t *next_ms);

/* Delay of the first resend after G's first retryable answer (1 s). */
int64_t f_comp_first_delay_ms(int64_t first_failure_ms, int64_t now_ms, const f_windows *w);

/* "<prefix>.<b64url(tenant)>.<b64url(outbox_key)>": G answers there; any
 * F replica (one queue group) takes it and finds the record again through
 * the outbox row. Returns 0, or -1 when it does not fit (then no reply is
 * asked for: G's own retries and the outbox remain). */
int f_archive_ack_subject(const char *tenant, const char *outbox_key, char *out, size_t cap);
/* The inverse; 0 when subject is such a subject. */
int f_archive_ack_subject_parse(const char *subject, char *tenant, size_t tcap, char *outbox_key,
                                size_t kcap);

/* Nats-Msg-Id of publish number `attempt` of recordKey: the recordKey
 * itself for attempt 1 (and the outbox republishes, which the stream's
 * duplicate window is meant to drop); "<recordKey>:c<attempt>" for a
 * compensation resend, which the stream must not drop as a repeat of a
 * message G already consumed. Two replicas resending the same attempt
 * still collapse to one. Returns 0, -1 when cap is too small. */
int f_archive_resend_msg_id(const char *record_key, int attempt, char *out, size_t cap);

#endif
