/* A's opportunity_created resend sweeper (A.9): a thread with its own
 * PostgreSQL and Redis connections that, every A_OC_EMIT_SWEEP_MS, resends
 * the events of opportunity_records whose created_event_next_at passed
 * (same eventKey, idempotency key and payload) and records each outcome:
 * the ladder 1 s, 5 s, 30 s, 120 s, then 120 s, until accepted, duplicate,
 * a final rejection, or a_oc_emit_retry_exhausted past
 * A_OC_EMIT_WINDOW_SEC. Replicas share rows through FOR UPDATE SKIP
 * LOCKED. */
#ifndef A_SWEEPER_H
#define A_SWEEPER_H

#include "med/err.h"
#include "med/service.h"

typedef struct a_sweeper a_sweeper;

/* Connects and starts the thread; it runs until the service's stop flag. */
med_rc a_sweeper_start(med_service *svc, a_sweeper **out, med_err *err);
/* Joins (after the stop flag), closes, frees. NULL is fine. */
void a_sweeper_stop(a_sweeper *s);

#endif
