/* The request path end to end, through the edge: H, the edge and stages
 * A..E run as processes against nats-server -js, PostgreSQL and Redis
 * (started by tests/run), with two fake OpenRTB networks as the sources of
 * the demo config, which is loaded through H's publish as an operator
 * would. Every case drives POST /v1/opportunities and reads the Delivery,
 * the fake networks' request counters and the stored rows. */
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
#include <nats/nats.h>

#include "harness_http.h"
#include "harness_world.h"
#include "med/ids.h"
#include "med/names.h"
#include "med/reason.h"

typedef th_world world;

static int setup(void **state)
{
    return th_world_setup(state, "sync_chain", NULL);
}

/* Every case starts from filling networks. */
static int reset_networks(void **state)
{
    world *w = *state;
    th_fake_network_behave(&w->net_a, TH_FILL_A);
    th_fake_network_behave(&w->net_b, TH_FILL_B);
    return 0;
}

/* --------------------------------------------------------------- helpers */

static char *opportunity_body_app(const char *session, const char *trigger, const char *extra,
                                  const char *app_extra)
{
    return th_opportunity_body(session, trigger, extra, app_extra);
}

static char *opportunity_body(const char *session, const char *trigger, const char *extra)
{
    return th_opportunity_body(session, trigger, extra, NULL);
}

static json_t *post_opportunity(world *w, const char *body, long *status)
{
    return th_edge_json(w->edge_port, "POST", "/v1/opportunities", body, status);
}

static const char *str_at(const json_t *j, const char *key)
{
    return th_json_str(j, key);
}

/* A Delivery answered with HTTP 200; its status must be want. */
static json_t *delivery(world *w, const char *body, const char *want)
{
    long st = 0;
    json_t *d = post_opportunity(w, body, &st);
    char *text = json_dumps(d, JSON_COMPACT);
    if (st != 200) fail_msg("HTTP %ld: %s", st, text);
    if (strcmp(str_at(d, "status"), want) != 0)
        fail_msg("status %s, want %s: %s", str_at(d, "status"), want, text);
    free(text);
    assert_true(strncmp(str_at(d, "responseReference"), "resp_", 5) == 0 ||
                strncmp(str_at(d, "responseReference"), "rsp_", 4) == 0);
    return d;
}

static long total_network_calls(world *w)
{
    return th_fake_network_requests(&w->net_a) + th_fake_network_requests(&w->net_b);
}

static long sql_count(world *w, const char *sql, const char *param)
{
    return th_sql_count(w->pg, sql, param);
}

/* ----------------------------------------------------------------- cases */

static void served_by_the_best_network(void **state)
{
    world *w = *state;
    char *body = opportunity_body("sess_served_01", "answer_end", NULL);
    long before = total_network_calls(w);
    json_t *d = delivery(w, body, "served");
    assert_true(total_network_calls(w) > before);
    char *text = json_dumps(d, JSON_COMPACT);
    /* net_a bids the higher price: it wins. */
    assert_non_null(strstr(text, "src_net_a"));
    free(text);
    /* E wrote the decision before answering. */
    assert_int_equal(sql_count(w, "SELECT count(*) FROM delivery_records WHERE response_reference = $1",
                               str_at(d, "responseReference")), 1);
    assert_int_equal(sql_count(w, "SELECT count(*) FROM opportunity_records WHERE opportunity_key = $1",
                               str_at(d, "opportunityKey")), 1);
    json_decref(d);
    free(body);
}

static void ineligible_trigger_is_no_fill_without_network_call(void **state)
{
    world *w = *state;
    char *body = opportunity_body("sess_nofill_01", "manual_refresh", NULL);
    long before = total_network_calls(w);
    json_t *d = delivery(w, body, "no_fill");
    assert_int_equal(total_network_calls(w), before);
    json_decref(d);
    free(body);
}

