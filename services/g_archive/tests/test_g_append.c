/* G.2 append rules: G.9 cases 1-4 (token, 7 d window, conflict digest,
 * cross-checks, contract version) and the check order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <regex.h>
#include <cmocka.h>

#include "g_append_prepare.h"
#include "med/reason.h"

typedef struct fx {
    Mediation__V1__StageAudit a;
    Mediation__V1__GAppendRequestLite req;
    Mediation__V1__GAuditRecordLite r;
    Mediation__V1__OpportunityInputSnapshotLite in;
    Mediation__V1__AdapterParticipationLite ap[2];
    Mediation__V1__AdapterParticipationLite *aps[2];
    Mediation__V1__WinnerSnapshotLite w;
    Mediation__V1__RenderResultSnapshotLite rr;
    Mediation__V1__KeyEventSummaryLite ke;
    Mediation__V1__ReplayAnchorsLite anchors;
} fx;

#define SUBJ "med.audit.g.v1"
#define DAY_MS INT64_C(86400000)

static void adapter(Mediation__V1__AdapterParticipationLite *p, const char *id, const char *status)
{
    mediation__v1__adapter_participation_lite__init(p);
    p->adapter_id = (char *)id;
    p->adapter_request_id = "areq_1";
    p->request_sent_at_unix_ms = 1000;
    p->response_status = (char *)status;
    p->timeout_threshold_ms = 300;
    p->response_received_at_or_na_unix_ms_opt_case =
        MEDIATION__V1__ADAPTER_PARTICIPATION_LITE__RESPONSE_RECEIVED_AT_OR_NA_UNIX_MS_OPT_RESPONSE_RECEIVED_AT_OR_NA_UNIX_MS;
    p->response_received_at_or_na_unix_ms = 1100;
    p->response_latency_ms_or_na_opt_case =
        MEDIATION__V1__ADAPTER_PARTICIPATION_LITE__RESPONSE_LATENCY_MS_OR_NA_OPT_RESPONSE_LATENCY_MS_OR_NA;
    p->response_latency_ms_or_na = 100;
}

static void valid(fx *f)
{
    memset(f, 0, sizeof *f);
    mediation__v1__stage_audit__init(&f->a);
    mediation__v1__gappend_request_lite__init(&f->req);
    mediation__v1__gaudit_record_lite__init(&f->r);
    mediation__v1__opportunity_input_snapshot_lite__init(&f->in);
    mediation__v1__winner_snapshot_lite__init(&f->w);
    mediation__v1__render_result_snapshot_lite__init(&f->rr);
    mediation__v1__key_event_summary_lite__init(&f->ke);
    mediation__v1__replay_anchors_lite__init(&f->anchors);
    f->a.stage = "g";
    f->a.kind = "append";
    f->a.append_request = &f->req;
    f->req.request_id = "req_app_1";
    f->req.audit_record = &f->r;
    f->req.append_at_unix_ms = 5000;
    f->req.append_contract_version = "g_append_v1";
    f->r.audit_record_id = "ar_1";
    f->r.opportunity_key = "opp_1";
    f->r.trace_key = "tr_1";
    f->r.request_key = "rq_1";
    f->r.attempt_key = "at_1";
    f->r.audit_at_unix_ms = 4000;
    f->in.request_schema_version = "schema_v1";
    f->in.placement_key = "plc_feed";
    f->in.placement_type = "native";
    f->in.placement_surface = "feed";
    f->in.policy_context_digest = "d1";
    f->in.user_context_digest = "d2";
    f->in.opportunity_context_digest = "d3";
    f->in.ingress_received_at_unix_ms = 900;
    f->r.opportunity_input_snapshot = &f->in;
    adapter(&f->ap[0], "net_a", "responded");
    adapter(&f->ap[1], "net_b", "timeout");
    f->ap[1].did_timeout = 1;
    f->aps[0] = &f->ap[0];
    f->aps[1] = &f->ap[1];
    f->r.adapter_participation = f->aps;
    f->r.n_adapter_participation = 2;
    f->w.winner_adapter_id_or_na_opt_case =
        MEDIATION__V1__WINNER_SNAPSHOT_LITE__WINNER_ADAPTER_ID_OR_NA_OPT_WINNER_ADAPTER_ID_OR_NA;
    f->w.winner_adapter_id_or_na = "net_a";
    f->w.winner_bid_price_or_na_opt_case =
        MEDIATION__V1__WINNER_SNAPSHOT_LITE__WINNER_BID_PRICE_OR_NA_OPT_WINNER_BID_PRICE_OR_NA;
    f->w.winner_bid_price_or_na = 2.0;
    f->w.winner_reason_code = "d_winner_highest_bid";
    f->r.winner_snapshot = &f->w;
    f->rr.render_status = "rendered";
    f->rr.render_attempt_id_or_na_opt_case =
        MEDIATION__V1__RENDER_RESULT_SNAPSHOT_LITE__RENDER_ATTEMPT_ID_OR_NA_OPT_RENDER_ATTEMPT_ID_OR_NA;
    f->rr.render_attempt_id_or_na = "ra_1";
    f->r.render_result_snapshot = &f->rr;
    f->ke.event_window_start_at_unix_ms = 1000;
    f->ke.event_window_end_at_unix_ms = 3000;
    f->r.key_event_summary = &f->ke;
    f->r.audit_record_version = "1";
    f->r.audit_rule_version = "g_audit_rule_v1";
    f->r.audit_contract_version = "g_audit_v1";
    f->r.replay_anchors = &f->anchors;
}

static void prepare(fx *f, g_append_item *it)
{
    g_append_prepare(&f->a, SUBJ, "t_1", NULL, 5000, it);
}

/* case 1 */
static void valid_append_gets_token(void **state)
{
    (void)state;
    fx f;
    valid(&f);
    g_append_item it;
    prepare(&f, &it);
    assert_int_equal(it.pre, G_APPEND_PASS);
    assert_int_equal(it.post, G_APPEND_PASS);
    regex_t re;
    assert_int_equal(regcomp(&re, "^g_app_[0-9a-f]{24}$", REG_EXTENDED), 0);
    assert_int_equal(regexec(&re, it.token, 0, NULL, 0), 0);
    regfree(&re);
    assert_string_equal(it.dedup_key, "g_append_v1:audit_record_id:ar_1");
    g_append_verdict v = g_append_verdict_accept(0);
    assert_string_equal(v.ack_status, "accepted");
    assert_string_equal(v.reason, MED_R_G_APPEND_ACCEPTED_COMMITTED);
    assert_true(v.with_token);
    assert_int_equal(v.disposition, MED_DISPOSE_ACK);
}

