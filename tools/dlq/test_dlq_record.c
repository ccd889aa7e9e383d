/* tools/dlq: command line, the dead_letter_records row of a DeadLetter,
 * and the re-drive rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "dlq_opts.h"
#include "dlq_record.h"
#include "med/names.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])))

typedef struct fixture {
    Mediation__V1__DeadLetter dl;
    Mediation__V1__TraceContext tc;
    Mediation__V1__DeadLetter__HeadersEntry h[2];
    Mediation__V1__DeadLetter__HeadersEntry *hp[2];
    Mediation__V1__RetryAttempt a;
    Mediation__V1__RetryAttempt *ap[1];
    uint8_t payload[3];
} fixture;

static void fixture_init(fixture *f)
{
    memset(f, 0, sizeof *f);
    mediation__v1__dead_letter__init(&f->dl);
    mediation__v1__trace_context__init(&f->tc);
    f->tc.trace_key = "tr_1";
    f->tc.request_key = "req_1";
    f->dl.trace = &f->tc;
    f->dl.stage = "b";
    f->dl.failed_subject = "med.b.seed.v1";
    f->dl.stream = "MED_CHAIN";
    f->dl.consumer = "stage_b";
    f->dl.stream_seq = 42;
    f->dl.reason_code = "infra_fault_injected";
    f->dl.msg_id = "b:req_1";
    f->dl.num_delivered = 3;
    f->dl.dead_at_unix_ms = 1767225600000LL;
    for (int i = 0; i < 2; i++) mediation__v1__dead_letter__headers_entry__init(&f->h[i]);
    f->h[0].key = "Med-Tenant";
    f->h[0].value = "t_hdr";
    f->h[1].key = "Nats-Msg-Id";
    f->h[1].value = "b:req_1";
    f->hp[0] = &f->h[0];
    f->hp[1] = &f->h[1];
    f->dl.headers = f->hp;
    f->dl.n_headers = 2;
    mediation__v1__retry_attempt__init(&f->a);
    f->a.attempt = 1;
    f->a.error_code = "infra_fault_injected";
    f->ap[0] = &f->a;
    f->dl.history = f->ap;
    f->dl.n_history = 1;
    f->payload[0] = 0x0a;
    f->payload[1] = 0xff;
    f->payload[2] = 0x00;
    f->dl.payload.data = f->payload;
    f->dl.payload.len = 3;
}

static void row_carries_origin_and_payload(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f);
    json_t *row = dlq_row_json(&f.dl, 7);
    assert_non_null(row);
    assert_string_equal(json_string_value(json_object_get(row, "tenant_id")), "t_hdr");
    assert_string_equal(json_string_value(json_object_get(row, "stream")), "MED_CHAIN");
    assert_string_equal(json_string_value(json_object_get(row, "consumer")), "stage_b");
    assert_int_equal(json_integer_value(json_object_get(row, "stream_seq")), 42);
    assert_string_equal(json_string_value(json_object_get(row, "payload")), "\\x0aff00");
    assert_string_equal(json_string_value(json_object_get(row, "trace_key")), "tr_1");
    assert_string_equal(json_string_value(json_object_get(json_object_get(row, "headers"),
                                                          "Nats-Msg-Id")),
                        "b:req_1");
    assert_int_equal(json_array_size(json_object_get(row, "history")), 1);
    json_decref(row);
}

static void tenant_and_origin_fallbacks(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f);
    f.dl.tenant_id = "t_dl";
    assert_string_equal(dlq_tenant_of(&f.dl), "t_dl");
    f.dl.tenant_id = "";
    f.dl.n_headers = 0;
    assert_string_equal(dlq_tenant_of(&f.dl), DLQ_PLATFORM_TENANT);
    /* not from a stream: keyed by its own place in MED_DLQ */
    f.dl.stream = "";
    dlq_origin o;
    dlq_origin_of(&f.dl, 99, &o);
    assert_string_equal(o.stream, MED_STREAM_DLQ);
    assert_string_equal(o.consumer, "");
    assert_int_equal(o.seq, 99);
}

