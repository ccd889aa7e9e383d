/* What F takes from a Delivery (see f_delivery_record.h). */
#include "f_delivery_record.h"

#include <stdlib.h>
#include <string.h>

#include "f_archive.h"
#include "f_facts.h"
#include "f_keys.h"
#include "f_timers.h"
#include "f_work.h"
#include "med/reason.h"

static const char *anchor_of(const Mediation__V1__Delivery *d, const char *header_anchor)
{
    if (header_anchor && header_anchor[0]) return header_anchor;
    if (d->trace && d->trace->anchor_hash && d->trace->anchor_hash[0]) return d->trace->anchor_hash;
    if (d->version_anchor_snapshot && d->version_anchor_snapshot->anchor_hash &&
        d->version_anchor_snapshot->anchor_hash[0])
        return d->version_anchor_snapshot->anchor_hash;
    return NULL;
}

med_rc f_delivery_facts_of(med_arena *a, const Mediation__V1__Delivery *d, const char *header_anchor,
                           int64_t now_ms, f_delivery_facts *out, med_err *err)
{
    memset(out, 0, sizeof *out);
    const char *st = d->status ? d->status : "";
    int served = strcmp(st, "served") == 0;
    if (!F_REQ(d->response_reference) ||
        (!served && strcmp(st, "no_fill") != 0 && strcmp(st, "error") != 0))
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_DECODE_FAILED, "responseReference",
                           "Delivery without responseReference or with status '%s'", st);
    out->response_reference = d->response_reference;
    out->status = st;
    out->final_reason_code = F_REQ(d->final_reason_code);
    out->trace_key = F_REQ(d->trace_key);
    out->request_key = F_REQ(d->request_key);
    out->attempt_key = F_REQ(d->attempt_key);
    out->opportunity_key = F_REQ(d->opportunity_key);
    out->anchor_hash = anchor_of(d, header_anchor);
    /* the auction's price, which E copies onto a served Delivery */
    out->amount_micros = served ? d->winner_price_micros : 0;
    out->currency = served && d->winner_currency && d->winner_currency[0] ? d->winner_currency : NULL;
    out->delivered_at_ms = d->delivered_at_unix_ms > 0 ? d->delivered_at_unix_ms : now_ms;
    out->terminal = !served;
    if (served) {
        char ra[32];
        f_default_render_attempt_id(d->response_reference, d->attempt_key, ra, sizeof ra);
        out->default_render_attempt_id = med_arena_strdup(a, ra);
        if (!out->default_render_attempt_id)
            return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "default attempt");
    }
    return MED_OK;
}

static Mediation__V1__FactDecisionAuditLite *drop_audit(med_arena *a, const char *source_event_id,
                                                        const char *reason, int64_t now_ms)
{
    Mediation__V1__FactDecisionAuditLite *fd = MED_NEW(a, Mediation__V1__FactDecisionAuditLite);
    if (!fd) return NULL;
    mediation__v1__fact_decision_audit_lite__init(fd);
    fd->source_event_id = (char *)source_event_id;
    fd->mapping_rule_version = (char *)F_MAPPING_RULE_VERSION;
    fd->decision_action = (char *)F_ACTION_DROP;
    fd->decision_reason_code = (char *)reason;
    fd->conflict_decision = (char *)"none";
    fd->decided_at_unix_ms = now_ms;
    return fd;
}

static Mediation__V1__ArchiveSourceKeysLite *source_keys(med_arena *a, const f_delivery_facts *f,
                                                         const char *event_id)
{
    Mediation__V1__ArchiveSourceKeysLite *k = MED_NEW(a, Mediation__V1__ArchiveSourceKeysLite);
    if (!k) return NULL;
    mediation__v1__archive_source_keys_lite__init(k);
    k->event_id = (char *)event_id;
    k->source_event_id = (char *)event_id;
    k->trace_key = (char *)f_or_na(f->trace_key);
    k->request_key = (char *)f_or_na(f->request_key);
    k->attempt_key = (char *)f_or_na(f->attempt_key);
    k->opportunity_key = (char *)f_or_na(f->opportunity_key);
    k->response_reference_or_na_opt_case =
        MEDIATION__V1__ARCHIVE_SOURCE_KEYS_LITE__RESPONSE_REFERENCE_OR_NA_OPT_RESPONSE_REFERENCE_OR_NA;
    k->response_reference_or_na = (char *)f->response_reference;
    k->render_attempt_id_or_na_opt_case =
        MEDIATION__V1__ARCHIVE_SOURCE_KEYS_LITE__RENDER_ATTEMPT_ID_OR_NA_OPT_RENDER_ATTEMPT_ID_OR_NA;
    k->render_attempt_id_or_na = (char *)F_NA;
    return k;
}

