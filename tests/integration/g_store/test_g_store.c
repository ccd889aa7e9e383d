/* Stage G's write side against the real servers: med-g-archive runs as a
 * process; the test publishes ArchiveRecords on med.g.archive.v1 and
 * StageAudits with an append request on med.audit.g.v1 (each with a
 * Med-Reply-To inbox), reads G's answers and the stored rows.
 * G.9 cases 1-3 (append), 5 (invalid record quarantined), 6 (idempotent
 * recordKey), 7 (order gate), 8 (write timeouts exhaust, group states).
 * Windows are shrunk (G_ARCHIVE_COMPENSATION_SEC=4, write timeout 300 ms)
 * so the 15 min rule runs in seconds (00 decision 6). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <regex.h>
#include <signal.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include <nats/nats.h>

#include "harness.h"
#include "med/ids.h"
#include "med/names.h"
#include "med/reason.h"
#include "mediation/v1/archive.pb-c.h"
#include "mediation/v1/audit.pb-c.h"

#define WINDOW_SEC "4"

typedef struct world {
    th_proc g;
    natsConnection *nc;
    jsCtx *js;
    PGconn *pg;      /* admin: RLS bypassed, for assertions */
    PGconn *locker;  /* admin: holds row locks (case 8) */
    char tenant[32];
    char run[16];    /* makes keys unique per run */
    int64_t t0;      /* outputAt of every record: a resend must be identical */
} world;

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    srand((unsigned)th_now_ms());
    snprintf(w->run, sizeof w->run, "%08x", (unsigned)rand());
    snprintf(w->tenant, sizeof w->tenant, "t_gst%s", w->run);
    w->t0 = med_now_unix_ms();
    th_proc_init_ci(&w->g, "g_archive", "g_archive", "med-g-archive", "ADMIN_HTTP_PORT", "100");
    th_proc_setenv(&w->g, "G_ARCHIVE_COMPENSATION_SEC", WINDOW_SEC);
    th_proc_setenv(&w->g, "G_ARCHIVE_WRITE_TIMEOUT_MS", "300");
    th_proc_setenv(&w->g, "G_ARCHIVE_SWEEP_MS", "200");
    th_proc_start_ready(&w->g);
    assert_int_equal(natsConnection_ConnectTo(&w->nc, th_env("NATS_URL")), NATS_OK);
    assert_int_equal(natsConnection_JetStream(&w->js, w->nc, NULL), NATS_OK);
    w->pg = PQconnectdb(th_env("PG_ADMIN_DSN"));
    w->locker = PQconnectdb(th_env("PG_ADMIN_DSN"));
    assert_int_equal(PQstatus(w->pg), CONNECTION_OK);
    assert_int_equal(PQstatus(w->locker), CONNECTION_OK);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    if (!w) return 0;
    /* SIGTERM drains every loop: a clean exit is part of the contract */
    int st = th_proc_stop(&w->g, SIGTERM, 15000);
    th_proc_free(&w->g);
    PQfinish(w->pg);
    PQfinish(w->locker);
    jsCtx_Destroy(w->js);
    natsConnection_Destroy(w->nc);
    free(w);
    assert_int_equal(st, 0);
    return 0;
}

/* ---------------------------------------------------------------- SQL */

/* First column of the first row, or "" (copied into out). */
static const char *sql1(world *w, char *out, size_t cap, const char *fmt, ...)
{
    char q[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q, sizeof q, fmt, ap);
    va_end(ap);
    PGresult *r = PQexec(w->pg, q);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) fail_msg("%s: %s", q, PQresultErrorMessage(r));
    snprintf(out, cap, "%s", PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    return out;
}

static long sql_count(world *w, const char *fmt, const char *arg)
{
    char q[1024], v[64];
    snprintf(q, sizeof q, fmt, arg);
    return atol(sql1(w, v, sizeof v, "%s", q));
}

/* write_status|write_reason_code of a record ("" when absent). */
static const char *write_state(world *w, const char *key, char *out, size_t cap)
{
    return sql1(w, out, cap,
                "SELECT write_status || '|' || coalesce(write_reason_code, '') FROM archive_records "
                "WHERE record_key = '%s'", key);
}

static void await_state(world *w, const char *key, const char *want, int timeout_ms)
{
    char got[160] = "";
    long long end = th_now_ms() + timeout_ms;
    while (th_now_ms() < end) {
        if (strcmp(write_state(w, key, got, sizeof got), want) == 0) return;
        th_sleep_ms(100);
    }
    fail_msg("record %s: state '%s', expected '%s'", key, got, want);
}

/* ------------------------------------------------------------ records */

