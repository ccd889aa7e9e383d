/* F's timers (F.6 autofill, F.7 pending-click expiry) and the outbox
 * sweeper (F.8 compensation), on their own thread with their own NATS and
 * PostgreSQL connections, every F_SCAN_INTERVAL_MS. Every replica scans;
 * row locks (FOR UPDATE SKIP LOCKED) and compare-and-set updates make
 * each due item the work of exactly one replica:
 *
 *   - a served Delivery's default closure still open at the terminal wait
 *     is released silently ('released', no failure) when the SDK reported
 *     its own renderAttemptIds (another closure of the responseReference
 *     exists); otherwise it times out like any closure;
 *   - closures open for >= the terminal wait are CAS-moved to
 *     closed_failure (system_timeout_synthesized); the same transaction
 *     runs the synthesized failures through phases 2..7 (one batch per
 *     tenant and app, up to F_SCAN_BATCH closures), so a crash loses
 *     neither the move nor its failure, and two replicas emit one;
 *   - pending clicks older than the terminal wait get their
 *     f_billing_click_without_impression audit and leave the closure;
 *   - outbox rows not published F_OUTBOX_GRACE_MS after their commit are
 *     republished on the compensation ladder (f_compensation_on_failure);
 *     past the 15 min window the row is dead-lettered (med.dlq.f.v1 and
 *     dead_letter_records);
 *   - once a minute, expired idempotency_keys / f_event_seq rows (up to
 *     5,000 of each, migrations/0012) and published outbox rows older than
 *     F_OUTBOX_KEEP_SEC
 *     are purged. */
#ifndef F_SCAN_H
#define F_SCAN_H

#include <pthread.h>
#include <stdint.h>

#include "f_work.h"
#include "med/service.h"

#define F_SCAN_BATCH 100           /* closures per timer batch */
#define F_SCAN_TENANTS 50          /* tenants per pass */
#define F_SWEEP_ROWS 20            /* outbox rows per tenant per pass */
#define F_OUTBOX_KEEP_SEC 86400    /* published rows kept for redeliveries */

typedef struct f_scanner {
    med_service *svc;    /* borrowed */
    med_js *js;          /* owned */
    med_pg *pg;          /* owned */
    f_windows windows;
    int64_t interval_ms;
    int64_t next_purge_ms;
    pthread_t thread;
    int running;
} f_scanner;

med_rc f_scan_start(f_scanner *s, med_service *svc, med_err *err);
/* Joins the thread (after the stop flag is set) and closes connections. */
void f_scan_stop(f_scanner *s);
/* One pass over every tenant with due work. */
void f_scan_once(f_scanner *s);

#endif
