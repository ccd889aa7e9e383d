/* Query string walk (see edge_query_params.h). */
#include "edge_query_params.h"

#include <stdlib.h>
#include <string.h>

#include "med/reason.h"

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes s[0..n) into out (room for n + 1); -1 on a bad escape or NUL. */
static int decode(const char *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi = i + 2 < n ? hex_digit(s[i + 1]) : -1;
            int lo = hi >= 0 ? hex_digit(s[i + 2]) : -1;
            if (lo < 0) return -1;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0') return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return 0;
}

static med_rc malformed(med_err *err)
{
    return med_err_set(err, MED_ERR_INVALID, MED_R_EDGE_QUERY_MALFORMED, NULL,
                       "bad percent escape or NUL byte in the query string");
}

med_rc edge_query_each(const char *q, size_t len, edge_param_fn fn, void *ud, med_err *err)
{
    if (!q || len == 0) return MED_OK;
    /* One buffer for every pair: a decoded part is never longer than the
     * raw query. */
    char *name = malloc(len + 1), *value = malloc(len + 1);
    med_rc rc = name && value ? MED_OK
                              : med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "query");
    for (size_t i = 0; rc == MED_OK && i < len;) {
        const char *amp = memchr(q + i, '&', len - i);
        size_t end = amp ? (size_t)(amp - q) : len;
        const char *eq = memchr(q + i, '=', end - i);
        size_t nlen = eq ? (size_t)(eq - (q + i)) : end - i;
        const char *v = eq ? eq + 1 : q + end;
        if (end > i) {
            if (decode(q + i, nlen, name) != 0 || decode(v, (size_t)(q + end - v), value) != 0)
                rc = malformed(err);
            else
                rc = fn(ud, name, value, err);
        }
        i = end + 1;
    }
    free(name);
    free(value);
    return rc;
}
