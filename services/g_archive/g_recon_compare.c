#include "g_recon_compare.h"

#include <stdlib.h>
#include <string.h>

#include "med/reason.h"

static int is_set(const char *s)
{
    return s && *s;
}

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

/* billing - archive, saturated instead of overflowing. */
static int64_t amount_diff(const g_recon_rec *a, const g_recon_rec *b)
{
    int64_t d;
    if (!__builtin_sub_overflow(b->amount_micros, a->amount_micros, &d)) return d;
    return b->amount_micros > a->amount_micros ? INT64_MAX : INT64_MIN;
}

static int amount_off(int64_t diff, int64_t tolerance)
{
    if (diff == INT64_MIN) return 1;
    return (diff < 0 ? -diff : diff) > tolerance;
}

const char *g_recon_classify(const g_recon_rec *archive, const g_recon_rec *billing,
                             int64_t tolerance_micros, g_recon_scope scope)
{
    if (!archive) return MED_R_RECON_ARCHIVE_MISSING;
    if (!billing) return MED_R_RECON_BILLING_MISSING;
    if (scope == G_RECON_SCOPE_PRESENCE) return NULL;
    if (is_set(archive->anchor_hash) && is_set(billing->anchor_hash) &&
        strcmp(archive->anchor_hash, billing->anchor_hash) != 0)
        return MED_R_RECON_ANCHOR_MISMATCH;
    if (!archive->billable != !billing->billable) return MED_R_RECON_BILLABLE_MISMATCH;
    if (amount_off(amount_diff(archive, billing), tolerance_micros))
        return MED_R_RECON_AMOUNT_MISMATCH;
    return NULL;
}

void g_recon_result_init(g_recon_result *r, g_recon_scope scope, int64_t tolerance_micros)
{
    memset(r, 0, sizeof *r);
    r->scope = scope;
    r->tolerance_micros = tolerance_micros;
    med_arena_init(&r->arena);
}

void g_recon_result_free(g_recon_result *r)
{
    free(r->diffs);
    med_arena_free(&r->arena);
    memset(r, 0, sizeof *r);
}

static void copy_rec(med_arena *a, const g_recon_rec *src, g_recon_rec *dst)
{
    dst->record_key = med_arena_strdup(a, or_empty(src->record_key));
    dst->response_reference = med_arena_strdup(a, or_empty(src->response_reference));
    dst->render_attempt_id = med_arena_strdup(a, or_empty(src->render_attempt_id));
    dst->billable = src->billable ? 1 : 0;
    dst->amount_micros = src->amount_micros;
    dst->anchor_hash = med_arena_strdup(a, or_empty(src->anchor_hash));
    dst->version_anchor_snapshot_ref =
        med_arena_strdup(a, or_empty(src->version_anchor_snapshot_ref));
}

static med_rc grow(g_recon_result *r, med_err *err)
{
    if (r->n_diffs < r->cap_diffs) return MED_OK;
    size_t cap = r->cap_diffs ? r->cap_diffs * 2 : 16;
    g_recon_diff *d = realloc(r->diffs, cap * sizeof *d);
    if (!d) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "reconciliation diffs");
    r->diffs = d;
    r->cap_diffs = cap;
    return MED_OK;
}

/* The anchors a diff reports: the archive's (the record of truth), else the ledger's. */
static void pick_anchors(g_recon_diff *d)
{
    const g_recon_rec *src = d->has_archive ? &d->archive : &d->billing;
    d->anchor_hash = src->anchor_hash;
    d->version_anchor_snapshot_ref = src->version_anchor_snapshot_ref;
    if (!is_set(d->anchor_hash) && d->has_archive && d->has_billing)
        d->anchor_hash = d->billing.anchor_hash;
    if (!is_set(d->version_anchor_snapshot_ref) && d->has_archive && d->has_billing)
        d->version_anchor_snapshot_ref = d->billing.version_anchor_snapshot_ref;
}