/* case 2: same key and record -> same token; the window is inclusive */
static void duplicate_within_window_same_token(void **state)
{
    (void)state;
    fx f;
    valid(&f);
    f.req.idempotency_key_opt_case = MEDIATION__V1__GAPPEND_REQUEST_LITE__IDEMPOTENCY_KEY_OPT_IDEMPOTENCY_KEY;
    f.req.idempotency_key = "idem_1";
    g_append_item a, b;
    prepare(&f, &a);
    /* transport fields do not change the digest */
    f.req.request_id = "req_app_2";
    f.req.append_at_unix_ms = 9000;
    prepare(&f, &b);
    assert_string_equal(a.dedup_key, "g_append_v1:idempotency:idem_1");
    assert_string_equal(a.digest, b.digest);
    assert_string_equal(a.token, b.token);
    g_append_verdict v = g_append_verdict_accept(1);
    assert_string_equal(v.reason, MED_R_G_APPEND_DUPLICATE_ACCEPTED_NOOP);
    assert_true(v.with_token);
    assert_true(g_append_within_window(0, 7 * DAY_MS, 7 * DAY_MS));
    assert_false(g_append_within_window(0, 7 * DAY_MS + 1, 7 * DAY_MS));
}

/* case 3: changed winnerBidPriceOrNA under the same key -> conflict */
static void changed_bid_conflicts(void **state)
{
    (void)state;
    fx f;
    valid(&f);
    g_append_item a, b;
    prepare(&f, &a);
    f.w.winner_bid_price_or_na = 2.5;
    prepare(&f, &b);
    assert_string_equal(a.dedup_key, b.dedup_key);
    assert_string_not_equal(a.digest, b.digest);
    g_append_verdict v = g_append_verdict_reject(g_append_resolve(G_APPEND_PASS, 1, G_APPEND_PASS, 1));
    assert_string_equal(v.ack_status, "rejected");
    assert_string_equal(v.reason, MED_R_G_APPEND_PAYLOAD_CONFLICT);
    assert_false(v.retryable);
    assert_false(v.with_token);
    assert_int_equal(v.disposition, MED_DISPOSE_FAIL);
}

