#include "a_seed.h"

#include <string.h>

#include "a_json.h"
#include "a_lites.h"
#include "a_out.h"
#include "a_slots.h"
#include "a_types.h"
#include "med/reason.h"

/* Module rule versions pinned at ingress (H.6 moduleVersionRefs) that no
 * config document carries: the versions of the code that will decide. */
#define A_ANCHOR_CONFIG_RESOLUTION "h_cfg_resolution_v1"
#define A_ANCHOR_VERSION_GATE      "h_version_gate_v1"
#define A_ANCHOR_DELIVERY_RULE     "e_delivery_rule_v1"
#define A_ANCHOR_EVENT_CONTRACT    "f_event_contract_v1"
#define A_ANCHOR_DEDUP_FP          "f_dedup_v1"
#define A_ANCHOR_CLOSURE_RULE      "f_closure_rule_v1"
#define A_ANCHOR_BILLING_RULE      "f_billing_rule_v1"
#define A_ANCHOR_ARCHIVE_CONTRACT  "f_archive_contract_v1"

static const char *jstr(const json_t *o, const char *k, const char *dflt)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s && *s ? s : dflt;
}

static const json_t *doc(const a_seed_ctx *c, const char *kind)
{
    return c->cfg ? med_rconfig_doc(c->cfg, kind) : NULL;
}

med_rc a_anchor_ingress(const a_seed_ctx *c, h_anchor_snapshot *out, med_err *err)
{
    const json_t *av = c->cfg ? med_rconfig_applied_versions(c->cfg) : NULL;
    const json_t *schema = doc(c, "schema"), *policy = doc(c, "policy");
    const json_t *route = doc(c, "route_policy");
    h_anchor_input in = {
        .request_key = c->d->keys.request_key,
        .trace_key = c->d->keys.trace_key,
        .freeze_point = H_FREEZE_INGRESS,
        .inject_at_ms = c->now_ms,
        .contract_version = A_VER_VERSION_ANCHOR,
    };
    in.values[H_ANCHOR_SCHEMA_VERSION] = jstr(av, "schemaVersion", NULL);
    in.values[H_ANCHOR_ROUTING_STRATEGY_VERSION] = jstr(av, "routingStrategyVersion", NULL);
    in.values[H_ANCHOR_PLACEMENT_CONFIG_VERSION] = jstr(av, "placementConfigVersion", NULL);
    in.values[H_ANCHOR_GLOBAL_CONFIG_VERSION] = jstr(av, "globalConfigVersion", NULL);
    in.values[H_ANCHOR_APP_CONFIG_VERSION_OR_NA] = jstr(av, "appConfigVersionOrNA", A_NA);
    in.values[H_ANCHOR_PLACEMENT_SOURCE_VERSION_OR_NA] =
        jstr(av, "placementSourceVersionOrNA", A_NA);
    in.values[H_ANCHOR_CONFIG_RESOLUTION_CONTRACT_VERSION] = A_ANCHOR_CONFIG_RESOLUTION;
    in.values[H_ANCHOR_VERSION_GATE_CONTRACT_VERSION] = A_ANCHOR_VERSION_GATE;
    in.values[H_ANCHOR_ENUM_DICT_VERSION] = jstr(schema, "enumDictVersion", NULL);
    in.values[H_ANCHOR_MAPPING_RULE_VERSION] = jstr(schema, "mappingProfileVersion", NULL);
    in.values[H_ANCHOR_POLICY_RULE_VERSION] = jstr(policy, "policyRuleVersion", NULL);
    in.values[H_ANCHOR_ROUTING_POLICY_VERSION] = jstr(route, "routingPolicyVersion", NULL);
    in.values[H_ANCHOR_DELIVERY_RULE_VERSION] = A_ANCHOR_DELIVERY_RULE;
    in.values[H_ANCHOR_EVENT_CONTRACT_VERSION] = A_ANCHOR_EVENT_CONTRACT;
    in.values[H_ANCHOR_DEDUP_FINGERPRINT_VERSION] = A_ANCHOR_DEDUP_FP;
    in.values[H_ANCHOR_CLOSURE_RULE_VERSION] = A_ANCHOR_CLOSURE_RULE;
    in.values[H_ANCHOR_BILLING_RULE_VERSION] = A_ANCHOR_BILLING_RULE;
    in.values[H_ANCHOR_ARCHIVE_CONTRACT_VERSION] = A_ANCHOR_ARCHIVE_CONTRACT;
    return h_anchor_inject(&in, NULL, out, err);
}

