/* C.4 constraintsLite: the base constraints of the policy snapshot, cleaned
 * (de-duplicated lists, known render modes only, blocked sources leave the
 * allowlist), plus what the decision adds. */
#ifndef C_CONSTRAINTS_H
#define C_CONSTRAINTS_H

#include "c_types.h"
#include "med/err.h"

#define C_LIST_MAX 1024

/* Fills out from snap's base constraints; snap NULL gives the complete "NA"
 * set (no lists, all_except_blocked). A render mode other than webview /
 * video_vast_container is dropped with a warning. On failure (NOMEM) out
 * is left empty (freeable). */
med_rc c_constraints_build(const Mediation__V1__PolicySnapshotLite *snap, c_constraints *out,
                           c_warnings *w, med_err *err);

/* Appends code to constraintReasonCodes unless already there. */
med_rc c_constraints_add_reason(c_constraints *c, const char *code, med_err *err);

/* Dedupes src (keep first, at most C_LIST_MAX) into out, skipping entries
 * found in exclude (may be NULL). Empty strings are dropped. */
med_rc c_strlist_from(char *const *src, size_t n, const c_strlist *exclude, c_strlist *out,
                      med_err *err);

int c_strlist_has(const c_strlist *l, const char *s);

#endif