typedef struct rec_spec {
    const char *key, *type, *status, *trace, *closure, *source_event;
    int64_t amount;
    int no_anchors;
    const char *reason; /* decisionReasonCode; NULL = f_facts_mapped */
} rec_spec;

static uint8_t *pack_record(world *w, const rec_spec *s, size_t *len)
{
    Mediation__V1__ArchiveRecord rec = MEDIATION__V1__ARCHIVE_RECORD__INIT;
    Mediation__V1__FToGArchiveRecordLite r = MEDIATION__V1__FTO_GARCHIVE_RECORD_LITE__INIT;
    Mediation__V1__TraceContext tc = MEDIATION__V1__TRACE_CONTEXT__INIT;
    Mediation__V1__ArchivePayloadRefLite ref = MEDIATION__V1__ARCHIVE_PAYLOAD_REF_LITE__INIT;
    Mediation__V1__ArchiveSourceKeysLite src = MEDIATION__V1__ARCHIVE_SOURCE_KEYS_LITE__INIT;
    Mediation__V1__ArchiveRelationKeysLite rel = MEDIATION__V1__ARCHIVE_RELATION_KEYS_LITE__INIT;
    Mediation__V1__ArchiveVersionAnchorsLite va = MEDIATION__V1__ARCHIVE_VERSION_ANCHORS_LITE__INIT;
    Mediation__V1__BillableFactLite bill = MEDIATION__V1__BILLABLE_FACT_LITE__INIT;
    tc.tenant_id = w->tenant;
    tc.trace_key = (char *)s->trace;
    rec.trace = &tc;
    rec.record = &r;
    rec.app_id = "app_gstore";
    r.record_key = (char *)s->key;
    r.record_type = (char *)s->type;
    r.record_status = (char *)s->status;
    ref.payload_type = (char *)s->type;
    ref.payload_key = (char *)s->key;
    r.payload_ref = &ref;
    src.event_id = (char *)s->source_event;
    src.source_event_id = (char *)s->source_event;
    src.trace_key = (char *)s->trace;
    src.request_key = "rq_gstore";
    src.opportunity_key = "opp_gstore";
    r.source_keys = &src;
    rel.closure_key_or_na_opt_case = MEDIATION__V1__ARCHIVE_RELATION_KEYS_LITE__CLOSURE_KEY_OR_NA_OPT_CLOSURE_KEY_OR_NA;
    rel.closure_key_or_na = (char *)s->closure;
    rel.canonical_dedup_key = "f_dedup_v1:idem:gstore";
    r.relation_keys = &rel;
    va.event_contract_version = "schema_v1";
    va.mapping_rule_version = "f_mapping_rule_v1";
    va.dedup_fingerprint_version = "f_dedup_v1";
    va.closure_rule_version = "f_closure_rule_v1";
    va.billing_rule_version = "f_billing_rule_v1";
    va.archive_contract_version = "f_archive_contract_v1";
    if (!s->no_anchors) r.version_anchors = &va;
    r.decision_reason_code = (char *)(s->reason ? s->reason : "f_facts_mapped");
    r.output_at_unix_ms = w->t0;
    char bk[160];
    if (strcmp(s->type, "billable_fact") == 0) {
        snprintf(bk, sizeof bk, "%s|billable_impression", s->closure);
        bill.billing_key = bk;
        bill.amount_micros = s->amount;
        bill.currency = "USD";
        rel.billing_key_or_na_opt_case = MEDIATION__V1__ARCHIVE_RELATION_KEYS_LITE__BILLING_KEY_OR_NA_OPT_BILLING_KEY_OR_NA;
        rel.billing_key_or_na = bk;
        r.payload_case = MEDIATION__V1__FTO_GARCHIVE_RECORD_LITE__PAYLOAD_BILLABLE_FACT;
        r.billable_fact = &bill;
    }
    *len = mediation__v1__archive_record__get_packed_size(&rec);
    uint8_t *buf = malloc(*len);
    assert_non_null(buf);
    mediation__v1__archive_record__pack(&rec, buf);
    return buf;
}

/* Publishes data on subject (JetStream, no Nats-Msg-Id so a resend reaches
 * G) with Med-Reply-To, and returns G's answer (caller destroys). */
