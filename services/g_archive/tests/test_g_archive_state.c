/* G.4 write state machine, order gate, retry ladder, deadline and group
 * state (G.9 cases 7 and 8 at the rule level). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "g_archive_state.h"
#include "med/reason.h"

#define MIN15 (15 * 60 * 1000)
static const g_plan_policy k_policy = { MIN15, 5000 };

static g_group_row row(const char *key, g_record_type t, g_record_status s, g_write_status ws,
                       const char *src, int64_t out_at)
{
    return (g_group_row){ key, src, t, s, ws, out_at, 1000, 0 };
}

static void state_machine_follows_g4(void **state)
{
    (void)state;
    g_write_status n;
    assert_true(g_write_next(G_WS_PENDING, G_RS_COMMITTED, G_EV_GATE_OPEN, &n));
    assert_int_equal(n, G_WS_WRITING);
    assert_true(g_write_next(G_WS_WRITING, G_RS_COMMITTED, G_EV_WRITE_OK, &n));
    assert_int_equal(n, G_WS_WRITTEN);
    assert_true(g_write_next(G_WS_WRITING, G_RS_COMMITTED, G_EV_WRITE_RETRYABLE, &n));
    assert_int_equal(n, G_WS_FAILED_RETRYABLE);
    assert_true(g_write_next(G_WS_FAILED_RETRYABLE, G_RS_DUPLICATE, G_EV_GATE_OPEN, &n));
    assert_true(g_write_next(G_WS_FAILED_RETRYABLE, G_RS_REJECTED, G_EV_DEADLINE, &n));
    assert_int_equal(n, G_WS_FAILED_TERMINAL);
    assert_true(g_write_next(G_WS_PENDING, G_RS_CONFLICTED, G_EV_DEADLINE, &n));
    assert_true(g_write_next(G_WS_WRITING, G_RS_COMMITTED, G_EV_WRITE_FATAL, &n));
    assert_int_equal(n, G_WS_FAILED_TERMINAL);
    /* written and terminal are final */
    assert_false(g_write_next(G_WS_WRITTEN, G_RS_COMMITTED, G_EV_DEADLINE, &n));
    assert_false(g_write_next(G_WS_WRITTEN, G_RS_COMMITTED, G_EV_GATE_OPEN, &n));
    assert_false(g_write_next(G_WS_FAILED_TERMINAL, G_RS_COMMITTED, G_EV_GATE_OPEN, &n));
    /* pending never jumps to written */
    assert_false(g_write_next(G_WS_PENDING, G_RS_COMMITTED, G_EV_WRITE_OK, &n));
    /* pairing: `new` never ends written or terminal */
    assert_false(g_write_next(G_WS_PENDING, G_RS_NEW, G_EV_GATE_OPEN, &n));
    assert_false(g_write_next(G_WS_PENDING, G_RS_NEW, G_EV_DEADLINE, &n));
    assert_false(g_write_next(G_WS_WRITING, G_RS_NEW, G_EV_WRITE_OK, &n));
    assert_true(g_write_next(G_WS_WRITING, G_RS_NEW, G_EV_WRITE_RETRYABLE, &n));
}

static void names_round_trip(void **state)
{
    (void)state;
    g_write_status ws;
    assert_int_equal(g_write_status_parse("write_failed_retryable", &ws), 0);
    assert_int_equal(ws, G_WS_FAILED_RETRYABLE);
    assert_int_equal(g_write_status_parse("done", &ws), -1);
    g_record_type t;
    assert_int_equal(g_record_type_parse("billable_fact", &t), 0);
    assert_string_equal(g_record_type_name(t), "billable_fact");
    g_record_status s;
    assert_int_equal(g_record_status_parse("superseded", &s), 0);
    assert_int_equal(g_record_status_parse("", &s), -1);
    assert_string_equal(g_group_state_name(G_GS_CONSISTENT_NON_BILLABLE), "consistent_non_billable");
}

