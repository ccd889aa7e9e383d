/* Builds B's protobuf outputs from the work state: six blocks, the audits
 * (only from redacted text), the projection, the signal event. */
#include <stdio.h>
#include <string.h>

#include "b_audit.h"
#include "b_enum.h"
#include "b_signal.h"
#include "b_work.h"
#include "med/ids.h"
#include "med/reason.h"

#define S(x) ((char *)(x))

static const char *or_na(const char *s) { return s && s[0] ? s : "NA"; }

static const Mediation__V1__BIngressPacketLite *packet(const b_work *w)
{
    return w->in->seed ? w->in->seed->b_ingress_packet_lite : NULL;
}

static const char *key_or_na(const char *k) { return med_key_format_valid(k) ? k : "NA"; }

static Mediation__V1__TraceContextBlock *trace_block(b_work *w)
{
    Mediation__V1__TraceContextBlock *t = MED_NEW(w->a, Mediation__V1__TraceContextBlock);
    if (!t) return NULL;
    mediation__v1__trace_context_block__init(t);
    const Mediation__V1__BIngressPacketLite *p = packet(w);
    const Mediation__V1__TraceInitLite *ti = p ? p->trace_init_lite : NULL;
    t->trace_key = S(key_or_na(ti ? ti->trace_key : NULL));
    t->request_key = S(key_or_na(ti ? ti->request_key : NULL));
    t->attempt_key = S(key_or_na(ti ? ti->attempt_key : NULL));
    return t;
}

static Mediation__V1__CanonicalBlocks *blocks(b_work *w)
{
    med_arena *a = w->a;
    Mediation__V1__CanonicalBlocks *b = MED_NEW(a, Mediation__V1__CanonicalBlocks);
    Mediation__V1__RequestMeta *rm = MED_NEW(a, Mediation__V1__RequestMeta);
    Mediation__V1__PlacementMeta *pm = MED_NEW(a, Mediation__V1__PlacementMeta);
    Mediation__V1__UserContext *uc = MED_NEW(a, Mediation__V1__UserContext);
    Mediation__V1__OpportunityContext *oc = MED_NEW(a, Mediation__V1__OpportunityContext);
    Mediation__V1__PolicyContext *pc = MED_NEW(a, Mediation__V1__PolicyContext);
    if (!b || !rm || !pm || !uc || !oc || !pc) return NULL;
    mediation__v1__canonical_blocks__init(b);
    mediation__v1__request_meta__init(rm);
    mediation__v1__placement_meta__init(pm);
    mediation__v1__user_context__init(uc);
    mediation__v1__opportunity_context__init(oc);
    mediation__v1__policy_context__init(pc);
    b->trace_context = trace_block(w);
    b->request_meta = rm;
    b->placement_meta = pm;
    b->user_context = uc;
    b->opportunity_context = oc;
    b->policy_context = pc;
    if (w->fatal) return b;
    const Mediation__V1__BIngressPacketLite *p = w->p;
    rm->request_key = S(p->trace_init_lite->request_key);
    rm->request_timestamp_unix_ms = p->opportunity_seed->timestamps->request_at_unix_ms;
    rm->channel_type = S(or_na(w->channel_type));
    if (w->perf_bucket) {
        rm->device_perf_bucket_opt_case = MEDIATION__V1__REQUEST_META__DEVICE_PERF_BUCKET_OPT_DEVICE_PERF_BUCKET;
        rm->device_perf_bucket = S(w->perf_bucket);
    }
    pm->placement_key = S(p->opportunity_seed->placement_id);
    pm->placement_type = S(or_na(w->placement_type));
    pm->placement_surface = S(or_na(w->placement_surface));
    uc->session_key = S(w->session_key_hashed ? w->session_key_hashed : "NA");
    uc->actor_type = S(or_na(w->actor_type));
    uc->session_state = S(w->actx.session_state_value);
    uc->language_opt_case = MEDIATION__V1__USER_CONTEXT__LANGUAGE_OPT_LANGUAGE;
    uc->language = S(w->actx.language_value);
    if (w->depth_bucket) {
        uc->session_depth_bucket_opt_case = MEDIATION__V1__USER_CONTEXT__SESSION_DEPTH_BUCKET_OPT_SESSION_DEPTH_BUCKET;
        uc->session_depth_bucket = S(w->depth_bucket);
    }
    oc->trigger_decision = S(w->trigger_decision);
    oc->decision_outcome = S(w->decision_outcome);
    oc->hit_type = S(w->hit_type);
    oc->trigger_type_opt_case = MEDIATION__V1__OPPORTUNITY_CONTEXT__TRIGGER_TYPE_OPT_TRIGGER_TYPE;
    oc->trigger_type = S(p->trigger_snapshot_lite->trigger_type);
    oc->confidence_band_opt_case = MEDIATION__V1__OPPORTUNITY_CONTEXT__CONFIDENCE_BAND_OPT_CONFIDENCE_BAND;
    oc->confidence_band = w->band;
    if (w->intent_bucket) {
        oc->intent_bucket_opt_case = MEDIATION__V1__OPPORTUNITY_CONTEXT__INTENT_BUCKET_OPT_INTENT_BUCKET;
        oc->intent_bucket = S(w->intent_bucket);
    }
    pc->consent_scope = S(w->actx.consent_scope_value);
    pc->policy_gate_hint = S(or_na(w->policy_gate_hint));
    if (!w->flags_invalid) {
        pc->restricted_category_flags = w->flags;
        pc->n_restricted_category_flags = w->n_flags;
    }
    return b;
}