static med_rc keep_diff(g_recon_result *r, const g_recon_rec *archive, const g_recon_rec *billing,
                        const char *code, med_err *err)
{
    med_rc rc = grow(r, err);
    if (rc != MED_OK) return rc;
    g_recon_diff *d = &r->diffs[r->n_diffs];
    memset(d, 0, sizeof *d);
    d->code = code;
    d->has_archive = archive != NULL;
    d->has_billing = billing != NULL;
    if (archive) copy_rec(&r->arena, archive, &d->archive);
    if (billing) copy_rec(&r->arena, billing, &d->billing);
    d->record_key = d->has_archive ? d->archive.record_key : d->billing.record_key;
    if (archive && billing) d->amount_diff_micros = amount_diff(archive, billing);
    pick_anchors(d);
    if (r->arena.failed)
        return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "reconciliation diff");
    r->n_diffs++;
    return MED_OK;
}

med_rc g_recon_result_add(g_recon_result *r, const g_recon_rec *archive,
                          const g_recon_rec *billing, med_err *err)
{
    if (!archive && !billing) return MED_OK;
    if (archive) r->total_archive++;
    if (billing) r->total_billing++;
    const char *code = g_recon_classify(archive, billing, r->tolerance_micros, r->scope);
    if (!code) {
        r->matched++;
        return MED_OK;
    }
    r->diff_count++;
    if (!archive || !billing) r->missing_drift++;
    return keep_diff(r, archive, billing, code, err);
}

static int diff_cmp(const void *x, const void *y)
{
    const g_recon_diff *a = x, *b = y;
    int c = strcmp(a->record_key, b->record_key);
    if (c != 0) return c;
    /* a key listed twice (never from the database): stable by code */
    return strcmp(a->code, b->code);
}

void g_recon_result_finish(g_recon_result *r)
{
    if (r->n_diffs > 1) qsort(r->diffs, r->n_diffs, sizeof *r->diffs, diff_cmp);
    r->pass = r->diff_count == 0;
}

static int rec_ptr_cmp(const void *x, const void *y)
{
    const g_recon_rec *a = *(const g_recon_rec *const *)x, *b = *(const g_recon_rec *const *)y;
    return strcmp(or_empty(a->record_key), or_empty(b->record_key));
}

static const g_recon_rec **sorted_view(const g_recon_rec *recs, size_t n)
{
    const g_recon_rec **v = malloc((n ? n : 1) * sizeof *v);
    if (!v) return NULL;
    for (size_t i = 0; i < n; i++) v[i] = &recs[i];
    if (n > 1) qsort(v, n, sizeof *v, rec_ptr_cmp);
    return v;
}

static med_rc merge(g_recon_result *r, const g_recon_rec **a, size_t na, const g_recon_rec **b,
                    size_t nb, med_err *err)
{
    size_t i = 0, j = 0;
    med_rc rc = MED_OK;
    while (rc == MED_OK && (i < na || j < nb)) {
        int c = i >= na ? 1 : j >= nb ? -1 : rec_ptr_cmp(&a[i], &b[j]);
        if (c == 0) rc = g_recon_result_add(r, a[i++], b[j++], err);
        else if (c < 0) rc = g_recon_result_add(r, a[i++], NULL, err);
        else rc = g_recon_result_add(r, NULL, b[j++], err);
    }
    return rc;
}

med_rc g_recon_compare(const g_recon_rec *archive, size_t n_archive, const g_recon_rec *billing,
                       size_t n_billing, g_recon_scope scope, int64_t tolerance_micros,
                       g_recon_result *out, med_err *err)
{
    g_recon_result_init(out, scope, tolerance_micros);
    const g_recon_rec **a = sorted_view(archive, n_archive);
    const g_recon_rec **b = sorted_view(billing, n_billing);
    med_rc rc = (!a || !b) ? med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL,
                                         "reconciliation input")
                           : merge(out, a, n_archive, b, n_billing, err);
    free(a);
    free(b);
    if (rc == MED_OK) g_recon_result_finish(out);
    return rc;
}