static Mediation__V1__ArchiveRelationKeysLite *relation_keys(med_arena *a, const char *dedup_key)
{
    Mediation__V1__ArchiveRelationKeysLite *r = MED_NEW(a, Mediation__V1__ArchiveRelationKeysLite);
    if (!r) return NULL;
    mediation__v1__archive_relation_keys_lite__init(r);
    r->closure_key_or_na_opt_case =
        MEDIATION__V1__ARCHIVE_RELATION_KEYS_LITE__CLOSURE_KEY_OR_NA_OPT_CLOSURE_KEY_OR_NA;
    r->closure_key_or_na = (char *)F_NA;
    r->billing_key_or_na_opt_case =
        MEDIATION__V1__ARCHIVE_RELATION_KEYS_LITE__BILLING_KEY_OR_NA_OPT_BILLING_KEY_OR_NA;
    r->billing_key_or_na = (char *)F_NA;
    r->attribution_key_or_na_opt_case =
        MEDIATION__V1__ARCHIVE_RELATION_KEYS_LITE__ATTRIBUTION_KEY_OR_NA_OPT_ATTRIBUTION_KEY_OR_NA;
    r->attribution_key_or_na = (char *)F_NA;
    r->canonical_dedup_key = (char *)dedup_key;
    return r;
}

static Mediation__V1__ArchiveVersionAnchorsLite *anchors(med_arena *a, const char *event_version)
{
    Mediation__V1__ArchiveVersionAnchorsLite *v = MED_NEW(a, Mediation__V1__ArchiveVersionAnchorsLite);
    if (!v) return NULL;
    mediation__v1__archive_version_anchors_lite__init(v);
    v->event_contract_version = (char *)(event_version && event_version[0] ? event_version
                                                                           : F_SYNTH_EVENT_VERSION);
    v->mapping_rule_version = (char *)F_MAPPING_RULE_VERSION;
    v->dedup_fingerprint_version = (char *)F_DEDUP_VERSION;
    v->closure_rule_version = (char *)F_CLOSURE_RULE_VERSION;
    v->billing_rule_version = (char *)F_BILLING_RULE_VERSION;
    v->archive_contract_version = (char *)F_ARCHIVE_CONTRACT_VERSION;
    return v;
}

Mediation__V1__FToGArchiveRecordLite *f_delivery_terminal_record(med_arena *a,
                                                                  const f_delivery_facts *f,
                                                                  const char *app_id,
                                                                  const char *event_version,
                                                                  int64_t now_ms)
{
    const char *reason = f->final_reason_code ? f->final_reason_code : f->status;
    char *event_id = med_arena_printf(a, "delivery_%s", f->response_reference);
    char *joined = F_JOIN(a, app_id, f->response_reference, "delivery");
    char *dedup = joined ? med_arena_printf(a, F_DEDUP_VERSION ":none:%s", joined) : NULL;
    char *payload_key = event_id ? F_JOIN(a, event_id, reason) : NULL;
    Mediation__V1__FToGArchiveRecordLite *r = MED_NEW(a, Mediation__V1__FToGArchiveRecordLite);
    Mediation__V1__ArchivePayloadRefLite *ref = MED_NEW(a, Mediation__V1__ArchivePayloadRefLite);
    if (!dedup || !payload_key || !r || !ref) return NULL;
    mediation__v1__fto_garchive_record_lite__init(r);
    mediation__v1__archive_payload_ref_lite__init(ref);
    ref->payload_type = (char *)F_REC_DECISION_AUDIT;
    ref->payload_key = payload_key;
    r->record_key = f_record_key(a, F_REC_DECISION_AUDIT, payload_key, dedup);
    r->record_type = (char *)F_REC_DECISION_AUDIT;
    /* F decided it and commits it before publishing (as for event records) */
    r->record_status = (char *)"committed";
    r->payload_ref = ref;
    r->source_keys = source_keys(a, f, event_id);
    r->relation_keys = relation_keys(a, dedup);
    r->version_anchors = anchors(a, event_version);
    r->decision_reason_code = (char *)reason;
    r->output_at_unix_ms = now_ms;
    r->payload_case = MEDIATION__V1__FTO_GARCHIVE_RECORD_LITE__PAYLOAD_DECISION_AUDIT;
    r->decision_audit = drop_audit(a, event_id, reason, now_ms);
    r->anchor_hash = (char *)(f->anchor_hash ? f->anchor_hash : "");
    r->group_consistency_state = (char *)"consistent_non_billable";
    if (!r->record_key || !r->source_keys || !r->relation_keys || !r->version_anchors ||
        !r->decision_audit)
        return NULL;
    return r;
}
