/* tools/dlq against real servers: a message dead-lettered the way every
 * stage does it (med_dlq_publish from its stream delivery) is listed,
 * shown, re-driven once to its failed subject with payload and headers,
 * and a second re-drive is refused; a re-drive the stream's duplicate
 * window would swallow is reported, not recorded; dead_letter_records
 * holds who re-drove it. The failed subject is in a test-only stream, so
 * no stage consumes it. */
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

#include "harness.h"
#include "med/dlq.h"
#include "med/ids.h"
#include "med/js.h"
#include "med/names.h"
#include "med/reason.h"
#include "mediation/v1/dlq.pb-c.h"
#include "tools_it.h"

#define TOOL "tools/dlq/dlq"
#define STAGE "ittools"
#define MAXM 16

typedef struct world {
    med_js *mjs;
    jsCtx *js;
    PGconn *admin;
} world;

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    med_err err;
    med_js_opts o = {.url = th_env("NATS_URL"), .name = "it_tools_dlq"};
    assert_int_equal(med_js_connect(&o, &w->mjs, &err), MED_OK);
    med_stream_opts so = {0};
    assert_int_equal(med_js_ensure_streams(w->mjs, &so, &err), MED_OK);
    w->js = med_js_ctx(w->mjs);
    ti_ensure_stream(w->js, TI_SRC_STREAM, TI_SRC_SUBJECTS);
    w->admin = PQconnectdb(th_env("PG_ADMIN_DSN"));
    assert_int_equal(PQstatus(w->admin), CONNECTION_OK);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    PQfinish(w->admin);
    med_js_close(w->mjs);
    free(w);
    return 0;
}

typedef struct letter {
    const char *stage;
    char run[9], subject[64], request_key[64], tenant[32], msg_id[64], payload[64];
    uint64_t dlq_seq;
} letter;

static void publish_original(world *w, letter *l, int with_id)
{
    natsMsg *m = NULL;
    assert_int_equal(natsMsg_Create(&m, l->subject, NULL, l->payload, (int)strlen(l->payload)),
                     NATS_OK);
    natsMsgHeader_Set(m, MED_HDR_REQUEST_KEY, l->request_key);
    natsMsgHeader_Set(m, MED_HDR_TRACE_KEY, l->request_key);
    natsMsgHeader_Set(m, MED_HDR_TENANT, l->tenant);
    if (with_id) natsMsgHeader_Set(m, MED_HDR_MSG_ID, l->msg_id);
    jsPubAck *ack = NULL;
    jsErrCode jerr = 0;
    assert_int_equal(js_PublishMsg(&ack, w->js, m, NULL, &jerr), NATS_OK);
    jsPubAck_Destroy(ack);
    natsMsg_Destroy(m);
}

/* What a stage does after its last delivery failed: the dead letter built
 * from the delivered message and its delivery info. */
static void dead_letter_it(world *w, letter *l)
{
    natsMsg *got[MAXM];
    int n = ti_read_subject(w->js, TI_SRC_STREAM, l->subject, got, MAXM);
    assert_int_equal(n, 1);
    jsMsgMetaData *meta = NULL;
    assert_int_equal(natsMsg_GetMetaData(&meta, got[0]), NATS_OK);
    med_delivery_info info = {.stream_seq = meta->Sequence.Stream, .consumer_seq = 1,
                              .num_delivered = 2, .stream = TI_SRC_STREAM,
                              .consumer = "it_consumer"};
    med_retry_history h = {.n = 2};
    for (int i = 0; i < 2; i++) {
        h.attempts[i].attempt = (uint32_t)i + 1;
        h.attempts[i].at_unix_ms = med_now_unix_ms();
        snprintf(h.attempts[i].error_code, sizeof h.attempts[i].error_code, "%s",
                 MED_R_INFRA_TRANSIENT_FAILURE);
    }
    uint64_t before = th_stream_last_seq(w->js, MED_STREAM_DLQ);
    med_err err;
    assert_int_equal(med_dlq_publish(w->mjs, l->stage, got[0], &info, MED_R_INFRA_MAX_DELIVER,
                                     "it: handler kept failing", &h, &err),
                     MED_OK);
    jsMsgMetaData_Destroy(meta);
    ti_free_msgs(got, n);
    l->dlq_seq = th_stream_last_seq(w->js, MED_STREAM_DLQ);
    assert_true(l->dlq_seq > before);
}