static void policy_block_is_no_fill_without_network_call(void **state)
{
    world *w = *state;
    /* The demo policy hard-blocks IAB25/IAB26 (categoryGate). */
    char *body = opportunity_body_app("sess_block_01", "answer_end", NULL,
                                      "\"restrictedCategoryFlags\":[\"IAB25\"]");
    long before = total_network_calls(w);
    json_t *d = delivery(w, body, "no_fill");
    assert_string_equal(str_at(d, "finalReasonCode"), MED_R_E_NF_POLICY_BLOCKED);
    assert_int_equal(total_network_calls(w), before);
    json_decref(d);
    free(body);

    /* Consent denied blocks by the default consent gate. */
    body = opportunity_body_app("sess_block_02", "answer_end", NULL,
                                "\"privacy_status\":\"consent_denied\"");
    d = delivery(w, body, "no_fill");
    assert_string_equal(str_at(d, "finalReasonCode"), MED_R_E_NF_POLICY_BLOCKED);
    assert_int_equal(total_network_calls(w), before);
    json_decref(d);
    free(body);
}

static void no_bid_everywhere_is_no_fill_or_house(void **state)
{
    world *w = *state;
    th_fake_network_behave(&w->net_a, "nobid");
    th_fake_network_behave(&w->net_b, "nobid");
    char *body = opportunity_body("sess_nobid_01", "answer_end", NULL);
    long st = 0;
    json_t *d = post_opportunity(w, body, &st);
    assert_int_equal(st, 200);
    /* The demo config has a house ad for native_feed: it is the last
     * fallback, so no bid from the networks still serves the house ad. */
    assert_string_equal(str_at(d, "status"), "served");
    char *text = json_dumps(d, JSON_COMPACT);
    assert_non_null(strstr(text, "house"));
    free(text);
    json_decref(d);
    free(body);
}

/* D.10 cases 10 and 11 under the demo budget (450 ms, 100 ms per source):
 * the hanging primary times out, is retried once on the wire, and the
 * next source serves within what is left. */
static void primary_timeout_then_fallback_serves(void **state)
{
    world *w = *state;
    th_fake_network_behave(&w->net_a, "delay;ms=1500;price=2.0");
    long a0 = th_fake_network_requests(&w->net_a);
    char *body = opportunity_body("sess_timeout_01", "answer_end", NULL);
    json_t *d = delivery(w, body, "served");
    char *text = json_dumps(d, JSON_COMPACT);
    if (!strstr(text, "src_net_b")) fail_msg("fallback did not serve: %s", text);
    free(text);
    assert_int_equal(th_fake_network_requests(&w->net_a) - a0, 2);
    json_decref(d);
    free(body);
}

static void duplicate_within_window_reuses_the_result(void **state)
{
    world *w = *state;
    char *body = opportunity_body("sess_dup_01", "answer_end",
                                  "\"clientRequestId\":\"cli_req_dup_0001\"");
    json_t *first = delivery(w, body, "served");
    long calls = total_network_calls(w);
    long st = 0;
    json_t *second = post_opportunity(w, body, &st);
    assert_int_equal(st, 200);
    assert_string_equal(str_at(second, "responseReference"), str_at(first, "responseReference"));
    assert_string_equal(str_at(second, "status"), str_at(first, "status"));
    assert_int_equal(total_network_calls(w), calls);
    json_decref(first);
    json_decref(second);
    free(body);
}

static void bad_input_is_a_4xx_naming_the_field(void **state)
{
    world *w = *state;
    long st = 0;
    json_t *e = post_opportunity(w, "{\"placementId\": ", &st);
    assert_int_equal(st, 400);
    json_decref(e);

    char *body = opportunity_body("sess_bad_01", "answer_end", NULL);
    /* placementId emptied: A's contract reject, relayed by the edge. */
    char *p = strstr(body, "\"plc_feed\"");
    assert_non_null(p);
    memmove(p + 2, p + strlen("\"plc_feed\""), strlen(p + strlen("\"plc_feed\"")) + 1);
    p[0] = '"';
    p[1] = '"';
    e = post_opportunity(w, body, &st);
    assert_int_equal(st, 400);
    json_t *err = json_object_get(e, "error");
    /* The edge's own shape check or A's L1, whichever sees it first. */
    if (strcmp(str_at(err, "code"), MED_R_A_TRG_MISSING_REQUIRED_FIELD) != 0)
        assert_string_equal(str_at(err, "code"), MED_R_EDGE_FIELD_INVALID);
    assert_string_equal(str_at(err, "field"), "placementId");
    json_decref(e);
    free(body);

    /* Wrong type. */
    body = opportunity_body("sess_bad_02", "answer_end", NULL);
    p = strstr(body, "\"2.1.0\"");
    assert_non_null(p);
    memcpy(p, "210    ", 7);
    e = post_opportunity(w, body, &st);
    assert_int_equal(st, 400);
    err = json_object_get(e, "error");
    assert_string_equal(str_at(err, "field"), "sdkVersion");
    json_decref(e);
    free(body);
}

