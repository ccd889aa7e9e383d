/* Fragments of one opportunity: which stored audit is a stage's decision,
 * archive rows decoded from their table row, and the event facts F
 * archived. Pure. */
#include <stdlib.h>
#include <string.h>

#include "g_assemble.h"
#include "g_replay_time.h"
#include "med/ids.h"
#include "med/reason.h"

#define ARCH(x) MEDIATION__V1__FTO_GARCHIVE_RECORD_LITE__##x

static void *arena_alloc(void *ud, size_t n)
{
    return med_arena_alloc(ud, n);
}

static void arena_free(void *ud, void *p)
{
    (void)ud;
    (void)p;
}

void g_pb_arena_allocator(med_arena *a, ProtobufCAllocator *out)
{
    out->alloc = arena_alloc;
    out->free = arena_free;
    out->allocator_data = a;
}

void g_assemble_record_id(g_opp *o)
{
    char stack[512], h[65];
    size_t n = strlen(o->trace_key) + strlen(o->request_key) + strlen(o->attempt_key) +
               strlen(o->response_reference) + 4;
    char *buf = n <= sizeof stack ? stack : malloc(n);
    if (!buf) {
        o->audit_record_id[0] = '\0';
        return;
    }
    int len = snprintf(buf, n, "%s|%s|%s|%s", o->trace_key, o->request_key, o->attempt_key,
                       o->response_reference);
    med_sha256_hex(buf, (size_t)len, h);
    if (buf != stack) free(buf);
    memcpy(o->audit_record_id, "gar_", 4);
    memcpy(o->audit_record_id + 4, h, 24);
    o->audit_record_id[28] = '\0';
}

static int stage_index(const char *s)
{
    static const char names[G_ST_COUNT] = {'a', 'b', 'c', 'd', 'e'};
    if (!s || !s[0] || s[1]) return -1;
    for (int i = 0; i < G_ST_COUNT; i++)
        if (s[0] == names[i]) return i;
    return -1;
}

/* A stage's decision: kind "decision" (A's opportunity_created and B's
 * signal_normalized are events, not decisions). The first stored wins, so a
 * later duplicate never changes the record. */
void g_frags_offer_audit(g_frags *f, const Mediation__V1__StageAudit *sa, int64_t created_ms,
                         int64_t row_id)
{
    int i = stage_index(sa->stage);
    if (i < 0 || !sa->kind || strcmp(sa->kind, "decision") != 0) return;
    if (f->stage[i] && (f->stage_created_ms[i] < created_ms ||
                        (f->stage_created_ms[i] == created_ms && f->stage_row_id[i] <= row_id)))
        return;
    f->stage[i] = sa;
    f->stage_created_ms[i] = created_ms;
    f->stage_row_id[i] = row_id;
}

med_rc g_frags_add_archive(med_arena *a, g_frags *f, Mediation__V1__FToGArchiveRecordLite *rec,
                           const char *write_status, int64_t created_ms, med_err *err)
{
    if (f->n_arch == f->cap_arch) {
        size_t cap = f->cap_arch ? f->cap_arch * 2 : 8;
        g_arch_row *n = MED_NEWN(a, g_arch_row, cap);
        if (!n) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "archive rows");
        if (f->n_arch) memcpy(n, f->arch, f->n_arch * sizeof *n);
        f->arch = n;
        f->cap_arch = cap;
    }
    f->arch[f->n_arch++] = (g_arch_row){rec, write_status, created_ms};
    return MED_OK;
}

/* ---- archive row -> record ---- */

