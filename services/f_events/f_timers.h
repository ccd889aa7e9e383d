/* F.6 / F.7 timers' pure part; the functions are declared in f_work.h. */
#ifndef F_TIMERS_H
#define F_TIMERS_H

#include "f_work.h"

/* eventVersion of F's own events when the opening event left none. */
#define F_SYNTH_EVENT_VERSION "f_synth_v1"

/* "evt_timeout_" + hex16(closureKey|timeout). */
char *f_timeout_event_id(med_arena *a, const char *closure_key);
/* "f_idem_timeout_" + hex20(closureKey|timeout): the synthesized failure's
 * dedup key is then appId|this, whatever batch carries it. */
char *f_timeout_idempotency_key(med_arena *a, const char *closure_key);

/* F.6: the closure is still open a terminal wait after it opened. */
int f_closure_timeout_due(const f_closure_row *c, int64_t now_ms, const f_windows *w);
/* F.7: its pending click has waited a terminal wait without a billable
 * impression. */
int f_pending_click_due(const f_closure_row *c, int64_t now_ms, const f_windows *w);

#endif
