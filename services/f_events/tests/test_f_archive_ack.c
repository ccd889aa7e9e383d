/* F.8 compensation driven by G's ArchiveWriteAck: ack -> action, the
 * ladder from the first failure, exhaustion, reply subject, resend id. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "f_archive_ack.h"
#include "med/names.h"
#include "med/reason.h"

static void retryable_codes_retry(void **state)
{
    (void)state;
    const char *code = NULL;
    const char *retry[] = { MED_R_G_ARCHIVE_WRITE_TIMEOUT, MED_R_G_ARCHIVE_TEMPORARILY_UNAVAILABLE,
                            MED_R_G_ARCHIVE_RATE_LIMITED };
    for (int i = 0; i < 3; i++) {
        /* the code alone makes it retryable, whatever the flag says */
        assert_int_equal(f_archive_ack_decide("write_failed_retryable", retry[i], 0, &code), F_ACK_RETRY);
        assert_string_equal(code, retry[i]);
        assert_int_equal(f_archive_ack_decide("pending", retry[i], 0, &code), F_ACK_RETRY);
    }
    /* retryable=true with an unlisted code is retried too */
    assert_int_equal(f_archive_ack_decide("write_failed_retryable", "g_archive_other", 1, &code), F_ACK_RETRY);
    assert_string_equal(code, "g_archive_other");
    assert_int_equal(f_archive_ack_decide("write_failed_retryable", "", 0, &code), F_ACK_RETRY);
    assert_string_equal(code, MED_R_G_ARCHIVE_TEMPORARILY_UNAVAILABLE);
}

static void non_retryable_codes_conflict_with_that_code(void **state)
{
    (void)state;
    const char *code = NULL;
    assert_int_equal(f_archive_ack_decide("write_failed_terminal", MED_R_G_ARCHIVE_RECORDKEY_PAYLOAD_CONFLICT,
                                          0, &code), F_ACK_CONFLICT);
    assert_string_equal(code, MED_R_G_ARCHIVE_RECORDKEY_PAYLOAD_CONFLICT);
    /* a payload conflict against a written row is still refused */
    assert_int_equal(f_archive_ack_decide("written", MED_R_G_ARCHIVE_RECORDKEY_PAYLOAD_CONFLICT, 0, &code),
                     F_ACK_CONFLICT);
    assert_int_equal(f_archive_ack_decide("write_failed_terminal", MED_R_G_INGEST_INVALID_RECORD, 0, &code),
                     F_ACK_CONFLICT);
    assert_string_equal(code, MED_R_G_INGEST_INVALID_RECORD);
    assert_int_equal(f_archive_ack_decide("write_failed_terminal", MED_R_G_ARCHIVE_COMPENSATION_EXHAUSTED, 0,
                                          &code), F_ACK_CONFLICT);
    assert_string_equal(code, MED_R_G_ARCHIVE_COMPENSATION_EXHAUSTED);
    assert_int_equal(f_archive_ack_decide("write_failed_terminal", "", 0, &code), F_ACK_CONFLICT);
    assert_string_equal(code, MED_R_G_ARCHIVE_COMPENSATION_EXHAUSTED);
}

static void written_and_progress(void **state)
{
    (void)state;
    const char *code = "x";
    assert_int_equal(f_archive_ack_decide("written", "", 0, &code), F_ACK_WRITTEN);
    assert_null(code);
    /* a stale stored reason on a written row does not undo the write */
    assert_int_equal(f_archive_ack_decide("written", MED_R_G_ARCHIVE_WAITING_DECISION_AUDIT, 0, &code),
                     F_ACK_WRITTEN);
    /* a fact held for its decision_audit is G's work, not a failure */
    assert_int_equal(f_archive_ack_decide("pending", MED_R_G_ARCHIVE_WAITING_DECISION_AUDIT, 0, &code),
                     F_ACK_NOTHING);
    assert_int_equal(f_archive_ack_decide("writing", NULL, 0, &code), F_ACK_NOTHING);
}

