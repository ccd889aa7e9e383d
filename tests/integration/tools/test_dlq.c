/* tools/dlq against real servers: a message dead-lettered the way every
 * stage does it (med_dlq_publish from its stream delivery) is listed,
 * shown, re-driven once to its failed subject with payload and headers,
 * and a second re-drive is refused; a re-drive the stream's duplicate
 * window would swallow is reported, not recorded; dead_letter_records
 * holds who re-drove it. The failed subject is in a test-only stream, so
 * no stage consumes it. Table-only dead letters (rows written the way F's
 * outbox sweeper and G's quarantine write them, never on MED_DLQ) are
 * listed as t<id>, shown, and re-driven by their own rules: F's re-arms
 * its outbox row (once), G's is refused without --force. */
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
#include "mediation/v1/archive.pb-c.h"
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


/* ---- table-only dead letters ---- */

typedef struct table_world {
    char run[9], tenant[32], outbox_key[64], record_key[64], g_subject[64], g_msg_id[64];
    char fid[32], gid[32];   /* "t<id>" */
    char f_copy[24];         /* MED_DLQ sequence of F's copy */
} table_world;

/* A one-row statement as admin; its first value (or "") into out. */
static void sqln(PGconn *pg, char *out, size_t cap, const char *sql, int n, const char *const *v)
{
    PGresult *r = PQexecParams(pg, sql, n, NULL, v, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK)
        fail_msg("sql: %s", PQerrorMessage(pg));
    if (out) snprintf(out, cap, "%s", PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
}

/* FOutboxRecords with one record, as bytea hex input. */
static void outbox_records_hex(const char *record_key, char *out, size_t cap)
{
    Mediation__V1__FToGArchiveRecordLite rec = MEDIATION__V1__FTO_GARCHIVE_RECORD_LITE__INIT;
    rec.record_key = (char *)record_key;
    rec.record_type = "billable_fact";
    Mediation__V1__FToGArchiveRecordLite *rp[1] = {&rec};
    Mediation__V1__FOutboxRecords recs = MEDIATION__V1__FOUTBOX_RECORDS__INIT;
    recs.records = rp;
    recs.n_records = 1;
    uint8_t buf[512];
    size_t len = mediation__v1__foutbox_records__pack(&recs, buf);
    assert_true(len * 2 + 3 <= cap);
    int n = snprintf(out, cap, "\\x");
    for (size_t i = 0; i < len; i++) n += snprintf(out + n, cap - (size_t)n, "%02x", buf[i]);
}

/* What F's sweeper leaves when an outbox row exhausts its window
 * (F_SQL_SWEEP_DEAD): the dead f_outbox row and its dead letter. */
static void f_dead_outbox(world *w, table_world *t)
{
    char hex[1200], id[24];
    outbox_records_hex(t->record_key, hex, sizeof hex);
    const char *v[4] = {t->tenant, t->outbox_key, hex, MED_R_F_OUTPUT_ARCHIVE_COMPENSATION_EXHAUSTED};
    sqln(w->admin, NULL, 0,
         "INSERT INTO f_outbox (tenant_id, outbox_key, kind, records_pb, record_count, attempts,"
         " first_attempt_at, next_attempt_at, last_error, dead_at)"
         " VALUES ($1, $2, 'batch', $3::bytea, 1, 7, now() - interval '16 minutes',"
         " now() - interval '1 minute', 'it: archive unreachable', now())", 3, v);
    sqln(w->admin, id, sizeof id,
         "INSERT INTO dead_letter_records (tenant_id, stage, failed_subject, msg_id, reason_code,"
         " last_error, num_delivered, payload) VALUES ($1, '" MED_STAGE_F "', '" MED_SUBJ_G_ARCHIVE
         "', $2, $4, 'it: archive unreachable', 7, $3::bytea) RETURNING id", 4, v);
    snprintf(t->fid, sizeof t->fid, "t%s", id);
}

/* F also publishes its copy on med.dlq.f.v1 (not from a stream). */
static void f_dead_outbox_copy(world *w, table_world *t)
{
    natsMsg *m = NULL;
    assert_int_equal(natsMsg_Create(&m, MED_SUBJ_G_ARCHIVE, NULL, "x", 1), NATS_OK);
    natsMsgHeader_Set(m, MED_HDR_TENANT, t->tenant);
    natsMsgHeader_Set(m, MED_HDR_MSG_ID, t->outbox_key);
    med_err err;
    assert_int_equal(med_dlq_publish(w->mjs, MED_STAGE_F, m, NULL,
                                     MED_R_F_OUTPUT_ARCHIVE_COMPENSATION_EXHAUSTED, "it", NULL, &err),
                     MED_OK);
    natsMsg_Destroy(m);
    snprintf(t->f_copy, sizeof t->f_copy, "%llu",
             (unsigned long long)th_stream_last_seq(w->js, MED_STREAM_DLQ));
}

/* What G's quarantine writes for an invalid archive record (SQL_QUARANTINE);
 * its failed subject is in the test-only stream. */
static void g_quarantined(world *w, table_world *t)
{
    char seq[24], id[24];
    snprintf(seq, sizeof seq, "%d", 100000 + rand() % 100000000);
    const char *v[6] = {t->tenant, t->g_subject, seq, t->g_msg_id, t->run, MED_R_INFRA_DECODE_FAILED};
    sqln(w->admin, id, sizeof id,
         "INSERT INTO dead_letter_records (tenant_id, stage, failed_subject, stream, stream_seq,"
         " consumer, msg_id, reason_code, last_error, num_delivered, payload, trace_key)"
         " VALUES ($1, '" MED_STAGE_G "', $2, 'IT_TOOLS_ARCHIVE', $3::bigint, 'stage_g', $4,"
         " $6, 'it: not an ArchiveRecord', 1,"
         " convert_to('invalid-' || $5, 'UTF8'), 'tr_' || $5) RETURNING id", 6, v);
    snprintf(t->gid, sizeof t->gid, "t%s", id);
}

static void table_world_init(world *w, table_world *t)
{
    memset(t, 0, sizeof *t);
    ti_rand_hex(t->run, 8);
    snprintf(t->tenant, sizeof t->tenant, "t_dlqt_%s", t->run);
    snprintf(t->outbox_key, sizeof t->outbox_key, "batch:it_%s", t->run);
    snprintf(t->record_key, sizeof t->record_key, "rk_it_%s", t->run);
    snprintf(t->g_subject, sizeof t->g_subject, "it.tools.src.%s.g", t->run);
    snprintf(t->g_msg_id, sizeof t->g_msg_id, "g:%s", t->run);
    f_dead_outbox(w, t);
    f_dead_outbox_copy(w, t);
    g_quarantined(w, t);
}

/* The list line whose first column is id, or NULL. */
static const char *line_of(const char *out, const char *id, char *line, size_t cap)
{
    char prefix[32];
    snprintf(prefix, sizeof prefix, "%s\t", id);
    for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, prefix, strlen(prefix)) != 0) continue;
        const char *e = strchr(p, '\n');
        snprintf(line, cap, "%.*s", (int)(e ? (size_t)(e - p) : strlen(p)), p);
        return line;
    }
    return NULL;
}