static const char *jstr(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static char *astr(med_arena *a, const json_t *o, const char *k)
{
    return med_arena_strdup(a, jstr(o, k));
}

static int64_t jtime(const json_t *o, const char *k)
{
    int64_t ms = 0;
    const json_t *v = json_object_get(o, k);
    if (json_is_integer(v)) return json_integer_value(v);
    return g_time_parse(json_string_value(v), &ms) == 0 ? ms : 0;
}

static int64_t jint(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    if (json_is_integer(v)) return json_integer_value(v);
    if (json_is_string(v)) return strtoll(json_string_value(v), NULL, 10);
    return 0;
}

/* bytea as to_jsonb renders it: "\\x" + hex. */
static uint8_t *hex_bytes(med_arena *a, const char *s, size_t *len)
{
    if (!s || s[0] != '\\' || s[1] != 'x') return NULL;
    s += 2;
    size_t n = strlen(s);
    if (n % 2) return NULL;
    uint8_t *out = med_arena_alloc(a, n / 2 + 1);
    for (size_t i = 0; out && i < n / 2; i++) {
        char b[3] = {s[2 * i], s[2 * i + 1], 0};
        char *end;
        out[i] = (uint8_t)strtoul(b, &end, 16);
        if (*end) return NULL;
    }
    *len = n / 2;
    return out;
}

/* The record's own bytes, whichever envelope the ingest stored. */
static Mediation__V1__FToGArchiveRecordLite *content_from_pb(med_arena *a, const json_t *row,
                                                            const char *record_key)
{
    size_t len = 0;
    uint8_t *b = hex_bytes(a, json_string_value(json_object_get(row, "payload_pb")), &len);
    if (!b) return NULL;
    ProtobufCAllocator al;
    g_pb_arena_allocator(a, &al);
    Mediation__V1__ArchiveRecord *env = mediation__v1__archive_record__unpack(&al, len, b);
    if (env && env->record && env->record->record_key && strcmp(env->record->record_key, record_key) == 0)
        return env->record;
    Mediation__V1__FToGArchiveRecordLite *r = mediation__v1__fto_garchive_record_lite__unpack(&al, len, b);
    if (r && r->record_key && strcmp(r->record_key, record_key) == 0) return r;
    return NULL;
}

static const json_t *json_payload_part(const json_t *payload, const char *name)
{
    const json_t *v = json_object_get(payload, name);
    if (json_is_object(v)) return v;
    v = json_object_get(json_object_get(payload, "record"), name);
    return json_is_object(v) ? v : NULL;
}

static Mediation__V1__AttributionFactLite *attribution_from_json(med_arena *a, const json_t *j)
{
    Mediation__V1__AttributionFactLite *f = MED_NEW(a, Mediation__V1__AttributionFactLite);
    if (!f) return NULL;
    mediation__v1__attribution_fact_lite__init(f);
    f->fact_id = astr(a, j, "factId");
    f->attribution_type = astr(a, j, "attributionType");
    f->source_event_id = astr(a, j, "sourceEventId");
    f->event_type = astr(a, j, "eventType");
    const char *rr = jstr(j, "responseReferenceOrNA"), *ra = jstr(j, "renderAttemptIdOrNA");
    if (*rr && strcmp(rr, "NA") != 0) {
        f->response_reference_or_na_opt_case =
            MEDIATION__V1__ATTRIBUTION_FACT_LITE__RESPONSE_REFERENCE_OR_NA_OPT_RESPONSE_REFERENCE_OR_NA;
        f->response_reference_or_na = med_arena_strdup(a, rr);
    }
    if (*ra && strcmp(ra, "NA") != 0) {
        f->render_attempt_id_or_na_opt_case =
            MEDIATION__V1__ATTRIBUTION_FACT_LITE__RENDER_ATTEMPT_ID_OR_NA_OPT_RENDER_ATTEMPT_ID_OR_NA;
        f->render_attempt_id_or_na = med_arena_strdup(a, ra);
    }
    f->opportunity_key = astr(a, j, "opportunityKey");
    f->trace_key = astr(a, j, "traceKey");
    f->attribution_key = astr(a, j, "attributionKey");
    f->fact_at_unix_ms = jtime(j, "factAt");
    f->fact_version = astr(a, j, "factVersion");
    return f;
}

static Mediation__V1__BillableFactLite *billable_from_json(med_arena *a, const json_t *j)
{
    Mediation__V1__BillableFactLite *f = MED_NEW(a, Mediation__V1__BillableFactLite);
    if (!f) return NULL;
    mediation__v1__billable_fact_lite__init(f);
    f->fact_id = astr(a, j, "factId");
    f->billable_type = astr(a, j, "billableType");
    f->source_event_id = astr(a, j, "sourceEventId");
    f->response_reference = astr(a, j, "responseReference");
    f->render_attempt_id = astr(a, j, "renderAttemptId");
    f->opportunity_key = astr(a, j, "opportunityKey");
    f->trace_key = astr(a, j, "traceKey");
    f->billing_key = astr(a, j, "billingKey");
    f->fact_at_unix_ms = jtime(j, "factAt");
    f->fact_version = astr(a, j, "factVersion");
    f->amount_micros = jint(j, "amountMicros");
    f->currency = astr(a, j, "currency");
    return f;
}

static Mediation__V1__FactDecisionAuditLite *decision_from_json(med_arena *a, const json_t *j)
{
    Mediation__V1__FactDecisionAuditLite *f = MED_NEW(a, Mediation__V1__FactDecisionAuditLite);
    if (!f) return NULL;
    mediation__v1__fact_decision_audit_lite__init(f);
    f->source_event_id = astr(a, j, "sourceEventId");
    f->mapping_rule_version = astr(a, j, "mappingRuleVersion");
    f->decision_action = astr(a, j, "decisionAction");
    f->decision_reason_code = astr(a, j, "decisionReasonCode");
    f->conflict_decision = astr(a, j, "conflictDecision");
    f->decided_at_unix_ms = jtime(j, "decidedAt");
    return f;
}

static void content_from_json(med_arena *a, const json_t *payload, Mediation__V1__FToGArchiveRecordLite *r)
{
    const json_t *j;
    if ((j = json_payload_part(payload, "attributionFact"))) {
        r->attribution_fact = attribution_from_json(a, j);
        if (r->attribution_fact) r->payload_case = ARCH(PAYLOAD_ATTRIBUTION_FACT);
    } else if ((j = json_payload_part(payload, "billableFact"))) {
        r->billable_fact = billable_from_json(a, j);
        if (r->billable_fact) r->payload_case = ARCH(PAYLOAD_BILLABLE_FACT);
    } else if ((j = json_payload_part(payload, "decisionAudit"))) {
        r->decision_audit = decision_from_json(a, j);
        if (r->decision_audit) r->payload_case = ARCH(PAYLOAD_DECISION_AUDIT);
    }
}

#define OPT_SET(msg, field, prefix, NAME, value)                                              \
    do {                                                                                      \
        const char *v_ = (value);                                                             \
        if (v_ && *v_) {                                                                      \
            (msg)->field##_opt_case = prefix##__##NAME##_OPT_##NAME;                           \
            (msg)->field = med_arena_strdup(a, v_);                                           \
        }                                                                                     \
    } while (0)

static int keys_from_columns(med_arena *a, const json_t *row, Mediation__V1__FToGArchiveRecordLite *r)
{
    Mediation__V1__ArchivePayloadRefLite *p = MED_NEW(a, Mediation__V1__ArchivePayloadRefLite);
    Mediation__V1__ArchiveSourceKeysLite *s = MED_NEW(a, Mediation__V1__ArchiveSourceKeysLite);
    Mediation__V1__ArchiveRelationKeysLite *k = MED_NEW(a, Mediation__V1__ArchiveRelationKeysLite);
    if (!p || !s || !k) return -1;
    mediation__v1__archive_payload_ref_lite__init(p);
    mediation__v1__archive_source_keys_lite__init(s);
    mediation__v1__archive_relation_keys_lite__init(k);
    p->payload_type = astr(a, row, "payload_type");
    p->payload_key = astr(a, row, "payload_key");
    s->event_id = astr(a, row, "event_id");
    s->source_event_id = astr(a, row, "source_event_id");
    s->trace_key = astr(a, row, "trace_key");
    s->request_key = astr(a, row, "request_key");
    s->attempt_key = astr(a, row, "attempt_key");
    s->opportunity_key = astr(a, row, "opportunity_key");
    OPT_SET(s, response_reference_or_na, MEDIATION__V1__ARCHIVE_SOURCE_KEYS_LITE, RESPONSE_REFERENCE_OR_NA,
            jstr(row, "response_reference"));
    OPT_SET(s, render_attempt_id_or_na, MEDIATION__V1__ARCHIVE_SOURCE_KEYS_LITE, RENDER_ATTEMPT_ID_OR_NA,
            jstr(row, "render_attempt_id"));
    OPT_SET(k, closure_key_or_na, MEDIATION__V1__ARCHIVE_RELATION_KEYS_LITE, CLOSURE_KEY_OR_NA,
            jstr(row, "closure_key"));
    OPT_SET(k, billing_key_or_na, MEDIATION__V1__ARCHIVE_RELATION_KEYS_LITE, BILLING_KEY_OR_NA,
            jstr(row, "billing_key"));
    OPT_SET(k, attribution_key_or_na, MEDIATION__V1__ARCHIVE_RELATION_KEYS_LITE, ATTRIBUTION_KEY_OR_NA,
            jstr(row, "attribution_key"));
    k->canonical_dedup_key = astr(a, row, "canonical_dedup_key");
    r->payload_ref = p;
    r->source_keys = s;
    r->relation_keys = k;
    return 0;
}

static const char *anchor_of(const json_t *va, const char *camel, const char *snake)
{
    const char *s = json_string_value(json_object_get(va, camel));
    return s ? s : json_string_value(json_object_get(va, snake));
}

static int anchors_from_columns(med_arena *a, const json_t *row, Mediation__V1__FToGArchiveRecordLite *r)
{
    const json_t *va = json_object_get(row, "version_anchors");
    Mediation__V1__ArchiveVersionAnchorsLite *v = MED_NEW(a, Mediation__V1__ArchiveVersionAnchorsLite);
    if (!v) return -1;
    mediation__v1__archive_version_anchors_lite__init(v);
#define VA(f, camel) v->f = med_arena_strdup(a, anchor_of(va, camel, #f) ? anchor_of(va, camel, #f) : "")
    VA(event_contract_version, "eventContractVersion");
    VA(mapping_rule_version, "mappingRuleVersion");
    VA(dedup_fingerprint_version, "dedupFingerprintVersion");
    VA(closure_rule_version, "closureRuleVersion");
    VA(billing_rule_version, "billingRuleVersion");
    VA(archive_contract_version, "archiveContractVersion");
#undef VA
    r->version_anchors = v;
    return 0;
}

static Mediation__V1__FToGArchiveRecordLite *record_from_columns(med_arena *a, const json_t *row)
{
    Mediation__V1__FToGArchiveRecordLite *r = MED_NEW(a, Mediation__V1__FToGArchiveRecordLite);
    if (!r) return NULL;
    mediation__v1__fto_garchive_record_lite__init(r);
    r->record_key = astr(a, row, "record_key");
    r->record_type = astr(a, row, "record_type");
    if (keys_from_columns(a, row, r) || anchors_from_columns(a, row, r)) return NULL;
    r->decision_reason_code = astr(a, row, "decision_reason_code");
    r->output_at_unix_ms = jtime(row, "output_at");
    OPT_SET(r, conflict_with_record_key, MEDIATION__V1__FTO_GARCHIVE_RECORD_LITE, CONFLICT_WITH_RECORD_KEY,
            jstr(row, "conflict_with_record_key"));
    OPT_SET(r, superseded_record_key, MEDIATION__V1__FTO_GARCHIVE_RECORD_LITE, SUPERSEDED_RECORD_KEY,
            jstr(row, "superseded_record_key"));
    r->anchor_hash = astr(a, row, "anchor_hash");
    content_from_json(a, json_object_get(row, "payload"), r);
    return r;
}

med_rc g_archive_from_row(med_arena *a, const json_t *row, Mediation__V1__FToGArchiveRecordLite **out,
                          const char **write_status, int64_t *created_ms, med_err *err)
{
    const char *key = jstr(row, "record_key");
    Mediation__V1__FToGArchiveRecordLite *r = content_from_pb(a, row, key);
    if (!r) r = record_from_columns(a, row);
    if (!r) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "archive record");
    /* the row's status is current (new -> committed/superseded happen in place) */
    r->record_status = astr(a, row, "record_status");
    *out = r;
    *write_status = astr(a, row, "write_status");
    *created_ms = jtime(row, "created_at");
    return a->failed ? med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "archive record") : MED_OK;
}