static void new_letter(world *w, letter *l, int with_id, const char *stage)
{
    memset(l, 0, sizeof *l);
    l->stage = stage;
    ti_rand_hex(l->run, 8);
    snprintf(l->subject, sizeof l->subject, "it.tools.src.%s.dlq", l->run);
    snprintf(l->request_key, sizeof l->request_key, "req_dlq_%s", l->run);
    snprintf(l->tenant, sizeof l->tenant, "t_dlq_%s", l->run);
    snprintf(l->msg_id, sizeof l->msg_id, "it:%s", l->run);
    snprintf(l->payload, sizeof l->payload, "original-payload-%s", l->run);
    publish_original(w, l, with_id);
    dead_letter_it(w, l);
}

static int run_dlq(const char *const *args, char *out, size_t cap)
{
    const char *full[32];
    int n = 0;
    full[n++] = "--nats";
    full[n++] = th_env("NATS_URL");
    full[n++] = "--pg";
    full[n++] = th_env("PG_DSN");
    for (int i = 0; args[i] && n < 31; i++) full[n++] = args[i];
    full[n] = NULL;
    return ti_run(TOOL, full, out, cap);
}

/* The list line of this dead letter, or NULL. */
static const char *list_line(const char *out, uint64_t seq, char *line, size_t cap)
{
    char prefix[32];
    snprintf(prefix, sizeof prefix, "%llu\t", (unsigned long long)seq);
    for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, prefix, strlen(prefix)) != 0) continue;
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        snprintf(line, cap, "%.*s", (int)len, p);
        return line;
    }
    return NULL;
}

