/* F.8: what F tells G about each processed event. A recordKey is a pure
 * function of the record's type, payload key and dedup key, so a resend
 * (compensation, a redelivered batch) always names the same record. */
#include "f_archive.h"

#include <stdlib.h>
#include <string.h>

#include "f_facts.h"
#include "f_keys.h"
#include "med/reason.h"

typedef Mediation__V1__FToGArchiveRecordLite rec_t;

/* What every record of one source shares. */
typedef struct rec_src {
    const char *event_id;        /* the processed event */
    const char *source_event_id; /* the event the record is about */
    const char *trace_key;
    const char *dedup_key;       /* canonicalDedupKey of the source event */
    const char *billing_key;     /* relation keys, NULL = NA */
    const char *attribution_key;
} rec_src;

static const char *anchor_hash(const f_batch_work *b, const f_event_work *ew)
{
    if (ew->delivery_row >= 0) {
        const f_delivery_row *d = &b->deliveries[ew->delivery_row];
        if (d->found && d->anchor_hash && d->anchor_hash[0]) return d->anchor_hash;
    }
    return b->anchor_hash ? b->anchor_hash : "";
}

static Mediation__V1__ArchiveSourceKeysLite *source_keys(med_arena *a, const Mediation__V1__SdkEvent *ev,
                                                         const rec_src *s)
{
    Mediation__V1__ArchiveSourceKeysLite *k = MED_NEW(a, Mediation__V1__ArchiveSourceKeysLite);
    if (!k) return NULL;
    *k = (Mediation__V1__ArchiveSourceKeysLite)MEDIATION__V1__ARCHIVE_SOURCE_KEYS_LITE__INIT;
    k->event_id = (char *)f_or_na(s->event_id);
    k->source_event_id = (char *)f_or_na(s->source_event_id);
    k->trace_key = (char *)f_or_na(s->trace_key);
    k->request_key = (char *)f_or_na(F_REQ(ev->request_key));
    k->attempt_key = (char *)f_or_na(F_REQ(ev->attempt_key));
    k->opportunity_key = (char *)f_or_na(F_REQ(ev->opportunity_key));
    if (F_OPT(ev, response_reference)) {
        k->response_reference_or_na_opt_case =
            MEDIATION__V1__ARCHIVE_SOURCE_KEYS_LITE__RESPONSE_REFERENCE_OR_NA_OPT_RESPONSE_REFERENCE_OR_NA;
        k->response_reference_or_na = (char *)F_OPT(ev, response_reference);
    }
    if (F_OPT(ev, render_attempt_id)) {
        k->render_attempt_id_or_na_opt_case =
            MEDIATION__V1__ARCHIVE_SOURCE_KEYS_LITE__RENDER_ATTEMPT_ID_OR_NA_OPT_RENDER_ATTEMPT_ID_OR_NA;
        k->render_attempt_id_or_na = (char *)F_OPT(ev, render_attempt_id);
    }
    return k;
}

static Mediation__V1__ArchiveRelationKeysLite *relation_keys(med_arena *a, const Mediation__V1__SdkEvent *ev,
                                                             const rec_src *s)
{
    Mediation__V1__ArchiveRelationKeysLite *k = MED_NEW(a, Mediation__V1__ArchiveRelationKeysLite);
    if (!k) return NULL;
    *k = (Mediation__V1__ArchiveRelationKeysLite)MEDIATION__V1__ARCHIVE_RELATION_KEYS_LITE__INIT;
    char *ck = f_closure_key(a, F_OPT(ev, response_reference), F_OPT(ev, render_attempt_id));
    if (ck) {
        k->closure_key_or_na_opt_case =
            MEDIATION__V1__ARCHIVE_RELATION_KEYS_LITE__CLOSURE_KEY_OR_NA_OPT_CLOSURE_KEY_OR_NA;
        k->closure_key_or_na = ck;
    }
    if (s->billing_key) {
        k->billing_key_or_na_opt_case =
            MEDIATION__V1__ARCHIVE_RELATION_KEYS_LITE__BILLING_KEY_OR_NA_OPT_BILLING_KEY_OR_NA;
        k->billing_key_or_na = (char *)s->billing_key;
    }
    if (s->attribution_key) {
        k->attribution_key_or_na_opt_case =
            MEDIATION__V1__ARCHIVE_RELATION_KEYS_LITE__ATTRIBUTION_KEY_OR_NA_OPT_ATTRIBUTION_KEY_OR_NA;
        k->attribution_key_or_na = (char *)s->attribution_key;
    }
    k->canonical_dedup_key = (char *)s->dedup_key;
    return k;
}