static natsMsg *request(world *w, const char *subject, const uint8_t *data, size_t len)
{
    char inbox[64];
    snprintf(inbox, sizeof inbox, "_INBOX.gstore.%08x%08x", (unsigned)rand(), (unsigned)rand());
    natsSubscription *sub = NULL;
    assert_int_equal(natsConnection_SubscribeSync(&sub, w->nc, inbox), NATS_OK);
    assert_int_equal(natsConnection_Flush(w->nc), NATS_OK);
    natsMsg *m = NULL;
    assert_int_equal(natsMsg_Create(&m, subject, NULL, (const char *)data, (int)len), NATS_OK);
    natsMsgHeader_Set(m, MED_HDR_TENANT, w->tenant);
    natsMsgHeader_Set(m, MED_HDR_REPLY_TO, inbox);
    jsPubAck *pa = NULL;
    jsErrCode jerr = 0;
    assert_int_equal(js_PublishMsg(&pa, w->js, m, NULL, &jerr), NATS_OK);
    jsPubAck_Destroy(pa);
    natsMsg_Destroy(m);
    natsMsg *reply = NULL;
    natsStatus s = natsSubscription_NextMsg(&reply, sub, 10000);
    natsSubscription_Destroy(sub);
    if (s != NATS_OK) fail_msg("no answer from G on %s", subject);
    return reply;
}

static Mediation__V1__ArchiveWriteAck *archive(world *w, const rec_spec *s)
{
    size_t len = 0;
    uint8_t *buf = pack_record(w, s, &len);
    natsMsg *reply = request(w, MED_SUBJ_G_ARCHIVE, buf, len);
    free(buf);
    Mediation__V1__ArchiveWriteAck *a = mediation__v1__archive_write_ack__unpack(
        NULL, (size_t)natsMsg_GetDataLength(reply), (const uint8_t *)natsMsg_GetData(reply));
    natsMsg_Destroy(reply);
    assert_non_null(a);
    return a;
}

static void ack_free(Mediation__V1__ArchiveWriteAck *a)
{
    mediation__v1__archive_write_ack__free_unpacked(a, NULL);
}

static void key(world *w, char *out, size_t cap, const char *what)
{
    snprintf(out, cap, "rk_%s_%s_%08x", what, w->run, (unsigned)rand());
}

/* ------------------------------------------------------- archive cases */

/* G.9 case 5 */
static void record_without_anchors_is_quarantined(void **state)
{
    world *w = *state;
    char k[64];
    key(w, k, sizeof k, "noanchor");
    uint64_t dlq_before = th_stream_last_seq(w->js, MED_STREAM_DLQ);
    rec_spec s = { k, "billable_fact", "committed", "tr_q", "resp_q|ra_q", "evt_q", 1000, 1 };
    Mediation__V1__ArchiveWriteAck *a = archive(w, &s);
    assert_string_equal(a->ack_reason_code, MED_R_G_INGEST_INVALID_RECORD);
    assert_false(a->retryable);
    ack_free(a);
    assert_int_equal(sql_count(w, "SELECT count(*) FROM archive_records WHERE record_key = '%s'", k), 0);
    assert_int_equal(sql_count(w, "SELECT count(*) FROM archive_record_keys WHERE record_key = '%s'", k), 0);
    char v[160];
    sql1(w, v, sizeof v,
         "SELECT reason_code || '|' || failed_subject || '|' || stage FROM dead_letter_records "
         "WHERE tenant_id = '%s' AND trace_key = 'tr_q'", w->tenant);
    assert_string_equal(v, "g_ingest_invalid_record|med.g.archive.v1|g");
    long long end = th_now_ms() + 5000;
    while (th_stream_last_seq(w->js, MED_STREAM_DLQ) == dlq_before && th_now_ms() < end) th_sleep_ms(50);
    assert_true(th_stream_last_seq(w->js, MED_STREAM_DLQ) > dlq_before);
}

/* G.9 case 6 */
static void resend_is_noop_other_digest_conflicts(void **state)
{
    world *w = *state;
    char da[64], bk[64], trace[64], closure[80];
    key(w, da, sizeof da, "da6");
    key(w, bk, sizeof bk, "bill6");
    snprintf(trace, sizeof trace, "tr6_%s", w->run);
    snprintf(closure, sizeof closure, "resp6_%s|ra6", w->run);
    rec_spec sda = { da, "decision_audit", "committed", trace, closure, "evt6", 0, 0 };
    rec_spec sb = { bk, "billable_fact", "committed", trace, closure, "evt6", 150000, 0 };
    ack_free(archive(w, &sda));
    Mediation__V1__ArchiveWriteAck *a = archive(w, &sb);
    assert_string_equal(a->archive_write_status, "written");
    assert_string_equal(a->stored_record_status, "");
    ack_free(a);
    char digest[80], v[160];
    sql1(w, digest, sizeof digest, "SELECT payload_digest FROM archive_records WHERE record_key = '%s'", bk);
    /* identical resend: no-op returning the stored state */
    a = archive(w, &sb);
    assert_string_equal(a->archive_write_status, "written");
    assert_string_equal(a->stored_record_status, "committed");
    assert_string_equal(a->ack_reason_code, "");
    ack_free(a);
    assert_int_equal(sql_count(w, "SELECT count(*) FROM archive_records WHERE record_key = '%s'", bk), 1);
    /* same key, another digest: refused, the stored row wins */
    sb.amount = 999999;
    a = archive(w, &sb);
    assert_string_equal(a->ack_reason_code, MED_R_G_ARCHIVE_RECORDKEY_PAYLOAD_CONFLICT);
    assert_false(a->retryable);
    assert_string_equal(a->stored_record_status, "committed");
    ack_free(a);
    assert_int_equal(sql_count(w, "SELECT count(*) FROM archive_records WHERE record_key = '%s'", bk), 1);
    sql1(w, v, sizeof v,
         "SELECT payload_digest || '|' || amount_micros || '|' || billable || '|' || currency "
         "FROM archive_records WHERE record_key = '%s'", bk);
    char want[200];
    snprintf(want, sizeof want, "%s|150000|true|USD", digest);
    assert_string_equal(v, want);
}

