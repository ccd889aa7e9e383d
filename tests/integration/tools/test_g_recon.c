/* G.8 reconciliation over NATS (med.g.reconcile.v1) against real
 * PostgreSQL: the responder (g_recon_serve) runs in this process on a real
 * med_service; rows are written as the table owner, the query reads them
 * as the application role under row-level security. Clean data passes
 * with zero diffs; a tampered ledger amount is RECON_AMOUNT_MISMATCH; a
 * missing ledger row RECON_BILLING_MISSING; a rerun gives the same answer
 * and no second replay job; hourly runs report drift and the DLQ trend. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include <nats/nats.h>

#include "g_recon_serve.h"
#include "harness.h"
#include "med/ids.h"
#include "med/names.h"
#include "med/reason.h"
#include "med/service.h"
#include "mediation/v1/replay.pb-c.h"

#define DAY "2025-06-10"
#define NEXT_DAY "2025-06-11"

typedef struct world {
    med_service *svc;
    g_recon_server *srv;
    natsConnection *nc;
    PGconn *admin;
} world;

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    setenv("APP_ENV", "ci", 1);
    setenv("ADMIN_HTTP_PORT", "0", 1);
    setenv("SERVICE_INSTANCE", "g_recon_it", 1);
    th_env("NATS_URL");
    th_env("PG_DSN");
    med_service_opts o = {.name = "g_archive", .stage = MED_STAGE_G, .send_asap = 1};
    med_err err;
    med_err_clear(&err);
    if (med_service_start(&o, &w->svc, &err) != MED_OK)
        fail_msg("service start: %s %s", err.code, err.message);
    if (g_recon_serve_start(w->svc, &w->srv, &err) != MED_OK)
        fail_msg("recon serve: %s %s", err.code, err.message);
    assert_int_equal(natsConnection_ConnectTo(&w->nc, th_env("NATS_URL")), NATS_OK);
    w->admin = PQconnectdb(th_env("PG_ADMIN_DSN"));
    assert_int_equal(PQstatus(w->admin), CONNECTION_OK);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    g_recon_serve_stop(w->srv);
    med_service_free(w->svc);
    natsConnection_Destroy(w->nc);
    PQfinish(w->admin);
    free(w);
    return 0;
}

/* ---- rows (as the owner) ---- */

