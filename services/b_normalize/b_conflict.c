#include "b_conflict.h"

#include <stdlib.h>
#include <string.h>

#include "b_enum.h"
#include "med/reason.h"

int b_conflict_priority(const char *source)
{
    if (!source) return 999;
    if (strcmp(source, B_SRC_APP) == 0) return 1;
    if (strcmp(source, B_SRC_PLACEMENT) == 0) return 2;
    if (strcmp(source, B_SRC_DEFAULT) == 0) return 3;
    return 999;
}

int b_conflict_is_set_like(const char *slot)
{
    return slot && (strcmp(slot, "restrictedCategoryFlags") == 0 ||
                    strcmp(slot, "experimentTags") == 0);
}

static med_rc reject(b_conflict_result *out, const char *code, const char *slot, med_err *err)
{
    out->action = "reject";
    out->reason_code = code;
    out->selected = NULL;
    return med_err_set(err, MED_ERR_INVALID, code, slot, "conflict on %s not resolvable", slot);
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

static med_rc merge_union(med_arena *a, const char *slot, const b_cand *c, size_t n,
                          b_conflict_result *out, med_err *err)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (c[i].bad_shape || !c[i].is_list)
            return reject(out, MED_R_B_CONFLICT_REJECT_UNMERGEABLE, slot, err);
        total += c[i].n_items;
    }
    char **all = MED_NEWN(a, char *, total);
    if (!all) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_TRANSIENT_FAILURE, slot, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < c[i].n_items; j++) all[k++] = (char *)c[i].items[j];
    qsort(all, k, sizeof *all, cmp_str);
    size_t u = 0;
    for (size_t i = 0; i < k; i++)
        if (u == 0 || strcmp(all[u - 1], all[i]) != 0) all[u++] = all[i];
    out->merged = all;
    out->n_merged = u;
    return MED_OK;
}

static int distinct_values(const b_cand *c, const int *alive, size_t n, const char **one)
{
    int d = 0;
    *one = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!alive[i]) continue;
        int seen = 0;
        for (size_t j = 0; j < i; j++)
            if (alive[j] && strcmp(c[j].value, c[i].value) == 0) seen = 1;
        if (!seen) {
            d++;
            if (!*one) *one = c[i].value;
        }
    }
    return d;
}

/* Keeps only the alive candidates maximising key(); returns how many. */
static int keep_max(const b_cand *c, int *alive, size_t n, int64_t (*key)(const b_cand *))
{
    int64_t best = INT64_MIN;
    int have = 0, kept = 0;
    for (size_t i = 0; i < n; i++)
        if (alive[i] && (!have || key(&c[i]) > best)) {
            best = key(&c[i]);
            have = 1;
        }
    for (size_t i = 0; i < n; i++) {
        if (alive[i] && key(&c[i]) != best) alive[i] = 0;
        kept += alive[i];
    }
    return kept;
}

static int64_t key_non_unknown(const b_cand *c) { return !b_enum_is_unknown(c->value); }
static int64_t key_updated_at(const b_cand *c) { return c->has_updated_at ? c->updated_at : INT64_MIN; }
static int64_t key_sequence(const b_cand *c) { return c->sequence; }

static void tie_break(const b_cand *c, int *alive, size_t n, b_conflict_result *out)
{
    static const struct {
        const char *name;
        int64_t (*key)(const b_cand *);
    } rules[] = {
        { "prefer_non_unknown", key_non_unknown },
        { "prefer_later_input_updated_at", key_updated_at },
        { "prefer_larger_source_sequence", key_sequence },
    };
    const char *one;
    for (size_t r = 0; r < sizeof rules / sizeof rules[0]; r++) {
        keep_max(c, alive, n, rules[r].key);
        if (distinct_values(c, alive, n, &one) == 1) {
            out->tie_break_rule = rules[r].name;
            out->selected = one;
            return;
        }
    }
    out->tie_break_rule = "prefer_lexicographically_smallest_normalized_value";
    for (size_t i = 0; i < n; i++)
        if (alive[i] && (!out->selected || strcmp(c[i].value, out->selected) < 0))
            out->selected = c[i].value;
}

static med_rc resolve_scalar(const char *slot, const b_cand *c, size_t n,
                             b_conflict_result *out, med_err *err)
{
    int alive[16];
    int best = 999;
    for (size_t i = 0; i < n; i++) {
        if (c[i].bad_shape || !c[i].value)
            return reject(out, MED_R_B_CONFLICT_REJECT_UNMERGEABLE, slot, err);
        if (b_conflict_priority(c[i].source) < best) best = b_conflict_priority(c[i].source);
    }
    for (size_t i = 0; i < n; i++) alive[i] = b_conflict_priority(c[i].source) == best;
    const char *one;
    if (distinct_values(c, alive, n, &one) == 1) {
        out->action = "override";
        out->reason_code = MED_R_B_CONFLICT_OVERRIDE_BY_PRIORITY;
        out->selected = one;
        return MED_OK;
    }
    out->action = "override";
    out->reason_code = MED_R_B_CONFLICT_OVERRIDE_BY_TIE_BREAK;
    tie_break(c, alive, n, out);
    return MED_OK;
}

