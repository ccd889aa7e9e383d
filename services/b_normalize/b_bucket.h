/* B.6 bucket dictionary and the bucketing of numeric signals. */
#ifndef B_BUCKET_H
#define B_BUCKET_H

#include <jansson.h>
#include "med/err.h"

#define B_BUCKET_MAX_RANGES 8
#define B_BUCKET_MAX_SLOTS 4

typedef struct b_bucket_range {
    const char *value;
    double lo, hi;
    int hi_inclusive;   /* the last bucket is [lo, hi] */
} b_bucket_range;

typedef struct b_bucket_slot {
    const char *name;          /* intentScore | devicePerfScore | sessionDepth */
    const char *source_field;
    const char *value_type;    /* float | int */
    double range_lo, range_hi;
    b_bucket_range ranges[B_BUCKET_MAX_RANGES];
    int n_ranges;
    const char *unknown_bucket, *outlier_low_bucket, *outlier_high_bucket;
} b_bucket_slot;

typedef struct b_bucket_dict {
    char version[64];
    b_bucket_slot slots[B_BUCKET_MAX_SLOTS];
    int n_slots;
} b_bucket_dict;

typedef struct b_bucket_decision {
    const char *slot_name;
    const char *raw;           /* borrowed; NULL when missing */
    const char *bucket_value;
    const char *bucket_action; /* bucket_mapped | bucket_unknown | bucket_outlier */
    const char *reason_code;
} b_bucket_decision;

/* The spec dictionary, with each slot's upper edges replaced by
 * bounds[slot] (array, one per bucket, strictly increasing, last = range
 * hi) when given; other bounds keys belong to other readers and are
 * ignored. Bad bounds -> b_bucket_dict_missing_or_invalid. */
med_rc b_bucket_dict_build(const json_t *bounds, const char *version, b_bucket_dict *out,
                           med_err *err);
/* Version, slots, unknown/outlier rules present. */
med_rc b_bucket_dict_validate(const b_bucket_dict *d, med_err *err);
const b_bucket_slot *b_bucket_slot_find(const b_bucket_dict *d, const char *name);
/* The whole text is a finite decimal (no exponent, hex, inf, nan). */
int b_bucket_parse(const char *text, double *out);
/* One decision; an in-range value in no bucket -> MED_ERR_INVALID
 * b_bucket_dict_missing_or_invalid. */
med_rc b_bucket_classify(const b_bucket_slot *s, const char *raw, b_bucket_decision *out,
                         med_err *err);

#endif