static void sql1(PGconn *pg, char *out, size_t cap, const char *sql, const char *arg)
{
    const char *v[1] = {arg};
    PGresult *r = PQexecParams(pg, sql, 1, NULL, v, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) fail_msg("sql: %s", PQerrorMessage(pg));
    snprintf(out, cap, "%s", PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
}

static void redrive_once_then_refused(void **state)
{
    world *w = *state;
    letter l;
    new_letter(w, &l, 0, STAGE); /* no Nats-Msg-Id: nothing for the duplicate window to match */
    char out[16384], line[1024], id[24];
    snprintf(id, sizeof id, "%llu", (unsigned long long)l.dlq_seq);

    const char *list[] = {"list", "--stage", STAGE, "--limit", "0", NULL};
    assert_int_equal(run_dlq(list, out, sizeof out), 0);
    assert_non_null(list_line(out, l.dlq_seq, line, sizeof line));
    assert_non_null(strstr(line, "\t" STAGE "\t"));
    assert_non_null(strstr(line, l.subject));
    assert_non_null(strstr(line, MED_R_INFRA_MAX_DELIVER));
    assert_non_null(strstr(line, "\t2\topen\t"));
    assert_non_null(strstr(line, l.tenant));

    const char *show[] = {"show", id, NULL};
    assert_int_equal(run_dlq(show, out, sizeof out), 0);
    assert_non_null(strstr(out, l.subject));
    assert_non_null(strstr(out, "it: handler kept failing"));
    assert_non_null(strstr(out, "attempt 2 at"));
    assert_non_null(strstr(out, l.request_key));

    const char *rd[] = {"redrive", id, "--by", "it-operator", NULL};
    assert_int_equal(run_dlq(rd, out, sizeof out), 0);
    assert_non_null(strstr(out, "redriven "));
    natsMsg *got[MAXM];
    int n = ti_read_subject(w->js, TI_SRC_STREAM, l.subject, got, MAXM);
    assert_int_equal(n, 2); /* the original and exactly one re-drive */
    assert_int_equal(natsMsg_GetDataLength(got[1]), (int)strlen(l.payload));
    assert_memory_equal(natsMsg_GetData(got[1]), l.payload, strlen(l.payload));
    assert_string_equal(ti_header(got[1], MED_HDR_REQUEST_KEY), l.request_key);
    assert_string_equal(ti_header(got[1], MED_HDR_TENANT), l.tenant);
    char mark[64];
    snprintf(mark, sizeof mark, "%s/%s", MED_STREAM_DLQ, id);
    assert_string_equal(ti_header(got[1], MED_HDR_REDRIVE_OF), mark);
    ti_free_msgs(got, n);

    /* the second re-drive is refused and sends nothing */
    assert_int_equal(run_dlq(rd, out, sizeof out), 3);
    assert_non_null(strstr(out, "refused"));
    n = ti_read_subject(w->js, TI_SRC_STREAM, l.subject, got, MAXM);
    assert_int_equal(n, 2);
    ti_free_msgs(got, n);

    char v[128];
    sql1(w->admin, v, sizeof v,
         "SELECT status || '|' || redriven_by FROM dead_letter_records WHERE tenant_id = $1",
         l.tenant);
    assert_string_equal(v, "redriven|it-operator");
    const char *open_list[] = {"list", "--stage", STAGE, "--open", "--limit", "0", NULL};
    assert_int_equal(run_dlq(open_list, out, sizeof out), 0);
    assert_null(list_line(out, l.dlq_seq, line, sizeof line));

    /* --force --dry-run would, but does not */
    const char *force_dry[] = {"redrive", id, "--force", "--dry-run", NULL};
    assert_int_equal(run_dlq(force_dry, out, sizeof out), 0);
    assert_non_null(strstr(out, "would redrive"));
    n = ti_read_subject(w->js, TI_SRC_STREAM, l.subject, got, MAXM);
    assert_int_equal(n, 2);
    ti_free_msgs(got, n);
}

/* With the original Nats-Msg-Id still inside the stream's duplicate window
 * the re-drive would vanish: reported, not recorded; --new-msg-id goes. */
static void duplicate_window_is_reported_not_recorded(void **state)
{
    world *w = *state;
    letter l;
    new_letter(w, &l, 1, STAGE);
    char out[16384], id[24];
    snprintf(id, sizeof id, "%llu", (unsigned long long)l.dlq_seq);
    const char *rd[] = {"redrive", id, NULL};
    assert_int_equal(run_dlq(rd, out, sizeof out), 4);
    assert_non_null(strstr(out, "duplicate window"));
    char v[64];
    sql1(w->admin, v, sizeof v, "SELECT status FROM dead_letter_records WHERE tenant_id = $1",
         l.tenant);
    assert_string_equal(v, "open");

    const char *rd_new[] = {"redrive", id, "--new-msg-id", NULL};
    assert_int_equal(run_dlq(rd_new, out, sizeof out), 0);
    natsMsg *got[MAXM];
    int n = ti_read_subject(w->js, TI_SRC_STREAM, l.subject, got, MAXM);
    assert_int_equal(n, 2);
    char want[128];
    snprintf(want, sizeof want, "%s.redrive.%s", l.msg_id, id);
    assert_string_equal(ti_header(got[1], MED_HDR_MSG_ID), want);
    ti_free_msgs(got, n);
    assert_int_equal(run_dlq(rd_new, out, sizeof out), 3);
}

static void redrive_all_of_a_stage_takes_only_open_ones(void **state)
{
    world *w = *state;
    /* a stage of its own: --all must not meet other tests' dead letters */
    char stage[16], rnd[7];
    ti_rand_hex(rnd, 6);
    snprintf(stage, sizeof stage, "itall%s", rnd);
    letter a, b;
    new_letter(w, &a, 0, stage);
    new_letter(w, &b, 0, stage);
    char out[16384], id[24];
    snprintf(id, sizeof id, "%llu", (unsigned long long)a.dlq_seq);
    const char *one[] = {"redrive", id, NULL};
    assert_int_equal(run_dlq(one, out, sizeof out), 0);
    const char *all[] = {"redrive", "--stage", stage, "--all", NULL};
    assert_int_equal(run_dlq(all, out, sizeof out), 0);
    natsMsg *got[MAXM];
    int n = ti_read_subject(w->js, TI_SRC_STREAM, a.subject, got, MAXM);
    assert_int_equal(n, 2); /* not re-driven a second time */
    ti_free_msgs(got, n);
    n = ti_read_subject(w->js, TI_SRC_STREAM, b.subject, got, MAXM);
    assert_int_equal(n, 2);
    ti_free_msgs(got, n);
    assert_int_equal(run_dlq(all, out, sizeof out), 0); /* nothing open is left */
    n = ti_read_subject(w->js, TI_SRC_STREAM, b.subject, got, MAXM);
    assert_int_equal(n, 2);
    ti_free_msgs(got, n);
}

int main(void)
{
    srand((unsigned)th_now_ms());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(redrive_once_then_refused),
        cmocka_unit_test(duplicate_window_is_reported_not_recorded),
        cmocka_unit_test(redrive_all_of_a_stage_takes_only_open_ones),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
