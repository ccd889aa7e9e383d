/* Reconciliation comparison (spec 04 G.8): archive `written` `committed`
 * billable facts vs the billing ledger, per recordKey, first rule wins:
 * RECON_ARCHIVE_MISSING, RECON_BILLING_MISSING, RECON_ANCHOR_MISMATCH
 * (both hashes set, unequal), RECON_BILLABLE_MISMATCH,
 * RECON_AMOUNT_MISMATCH (|billing - archive| > tolerance), else matched.
 * Pure; the I/O side feeds keys one by one (g_recon_result_add) so a day
 * of records is compared as a stream, only the diffs are kept. */
#ifndef G_RECON_COMPARE_H
#define G_RECON_COMPARE_H

#include <stddef.h>
#include <stdint.h>
#include "med/arena.h"
#include "med/err.h"

/* One side's view of a record. Strings are borrowed; NULL or "" = unset. */
typedef struct g_recon_rec {
    const char *record_key;
    const char *response_reference;
    const char *render_attempt_id;
    int billable;
    int64_t amount_micros;
    const char *anchor_hash;
    const char *version_anchor_snapshot_ref;
} g_recon_rec;

typedef enum g_recon_scope {
    /* hourly: only presence is compared (missing-record drift); facts of
     * the last hour may still be in flight, so values are the daily's job */
    G_RECON_SCOPE_PRESENCE = 1,
    G_RECON_SCOPE_FULL = 2, /* daily: every rule */
} g_recon_scope;

/* A key that did not match. Every string lives in the owning result's arena. */
typedef struct g_recon_diff {
    const char *record_key;
    const char *code;                 /* MED_R_RECON_* */
    int has_archive, has_billing;
    g_recon_rec archive, billing;     /* valid iff has_* */
    int64_t amount_diff_micros;       /* billing - archive when both exist, else 0 */
    const char *anchor_hash;          /* the archive's, else the ledger's ("" if none) */
    const char *version_anchor_snapshot_ref;
} g_recon_diff;

typedef struct g_recon_result {
    g_recon_scope scope;
    int64_t tolerance_micros;
    int64_t total_archive, total_billing, matched, diff_count;
    int64_t missing_drift;            /* ARCHIVE_MISSING + BILLING_MISSING */
    int pass;                         /* set by g_recon_result_finish */
    g_recon_diff *diffs;              /* sorted by recordKey after finish */
    size_t n_diffs, cap_diffs;
    med_arena arena;                  /* owns the diffs' strings */
} g_recon_result;

/* The rule that decides this key, or NULL when it matches. Either side may
 * be NULL (absent), not both. */
const char *g_recon_classify(const g_recon_rec *archive, const g_recon_rec *billing,
                             int64_t tolerance_micros, g_recon_scope scope);

void g_recon_result_init(g_recon_result *r, g_recon_scope scope, int64_t tolerance_micros);
/* Counts one key (archive and/or billing side) and keeps a copy of it if it
 * is a diff. MED_ERR_NOMEM on allocation failure (the result is then
 * incomplete and must not be reported). */
med_rc g_recon_result_add(g_recon_result *r, const g_recon_rec *archive,
                          const g_recon_rec *billing, med_err *err);
/* Sorts the diffs by recordKey (bytes) and sets pass (no diff). */
void g_recon_result_finish(g_recon_result *r);
void g_recon_result_free(g_recon_result *r);

/* Whole-set comparison: both sides sorted by recordKey and merged, then
 * finished. For callers holding both sides in memory (and the tests). */
med_rc g_recon_compare(const g_recon_rec *archive, size_t n_archive, const g_recon_rec *billing,
                       size_t n_billing, g_recon_scope scope, int64_t tolerance_micros,
                       g_recon_result *out, med_err *err);

#endif