/* G.9 case 7 */
static void billable_waits_for_its_decision_audit(void **state)
{
    world *w = *state;
    char da[64], bk[64], trace[64], closure[80], v[160];
    key(w, da, sizeof da, "da7");
    key(w, bk, sizeof bk, "bill7");
    snprintf(trace, sizeof trace, "tr7_%s", w->run);
    snprintf(closure, sizeof closure, "resp7_%s|ra7", w->run);
    rec_spec sb = { bk, "billable_fact", "committed", trace, closure, "evt7", 200000, 0 };
    Mediation__V1__ArchiveWriteAck *a = archive(w, &sb);
    assert_string_equal(a->archive_write_status, "pending");
    assert_string_equal(a->ack_reason_code, MED_R_G_ARCHIVE_WAITING_DECISION_AUDIT);
    assert_string_equal(a->fg_archive_consistency_state, "partial_pending");
    ack_free(a);
    assert_string_equal(write_state(w, bk, v, sizeof v), "pending|g_archive_waiting_decision_audit");
    th_sleep_ms(600); /* sweeps pass; the gate stays closed */
    assert_string_equal(write_state(w, bk, v, sizeof v), "pending|g_archive_waiting_decision_audit");
    rec_spec sda = { da, "decision_audit", "committed", trace, closure, "evt7", 0, 0 };
    a = archive(w, &sda);
    assert_string_equal(a->archive_write_status, "written");
    assert_string_equal(a->fg_archive_consistency_state, "consistent_committed");
    ack_free(a);
    await_state(w, bk, "written|", 3000);
    sql1(w, v, sizeof v,
         "SELECT (b.written_at >= d.written_at)::text FROM archive_records b, archive_records d "
         "WHERE b.record_key = '%s' AND d.record_key = '%s'", bk, da);
    assert_string_equal(v, "true");
}

/* G.9 case 8, second half, and a group without a committed bill */
static void group_states_when_all_written(void **state)
{
    world *w = *state;
    char da[64], bk[64], trace[64], closure[80];
    key(w, da, sizeof da, "da8c");
    key(w, bk, sizeof bk, "bill8c");
    snprintf(trace, sizeof trace, "tr8c_%s", w->run);
    snprintf(closure, sizeof closure, "resp8c_%s|ra8", w->run);
    rec_spec sda = { da, "decision_audit", "committed", trace, closure, "evt8c", 0, 0 };
    rec_spec sb = { bk, "billable_fact", "committed", trace, closure, "evt8c", 1000, 0 };
    ack_free(archive(w, &sda));
    Mediation__V1__ArchiveWriteAck *a = archive(w, &sb);
    assert_string_equal(a->fg_archive_consistency_state, "consistent_committed");
    ack_free(a);
    /* audit + a duplicate (not billable) fact */
    key(w, da, sizeof da, "da8n");
    key(w, bk, sizeof bk, "bill8n");
    snprintf(trace, sizeof trace, "tr8n_%s", w->run);
    rec_spec nda = { da, "decision_audit", "duplicate", trace, closure, "evt8n", 0, 0 };
    rec_spec nb = { bk, "billable_fact", "duplicate", trace, closure, "evt8n", 1000, 0 };
    ack_free(archive(w, &nda));
    a = archive(w, &nb);
    assert_string_equal(a->archive_write_status, "written");
    assert_string_equal(a->fg_archive_consistency_state, "consistent_non_billable");
    ack_free(a);
    char v[16];
    assert_string_equal(sql1(w, v, sizeof v, "SELECT billable::text FROM archive_records WHERE record_key = '%s'", bk),
                        "false");
}

static void lock_row(world *w, const char *k)
{
    char q[256];
    PGresult *r = PQexec(w->locker, "BEGIN");
    PQclear(r);
    snprintf(q, sizeof q, "SELECT 1 FROM archive_records WHERE record_key = '%s' FOR UPDATE", k);
    r = PQexec(w->locker, q);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(r), 1);
    PQclear(r);
}