static void expect_matrix_failure(fx *f, const char *field)
{
    g_append_item it;
    prepare(f, &it);
    assert_int_equal(it.pre, G_APPEND_PASS);
    assert_int_equal(it.post, G_APPEND_ROW_MATRIX);
    assert_string_equal(it.err.code, MED_R_G_APPEND_MISSING_REQUIRED);
    assert_string_equal(it.err.field, field);
    g_append_verdict v = g_append_verdict_reject(it.post);
    assert_true(v.retryable);
    assert_int_equal(v.disposition, MED_DISPOSE_FAIL);
}

/* case 4 */
static void cross_checks_and_version(void **state)
{
    (void)state;
    fx f;
    valid(&f);
    f.w.winner_adapter_id_or_na = "net_x";
    expect_matrix_failure(&f, "auditRecord.winnerSnapshot.winnerAdapterIdOrNA");
    valid(&f);
    f.ap[1].did_timeout = 0;
    expect_matrix_failure(&f, "auditRecord.adapterParticipation[].didTimeout");
    valid(&f);
    f.ap[1].timeout_threshold_ms = 0;
    expect_matrix_failure(&f, "auditRecord.adapterParticipation[].timeoutThresholdMs");
    valid(&f);
    f.ap[0].response_latency_ms_or_na_opt_case = 0;
    expect_matrix_failure(&f, "auditRecord.adapterParticipation[].responseLatencyMsOrNA");
    valid(&f);
    f.rr.render_attempt_id_or_na = "NA";
    expect_matrix_failure(&f, "auditRecord.renderResultSnapshot.renderAttemptIdOrNA");
    valid(&f);
    f.ke.terminal_event_type_or_na_opt_case =
        MEDIATION__V1__KEY_EVENT_SUMMARY_LITE__TERMINAL_EVENT_TYPE_OR_NA_OPT_TERMINAL_EVENT_TYPE_OR_NA;
    f.ke.terminal_event_type_or_na = "impression";
    expect_matrix_failure(&f, "auditRecord.keyEventSummary.terminalEventAtOrNA");
    valid(&f);
    f.r.n_adapter_participation = 0; /* winner set but nobody took part */
    expect_matrix_failure(&f, "auditRecord.winnerSnapshot.winnerAdapterIdOrNA");
    valid(&f);
    f.r.n_adapter_participation = 0;
    f.w.winner_adapter_id_or_na = "NA"; /* never reached D */
    g_append_item it;
    prepare(&f, &it);
    assert_int_equal(it.post, G_APPEND_PASS);
    valid(&f);
    f.in.placement_surface = "";
    expect_matrix_failure(&f, "auditRecord.opportunityInputSnapshot.placementSurface");

    valid(&f);
    f.req.append_contract_version = "g_append_v9";
    prepare(&f, &it);
    assert_int_equal(it.pre, G_APPEND_ROW_VERSION);
    g_append_verdict v = g_append_verdict_reject(it.pre);
    assert_string_equal(v.reason, MED_R_G_APPEND_INVALID_SCHEMA_VERSION);
    assert_false(v.retryable);
}

