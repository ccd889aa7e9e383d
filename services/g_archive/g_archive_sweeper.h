/* G's archive sweeper (G.4): a thread with its own PostgreSQL connection
 * that, every G_ARCHIVE_SWEEP_MS, takes up archive records whose
 * next_attempt_at passed: retries by recordKey (1 s, 5 s, 30 s, 120 s
 * repeating), re-reads the gate of waiting facts, and fails records
 * terminally 15 min after ingest (g_archive_compensation_exhausted).
 * Replicas share the work through FOR UPDATE SKIP LOCKED. */
#ifndef G_ARCHIVE_SWEEPER_H
#define G_ARCHIVE_SWEEPER_H

#include <stdint.h>

#include "g_archive_store.h"
#include "med/err.h"
#include "med/service.h"

typedef struct g_archive_sweeper g_archive_sweeper;

/* Connects and starts the thread; it runs until the service's stop flag. */
med_rc g_archive_sweeper_start(med_service *svc, const g_store_policy *p, int64_t period_ms,
                               g_archive_sweeper **out, med_err *err);
/* 1 once the thread has completed a sweep, 0 before. */
int g_archive_sweeper_ready(g_archive_sweeper *s);
/* Joins (after the stop flag), closes, frees. NULL is fine. */
void g_archive_sweeper_stop(g_archive_sweeper *s);

#endif