static void unlock_rows(world *w)
{
    PQclear(PQexec(w->locker, "COMMIT"));
}

/* G.9 case 8: writes that keep timing out end terminal, partial_timeout */
static void write_timeouts_exhaust_to_partial_timeout(void **state)
{
    world *w = *state;
    char da[64], bk[64], trace[64], closure[80], v[160];
    key(w, da, sizeof da, "da8t");
    key(w, bk, sizeof bk, "bill8t");
    snprintf(trace, sizeof trace, "tr8t_%s", w->run);
    snprintf(closure, sizeof closure, "resp8t_%s|ra8", w->run);
    rec_spec sb = { bk, "billable_fact", "committed", trace, closure, "evt8t", 5000, 0 };
    rec_spec sda = { da, "decision_audit", "committed", trace, closure, "evt8t", 0, 0 };
    ack_free(archive(w, &sb));
    /* another session holds the group's billable row: every write of the
     * group now waits past G_ARCHIVE_WRITE_TIMEOUT_MS */
    lock_row(w, bk);
    Mediation__V1__ArchiveWriteAck *a = archive(w, &sda);
    assert_string_equal(a->archive_write_status, "write_failed_retryable");
    assert_string_equal(a->ack_reason_code, MED_R_G_ARCHIVE_WRITE_TIMEOUT);
    assert_true(a->retryable);
    ack_free(a);
    assert_string_equal(write_state(w, da, v, sizeof v), "write_failed_retryable|g_archive_write_timeout");
    sql1(w, v, sizeof v, "SELECT (write_attempts >= 1 AND next_attempt_at > created_at)::text "
                         "FROM archive_records WHERE record_key = '%s'", da);
    assert_string_equal(v, "true");
    /* retried on the ladder until the window closes, then terminal */
    await_state(w, da, "write_failed_terminal|g_archive_compensation_exhausted", 8000);
    unlock_rows(w);
    await_state(w, bk, "write_failed_terminal|g_archive_compensation_exhausted", 5000);
    sql1(w, v, sizeof v, "SELECT write_attempts::text FROM archive_records WHERE record_key = '%s'", da);
    assert_true(atoi(v) >= 2);
    /* the stored state answers a resend: the group is partial_timeout */
    a = archive(w, &sb);
    assert_string_equal(a->archive_write_status, "write_failed_terminal");
    assert_string_equal(a->fg_archive_consistency_state, "partial_timeout");
    ack_free(a);
}

/* Sends the decision_audit that announces the supersede of target (F.8:
 * supersededRecordKey, f_terminal_superseded_by_impression). */
static void announce_supersede(world *w, const char *key, const char *trace, const char *closure,
                               const char *target)
{
    size_t len = 0;
    rec_spec s2 = { key, "decision_audit", "committed", trace, closure, "evt_imp", 0, 0,
                    MED_R_F_TERMINAL_SUPERSEDED_BY_IMPRESSION };
    uint8_t *buf = pack_record(w, &s2, &len);
    Mediation__V1__ArchiveRecord *r = mediation__v1__archive_record__unpack(NULL, len, buf);
    free(buf);
    assert_non_null(r);
    r->record->superseded_record_key_opt_case =
        MEDIATION__V1__FTO_GARCHIVE_RECORD_LITE__SUPERSEDED_RECORD_KEY_OPT_SUPERSEDED_RECORD_KEY;
    r->record->superseded_record_key = strdup(target);
    len = mediation__v1__archive_record__get_packed_size(r);
    buf = malloc(len);
    assert_non_null(buf);
    mediation__v1__archive_record__pack(r, buf);
    mediation__v1__archive_record__free_unpacked(r, NULL);
    natsMsg *reply = request(w, MED_SUBJ_G_ARCHIVE, buf, len);
    free(buf);
    natsMsg_Destroy(reply);
}

/* One group of a timeout failure (or of a real event, reason NULL): its
 * decision_audit and attribution_fact, and a decision_audit announcing
 * the attribution's supersede, sent before or after them. Returns the
 * attribution's record_status (in v). */
static const char *supersede_case(world *w, const char *tag, const char *reason, int announce_first,
                                  char *v, size_t vcap)
{
    char da[64], at[64], da2[64], trace[64], closure[80];
    key(w, da, sizeof da, "da");
    key(w, at, sizeof at, "attr");
    key(w, da2, sizeof da2, "da2");
    snprintf(trace, sizeof trace, "tr%s_%s", tag, w->run);
    snprintf(closure, sizeof closure, "resp%s_%s|ra", tag, w->run);
    rec_spec sda = { da, "decision_audit", "committed", trace, closure, "evt_terminal", 0, 0, reason };
    rec_spec sat = { at, "attribution_fact", "committed", trace, closure, "evt_terminal", 0, 0, reason };
    if (announce_first) announce_supersede(w, da2, trace, closure, at);
    ack_free(archive(w, &sda));
    ack_free(archive(w, &sat));
    if (!announce_first) announce_supersede(w, da2, trace, closure, at);
    return sql1(w, v, vcap, "SELECT record_status FROM archive_records WHERE record_key = '%s'", at);
}