static void table_only_listed_and_shown(void **state)
{
    world *w = *state;
    table_world t;
    table_world_init(w, &t);
    char out[65536], line[1024];
    const char *list[] = {"list", "--limit", "0", NULL};
    assert_int_equal(run_dlq(list, out, sizeof out), 0);
    assert_non_null(line_of(out, t.fid, line, sizeof line));
    char cols[256];
    snprintf(cols, sizeof cols, "\tf\t%s\t%s\t7\topen\t", MED_SUBJ_G_ARCHIVE,
             MED_R_F_OUTPUT_ARCHIVE_COMPENSATION_EXHAUSTED);
    assert_non_null(strstr(line, cols));
    assert_non_null(strstr(line, t.tenant));
    assert_non_null(strstr(line, t.outbox_key));
    assert_non_null(line_of(out, t.gid, line, sizeof line));
    assert_non_null(strstr(line, "\tg\t"));
    assert_non_null(strstr(line, t.g_msg_id));
    const char *list_g[] = {"list", "--stage", "g", "--open", "--limit", "0", NULL};
    assert_int_equal(run_dlq(list_g, out, sizeof out), 0);
    assert_non_null(line_of(out, t.gid, line, sizeof line));
    assert_null(line_of(out, t.fid, line, sizeof line));

    const char *show_f[] = {"show", t.fid, NULL};
    assert_int_equal(run_dlq(show_f, out, sizeof out), 0);
    assert_non_null(strstr(out, "FOutboxRecords records: 1"));
    assert_non_null(strstr(out, t.record_key));
    assert_non_null(strstr(out, "f_outbox"));
    const char *show_g[] = {"show", t.gid, NULL};
    assert_int_equal(run_dlq(show_g, out, sizeof out), 0);
    assert_non_null(strstr(out, "g_quarantine"));
    assert_non_null(strstr(out, "payload:         16 bytes, hex 696e76616c69642d"));
    const char *show_none[] = {"show", "t999999999", NULL};
    assert_int_equal(run_dlq(show_none, out, sizeof out), 1);
}