static void unknown_trigger_is_rejected(void **state)
{
    world *w = *state;
    char *body = opportunity_body("sess_bad_03", "non_existing_trigger", NULL);
    long st = 0;
    json_t *e = post_opportunity(w, body, &st);
    assert_int_equal(st, 400);
    assert_string_equal(str_at(json_object_get(e, "error"), "code"),
                        MED_R_A_TRG_INVALID_TRIGGER_TYPE);
    json_decref(e);
    free(body);
}

static void device_id_never_stored_in_clear(void **state)
{
    world *w = *state;
    char *body = opportunity_body("sess_redact_01", "answer_end", NULL);
    json_t *d = delivery(w, body, "served");
    /* Audits reach audit_records through G; wait for B's. */
    const char *opp = str_at(d, "opportunityKey");
    long n = 0;
    for (int i = 0; i < 50 && n < 1; i++) {
        n = sql_count(w, "SELECT count(*) FROM audit_records WHERE opportunity_key = $1 AND stage = 'b'", opp);
        if (n < 1) th_sleep_ms(100);
    }
    assert_true(n >= 1);
    /* The stored audits (summary and wire bytes) never hold the raw id. */
    assert_int_equal(sql_count(w, "SELECT count(*) FROM audit_records WHERE payload::text LIKE '%device-secret-0001%'", NULL), 0);
    assert_int_equal(sql_count(w, "SELECT count(*) FROM audit_records WHERE stage IN ('a','b','c','d','e') AND payload_pb IS NULL", NULL), 0);
    assert_int_equal(sql_count(w, "SELECT count(*) FROM audit_records WHERE position(convert_to('device-secret-0001', 'UTF8') in payload_pb) > 0", NULL), 0);
    /* ...while the hashed id B derived is there: the check can see ids. */
    assert_true(sql_count(w, "SELECT count(*) FROM audit_records WHERE stage = 'b' AND position(convert_to('device.id', 'UTF8') in payload_pb) > 0", NULL) >= 1);
    assert_int_equal(sql_count(w, "SELECT count(*) FROM opportunity_records WHERE payload::text LIKE '%device-secret-0001%'", NULL), 0);
    assert_int_equal(sql_count(w, "SELECT count(*) FROM delivery_records WHERE payload::text LIKE '%device-secret-0001%'", NULL), 0);
    json_decref(d);
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(served_by_the_best_network, reset_networks),
        cmocka_unit_test_setup(ineligible_trigger_is_no_fill_without_network_call, reset_networks),
        cmocka_unit_test_setup(policy_block_is_no_fill_without_network_call, reset_networks),
        cmocka_unit_test_setup(no_bid_everywhere_is_no_fill_or_house, reset_networks),
        cmocka_unit_test_setup(primary_timeout_then_fallback_serves, reset_networks),
        cmocka_unit_test_setup(duplicate_within_window_reuses_the_result, reset_networks),
        cmocka_unit_test_setup(bad_input_is_a_4xx_naming_the_field, reset_networks),
        cmocka_unit_test_setup(unknown_trigger_is_rejected, reset_networks),
        cmocka_unit_test_setup(device_id_never_stored_in_clear, reset_networks),
    };
    return cmocka_run_group_tests(tests, setup, th_world_teardown);
}
