/* C.2 input checks, in spec order: the first failure rejects the input
 * with its code. Also picks the keys (body, then Med-* headers, then NA),
 * the frequency count (C.3) and the snapshot's expiry state. */
#ifndef C_INPUT_H
#define C_INPUT_H

#include "c_types.h"
#include "med/err.h"

typedef struct c_input {
    const Mediation__V1__NormalizedOpportunity *msg; /* borrowed */
    const Mediation__V1__PolicySnapshotLite *snapshot; /* NULL when missing */
    c_keys keys;
    int64_t frequency_count;
    int snapshot_expired; /* evalNow >= expireAtOrNA */
    int fail_open;
} c_input;

/* Keys of a message: the TraceContext block (attempt also from the
 * transport trace), else the headers, else "NA". msg may be NULL. */
void c_input_keys(const Mediation__V1__NormalizedOpportunity *msg, const c_header_keys *hdr,
                  c_keys *out);

/* Runs checks 2..8 of C.2 (check 1, decoding, is the caller's) on msg at
 * eval_now. MED_OK: *out is ready for the gates (a fail_open expiry is
 * reported in out->snapshot_expired). MED_ERR_INVALID: err->code is the
 * reject code, err->field the path; *out still holds keys and snapshot.
 * Warnings (c_optional_missing_ignored) are appended to w. */
med_rc c_input_check(const Mediation__V1__NormalizedOpportunity *msg, const c_header_keys *hdr,
                     int64_t eval_now, c_input *out, c_warnings *w, med_err *err);

/* C.2 check 7 on its own. */
med_rc c_input_check_snapshot(const Mediation__V1__PolicySnapshotLite *s, med_err *err);

/* 1-128 chars of [A-Za-z0-9_.:-]. */
int c_is_anchor(const char *s);

#endif