/* committed -> superseded (F.8): a timeout failure's attribution, whether
 * its announcing decision_audit arrives after it or before it (a resend
 * overtook it); an attribution of a real event stays committed. */
static void superseding_audit_supersedes_its_target(void **state)
{
    world *w = *state;
    char v[64];
    assert_string_equal(supersede_case(w, "s", MED_R_F_TERMINAL_TIMEOUT_AUTOFILL, 0, v, sizeof v), "superseded");
    assert_string_equal(supersede_case(w, "l", MED_R_F_TERMINAL_TIMEOUT_AUTOFILL, 1, v, sizeof v), "superseded");
    assert_string_equal(supersede_case(w, "n", NULL, 0, v, sizeof v), "committed");
    assert_string_equal(supersede_case(w, "m", NULL, 1, v, sizeof v), "committed");
}

/* ------------------------------------------------------- append cases */

typedef struct append_fx {
    Mediation__V1__StageAudit a;
    Mediation__V1__TraceContext tc;
    Mediation__V1__GAppendRequestLite req;
    Mediation__V1__GAuditRecordLite r;
    Mediation__V1__OpportunityInputSnapshotLite in;
    Mediation__V1__AdapterParticipationLite ap;
    Mediation__V1__AdapterParticipationLite *aps[1];
    Mediation__V1__WinnerSnapshotLite win;
    Mediation__V1__RenderResultSnapshotLite rr;
    Mediation__V1__KeyEventSummaryLite ke;
    Mediation__V1__ReplayAnchorsLite anchors;
    char record_id[48], idem[48];
} append_fx;

static void append_init(world *w, append_fx *f)
{
    memset(f, 0, sizeof *f);
    mediation__v1__stage_audit__init(&f->a);
    mediation__v1__trace_context__init(&f->tc);
    mediation__v1__gappend_request_lite__init(&f->req);
    mediation__v1__gaudit_record_lite__init(&f->r);
    mediation__v1__opportunity_input_snapshot_lite__init(&f->in);
    mediation__v1__adapter_participation_lite__init(&f->ap);
    mediation__v1__winner_snapshot_lite__init(&f->win);
    mediation__v1__render_result_snapshot_lite__init(&f->rr);
    mediation__v1__key_event_summary_lite__init(&f->ke);
    mediation__v1__replay_anchors_lite__init(&f->anchors);
    snprintf(f->record_id, sizeof f->record_id, "ar_%s_%08x", w->run, (unsigned)rand());
    snprintf(f->idem, sizeof f->idem, "idem_%s_%08x", w->run, (unsigned)rand());
    f->tc.tenant_id = w->tenant;
    f->a.trace = &f->tc;
    f->a.stage = "g";
    f->a.kind = "append";
    f->a.append_request = &f->req;
    f->req.request_id = "req_append_1";
    f->req.audit_record = &f->r;
    f->req.append_at_unix_ms = med_now_unix_ms();
    f->req.append_contract_version = "g_append_v1";
    f->req.idempotency_key_opt_case = MEDIATION__V1__GAPPEND_REQUEST_LITE__IDEMPOTENCY_KEY_OPT_IDEMPOTENCY_KEY;
    f->req.idempotency_key = f->idem;
    f->r.audit_record_id = f->record_id;
    f->r.opportunity_key = "opp_app";
    f->r.trace_key = "tr_app";
    f->r.request_key = "rq_app";
    f->r.attempt_key = "at_app";
    f->r.audit_at_unix_ms = med_now_unix_ms();
    f->in.request_schema_version = "schema_v1";
    f->in.placement_key = "plc_feed";
    f->in.placement_type = "native";
    f->in.placement_surface = "feed";
    f->in.policy_context_digest = "pd";
    f->in.user_context_digest = "ud";
    f->in.opportunity_context_digest = "od";
    f->in.ingress_received_at_unix_ms = med_now_unix_ms() - 100;
    f->r.opportunity_input_snapshot = &f->in;
    f->ap.adapter_id = "net_a";
    f->ap.adapter_request_id = "areq";
    f->ap.request_sent_at_unix_ms = med_now_unix_ms() - 90;
    f->ap.response_status = "no_bid";
    f->aps[0] = &f->ap;
    f->r.adapter_participation = f->aps;
    f->r.n_adapter_participation = 1;
    f->win.winner_adapter_id_or_na_opt_case = MEDIATION__V1__WINNER_SNAPSHOT_LITE__WINNER_ADAPTER_ID_OR_NA_OPT_WINNER_ADAPTER_ID_OR_NA;
    f->win.winner_adapter_id_or_na = "net_a";
    f->win.winner_bid_price_or_na_opt_case = MEDIATION__V1__WINNER_SNAPSHOT_LITE__WINNER_BID_PRICE_OR_NA_OPT_WINNER_BID_PRICE_OR_NA;
    f->win.winner_bid_price_or_na = 1.5;
    f->win.winner_reason_code = "d_winner_highest_bid";
    f->r.winner_snapshot = &f->win;
    f->rr.render_status = "not_rendered";
    f->r.render_result_snapshot = &f->rr;
    f->ke.event_window_start_at_unix_ms = med_now_unix_ms() - 50;
    f->ke.event_window_end_at_unix_ms = med_now_unix_ms();
    f->r.key_event_summary = &f->ke;
    f->r.audit_record_version = "1";
    f->r.audit_rule_version = "g_audit_rule_v1";
    f->r.audit_contract_version = "g_audit_v1";
    f->anchors.dedup_fingerprint_version = "f_dedup_v1";
    f->r.replay_anchors = &f->anchors;
}