Mediation__V1__VersionAnchorSnapshot *a_anchor_pb(med_arena *a, const h_anchor_snapshot *s)
{
    Mediation__V1__VersionAnchorSnapshot *v = med_arena_alloc(a, sizeof *v);
    Mediation__V1__AnchorSet *set = med_arena_alloc(a, sizeof *set);
    Mediation__V1__FreezeState *fs = med_arena_alloc(a, sizeof *fs);
    char **done = med_arena_alloc(a, sizeof(char *) * H_FREEZE_COUNT);
    if (!v || !set || !fs || !done) return NULL;
    mediation__v1__version_anchor_snapshot__init(v);
    mediation__v1__anchor_set__init(set);
    mediation__v1__freeze_state__init(fs);
#define AV(f) med_arena_strdup(a, s->anchor_set.value[f])
    set->schema_version = AV(H_ANCHOR_SCHEMA_VERSION);
    set->routing_strategy_version = AV(H_ANCHOR_ROUTING_STRATEGY_VERSION);
    set->placement_config_version = AV(H_ANCHOR_PLACEMENT_CONFIG_VERSION);
    set->global_config_version = AV(H_ANCHOR_GLOBAL_CONFIG_VERSION);
    set->app_config_version_or_na_opt_case =
        A_OPT(MEDIATION__V1__ANCHOR_SET, APP_CONFIG_VERSION_OR_NA);
    set->app_config_version_or_na = AV(H_ANCHOR_APP_CONFIG_VERSION_OR_NA);
    set->placement_source_version_or_na_opt_case =
        A_OPT(MEDIATION__V1__ANCHOR_SET, PLACEMENT_SOURCE_VERSION_OR_NA);
    set->placement_source_version_or_na = AV(H_ANCHOR_PLACEMENT_SOURCE_VERSION_OR_NA);
    set->config_resolution_contract_version = AV(H_ANCHOR_CONFIG_RESOLUTION_CONTRACT_VERSION);
    set->version_gate_contract_version = AV(H_ANCHOR_VERSION_GATE_CONTRACT_VERSION);
    set->enum_dict_version = AV(H_ANCHOR_ENUM_DICT_VERSION);
    set->mapping_rule_version = AV(H_ANCHOR_MAPPING_RULE_VERSION);
    set->policy_rule_version = AV(H_ANCHOR_POLICY_RULE_VERSION);
    set->routing_policy_version = AV(H_ANCHOR_ROUTING_POLICY_VERSION);
    set->delivery_rule_version = AV(H_ANCHOR_DELIVERY_RULE_VERSION);
    set->event_contract_version = AV(H_ANCHOR_EVENT_CONTRACT_VERSION);
    set->dedup_fingerprint_version = AV(H_ANCHOR_DEDUP_FINGERPRINT_VERSION);
    set->closure_rule_version = AV(H_ANCHOR_CLOSURE_RULE_VERSION);
    set->billing_rule_version = AV(H_ANCHOR_BILLING_RULE_VERSION);
    set->archive_contract_version = AV(H_ANCHOR_ARCHIVE_CONTRACT_VERSION);
#undef AV
    fs->current_freeze_point = (char *)h_freeze_point_name(s->current_freeze_point);
    for (int p = 0; p < H_FREEZE_COUNT; p++)
        if (s->completed_mask & (1u << p)) done[fs->n_completed_freeze_points++] =
            (char *)h_freeze_point_name((h_freeze_point)p);
    fs->completed_freeze_points = done;
    fs->anchor_action = (char *)h_verdict_name(s->anchor_action);
    v->anchor_hash = med_arena_strdup(a, s->anchor_hash);
    v->request_key = med_arena_strdup(a, s->request_key);
    v->trace_key = med_arena_strdup(a, s->trace_key);
    v->anchor_set = set;
    v->freeze_state = fs;
    v->reason_codes = (char **)s->reason_codes;
    v->n_reason_codes = s->n_reason_codes;
    v->injected_at_unix_ms = s->injected_at_ms;
    v->version_anchor_contract_version = med_arena_strdup(a, s->contract_version);
    return v;
}

