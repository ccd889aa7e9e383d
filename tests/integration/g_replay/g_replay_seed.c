#include "g_replay_seed.h"

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "g_archive_row.h"
#include "g_replay_time.h"
#include "med/b64url.h"
#include "med/ids.h"
#include "med/pbjson.h"

static void exec_ok(PGconn *pg, const char *sql, int n, const char *const *v)
{
    PGresult *r = PQexecParams(pg, sql, n, NULL, v, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) fprintf(stderr, "seed failed: %s\n", PQerrorMessage(pg));
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
}

/* INSERT INTO table (cols) from one JSON object naming them. */
static void insert_json(PGconn *pg, const char *table, const char *cols, json_t *row)
{
    char sql[1024];
    snprintf(sql, sizeof sql, "INSERT INTO %s (%s) SELECT %s FROM jsonb_populate_record(NULL::%s, $1::jsonb)",
             table, cols, cols, table);
    char *text = json_dumps(row, JSON_COMPACT);
    const char *v[1] = {text};
    exec_ok(pg, sql, 1, v);
    free(text);
    json_decref(row);
}

static char *packed_hex(const ProtobufCMessage *m)
{
    size_t len = protobuf_c_message_get_packed_size(m);
    uint8_t *b = malloc(len ? len : 1);
    protobuf_c_message_pack(m, b);
    char *hex = malloc(2 * len + 1);
    for (size_t i = 0; i < len; i++) sprintf(hex + 2 * i, "%02x", b[i]);
    hex[2 * len] = '\0';
    free(b);
    return hex;
}

static char *packed_b64(const ProtobufCMessage *m)
{
    size_t len = protobuf_c_message_get_packed_size(m);
    uint8_t *b = malloc(len ? len : 1);
    protobuf_c_message_pack(m, b);
    size_t cap = med_b64url_encoded_len(len) + 1;
    char *out = malloc(cap);
    med_b64url_encode(b, len, out, cap);
    free(b);
    return out;
}

static const char *ts(int64_t ms, char buf[G_TIME_TEXT_CAP])
{
    g_time_format(ms, buf);
    return buf;
}

#define DELIVERY_COLS                                                                              \
    "tenant_id, app_id, placement_id, response_reference, trace_key, request_key, attempt_key, "   \
    "opportunity_key, delivery_status, final_reason_code, payload, created_at"
#define AUDIT_COLS                                                                                 \
    "tenant_id, app_id, placement_id, audit_kind, stage, trace_key, request_key, attempt_key, "    \
    "opportunity_key, response_reference, idempotency_key, reason_code, audit_at, created_at"

static void seed_delivery(PGconn *pg, med_arena *a, const gfx_spec *s, int64_t at)
{
    Mediation__V1__Delivery *d = gfx_delivery(a, s);
    char *b64 = packed_b64(&d->base), t[G_TIME_TEXT_CAP];
    json_t *row = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s}, s:s}", "tenant_id",
                            s->tenant, "app_id", s->app_id, "placement_id", s->placement_id,
                            "response_reference", s->response_reference, "trace_key", s->trace_key,
                            "request_key", s->request_key, "attempt_key", s->attempt_key, "opportunity_key",
                            s->opportunity_key, "delivery_status", d->status, "final_reason_code",
                            d->final_reason_code, "payload", "deliveryPb", b64, "created_at", ts(at, t));
    insert_json(pg, "delivery_records", DELIVERY_COLS, row);
    free(b64);
}

