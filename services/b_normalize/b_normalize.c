/* B.2 order: required -> trace -> config gate -> dictionaries -> empty
 * slots -> enums -> conflicts -> app_context -> confidenceBand -> buckets ->
 * six blocks + matrix -> redaction -> mapping audit -> projection (the last
 * two and the signal in b_assemble.c). */
#include "b_normalize.h"

#include <stdio.h>
#include <string.h>

#include "b_audit.h"
#include "b_enum.h"
#include "b_input.h"
#include "b_work.h"
#include "med/ids.h"
#include "med/reason.h"

const char *b_normalize_error_action(const char *normalize_action)
{
    if (strcmp(normalize_action, "reject") == 0) return "reject";
    return strcmp(normalize_action, "degrade") == 0 ? "degrade" : "allow";
}

static int step_fatal(b_work *w, med_rc rc, const med_err *e)
{
    if (rc == MED_OK) return 0;
    b_work_reject_err(w, e);
    w->fatal = 1;
    return 1;
}

static void gate_input(b_work *w)
{
    med_err e;
    med_err_clear(&e);
    if (step_fatal(w, b_input_required(w->in->seed, &e), &e)) return;
    w->p = w->in->seed->b_ingress_packet_lite;
    if (step_fatal(w, b_input_trace(w->p, &e), &e)) return;
    if (step_fatal(w, b_input_config_gate(w->p, &e), &e)) return;
    if (w->in->config_reject_code) {
        const char *code = med_reason_lookup(w->in->config_reject_code);
        b_verdict_reject(w->v, code ? code : MED_R_H_CFG_FAIL_CLOSED_NO_STABLE_SNAPSHOT);
        w->fatal = 1;
    }
}

static med_rc load_dictionaries(b_work *w, med_err *err)
{
    med_err e;
    med_err_clear(&e);
    w->dict = MED_NEW(w->a, b_bucket_dict);
    w->policy = MED_NEW(w->a, b_redact_policy);
    if (!w->dict || !w->policy) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_TRANSIENT_FAILURE, NULL, "oom");
    if (b_bucket_dict_build(w->cfg.bucket_bounds, w->cfg.bucket_dict_version, w->dict, &e) != MED_OK)
        b_work_reject_err(w, &e);
    med_err_clear(&e);
    if (b_redact_policy_build(w->cfg.redaction_levels, w->cfg.redaction_policy_version,
                              w->cfg.salt_key_ref, w->policy, &e) != MED_OK) {
        b_work_reject_err(w, &e);
        w->redaction_failed = 1;
    }
    b_redactor_init(&w->redactor, w->policy, w->in->salt, w->a);
    return MED_OK;
}

static void check_empty_slots(b_work *w)
{
    const Mediation__V1__SourceInputBundleLite *b = w->p->source_input_bundle_lite;
    const Mediation__V1__SourceSlotLite *s[] = { b->app_explicit, b->placement_config, b->default_policy };
    for (int i = 0; i < 3; i++)
        if (b_input_slot_empty(s[i])) b_verdict_degrade(w->v, MED_R_B_SOURCE_SLOT_EMPTY);
}

/* Wrong-typed fields other than the set-like lists (B.4/B.9 judge those). */
static void check_malformed(b_work *w)
{
    const Mediation__V1__SourceInputBundleLite *b = w->p->source_input_bundle_lite;
    const Mediation__V1__SourceSlotLite *s[] = { b->app_explicit, b->placement_config, b->default_policy };
    for (int i = 0; i < 3; i++)
        for (size_t j = 0; j < s[i]->n_malformed_fields; j++) {
            const char *k = s[i]->malformed_fields[j]->key;
            if (strcmp(k, "restrictedCategoryFlags") && strcmp(k, "experimentTags"))
                b_verdict_reject(w->v, MED_R_B_INVALID_STRUCTURE);
        }
}

static const char *numeric_signal(const Mediation__V1__SourceSlotLite *s, const char *name)
{
    for (size_t i = 0; i < s->n_numeric_signals; i++)
        if (strcmp(s->numeric_signals[i]->key, name) == 0) return s->numeric_signals[i]->value;
    return NULL;
}