/* ---- bIngressPacketLite ---- */

static Mediation__V1__ImpSeedLite **imp_seeds(med_arena *a, const a_seed_ctx *c,
                                             const char *placement_type)
{
    Mediation__V1__ImpSeedLite **arr = med_arena_alloc(a, sizeof *arr);
    Mediation__V1__ImpSeedLite *imp = med_arena_alloc(a, sizeof *imp);
    if (!arr || !imp) return NULL;
    mediation__v1__imp_seed_lite__init(imp);
    imp->imp_key = (char *)c->d->keys.imp_key;
    imp->placement_id = (char *)c->req->placement_id;
    imp->placement_type = (char *)placement_type;
    imp->slot_index = 0;
    arr[0] = imp;
    return arr;
}

static Mediation__V1__OpportunityTimestamps *timestamps(med_arena *a, const a_seed_ctx *c)
{
    Mediation__V1__OpportunityTimestamps *t = med_arena_alloc(a, sizeof *t);
    if (!t) return NULL;
    mediation__v1__opportunity_timestamps__init(t);
    t->request_at_unix_ms = c->req->request_at_ms;
    t->trigger_at_unix_ms = c->req->trigger_at_ms;
    /* A.8: opportunityCreatedAt = max(now, triggerAt). */
    t->opportunity_created_at_unix_ms =
        c->now_ms > c->req->trigger_at_ms ? c->now_ms : c->req->trigger_at_ms;
    return t;
}

static Mediation__V1__TriggerSnapshotLite *trigger_snapshot(med_arena *a, const a_decision *d)
{
    Mediation__V1__TriggerSnapshotLite *t = med_arena_alloc(a, sizeof *t);
    if (!t) return NULL;
    mediation__v1__trigger_snapshot_lite__init(t);
    t->trigger_type = (char *)d->sensing.trigger_type;
    t->trigger_decision = (char *)d->sensing.trigger_decision;
    t->trigger_taxonomy_version = (char *)A_VER_TRIGGER_TAXONOMY;
    return t;
}

static Mediation__V1__SensingDecisionLite *sensing(med_arena *a, const a_decision *d)
{
    Mediation__V1__SensingDecisionLite *s = med_arena_alloc(a, sizeof *s);
    if (!s) return NULL;
    mediation__v1__sensing_decision_lite__init(s);
    s->decision_outcome = (char *)d->sensing.decision_outcome;
    s->hit_type = (char *)d->sensing.hit_type;
    s->confidence_band = d->sensing.confidence_band;
    s->reason_code = (char *)d->sensing.mapping_code;
    return s;
}

static Mediation__V1__AErrorLite *error_lite(med_arena *a, const a_decision *d)
{
    Mediation__V1__AErrorLite *e = med_arena_alloc(a, sizeof *e);
    if (!e) return NULL;
    mediation__v1__aerror_lite__init(e);
    e->primary_error_code = (char *)d->reason_code;
    e->error_action = (char *)d->error_action;
    e->secondary_reason_codes = (char **)d->secondary;
    e->n_secondary_reason_codes = d->n_secondary;
    return e;
}