static void outbox_state(world *w, const table_world *t, char *out, size_t cap)
{
    const char *v[2] = {t->tenant, t->outbox_key};
    sqln(w->admin, out, cap,
         "SELECT (dead_at IS NULL) || '|' || (next_attempt_at <= now()) || '|' ||"
         " (first_attempt_at > now() - interval '1 minute') || '|' || (published_at IS NULL)"
         " FROM f_outbox WHERE tenant_id = $1 AND outbox_key = $2", 2, v);
}

static void table_only_redriven_by_their_rules(void **state)
{
    world *w = *state;
    table_world t;
    table_world_init(w, &t);
    char out[65536], v[256];
    const char *list[] = {"list", "--stage", "f", "--limit", "0", NULL};
    assert_int_equal(run_dlq(list, out, sizeof out), 0); /* records F's MED_DLQ copy */

    /* F's copy on MED_DLQ holds FOutboxRecords: never republished as is */
    const char *rd_copy[] = {"redrive", t.f_copy, NULL};
    assert_int_equal(run_dlq(rd_copy, out, sizeof out), 3);
    assert_non_null(strstr(out, t.fid));

    const char *dry[] = {"redrive", t.fid, "--dry-run", NULL};
    assert_int_equal(run_dlq(dry, out, sizeof out), 0);
    assert_non_null(strstr(out, "would redrive"));
    outbox_state(w, &t, v, sizeof v);
    assert_string_equal(v, "false|true|false|true");

    /* F: the outbox row is re-armed for F's sweeper, the dead letter marked */
    const char *rd_f[] = {"redrive", t.fid, "--by", "it-operator", NULL};
    assert_int_equal(run_dlq(rd_f, out, sizeof out), 0);
    assert_non_null(strstr(out, "re-armed f_outbox"));
    outbox_state(w, &t, v, sizeof v);
    assert_string_equal(v, "true|true|true|true");
    const char *p[2] = {t.fid + 1, NULL};
    sqln(w->admin, v, sizeof v,
         "SELECT status || '|' || redriven_by FROM dead_letter_records WHERE id = $1::bigint", 1,
         p);
    assert_string_equal(v, "redriven|it-operator");
    const char *pk[2] = {t.tenant, NULL};
    sqln(w->admin, v, sizeof v,
         "SELECT string_agg(status, ',') FROM dead_letter_records WHERE tenant_id = $1"
         " AND stage = 'f' AND headers IS NOT NULL", 1, pk);
    assert_string_equal(v, "redriven"); /* the MED_DLQ copy too */
    /* once only */
    assert_int_equal(run_dlq(rd_f, out, sizeof out), 3);
    assert_non_null(strstr(out, "refused"));

    /* G: an invalid record is refused without --force, nothing sent */
    const char *rd_g[] = {"redrive", t.gid, NULL};
    assert_int_equal(run_dlq(rd_g, out, sizeof out), 3);
    assert_non_null(strstr(out, "invalid archive record"));
    natsMsg *got[MAXM];
    int n = ti_read_subject(w->js, TI_SRC_STREAM, t.g_subject, got, MAXM);
    assert_int_equal(n, 0);
    const char *rd_g_force[] = {"redrive", t.gid, "--force", NULL};
    assert_int_equal(run_dlq(rd_g_force, out, sizeof out), 0);
    n = ti_read_subject(w->js, TI_SRC_STREAM, t.g_subject, got, MAXM);
    assert_int_equal(n, 1);
    char want[128];
    snprintf(want, sizeof want, "invalid-%s", t.run);
    assert_int_equal(natsMsg_GetDataLength(got[0]), (int)strlen(want));
    assert_memory_equal(natsMsg_GetData(got[0]), want, strlen(want));
    snprintf(want, sizeof want, "%s.redrive.%s", t.g_msg_id, t.gid);
    assert_string_equal(ti_header(got[0], MED_HDR_MSG_ID), want);
    snprintf(want, sizeof want, "dead_letter_records/%s", t.gid);
    assert_string_equal(ti_header(got[0], MED_HDR_REDRIVE_OF), want);
    assert_string_equal(ti_header(got[0], MED_HDR_TENANT), t.tenant);
    ti_free_msgs(got, n);
    assert_int_equal(run_dlq(rd_g, out, sizeof out), 3); /* re-driven now: once only */
}

int main(void)
{
    srand((unsigned)th_now_ms());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(redrive_once_then_refused),
        cmocka_unit_test(duplicate_window_is_reported_not_recorded),
        cmocka_unit_test(redrive_all_of_a_stage_takes_only_open_ones),
        cmocka_unit_test(table_only_listed_and_shown),
        cmocka_unit_test(table_only_redriven_by_their_rules),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
