/* Key formulas of F.5-F.8: one place, so the ACK, the facts and the
 * archive records can never disagree on a key. */
#include "f_keys.h"

#include <stdio.h>
#include <string.h>

#include "med/ids.h"

int f_token_valid(const char *s, size_t min, size_t max)
{
    if (!s) return 0;
    size_t n = 0;
    for (const char *p = s; *p; p++, n++) {
        char c = *p;
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == ':' || c == '-';
        if (!ok || n >= max) return 0;
    }
    return n >= min;
}

const char *f_or_na(const char *s)
{
    return s && s[0] ? s : F_NA;
}

char *f_sha256(med_arena *a, const char *s)
{
    char hex[65];
    med_sha256_hex(s, strlen(s), hex);
    return med_arena_strdup(a, hex);
}

char *f_hexn(med_arena *a, const char *s, size_t n)
{
    char hex[65];
    med_sha256_hex(s, strlen(s), hex);
    if (n < 64) hex[n] = '\0';
    return med_arena_strdup(a, hex);
}

char *f_join(med_arena *a, const char *const *parts, size_t n)
{
    size_t len = 1;
    for (size_t i = 0; i < n; i++) len += strlen(f_or_na(parts[i])) + 1;
    char *out = med_arena_alloc(a, len);
    if (!out) return NULL;
    char *p = out;
    for (size_t i = 0; i < n; i++) {
        const char *s = f_or_na(parts[i]);
        size_t l = strlen(s);
        if (i) *p++ = '|';
        memcpy(p, s, l);
        p += l;
    }
    *p = '\0';
    return out;
}

char *f_closure_key(med_arena *a, const char *rr, const char *ra)
{
    if (!rr || !rr[0] || !ra || !ra[0]) return NULL;
    return F_JOIN(a, rr, ra);
}

char *f_billing_key(med_arena *a, const char *rr, const char *ra, const char *billable_type)
{
    return F_JOIN(a, rr, ra, billable_type);
}

char *f_fact_id(med_arena *a, const char *p, const char *source_event_id, const char *trace_key,
                const char *type)
{
    char *joined = F_JOIN(a, p, source_event_id, trace_key, type);
    char *h = joined ? f_hexn(a, joined, 20) : NULL;
    return h ? med_arena_printf(a, "%s_%s", p, h) : NULL;
}

char *f_attribution_key(med_arena *a, const char *attribution_type, const char *event_type,
                        const char *rr, const char *ra, const char *event_id)
{
    char *joined = F_JOIN(a, attribution_type, event_type, rr, ra, event_id);
    return joined ? f_sha256(a, joined) : NULL;
}

char *f_record_key(med_arena *a, const char *record_type, const char *payload_key,
                   const char *dedup_key)
{
    char *joined = F_JOIN(a, record_type, payload_key, dedup_key, F_ARCHIVE_CONTRACT_VERSION);
    return joined ? f_sha256(a, joined) : NULL;
}

char *f_dedup_key_none(med_arena *a, const char *app_id, const char *batch_id, int index)
{
    char idx[16];
    snprintf(idx, sizeof idx, "%d", index);
    char *v = F_JOIN(a, app_id, batch_id, idx);
    return v ? med_arena_printf(a, F_DEDUP_VERSION ":none:%s", v) : NULL;
}