static void check_numeric_signals(b_work *w)
{
    const Mediation__V1__SourceInputBundleLite *b = w->p->source_input_bundle_lite;
    const Mediation__V1__SourceSlotLite *s[] = { b->app_explicit, b->placement_config, b->default_policy };
    for (int i = 0; i < 3; i++)
        for (size_t j = 0; j < s[i]->n_numeric_signals; j++)
            if (!b_bucket_slot_find(w->dict, s[i]->numeric_signals[j]->key))
                b_verdict_reject(w->v, MED_R_B_BUCKET_SLOT_UNDEFINED);
}

static void record_appctx(b_work *w)
{
    const b_appctx *c = &w->actx;
    b_rec *r = b_work_rec(w, "UserContext.language", NULL, c->language.source ? c->language.source : "default");
    if (r) {
        if (c->language.raw) r->raws[r->n_raw++] = c->language.raw;
        r->normalized = c->language_value;
        r->mapping_action = c->language_action;
        r->degraded = strcmp(c->language_value, "lang_unknown") == 0;
        if (r->degraded) r->reason = c->language.raw ? MED_R_B_APPCTX_LANGUAGE_INVALID : MED_R_B_APPCTX_LANGUAGE_MISSING;
    }
    struct { const char *slot; const b_appctx_field *f; const char *value; const char *bad; } req[] = {
        { "UserContext.sessionState", &c->session_state, c->session_state_value, MED_R_B_APPCTX_SESSION_STATE_INVALID },
        { "PolicyContext.consentScope", &c->privacy, c->consent_scope_value, MED_R_B_APPCTX_PRIVACY_STATUS_INVALID },
    };
    for (int i = 0; i < 2; i++) {
        r = b_work_rec(w, req[i].slot, NULL, req[i].f->source ? req[i].f->source : "default");
        if (!r) return;
        if (req[i].f->raw) r->raws[r->n_raw++] = req[i].f->raw;
        r->normalized = req[i].value;
        r->rule_version = w->cfg.enum_dict_version;
        if (b_enum_is_unknown(req[i].value)) {
            r->mapping_action = B_MAP_UNKNOWN;
            r->reason = req[i].f->raw ? req[i].bad : MED_R_B_APPCTX_REQUIRED_SLOT_MISSING;
        }
    }
}

static void record_band(b_work *w, int corrected)
{
    b_rec *r = b_work_rec(w, "OpportunityContext.confidenceBand", NULL, "sensingDecisionLite");
    if (!r) return;
    r->raws[r->n_raw++] = med_arena_printf(w->a, "%.17g", w->p->sensing_decision_lite->confidence_band);
    r->normalized = med_arena_printf(w->a, "%.17g", w->band);
    if (corrected) {
        r->mapping_action = "value_corrected";
        r->reason = MED_R_B_VALUE_CORRECTED;
        r->degraded = 1;
    }
}

/* Raw text of a numeric slot: its B.5/B.6 source, else a declared
 * numericSignals entry of the same name (first by source priority). */
static const char *numeric_raw(b_work *w, const char *slot, const char **source)
{
    const Mediation__V1__SourceInputBundleLite *b = w->p->source_input_bundle_lite;
    const Mediation__V1__SourceSlotLite *s[] = { b->app_explicit, b->placement_config, b->default_policy };
    const char *names[] = { B_SRC_APP, B_SRC_PLACEMENT, B_SRC_DEFAULT };
    *source = "default";
    if (strcmp(slot, "intentScore") == 0 && b->app_explicit->intent_score_opt_case) {
        *source = B_SRC_APP;
        return b->app_explicit->intent_score;
    }
    const b_appctx_field *f = strcmp(slot, "devicePerfScore") == 0 ? &w->actx.perf
                              : strcmp(slot, "sessionDepth") == 0   ? &w->actx.depth : NULL;
    if (f && f->raw) {
        *source = f->source;
        return f->raw;
    }
    for (int i = 0; i < 3; i++) {
        const char *v = numeric_signal(s[i], slot);
        if (v) {
            *source = names[i];
            return v;
        }
    }
    return NULL;
}

static const char *numeric_record_slot(const char *slot, const char **raw_path)
{
    if (strcmp(slot, "intentScore") == 0) {
        *raw_path = "OpportunityContext.intentScore";
        return "OpportunityContext.intentBucket";
    }
    if (strcmp(slot, "devicePerfScore") == 0) {
        *raw_path = "RequestMeta.devicePerfScore";
        return "RequestMeta.devicePerfBucket";
    }
    *raw_path = "UserContext.sessionDepth";
    return "UserContext.sessionDepthBucket";
}

