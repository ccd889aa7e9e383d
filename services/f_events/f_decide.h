/* Phase 4 internals shared with the timers (f_timers.c). */
#ifndef F_DECIDE_H
#define F_DECIDE_H

#include "f_work.h"

/* The attribution recordKey of the synthesized timeout failure of closure
 * rr|ra for app_id: deterministic (its eventId and idempotencyKey are), so
 * an impression can name the record it supersedes even when the closure
 * row did not keep it. */
char *f_timeout_record_key(med_arena *a, const char *app_id, const char *rr, const char *ra);

#endif