static Mediation__V1__ALatencyBudgetLite *latency(med_arena *a, const a_decision *d)
{
    if (!d->has_budget) return NULL;
    Mediation__V1__ALatencyBudgetLite *l = med_arena_alloc(a, sizeof *l);
    if (!l) return NULL;
    mediation__v1__alatency_budget_lite__init(l);
    l->latency_decision = (char *)d->budget.latency_decision;
    l->latency_reason_code = (char *)(d->budget.latency_reason_code ? d->budget.latency_reason_code
                                                                   : A_NA);
    l->a_elapsed_ms = d->budget.elapsed_ms;
    l->soft_budget_ms = d->budget.soft_ms;
    l->hard_budget_ms = d->budget.hard_ms;
    return l;
}

static Mediation__V1__ResolvedConfigSnapshotRef *config_ref(med_arena *a, const a_seed_ctx *c,
                                                           const char *anchor_hash)
{
    if (!c->cfg) return NULL;
    Mediation__V1__ResolvedConfigSnapshotRef *r = med_arena_alloc(a, sizeof *r);
    if (!r) return NULL;
    mediation__v1__resolved_config_snapshot_ref__init(r);
    r->snapshot_id = (char *)med_rconfig_snapshot_id(c->cfg);
    r->resolve_id = (char *)med_rconfig_resolve_id(c->cfg);
    r->etag = (char *)med_rconfig_etag(c->cfg);
    r->config_hash = (char *)med_rconfig_config_hash(c->cfg);
    r->anchor_hash = (char *)(anchor_hash ? anchor_hash : "");
    return r;
}

static Mediation__V1__ConfigFailureLite *config_failure(med_arena *a, const a_seed_ctx *c,
                                                       const char *anchor_hash)
{
    const a_config_outcome *o = &c->d->cfg;
    Mediation__V1__ConfigFailureLite *f = med_arena_alloc(a, sizeof *f);
    if (!f) return NULL;
    mediation__v1__config_failure_lite__init(f);
    f->config_failure_scenario = (char *)(o->scenario ? o->scenario : "");
    f->failure_mode = (char *)(o->failure_mode ? o->failure_mode : "");
    f->primary_reason_code = (char *)(o->h_code ? o->h_code : "");
    f->a_reason_code = (char *)(o->a_code ? o->a_code : "");
    if (o->scenario && *o->scenario) {
        f->snapshot_id = c->cfg ? (char *)med_rconfig_snapshot_id(c->cfg) : (char *)"";
        if (o->failure_mode && strcmp(o->failure_mode, "fail_open") == 0)
            f->resolved_config_snapshot_ref = config_ref(a, c, anchor_hash);
    }
    return f;
}

static Mediation__V1__BIngressPacketLite *packet(med_arena *a, const a_seed_ctx *c,
                                                 const char *placement_type,
                                                 const char *anchor_hash)
{
    Mediation__V1__BIngressPacketLite *p = med_arena_alloc(a, sizeof *p);
    Mediation__V1__OpportunitySeedLite *s = med_arena_alloc(a, sizeof *s);
    Mediation__V1__SourceInputBundleLite *b = med_arena_alloc(a, sizeof *b);
    if (!p || !s || !b) return NULL;
    mediation__v1__bingress_packet_lite__init(p);
    mediation__v1__opportunity_seed_lite__init(s);
    mediation__v1__source_input_bundle_lite__init(b);
    s->opportunity_key = (char *)c->d->keys.opportunity_key;
    s->state = (char *)"received";
    s->request_key = (char *)c->d->keys.request_key;
    s->placement_id = (char *)c->req->placement_id;
    s->placement_type = (char *)placement_type;
    s->imp_seed = imp_seeds(a, c, placement_type);
    s->n_imp_seed = s->imp_seed ? 1 : 0;
    s->timestamps = timestamps(a, c);
    int64_t published = c->cfg ? med_rconfig_resolved_at_ms(c->cfg) : 0;
    b->app_explicit = a_slot_app_explicit(a, c->req);
    b->placement_config = a_slot_placement_config(a, doc(c, "placement"), published);
    b->default_policy = a_slot_default_policy(a, doc(c, "policy"), published);
    p->opportunity_seed = s;
    p->trace_init_lite = a_out_trace_init(a, c->d);
    p->trigger_snapshot_lite = trigger_snapshot(a, c->d);
    p->sensing_decision_lite = sensing(a, c->d);
    p->source_input_bundle_lite = b;
    p->a_error_lite = error_lite(a, c->d);
    p->a_latency_budget_lite = latency(a, c->d);
    p->a_dedup_snapshot_lite = a_out_dedup_snapshot(a, c->d);
    p->config_failure = config_failure(a, c, anchor_hash);
    if (p->config_failure && p->config_failure->resolved_config_snapshot_ref)
        p->resolved_config_snapshot_ref = p->config_failure->resolved_config_snapshot_ref;
    p->b_input_contract_version = (char *)A_VER_B_INPUT_CONTRACT;
    return p;
}

