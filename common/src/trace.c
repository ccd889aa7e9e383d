/* W3C trace context, level 1: https://www.w3.org/TR/trace-context/ */
#include "med/trace.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "med/ids.h"
#include "med/reason.h"

#define TP_VERSION_LEN 2
#define TP_TRACE_ID_LEN 32
#define TP_SPAN_ID_LEN 16
#define TP_FLAGS_LEN 2
#define TP_TRACE_ID_OFF 3
#define TP_SPAN_ID_OFF 36
#define TP_FLAGS_OFF 53
#define TP_FLAG_SAMPLED 0x01

static const char hex_digits[] = "0123456789abcdef";

static int lower_hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

static int all_lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (lower_hex_value(s[i]) < 0) return 0;
    return 1;
}

static int all_zero(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != '0') return 0;
    return 1;
}

static int hex_byte(const char *s)
{
    return lower_hex_value(s[0]) * 16 + lower_hex_value(s[1]);
}

static med_rc tp_invalid(med_err *err, const char *why)
{
    return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_TRACEPARENT_INVALID,
                       "traceparent", "traceparent invalid: %s", why);
}

/* Length rules: version 00 is exactly 55 chars; a later version may append
 * "-<anything>" which a version-00 parser must ignore. */
static med_rc check_length(const char *s, int version, med_err *err)
{
    size_t len = strnlen(s, MED_TRACEPARENT_LEN + 1);
    if (len < MED_TRACEPARENT_LEN) return tp_invalid(err, "too short");
    if (len == MED_TRACEPARENT_LEN) return MED_OK;
    if (version == 0) return tp_invalid(err, "version 00 must be exactly 55 chars");
    if (s[MED_TRACEPARENT_LEN] != '-') return tp_invalid(err, "bad suffix after flags");
    return MED_OK;
}

static med_rc check_fields(const char *s, med_err *err)
{
    if (s[2] != '-' || s[TP_SPAN_ID_OFF - 1] != '-' || s[TP_FLAGS_OFF - 1] != '-')
        return tp_invalid(err, "separators");
    if (!all_lower_hex(s + TP_TRACE_ID_OFF, TP_TRACE_ID_LEN))
        return tp_invalid(err, "trace-id is not 32 lowercase hex");
    if (all_zero(s + TP_TRACE_ID_OFF, TP_TRACE_ID_LEN))
        return tp_invalid(err, "trace-id is all zero");
    if (!all_lower_hex(s + TP_SPAN_ID_OFF, TP_SPAN_ID_LEN))
        return tp_invalid(err, "parent-id is not 16 lowercase hex");
    if (all_zero(s + TP_SPAN_ID_OFF, TP_SPAN_ID_LEN))
        return tp_invalid(err, "parent-id is all zero");
    if (!all_lower_hex(s + TP_FLAGS_OFF, TP_FLAGS_LEN))
        return tp_invalid(err, "trace-flags is not 2 lowercase hex");
    return MED_OK;
}

med_rc med_traceparent_parse(const char *s, med_traceparent *out, med_err *err)
{
    if (!s || !out) return tp_invalid(err, "missing");
    if (strnlen(s, TP_VERSION_LEN) < TP_VERSION_LEN || !all_lower_hex(s, TP_VERSION_LEN))
        return tp_invalid(err, "version is not 2 lowercase hex");
    int version = hex_byte(s);
    if (version == 0xff) return tp_invalid(err, "version ff is forbidden");
    med_rc rc = check_length(s, version, err);
    if (rc != MED_OK) return rc;
    rc = check_fields(s, err);
    if (rc != MED_OK) return rc;
    memcpy(out->trace_id, s + TP_TRACE_ID_OFF, TP_TRACE_ID_LEN);
    out->trace_id[TP_TRACE_ID_LEN] = '\0';
    memcpy(out->span_id, s + TP_SPAN_ID_OFF, TP_SPAN_ID_LEN);
    out->span_id[TP_SPAN_ID_LEN] = '\0';
    out->flags = (uint8_t)hex_byte(s + TP_FLAGS_OFF);
    return MED_OK;
}

void med_traceparent_format(const med_traceparent *tp, char *out)
{
    /* We only speak version 00, whatever version we received. */
    snprintf(out, MED_TRACEPARENT_LEN + 1, "00-%.32s-%.16s-%c%c", tp->trace_id, tp->span_id,
             hex_digits[tp->flags >> 4], hex_digits[tp->flags & 0x0f]);
}

/* getrandom() practically never fails, but these functions cannot report an
 * error, so a failure must still yield unique non-zero ids: hash the clock,
 * pid and a process counter instead. */
static void fallback_hex(char *out, size_t nhex)
{
    static atomic_uint_fast64_t counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char seed[128];
    int n = snprintf(seed, sizeof seed, "%lld.%ld.%d.%llu.%p", (long long)ts.tv_sec,
                     ts.tv_nsec, (int)getpid(),
                     (unsigned long long)atomic_fetch_add(&counter, 1), (void *)out);
    char digest[65];
    med_sha256_hex(seed, (size_t)n, digest);
    memcpy(out, digest, nhex);
    out[nhex] = '\0';
}

static void random_nonzero_hex(char *out, size_t nhex)
{
    for (int attempt = 0; attempt < 4; attempt++) {
        if (med_random_hex(out, nhex + 1, nhex / 2) == 0 && !all_zero(out, nhex)) return;
    }
    do {
        fallback_hex(out, nhex);
    } while (all_zero(out, nhex));
}

void med_traceparent_new(med_traceparent *out)
{
    random_nonzero_hex(out->trace_id, TP_TRACE_ID_LEN);
    random_nonzero_hex(out->span_id, TP_SPAN_ID_LEN);
    out->flags = TP_FLAG_SAMPLED;
}

void med_traceparent_child(const med_traceparent *parent, med_traceparent *child)
{
    char trace_id[TP_TRACE_ID_LEN + 1];
    /* parent and child may alias. */
    memcpy(trace_id, parent->trace_id, sizeof trace_id);
    uint8_t flags = parent->flags;
    random_nonzero_hex(child->span_id, TP_SPAN_ID_LEN);
    memcpy(child->trace_id, trace_id, sizeof trace_id);
    child->flags = flags;
}
