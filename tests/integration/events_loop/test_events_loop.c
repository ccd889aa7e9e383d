/* The closed loop Request -> Delivery -> Event -> Archive -> Replay, end to
 * end through the edge: every stage runs as a process against its own
 * nats-server -js, PostgreSQL and Redis, with two fake OpenRTB networks.
 * Each case asks for an ad, reports SDK events for the Delivery it got, and
 * checks the ACK, the billing ledger, G's archive and the replay and
 * reconciliation answers. Windows are shortened (00 decision 6) so the
 * terminal-wait autofill runs in seconds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "harness.h"
#include "harness_http.h"
#include "harness_world.h"
#include "med/ids.h"
#include "med/reason.h"

typedef th_world world;

static const char *const k_env[] = { "F_TERMINAL_WAIT_SEC=2", "F_SCAN_INTERVAL_MS=200", NULL };

static int setup(void **state)
{
    return th_world_setup(state, "events_loop", k_env);
}

/* ------------------------------------------------------------ requests */

static json_t *ask(world *w, const char *session, const char *trigger, const char *want)
{
    char *body = th_opportunity_body(session, trigger, NULL, NULL);
    long st = 0;
    json_t *d = th_edge_json(w->edge_port, "POST", "/v1/opportunities", body, &st);
    free(body);
    char *text = json_dumps(d, JSON_COMPACT);
    if (st != 200 || strcmp(th_json_str(d, "status"), want) != 0)
        fail_msg("want a %s Delivery, got HTTP %ld %s", want, st, text);
    free(text);
    return d;
}

/* One SDK event for Delivery d; extra: more members ("" for none). */
static char *event_json(const json_t *d, const char *event_id, const char *type,
                        const char *render_attempt_id, const char *extra)
{
    char at[32];
    med_format_utc_ms(med_now_unix_ms() - 50, at, sizeof at);
    char *e = NULL;
    int n = asprintf(&e,
                     "{\"eventId\":\"%s\",\"eventType\":\"%s\",\"eventAt\":\"%s\","
                     "\"traceKey\":\"%s\",\"requestKey\":\"%s\",\"attemptKey\":\"%s\","
                     "\"opportunityKey\":\"%s\",\"eventVersion\":\"event_v1\","
                     "\"responseReference\":\"%s\",\"renderAttemptId\":\"%s\"%s%s}",
                     event_id, type, at, th_json_str(d, "traceKey"), th_json_str(d, "requestKey"),
                     th_json_str(d, "attemptKey"), th_json_str(d, "opportunityKey"),
                     th_json_str(d, "responseReference"), render_attempt_id, *extra ? "," : "",
                     extra);
    assert_true(n > 0);
    return e;
}

static char *batch_json(const char *batch_id, const char *events_csv)
{
    char at[32];
    med_format_utc_ms(med_now_unix_ms(), at, sizeof at);
    char *b = NULL;
    int n = asprintf(&b,
                     "{\"batchId\":\"%s\",\"appId\":\"app_demo\",\"sdkVersion\":\"2.1.0\","
                     "\"sentAt\":\"%s\",\"schemaVersion\":\"schema_v1\",\"events\":[%s]}",
                     batch_id, at, events_csv);
    assert_true(n > 0);
    return b;
}

/* Posts a batch; the ACK must be HTTP 200. */
static json_t *post_events(world *w, const char *body)
{
    long st = 0;
    json_t *ack = th_edge_json(w->edge_port, "POST", "/v1/events", body, &st);
    if (st != 200) {
        char *text = json_dumps(ack, JSON_COMPACT);
        fail_msg("POST /v1/events answered %ld: %s", st, text);
    }
    return ack;
}

/* One event for Delivery d posted alone in batch batch_id; the ACK. */
static json_t *post_one(world *w, const json_t *d, const char *batch_id, const char *event_id,
                        const char *type, const char *render_attempt_id, const char *extra)
{
    char *e = event_json(d, event_id, type, render_attempt_id, extra);
    char *b = batch_json(batch_id, e);
    json_t *ack = post_events(w, b);
    free(b);
    free(e);
    return ack;
}

