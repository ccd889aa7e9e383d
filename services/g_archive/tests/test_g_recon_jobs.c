/* G.8 "Rerun": replay jobs from diffs (G.9 case 16, last clause), and the
 * same window reconciled again gives the same report and the same jobs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "g_recon_jobs.h"
#include "g_recon_report.h"
#include "med/reason.h"

static g_recon_rec rec(const char *key, int64_t amount, const char *anchor)
{
    g_recon_rec r = {.record_key = key, .response_reference = "rr_7", .render_attempt_id = "ra_7",
                     .billable = 1, .amount_micros = amount, .anchor_hash = anchor,
                     .version_anchor_snapshot_ref = "vas_7"};
    return r;
}

static g_recon_window day(int64_t start_ms)
{
    g_recon_window w = {.granularity = G_RECON_DAILY, .start_ms = start_ms,
                        .end_ms = start_ms + G_RECON_DAY_MS};
    return w;
}

static int is_job_id(const char *s)
{
    if (strncmp(s, "rjob_", 5) != 0 || strlen(s) != 5 + 24) return 0;
    for (const char *p = s + 5; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return 0;
    return 1;
}

/* G.9 case 16: a replay job from a diff keeps its anchors and waits for approval. */
static void job_keeps_anchors_and_waits_for_approval(void **state)
{
    (void)state;
    g_recon_rec a = rec("rk_a", 200000, "anc_archive"), b = rec("rk_a", 250000, "anc_ledger");
    g_recon_result r;
    med_err e;
    assert_int_equal(g_recon_compare(&a, 1, &b, 1, G_RECON_SCOPE_FULL, 1000, &r, &e), MED_OK);
    g_recon_window w = day(1767225600000LL); /* 2026-01-01 */
    med_arena arena;
    med_arena_init(&arena);
    g_recon_job *jobs = NULL;
    size_t n = 0;
    assert_int_equal(g_recon_jobs_build("t1", &w, &r, &arena, &jobs, &n, &e), MED_OK);
    assert_int_equal(n, 1);
    const g_recon_job *j = &jobs[0];
    assert_true(is_job_id(j->job_id));
    assert_string_equal(j->job_key, "recon:daily:2026-01-01T00:00:00.000Z:rk_a");
    assert_string_equal(j->record_key, "rk_a");
    assert_string_equal(j->reason_code, MED_R_RECON_ANCHOR_MISMATCH);
    assert_string_equal(j->status, "pending_approval");
    assert_string_equal(j->execution_mode, "snapshot_replay");
    assert_string_equal(j->purpose, "dispute");
    assert_string_equal(j->archive_anchor_hash, "anc_archive");
    assert_string_equal(j->billing_anchor_hash, "anc_ledger");
    assert_string_equal(j->response_reference, "rr_7");
    assert_string_equal(j->render_attempt_id, "ra_7");
    json_error_t je;
    json_t *q = json_loads(j->query_json, 0, &je);
    assert_non_null(q);
    assert_string_equal(json_string_value(json_object_get(q, "archiveAnchorHash")), "anc_archive");
    assert_string_equal(json_string_value(json_object_get(q, "billingAnchorHash")), "anc_ledger");
    assert_string_equal(json_string_value(json_object_get(q, "replayPurpose")), "dispute");
    assert_string_equal(json_string_value(json_object_get(q, "renderAttemptId")), "ra_7");
    json_decref(q);
    med_arena_free(&arena);
    g_recon_result_free(&r);
}

static void job_id_is_tenant_window_and_key(void **state)
{
    (void)state;
    med_arena a;
    med_arena_init(&a);
    med_err e;
    g_recon_window w1 = day(1767225600000LL), w2 = day(1767225600000LL + G_RECON_DAY_MS);
    const char *k1, *i1, *k2, *i2, *k3, *i3, *k4, *i4;
    assert_int_equal(g_recon_job_identity("t1", &w1, "rk", &a, &k1, &i1, &e), MED_OK);
    assert_int_equal(g_recon_job_identity("t1", &w1, "rk", &a, &k2, &i2, &e), MED_OK);
    assert_int_equal(g_recon_job_identity("t1", &w2, "rk", &a, &k3, &i3, &e), MED_OK);
    assert_int_equal(g_recon_job_identity("t2", &w1, "rk", &a, &k4, &i4, &e), MED_OK);
    assert_string_equal(i1, i2);
    assert_string_equal(k1, k2);
    assert_string_not_equal(i1, i3);
    assert_string_not_equal(i1, i4);
    assert_string_equal(k1, k4); /* the key is per tenant (unique with tenant_id) */
    med_arena_free(&a);
}

/* Runs compare + jobs + report on the given order of both sides; returns
 * the packed report (malloc'd). */
