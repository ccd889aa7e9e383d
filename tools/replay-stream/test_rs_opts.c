/* replay-stream options and per-message rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "rs_opts.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])))

static int parse(int argc, char **argv, rs_opts *o, char *why)
{
    return rs_opts_parse(argc, argv, o, why, 256);
}

static void sequence_range(void **state)
{
    (void)state;
    char *argv[] = {"rs", "--subject", "med.f.events.v1", "--from-seq", "10", "--to-seq", "12",
                    "--to", "shadow.f.events.v1", "--dry-run"};
    rs_opts o;
    char why[256];
    assert_int_equal(parse(ARGC(argv), argv, &o, why), 0);
    assert_int_equal(o.range, RS_RANGE_SEQ);
    assert_int_equal(o.from_seq, 10);
    assert_int_equal(o.to_seq, 12);
    assert_string_equal(o.to, "shadow.f.events.v1");
    assert_true(o.dry_run);
    assert_int_equal(rs_select(&o, 9, 0, 100, 0), RS_SKIP);
    assert_int_equal(rs_select(&o, 10, 0, 100, 0), RS_SEND);
    assert_int_equal(rs_select(&o, 12, 0, 100, 2), RS_SEND);
    assert_int_equal(rs_select(&o, 13, 0, 100, 3), RS_STOP);
    /* published after the run started: not part of it */
    assert_int_equal(rs_select(&o, 11, 0, 10, 1), RS_STOP);
}

static void time_range_with_offsets(void **state)
{
    (void)state;
    char *argv[] = {"rs", "--subject", "med.f.events.v1", "--since", "2026-03-10T10:00:00Z",
                    "--until", "2026-03-10T12:00:00+01:00", "--rate", "50"};
    rs_opts o;
    char why[256];
    assert_int_equal(parse(ARGC(argv), argv, &o, why), 0);
    assert_int_equal(o.range, RS_RANGE_TIME);
    int64_t since = 0;
    assert_int_equal(rs_parse_time_ms("2026-03-10T10:00:00.000Z", &since), 0);
    assert_int_equal(o.since_ms, since);
    assert_int_equal(o.until_ms - o.since_ms, 3600000); /* 12:00+01:00 is 11:00Z */
    assert_true(o.rate == 50.0);
}

static void rejects_bad_ranges(void **state)
{
    (void)state;
    rs_opts o;
    char why[256];
    char *both[] = {"rs", "--subject", "s", "--since", "2026-03-10T10:00:00Z", "--from-seq", "1"};
    assert_int_equal(parse(ARGC(both), both, &o, why), -1);
    char *none[] = {"rs", "--subject", "s"};
    assert_int_equal(parse(ARGC(none), none, &o, why), -1);
    char *empty[] = {"rs", "--subject", "s", "--since", "2026-03-10T10:00:00Z", "--until",
                     "2026-03-10T11:00:00+01:00"};
    assert_int_equal(parse(ARGC(empty), empty, &o, why), -1);
    char *back[] = {"rs", "--subject", "s", "--from-seq", "5", "--to-seq", "4"};
    assert_int_equal(parse(ARGC(back), back, &o, why), -1);
    char *zero[] = {"rs", "--subject", "s", "--from-seq", "0"};
    assert_int_equal(parse(ARGC(zero), zero, &o, why), -1);
    char *wild[] = {"rs", "--subject", "s", "--from-seq", "1", "--to", "shadow.>"};
    assert_int_equal(parse(ARGC(wild), wild, &o, why), -1);
    char *runid[] = {"rs", "--subject", "s", "--from-seq", "1", "--run-id", "x"};
    assert_int_equal(parse(ARGC(runid), runid, &o, why), -1);
    char *badt[] = {"rs", "--subject", "s", "--since", "yesterday"};
    assert_int_equal(parse(ARGC(badt), badt, &o, why), -1);
    char *nosubj[] = {"rs", "--from-seq", "1"};
    assert_int_equal(parse(ARGC(nosubj), nosubj, &o, why), -1);
    char *help[] = {"rs", "--help"};
    assert_int_equal(parse(ARGC(help), help, &o, why), 1);
}

static void time_selection_and_limit(void **state)
{
    (void)state;
    char *argv[] = {"rs", "--subject", "s", "--since", "2026-03-10T10:00:00Z", "--until",
                    "2026-03-10T10:00:10Z", "--limit", "2"};
    rs_opts o;
    char why[256];
    assert_int_equal(parse(ARGC(argv), argv, &o, why), 0);
    int64_t t0 = o.since_ms;
    assert_int_equal(rs_select(&o, 1, t0 - 1, 100, 0), RS_SKIP);
    assert_int_equal(rs_select(&o, 2, t0, 100, 0), RS_SEND);
    assert_int_equal(rs_select(&o, 3, t0 + 9999, 100, 1), RS_SEND);
    assert_int_equal(rs_select(&o, 4, t0 + 5000, 100, 2), RS_STOP); /* --limit 2 */
    assert_int_equal(rs_select(&o, 4, t0 + 10000, 100, 1), RS_STOP); /* until is exclusive */
}

static void rewritten_ids_and_pacing(void **state)
{
    (void)state;
    char out[128];
    assert_int_equal(rs_rewrite_msg_id("f:evt_1", "shadow1", "MED_EVENTS", 7, out, sizeof out), 0);
    assert_string_equal(out, "f:evt_1.replay.shadow1");
    assert_int_equal(rs_rewrite_msg_id("", "shadow1", "MED_EVENTS", 7, out, sizeof out), 0);
    assert_string_equal(out, "replay.shadow1.MED_EVENTS.7");
    assert_int_equal(rs_rewrite_msg_id("x", "y", "z", 1, out, 4), -1);
    assert_int_equal(rs_pace_offset_ms(0, 10), 0);
    assert_int_equal(rs_pace_offset_ms(5, 10), 500);
    assert_int_equal(rs_pace_offset_ms(5, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sequence_range),
        cmocka_unit_test(time_range_with_offsets),
        cmocka_unit_test(rejects_bad_ranges),
        cmocka_unit_test(time_selection_and_limit),
        cmocka_unit_test(rewritten_ids_and_pacing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
