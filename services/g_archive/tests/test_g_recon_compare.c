/* G.8 per-key comparison and report totals; G.9 case 16. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "g_recon_compare.h"
#include "med/reason.h"

#define ANCHOR_1 "anc_1111"
#define ANCHOR_2 "anc_2222"

static g_recon_rec rec(const char *key, int64_t amount)
{
    g_recon_rec r = {.record_key = key, .response_reference = "rr_1", .render_attempt_id = "ra_1",
                     .billable = 1, .amount_micros = amount, .anchor_hash = ANCHOR_1,
                     .version_anchor_snapshot_ref = "vas_1"};
    return r;
}

static const g_recon_diff *find_diff(const g_recon_result *r, const char *key)
{
    for (size_t i = 0; i < r->n_diffs; i++)
        if (strcmp(r->diffs[i].record_key, key) == 0) return &r->diffs[i];
    return NULL;
}

/* G.9 case 16, first half: archive {m 100000, b, a 200000}, billing
 * {m 100000, a 250000, x}, tolerance 1000. */
static void case16_matched_missing_and_amount(void **state)
{
    (void)state;
    g_recon_rec archive[] = {rec("m", 100000), rec("b", 100000), rec("a", 200000)};
    g_recon_rec billing[] = {rec("m", 100000), rec("a", 250000), rec("x", 100000)};
    g_recon_result r;
    med_err e;
    assert_int_equal(g_recon_compare(archive, 3, billing, 3, G_RECON_SCOPE_FULL, 1000, &r, &e),
                     MED_OK);
    assert_int_equal(r.matched, 1);
    assert_int_equal(r.total_archive, 3);
    assert_int_equal(r.total_billing, 3);
    assert_int_equal(r.diff_count, 3);
    assert_false(r.pass);
    assert_int_equal(r.n_diffs, 3);
    /* diffs by recordKey: a, b, x */
    assert_string_equal(r.diffs[0].record_key, "a");
    assert_string_equal(r.diffs[0].code, MED_R_RECON_AMOUNT_MISMATCH);
    assert_int_equal(r.diffs[0].amount_diff_micros, 50000);
    assert_string_equal(r.diffs[1].record_key, "b");
    assert_string_equal(r.diffs[1].code, MED_R_RECON_BILLING_MISSING);
    assert_true(r.diffs[1].has_archive);
    assert_false(r.diffs[1].has_billing);
    assert_string_equal(r.diffs[2].record_key, "x");
    assert_string_equal(r.diffs[2].code, MED_R_RECON_ARCHIVE_MISSING);
    assert_false(r.diffs[2].has_archive);
    assert_true(r.diffs[2].has_billing);
    assert_null(find_diff(&r, "m"));
    g_recon_result_free(&r);
}

/* G.9 case 16, second half: hash and amount both off -> only ANCHOR_MISMATCH. */
static void case16_anchor_wins_over_amount(void **state)
{
    (void)state;
    g_recon_rec a = rec("k", 200000), b = rec("k", 250000);
    b.anchor_hash = ANCHOR_2;
    b.billable = 0;
    g_recon_result r;
    med_err e;
    assert_int_equal(g_recon_compare(&a, 1, &b, 1, G_RECON_SCOPE_FULL, 1000, &r, &e), MED_OK);
    assert_int_equal(r.n_diffs, 1);
    assert_string_equal(r.diffs[0].code, MED_R_RECON_ANCHOR_MISMATCH);
    assert_string_equal(r.diffs[0].archive.anchor_hash, ANCHOR_1);
    assert_string_equal(r.diffs[0].billing.anchor_hash, ANCHOR_2);
    assert_string_equal(r.diffs[0].anchor_hash, ANCHOR_1);
    assert_string_equal(r.diffs[0].version_anchor_snapshot_ref, "vas_1");
    assert_int_equal(r.matched, 0);
    g_recon_result_free(&r);
}

static void classify_rule_order(void **state)
{
    (void)state;
    g_recon_rec a = rec("k", 100), b = rec("k", 100);
    assert_null(g_recon_classify(&a, &b, 0, G_RECON_SCOPE_FULL));
    assert_string_equal(g_recon_classify(NULL, &b, 0, G_RECON_SCOPE_FULL),
                        MED_R_RECON_ARCHIVE_MISSING);
    assert_string_equal(g_recon_classify(&a, NULL, 0, G_RECON_SCOPE_FULL),
                        MED_R_RECON_BILLING_MISSING);
    /* billable beats amount */
    b.billable = 0;
    b.amount_micros = 999999;
    assert_string_equal(g_recon_classify(&a, &b, 0, G_RECON_SCOPE_FULL),
                        MED_R_RECON_BILLABLE_MISMATCH);
    /* one anchor unset: not a mismatch, the next rule decides */
    b.billable = 1;
    b.anchor_hash = "";
    assert_string_equal(g_recon_classify(&a, &b, 0, G_RECON_SCOPE_FULL),
                        MED_R_RECON_AMOUNT_MISMATCH);
    b.anchor_hash = NULL;
    b.amount_micros = 100;
    assert_null(g_recon_classify(&a, &b, 0, G_RECON_SCOPE_FULL));
}