static void exec_sql(world *w, const char *sql, int n, const char *const *v)
{
    PGresult *r = PQexecParams(w->admin, sql, n, NULL, v, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("sql failed: %s", PQerrorMessage(w->admin));
    PQclear(r);
}

static long sql_long(world *w, const char *sql, const char *arg)
{
    const char *v[1] = {arg};
    PGresult *r = PQexecParams(w->admin, sql, 1, NULL, v, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) fail_msg("sql failed: %s", PQerrorMessage(w->admin));
    long n = PQntuples(r) ? atol(PQgetvalue(r, 0, 0)) : -1;
    PQclear(r);
    return n;
}

typedef struct scene {
    char tenant[40], run[12];
} scene;

static void scene_new(scene *s)
{
    snprintf(s->run, sizeof s->run, "%08x", (unsigned)rand());
    snprintf(s->tenant, sizeof s->tenant, "t_recon_%s", s->run);
}

static void key_of(const scene *s, const char *k, char *out, size_t cap)
{
    snprintf(out, cap, "rk_%s_%s", s->run, k);
}

static void archive(world *w, const scene *s, const char *k, const char *type, const char *status,
                    const char *write_status, long long amount, const char *anchor,
                    const char *created_at)
{
    char key[64], rr[80], ra[80], bk[200], amt[32];
    key_of(s, k, key, sizeof key);
    snprintf(rr, sizeof rr, "rr_%s", key);
    snprintf(ra, sizeof ra, "ra_%s", key);
    snprintf(bk, sizeof bk, "%s|%s|billable_impression", rr, ra);
    snprintf(amt, sizeof amt, "%lld", amount);
    const char *v[11] = {s->tenant, key, type, status, write_status, amt, anchor, created_at, rr, ra,
                         bk};
    exec_sql(w,
             "INSERT INTO archive_records (tenant_id, record_key, record_type, record_status,"
             " payload_digest, trace_key, decision_reason_code, output_at, write_status, billable,"
             " amount_micros, anchor_hash, version_anchor_snapshot_ref, version_anchors, created_at,"
             " response_reference, render_attempt_id, billing_key)"
             " VALUES ($1, $2, $3, $4, 'digest', 'tr_it', 'f_fact_committed', $8::timestamptz, $5,"
             " true, $6::bigint, $7, 'vas_' || $7, '{}'::jsonb, $8::timestamptz, $9, $10, $11)",
             11, v);
}

static void ledger(world *w, const scene *s, const char *k, long long amount, const char *anchor,
                   const char *created_at)
{
    char key[64], rr[80], ra[80], bk[200], amt[32];
    key_of(s, k, key, sizeof key);
    snprintf(rr, sizeof rr, "rr_%s", key);
    snprintf(ra, sizeof ra, "ra_%s", key);
    snprintf(bk, sizeof bk, "%s|%s|billable_impression", rr, ra);
    snprintf(amt, sizeof amt, "%lld", amount);
    const char *v[8] = {bk, s->tenant, rr, ra, key, amt, anchor, created_at};
    exec_sql(w,
             "INSERT INTO billing_ledger (billing_key, tenant_id, response_reference,"
             " render_attempt_id, billable_type, record_key, billable, amount_micros, anchor_hash,"
             " version_anchor_snapshot_ref, created_at)"
             " VALUES ($1, $2, $3, $4, 'billable_impression', $5, true, $6::bigint, $7,"
             " 'vas_' || $7, $8::timestamptz)",
             8, v);
}

static void ledger_without_record_key(world *w, const scene *s, const char *k, long long amount,
                                      const char *created_at)
{
    char key[64], rr[80], ra[80], bk[200], amt[32];
    key_of(s, k, key, sizeof key);
    snprintf(rr, sizeof rr, "rr_%s", key);
    snprintf(ra, sizeof ra, "ra_%s", key);
    snprintf(bk, sizeof bk, "%s|%s|billable_impression", rr, ra);
    snprintf(amt, sizeof amt, "%lld", amount);
    const char *v[6] = {bk, s->tenant, rr, ra, amt, created_at};
    exec_sql(w,
             "INSERT INTO billing_ledger (billing_key, tenant_id, response_reference,"
             " render_attempt_id, billable_type, billable, amount_micros, anchor_hash, created_at)"
             " VALUES ($1, $2, $3, $4, 'billable_impression', true, $5::bigint, 'anc_1',"
             " $6::timestamptz)",
             6, v);
}

/* A fact archived and billed alike. */
static void both(world *w, const scene *s, const char *k, long long amount, const char *at)
{
    archive(w, s, k, "billable_fact", "committed", "written", amount, "anc_1", at);
    ledger(w, s, k, amount, "anc_1", at);
}

static void dead_letter_row(world *w, const scene *s, const char *stage, const char *at)
{
    char seq[24];
    snprintf(seq, sizeof seq, "%d", rand());
    const char *v[4] = {s->tenant, stage, at, seq};
    exec_sql(w,
             "INSERT INTO dead_letter_records (tenant_id, stage, failed_subject, stream, consumer,"
             " stream_seq, reason_code, dead_at) VALUES ($1, $2, 'med.x.v1', 'IT_RECON', $1,"
             " $4::bigint, 'infra_max_deliver_exceeded', $3::timestamptz)",
             4, v);
}

/* ---- the request ---- */

typedef struct ask {
    const char *granularity, *window_start, *tenant;
    int has_tolerance;
    long long tolerance;
} ask;

static Mediation__V1__ReconciliationReport *reconcile(world *w, const ask *a)
{
    Mediation__V1__ReconciliationQuery q = MEDIATION__V1__RECONCILIATION_QUERY__INIT;
    q.granularity = (char *)a->granularity;
    q.tenant_id = (char *)(a->tenant ? a->tenant : "");
    if (a->window_start) {
        q.window_start_opt_case = MEDIATION__V1__RECONCILIATION_QUERY__WINDOW_START_OPT_WINDOW_START;
        q.window_start = (char *)a->window_start;
    }
    if (a->has_tolerance) {
        q.amount_tolerance_micros_opt_case =
            MEDIATION__V1__RECONCILIATION_QUERY__AMOUNT_TOLERANCE_MICROS_OPT_AMOUNT_TOLERANCE_MICROS;
        q.amount_tolerance_micros = a->tolerance;
    }
    uint8_t buf[512];
    size_t len = mediation__v1__reconciliation_query__pack(&q, buf);
    natsMsg *reply = NULL;
    assert_int_equal(natsConnection_Request(&reply, w->nc, MED_SUBJ_G_RECONCILE, buf, (int)len,
                                            15000),
                     NATS_OK);
    Mediation__V1__ReconciliationReport *r = mediation__v1__reconciliation_report__unpack(
        NULL, (size_t)natsMsg_GetDataLength(reply), (const uint8_t *)natsMsg_GetData(reply));
    natsMsg_Destroy(reply);
    assert_non_null(r);
    if (r->http_status != 200 && r->error)
        fprintf(stderr, "reconcile: %d %s %s\n", r->http_status, r->error->code, r->error->message);
    return r;
}

static void done(Mediation__V1__ReconciliationReport *r)
{
    mediation__v1__reconciliation_report__free_unpacked(r, NULL);
}

/* The report without its generation time, packed: what "the same answer" compares. */
static uint8_t *answer_bytes(Mediation__V1__ReconciliationReport *r, size_t *len)
{
    r->generated_at_unix_ms = 0;
    *len = mediation__v1__reconciliation_report__get_packed_size(r);
    uint8_t *b = malloc(*len ? *len : 1);
    assert_non_null(b);
    mediation__v1__reconciliation_report__pack(r, b);
    return b;
}

/* ---- cases ---- */

static void clean_window_has_zero_diffs(void **state)
{
    world *w = *state;
    scene s;
    scene_new(&s);
    both(w, &s, "k1", 100000, DAY "T10:00:00Z");
    both(w, &s, "k2", 200000, DAY "T11:30:00Z");
    both(w, &s, "k3", 300000, DAY "T12:00:00Z");
    /* archived at the end of the day, claimed just after midnight: the
     * archived fact's day owns the key, the next day never sees it */
    archive(w, &s, "k4", "billable_fact", "committed", "written", 400000, "anc_1",
            DAY "T23:59:59.500Z");
    ledger(w, &s, "k4", 400000, "anc_1", NEXT_DAY "T00:00:00.500Z");
    /* a claim whose record key F has not filled in yet: joined by billing key */
    archive(w, &s, "k8", "billable_fact", "committed", "written", 800000, "anc_1",
            DAY "T14:00:00Z");
    ledger_without_record_key(w, &s, "k8", 800000, DAY "T14:00:01Z");
    /* not billing input (G.4): pending write, attribution fact, audit-track status */
    archive(w, &s, "k5", "billable_fact", "committed", "pending", 1, "anc_1", DAY "T13:00:00Z");
    archive(w, &s, "k6", "attribution_fact", "committed", "written", 1, "anc_1", DAY "T13:00:00Z");
    archive(w, &s, "k7", "billable_fact", "duplicate", "written", 1, "anc_1", DAY "T13:00:00Z");

    ask a = {"daily", DAY "T00:00:00Z", s.tenant, 0, 0};
    Mediation__V1__ReconciliationReport *r = reconcile(w, &a);
    assert_int_equal(r->http_status, 200);
    assert_string_equal(r->granularity, "daily");
    assert_int_equal(r->total_archive_records, 5);
    assert_int_equal(r->total_billing_records, 5);
    assert_int_equal(r->matched_count, 5);
    assert_int_equal(r->diff_count, 0);
    assert_true(r->pass);
    assert_int_equal(r->n_diffs, 0);
    assert_int_equal(r->n_replay_jobs, 0);
    done(r);

    ask next = {"daily", NEXT_DAY "T00:00:00Z", s.tenant, 0, 0};
    r = reconcile(w, &next);
    assert_int_equal(r->http_status, 200);
    assert_int_equal(r->total_archive_records + r->total_billing_records, 0);
    assert_true(r->pass);
    done(r);

    /* another tenant's query sees none of it */
    ask other = {"daily", DAY "T00:00:00Z", "t_recon_nobody", 0, 0};
    r = reconcile(w, &other);
    assert_int_equal(r->total_archive_records + r->total_billing_records, 0);
    done(r);
}

static void tampered_amount_is_a_mismatch_and_rerun_is_the_same(void **state)
{
    world *w = *state;
    scene s;
    scene_new(&s);
    both(w, &s, "k1", 100000, DAY "T10:00:00Z");
    both(w, &s, "k2", 200000, DAY "T10:05:00Z");
    both(w, &s, "k3", 300000, DAY "T10:10:00Z");
    char k2[64];
    key_of(&s, "k2", k2, sizeof k2);
    const char *v[1] = {k2};
    exec_sql(w, "UPDATE billing_ledger SET amount_micros = amount_micros + 5000 WHERE record_key = $1",
             1, v);

    ask within = {"daily", DAY "T00:00:00Z", s.tenant, 1, 5000};
    Mediation__V1__ReconciliationReport *r = reconcile(w, &within);
    assert_true(r->pass); /* |5000| is not above a 5000 tolerance */
    done(r);

    ask a = {"daily", DAY "T00:00:00Z", s.tenant, 1, 1000};
    r = reconcile(w, &a);
    assert_int_equal(r->http_status, 200);
    assert_int_equal(r->matched_count, 2);
    assert_int_equal(r->diff_count, 1);
    assert_false(r->pass);
    assert_int_equal(r->n_diffs, 1);
    assert_string_equal(r->diffs[0]->record_key, k2);
    assert_string_equal(r->diffs[0]->diff_code, MED_R_RECON_AMOUNT_MISMATCH);
    assert_int_equal(r->diffs[0]->amount_diff_micros, 5000);
    assert_int_equal(r->diffs[0]->archive_record->amount_micros, 200000);
    assert_int_equal(r->diffs[0]->billing_record->amount_micros, 205000);
    assert_int_equal(r->n_replay_jobs, 1);
    assert_string_equal(r->diffs[0]->replay_job_id, r->replay_jobs[0]->replay_job_id);
    assert_string_equal(r->replay_jobs[0]->status, "pending_approval");
    assert_string_equal(r->replay_jobs[0]->archive_anchor_hash, "anc_1");
    assert_string_equal(r->replay_jobs[0]->billing_anchor_hash, "anc_1");
    assert_int_equal(sql_long(w,
                              "SELECT count(*) FROM replay_jobs WHERE tenant_id = $1"
                              " AND status = 'pending_approval' AND purpose = 'dispute'"
                              " AND execution_mode = 'snapshot_replay'"
                              " AND reason_code = 'RECON_AMOUNT_MISMATCH'"
                              " AND query->>'archiveAnchorHash' = 'anc_1'",
                              s.tenant),
                     1);
    size_t l1, l2;
    uint8_t *b1 = answer_bytes(r, &l1);
    done(r);

    r = reconcile(w, &a);
    uint8_t *b2 = answer_bytes(r, &l2);
    done(r);
    assert_int_equal(l1, l2);
    assert_memory_equal(b1, b2, l1);
    free(b1);
    free(b2);
    assert_int_equal(sql_long(w, "SELECT count(*) FROM replay_jobs WHERE tenant_id = $1", s.tenant),
                     1);
}

static void missing_rows_on_either_side(void **state)
{
    world *w = *state;
    scene s;
    scene_new(&s);
    both(w, &s, "k1", 100000, DAY "T10:00:00Z");
    both(w, &s, "k2", 100000, DAY "T10:00:00Z");
    both(w, &s, "k3", 100000, DAY "T10:00:00Z");
    char k3[64], kx[64];
    key_of(&s, "k3", k3, sizeof k3);
    key_of(&s, "kx", kx, sizeof kx);
    const char *v[1] = {k3};
    exec_sql(w, "DELETE FROM billing_ledger WHERE record_key = $1", 1, v);
    ledger(w, &s, "kx", 100000, "anc_1", DAY "T15:00:00Z"); /* billed, never archived */

    ask a = {"daily", DAY "T00:00:00Z", s.tenant, 0, 0};
    Mediation__V1__ReconciliationReport *r = reconcile(w, &a);
    assert_int_equal(r->http_status, 200);
    assert_int_equal(r->total_archive_records, 3);
    assert_int_equal(r->total_billing_records, 3);
    assert_int_equal(r->matched_count, 2);
    assert_int_equal(r->diff_count, 2);
    assert_int_equal(r->n_diffs, 2);
    assert_string_equal(r->diffs[0]->record_key, k3); /* by recordKey: k3 < kx */
    assert_string_equal(r->diffs[0]->diff_code, MED_R_RECON_BILLING_MISSING);
    assert_non_null(r->diffs[0]->archive_record);
    assert_null(r->diffs[0]->billing_record);
    assert_string_equal(r->diffs[1]->record_key, kx);
    assert_string_equal(r->diffs[1]->diff_code, MED_R_RECON_ARCHIVE_MISSING);
    assert_int_equal(r->missing_record_drift, 2);
    assert_int_equal(r->n_replay_jobs, 2);
    done(r);
}

static void hourly_reports_drift_and_dlq_trend(void **state)
{
    world *w = *state;
    scene s;
    scene_new(&s);
    archive(w, &s, "k1", "billable_fact", "committed", "written", 100, "anc_1", DAY "T10:10:00Z");
    ledger(w, &s, "k1", 999, "anc_2", DAY "T10:11:00Z"); /* values are the daily's job */
    archive(w, &s, "k2", "billable_fact", "committed", "written", 100, "anc_1", DAY "T10:20:00Z");
    dead_letter_row(w, &s, "b", DAY "T10:01:00Z");
    dead_letter_row(w, &s, "b", DAY "T10:59:59Z");
    dead_letter_row(w, &s, "f", DAY "T10:30:00Z");
    dead_letter_row(w, &s, "b", DAY "T11:00:00Z"); /* next hour */

    ask a = {"hourly", DAY "T10:00:00Z", s.tenant, 0, 0};
    Mediation__V1__ReconciliationReport *r = reconcile(w, &a);
    assert_int_equal(r->http_status, 200);
    assert_string_equal(r->granularity, "hourly");
    assert_int_equal(r->window_end_unix_ms - r->window_start_unix_ms, 3600000);
    assert_int_equal(r->matched_count, 1);
    assert_int_equal(r->missing_record_drift, 1);
    assert_int_equal(r->n_diffs, 1);
    assert_string_equal(r->diffs[0]->diff_code, MED_R_RECON_BILLING_MISSING);
    assert_int_equal(r->n_replay_jobs, 0);
    assert_int_equal(r->n_dlq_depth_by_stage, 2);
    assert_string_equal(r->dlq_depth_by_stage[0]->key, "b");
    assert_int_equal(r->dlq_depth_by_stage[0]->value, 2);
    assert_string_equal(r->dlq_depth_by_stage[1]->key, "f");
    assert_int_equal(r->dlq_depth_by_stage[1]->value, 1);
    done(r);
}

static void bad_queries_are_400(void **state)
{
    world *w = *state;
    struct {
        ask a;
        const char *code;
    } cases[] = {
        {{"weekly", NULL, "t_recon_x", 0, 0}, "g_recon_invalid_granularity"},
        {{"", NULL, "t_recon_x", 0, 0}, "g_recon_missing_required"},
        {{"daily", "2025-06-10T01:00:00Z", "t_recon_x", 0, 0}, "g_recon_invalid_window_start"},
        {{"daily", "not-a-time", "t_recon_x", 0, 0}, "g_recon_invalid_window_start"},
        {{"hourly", "2999-01-01T00:00:00Z", "t_recon_x", 0, 0}, "g_recon_window_not_closed"},
        {{"daily", NULL, "", 0, 0}, "g_recon_missing_required"},
        {{"daily", NULL, "t_recon_x", 1, -1}, "g_recon_invalid_tolerance"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Mediation__V1__ReconciliationReport *r = reconcile(w, &cases[i].a);
        assert_int_equal(r->http_status, 400);
        assert_non_null(r->error);
        assert_string_equal(r->error->code, cases[i].code);
        done(r);
    }
    /* the default window is the last closed one */
    ask def = {"hourly", NULL, "t_recon_x", 0, 0};
    Mediation__V1__ReconciliationReport *r = reconcile(w, &def);
    assert_int_equal(r->http_status, 200);
    int64_t now = med_now_unix_ms();
    assert_int_equal(r->window_end_unix_ms % 3600000, 0);
    assert_true(r->window_end_unix_ms <= now && r->window_end_unix_ms > now - 3600000);
    done(r);
}

int main(void)
{
    srand((unsigned)th_now_ms());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(clean_window_has_zero_diffs),
        cmocka_unit_test(tampered_amount_is_a_mismatch_and_rerun_is_the_same),
        cmocka_unit_test(missing_rows_on_either_side),
        cmocka_unit_test(hourly_reports_drift_and_dlq_trend),
        cmocka_unit_test(bad_queries_are_400),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