static int one_distinct(const b_cand *c, size_t n)
{
    int alive[16];
    const char *one;
    for (size_t i = 0; i < n; i++) {
        if (c[i].bad_shape || c[i].is_list || !c[i].value) return 0;
        alive[i] = 1;
    }
    return distinct_values(c, alive, n, &one) == 1;
}

med_rc b_conflict_resolve(med_arena *a, const char *slot, const b_cand *c, size_t n,
                          b_conflict_result *out, med_err *err)
{
    memset(out, 0, sizeof *out);
    out->tie_break_rule = "";
    out->reason_code = "";
    if (n == 0 || n > 16) return reject(out, MED_R_B_CONFLICT_REJECT_UNMERGEABLE, slot, err);
    if (b_conflict_is_set_like(slot)) {
        out->action = n == 1 ? "none" : "merge";
        if (n > 1) out->reason_code = MED_R_B_CONFLICT_MERGE_UNION;
        /* A single candidate of the wrong shape is not a conflict: the
         * projection reports the invalid value (B.9). */
        if (n == 1 && !c[0].is_list) return MED_OK;
        return merge_union(a, slot, c, n, out, err);
    }
    if (one_distinct(c, n)) {
        out->action = "none";
        out->selected = c[0].value;
        return MED_OK;
    }
    if (b_enum_is_gating(slot)) return reject(out, MED_R_B_CONFLICT_REJECT_GATING_HARD, slot, err);
    return resolve_scalar(slot, c, n, out, err);
}

static char *selected_text(med_arena *a, const b_conflict_result *r)
{
    if (r->selected) return med_arena_strdup(a, r->selected);
    if (!r->merged) return med_arena_strdup(a, "");
    size_t len = 3;
    for (size_t i = 0; i < r->n_merged; i++) len += strlen(r->merged[i]) + 3;
    char *s = med_arena_alloc(a, len);
    if (!s) return NULL;
    strcat(s, "[");
    for (size_t i = 0; i < r->n_merged; i++) {
        if (i) strcat(s, ",");
        strcat(s, "\"");
        strcat(s, r->merged[i]);
        strcat(s, "\"");
    }
    strcat(s, "]");
    return s;
}

Mediation__V1__ConflictResolutionSnapshotLite *
b_conflict_snapshot(med_arena *a, const char *slot, const b_cand *c, const char *const *raws,
                    size_t n, const b_conflict_result *r, const char *selected_redacted,
                    const char *policy_version)
{
    Mediation__V1__ConflictResolutionSnapshotLite *s =
        MED_NEW(a, Mediation__V1__ConflictResolutionSnapshotLite);
    Mediation__V1__ConflictCandidateLite **cs = MED_NEWN(a, Mediation__V1__ConflictCandidateLite *, n);
    if (!s || !cs) return NULL;
    mediation__v1__conflict_resolution_snapshot_lite__init(s);
    for (size_t i = 0; i < n; i++) {
        cs[i] = MED_NEW(a, Mediation__V1__ConflictCandidateLite);
        if (!cs[i]) return NULL;
        mediation__v1__conflict_candidate_lite__init(cs[i]);
        cs[i]->source = (char *)c[i].source;
        cs[i]->raw_value = (char *)(raws && raws[i] ? raws[i] : "NA");
        /* set-like values are S3 in the default policy: never their items. */
        cs[i]->normalized_value = (char *)(c[i].value ? c[i].value : (c[i].is_list ? "[list]" : ""));
        cs[i]->source_priority = b_conflict_priority(c[i].source);
        cs[i]->source_sequence = c[i].sequence;
        cs[i]->input_updated_at_unix_ms = c[i].has_updated_at ? c[i].updated_at : 0;
    }
    s->semantic_slot = (char *)slot;
    s->candidates = cs;
    s->n_candidates = n;
    s->conflict_action = (char *)r->action;
    if (strcmp(r->action, "reject") == 0) s->selected_value = (char *)"";
    else if (selected_redacted) s->selected_value = (char *)selected_redacted;
    else s->selected_value = selected_text(a, r);
    s->reason_code = (char *)r->reason_code;
    s->tie_break_rule = (char *)r->tie_break_rule;
    s->conflict_policy_version = (char *)policy_version;
    return s->selected_value ? s : NULL;
}
