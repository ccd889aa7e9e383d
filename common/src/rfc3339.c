/* RFC 3339 parsing without locale or TZ environment: timegm-free day
 * arithmetic, so the result never depends on the host's zone. */
#include "med/rfc3339.h"

#include <ctype.h>
#include <string.h>

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

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dm[m - 1];
}

static int parse_offset(const char *p, int *offset_min, const char **end)
{
    if (*p == 'Z' || *p == 'z') {
        *offset_min = 0;
        *end = p + 1;
        return 0;
    }
    int hh, mm;
    if ((*p != '+' && *p != '-') || digits(p + 1, 2, &hh) || p[3] != ':' ||
        digits(p + 4, 2, &mm) || hh > 23 || mm > 59)
        return -1;
    *offset_min = (*p == '-' ? -1 : 1) * (hh * 60 + mm);
    *end = p + 6;
    return 0;
}

int med_rfc3339_parse(const char *s, int64_t *ms)
{
    int y, mo, d, h, mi, sec;
    if (!s || strlen(s) < 20) return -1;
    if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
        digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || digits(s + 11, 2, &h) ||
        s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &sec))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60)
        return -1;
    const char *p = s + 19;
    int frac_ms = 0;
    if (*p == '.') {
        int n = 0;
        for (p++; isdigit((unsigned char)*p); p++, n++)
            if (n < 3) frac_ms = frac_ms * 10 + (*p - '0');
        if (n == 0) return -1;
        for (; n < 3; n++) frac_ms *= 10;
    }
    int offset_min;
    const char *end;
    if (parse_offset(p, &offset_min, &end) || *end) return -1;
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    *ms = (secs - (int64_t)offset_min * 60) * 1000 + frac_ms;
    return 0;
}