static Mediation__V1__NormalizationSummary *summary(b_work *w)
{
    Mediation__V1__NormalizationSummary *s = MED_NEW(w->a, Mediation__V1__NormalizationSummary);
    if (!s) return NULL;
    mediation__v1__normalization_summary__init(s);
    s->normalized_at_unix_ms = w->in->now_unix_ms;
    s->mapping_profile_version = w->cfg.mapping_profile_version;
    s->enum_dict_version = w->cfg.enum_dict_version;
    s->conflict_policy_version = w->cfg.conflict_policy_version;
    s->openrtb_projection_version = w->cfg.openrtb_projection_version;
    s->redaction_policy_version = w->cfg.redaction_policy_version;
    s->bucket_dict_version = w->cfg.bucket_dict_version;
    return s;
}

static Mediation__V1__MappingAuditRecordLite *audit_record(b_work *w, const b_rec *r)
{
    Mediation__V1__MappingAuditRecordLite *m = MED_NEW(w->a, Mediation__V1__MappingAuditRecordLite);
    char **raws = MED_NEWN(w->a, char *, B_MAX_RAWS);
    if (!m || !raws) return NULL;
    mediation__v1__mapping_audit_record_lite__init(m);
    for (int i = 0; i < r->n_raw; i++) raws[i] = S(r->red_raws[i] ? r->red_raws[i] : "NA");
    if (r->n_raw == 0) raws[0] = S("NA");
    m->semantic_slot = S(r->slot);
    m->raw_value = raws;
    m->n_raw_value = r->n_raw ? (size_t)r->n_raw : 1;
    m->normalized = S(or_na(r->red_normalized));
    m->conflict_action = S(r->conflict_action);
    m->rule_version = S(r->rule_version);
    if (r->bucket) {
        m->bucket_value_or_na_opt_case = MEDIATION__V1__MAPPING_AUDIT_RECORD_LITE__BUCKET_VALUE_OR_NA_OPT_BUCKET_VALUE_OR_NA;
        m->bucket_value_or_na = S(r->bucket);
    }
    m->reason_code = S(r->reason);
    m->source = S(r->source);
    m->mapping_action = S(r->mapping_action);
    m->audit_timestamp_unix_ms = w->in->now_unix_ms;
    return m;
}

static Mediation__V1__MappingAuditSnapshotLite *mapping_audit(b_work *w)
{
    Mediation__V1__MappingAuditSnapshotLite *s = MED_NEW(w->a, Mediation__V1__MappingAuditSnapshotLite);
    Mediation__V1__MappingAuditRecordLite **recs = MED_NEWN(w->a, Mediation__V1__MappingAuditRecordLite *, (size_t)w->n_recs);
    if (!s || !recs) return NULL;
    mediation__v1__mapping_audit_snapshot_lite__init(s);
    s->trace_key = S(w->p->trace_init_lite->trace_key);
    s->request_key = S(w->p->trace_init_lite->request_key);
    s->b_input_contract_version = S(w->p->b_input_contract_version);
    s->mapping_profile_version = w->cfg.mapping_profile_version;
    s->enum_dict_version = w->cfg.enum_dict_version;
    s->conflict_policy_version = w->cfg.conflict_policy_version;
    s->redaction_policy_version = w->cfg.redaction_policy_version;
    s->bucket_dict_version = w->cfg.bucket_dict_version;
    for (int i = 0; i < w->n_recs; i++)
        if (!(recs[i] = audit_record(w, &w->recs[i]))) return NULL;
    s->records = recs;
    s->n_records = (size_t)w->n_recs;
    b_audit_sort(s);
    return s;
}