static void ladder_from_first_failure_then_exhausted(void **state)
{
    (void)state;
    f_windows w;
    f_windows_default(&w);
    assert_int_equal(w.compensation_ms, 15 * 60 * 1000);
    const int64_t t0 = 1700000000000LL;
    assert_int_equal(f_comp_first_delay_ms(t0, t0, &w), 1000);
    /* G answered retryably at t0 (failure 1): resend at 1 s with attempt
     * 2, then 5 s, 30 s, 120 s, 120 s ... between resends */
    int failures = 1, out = 0;
    int64_t now = t0 + 1000, next = 0;
    const int64_t gaps[] = { 5000, 30000, 120000, 120000, 120000 };
    for (int i = 0; i < 5; i++) {
        assert_int_equal(f_comp_due(failures, t0, now, &w, &out, &next), F_COMP_RESEND);
        assert_int_equal(out, failures + 1);
        assert_int_equal(next - now, gaps[i]);
        failures = out;
        now = next;
    }
    /* keep going: the last resend is moved to the deadline, which ends it */
    int resends = 5;
    while (f_comp_due(failures, t0, now, &w, &out, &next) == F_COMP_RESEND) {
        assert_true(next <= t0 + w.compensation_ms);
        failures = out;
        now = next;
        resends++;
        assert_true(resends < 20);
    }
    assert_true(now >= t0 + w.compensation_ms);
    assert_int_equal(out, failures);
    assert_int_equal(next, 0);
    /* resends at 1, 6, 36, 156 s, then every 120 s while before 900 s
     * (276 .. 876): 10 in all; the one due at 900 s ends it */
    assert_int_equal(resends, 10);
}

static void due_after_window_is_exhausted(void **state)
{
    (void)state;
    f_windows w;
    f_windows_default(&w);
    w.compensation_ms = 4000;
    int out = 0;
    int64_t next = 0;
    const int64_t t0 = 100000;
    /* the 5 s step would pass the window: moved to its end */
    assert_int_equal(f_comp_due(1, t0, t0 + 1000, &w, &out, &next), F_COMP_RESEND);
    assert_int_equal(out, 2);
    assert_int_equal(next, t0 + 4000);
    assert_int_equal(f_comp_due(2, t0, t0 + 4000, &w, &out, &next), F_COMP_EXHAUSTED);
    assert_int_equal(f_comp_due(2, t0, t0 + 9000, &w, &out, &next), F_COMP_EXHAUSTED);
}

static void reply_subject_round_trips(void **state)
{
    (void)state;
    char subj[1024], t[160], k[400];
    assert_int_equal(f_archive_ack_subject("t_app.1", "batch:edge req/01 *>", subj, sizeof subj), 0);
    assert_int_equal(strncmp(subj, MED_SUBJ_F_ARCHIVE_ACK ".", strlen(MED_SUBJ_F_ARCHIVE_ACK) + 1), 0);
    /* exactly two tokens after the prefix, none a wildcard */
    const char *rest = subj + strlen(MED_SUBJ_F_ARCHIVE_ACK) + 1;
    assert_non_null(strchr(rest, '.'));
    assert_null(strchr(strchr(rest, '.') + 1, '.'));
    assert_null(strpbrk(rest, " *>"));
    assert_int_equal(f_archive_ack_subject_parse(subj, t, sizeof t, k, sizeof k), 0);
    assert_string_equal(t, "t_app.1");
    assert_string_equal(k, "batch:edge req/01 *>");
    assert_int_equal(f_archive_ack_subject_parse("med.f.events.v1.a.b", t, sizeof t, k, sizeof k), -1);
    assert_int_equal(f_archive_ack_subject_parse(MED_SUBJ_F_ARCHIVE_ACK ".dA", t, sizeof t, k, sizeof k), -1);
    assert_int_equal(f_archive_ack_subject("", "k", subj, sizeof subj), -1);
    assert_int_equal(f_archive_ack_subject("t", "k", subj, 10), -1);
}

static void resend_msg_id_differs_per_attempt(void **state)
{
    (void)state;
    char a[128], b[128];
    assert_int_equal(f_archive_resend_msg_id("rk", 1, a, sizeof a), 0);
    assert_string_equal(a, "rk");
    assert_int_equal(f_archive_resend_msg_id("rk", 2, a, sizeof a), 0);
    assert_string_equal(a, "rk:c2");
    assert_int_equal(f_archive_resend_msg_id("rk", 2, b, sizeof b), 0);
    assert_string_equal(a, b);
    assert_int_equal(f_archive_resend_msg_id("rk", 3, b, sizeof b), 0);
    assert_string_not_equal(a, b);
    assert_int_equal(f_archive_resend_msg_id("rk", 3, b, 4), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(retryable_codes_retry),
        cmocka_unit_test(non_retryable_codes_conflict_with_that_code),
        cmocka_unit_test(written_and_progress),
        cmocka_unit_test(ladder_from_first_failure_then_exhausted),
        cmocka_unit_test(due_after_window_is_exhausted),
        cmocka_unit_test(reply_subject_round_trips),
        cmocka_unit_test(resend_msg_id_differs_per_attempt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