static json_t *ack_item(const json_t *ack, size_t i)
{
    json_t *it = json_array_get(json_object_get(ack, "ackItems"), i);
    if (!it) fail_msg("ACK has no item %zu", i);
    return it;
}

static void assert_item(const json_t *ack, size_t i, const char *status, const char *code)
{
    const json_t *it = ack_item(ack, i);
    if (strcmp(th_json_str(it, "ackStatus"), status) != 0 ||
        (code && strcmp(th_json_str(it, "ackReasonCode"), code) != 0)) {
        char *text = json_dumps(ack, JSON_COMPACT);
        fail_msg("item %zu: want %s/%s, ACK %s", i, status, code ? code : "*", text);
    }
    assert_int_equal(json_integer_value(json_object_get(it, "eventIndex")), (json_int_t)i);
}

/* ------------------------------------------------------------ storage */

static long ledger_count(world *w, const char *response_reference, const char *type)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM billing_ledger WHERE response_reference = $1%s%s%s",
             type ? " AND billable_type = '" : "", type ? type : "", type ? "'" : "");
    return th_sql_count(w->pg, sql, response_reference);
}

/* Polls until the query's count reaches want (G archives asynchronously). */
static long await_count(world *w, const char *sql, const char *param, long want, int timeout_ms)
{
    long n = -1;
    for (int waited = 0; waited <= timeout_ms; waited += 100) {
        n = th_sql_count(w->pg, sql, param);
        if (n >= want) return n;
        th_sleep_ms(100);
    }
    return n;
}

static const char *k_written_billable =
    "SELECT count(*) FROM archive_records WHERE response_reference = $1"
    " AND record_type = 'billable_fact' AND record_status = 'committed'"
    " AND write_status = 'written'";

/* ------------------------------------------------------------ replay */

static json_t *replay_as(world *w, const char *opportunity_key, const char *output,
                         const char *mode)
{
    char path[512];
    snprintf(path, sizeof path,
             "/v1/replay?queryMode=by_opportunity&outputMode=%s"
             "&replayContractVersion=g_replay_v1&pagination.pageSize=10"
             "&opportunityKey=%s&replayExecutionMode=%s",
             output, opportunity_key, mode);
    long st = 0;
    json_t *page = th_edge_json(w->edge_port, "GET", path, NULL, &st);
    if (st != 200) {
        char *text = json_dumps(page, JSON_COMPACT);
        fail_msg("replay answered %ld: %s", st, text);
    }
    return page;
}

static json_t *replay_opportunity(world *w, const char *opportunity_key, const char *mode)
{
    return replay_as(w, opportunity_key, "summary", mode);
}

/* The replay anchors of the page's first full item (borrowed from page). */
static json_t *first_anchors(json_t *page)
{
    json_t *item = json_array_get(json_object_get(page, "items"), 0);
    json_t *full = json_object_get(item, "full");
    json_t *rec = json_object_get(full ? full : item, "gAuditRecordLite");
    json_t *anchors = json_object_get(rec, "replayAnchors");
    if (!anchors) {
        char *text = json_dumps(page, JSON_COMPACT);
        fail_msg("no replayAnchors in the full item: %.2000s", text);
    }
    return anchors;
}

/* A placement-scope change (pc-1 -> pc-2): a new placement document with a
 * shorter dedup window, published through H as an operator would. */