static Mediation__V1__ArchiveVersionAnchorsLite *anchors(med_arena *a, const Mediation__V1__SdkEvent *ev)
{
    Mediation__V1__ArchiveVersionAnchorsLite *v = MED_NEW(a, Mediation__V1__ArchiveVersionAnchorsLite);
    if (!v) return NULL;
    *v = (Mediation__V1__ArchiveVersionAnchorsLite)MEDIATION__V1__ARCHIVE_VERSION_ANCHORS_LITE__INIT;
    v->event_contract_version = (char *)(F_REQ(ev->event_version) ? ev->event_version : "");
    v->mapping_rule_version = (char *)F_MAPPING_RULE_VERSION;
    v->dedup_fingerprint_version = (char *)F_DEDUP_VERSION;
    v->closure_rule_version = (char *)F_CLOSURE_RULE_VERSION;
    v->billing_rule_version = (char *)F_BILLING_RULE_VERSION;
    v->archive_contract_version = (char *)F_ARCHIVE_CONTRACT_VERSION;
    return v;
}

static int anchors_complete(const Mediation__V1__ArchiveVersionAnchorsLite *v)
{
    return F_REQ(v->event_contract_version) && F_REQ(v->mapping_rule_version) &&
           F_REQ(v->dedup_fingerprint_version) && F_REQ(v->closure_rule_version) &&
           F_REQ(v->billing_rule_version) && F_REQ(v->archive_contract_version);
}

/* F.8 output checks: anchors, then the relation key a fact needs. */
static void output_checks(rec_t *r)
{
    const Mediation__V1__ArchiveRelationKeysLite *k = r->relation_keys;
    if (!anchors_complete(r->version_anchors)) {
        r->record_status = (char *)"rejected";
        r->decision_reason_code = (char *)MED_R_F_OUTPUT_MISSING_VERSION_ANCHOR;
    } else if ((r->payload_case == MEDIATION__V1__FTO_GARCHIVE_RECORD_LITE__PAYLOAD_BILLABLE_FACT &&
                !k->billing_key_or_na_opt_case) ||
               (r->payload_case == MEDIATION__V1__FTO_GARCHIVE_RECORD_LITE__PAYLOAD_ATTRIBUTION_FACT &&
                !k->attribution_key_or_na_opt_case)) {
        r->record_status = (char *)"rejected";
        r->decision_reason_code = (char *)MED_R_F_OUTPUT_MISSING_RELATION_KEY;
    }
}

static rec_t *new_record(f_batch_work *b, const f_event_work *ew, const rec_src *s,
                         const char *type, const char *payload_key, const char *status,
                         const char *reason)
{
    med_arena *a = &b->arena;
    rec_t *r = MED_NEW(a, rec_t);
    Mediation__V1__ArchivePayloadRefLite *p = MED_NEW(a, Mediation__V1__ArchivePayloadRefLite);
    if (!r || !p || !payload_key) return NULL;
    *r = (rec_t)MEDIATION__V1__FTO_GARCHIVE_RECORD_LITE__INIT;
    *p = (Mediation__V1__ArchivePayloadRefLite)MEDIATION__V1__ARCHIVE_PAYLOAD_REF_LITE__INIT;
    p->payload_type = (char *)type;
    p->payload_key = (char *)payload_key;
    r->record_key = f_record_key(a, type, payload_key, s->dedup_key);
    r->record_type = (char *)type;
    r->record_status = (char *)status;
    r->payload_ref = p;
    r->source_keys = source_keys(a, ew->ev, s);
    r->relation_keys = relation_keys(a, ew->ev, s);
    r->version_anchors = anchors(a, ew->ev);
    r->decision_reason_code = (char *)(reason ? reason : "");
    r->output_at_unix_ms = b->now_ms;
    r->anchor_hash = (char *)anchor_hash(b, ew);
    if (!r->record_key || !r->source_keys || !r->relation_keys || !r->version_anchors) return NULL;
    return r;
}

static const char *audit_status(const f_event_work *ew)
{
    switch (ew->status) {
    case F_ACK_ACCEPTED: return "new";
    case F_ACK_REJECTED: return "rejected";
    default: return ew->conflicted ? "conflicted" : "duplicate";
    }
}

typedef struct rec_list {
    rec_t **v;
    size_t n, cap;
} rec_list;

static med_rc push(rec_list *l, rec_t *r)
{
    if (!r || l->n >= l->cap) return MED_ERR_NOMEM;
    l->v[l->n++] = r;
    return MED_OK;
}