void seed_decisions(PGconn *pg, const gfx_spec *s, int64_t delivered_ms)
{
    med_arena a = {0};
    seed_delivery(pg, &a, s, delivered_ms);
    static const char stages[] = "abde";
    for (int i = 0; stages[i]; i++) {
        Mediation__V1__StageAudit *sa = gfx_audit(&a, s, stages[i]);
        char *hex = packed_hex(&sa->base), t[G_TIME_TEXT_CAP], st[2] = {stages[i], 0};
        json_t *row = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
                                "tenant_id", s->tenant, "app_id", s->app_id, "placement_id", s->placement_id,
                                "audit_kind", "decision", "stage", st, "trace_key", s->trace_key, "request_key",
                                s->request_key, "attempt_key", s->attempt_key, "opportunity_key",
                                s->opportunity_key, "response_reference", s->response_reference,
                                "idempotency_key", sa->audit_id, "reason_code", "x",
                                "audit_at", ts(delivered_ms + 1 + i, t), "created_at", t);
        insert_json(pg, "audit_records", AUDIT_COLS, row);
        /* payload_pb is bytea: jsonb_populate_record cannot take it */
        const char *v[3] = {hex, s->tenant, sa->audit_id};
        exec_ok(pg, "UPDATE audit_records SET payload_pb = decode($1, 'hex') WHERE tenant_id = $2 "
                    "AND idempotency_key = $3", 3, v);
        free(hex);
    }
    med_arena_free(&a);
}

#define ARCHIVE_COLS                                                                               \
    "tenant_id, app_id, placement_id, record_key, record_type, record_status, payload_type, "      \
    "payload_key, payload_digest, trace_key, request_key, attempt_key, opportunity_key, "          \
    "response_reference, render_attempt_id, closure_key, billing_key, attribution_key, "           \
    "canonical_dedup_key, decision_reason_code, output_at, write_status, anchor_hash, "            \
    "version_anchors, payload, created_at"

static const char *opt(int set, const char *v)
{
    return set ? v : NULL;
}

/* A row as G stores it: the summary in payload (payload_pb set after);
 * legacy: as G stored it before migration 0018, the whole record as JSON
 * in payload and no payload_pb. */
static json_t *archive_row(const gfx_spec *s, const Mediation__V1__FToGArchiveRecordLite *r, int64_t stored_ms,
                           int legacy)
{
    char out_at[G_TIME_TEXT_CAP], at[G_TIME_TEXT_CAP], digest[65];
    med_sha256_hex(r->record_key, strlen(r->record_key), digest);
    const Mediation__V1__ArchiveRelationKeysLite *k = r->relation_keys;
    const Mediation__V1__ArchiveSourceKeysLite *sk = r->source_keys;
    json_t *row = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s?, s:s?, s:s?, s:s?, s:s, "
        "s:s, s:s, s:s, s:s, s:o, s:o, s:s}",
        "tenant_id", s->tenant, "app_id", s->app_id, "placement_id", s->placement_id, "record_key", r->record_key,
        "record_type", r->record_type, "record_status", r->record_status, "payload_type",
        r->payload_ref->payload_type, "payload_key", r->payload_ref->payload_key, "payload_digest", digest,
        "trace_key", sk->trace_key, "request_key", sk->request_key, "attempt_key", sk->attempt_key,
        "opportunity_key", sk->opportunity_key, "response_reference", sk->response_reference_or_na,
        "render_attempt_id", opt(sk->render_attempt_id_or_na_opt_case, sk->render_attempt_id_or_na),
        "closure_key", opt(k->closure_key_or_na_opt_case, k->closure_key_or_na), "billing_key",
        opt(k->billing_key_or_na_opt_case, k->billing_key_or_na), "attribution_key",
        opt(k->attribution_key_or_na_opt_case, k->attribution_key_or_na), "canonical_dedup_key",
        k->canonical_dedup_key, "decision_reason_code", r->decision_reason_code, "output_at",
        ts(r->output_at_unix_ms, out_at), "write_status", "written", "anchor_hash", r->anchor_hash,
        "version_anchors", med_pb_to_json(&r->version_anchors->base, NULL), "payload",
        legacy ? med_pb_to_json(&r->base, NULL) : g_archive_summary(r), "created_at", ts(stored_ms, at));
    assert_non_null(row);
    return row;
}