static uint8_t *report_bytes(const g_recon_rec *arch, size_t na, const g_recon_rec *bill,
                             size_t nb, size_t *len)
{
    g_recon_params p = {.tenant_id = "t1", .window = day(1767225600000LL),
                        .scope = G_RECON_SCOPE_FULL, .tolerance_micros = 1000};
    g_recon_result r;
    med_err e;
    assert_int_equal(g_recon_compare(arch, na, bill, nb, p.scope, p.tolerance_micros, &r, &e),
                     MED_OK);
    med_arena a;
    med_arena_init(&a);
    g_recon_job *jobs = NULL;
    size_t n_jobs = 0;
    assert_int_equal(g_recon_jobs_build(p.tenant_id, &p.window, &r, &a, &jobs, &n_jobs, &e), MED_OK);
    g_recon_outcome o = {.params = &p, .result = &r, .jobs = jobs, .n_jobs = n_jobs,
                         .generated_at_ms = 42};
    Mediation__V1__ReconciliationReport rep;
    assert_int_equal(g_recon_report_build(&o, NULL, &a, &rep, &e), MED_OK);
    *len = mediation__v1__reconciliation_report__get_packed_size(&rep);
    uint8_t *buf = malloc(*len ? *len : 1);
    assert_non_null(buf);
    mediation__v1__reconciliation_report__pack(&rep, buf);
    assert_int_equal(rep.n_diffs, r.n_diffs);
    for (size_t i = 0; i < rep.n_diffs; i++)
        assert_string_equal(rep.diffs[i]->replay_job_id, rep.replay_jobs[i]->replay_job_id);
    med_arena_free(&a);
    g_recon_result_free(&r);
    return buf;
}

/* Same window rerun gives the same answer, whatever order rows arrive in. */
static void same_window_rerun_gives_the_same_answer(void **state)
{
    (void)state;
    g_recon_rec arch1[] = {rec("m", 100000, "h"), rec("b", 1, "h"), rec("a", 200000, "h"),
                           rec("z", 5, "h1")};
    g_recon_rec bill1[] = {rec("m", 100000, "h"), rec("a", 250000, "h"), rec("x", 7, "h"),
                           rec("z", 5, "h2")};
    g_recon_rec arch2[] = {arch1[3], arch1[2], arch1[0], arch1[1]};
    g_recon_rec bill2[] = {bill1[2], bill1[3], bill1[1], bill1[0]};
    size_t l1, l2;
    uint8_t *r1 = report_bytes(arch1, 4, bill1, 4, &l1);
    uint8_t *r2 = report_bytes(arch2, 4, bill2, 4, &l2);
    assert_int_equal(l1, l2);
    assert_memory_equal(r1, r2, l1);
    Mediation__V1__ReconciliationReport *rep =
        mediation__v1__reconciliation_report__unpack(NULL, l1, r1);
    assert_non_null(rep);
    assert_int_equal(rep->http_status, 200);
    assert_string_equal(rep->granularity, "daily");
    assert_int_equal(rep->matched_count, 1);
    assert_int_equal(rep->diff_count, 4);
    assert_false(rep->pass);
    assert_int_equal(rep->n_replay_jobs, 4);
    const char *want[] = {"a", "b", "x", "z"};
    for (size_t i = 0; i < 4; i++) assert_string_equal(rep->diffs[i]->record_key, want[i]);
    assert_string_equal(rep->diffs[3]->diff_code, MED_R_RECON_ANCHOR_MISMATCH);
    assert_null(rep->diffs[2]->archive_record);
    assert_non_null(rep->diffs[2]->billing_record);
    mediation__v1__reconciliation_report__free_unpacked(rep, NULL);
    free(r1);
    free(r2);
}

static void error_report_carries_code_and_field(void **state)
{
    (void)state;
    med_err e;
    med_err_set(&e, MED_ERR_INVALID, MED_R_G_RECON_INVALID_WINDOW_START, "windowStart", "bad");
    med_arena a;
    med_arena_init(&a);
    Mediation__V1__ReconciliationReport rep;
    g_recon_report_error(&e, 400, NULL, 7, &a, &rep);
    assert_int_equal(rep.http_status, 400);
    assert_non_null(rep.error);
    assert_string_equal(rep.error->code, "g_recon_invalid_window_start");
    assert_string_equal(rep.error->field, "windowStart");
    assert_int_equal(rep.n_diffs, 0);
    med_arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(job_keeps_anchors_and_waits_for_approval),
        cmocka_unit_test(job_id_is_tenant_window_and_key),
        cmocka_unit_test(same_window_rerun_gives_the_same_answer),
        cmocka_unit_test(error_report_carries_code_and_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