static rec_t *audit_record(f_batch_work *b, const f_event_work *ew, const rec_src *s,
                           Mediation__V1__FactDecisionAuditLite *d, const char *status)
{
    char *pk = F_JOIN(&b->arena, s->source_event_id, d->decision_reason_code);
    rec_t *r = new_record(b, ew, s, F_REC_DECISION_AUDIT, pk, status, d->decision_reason_code);
    if (!r) return NULL;
    r->payload_case = MEDIATION__V1__FTO_GARCHIVE_RECORD_LITE__PAYLOAD_DECISION_AUDIT;
    r->decision_audit = d;
    output_checks(r);
    return r;
}

static rec_t *billable_record(f_batch_work *b, const f_event_work *ew, const rec_src *base,
                              Mediation__V1__BillableFactLite *f, const char *reason)
{
    rec_src s = *base;
    s.billing_key = f->billing_key;
    rec_t *r = new_record(b, ew, &s, F_REC_BILLABLE_FACT, f->billing_key, "new", reason);
    if (!r) return NULL;
    r->payload_case = MEDIATION__V1__FTO_GARCHIVE_RECORD_LITE__PAYLOAD_BILLABLE_FACT;
    r->billable_fact = f;
    output_checks(r);
    return r;
}

static rec_t *attribution_record(f_batch_work *b, const f_event_work *ew, const rec_src *base,
                                 Mediation__V1__AttributionFactLite *f, const char *status,
                                 const char *reason)
{
    rec_src s = *base;
    s.attribution_key = f->attribution_key;
    rec_t *r = new_record(b, ew, &s, F_REC_ATTRIBUTION_FACT, f->attribution_key, status, reason);
    if (!r) return NULL;
    r->payload_case = MEDIATION__V1__FTO_GARCHIVE_RECORD_LITE__PAYLOAD_ATTRIBUTION_FACT;
    r->attribution_fact = f;
    output_checks(r);
    return r;
}

static int is_own(const f_event_work *ew, const char *source_event_id)
{
    const char *id = F_REQ(ew->ev->event_id);
    return id && source_event_id && strcmp(id, source_event_id) == 0;
}

/* The event's canonicalDedupKey, or the F.8 fallback when it has none. */
static const char *own_dedup_key(f_batch_work *b, const f_event_work *ew)
{
    return ew->dedup_key ? ew->dedup_key
                         : f_dedup_key_none(&b->arena, b->req->app_id, b->req->batch_id, ew->index);
}

/* The dedup key a fact's records carry: the event's own, or for the
 * pending click the event resolved, the click's (click_src). */
static const char *fact_dedup_key(const f_event_work *ew, const char *own, const char *source_event_id)
{
    return is_own(ew, source_event_id) || !ew->click.click_dedup_key ? own : ew->click.click_dedup_key;
}

const char *f_archive_billable_record_key(f_batch_work *b, const f_event_work *ew,
                                          const Mediation__V1__BillableFactLite *f)
{
    const char *own = own_dedup_key(b, ew);
    if (!own || !f || !f->billing_key) return NULL;
    return f_record_key(&b->arena, F_REC_BILLABLE_FACT, f->billing_key,
                        fact_dedup_key(ew, own, f->source_event_id));
}

/* The event's own sources: its dedup key (or the F.8 fallback) and the
 * keys of its first own facts as relations. */
static med_rc own_src(f_batch_work *b, const f_event_work *ew, rec_src *s)
{
    memset(s, 0, sizeof *s);
    s->event_id = F_REQ(ew->ev->event_id);
    s->source_event_id = s->event_id;
    s->trace_key = F_REQ(ew->ev->trace_key);
    s->dedup_key = own_dedup_key(b, ew);
    for (size_t i = 0; i < ew->n_billable && !s->billing_key; i++)
        if (is_own(ew, ew->billable[i]->source_event_id)) s->billing_key = ew->billable[i]->billing_key;
    if (ew->n_attribution) s->attribution_key = ew->attribution[0]->attribution_key;
    return s->dedup_key ? MED_OK : MED_ERR_NOMEM;
}

/* The pending click this event resolved: its records carry the click's
 * own dedup key and trace. */
static void click_src(const f_event_work *ew, const rec_src *own, rec_src *s)
{
    *s = *own;
    s->source_event_id = ew->click.click_event_id;
    s->trace_key = ew->click.click_trace_key;
    s->dedup_key = fact_dedup_key(ew, own->dedup_key, s->source_event_id);
    s->billing_key = NULL;
    s->attribution_key = ew->click.attribution ? ew->click.attribution->attribution_key : NULL;
    for (size_t i = 0; i < ew->n_billable; i++)
        if (!is_own(ew, ew->billable[i]->source_event_id)) s->billing_key = ew->billable[i]->billing_key;
}