static void bucket_one(b_work *w, const b_bucket_slot *s)
{
    const char *source, *raw_path;
    const char *raw = numeric_raw(w, s->name, &source);
    b_bucket_decision *d = &w->buckets[w->n_buckets++];
    med_err e;
    med_err_clear(&e);
    if (b_bucket_classify(s, raw, d, &e) != MED_OK) {
        b_work_reject_err(w, &e);
        d->bucket_value = s->unknown_bucket;
        d->bucket_action = "bucket_unknown";
        d->reason_code = MED_R_B_BUCKET_DICT_MISSING_OR_INVALID;
    }
    int mapped = strcmp(d->bucket_action, "bucket_mapped") == 0;
    if (!mapped) b_verdict_degrade(w->v, d->reason_code);
    if (strcmp(s->name, "intentScore") == 0) w->intent_bucket = d->bucket_value;
    else if (strcmp(s->name, "devicePerfScore") == 0) {
        w->perf_bucket = d->bucket_value;
        w->perf_degraded = !mapped;
        if (!mapped && raw) b_verdict_degrade(w->v, MED_R_B_APPCTX_PERF_INVALID);
    } else w->depth_bucket = d->bucket_value;
    const char *rec_slot = numeric_record_slot(s->name, &raw_path);
    b_rec *r = b_work_rec(w, rec_slot, raw_path, source);
    if (!r) return;
    if (raw) r->raws[r->n_raw++] = raw;
    r->normalized = d->bucket_value;
    r->bucket = d->bucket_value;
    r->mapping_action = d->bucket_action;
    r->reason = d->reason_code;
    r->rule_version = w->dict->version[0] ? w->dict->version : "NA";
    r->degraded = !mapped;
}

static void map_buckets(b_work *w)
{
    if (b_verdict_has(w->v, MED_R_B_BUCKET_DICT_MISSING_OR_INVALID)) return;
    for (int i = 0; i < w->dict->n_slots && w->n_buckets < B_BUCKET_MAX_SLOTS; i++)
        bucket_one(w, &w->dict->slots[i]);
}

static void record_seed_fields(b_work *w)
{
    const Mediation__V1__OpportunitySeedLite *s = w->p->opportunity_seed;
    b_rec *r = b_work_rec(w, "PlacementMeta.placementKey", NULL, "opportunitySeed");
    if (r) {
        r->raws[r->n_raw++] = s->placement_id;
        r->normalized = s->placement_id;
    }
    r = b_work_rec(w, "RequestMeta.requestKey", NULL, "traceInitLite");
    if (r) {
        r->raws[r->n_raw++] = w->p->trace_init_lite->request_key;
        r->normalized = w->p->trace_init_lite->request_key;
    }
    r = b_work_rec(w, "RequestMeta.requestTimestamp", NULL, "opportunitySeed");
    if (r && s->timestamps->request_at_unix_ms > 0) {
        char ts[32];
        med_format_utc_ms(s->timestamps->request_at_unix_ms, ts, sizeof ts);
        r->raws[r->n_raw++] = med_arena_strdup(w->a, ts);
        r->normalized = r->raws[0];
        r->norm_path = "RequestMeta.requestTimestamp";
    }
    const char *tt = w->p->trigger_snapshot_lite->trigger_type;
    r = b_work_rec(w, "OpportunityContext.triggerType", NULL, "triggerSnapshotLite");
    if (r) {
        r->raws[r->n_raw++] = tt;
        r->normalized = tt;
    }
}

static int blank(const char *s) { return !s || !s[0]; }

/* B.3 required matrix over the canonical values. */
static void check_matrix(b_work *w)
{
    const Mediation__V1__TraceInitLite *t = w->p->trace_init_lite;
    const char *req[] = { w->channel_type, w->placement_type, w->placement_surface, w->actor_type,
                          w->actx.session_state_value, w->trigger_decision, w->decision_outcome,
                          w->hit_type, w->actx.consent_scope_value, w->policy_gate_hint,
                          w->p->opportunity_seed->placement_id };
    int bad = w->p->opportunity_seed->timestamps->request_at_unix_ms <= 0;
    for (size_t i = 0; i < sizeof req / sizeof req[0]; i++) bad |= blank(req[i]);
    /* sessionKey may be stood in for by a device id (B.9 user.id partial). */
    bad |= blank(w->session_id_raw) && blank(w->device_id_raw);
    bad |= blank(t->request_key) || blank(t->trace_key) || blank(t->attempt_key);
    if (bad) b_verdict_reject(w->v, MED_R_B_REQUIRED_MATRIX_VIOLATION);
}