static void tolerance_is_strictly_greater(void **state)
{
    (void)state;
    g_recon_rec a = rec("k", 200000), b = rec("k", 201000);
    assert_null(g_recon_classify(&a, &b, 1000, G_RECON_SCOPE_FULL));
    b.amount_micros = 198999;
    assert_string_equal(g_recon_classify(&a, &b, 1000, G_RECON_SCOPE_FULL),
                        MED_R_RECON_AMOUNT_MISMATCH);
    /* default tolerance 0: any difference */
    b.amount_micros = 200001;
    assert_string_equal(g_recon_classify(&a, &b, 0, G_RECON_SCOPE_FULL),
                        MED_R_RECON_AMOUNT_MISMATCH);
    /* extremes never overflow into a match */
    a.amount_micros = INT64_MIN;
    b.amount_micros = INT64_MAX;
    assert_string_equal(g_recon_classify(&a, &b, INT64_MAX - 1, G_RECON_SCOPE_FULL),
                        MED_R_RECON_AMOUNT_MISMATCH);
}

/* Hourly: presence only, values are the daily run's job. */
static void presence_scope_counts_only_missing(void **state)
{
    (void)state;
    g_recon_rec archive[] = {rec("m", 100000), rec("b", 100000), rec("a", 200000)};
    g_recon_rec billing[] = {rec("m", 100000), rec("a", 250000), rec("x", 100000)};
    g_recon_result r;
    med_err e;
    assert_int_equal(
        g_recon_compare(archive, 3, billing, 3, G_RECON_SCOPE_PRESENCE, 0, &r, &e), MED_OK);
    assert_int_equal(r.matched, 2);
    assert_int_equal(r.diff_count, 2);
    assert_int_equal(r.missing_drift, 2);
    assert_string_equal(r.diffs[0].record_key, "b");
    assert_string_equal(r.diffs[1].record_key, "x");
    g_recon_result_free(&r);
}

static void empty_window_passes(void **state)
{
    (void)state;
    g_recon_result r;
    med_err e;
    assert_int_equal(g_recon_compare(NULL, 0, NULL, 0, G_RECON_SCOPE_FULL, 0, &r, &e), MED_OK);
    assert_true(r.pass);
    assert_int_equal(r.matched + r.diff_count + r.total_archive + r.total_billing, 0);
    g_recon_result_free(&r);
}

/* The streaming path the store uses gives the same result as the batch one. */
static void streamed_keys_equal_batch(void **state)
{
    (void)state;
    g_recon_rec archive[] = {rec("b", 1), rec("a", 2), rec("m", 3)};
    g_recon_rec billing[] = {rec("x", 1), rec("a", 5), rec("m", 3)};
    g_recon_result batch, stream;
    med_err e;
    assert_int_equal(g_recon_compare(archive, 3, billing, 3, G_RECON_SCOPE_FULL, 0, &batch, &e),
                     MED_OK);
    g_recon_result_init(&stream, G_RECON_SCOPE_FULL, 0);
    /* keys arrive in any order from a caller that paired them itself */
    assert_int_equal(g_recon_result_add(&stream, NULL, &billing[0], &e), MED_OK);
    assert_int_equal(g_recon_result_add(&stream, &archive[2], &billing[2], &e), MED_OK);
    assert_int_equal(g_recon_result_add(&stream, &archive[0], NULL, &e), MED_OK);
    assert_int_equal(g_recon_result_add(&stream, &archive[1], &billing[1], &e), MED_OK);
    g_recon_result_finish(&stream);
    assert_int_equal(stream.n_diffs, batch.n_diffs);
    assert_int_equal(stream.matched, batch.matched);
    for (size_t i = 0; i < batch.n_diffs; i++) {
        assert_string_equal(stream.diffs[i].record_key, batch.diffs[i].record_key);
        assert_string_equal(stream.diffs[i].code, batch.diffs[i].code);
    }
    g_recon_result_free(&batch);
    g_recon_result_free(&stream);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(case16_matched_missing_and_amount),
        cmocka_unit_test(case16_anchor_wins_over_amount),
        cmocka_unit_test(classify_rule_order),
        cmocka_unit_test(tolerance_is_strictly_greater),
        cmocka_unit_test(presence_scope_counts_only_missing),
        cmocka_unit_test(empty_window_passes),
        cmocka_unit_test(streamed_keys_equal_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