static void publish_placement_change(world *w)
{
    char at[32];
    med_format_utc_ms(med_now_unix_ms(), at, sizeof at);
    char *body = NULL;
    int n = asprintf(&body,
        "{\"requestId\":\"events-loop-placement-2\",\"operatorId\":\"demo-operator\","
        "\"environment\":\"prod\",\"actionType\":\"publish\",\"targetScope\":\"placement\","
        "\"targetKey\":\"app_demo|plc_feed|prod\",\"changeSetId\":\"cs-loop-placement-0002\","
        "\"baseVersionSnapshot\":{\"schemaVersion\":\"1.0.0\",\"routingStrategyVersion\":\"rs-1\","
        "\"placementConfigVersion\":\"pc-1\"},"
        "\"targetVersionSnapshot\":{\"schemaVersion\":\"1.0.0\",\"routingStrategyVersion\":\"rs-1\","
        "\"placementConfigVersion\":\"pc-2\"},"
        "\"changeSet\":{\"documents\":[{\"kind\":\"placement\",\"version\":\"plc_feed-2\",\"body\":{"
        "\"placementId\":\"plc_feed\",\"enabled\":true,\"placementType\":\"chat_inline\","
        "\"placementSurface\":\"in_feed\",\"allowedTriggerTypes\":[\"answer_end\",\"scroll_pause\"],"
        "\"dedupWindowSec\":30,\"placementSpecLite\":{\"slotCount\":1,\"minIntervalSec\":30,"
        "\"aspectRatio\":\"16:9\"}}}],"
        "\"layer\":{\"placementRef\":\"placement:plc_feed-2\",\"ttlSec\":120,"
        "\"adapterMinVersionMap\":{\"openrtb_net_b\":\"1.0.1\"}}},"
        "\"publishAt\":\"%s\",\"publishContractVersion\":\"h_publish_v1\","
        "\"reason\":\"events_loop: placement change before a replay\"}",
        at);
    assert_true(n > 0);
    Mediation__V1__ConfigPublishReply *r =
        th_config_publish(w->nc, w->tenant, "demo-operator", "config_admin", "admin", body);
    if (r->http_status != 200 && r->http_status != 0)
        fail_msg("placement change: %d %s", (int)r->http_status, r->body_json ? r->body_json : "");
    mediation__v1__config_publish_reply__free_unpacked(r, NULL);
    free(body);
}

/* Today so far, daily granularity: the full comparison (G.8), flagged
 * open because the day is in progress. */
static json_t *reconcile_today(world *w, long *status)
{
    char start[32], path[160];
    int64_t now = med_now_unix_ms();
    med_format_utc_ms(now - now % 86400000, start, sizeof start);
    snprintf(path, sizeof path, "/v1/reconciliation?granularity=daily&windowStart=%s", start);
    return th_edge_json(w->edge_port, "GET", path, NULL, status);
}

/* ------------------------------------------------------------ cases */

/* Served -> ad_filled, impression, click -> one bill each, archived in
 * order, replayable, reconciled. */