static med_rc redact_into(b_work *w, const char *path, const char *raw, const char **dst)
{
    med_err e;
    med_err_clear(&e);
    if (b_redactor_apply(&w->redactor, path, raw, dst, &e) == MED_OK) return MED_OK;
    b_work_reject_err(w, &e);
    w->redaction_failed = 1;
    *dst = "NA";
    return e.rc;
}

static void redact_records(b_work *w)
{
    for (int i = 0; i < w->n_recs; i++) {
        b_rec *r = &w->recs[i];
        for (int j = 0; j < r->n_raw; j++) redact_into(w, r->raw_path, r->raws[j], &r->red_raws[j]);
        r->red_normalized = r->normalized;
        if (r->norm_path && r->normalized && strcmp(r->normalized, "NA") != 0)
            redact_into(w, r->norm_path, r->normalized, &r->red_normalized);
    }
    for (int i = 0; i < w->n_conflicts; i++) {
        b_slot_conflict *c = &w->conflicts[i];
        for (size_t j = 0; j < c->n; j++) redact_into(w, c->raw_path, c->c[j].raw, &c->red_raws[j]);
        b_redact_rule rule = b_redact_rule_for(w->policy, c->raw_path);
        if (strcmp(rule.action, "pass") != 0) c->red_selected = "NA";
    }
    for (int i = 0; i < w->n_buckets; i++) {
        const char *path;
        numeric_record_slot(w->buckets[i].slot_name, &path);
        w->bucket_red_raws[i] = "NA";
        if (w->buckets[i].raw) redact_into(w, path, w->buckets[i].raw, &w->bucket_red_raws[i]);
    }
}

static void redact_identifiers(b_work *w)
{
    if (w->session_id_raw) redact_into(w, "UserContext.sessionKey", w->session_id_raw, &w->session_key_hashed);
    if (w->device_id_raw) redact_into(w, "device.id", w->device_id_raw, &w->device_id_hashed);
}

/* Redaction comes before any audit: after this only redacted text is used. */
static void redact(b_work *w)
{
    if (w->redaction_failed) return;
    redact_identifiers(w);
    redact_records(w);
    if (w->redaction_failed) return;
    const Mediation__V1__TraceInitLite *t = w->p->trace_init_lite;
    w->redaction_snapshot = b_redactor_snapshot(&w->redactor, t->trace_key, t->request_key,
                                                t->attempt_key, w->in->now_unix_ms);
}

static void map_all(b_work *w, med_err *err)
{
    check_empty_slots(w);
    check_malformed(w);
    check_numeric_signals(w);
    if (b_slots_map(w, err) != MED_OK) return;
    b_appctx_resolve(w->p->source_input_bundle_lite, &w->actx, w->v);
    record_appctx(w);
    int corrected;
    b_input_value_range(w->p, &w->band, &corrected, w->v);
    record_band(w, corrected);
    map_buckets(w);
    record_seed_fields(w);
    check_matrix(w);
    redact(w);
}

med_rc b_normalize_run(const b_normalize_in *in, b_normalize_out *out, med_err *err)
{
    memset(out, 0, sizeof *out);
    b_work *w = MED_NEW(&out->arena, b_work);
    if (!w) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_TRANSIENT_FAILURE, NULL, "oom");
    w->in = in;
    w->out = out;
    w->a = &out->arena;
    w->v = &out->verdict;
    med_err_clear(err);
    b_schema_load(in->schema_doc, &w->cfg);
    gate_input(w);
    if (!w->fatal && load_dictionaries(w, err) == MED_OK) map_all(w, err);
    if (err->rc == MED_ERR_NOMEM) return err->rc;
    med_rc rc = b_assemble(w, err);
    if (rc == MED_OK && out->arena.failed)
        rc = med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_TRANSIENT_FAILURE, NULL, "out of memory");
    return rc;
}

void b_normalize_out_free(b_normalize_out *out)
{
    med_arena_free(&out->arena);
}