static void redrive_once_unless_forced(void **state)
{
    (void)state;
    assert_int_equal(dlq_redrive_check(NULL, 0), DLQ_REDRIVE_GO);
    assert_int_equal(dlq_redrive_check("open", 0), DLQ_REDRIVE_GO);
    assert_int_equal(dlq_redrive_check("redriven", 0), DLQ_REDRIVE_ALREADY_DONE);
    assert_int_equal(dlq_redrive_check("discarded", 0), DLQ_REDRIVE_DISCARDED);
    assert_int_equal(dlq_redrive_check("redriven", 1), DLQ_REDRIVE_GO);
    fixture f;
    fixture_init(&f);
    char id[128];
    assert_int_equal(dlq_redrive_msg_id(&f.dl, 7, 0, 5, id, sizeof id), 0);
    assert_string_equal(id, "b:req_1.redrive.7");
    assert_int_equal(dlq_redrive_msg_id(&f.dl, 7, 1, 5, id, sizeof id), 0);
    assert_string_equal(id, "b:req_1.redrive.7.5");
    f.dl.msg_id = "";
    assert_int_equal(dlq_redrive_msg_id(&f.dl, 7, 0, 5, id, sizeof id), 0);
    assert_string_equal(id, "redrive.b.7");
}

static void command_lines(void **state)
{
    (void)state;
    dlq_opts o;
    char why[256];
    char *list[] = {"dlq", "list", "--stage", "b", "--limit", "5", "--open"};
    assert_int_equal(dlq_opts_parse(ARGC(list), list, &o, why, sizeof why), 0);
    assert_int_equal(o.cmd, DLQ_CMD_LIST);
    assert_string_equal(o.stage, "b");
    assert_int_equal(o.limit, 5);
    assert_true(o.open_only);
    char *rd[] = {"dlq", "redrive", "12", "13", "--dry-run", "--force"};
    assert_int_equal(dlq_opts_parse(ARGC(rd), rd, &o, why, sizeof why), 0);
    assert_int_equal(o.n_ids, 2);
    assert_int_equal(o.ids[1].n, 13);
    assert_false(o.ids[1].table);
    assert_true(o.dry_run && o.force);
    char *all[] = {"dlq", "redrive", "--stage", "b", "--all"};
    assert_int_equal(dlq_opts_parse(ARGC(all), all, &o, why, sizeof why), 0);
    assert_true(o.all);
    char *bad_all[] = {"dlq", "redrive", "--all"};
    assert_int_equal(dlq_opts_parse(ARGC(bad_all), bad_all, &o, why, sizeof why), -1);
    char *mixed[] = {"dlq", "redrive", "5", "--stage", "b", "--all"};
    assert_int_equal(dlq_opts_parse(ARGC(mixed), mixed, &o, why, sizeof why), -1);
    char *noid[] = {"dlq", "redrive"};
    assert_int_equal(dlq_opts_parse(ARGC(noid), noid, &o, why, sizeof why), -1);
    char *show2[] = {"dlq", "show", "1", "2"};
    assert_int_equal(dlq_opts_parse(ARGC(show2), show2, &o, why, sizeof why), -1);
    char *badid[] = {"dlq", "show", "x1"};
    assert_int_equal(dlq_opts_parse(ARGC(badid), badid, &o, why, sizeof why), -1);
    char *nocmd[] = {"dlq"};
    assert_int_equal(dlq_opts_parse(ARGC(nocmd), nocmd, &o, why, sizeof why), -1);
    char *listforce[] = {"dlq", "list", "--force"};
    assert_int_equal(dlq_opts_parse(ARGC(listforce), listforce, &o, why, sizeof why), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(row_carries_origin_and_payload),
        cmocka_unit_test(tenant_and_origin_fallbacks),
        cmocka_unit_test(redrive_once_unless_forced),
        cmocka_unit_test(command_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