static void served_loop_bills_once_and_closes(void **state)
{
    world *w = *state;
    json_t *d = ask(w, "sess_loop_served", "answer_end", "served");
    const char *ref = th_json_str(d, "responseReference");
    char *e0 = event_json(d, "ev_fill_1", "ad_filled", "ra_loop_1", "\"creativeId\":\"cr_1\"");
    char *e1 = event_json(d, "ev_imp_1", "impression", "ra_loop_1", "\"creativeId\":\"cr_1\"");
    char *e2 = event_json(d, "ev_clk_1", "click", "ra_loop_1",
                          "\"clickTarget\":\"cta\",\"eventSeq\":1");
    char csv[8192];
    snprintf(csv, sizeof csv, "%s,%s,%s", e0, e1, e2);
    char *body = batch_json("batch_loop_served", csv);
    json_t *ack = post_events(w, body);
    assert_string_equal(th_json_str(ack, "overallStatus"), "accepted_all");
    for (size_t i = 0; i < 3; i++) assert_item(ack, i, "accepted", MED_R_F_EVENT_ACCEPTED);
    /* F counted the three accepted ACKs and the two billable facts */
    int f_admin = w->procs[TH_P_F].admin_port;
    assert_true(th_metric_sum(f_admin, "med_event_acks_total", "result=\"accepted\"") >= 3);
    assert_true(th_metric_sum(f_admin, "med_billing_facts_total", "kind=\"billable\"") >= 2);
    /* committed before the ACK (00 decision 4): the rows exist already */
    assert_int_equal(th_sql_count(w->pg,
                                  "SELECT count(*) FROM event_records WHERE response_reference = $1",
                                  ref), 3);
    assert_int_equal(ledger_count(w, ref, "billable_impression"), 1);
    assert_int_equal(ledger_count(w, ref, "billable_click"), 1);
    /* the bill is the auction's price: net_a bids 2.0 */
    char *amount = th_sql_value(w->pg, "SELECT amount_micros || ' ' || currency FROM billing_ledger"
                                       " WHERE response_reference = $1"
                                       " AND billable_type = 'billable_impression'", ref);
    assert_non_null(amount);
    assert_string_equal(amount, "2000000 USD");
    free(amount);
    /* G writes both committed billable facts */
    assert_int_equal(await_count(w, k_written_billable, ref, 2, 15000), 2);

    /* the same batch again (response lost): duplicates, no second bill */
    json_t *again = post_events(w, body);
    assert_string_equal(th_json_str(again, "overallStatus"), "partial_success");
    for (size_t i = 0; i < 3; i++) assert_item(again, i, "duplicate", NULL);
    assert_int_equal(ledger_count(w, ref, NULL), 2);
    assert_true(th_metric_sum(f_admin, "med_event_acks_total", "result=\"duplicate\"") >= 3);
    assert_true(th_metric_sum(f_admin, "med_dedup_hits_total",
                              "stage=\"f\",window=\"billing\"") >= 2);
    /* E counted the served Delivery */
    assert_true(th_metric_sum(w->procs[TH_P_E].admin_port, "med_deliveries_total",
                              "outcome=\"served\",reason_class=\"business\"") >= 1);

    /* replay of the opportunity: the terminal event is the impression */
    int g_admin = w->procs[TH_P_G].admin_port;
    double runs = th_metric_sum(g_admin, "med_replay_runs_total", "mode=\"snapshot\",result=\"ok\"");
    json_t *page = replay_opportunity(w, th_json_str(d, "opportunityKey"), "snapshot_replay");
    assert_true(th_metric_sum(g_admin, "med_replay_runs_total",
                              "mode=\"snapshot\",result=\"ok\"") >= runs + 1);
    char *text = json_dumps(page, JSON_COMPACT);
    if (!strstr(text, "\"terminalStatus\":\"impression\""))
        fail_msg("replay does not show the impression: %s", text);
    free(text);

    json_decref(page);
    json_decref(again);
    json_decref(ack);
    free(body);
    free(e0);
    free(e1);
    free(e2);
    json_decref(d);
}

/* A no_fill Delivery is terminal by itself: an impression on it is
 * refused and bills nothing (E.11 case 15). */
static void impression_on_no_fill_is_rejected(void **state)
{
    world *w = *state;
    json_t *d = ask(w, "sess_loop_nofill", "manual_refresh", "no_fill");
    json_t *ack = post_one(w, d, "batch_loop_nofill", "ev_nf_imp", "impression", "ra_nf_1",
                           "\"creativeId\":\"cr_1\"");
    assert_string_equal(th_json_str(ack, "overallStatus"), "rejected_all");
    assert_item(ack, 0, "rejected", MED_R_F_EVENT_IMPRESSION_FORBIDDEN_STATUS);
    assert_int_equal(ledger_count(w, th_json_str(d, "responseReference"), NULL), 0);
    json_decref(ack);
    json_decref(d);
}

/* Impression then a terminal error: the failure is a duplicate
 * (F.6 closed_success is final). */