static Mediation__V1__BucketDictLite *bucket_dict_lite(b_work *w)
{
    const b_bucket_dict *d = w->dict;
    Mediation__V1__BucketDictLite *l = MED_NEW(w->a, Mediation__V1__BucketDictLite);
    Mediation__V1__BucketSlotLite **slots = MED_NEWN(w->a, Mediation__V1__BucketSlotLite *, (size_t)d->n_slots);
    if (!l || !slots) return NULL;
    mediation__v1__bucket_dict_lite__init(l);
    for (int i = 0; i < d->n_slots; i++) {
        const b_bucket_slot *s = &d->slots[i];
        Mediation__V1__BucketSlotLite *o = slots[i] = MED_NEW(w->a, Mediation__V1__BucketSlotLite);
        Mediation__V1__BucketRangeLite **rs = MED_NEWN(w->a, Mediation__V1__BucketRangeLite *, (size_t)s->n_ranges);
        if (!o || !rs) return NULL;
        mediation__v1__bucket_slot_lite__init(o);
        for (int j = 0; j < s->n_ranges; j++) {
            if (!(rs[j] = MED_NEW(w->a, Mediation__V1__BucketRangeLite))) return NULL;
            mediation__v1__bucket_range_lite__init(rs[j]);
            rs[j]->bucket_value = S(s->ranges[j].value);
            rs[j]->lo = s->ranges[j].lo;
            rs[j]->hi = s->ranges[j].hi;
            rs[j]->hi_inclusive = s->ranges[j].hi_inclusive;
        }
        o->slot_name = S(s->name);
        o->source_field = S(s->source_field);
        o->value_type = S(s->value_type);
        o->range_lo = s->range_lo;
        o->range_hi = s->range_hi;
        o->buckets = rs;
        o->n_buckets = (size_t)s->n_ranges;
        o->unknown_bucket = S(s->unknown_bucket);
        o->outlier_low_bucket = S(s->outlier_low_bucket);
        o->outlier_high_bucket = S(s->outlier_high_bucket);
    }
    l->bucket_dict_version = (char *)d->version;
    l->slots = slots;
    l->n_slots = (size_t)d->n_slots;
    return l;
}

static Mediation__V1__BucketAuditSnapshotLite *bucket_audit(b_work *w)
{
    Mediation__V1__BucketAuditSnapshotLite *s = MED_NEW(w->a, Mediation__V1__BucketAuditSnapshotLite);
    Mediation__V1__BucketSlotDecisionLite **ds = MED_NEWN(w->a, Mediation__V1__BucketSlotDecisionLite *, (size_t)w->n_buckets);
    if (!s || !ds) return NULL;
    mediation__v1__bucket_audit_snapshot_lite__init(s);
    for (int i = 0; i < w->n_buckets; i++) {
        if (!(ds[i] = MED_NEW(w->a, Mediation__V1__BucketSlotDecisionLite))) return NULL;
        mediation__v1__bucket_slot_decision_lite__init(ds[i]);
        ds[i]->slot_name = S(w->buckets[i].slot_name);
        ds[i]->raw_value = S(w->bucket_red_raws[i]);
        ds[i]->bucket_value = S(w->buckets[i].bucket_value);
        ds[i]->bucket_action = S(w->buckets[i].bucket_action);
        ds[i]->reason_code = S(w->buckets[i].reason_code);
    }
    s->trace_key = S(w->p->trace_init_lite->trace_key);
    s->request_key = S(w->p->trace_init_lite->request_key);
    s->attempt_key = S(w->p->trace_init_lite->attempt_key);
    s->bucket_dict_version = w->dict->version;
    s->slot_decisions = ds;
    s->n_slot_decisions = (size_t)w->n_buckets;
    s->generated_at_unix_ms = w->in->now_unix_ms;
    return s;
}

