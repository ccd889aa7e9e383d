/* B.4 conflict resolution of one semantic slot over the canonical values
 * its sources gave, and its conflictResolutionSnapshotLite. */
#ifndef B_CONFLICT_H
#define B_CONFLICT_H

#include <stddef.h>
#include <stdint.h>
#include "med/arena.h"
#include "med/err.h"
#include "mediation/v1/opportunity.pb-c.h"

#define B_SRC_APP       "appExplicit"
#define B_SRC_PLACEMENT "placementConfig"
#define B_SRC_DEFAULT   "defaultPolicy"

/* One source's value. Scalars set `value` (canonical); set-like slots set
 * is_list/items, or bad_shape when the source gave something else. */
typedef struct b_cand {
    const char *source;
    int sequence;              /* index in the source; a seed value is 0 */
    int has_updated_at;
    int64_t updated_at;        /* inputUpdatedAt; missing = oldest */
    const char *raw;           /* as given (list: JSON text); redacted before audit */
    const char *value;
    const char *const *items;
    size_t n_items;
    int is_list;
    int bad_shape;
} b_cand;

typedef struct b_conflict_result {
    const char *action;         /* none | override | merge | reject */
    const char *reason_code;    /* "" for none */
    const char *tie_break_rule; /* "" unless a tie-break decided */
    const char *selected;       /* scalar winner (borrowed), NULL for lists/reject */
    char **merged;              /* set-like result in the arena (byte-order sorted) */
    size_t n_merged;
} b_conflict_result;

/* Source priority: appExplicit 1, placementConfig 2, defaultPolicy 3, other 999. */
int b_conflict_priority(const char *source);
/* restrictedCategoryFlags, experimentTags. */
int b_conflict_is_set_like(const char *slot);

/* Resolves slot over n >= 1 candidates. A reject returns MED_ERR_INVALID
 * with the reason code in err and out->action = "reject". n == 0 is a
 * reject (b_conflict_reject_unmergeable). Arena holds merged lists. */
med_rc b_conflict_resolve(med_arena *a, const char *slot, const b_cand *c, size_t n,
                          b_conflict_result *out, med_err *err);

/* The snapshot of a resolution, built in the arena. raws[i] is the redacted
 * raw of c[i] and selected_redacted (NULL = the result itself) the redacted
 * selection: the caller redacts, B.7 comes before any audit. */
Mediation__V1__ConflictResolutionSnapshotLite *
b_conflict_snapshot(med_arena *a, const char *slot, const b_cand *c, const char *const *raws,
                    size_t n, const b_conflict_result *r, const char *selected_redacted,
                    const char *policy_version);

#endif