static med_rc audits(f_batch_work *b, const f_event_work *ew, const rec_src *own,
                     const rec_src *click, rec_list *l)
{
    med_rc rc = push(l, audit_record(b, ew, own, ew->fact_decision, audit_status(ew)));
    if (rc == MED_OK && ew->supersedes_record_key) {
        Mediation__V1__FactDecisionAuditLite *d = f_fact_decision_copy(&b->arena, ew->fact_decision,
                                                                       MED_R_F_TERMINAL_SUPERSEDED_BY_IMPRESSION);
        rec_t *r = d ? audit_record(b, ew, own, d, "new") : NULL;
        if (r) {
            r->superseded_record_key_opt_case =
                MEDIATION__V1__FTO_GARCHIVE_RECORD_LITE__SUPERSEDED_RECORD_KEY_OPT_SUPERSEDED_RECORD_KEY;
            r->superseded_record_key = (char *)ew->supersedes_record_key;
        }
        rc = push(l, r);
    }
    if (rc == MED_OK && ew->click.decision) rc = push(l, audit_record(b, ew, click, ew->click.decision, "new"));
    return rc;
}

med_rc f_archive_event_records(f_batch_work *b, f_event_work *ew)
{
    if (!ew->fact_decision) return MED_ERR_INTERNAL;
    rec_src own, click;
    if (own_src(b, ew, &own) != MED_OK) return MED_ERR_NOMEM;
    click_src(ew, &own, &click);
    rec_list l = {MED_NEWN(&b->arena, rec_t *, 4 + ew->n_billable + ew->n_attribution), 0,
                  4 + ew->n_billable + ew->n_attribution};
    if (!l.v) return MED_ERR_NOMEM;
    const char *reason = ew->fact_decision->decision_reason_code;
    const char *fact_status = ew->conflicted ? "conflicted" : "new";
    med_rc rc = audits(b, ew, &own, &click, &l);
    for (size_t i = 0; rc == MED_OK && i < ew->n_billable; i++) {
        int mine = is_own(ew, ew->billable[i]->source_event_id);
        const char *why = mine || !ew->click.decision ? reason : ew->click.decision->decision_reason_code;
        rc = push(&l, billable_record(b, ew, mine ? &own : &click, ew->billable[i], why));
    }
    for (size_t i = 0; rc == MED_OK && i < ew->n_attribution; i++)
        rc = push(&l, attribution_record(b, ew, &own, ew->attribution[i], fact_status, reason));
    if (rc == MED_OK && ew->click.attribution)
        rc = push(&l, attribution_record(b, ew, &click, ew->click.attribution, "conflicted",
                                         ew->click.decision->decision_reason_code));
    ew->records = l.v;
    ew->n_records = l.n;
    return rc;
}

/* ---- write order ---- */

static int type_rank(const char *t)
{
    if (strcmp(t, F_REC_DECISION_AUDIT) == 0) return 0;
    if (strcmp(t, F_REC_BILLABLE_FACT) == 0) return 1;
    return 2;
}

static int cmp_group(const rec_t *a, const rec_t *b)
{
    const char *ca = a->relation_keys->closure_key_or_na_opt_case ? a->relation_keys->closure_key_or_na : F_NA;
    const char *cb = b->relation_keys->closure_key_or_na_opt_case ? b->relation_keys->closure_key_or_na : F_NA;
    int c = strcmp(ca, cb);
    return c ? c : strcmp(a->source_keys->trace_key, b->source_keys->trace_key);
}

int f_archive_write_order(const rec_t *a, const rec_t *b)
{
    int c = cmp_group(a, b);
    if (c) return c;
    int ra = type_rank(a->record_type), rb = type_rank(b->record_type);
    if (ra != rb) return ra - rb;
    if (a->output_at_unix_ms != b->output_at_unix_ms)
        return a->output_at_unix_ms < b->output_at_unix_ms ? -1 : 1;
    return strcmp(a->record_key, b->record_key);
}

static int cmp_records(const void *pa, const void *pb)
{
    return f_archive_write_order(*(rec_t *const *)pa, *(rec_t *const *)pb);
}

med_rc f_archive_collect(f_batch_work *b)
{
    size_t n = 0;
    for (size_t i = 0; i < b->n_events; i++) n += b->events[i].n_records;
    b->records = MED_NEWN(&b->arena, rec_t *, n);
    if (!b->records) return MED_ERR_NOMEM;
    b->n_records = 0;
    for (size_t i = 0; i < b->n_events; i++)
        for (size_t j = 0; j < b->events[i].n_records; j++)
            b->records[b->n_records++] = b->events[i].records[j];
    qsort(b->records, b->n_records, sizeof *b->records, cmp_records);
    return MED_OK;
}

void f_archive_mark_committed(f_batch_work *b)
{
    for (size_t i = 0; i < b->n_records; i++)
        if (strcmp(b->records[i]->record_status, "new") == 0)
            b->records[i]->record_status = (char *)"committed";
}
