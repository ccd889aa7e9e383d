#include "g_recon_window.h"

#include <string.h>

#include "med/reason.h"
#include "med/rfc3339.h"

const char *g_recon_granularity_name(g_recon_granularity g)
{
    return g == G_RECON_HOURLY ? "hourly" : g == G_RECON_DAILY ? "daily" : "";
}

int64_t g_recon_granularity_ms(g_recon_granularity g)
{
    return g == G_RECON_HOURLY ? G_RECON_HOUR_MS : G_RECON_DAY_MS;
}

int g_recon_parse_utc_ms(const char *s, int64_t *out_ms)
{
    return s ? med_rfc3339_parse(s, out_ms) : -1;
}

static int64_t floor_to(int64_t t, int64_t unit)
{
    int64_t q = t / unit;
    if (t % unit != 0 && t < 0) q--;
    return q * unit;
}

static med_rc parse_granularity(const char *s, g_recon_granularity *g, med_err *err)
{
    if (!s || !*s)
        return med_err_set(err, MED_ERR_INVALID, MED_R_G_RECON_MISSING_REQUIRED, "granularity",
                           "granularity is required (hourly or daily)");
    if (strcmp(s, "hourly") == 0) *g = G_RECON_HOURLY;
    else if (strcmp(s, "daily") == 0) *g = G_RECON_DAILY;
    else
        return med_err_set(err, MED_ERR_INVALID, MED_R_G_RECON_INVALID_GRANULARITY, "granularity",
                           "granularity must be hourly or daily");
    return MED_OK;
}

static med_rc parse_start(const char *s, int64_t unit, int64_t *start, med_err *err)
{
    if (g_recon_parse_utc_ms(s, start) != 0)
        return med_err_set(err, MED_ERR_INVALID, MED_R_G_RECON_INVALID_WINDOW_START, "windowStart",
                           "windowStart is not an RFC 3339 time");
    if (floor_to(*start, unit) != *start)
        return med_err_set(err, MED_ERR_INVALID, MED_R_G_RECON_INVALID_WINDOW_START, "windowStart",
                           "windowStart must start a UTC %s",
                           unit == G_RECON_HOUR_MS ? "hour" : "day (00:00Z)");
    return MED_OK;
}

med_rc g_recon_window_resolve(const char *granularity, const char *window_start,
                              int64_t received_at_ms, g_recon_window *out, med_err *err)
{
    memset(out, 0, sizeof *out);
    med_rc rc = parse_granularity(granularity, &out->granularity, err);
    if (rc != MED_OK) return rc;
    int64_t unit = g_recon_granularity_ms(out->granularity);
    if (!window_start || !*window_start) {
        out->start_ms = floor_to(received_at_ms, unit) - unit;
    } else {
        rc = parse_start(window_start, unit, &out->start_ms, err);
        if (rc != MED_OK) return rc;
    }
    out->end_ms = out->start_ms + unit;
    if (out->start_ms > received_at_ms)
        return med_err_set(err, MED_ERR_INVALID, MED_R_G_RECON_WINDOW_NOT_CLOSED, "windowStart",
                           "the %s window has not begun", g_recon_granularity_name(out->granularity));
    out->open = out->end_ms > received_at_ms;
    return MED_OK;
}
