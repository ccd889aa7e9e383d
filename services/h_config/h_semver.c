/* SemVer parse and compare for the version gate (spec 04 H.5). */
#include "h_semver.h"

#include <string.h>

#include "med/reason.h"

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Prerelease identifiers as SemVer spells them; anything else (space, '+',
 * non-ASCII) makes the version invalid. */
static int is_prerelease_char(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' ||
           c == '-';
}

static med_rc invalid(med_err *err, const char *s)
{
    return med_err_set(err, MED_ERR_INVALID, MED_R_H_GATE_INVALID_VERSION_FORMAT, "",
                       "not MAJOR.MINOR.PATCH[-prerelease]: '%s'", s ? s : "(null)");
}

/* Reads one numeric part at *p; advances *p past it. 0 on success. */
static int read_part(const char **p, const char **start, size_t *len)
{
    const char *q = *p;
    while (is_digit(*q)) q++;
    size_t n = (size_t)(q - *p);
    if (n == 0) return -1;
    if (n > 1 && **p == '0') return -1;
    *start = *p;
    *len = n;
    *p = q;
    return 0;
}

static int read_prerelease(const char *p, h_semver *out)
{
    if (*p == '\0') return 0;
    if (*p != '-') return -1;
    p++;
    size_t n = strlen(p);
    if (n == 0) return -1;
    for (size_t i = 0; i < n; i++)
        if (!is_prerelease_char(p[i])) return -1;
    out->pre = p;
    out->pre_len = n;
    return 0;
}

med_rc h_semver_parse(const char *s, h_semver *out, med_err *err)
{
    if (!s || !out) return invalid(err, s);
    memset(out, 0, sizeof *out);
    const char *p = s;
    for (int i = 0; i < 3; i++) {
        if (read_part(&p, &out->part[i], &out->part_len[i]) != 0) return invalid(err, s);
        if (i < 2 && *p++ != '.') return invalid(err, s);
    }
    if (read_prerelease(p, out) != 0) return invalid(err, s);
    return MED_OK;
}

/* Without leading zeros a longer digit string is the larger number. */
static int compare_digits(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen) return alen < blen ? -1 : 1;
    return memcmp(a, b, alen);
}

static int sign(int v)
{
    return (v > 0) - (v < 0);
}

static int compare_prerelease(const h_semver *a, const h_semver *b)
{
    if (!a->pre || !b->pre) return (a->pre == NULL) - (b->pre == NULL);
    size_t n = a->pre_len < b->pre_len ? a->pre_len : b->pre_len;
    int c = memcmp(a->pre, b->pre, n);
    if (c != 0) return sign(c);
    return (a->pre_len > b->pre_len) - (a->pre_len < b->pre_len);
}

int h_semver_compare(const h_semver *a, const h_semver *b)
{
    for (int i = 0; i < 3; i++) {
        int c = compare_digits(a->part[i], a->part_len[i], b->part[i], b->part_len[i]);
        if (c != 0) return sign(c);
    }
    return compare_prerelease(a, b);
}

med_rc h_semver_compare_str(const char *a, const char *b, int *cmp, med_err *err)
{
    h_semver va, vb;
    med_rc rc = h_semver_parse(a, &va, err);
    if (rc != MED_OK) return rc;
    rc = h_semver_parse(b, &vb, err);
    if (rc != MED_OK) return rc;
    *cmp = h_semver_compare(&va, &vb);
    return MED_OK;
}