static int conflict_snapshots(b_work *w, Mediation__V1__NormalizedOpportunity *n)
{
    n->conflict_resolution_snapshots = MED_NEWN(w->a, Mediation__V1__ConflictResolutionSnapshotLite *, (size_t)w->n_conflicts);
    if (!n->conflict_resolution_snapshots) return 0;
    for (int i = 0; i < w->n_conflicts; i++) {
        b_slot_conflict *c = &w->conflicts[i];
        Mediation__V1__ConflictResolutionSnapshotLite *s =
            b_conflict_snapshot(w->a, c->slot, c->c, c->red_raws, c->n, &c->r, c->red_selected,
                                w->cfg.conflict_policy_version);
        if (!s) return 0;
        n->conflict_resolution_snapshots[n->n_conflict_resolution_snapshots++] = s;
    }
    return 1;
}

static int add_warning(b_work *w, Mediation__V1__NormalizedOpportunity *n, const char *slot,
                       const char *raw, const char *normalized, const char *code, const char *rule)
{
    Mediation__V1__MappingWarningLite *m = MED_NEW(w->a, Mediation__V1__MappingWarningLite);
    if (!m || n->n_mapping_warnings >= 48) return m != NULL;
    mediation__v1__mapping_warning_lite__init(m);
    m->semantic_slot = S(slot);
    m->raw_value = S(or_na(raw));
    m->normalized_value = S(or_na(normalized));
    m->disposition = S("degrade");
    m->reason_code = S(code);
    m->rule_version = S(rule);
    n->mapping_warnings[n->n_mapping_warnings++] = m;
    return 1;
}

static int record_warnings(b_work *w, Mediation__V1__NormalizedOpportunity *n)
{
    n->mapping_warnings = MED_NEWN(w->a, Mediation__V1__MappingWarningLite *, 48);
    if (!n->mapping_warnings) return 0;
    for (int i = 0; i < w->n_recs; i++) {
        const b_rec *r = &w->recs[i];
        if (r->degraded &&
            !add_warning(w, n, r->slot, r->n_raw ? r->red_raws[0] : NULL, r->red_normalized,
                         r->reason, r->rule_version))
            return 0;
    }
    return 1;
}

/* Every string an audit carries, for the verbatim-raw guard. */
static size_t audit_texts(const Mediation__V1__NormalizedOpportunity *n, const char **t, size_t cap)
{
    size_t k = 0;
    const Mediation__V1__MappingAuditSnapshotLite *m = n->mapping_audit_snapshot_lite;
    for (size_t i = 0; m && i < m->n_records; i++) {
        for (size_t j = 0; j < m->records[i]->n_raw_value && k < cap; j++) t[k++] = m->records[i]->raw_value[j];
        if (k < cap) t[k++] = m->records[i]->normalized;
    }
    for (size_t i = 0; i < n->n_conflict_resolution_snapshots; i++) {
        const Mediation__V1__ConflictResolutionSnapshotLite *c = n->conflict_resolution_snapshots[i];
        for (size_t j = 0; j < c->n_candidates && k + 2 < cap; j++) {
            t[k++] = c->candidates[j]->raw_value;
            t[k++] = c->candidates[j]->normalized_value;
        }
        if (k < cap) t[k++] = c->selected_value;
    }
    for (size_t i = 0; i < n->n_mapping_warnings && k + 2 < cap; i++) {
        t[k++] = n->mapping_warnings[i]->raw_value;
        t[k++] = n->mapping_warnings[i]->normalized_value;
    }
    const Mediation__V1__BucketAuditSnapshotLite *b = n->bucket_audit_snapshot_lite;
    for (size_t i = 0; b && i < b->n_slot_decisions && k < cap; i++) t[k++] = b->slot_decisions[i]->raw_value;
    const Mediation__V1__RedactionSnapshotLite *r = n->redaction_snapshot_lite;
    for (size_t i = 0; r && i < r->n_field_decisions && k < cap; i++)
        if (r->field_decisions[i]->output_preview_or_na_opt_case) t[k++] = r->field_decisions[i]->output_preview_or_na;
    return k;
}

static void guard(b_work *w, const Mediation__V1__NormalizedOpportunity *n)
{
    const char *texts[512];
    size_t k = audit_texts(n, texts, sizeof texts / sizeof texts[0]);
    med_err e;
    med_err_clear(&e);
    if (b_redactor_guard(&w->redactor, texts, k, &e) != MED_OK) {
        b_work_reject_err(w, &e);
        w->redaction_failed = 1;
    }
}