static Mediation__V1__GAppendAckLite *append(world *w, append_fx *f)
{
    size_t len = mediation__v1__stage_audit__get_packed_size(&f->a);
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    mediation__v1__stage_audit__pack(&f->a, buf);
    natsMsg *reply = request(w, "med.audit.g.v1", buf, len);
    free(buf);
    Mediation__V1__AppendAck *a = mediation__v1__append_ack__unpack(
        NULL, (size_t)natsMsg_GetDataLength(reply), (const uint8_t *)natsMsg_GetData(reply));
    natsMsg_Destroy(reply);
    assert_non_null(a);
    assert_non_null(a->ack);
    Mediation__V1__GAppendAckLite *ack = a->ack;
    a->ack = NULL;
    mediation__v1__append_ack__free_unpacked(a, NULL);
    return ack;
}

static const char *token_of(const Mediation__V1__GAppendAckLite *a)
{
    return a->append_token_opt_case == MEDIATION__V1__GAPPEND_ACK_LITE__APPEND_TOKEN_OPT_APPEND_TOKEN
               ? a->append_token : NULL;
}

static long append_rows(world *w, const char *record_id)
{
    return sql_count(w, "SELECT count(*) FROM audit_records WHERE audit_record_id = '%s'", record_id);
}

/* G.9 cases 1-3 (and 4 through the process) */
static void append_accept_duplicate_conflict_window(void **state)
{
    world *w = *state;
    append_fx f;
    append_init(w, &f);
    Mediation__V1__GAppendAckLite *a1 = append(w, &f);
    assert_string_equal(a1->ack_status, "accepted");
    assert_string_equal(a1->ack_reason_code, MED_R_G_APPEND_ACCEPTED_COMMITTED);
    assert_string_equal(a1->request_id, "req_append_1");
    regex_t re;
    assert_int_equal(regcomp(&re, "^g_app_[0-9a-f]{24}$", REG_EXTENDED), 0);
    assert_non_null(token_of(a1));
    assert_int_equal(regexec(&re, token_of(a1), 0, NULL, 0), 0);
    regfree(&re);
    assert_int_equal(append_rows(w, f.record_id), 1);
    char v[200];
    sql1(w, v, sizeof v, "SELECT append_token || '|' || audit_kind FROM audit_records WHERE audit_record_id = '%s'",
         f.record_id);
    char want[200];
    snprintf(want, sizeof want, "%s|audit_record", token_of(a1));
    assert_string_equal(v, want);

    /* case 2: same key and record (new request id) -> duplicate no-op, same token */
    f.req.request_id = "req_append_2";
    Mediation__V1__GAppendAckLite *a2 = append(w, &f);
    assert_string_equal(a2->ack_reason_code, MED_R_G_APPEND_DUPLICATE_ACCEPTED_NOOP);
    assert_string_equal(a2->ack_status, "accepted");
    assert_string_equal(token_of(a2), token_of(a1));
    assert_int_equal(append_rows(w, f.record_id), 1);

    /* case 3: changed winnerBidPriceOrNA -> conflict, no token, row kept */
    f.win.winner_bid_price_or_na = 9.0;
    Mediation__V1__GAppendAckLite *a3 = append(w, &f);
    assert_string_equal(a3->ack_status, "rejected");
    assert_string_equal(a3->ack_reason_code, MED_R_G_APPEND_PAYLOAD_CONFLICT);
    assert_false(a3->retryable);
    assert_null(token_of(a3));
    assert_int_equal(append_rows(w, f.record_id), 1);

    /* case 2, second half: at +7 d +1 ms the key is new again */
    f.win.winner_bid_price_or_na = 1.5;
    char q[512];
    snprintf(q, sizeof q,
             "UPDATE idempotency_keys SET created_at = now() - interval '7 days 1 millisecond', "
             "expires_at = now() - interval '1 millisecond' WHERE tenant_id = '%s' AND scope = 'g_append' "
             "AND key = 'g_append_v1:idempotency:%s'", w->tenant, f.idem);
    PGresult *r = PQexec(w->pg, q);
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    assert_string_equal(PQcmdTuples(r), "1");
    PQclear(r);
    Mediation__V1__GAppendAckLite *a4 = append(w, &f);
    assert_string_equal(a4->ack_reason_code, MED_R_G_APPEND_ACCEPTED_COMMITTED);
    assert_string_equal(token_of(a4), token_of(a1));
    assert_int_equal(append_rows(w, f.record_id), 2);

    mediation__v1__gappend_ack_lite__free_unpacked(a1, NULL);
    mediation__v1__gappend_ack_lite__free_unpacked(a2, NULL);
    mediation__v1__gappend_ack_lite__free_unpacked(a3, NULL);
    mediation__v1__gappend_ack_lite__free_unpacked(a4, NULL);
}