static void failure_after_impression_is_duplicate(void **state)
{
    world *w = *state;
    json_t *d = ask(w, "sess_loop_imp_fail", "answer_end", "served");
    json_t *a0 = post_one(w, d, "batch_loop_if_1", "ev_if_imp", "impression", "ra_if_1",
                          "\"creativeId\":\"cr_1\"");
    assert_item(a0, 0, "accepted", NULL);
    json_t *a1 = post_one(w, d, "batch_loop_if_2", "ev_if_err", "error", "ra_if_1",
                          "\"errorStage\":\"render\",\"errorCode\":\"e_render_ttl_expired\","
                          "\"errorClass\":\"terminal\"");
    assert_item(a1, 0, "duplicate", MED_R_F_TERMINAL_CONFLICT_FAILURE_AFTER_IMPRESSION);
    assert_int_equal(ledger_count(w, th_json_str(d, "responseReference"), NULL), 1);
    json_decref(a0);
    json_decref(a1);
    json_decref(d);
}

/* A click before its impression is pending, then billed when the
 * impression bills within the wait (F.7). */
static void click_before_impression_is_upgraded(void **state)
{
    world *w = *state;
    json_t *d = ask(w, "sess_loop_click_first", "answer_end", "served");
    const char *ref = th_json_str(d, "responseReference");
    json_t *a0 = post_one(w, d, "batch_loop_cf_1", "ev_cf_clk", "click", "ra_cf_1",
                          "\"clickTarget\":\"cta\",\"eventSeq\":1");
    assert_item(a0, 0, "accepted", NULL);
    assert_int_equal(ledger_count(w, ref, NULL), 0);
    json_t *a1 = post_one(w, d, "batch_loop_cf_2", "ev_cf_imp", "impression", "ra_cf_1",
                          "\"creativeId\":\"cr_1\"");
    assert_item(a1, 0, "accepted", NULL);
    assert_int_equal(ledger_count(w, ref, "billable_impression"), 1);
    assert_int_equal(ledger_count(w, ref, "billable_click"), 1);
    json_decref(a0);
    json_decref(a1);
    json_decref(d);
}

/* ad_filled and then silence: after the terminal wait exactly one
 * synthesized timeout failure is archived, nothing billed (F.6). */
static void silent_sdk_gets_one_autofill(void **state)
{
    world *w = *state;
    json_t *d = ask(w, "sess_loop_silent", "answer_end", "served");
    const char *ref = th_json_str(d, "responseReference");
    json_t *a0 = post_one(w, d, "batch_loop_silent", "ev_sil_fill", "ad_filled", "ra_sil_1",
                          "\"creativeId\":\"cr_1\"");
    assert_item(a0, 0, "accepted", NULL);
    /* F commits the synthesized failure... */
    const char *sql =
        "SELECT count(*) FROM event_records WHERE response_reference = $1"
        " AND render_attempt_id = 'ra_sil_1' AND event_type = 'failure'"
        " AND payload->>'closureReasonCode' = 'f_terminal_timeout_autofill'";
    assert_int_equal(await_count(w, sql, ref, 1, 20000), 1);
    /* ...and G archives its decision audit (eventId evt_timeout_...) */
    const char *archived =
        "SELECT count(*) FROM archive_records WHERE response_reference = $1"
        " AND render_attempt_id = 'ra_sil_1' AND record_type = 'decision_audit'"
        " AND event_id LIKE 'evt_timeout_%' AND write_status = 'written'";
    assert_int_equal(await_count(w, archived, ref, 1, 15000), 1);
    /* a few more scans must not add a second one */
    th_sleep_ms(1500);
    assert_int_equal(th_sql_count(w->pg, sql, ref), 1);
    assert_int_equal(th_sql_count(w->pg, archived, ref), 1);
    assert_int_equal(ledger_count(w, ref, NULL), 0);
    json_decref(a0);
    json_decref(d);
}

/* Redis flushed between identical submissions under a new batchId: the
 * database claims still allow one bill (F.9 case 15). */