static const char *bucket_of(b_work *w, const char *slot)
{
    for (int i = 0; i < w->n_recs; i++)
        if (strcmp(w->recs[i].slot, slot) == 0) return w->recs[i].red_normalized;
    return NULL;
}

static void project(b_work *w, Mediation__V1__NormalizedOpportunity *n)
{
    const Mediation__V1__TraceInitLite *t = w->p->trace_init_lite;
    b_proj_input pi = {
        .request_key = t->request_key, .placement_key = w->p->opportunity_seed->placement_id,
        .placement_surface = w->placement_surface, .placement_type = w->placement_type,
        .trigger_decision = w->trigger_decision, .decision_outcome = w->decision_outcome,
        .hit_type = w->hit_type, .session_key_hashed = w->session_key_hashed,
        .device_id_hashed = w->device_id_hashed, .consent_scope = w->actx.consent_scope_value,
        .flags = (const char *const *)w->flags, .n_flags = w->n_flags,
        .flags_invalid = w->flags_invalid, .trace_key = t->trace_key, .attempt_key = t->attempt_key,
        .app_id = w->app_id, .request_ts = bucket_of(w, "RequestMeta.requestTimestamp"),
        .channel_type = w->channel_type, .actor_type = w->actor_type,
        .policy_gate_hint = w->policy_gate_hint, .perf_bucket = w->perf_bucket,
        .perf_bucket_degraded = w->perf_degraded,
        .redaction_enforced = w->redaction_snapshot && w->redaction_snapshot->before_audit_enforced &&
                              !w->redaction_failed,
    };
    med_err e;
    med_err_clear(&e);
    med_rc rc = b_project(w->a, &pi, w->cfg.openrtb_projection_version, &w->proj, &e);
    if (rc == MED_ERR_NOMEM) {
        w->a->failed = 1;
        return;
    }
    if (rc != MED_OK) b_work_reject_err(w, &e);
    else if (strcmp(w->proj.disposition, "partial") == 0) {
        b_verdict_degrade(w->v, MED_R_B_PROJ_PARTIAL_OPTIONAL_MISSING);
        for (size_t i = 0; i < w->proj.n_coverage; i++)
            if (strcmp(w->proj.coverage[i]->coverage_status, "degraded") == 0)
                add_warning(w, n, w->proj.coverage[i]->mapped_from, NULL, NULL,
                            MED_R_B_PROJ_PARTIAL_OPTIONAL_MISSING, w->cfg.openrtb_projection_version);
    }
    n->openrtb_projection_lite = w->proj.lite;
    n->openrtb_projection_version = w->cfg.openrtb_projection_version;
    Mediation__V1__ProjectionAuditSnapshotLite *pa = MED_NEW(w->a, Mediation__V1__ProjectionAuditSnapshotLite);
    if (!pa) return;
    mediation__v1__projection_audit_snapshot_lite__init(pa);
    pa->trace_key = S(t->trace_key);
    pa->request_key = S(t->request_key);
    pa->attempt_key = S(t->attempt_key);
    pa->openrtb_projection_version = w->cfg.openrtb_projection_version;
    pa->redaction_policy_version = w->cfg.redaction_policy_version;
    pa->projection_disposition = S(w->proj.disposition);
    pa->projection_reason_code = S(w->proj.reason_code);
    pa->target_coverage = w->proj.coverage;
    pa->n_target_coverage = w->proj.n_coverage;
    pa->generated_at_unix_ms = w->in->now_unix_ms;
    n->projection_audit_snapshot_lite = pa;
}

static void audits(b_work *w, Mediation__V1__NormalizedOpportunity *n)
{
    n->bucket_dict_lite = bucket_dict_lite(w);
    if (!w->redaction_failed) {
        n->redaction_policy_lite = b_redact_policy_lite(w->a, w->policy);
        n->redaction_snapshot_lite = w->redaction_snapshot;
        n->mapping_audit_snapshot_lite = mapping_audit(w);
        n->bucket_audit_snapshot_lite = bucket_audit(w);
        if (!conflict_snapshots(w, n) || !record_warnings(w, n)) return;
        guard(w, n);
    }
    if (w->redaction_failed) {
        /* Nothing built from raw values may leave once redaction failed. */
        n->mapping_audit_snapshot_lite = NULL;
        n->bucket_audit_snapshot_lite = NULL;
        n->n_conflict_resolution_snapshots = 0;
        n->n_mapping_warnings = 0;
        n->redaction_snapshot_lite = NULL;
    }
    med_err e;
    med_err_clear(&e);
    if (n->mapping_audit_snapshot_lite && b_audit_validate(n->mapping_audit_snapshot_lite, &e) != MED_OK)
        b_work_reject_err(w, &e);
    project(w, n);
}