/* ---- event facts ---- */

int g_fact_is_impression(const g_fact *x)
{
    return strcmp(x->event_type, "impression") == 0 && strcmp(x->attribution_type, "attr_impression") == 0;
}

int g_fact_is_terminal_failure(const g_fact *x)
{
    return strcmp(x->attribution_type, "attr_failure_terminal") == 0;
}

int g_fact_counted(const g_fact *x)
{
    return strcmp(x->record_status, "new") == 0 || strcmp(x->record_status, "committed") == 0;
}

static const char *closure_of(const Mediation__V1__FToGArchiveRecordLite *r)
{
    const Mediation__V1__ArchiveRelationKeysLite *k = r->relation_keys;
    return k && k->closure_key_or_na_opt_case ? k->closure_key_or_na : NULL;
}

size_t g_facts_collect(med_arena *a, const g_frags *f, g_fact **out)
{
    g_fact *v = MED_NEWN(a, g_fact, f->n_arch);
    size_t n = 0;
    for (size_t i = 0; v && i < f->n_arch; i++) {
        const Mediation__V1__FToGArchiveRecordLite *r = f->arch[i].rec;
        if (r->payload_case != ARCH(PAYLOAD_ATTRIBUTION_FACT) || !r->attribution_fact) continue;
        const Mediation__V1__AttributionFactLite *af = r->attribution_fact;
        v[n++] = (g_fact){
            .event_type = af->event_type ? af->event_type : "",
            .attribution_type = af->attribution_type ? af->attribution_type : "",
            .source_event_id = af->source_event_id ? af->source_event_id : "",
            .closure_key = closure_of(r),
            .render_attempt_id = af->render_attempt_id_or_na_opt_case ? af->render_attempt_id_or_na : NULL,
            .record_status = r->record_status ? r->record_status : "",
            .record_key = r->record_key ? r->record_key : "",
            .reason_code = r->decision_reason_code ? r->decision_reason_code : "",
            .at_ms = af->fact_at_unix_ms,
        };
    }
    *out = v;
    return n;
}
