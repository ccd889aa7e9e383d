/* med_deliveries_total{outcome,reason_class} (observability/metrics.md).
 * Counted in main.c once E published its own Delivery (never in the rules
 * of e_decide.c). */
#ifndef E_METRICS_H
#define E_METRICS_H

#include "e_compose.h"

/* MED_MV_CLASS_BUSINESS or MED_MV_CLASS_SYSTEM for a decided outcome:
 *   - served and no_fill are business (no candidate, policy, caps);
 *   - an error is system, except e_er_upstream_error whose raw code is an
 *     upstream business refusal (an A trigger reject of a client fault, a
 *     B/C policy reject); a raw code naming a timeout, budget, deadline,
 *     unavailable dependency, runtime/internal error, or no raw code at
 *     all, stays system. Every other e_er_* (compose timeout/runtime
 *     failure, invalid compose input or version anchor, broken tracking
 *     contract, unknown) is a platform fault: A already refused what a
 *     client could get wrong. */
const char *e_metrics_reason_class(const char *status, const char *final_code, const char *raw);

/* Registers the zero series (outcome x class). */
void e_metrics_init(void);

/* One Delivery E published (a duplicate request's stored answer is not
 * counted: its first request was). */
void e_metrics_delivery(const e_outcome *o);

#endif