static void flushing_redis_never_bills_twice(void **state)
{
    world *w = *state;
    json_t *d = ask(w, "sess_loop_flush", "answer_end", "served");
    const char *ref = th_json_str(d, "responseReference");
    char *e0 = event_json(d, "ev_fl_imp", "impression", "ra_fl_1",
                          "\"creativeId\":\"cr_1\",\"idempotencyKey\":\"idem_flush_0001\"");
    char *b0 = batch_json("batch_loop_flush_1", e0);
    json_t *a0 = post_events(w, b0);
    assert_item(a0, 0, "accepted", NULL);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "redis-cli -h 127.0.0.1 -p %s FLUSHALL >/dev/null",
             th_env("REDIS_PORT"));
    assert_int_equal(system(cmd), 0);
    char *b1 = batch_json("batch_loop_flush_2", e0);
    json_t *a1 = post_events(w, b1);
    assert_item(a1, 0, "duplicate", MED_R_F_DEDUP_COMMITTED_DUPLICATE);
    /* another eventId, no idempotencyKey: a second impression on the closure */
    json_t *a2 = post_one(w, d, "batch_loop_flush_3", "ev_fl_imp_2", "impression", "ra_fl_1",
                          "\"creativeId\":\"cr_1\"");
    assert_item(a2, 0, "duplicate", MED_R_F_BILLING_CONFLICT_DUPLICATE_IMPRESSION);
    assert_int_equal(ledger_count(w, ref, "billable_impression"), 1);
    json_decref(a0);
    json_decref(a1);
    json_decref(a2);
    free(b0);
    free(b1);
    free(e0);
    json_decref(d);
}

/* Replay after a config change uses the anchors recorded when the
 * opportunity ran: rule_recompute gives exact_match and the anchors are
 * the ones of the first replay, while new requests run under the change. */
static void replay_after_config_change_keeps_anchors(void **state)
{
    world *w = *state;
    json_t *d = ask(w, "sess_loop_cfg", "answer_end", "served");
    const char *opp = th_json_str(d, "opportunityKey");
    json_t *a0 = post_one(w, d, "batch_loop_cfg", "ev_cfg_imp", "impression", "ra_cfg_1",
                          "\"creativeId\":\"cr_1\"");
    assert_item(a0, 0, "accepted", NULL);
    assert_int_equal(await_count(w, k_written_billable, th_json_str(d, "responseReference"), 1,
                                 15000), 1);
    json_t *before = replay_as(w, opp, "full", "snapshot_replay");
    json_t *anchors_before = first_anchors(before);

    publish_placement_change(w);
    /* the change is live: a new opportunity resolves another snapshot */
    const char *hash_before = th_json_str(anchors_before, "anchorHash");
    int changed = 0;
    for (int i = 0; i < 50 && !changed; i++) {
        char session[48];
        snprintf(session, sizeof session, "sess_loop_cfg_after_%d", i);
        json_t *d2 = ask(w, session, "answer_end", "served");
        json_t *p2 = replay_as(w, th_json_str(d2, "opportunityKey"), "full", "snapshot_replay");
        changed = strcmp(th_json_str(first_anchors(p2), "anchorHash"), hash_before) != 0;
        json_decref(p2);
        json_decref(d2);
        if (!changed) th_sleep_ms(100);
    }
    assert_true(changed);

    int g_admin = w->procs[TH_P_G].admin_port;
    double matches = th_metric_sum(g_admin, "med_replay_determinism_total", "result=\"match\"");
    json_t *after = replay_as(w, opp, "full", "rule_recompute");
    assert_true(th_metric_sum(g_admin, "med_replay_determinism_total", "result=\"match\"") >=
                matches + 1);
    assert_true(json_equal(first_anchors(after), anchors_before));
    json_t *meta = json_object_get(after, "resultMeta");
    assert_string_equal(th_json_str(meta, "determinismStatus"), "deterministic");
    json_t *diff = json_object_get(after, "replayDiffSummaryLite");
    assert_string_equal(th_json_str(diff, "diffStatus"), "exact_match");

    json_decref(after);
    json_decref(before);
    json_decref(a0);
    json_decref(d);
}

