#include "g_recon_window.h"

#include <ctype.h>
#include <string.h>

#include "med/reason.h"

const char *g_recon_granularity_name(g_recon_granularity g)
{
    return g == G_RECON_HOURLY ? "hourly" : g == G_RECON_DAILY ? "daily" : "";
}

int64_t g_recon_granularity_ms(g_recon_granularity g)
{
    return g == G_RECON_HOURLY ? G_RECON_HOUR_MS : G_RECON_DAY_MS;
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : d[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* 'Z' / 'z' or +-HH:MM, in minutes east of UTC. */
static int parse_offset(const char *p, int *minutes, const char **end)
{
    if (*p == 'Z' || *p == 'z') {
        *minutes = 0;
        *end = p + 1;
        return 0;
    }
    int hh, mm;
    if ((*p != '+' && *p != '-') || digits(p + 1, 2, &hh) || p[3] != ':' ||
        digits(p + 4, 2, &mm) || hh > 23 || mm > 59)
        return -1;
    *minutes = (*p == '-' ? -1 : 1) * (hh * 60 + mm);
    *end = p + 6;
    return 0;
}

static int parse_fraction_ms(const char **pp, int *ms)
{
    const char *p = *pp;
    *ms = 0;
    if (*p != '.') return 0;
    int n = 0;
    for (p++; isdigit((unsigned char)*p); p++, n++)
        if (n < 3) *ms = *ms * 10 + (*p - '0');
    if (n == 0) return -1;
    for (; n < 3; n++) *ms *= 10;
    *pp = p;
    return 0;
}

int g_recon_parse_utc_ms(const char *s, int64_t *out_ms)
{
    int y, mo, d, h, mi, sec;
    if (!s || strlen(s) < 20) return -1;
    if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
        digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || digits(s + 11, 2, &h) ||
        s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &sec))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59)
        return -1;
    const char *p = s + 19;
    int frac_ms, offset_min;
    const char *end;
    if (parse_fraction_ms(&p, &frac_ms) || parse_offset(p, &offset_min, &end) || *end) return -1;
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    *out_ms = (secs - (int64_t)offset_min * 60) * 1000 + frac_ms;
    return 0;
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