static void carry(b_work *w, Mediation__V1__NormalizedOpportunity *n)
{
    const Mediation__V1__OpportunitySeed *s = w->in->seed;
    const Mediation__V1__BIngressPacketLite *p = packet(w);
    if (!s) return;
    n->schema_version = S(or_na(s->schema_version));
    n->routing_context_lite = s->routing_context_lite;
    n->config_snapshot_lite = s->config_snapshot_lite;
    n->policy_snapshot_lite = s->policy_snapshot_lite;
    n->version_anchor_snapshot = s->version_anchor_snapshot;
    n->placement_spec_lite = s->placement_spec_lite;
    n->device_capabilities_lite = s->device_capabilities_lite;
    if (!p) return;
    n->trigger_snapshot_lite = p->trigger_snapshot_lite;
    n->sensing_decision_lite = p->sensing_decision_lite;
    n->a_error_lite = p->a_error_lite;
    n->a_latency_budget_lite = p->a_latency_budget_lite;
    n->a_dedup_snapshot_lite = p->a_dedup_snapshot_lite;
    n->config_failure = p->config_failure;
    n->trace_init_lite = p->trace_init_lite;
    n->b_input_contract_version = S(or_na(p->b_input_contract_version));
}

static void verdict(b_work *w, Mediation__V1__NormalizedOpportunity *n)
{
    const b_verdict *v = w->v;
    const char *action = b_verdict_action(v);
    const char *primary = b_verdict_primary(v);
    n->normalize_accepted = !v->rejected;
    n->normalize_action = S(action);
    n->error_action = S(b_normalize_error_action(action));
    n->state = S(v->rejected ? "error" : "received");
    n->reason_code = S(primary && (v->degraded || v->rejected) ? primary : MED_R_B_INPUT_MAPPED_COMPLETE);
    n->secondary_reason_codes = MED_NEWN(w->a, char *, (size_t)v->n);
    if (!n->secondary_reason_codes) return;
    for (int i = 0; i < v->n; i++)
        if (!primary || strcmp(v->codes[i], primary) != 0)
            n->secondary_reason_codes[n->n_secondary_reason_codes++] = S(v->codes[i]);
}

static const char *opportunity_key(const b_work *w)
{
    const Mediation__V1__BIngressPacketLite *p = packet(w);
    const char *k = p && p->opportunity_seed ? p->opportunity_seed->opportunity_key : NULL;
    return key_or_na(k);
}