static void config_lites(med_arena *a, const a_seed_ctx *c, Mediation__V1__OpportunitySeed *seed)
{
    if (!c->cfg) return;
    /* effectiveAt is when this replica got the resolution: the policy
     * snapshot expires ttlSec after that (H: expireAt = responseAt + ttl). */
    a_snapshot_ids ids = {
        .snapshot_id = med_rconfig_snapshot_id(c->cfg),
        .resolve_id = med_rconfig_resolve_id(c->cfg),
        .config_hash = med_rconfig_config_hash(c->cfg),
        .effective_at_ms = med_rconfig_resolved_at_ms(c->cfg),
    };
    const json_t *av = med_rconfig_applied_versions(c->cfg);
    seed->config_snapshot_lite = a_lite_config_snapshot(a, &ids);
    seed->policy_snapshot_lite = a_lite_policy(a, doc(c, "policy"), doc(c, "black_white_list"),
                                               med_rconfig_doc_ref(c->cfg, "policy"), &ids);
    seed->routing_context_lite = a_lite_routing(a, doc(c, "route_policy"));
    seed->placement_spec_lite = a_lite_placement_spec(
        a, doc(c, "placement"), doc(c, "template_whitelist"), c->req->placement_id,
        jstr(av, "placementConfigVersion", A_NA));
}

Mediation__V1__OpportunitySeed *a_seed_build(med_arena *a, const a_seed_ctx *c,
                                             Mediation__V1__VersionAnchorSnapshot *anchors)
{
    Mediation__V1__OpportunitySeed *seed = med_arena_alloc(a, sizeof *seed);
    if (!seed) return NULL;
    mediation__v1__opportunity_seed__init(seed);
    const char *ptype = jstr(doc(c, "placement"), "placementType", "");
    seed->trace = c->trace;
    seed->b_ingress_packet_lite = packet(a, c, ptype, anchors ? anchors->anchor_hash : NULL);
    seed->version_anchor_snapshot = anchors;
    config_lites(a, c, seed);
    seed->device_capabilities_lite =
        a_lite_device_caps(a, c->req->device_capabilities, c->req->sdk_version);
    seed->schema_version = (char *)c->req->schema_version;
    seed->trigger_contract_version = (char *)c->req->trigger_contract_version;
    seed->ingress_envelope_version = (char *)c->req->ingress_envelope_version;
    seed->sdk_version = (char *)c->req->sdk_version;
    if (c->req->has_intent_score) {
        seed->intent_score_or_na_opt_case =
            A_OPT(MEDIATION__V1__OPPORTUNITY_SEED, INTENT_SCORE_OR_NA);
        seed->intent_score_or_na = c->req->intent_score;
    }
    if (c->req->conversation_turn_id) {
        seed->conversation_turn_id_or_na_opt_case =
            A_OPT(MEDIATION__V1__OPPORTUNITY_SEED, CONVERSATION_TURN_ID_OR_NA);
        seed->conversation_turn_id_or_na = (char *)c->req->conversation_turn_id;
    }
    return a->failed ? NULL : seed;
}

