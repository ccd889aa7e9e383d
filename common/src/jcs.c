/* RFC 8785 JSON Canonicalization Scheme over jansson values.
 *
 * Integers (json_integer) print as plain decimal: jansson already parsed
 * them as integers, and config values never exceed 2^53, where the decimal
 * and the ECMAScript double form agree. Reals print in the shortest form
 * that round-trips, laid out as ECMAScript Number.prototype.toString. */
#include "med/jcs.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "med/ids.h"
#include "med/reason.h"

/* Growable output buffer; buf is owned by the buffer until handed out. */
typedef struct jcs_buf {
    char *buf;
    size_t len;
    size_t cap;
    int oom;
} jcs_buf;

static void buf_put(jcs_buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *nb = realloc(b->buf, cap);
        if (!nb) {
            b->oom = 1;
            return;
        }
        b->buf = nb;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, s, n);
    b->len += n;
    b->buf[b->len] = '\0';
}

static void buf_puts(jcs_buf *b, const char *s) { buf_put(b, s, strlen(s)); }

/* ---- key order: UTF-16 code units ---------------------------------- */

/* Walks a UTF-8 string yielding UTF-16 code units. Invalid bytes (jansson
 * rejects them on input, so only hand-built values) count as one unit of
 * their byte value, which keeps the order total and deterministic. */
typedef struct u16_iter {
    const unsigned char *p;
    const unsigned char *end;
    unsigned pending_low; /* low surrogate still to yield, 0 when none */
} u16_iter;

static unsigned utf8_decode(const unsigned char **pp, const unsigned char *end)
{
    const unsigned char *p = *pp;
    unsigned c = p[0];
    size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
             : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (n == 0 || (size_t)(end - p) < n) {
        *pp = p + 1;
        return c;
    }
    unsigned cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            *pp = p + 1;
            return c;
        }
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    *pp = p + n;
    return cp;
}

/* Next code unit, or -1 at the end. */
static long u16_next(u16_iter *it)
{
    if (it->pending_low) {
        unsigned u = it->pending_low;
        it->pending_low = 0;
        return (long)u;
    }
    if (it->p >= it->end)
        return -1;
    unsigned cp = utf8_decode(&it->p, it->end);
    if (cp < 0x10000)
        return (long)cp;
    cp -= 0x10000;
    it->pending_low = 0xDC00 + (cp & 0x3FF);
    return (long)(0xD800 + (cp >> 10));
}

typedef struct jcs_key {
    const char *key;
    size_t len;
    json_t *value;
} jcs_key;

static int key_cmp_utf16(const void *a, const void *b)
{
    const jcs_key *ka = a, *kb = b;
    u16_iter ia = { (const unsigned char *)ka->key, (const unsigned char *)ka->key + ka->len, 0 };
    u16_iter ib = { (const unsigned char *)kb->key, (const unsigned char *)kb->key + kb->len, 0 };
    for (;;) {
        long ua = u16_next(&ia), ub = u16_next(&ib);
        if (ua != ub)
            return ua < ub ? -1 : 1; /* -1 (end) sorts a prefix first */
        if (ua < 0)
            return 0;
    }
}

/* ---- strings ---------------------------------------------------------- */

static void put_string(jcs_buf *b, const char *s, size_t n)
{
    buf_put(b, "\"", 1);
    size_t run = 0; /* start of the pending raw run */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char hex[8];
        switch (c) {
        case '"':  esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default:
            if (c < 0x20) {
                snprintf(hex, sizeof hex, "\\u%04x", c);
                esc = hex;
            }
        }
        if (esc) {
            buf_put(b, s + run, i - run);
            buf_puts(b, esc);
            run = i + 1;
        }
    }
    buf_put(b, s + run, n - run);
    buf_put(b, "\"", 1);
}

/* ---- numbers -------------------------------------------------------- */

/* Shortest decimal digits of |v| (no leading/trailing zeros) and the
 * exponent n such that |v| = 0.digits * 10^n. v is finite and non-zero. */
static void shortest_digits(double v, char digits[32], int *n_out)
{
    char tmp[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, fabs(v));
        if (strtod(tmp, NULL) == fabs(v))
            break;
    }
    /* tmp is "d[.ddd]e[+-]XX" */
    size_t k = 0;
    const char *p = tmp;
    for (; *p && *p != 'e'; p++)
        if (*p != '.')
            digits[k++] = *p;
    while (k > 1 && digits[k - 1] == '0')
        k--;
    digits[k] = '\0';
    *n_out = atoi(p + 1) + 1;
}

static void put_zeros(jcs_buf *b, int count)
{
    for (int i = 0; i < count; i++)
        buf_put(b, "0", 1);
}