static void failures_classify_and_ladder(void **state)
{
    (void)state;
    g_write_failure f = g_write_failure_classify(MED_ERR_TIMEOUT, MED_R_INFRA_PG_TIMEOUT);
    assert_string_equal(f.reason, MED_R_G_ARCHIVE_WRITE_TIMEOUT);
    assert_true(f.retryable);
    f = g_write_failure_classify(MED_ERR_UNAVAILABLE, MED_R_INFRA_PG_UNAVAILABLE);
    assert_string_equal(f.reason, MED_R_G_ARCHIVE_TEMPORARILY_UNAVAILABLE);
    f = g_write_failure_classify(MED_ERR_IO, MED_R_G_ARCHIVE_RATE_LIMITED);
    assert_string_equal(f.reason, MED_R_G_ARCHIVE_RATE_LIMITED);
    assert_true(f.retryable);
    f = g_write_failure_classify(MED_ERR_INVALID, MED_R_INFRA_PG_INVALID);
    assert_string_equal(f.reason, MED_R_INFRA_PG_INVALID);
    assert_false(f.retryable);
    assert_int_equal(g_write_retry_delay_ms(1), 1000);
    assert_int_equal(g_write_retry_delay_ms(2), 5000);
    assert_int_equal(g_write_retry_delay_ms(3), 30000);
    assert_int_equal(g_write_retry_delay_ms(4), 120000);
    assert_int_equal(g_write_retry_delay_ms(9), 120000);
    assert_false(g_write_deadline_passed(0, MIN15 - 1, MIN15));
    assert_true(g_write_deadline_passed(0, MIN15, MIN15));
}

static void write_order_is_type_then_output_at_then_key(void **state)
{
    (void)state;
    g_group_row rows[5] = {
        row("k9", G_RT_ATTRIBUTION_FACT, G_RS_COMMITTED, G_WS_PENDING, "", 10),
        row("kb", G_RT_BILLABLE_FACT, G_RS_COMMITTED, G_WS_PENDING, "", 20),
        row("ka", G_RT_BILLABLE_FACT, G_RS_COMMITTED, G_WS_PENDING, "", 20),
        row("kz", G_RT_DECISION_AUDIT, G_RS_COMMITTED, G_WS_PENDING, "", 30),
        row("k0", G_RT_BILLABLE_FACT, G_RS_COMMITTED, G_WS_PENDING, "", 5),
    };
    qsort(rows, 5, sizeof rows[0], g_group_row_cmp);
    assert_string_equal(rows[0].record_key, "kz");
    assert_string_equal(rows[1].record_key, "k0");
    assert_string_equal(rows[2].record_key, "ka");
    assert_string_equal(rows[3].record_key, "kb");
    assert_string_equal(rows[4].record_key, "k9");
}

/* G.9 case 7: a billable_fact before its decision_audit waits. */
static void fact_waits_for_its_decision_audit(void **state)
{
    (void)state;
    g_group_row rows[2] = {
        row("bill", G_RT_BILLABLE_FACT, G_RS_COMMITTED, G_WS_PENDING, "evt1", 10),
        row("attr", G_RT_ATTRIBUTION_FACT, G_RS_COMMITTED, G_WS_PENDING, "evt1", 11),
    };
    g_row_update u[3];
    assert_int_equal(g_group_plan(rows, 2, 2000, &k_policy, u), 2);
    assert_int_equal(u[0].ws, G_WS_PENDING);
    assert_string_equal(u[0].reason, MED_R_G_ARCHIVE_WAITING_DECISION_AUDIT);
    assert_int_equal(u[0].next_attempt_ms, 2000 + 5000);
    assert_int_equal(u[1].ws, G_WS_PENDING);
    /* the audit of another event does not open it */
    g_group_row other[3] = {
        rows[0], rows[1], row("da2", G_RT_DECISION_AUDIT, G_RS_COMMITTED, G_WS_WRITTEN, "evt2", 5),
    };
    unsigned char open[3];
    assert_int_equal(g_gate_open(other, 3, open), 0);
    /* its own audit arriving opens audit and facts in one plan */
    g_group_row all[3] = {
        rows[0], rows[1], row("da1", G_RT_DECISION_AUDIT, G_RS_COMMITTED, G_WS_PENDING, "evt1", 9),
    };
    assert_int_equal(g_group_plan(all, 3, 3000, &k_policy, u), 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(u[i].ws, G_WS_WRITTEN);
        assert_null(u[i].reason);
    }
}

