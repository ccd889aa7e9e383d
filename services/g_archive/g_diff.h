/* Replay diff and determinism (spec 04 G.7). The key facts of an item are
 * compared as archived and as recomputed; one count per differing key
 * field, the non-key fields together under one code. Pure. */
#ifndef G_DIFF_H
#define G_DIFF_H

#include <stddef.h>
#include <stdint.h>

#define G_DIFF_MAX_CODES 8
#define G_EVENT_COUNTS 5   /* impression, click, failure, interaction, postback */

/* What G.7 compares. Strings and arrays are borrowed (arena); code and
 * billing-key arrays sorted ascending. */
typedef struct g_key_facts {
    const char *winner;            /* adapter id, NULL = NA */
    const char *terminal_status;   /* impression | failure | open */
    char **billing_keys;           /* committed billable facts */
    size_t n_billing_keys;
    char **reason_codes;           /* keyReasonCodes */
    size_t n_reason_codes;
    int32_t event_counts[G_EVENT_COUNTS];   /* non-key */
    const char *render_status;             /* non-key */
} g_key_facts;

/* Item/page diff statuses (G.7). */
#define G_DIFF_EXACT_MATCH "exact_match"
#define G_DIFF_EQUIVALENT "semantically_equivalent"
#define G_DIFF_DIVERGED "diverged"
#define G_DIFF_NOT_COMPARABLE "not_comparable"

typedef struct g_item_diff {
    const char *status;            /* exact_match | semantically_equivalent | diverged | not_comparable */
    const char *codes[G_DIFF_MAX_CODES];
    size_t n_codes;
    int32_t field_diff_count;
} g_item_diff;

void g_diff_items(const g_key_facts *archived, const g_key_facts *recomputed, g_item_diff *out);
/* Input missing (no Delivery / E decision archived). */
void g_diff_not_comparable(g_item_diff *out);
/* Snapshot mode with pins the archive does not hold: mismatches anchors. */
void g_diff_version_mismatch(int mismatches, g_item_diff *out);

typedef struct g_page_diff {
    const char *status;
    const char *codes[4 * G_DIFF_MAX_CODES];
    size_t n_codes;
    int32_t field_diff_count;
} g_page_diff;

/* not_comparable > diverged > semantically_equivalent > exact_match (also
 * for 0 items), sorted code union, summed counts. */
void g_diff_page(const g_item_diff *items, size_t n, g_page_diff *out);
/* diverged -> non_deterministic; not_comparable -> not_comparable; else deterministic. */
const char *g_diff_determinism(const char *page_status);

/* Sorts an array of strings ascending and drops repeats; returns the new length. */
size_t g_sorted_unique(char **v, size_t n);

#endif