Mediation__V1__OpportunityCreatedEventLite *a_event_build(med_arena *a, const a_seed_ctx *c,
                                                          const char *event_key,
                                                          const char *idempotency_key)
{
    Mediation__V1__OpportunityCreatedEventLite *e = med_arena_alloc(a, sizeof *e);
    char **refs = med_arena_alloc(a, sizeof *refs);
    if (!e || !refs) return NULL;
    mediation__v1__opportunity_created_event_lite__init(e);
    e->event_key = med_arena_strdup(a, event_key);
    e->event_idempotency_key = med_arena_strdup(a, idempotency_key);
    e->event_type = (char *)A_EVENT_TYPE_CREATED;
    e->event_at_unix_ms = c->now_ms;
    e->request_key = (char *)c->d->keys.request_key;
    e->opportunity_key = (char *)c->d->keys.opportunity_key;
    e->trace_key = (char *)c->d->keys.trace_key;
    e->attempt_key = (char *)c->d->keys.attempt_key;
    e->placement_id = (char *)c->req->placement_id;
    refs[0] = (char *)c->d->keys.imp_key;
    e->imp_seed_refs = refs;
    e->n_imp_seed_refs = 1;
    e->create_opportunity_contract_version = (char *)A_VER_CREATE_OPPORTUNITY;
    e->opportunity_event_contract_version = (char *)A_VER_OPPORTUNITY_EVENT;
    e->handoff_to_b_at_unix_ms = c->now_ms;
    return e;
}

Mediation__V1__StageAudit *a_audit_build(med_arena *a, const a_seed_ctx *c, const char *kind,
                                         const char *audit_id,
                                         Mediation__V1__OpportunityCreatedEventLite *event,
                                         Mediation__V1__VersionAnchorSnapshot *anchors)
{
    Mediation__V1__StageAudit *s = med_arena_alloc(a, sizeof *s);
    Mediation__V1__AStageAuditLite *l = med_arena_alloc(a, sizeof *l);
    if (!s || !l) return NULL;
    mediation__v1__stage_audit__init(s);
    mediation__v1__astage_audit_lite__init(l);
    const a_decision *d = c->d;
    l->a_trigger_sync_result_lite =
        a_out_sync_result(a, d, c->req ? c->req->trigger_contract_version : NULL, c->now_ms);
    l->opportunity_created_event_lite = event;
    if (d->has_sensing) {
        l->trigger_snapshot_lite = trigger_snapshot(a, d);
        l->sensing_decision_lite = sensing(a, d);
    }
    l->a_dedup_snapshot_lite = a_out_dedup_snapshot(a, d);
    l->a_latency_budget_lite = latency(a, d);
    l->a_error_lite = error_lite(a, d);
    l->config_failure = config_failure(a, c, anchors ? anchors->anchor_hash : NULL);
    s->trace = c->trace;
    s->stage = (char *)"a";
    s->kind = (char *)kind;
    s->primary_reason_code = (char *)d->reason_code;
    s->secondary_reason_codes = (char **)d->secondary;
    s->n_secondary_reason_codes = d->n_secondary;
    s->anchor_hash = anchors ? anchors->anchor_hash : (char *)"";
    s->version_anchor_snapshot = anchors;
    s->started_at_unix_ms = c->received_at_ms;
    s->finished_at_unix_ms = c->now_ms;
    s->emitted_at_unix_ms = c->now_ms;
    s->audit_id = med_arena_strdup(a, audit_id);
    s->decision_action = (char *)(d->decision_action ? d->decision_action : d->error_action);
    s->snapshot_case = MEDIATION__V1__STAGE_AUDIT__SNAPSHOT_A_AUDIT;
    s->a_audit = l;
    return s;
}
