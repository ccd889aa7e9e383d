/* tools/dlq: table-only dead letters (F's outbox sweeper, G's quarantine):
 * their ids, which writer a row comes from, what a re-drive of each does,
 * the re-drive message id and F's records as an operator reads them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dlq_opts.h"
#include "dlq_table.h"
#include "med/names.h"
#include "mediation/v1/archive.pb-c.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])))

static void ids_never_collide(void **state)
{
    (void)state;
    dlq_id id;
    assert_int_equal(dlq_id_parse("42", &id), 0);
    assert_int_equal(id.n, 42);
    assert_false(id.table);
    assert_int_equal(dlq_id_parse("t42", &id), 0);
    assert_int_equal(id.n, 42);
    assert_true(id.table);
    const char *bad[] = {"", "t", "t0", "0", "-1", "t-1", "x1", "t1x", "12 ", "T5", "tt5",
                         "99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(dlq_id_parse(bad[i], &id), -1);
    char out[32];
    dlq_id_format((dlq_id){7, 1}, out, sizeof out);
    assert_string_equal(out, "t7");
    dlq_id_format((dlq_id){7, 0}, out, sizeof out);
    assert_string_equal(out, "7");

    dlq_opts o;
    char why[256];
    char *mixed[] = {"dlq", "redrive", "12", "t3", "--dry-run"};
    assert_int_equal(dlq_opts_parse(ARGC(mixed), mixed, &o, why, sizeof why), 0);
    assert_int_equal(o.n_ids, 2);
    assert_false(o.ids[0].table);
    assert_true(o.ids[1].table);
    assert_int_equal(o.ids[1].n, 3);
    char *show[] = {"dlq", "show", "t9"};
    assert_int_equal(dlq_opts_parse(ARGC(show), show, &o, why, sizeof why), 0);
    assert_true(o.ids[0].table);
    char *bad_show[] = {"dlq", "show", "t"};
    assert_int_equal(dlq_opts_parse(ARGC(bad_show), bad_show, &o, why, sizeof why), -1);
}

static void kind_of_the_writer(void **state)
{
    (void)state;
    assert_int_equal(dlq_table_kind_of(MED_STAGE_F, "", MED_SUBJ_G_ARCHIVE), DLQ_TABLE_F_OUTBOX);
    assert_int_equal(dlq_table_kind_of(MED_STAGE_F, NULL, MED_SUBJ_G_ARCHIVE), DLQ_TABLE_F_OUTBOX);
    /* F dead-lettering a stream delivery is not an outbox row */
    assert_int_equal(dlq_table_kind_of(MED_STAGE_F, "MED_EVENTS", MED_SUBJ_G_ARCHIVE),
                     DLQ_TABLE_UNKNOWN);
    assert_int_equal(dlq_table_kind_of(MED_STAGE_F, "", "med.x.v1"), DLQ_TABLE_UNKNOWN);
    assert_int_equal(dlq_table_kind_of(MED_STAGE_G, "MED_ARCHIVE", MED_SUBJ_G_ARCHIVE),
                     DLQ_TABLE_G_QUARANTINE);
    assert_int_equal(dlq_table_kind_of(MED_STAGE_G, "", MED_SUBJ_G_ARCHIVE), DLQ_TABLE_UNKNOWN);
    assert_int_equal(dlq_table_kind_of("b", "MED_CHAIN", "med.b.seed.v1"), DLQ_TABLE_UNKNOWN);
    assert_int_equal(dlq_table_kind_of(NULL, NULL, NULL), DLQ_TABLE_UNKNOWN);

    Mediation__V1__DeadLetter dl = MEDIATION__V1__DEAD_LETTER__INIT;
    dl.stage = MED_STAGE_F;
    dl.failed_subject = MED_SUBJ_G_ARCHIVE;
    assert_true(dlq_is_f_outbox_letter(&dl));
    dl.stream = "MED_EVENTS";
    assert_false(dlq_is_f_outbox_letter(&dl));
}

