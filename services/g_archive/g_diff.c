#include "g_diff.h"

#include <stdlib.h>
#include <string.h>

#include "med/reason.h"

#define ST_EXACT G_DIFF_EXACT_MATCH
#define ST_EQUIV G_DIFF_EQUIVALENT
#define ST_DIVERGED G_DIFF_DIVERGED
#define ST_NC G_DIFF_NOT_COMPARABLE

static int same(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

static int same_list(char *const *a, size_t na, char *const *b, size_t nb)
{
    if (na != nb) return 0;
    for (size_t i = 0; i < na; i++)
        if (!same(a[i], b[i])) return 0;
    return 1;
}

static void add(g_item_diff *d, const char *code)
{
    if (d->n_codes < G_DIFF_MAX_CODES) d->codes[d->n_codes++] = code;
}

static int non_key_differences(const g_key_facts *x, const g_key_facts *y)
{
    int n = !same(x->render_status, y->render_status);
    for (int i = 0; i < G_EVENT_COUNTS; i++) n += x->event_counts[i] != y->event_counts[i];
    return n;
}

void g_diff_items(const g_key_facts *x, const g_key_facts *y, g_item_diff *out)
{
    memset(out, 0, sizeof *out);
    if (!same(x->winner, y->winner)) add(out, MED_R_G_REPLAY_DIFF_WINNER_CHANGED);
    if (!same(x->terminal_status, y->terminal_status)) add(out, MED_R_G_REPLAY_DIFF_TERMINAL_STATUS_CHANGED);
    if (!same_list(x->billing_keys, x->n_billing_keys, y->billing_keys, y->n_billing_keys))
        add(out, MED_R_G_REPLAY_DIFF_BILLABLE_FACT_CHANGED);
    if (!same_list(x->reason_codes, x->n_reason_codes, y->reason_codes, y->n_reason_codes))
        add(out, MED_R_G_REPLAY_DIFF_REASON_CODE_CHANGED);
    int key = (int)out->n_codes, other = non_key_differences(x, y);
    out->field_diff_count = key + other;
    if (other) add(out, MED_R_G_REPLAY_DIFF_NON_KEY_FIELD_CHANGED);
    if (key) out->status = ST_DIVERGED;
    else if (other) out->status = ST_EQUIV;
    else {
        out->status = ST_EXACT;
        add(out, MED_R_G_REPLAY_DIFF_NONE);
    }
}

void g_diff_not_comparable(g_item_diff *out)
{
    memset(out, 0, sizeof *out);
    out->status = ST_NC;
    add(out, MED_R_G_REPLAY_DIFF_MISSING_SNAPSHOT);
    add(out, MED_R_G_REPLAY_DIFF_NOT_COMPARABLE);
}

void g_diff_version_mismatch(int mismatches, g_item_diff *out)
{
    memset(out, 0, sizeof *out);
    out->status = ST_NC;
    out->field_diff_count = mismatches;
    add(out, MED_R_G_REPLAY_DIFF_VERSION_MISMATCH);
}

static int rank(const char *s)
{
    if (same(s, ST_NC)) return 3;
    if (same(s, ST_DIVERGED)) return 2;
    if (same(s, ST_EQUIV)) return 1;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

size_t g_sorted_unique(char **v, size_t n)
{
    if (n < 2) return n;
    qsort(v, n, sizeof *v, cmp_str);
    size_t k = 1;
    for (size_t i = 1; i < n; i++)
        if (strcmp(v[i], v[k - 1]) != 0) v[k++] = v[i];
    return k;
}

void g_diff_page(const g_item_diff *items, size_t n, g_page_diff *out)
{
    static const char *const statuses[] = {ST_EXACT, ST_EQUIV, ST_DIVERGED, ST_NC};
    memset(out, 0, sizeof *out);
    int r = 0;
    for (size_t i = 0; i < n; i++) {
        if (rank(items[i].status) > r) r = rank(items[i].status);
        out->field_diff_count += items[i].field_diff_count;
        for (size_t k = 0; k < items[i].n_codes; k++) {
            size_t j = 0;
            while (j < out->n_codes && strcmp(out->codes[j], items[i].codes[k]) != 0) j++;
            if (j == out->n_codes && j < sizeof out->codes / sizeof *out->codes)
                out->codes[out->n_codes++] = items[i].codes[k];
        }
    }
    out->status = statuses[r];
    if (n == 0) out->codes[out->n_codes++] = MED_R_G_REPLAY_DIFF_NONE;
    qsort(out->codes, out->n_codes, sizeof *out->codes, cmp_str);
}

const char *g_diff_determinism(const char *page_status)
{
    if (same(page_status, ST_DIVERGED)) return "non_deterministic";
    if (same(page_status, ST_NC)) return "not_comparable";
    return "deterministic";
}
