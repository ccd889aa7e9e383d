/* Fragments of one opportunity: which stored audit is a stage's decision,
 * archive rows decoded from their stored bytes (or a pre-0018 row's JSON),
 * and the event facts F archived. Pure. */
#include <stdlib.h>
#include <string.h>

#include "g_assemble.h"
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

/* ---- stored archive row -> record ---- */

/* A pre-0018 row: the record as JSON (at the top, or under "record" when
 * the ArchiveRecord envelope was rendered). */
static Mediation__V1__FToGArchiveRecordLite *record_from_legacy(med_arena *a, const char *text)
{
    json_error_t je;
    json_t *j = text ? json_loads(text, 0, &je) : NULL;
    if (!json_is_object(j)) {
        json_decref(j);
        return NULL;
    }
    const json_t *body = json_object_get(j, "recordKey") ? j : json_object_get(j, "record");
    ProtobufCMessage *m = json_is_object(body)
        ? g_pb_from_json(a, body, &mediation__v1__fto_garchive_record_lite__descriptor) : NULL;
    json_decref(j);
    return (Mediation__V1__FToGArchiveRecordLite *)m;
}

med_rc g_archive_decode(med_arena *a, const g_arch_stored *s, Mediation__V1__FToGArchiveRecordLite **out,
                        med_err *err)
{
    Mediation__V1__FToGArchiveRecordLite *r = NULL;
    if (s->pb) {
        ProtobufCAllocator al;
        g_pb_arena_allocator(a, &al);
        r = mediation__v1__fto_garchive_record_lite__unpack(&al, s->pb_len, s->pb);
    } else {
        r = record_from_legacy(a, s->legacy_json);
    }
    if (r) r->record_status = med_arena_strdup(a, s->record_status ? s->record_status : "");
    *out = a->failed ? NULL : r;
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

/* NULL for none (an "NA" written out counts as none). */
static const char *closure_of(const Mediation__V1__FToGArchiveRecordLite *r)
{
    const Mediation__V1__ArchiveRelationKeysLite *k = r->relation_keys;
    const char *c = k && k->closure_key_or_na_opt_case ? k->closure_key_or_na : NULL;
    return c && *c && strcmp(c, "NA") != 0 ? c : NULL;
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
