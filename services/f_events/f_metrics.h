/* F's service level metrics (observability/metrics.md, names in
 * med/metric_names.h). Called at F's I/O edges only: the batch loop after
 * its transaction (f_service.c), the scanner after a timer batch and once
 * per scan (f_scan*.c). The rules never count. */
#ifndef F_METRICS_H
#define F_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "f_work.h"

/* Registers every series at start-up, so dashboards see zeros instead of
 * no data before the first event. */
void f_metrics_init(void);

/* A committed EventBatch: one med_event_acks_total per ACK item (an item
 * answered f_event_store_unavailable counts as failed), dedup hits by
 * layer. */
void f_metrics_acks(const f_batch_work *b);

/* n events answered 503 f_event_store_unavailable without a commit. */
void f_metrics_acks_failed(size_t n);

/* What a committed run (EventBatch or timer batch) wrote: committed
 * billable/attribution fact records, billing claims lost to the unique
 * billing_key. */
void f_metrics_committed(const f_batch_work *b);

/* The scanner's sample of open closures (all tenants). */
void f_metrics_closures_open(int64_t n);

/* One F.8 compensation step (f_archive_comp.c): outcome "retry" (G
 * answered a retryable code), "resent", "conflicted" (reason = G's code or
 * f_output_archive_compensation_exhausted). Reason codes are a closed
 * set (med/reason.h), so the label stays bounded. */
void f_metrics_compensation(const char *outcome, const char *reason);

#endif