/* b_signal.c decides; this builds the event (B.10) when sampled in. */
static void signal(b_work *w, Mediation__V1__NormalizedOpportunity *n)
{
    const Mediation__V1__TraceInitLite *t = w->p->trace_init_lite;
    int force = 0;
    for (size_t i = 0; i < w->p->n_debug_hints; i++)
        if (strcmp(w->p->debug_hints[i]->key, "debugForceSample") == 0)
            force = strcmp(w->p->debug_hints[i]->value, "true") == 0;
    b_sig_decision d;
    med_err e;
    med_err_clear(&e);
    b_sig_decide(t->trace_key, w->cfg.sampling_rule_version, w->cfg.sample_rate_bps, force, &d, &e);
    w->out->signal_reason = d.reason_code;
    if (!d.sampled_in) return;
    b_sig_idempotency_key(t->trace_key, t->request_key, t->attempt_key, n->opportunity_key,
                          w->cfg.sampling_rule_version, B_V_SIGNAL_EVENT, w->out->signal_idempotency_key);
    Mediation__V1__SignalNormalizedEventLite *ev = MED_NEW(w->a, Mediation__V1__SignalNormalizedEventLite);
    char **slots = MED_NEWN(w->a, char *, (size_t)w->n_recs);
    if (!ev || !slots) return;
    mediation__v1__signal_normalized_event_lite__init(ev);
    ev->event_key = S(or_na(w->in->signal_event_key));
    ev->event_idempotency_key = w->out->signal_idempotency_key;
    ev->event_type = S("signal_normalized");
    ev->trace_key = S(t->trace_key);
    ev->request_key = S(t->request_key);
    ev->attempt_key = S(t->attempt_key);
    ev->opportunity_key = n->opportunity_key;
    ev->sampling_decision = S("sampled_in");
    ev->sampling_rule_version = w->cfg.sampling_rule_version;
    ev->event_at_unix_ms = w->in->now_unix_ms;
    ev->mapping_profile_version = w->cfg.mapping_profile_version;
    ev->enum_dict_version = w->cfg.enum_dict_version;
    ev->bucket_dict_version = w->cfg.bucket_dict_version;
    ev->signal_normalized_event_contract_version = S(B_V_SIGNAL_EVENT);
    const Mediation__V1__MappingAuditSnapshotLite *m = n->mapping_audit_snapshot_lite;
    for (size_t i = 0; m && i < m->n_records; i++) slots[i] = m->records[i]->semantic_slot;
    ev->sampled_semantic_slots = slots;
    ev->n_sampled_semantic_slots = m ? m->n_records : 0;
    ev->mapping_audit_snapshot_ref_or_na_opt_case = MEDIATION__V1__SIGNAL_NORMALIZED_EVENT_LITE__MAPPING_AUDIT_SNAPSHOT_REF_OR_NA_OPT_MAPPING_AUDIT_SNAPSHOT_REF_OR_NA;
    ev->mapping_audit_snapshot_ref_or_na = med_arena_printf(w->a, "b.audit:%s", n->opportunity_key);
    ev->bucket_audit_snapshot_ref_or_na_opt_case = MEDIATION__V1__SIGNAL_NORMALIZED_EVENT_LITE__BUCKET_AUDIT_SNAPSHOT_REF_OR_NA_OPT_BUCKET_AUDIT_SNAPSHOT_REF_OR_NA;
    ev->bucket_audit_snapshot_ref_or_na = ev->mapping_audit_snapshot_ref_or_na;
    ev->sampling_hash = d.sampling_hash;
    ev->sample_rate_bps = (int32_t)w->cfg.sample_rate_bps;
    ev->debug_force_sample = d.forced;
    w->out->signal = ev;
    n->signal_normalized_event_ref_or_na_opt_case = MEDIATION__V1__NORMALIZED_OPPORTUNITY__SIGNAL_NORMALIZED_EVENT_REF_OR_NA_OPT_SIGNAL_NORMALIZED_EVENT_REF_OR_NA;
    n->signal_normalized_event_ref_or_na = ev->event_idempotency_key;
}

static Mediation__V1__BStageAuditLite *stage_audit(b_work *w, const Mediation__V1__NormalizedOpportunity *n)
{
    Mediation__V1__BStageAuditLite *a = MED_NEW(w->a, Mediation__V1__BStageAuditLite);
    if (!a) return NULL;
    mediation__v1__bstage_audit_lite__init(a);
    a->mapping_audit_snapshot_lite = n->mapping_audit_snapshot_lite;
    a->bucket_audit_snapshot_lite = n->bucket_audit_snapshot_lite;
    a->redaction_snapshot_lite = n->redaction_snapshot_lite;
    a->projection_audit_snapshot_lite = n->projection_audit_snapshot_lite;
    a->conflict_resolution_snapshots = n->conflict_resolution_snapshots;
    a->n_conflict_resolution_snapshots = n->n_conflict_resolution_snapshots;
    a->normalize_action = n->normalize_action;
    a->reason_code = n->reason_code;
    a->mapping_warnings = n->mapping_warnings;
    a->n_mapping_warnings = n->n_mapping_warnings;
    return a;
}

med_rc b_assemble(b_work *w, med_err *err)
{
    Mediation__V1__NormalizedOpportunity *n = MED_NEW(w->a, Mediation__V1__NormalizedOpportunity);
    if (!n) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_TRANSIENT_FAILURE, NULL, "oom");
    mediation__v1__normalized_opportunity__init(n);
    n->opportunity_key = S(opportunity_key(w));
    n->c_input_contract_version = S(B_V_C_INPUT_CONTRACT);
    carry(w, n);
    n->blocks = blocks(w);
    n->normalization_summary = summary(w);
    if (!w->fatal) audits(w, n);
    verdict(w, n);
    if (!w->fatal && !w->v->rejected) signal(w, n);
    w->out->norm = n;
    w->out->audit = stage_audit(w, n);
    if (w->a->failed || !n->blocks || !w->out->audit)
        return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_TRANSIENT_FAILURE, NULL, "out of memory");
    return MED_OK;
}
