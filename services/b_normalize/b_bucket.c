#include "b_bucket.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "med/reason.h"

static const b_bucket_slot spec_slots[] = {
    { "intentScore", "intentScore", "float", 0, 1,
      { { "intent_vlow", 0, 0.2, 0 }, { "intent_low", 0.2, 0.4, 0 }, { "intent_mid", 0.4, 0.7, 0 },
        { "intent_high", 0.7, 0.9, 0 }, { "intent_vhigh", 0.9, 1, 1 } }, 5,
      "intent_unknown", "intent_outlier_low", "intent_outlier_high" },
    { "devicePerfScore", "device_performance_score", "float", 0, 100,
      { { "perf_p0", 0, 20, 0 }, { "perf_p1", 20, 40, 0 }, { "perf_p2", 40, 70, 0 },
        { "perf_p3", 70, 90, 0 }, { "perf_p4", 90, 100, 1 } }, 5,
      "perf_unknown", "perf_outlier_low", "perf_outlier_high" },
    { "sessionDepth", "session_depth", "int", 0, 200,
      { { "sess_d0", 0, 1, 0 }, { "sess_d1_3", 1, 4, 0 }, { "sess_d4_10", 4, 11, 0 },
        { "sess_d11_30", 11, 31, 0 }, { "sess_d31p", 31, 200, 1 } }, 5,
      "session_unknown", "session_outlier_low", "session_outlier_high" },
};

static med_rc dict_invalid(med_err *err, const char *field, const char *why)
{
    return med_err_set(err, MED_ERR_INVALID, MED_R_B_BUCKET_DICT_MISSING_OR_INVALID, field,
                       "bucket dictionary: %s", why);
}

static med_rc apply_bounds(b_bucket_slot *s, const json_t *edges, med_err *err)
{
    if (!json_is_array(edges) || (int)json_array_size(edges) != s->n_ranges)
        return dict_invalid(err, s->name, "bounds must list one upper edge per bucket");
    double lo = s->range_lo;
    for (int i = 0; i < s->n_ranges; i++) {
        const json_t *e = json_array_get(edges, (size_t)i);
        if (!json_is_number(e) || json_number_value(e) <= lo)
            return dict_invalid(err, s->name, "bounds must increase");
        s->ranges[i].lo = lo;
        s->ranges[i].hi = lo = json_number_value(e);
    }
    s->range_hi = lo;
    return MED_OK;
}

med_rc b_bucket_dict_build(const json_t *bounds, const char *version, b_bucket_dict *out,
                           med_err *err)
{
    memset(out, 0, sizeof *out);
    snprintf(out->version, sizeof out->version, "%s", version ? version : "");
    out->n_slots = (int)(sizeof spec_slots / sizeof spec_slots[0]);
    memcpy(out->slots, spec_slots, sizeof spec_slots);
    for (int i = 0; i < out->n_slots; i++) {
        const json_t *e = bounds ? json_object_get(bounds, out->slots[i].name) : NULL;
        if (e && apply_bounds(&out->slots[i], e, err) != MED_OK) return err ? err->rc : MED_ERR_INVALID;
    }
    return b_bucket_dict_validate(out, err);
}

med_rc b_bucket_dict_validate(const b_bucket_dict *d, med_err *err)
{
    if (!d || !d->version[0]) return dict_invalid(err, "bucketDictVersion", "no version");
    if (d->n_slots == 0) return dict_invalid(err, "slots", "no slots");
    for (int i = 0; i < d->n_slots; i++) {
        const b_bucket_slot *s = &d->slots[i];
        if (!s->unknown_bucket || !s->outlier_low_bucket || !s->outlier_high_bucket ||
            s->n_ranges == 0)
            return dict_invalid(err, s->name, "slot without buckets or unknown/outlier rule");
    }
    return MED_OK;
}

const b_bucket_slot *b_bucket_slot_find(const b_bucket_dict *d, const char *name)
{
    for (int i = 0; name && i < d->n_slots; i++)
        if (strcmp(d->slots[i].name, name) == 0) return &d->slots[i];
    return NULL;
}

int b_bucket_parse(const char *text, double *out)
{
    const char *p = text;
    if (!p) return 0;
    if (*p == '+' || *p == '-') p++;
    int digits = 0, dot = 0;
    for (; *p; p++) {
        if (isdigit((unsigned char)*p)) digits++;
        else if (*p == '.' && !dot) dot = 1;
        else return 0;
    }
    if (!digits) return 0;
    char *end = NULL;
    double v = strtod(text, &end);
    if (!end || *end || !isfinite(v)) return 0;
    *out = v;
    return 1;
}

static void decide(b_bucket_decision *o, const char *bucket, const char *action, const char *code)
{
    o->bucket_value = bucket;
    o->bucket_action = action;
    o->reason_code = code;
}

med_rc b_bucket_classify(const b_bucket_slot *s, const char *raw, b_bucket_decision *out,
                         med_err *err)
{
    double v;
    out->slot_name = s->name;
    out->raw = raw;
    int is_int = strcmp(s->value_type, "int") == 0;
    if (!b_bucket_parse(raw, &v) || (is_int && v != floor(v))) {
        decide(out, s->unknown_bucket, "bucket_unknown", MED_R_B_BUCKET_UNKNOWN_VALUE);
        return MED_OK;
    }
    if (v < s->range_lo || v > s->range_hi) {
        decide(out, v < s->range_lo ? s->outlier_low_bucket : s->outlier_high_bucket,
               "bucket_outlier", MED_R_B_BUCKET_OUTLIER_VALUE);
        return MED_OK;
    }
    for (int i = 0; i < s->n_ranges; i++) {
        const b_bucket_range *r = &s->ranges[i];
        if (v >= r->lo && (v < r->hi || (r->hi_inclusive && v <= r->hi))) {
            decide(out, r->value, "bucket_mapped", MED_R_B_BUCKET_MAPPED_COMPLETE);
            return MED_OK;
        }
    }
    return dict_invalid(err, s->name, "in-range value in no bucket");
}