/* ECMAScript Number::toString layout, k digits, value 0.digits * 10^n. */
static void put_real_layout(jcs_buf *b, const char *digits, int n)
{
    int k = (int)strlen(digits);
    char exp[16];
    if (k <= n && n <= 21) {
        buf_puts(b, digits);
        put_zeros(b, n - k);
    } else if (0 < n && n <= 21) {
        buf_put(b, digits, (size_t)n);
        buf_put(b, ".", 1);
        buf_puts(b, digits + n);
    } else if (-6 < n && n <= 0) {
        buf_puts(b, "0.");
        put_zeros(b, -n);
        buf_puts(b, digits);
    } else {
        buf_put(b, digits, 1);
        if (k > 1) {
            buf_put(b, ".", 1);
            buf_puts(b, digits + 1);
        }
        snprintf(exp, sizeof exp, "e%c%d", n - 1 >= 0 ? '+' : '-', abs(n - 1));
        buf_puts(b, exp);
    }
}

static med_rc put_real(jcs_buf *b, double v, med_err *err)
{
    if (!isfinite(v))
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_ENCODE_FAILED, "",
                           "non-finite number has no JSON form");
    if (v == 0) { /* also -0 */
        buf_put(b, "0", 1);
        return MED_OK;
    }
    char digits[32];
    int n;
    shortest_digits(v, digits, &n);
    if (v < 0)
        buf_put(b, "-", 1);
    put_real_layout(b, digits, n);
    return MED_OK;
}

/* ---- values ------------------------------------------------------- */

static med_rc put_value(jcs_buf *b, const json_t *v, med_err *err);

static med_rc put_object(jcs_buf *b, const json_t *v, med_err *err)
{
    size_t n = json_object_size(v);
    jcs_key *keys = n ? calloc(n, sizeof *keys) : NULL;
    if (n && !keys)
        return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_ENCODE_FAILED, "", "out of memory");
    size_t i = 0;
    const char *key;
    size_t key_len;
    json_t *val;
    json_object_keylen_foreach((json_t *)v, key, key_len, val) {
        keys[i++] = (jcs_key){ key, key_len, val };
    }
    if (n > 1)
        qsort(keys, n, sizeof *keys, key_cmp_utf16);
    med_rc rc = MED_OK;
    buf_put(b, "{", 1);
    for (i = 0; i < n && rc == MED_OK; i++) {
        if (i)
            buf_put(b, ",", 1);
        put_string(b, keys[i].key, keys[i].len);
        buf_put(b, ":", 1);
        rc = put_value(b, keys[i].value, err);
    }
    buf_put(b, "}", 1);
    free(keys);
    return rc;
}

static med_rc put_array(jcs_buf *b, const json_t *v, med_err *err)
{
    med_rc rc = MED_OK;
    buf_put(b, "[", 1);
    for (size_t i = 0; i < json_array_size(v) && rc == MED_OK; i++) {
        if (i)
            buf_put(b, ",", 1);
        rc = put_value(b, json_array_get(v, i), err);
    }
    buf_put(b, "]", 1);
    return rc;
}

static med_rc put_value(jcs_buf *b, const json_t *v, med_err *err)
{
    char num[32];
    switch (json_typeof(v)) {
    case JSON_OBJECT:  return put_object(b, v, err);
    case JSON_ARRAY:   return put_array(b, v, err);
    case JSON_STRING:
        put_string(b, json_string_value(v), json_string_length(v));
        return MED_OK;
    case JSON_INTEGER:
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        buf_puts(b, num);
        return MED_OK;
    case JSON_REAL:    return put_real(b, json_real_value(v), err);
    case JSON_TRUE:    buf_puts(b, "true"); return MED_OK;
    case JSON_FALSE:   buf_puts(b, "false"); return MED_OK;
    case JSON_NULL:    buf_puts(b, "null"); return MED_OK;
    }
    return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_ENCODE_FAILED, "", "unknown JSON type");
}

med_rc med_jcs_serialize(const json_t *v, char **out, size_t *len, med_err *err)
{
    *out = NULL;
    if (len)
        *len = 0;
    if (!v)
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_ENCODE_FAILED, "", "no value");
    jcs_buf b = { 0 };
    med_rc rc = put_value(&b, v, err);
    if (rc == MED_OK && b.oom)
        rc = med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_ENCODE_FAILED, "", "out of memory");
    if (rc == MED_OK && !b.buf) /* cannot happen: every value writes bytes */
        rc = med_err_set(err, MED_ERR_INTERNAL, MED_R_INFRA_ENCODE_FAILED, "", "empty output");
    if (rc != MED_OK) {
        free(b.buf);
        return rc;
    }
    *out = b.buf;
    if (len)
        *len = b.len;
    return MED_OK;
}

med_rc med_jcs_sha256(const json_t *v, char out[65], med_err *err)
{
    char *s;
    size_t n;
    out[0] = '\0';
    med_rc rc = med_jcs_serialize(v, &s, &n, err);
    if (rc != MED_OK)
        return rc;
    med_sha256_hex(s, n, out);
    free(s);
    return MED_OK;
}