/* Reconciliation of today: clean, then a tampered ledger amount is
 * classified, and a rerun gives the same answer (G.8). Runs last: it reads
 * what the cases above billed. */
static void reconciliation_finds_tampered_amount(void **state)
{
    world *w = *state;
    json_t *d = ask(w, "sess_loop_recon", "answer_end", "served");
    const char *ref = th_json_str(d, "responseReference");
    json_t *a0 = post_one(w, d, "batch_loop_recon", "ev_rc_imp", "impression", "ra_rc_1",
                          "\"creativeId\":\"cr_1\"");
    assert_item(a0, 0, "accepted", NULL);
    assert_int_equal(await_count(w, k_written_billable, ref, 1, 15000), 1);
    /* every bill of the earlier cases archived too, so "clean" is clean */
    const char *unarchived =
        "SELECT count(*) FROM billing_ledger l WHERE NOT EXISTS (SELECT 1 FROM archive_records a"
        " WHERE a.record_key = l.record_key AND a.write_status = 'written')";
    for (int i = 0; i < 150 && th_sql_count(w->pg, unarchived, NULL) > 0; i++) th_sleep_ms(100);
    assert_int_equal(th_sql_count(w->pg, unarchived, NULL), 0);

    long st = 0;
    json_t *clean = reconcile_today(w, &st);
    char *text = json_dumps(clean, JSON_COMPACT);
    if (st != 200 || !json_is_true(json_object_get(clean, "pass")))
        fail_msg("clean reconciliation: %ld %s", st, text);
    free(text);
    assert_int_equal(json_integer_value(json_object_get(clean, "diffCount")), 0);
    assert_true(json_is_true(json_object_get(clean, "windowOpen")));

    const char *params[1] = { ref };
    PGresult *r = PQexecParams(w->pg,
                               "UPDATE billing_ledger SET amount_micros = amount_micros + 5"
                               " WHERE response_reference = $1",
                               1, NULL, params, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    assert_string_equal(PQcmdTuples(r), "1");
    PQclear(r);

    json_t *dirty = reconcile_today(w, &st);
    assert_int_equal(st, 200);
    assert_false(json_is_true(json_object_get(dirty, "pass")));
    assert_int_equal(json_integer_value(json_object_get(dirty, "diffCount")), 1);
    json_t *diff = json_array_get(json_object_get(dirty, "diffs"), 0);
    assert_string_equal(th_json_str(diff, "diffCode"), "RECON_AMOUNT_MISMATCH");
    assert_true(th_metric_sum(w->procs[TH_P_G].admin_port, "med_reconciliation_diffs_total",
                              "reason=\"RECON_AMOUNT_MISMATCH\"") >= 1);
    json_t *rerun = reconcile_today(w, &st);
    assert_true(json_equal(json_object_get(rerun, "diffs"), json_object_get(dirty, "diffs")));

    json_decref(rerun);
    json_decref(dirty);
    json_decref(clean);
    json_decref(a0);
    json_decref(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(served_loop_bills_once_and_closes),
        cmocka_unit_test(impression_on_no_fill_is_rejected),
        cmocka_unit_test(failure_after_impression_is_duplicate),
        cmocka_unit_test(click_before_impression_is_upgraded),
        cmocka_unit_test(silent_sdk_gets_one_autofill),
        cmocka_unit_test(flushing_redis_never_bills_twice),
        cmocka_unit_test(replay_after_config_change_keeps_anchors),
        cmocka_unit_test(reconciliation_finds_tampered_amount),
    };
    return cmocka_run_group_tests_name("events_loop", tests, setup, th_world_teardown);
}