static void what_a_redrive_does(void **state)
{
    (void)state;
    /* F: re-arm the outbox, once unless forced */
    assert_int_equal(dlq_table_plan_of(DLQ_TABLE_F_OUTBOX, "open", 0), DLQ_TPLAN_REARM_OUTBOX);
    assert_int_equal(dlq_table_plan_of(DLQ_TABLE_F_OUTBOX, "redriven", 0), DLQ_TPLAN_REFUSE_DONE);
    assert_int_equal(dlq_table_plan_of(DLQ_TABLE_F_OUTBOX, "discarded", 0),
                     DLQ_TPLAN_REFUSE_DISCARDED);
    assert_int_equal(dlq_table_plan_of(DLQ_TABLE_F_OUTBOX, "redriven", 1), DLQ_TPLAN_REARM_OUTBOX);
    /* G: an invalid record is never republished without --force */
    assert_int_equal(dlq_table_plan_of(DLQ_TABLE_G_QUARANTINE, "open", 0),
                     DLQ_TPLAN_REFUSE_INVALID);
    assert_int_equal(dlq_table_plan_of(DLQ_TABLE_G_QUARANTINE, "open", 1), DLQ_TPLAN_REPUBLISH);
    assert_int_equal(dlq_table_plan_of(DLQ_TABLE_G_QUARANTINE, "redriven", 0),
                     DLQ_TPLAN_REFUSE_DONE);
    /* an unknown writer: nothing safe to do, even forced */
    assert_int_equal(dlq_table_plan_of(DLQ_TABLE_UNKNOWN, "open", 1), DLQ_TPLAN_UNSUPPORTED);
    assert_true(dlq_table_plan_refused(DLQ_TPLAN_REFUSE_INVALID));
    assert_true(dlq_table_plan_refused(DLQ_TPLAN_REFUSE_DONE));
    assert_false(dlq_table_plan_refused(DLQ_TPLAN_UNSUPPORTED));
    assert_false(dlq_table_plan_refused(DLQ_TPLAN_REARM_OUTBOX));
}

static void quarantine_redrive_msg_id(void **state)
{
    (void)state;
    dlq_table_item it;
    memset(&it, 0, sizeof it);
    it.id = 17;
    strcpy(it.stage, "g");
    strcpy(it.msg_id, "rk_abc");
    char id[128];
    assert_int_equal(dlq_table_msg_id(&it, 0, 5, id, sizeof id), 0);
    assert_string_equal(id, "rk_abc.redrive.t17");
    assert_int_equal(dlq_table_msg_id(&it, 1, 5, id, sizeof id), 0);
    assert_string_equal(id, "rk_abc.redrive.t17.5");
    it.msg_id[0] = '\0';
    assert_int_equal(dlq_table_msg_id(&it, 0, 5, id, sizeof id), 0);
    assert_string_equal(id, "redrive.g.t17");
    assert_int_equal(dlq_table_msg_id(&it, 0, 5, id, 8), -1);
}

static void outbox_records_readable(void **state)
{
    (void)state;
    Mediation__V1__FToGArchiveRecordLite r[2] = {MEDIATION__V1__FTO_GARCHIVE_RECORD_LITE__INIT,
                                                MEDIATION__V1__FTO_GARCHIVE_RECORD_LITE__INIT};
    r[0].record_key = "rk_one";
    r[0].record_type = "billable_fact";
    r[0].record_status = "new";
    r[1].record_key = "rk_two";
    r[1].record_type = "decision_audit";
    Mediation__V1__FToGArchiveRecordLite *rp[2] = {&r[0], &r[1]};
    Mediation__V1__FOutboxRecords recs = MEDIATION__V1__FOUTBOX_RECORDS__INIT;
    recs.records = rp;
    recs.n_records = 2;
    uint8_t buf[512];
    size_t len = mediation__v1__foutbox_records__pack(&recs, buf);
    char *text = dlq_outbox_records_text(buf, len);
    assert_non_null(text);
    assert_string_equal(text, "records: 2\n  billable_fact rk_one [new]\n"
                              "  decision_audit rk_two\n");
    free(text);
    const uint8_t junk[] = {0xff, 0xff};
    assert_null(dlq_outbox_records_text(junk, sizeof junk));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ids_never_collide),
        cmocka_unit_test(kind_of_the_writer),
        cmocka_unit_test(what_a_redrive_does),
        cmocka_unit_test(quarantine_redrive_msg_id),
        cmocka_unit_test(outbox_records_readable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
