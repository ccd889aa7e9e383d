/* Reconciliation windows (spec 04 G.8, 06 section 5): hourly = one closed
 * UTC hour, daily = one closed UTC day; the default is the last closed
 * window before the receipt time. Pure. */
#ifndef G_RECON_WINDOW_H
#define G_RECON_WINDOW_H

#include <stdint.h>
#include "med/err.h"

#define G_RECON_HOUR_MS 3600000LL
#define G_RECON_DAY_MS  86400000LL

typedef enum g_recon_granularity {
    G_RECON_HOURLY = 1, /* missing-record drift + DLQ trend */
    G_RECON_DAILY = 2,  /* full comparison, replay jobs for diffs */
} g_recon_granularity;

typedef struct g_recon_window {
    g_recon_granularity granularity;
    int64_t start_ms; /* inclusive, UTC, aligned to the granularity */
    int64_t end_ms;   /* exclusive = start + one hour / day */
    int open;         /* a named window still in progress: compared so far */
} g_recon_window;

/* "hourly" | "daily". */
const char *g_recon_granularity_name(g_recon_granularity g);
int64_t g_recon_granularity_ms(g_recon_granularity g);

/* granularity as sent; window_start NULL or "" = the last closed window
 * before received_at_ms. A given start must parse as RFC 3339 and sit on a
 * UTC hour (hourly) or midnight (daily) boundary. A named window that has
 * begun but not ended is answered with open=1 (an operator's "this hour so
 * far": the answer moves while facts arrive, and creates no replay jobs);
 * one that has not begun is refused.
 * Errors (MED_ERR_INVALID, HTTP 400): g_recon_missing_required,
 * g_recon_invalid_granularity, g_recon_invalid_window_start,
 * g_recon_window_not_closed. */
med_rc g_recon_window_resolve(const char *granularity, const char *window_start,
                              int64_t received_at_ms, g_recon_window *out, med_err *err);

/* RFC 3339 (date 'T' time, optional fraction, 'Z' or +-HH:MM) -> Unix ms
 * (fraction truncated to ms). 0 on success, -1 when malformed. */
int g_recon_parse_utc_ms(const char *s, int64_t *out_ms);

#endif
