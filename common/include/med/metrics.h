/* Process-wide metrics registry rendered as Prometheus text.
 *
 * A metric is identified by name + a fixed label string (already in
 * Prometheus syntax, e.g. `stage="a",outcome="ack"`, or "" for none).
 * Getting the same name+labels twice returns the same handle. Updates are
 * lock-free atomics; registration and rendering take a mutex. Handles live
 * until med_metrics_reset (tests only). Names: observability/metrics.md. */
#ifndef MED_METRICS_H
#define MED_METRICS_H

#include <stddef.h>
#include <stdint.h>

typedef struct med_counter med_counter;
typedef struct med_gauge med_gauge;
typedef struct med_histogram med_histogram;

med_counter *med_counter_get(const char *name, const char *help, const char *labels);
void med_counter_add(med_counter *c, uint64_t n);
static inline void med_counter_inc(med_counter *c) { med_counter_add(c, 1); }

med_gauge *med_gauge_get(const char *name, const char *help, const char *labels);
void med_gauge_set(med_gauge *g, double v);
void med_gauge_add(med_gauge *g, double delta);

/* Buckets are upper bounds in seconds; NULL uses latency defaults
 * (0.0005 .. 10 s). */
med_histogram *med_histogram_get(const char *name, const char *help, const char *labels,
                                 const double *buckets, size_t nbuckets);
void med_histogram_observe(med_histogram *h, double value);

/* Renders every metric; *out is malloc'd, caller frees. 0 on success. */
int med_metrics_render(char **out, size_t *len);
void med_metrics_reset(void);

#endif