void seed_archive(PGconn *pg, const gfx_spec *s, int64_t stored_ms, int legacy_ix)
{
    med_arena a = {0};
    Mediation__V1__FToGArchiveRecordLite **recs = NULL;
    size_t n = gfx_archive(&a, s, &recs);
    for (size_t i = 0; i < n; i++) {
        int legacy = (int)i == legacy_ix;
        insert_json(pg, "archive_records", ARCHIVE_COLS, archive_row(s, recs[i], stored_ms, legacy));
        if (legacy) continue;
        /* payload_pb is bytea: jsonb_populate_record cannot take it */
        char *hex = packed_hex(&recs[i]->base);
        const char *v[3] = {hex, s->tenant, recs[i]->record_key};
        exec_ok(pg, "UPDATE archive_records SET payload_pb = decode($1, 'hex') WHERE tenant_id = $2 "
                    "AND record_key = $3", 3, v);
        free(hex);
    }
    med_arena_free(&a);
}

/* ---- bulk ---- */

#define BULK_KEYS(p)                                                                                \
    "'resp_' || " p " || '_' || g, 'tr_' || " p " || '_' || g, 'rq_' || " p " || '_' || g, "       \
    "'at_' || " p " || '_' || g, 'op_' || " p " || '_' || g"
#define BULK_AT "($4::timestamptz + (g * $5::int) * interval '1 millisecond')"

void seed_bulk(PGconn *pg, const gfx_spec *tmpl, const char *prefix, int n, int64_t first_ms, int step_ms)
{
    med_arena a = {0};
    char first[G_TIME_TEXT_CAP], step[16], count[16];
    snprintf(step, sizeof step, "%d", step_ms);
    snprintf(count, sizeof count, "%d", n);
    char *b64 = packed_b64(&gfx_delivery(&a, tmpl)->base);
    const char *dv[7] = {tmpl->tenant, prefix, b64, ts(first_ms, first), step, count, NULL};
    exec_ok(pg,
            "INSERT INTO delivery_records (tenant_id, app_id, placement_id, response_reference, trace_key, "
            "request_key, attempt_key, opportunity_key, delivery_status, final_reason_code, payload, created_at) "
            "SELECT $1, 'app_demo', 'plc_feed', " BULK_KEYS("$2") ", 'served', 'e_render_candidate_selected', "
            "jsonb_build_object('deliveryPb', $3::text), " BULK_AT " FROM generate_series(0, $6::int - 1) g",
            6, dv);
    free(b64);
    char *hex[4];
    static const char stages[] = "abde";
    for (int i = 0; i < 4; i++) hex[i] = packed_hex(&gfx_audit(&a, tmpl, stages[i])->base);
    char *pbs = NULL;
    assert_true(asprintf(&pbs, "{%s,%s,%s,%s}", hex[0], hex[1], hex[2], hex[3]) > 0);
    const char *av[7] = {tmpl->tenant, prefix, pbs, first, step, count, "{a,b,d,e}"};
    exec_ok(pg,
            "INSERT INTO audit_records (tenant_id, app_id, placement_id, audit_kind, stage, response_reference, "
            "trace_key, request_key, attempt_key, opportunity_key, idempotency_key, payload_pb, audit_at, created_at) "
            "SELECT $1, 'app_demo', 'plc_feed', 'decision', s.stage, " BULK_KEYS("$2") ", "
            "'bulk:' || s.stage || ':' || $2 || '_' || g, decode(s.pb, 'hex'), " BULK_AT ", " BULK_AT
            " + interval '1 millisecond' FROM generate_series(0, $6::int - 1) g, "
            "unnest($7::text[], $3::text[]) AS s(stage, pb)",
            7, av);
    for (int i = 0; i < 4; i++) free(hex[i]);
    free(pbs);
    med_arena_free(&a);
    /* statistics as autovacuum would have them for tables of this size */
    exec_ok(pg, "ANALYZE delivery_records, audit_records, archive_records", 0, NULL);
}