static void append_cross_check_and_version_rejected(void **state)
{
    world *w = *state;
    append_fx f;
    append_init(w, &f);
    f.win.winner_adapter_id_or_na = "net_unknown";
    Mediation__V1__GAppendAckLite *a = append(w, &f);
    assert_string_equal(a->ack_reason_code, MED_R_G_APPEND_MISSING_REQUIRED);
    assert_true(a->retryable);
    assert_null(token_of(a));
    mediation__v1__gappend_ack_lite__free_unpacked(a, NULL);
    append_init(w, &f);
    f.req.append_contract_version = "g_append_v9";
    a = append(w, &f);
    assert_string_equal(a->ack_reason_code, MED_R_G_APPEND_INVALID_SCHEMA_VERSION);
    assert_false(a->retryable);
    mediation__v1__gappend_ack_lite__free_unpacked(a, NULL);
    assert_int_equal(append_rows(w, f.record_id), 0);
}

/* A plain StageAudit (no append request) still lands as before. */
static void plain_stage_audit_still_appended(void **state)
{
    world *w = *state;
    Mediation__V1__StageAudit a = MEDIATION__V1__STAGE_AUDIT__INIT;
    Mediation__V1__TraceContext tc = MEDIATION__V1__TRACE_CONTEXT__INIT;
    char id[64];
    snprintf(id, sizeof id, "b.audit:plain_%s", w->run);
    tc.tenant_id = w->tenant;
    tc.trace_key = "tr_plain";
    a.trace = &tc;
    a.stage = "b";
    a.kind = "decision";
    a.audit_id = id;
    a.primary_reason_code = "b_norm_accepted";
    size_t len = mediation__v1__stage_audit__get_packed_size(&a);
    uint8_t *buf = malloc(len);
    mediation__v1__stage_audit__pack(&a, buf);
    natsMsg *m = NULL;
    assert_int_equal(natsMsg_Create(&m, "med.audit.b.v1", NULL, (const char *)buf, (int)len), NATS_OK);
    natsMsgHeader_Set(m, MED_HDR_TENANT, w->tenant);
    jsErrCode jerr = 0;
    assert_int_equal(js_PublishMsg(NULL, w->js, m, NULL, &jerr), NATS_OK);
    natsMsg_Destroy(m);
    free(buf);
    long long end = th_now_ms() + 5000;
    while (sql_count(w, "SELECT count(*) FROM audit_records WHERE idempotency_key = '%s'", id) == 0 &&
           th_now_ms() < end)
        th_sleep_ms(50);
    assert_int_equal(sql_count(w, "SELECT count(*) FROM audit_records WHERE idempotency_key = '%s'", id), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(record_without_anchors_is_quarantined),
        cmocka_unit_test(resend_is_noop_other_digest_conflicts),
        cmocka_unit_test(billable_waits_for_its_decision_audit),
        cmocka_unit_test(group_states_when_all_written),
        cmocka_unit_test(write_timeouts_exhaust_to_partial_timeout),
        cmocka_unit_test(superseding_audit_supersedes_its_target),
        cmocka_unit_test(append_accept_duplicate_conflict_window),
        cmocka_unit_test(append_cross_check_and_version_rejected),
        cmocka_unit_test(plain_stage_audit_still_appended),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