static void envelope_and_caller_come_first(void **state)
{
    (void)state;
    fx f;
    valid(&f);
    f.req.request_id = "";
    f.w.winner_adapter_id_or_na = "net_x"; /* a later row would also fail */
    g_append_item it;
    prepare(&f, &it);
    assert_int_equal(it.pre, G_APPEND_ROW_ENVELOPE);
    assert_string_equal(it.err.field, "requestId");
    assert_string_equal(g_append_verdict_reject(it.pre).reason, MED_R_G_APPEND_MISSING_REQUIRED);
    assert_true(g_append_verdict_reject(it.pre).retryable);
    valid(&f);
    g_append_prepare(&f.a, "med.audit.b.v1", "t_1", NULL, 5000, &it);
    assert_int_equal(it.pre, G_APPEND_ROW_AUTH);
    g_append_prepare(&f.a, SUBJ, "", NULL, 5000, &it);
    assert_int_equal(it.pre, G_APPEND_ROW_AUTH);
    g_append_prepare(&f.a, "med.audit.zz.v1", "t_1", NULL, 5000, &it);
    assert_int_equal(it.pre, G_APPEND_ROW_AUTH);
    assert_string_equal(g_append_verdict_reject(G_APPEND_ROW_AUTH).reason, MED_R_G_APPEND_AUTH_FAILED);
    /* rate limit: the third append in one second is refused, nak'ed */
    g_rate rate;
    g_rate_init(&rate, 2);
    for (int i = 0; i < 2; i++) {
        g_append_prepare(&f.a, SUBJ, "t_1", &rate, 10000, &it);
        assert_int_equal(it.pre, G_APPEND_PASS);
    }
    g_append_prepare(&f.a, SUBJ, "t_1", &rate, 10500, &it);
    assert_int_equal(it.pre, G_APPEND_ROW_RATE);
    g_append_verdict v = g_append_verdict_reject(it.pre);
    assert_int_equal(v.disposition, MED_DISPOSE_RETRY);
    assert_string_equal(v.reason, MED_R_G_APPEND_RATE_LIMITED);
    g_append_prepare(&f.a, SUBJ, "t_2", &rate, 10500, &it); /* per tenant */
    assert_int_equal(it.pre, G_APPEND_PASS);
    g_append_prepare(&f.a, SUBJ, "t_1", &rate, 11000, &it); /* next window */
    assert_int_equal(it.pre, G_APPEND_PASS);
}

static void store_row_precedes_matrix_and_size(void **state)
{
    (void)state;
    /* row 5 comes before rows 6-8 */
    assert_int_equal(g_append_resolve(G_APPEND_PASS, 0, G_APPEND_ROW_MATRIX, 1), G_APPEND_ROW_STORE);
    assert_int_equal(g_append_resolve(G_APPEND_ROW_RATE, 0, G_APPEND_ROW_MATRIX, 0), G_APPEND_ROW_RATE);
    assert_int_equal(g_append_resolve(G_APPEND_PASS, 1, G_APPEND_ROW_SIZE, 1), G_APPEND_ROW_SIZE);
    assert_int_equal(g_append_resolve(G_APPEND_PASS, 1, G_APPEND_PASS, 0), G_APPEND_PASS);
    g_append_verdict v = g_append_verdict_reject(G_APPEND_ROW_STORE);
    assert_string_equal(v.reason, MED_R_G_APPEND_INTERNAL_UNAVAILABLE);
    assert_int_equal(v.disposition, MED_DISPOSE_RETRY);
    med_err e;
    assert_int_equal(g_append_check_size(512 * 1024, &e), G_APPEND_PASS);
    assert_int_equal(g_append_check_size(512 * 1024 + 1, &e), G_APPEND_ROW_SIZE);
    assert_string_equal(g_append_verdict_reject(G_APPEND_ROW_SIZE).reason, MED_R_G_APPEND_PAYLOAD_TOO_LARGE);
}

static void key_forms(void **state)
{
    (void)state;
    fx f;
    valid(&f);
    char key[G_APPEND_KEY_MAX];
    med_err e;
    f.r.audit_record_id = "";
    assert_int_equal(g_append_dedup_key(&f.req, "abc", key, sizeof key, &e), MED_OK);
    /* sha256("opp_1|tr_1||1|abc") */
    assert_int_equal(strncmp(key, "g_append_v2:computed:", 21), 0);
    assert_int_equal(strlen(key), 21 + 64);
    char again[G_APPEND_KEY_MAX];
    f.r.audit_record_version = "2";
    assert_int_equal(g_append_dedup_key(&f.req, "abc", again, sizeof again, &e), MED_OK);
    assert_string_not_equal(key, again);
    char tok[G_APPEND_TOKEN_LEN + 1];
    g_append_token("g_append_v1:idempotency:k", "00", tok);
    assert_int_equal(strlen(tok), 30);
    char subj[16];
    assert_int_equal(g_audit_subject_stage("med.audit.edge.v1", subj, sizeof subj), 0);
    assert_string_equal(subj, "edge");
    assert_int_equal(g_audit_subject_stage("med.g.archive.v1", subj, sizeof subj), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_append_gets_token),
        cmocka_unit_test(duplicate_within_window_same_token),
        cmocka_unit_test(changed_bid_conflicts),
        cmocka_unit_test(cross_checks_and_version),
        cmocka_unit_test(envelope_and_caller_come_first),
        cmocka_unit_test(store_row_precedes_matrix_and_size),
        cmocka_unit_test(key_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