static void new_records_never_leave_pending(void **state)
{
    (void)state;
    g_group_row rows[2] = {
        row("da", G_RT_DECISION_AUDIT, G_RS_NEW, G_WS_PENDING, "e", 1),
        row("bill", G_RT_BILLABLE_FACT, G_RS_COMMITTED, G_WS_PENDING, "e", 2),
    };
    g_row_update u[2];
    g_group_plan(rows, 2, 1000 + MIN15 + 1, &k_policy, u);
    assert_false(u[0].change); /* even past the window */
    assert_int_equal(u[1].ws, G_WS_FAILED_TERMINAL);
    assert_string_equal(u[1].reason, MED_R_G_ARCHIVE_COMPENSATION_EXHAUSTED);
}

/* G.9 case 8: 15 min of g_archive_write_timeout -> terminal, partial_timeout. */
static void timeouts_retry_on_ladder_then_exhaust(void **state)
{
    (void)state;
    g_group_row da = row("da", G_RT_DECISION_AUDIT, G_RS_COMMITTED, G_WS_PENDING, "e", 1);
    g_write_failure f = g_write_failure_classify(MED_ERR_TIMEOUT, NULL);
    g_row_update u;
    int64_t now = 1000;
    int64_t expected[] = { 1000, 5000, 30000, 120000, 120000 };
    for (int i = 0; i < 5; i++) {
        g_failure_plan(&da, &f, now, &k_policy, &u);
        assert_true(u.change);
        assert_int_equal(u.ws, G_WS_FAILED_RETRYABLE);
        assert_string_equal(u.reason, MED_R_G_ARCHIVE_WRITE_TIMEOUT);
        assert_int_equal(u.next_attempt_ms, now + expected[i]);
        assert_int_equal(u.attempt, 1);
        da.ws = u.ws;
        da.write_attempts++;
        now = u.next_attempt_ms;
    }
    /* the last retry is never scheduled past the deadline */
    da.write_attempts = 7;
    g_failure_plan(&da, &f, 1000 + MIN15 - 10, &k_policy, &u);
    assert_int_equal(u.next_attempt_ms, 1000 + MIN15);
    g_failure_plan(&da, &f, 1000 + MIN15, &k_policy, &u);
    assert_int_equal(u.ws, G_WS_FAILED_TERMINAL);
    assert_string_equal(u.reason, MED_R_G_ARCHIVE_COMPENSATION_EXHAUSTED);
    /* a non-retryable failure is terminal at once with its own code */
    g_write_failure bad = { MED_R_INFRA_PG_INVALID, 0 };
    da.ws = G_WS_PENDING;
    g_failure_plan(&da, &bad, 2000, &k_policy, &u);
    assert_int_equal(u.ws, G_WS_FAILED_TERMINAL);
    assert_string_equal(u.reason, MED_R_INFRA_PG_INVALID);
}

static void group_states_first_match(void **state)
{
    (void)state;
    g_group_row rows[3] = {
        row("da", G_RT_DECISION_AUDIT, G_RS_COMMITTED, G_WS_WRITTEN, "e", 1),
        row("bill", G_RT_BILLABLE_FACT, G_RS_COMMITTED, G_WS_WRITTEN, "e", 2),
        row("attr", G_RT_ATTRIBUTION_FACT, G_RS_COMMITTED, G_WS_WRITTEN, "e", 3),
    };
    assert_int_equal(g_group_state_of(rows, 3), G_GS_CONSISTENT_COMMITTED);
    rows[2].ws = G_WS_FAILED_RETRYABLE;
    assert_int_equal(g_group_state_of(rows, 3), G_GS_PARTIAL_PENDING);
    rows[1].ws = G_WS_FAILED_TERMINAL;
    assert_int_equal(g_group_state_of(rows, 3), G_GS_PARTIAL_TIMEOUT);
    rows[1].ws = G_WS_WRITTEN;
    rows[2].ws = G_WS_WRITTEN;
    rows[1].status = G_RS_DUPLICATE;
    assert_int_equal(g_group_state_of(rows, 3), G_GS_CONSISTENT_NON_BILLABLE);
    assert_int_equal(g_group_state_of(rows, 1), G_GS_CONSISTENT_NON_BILLABLE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(state_machine_follows_g4),
        cmocka_unit_test(names_round_trip),
        cmocka_unit_test(failures_classify_and_ladder),
        cmocka_unit_test(write_order_is_type_then_output_at_then_key),
        cmocka_unit_test(fact_waits_for_its_decision_audit),
        cmocka_unit_test(new_records_never_leave_pending),
        cmocka_unit_test(timeouts_retry_on_ladder_then_exhaust),
        cmocka_unit_test(group_states_first_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
