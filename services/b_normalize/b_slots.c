/* B.2 steps "enums -> conflicts" over the three source slots, and the
 * identifiers (first present by source priority). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b_enum.h"
#include "b_work.h"
#include "med/reason.h"

typedef struct src_slot {
    const Mediation__V1__SourceSlotLite *s;
    const char *name;
} src_slot;

static void sources(const b_work *w, src_slot out[3])
{
    const Mediation__V1__SourceInputBundleLite *b = w->p->source_input_bundle_lite;
    out[0] = (src_slot){ b->app_explicit, B_SRC_APP };
    out[1] = (src_slot){ b->placement_config, B_SRC_PLACEMENT };
    out[2] = (src_slot){ b->default_policy, B_SRC_DEFAULT };
}

void b_work_reject_err(b_work *w, const med_err *e)
{
    const char *code = med_reason_lookup(e->code);
    b_verdict_reject(w->v, code ? code : MED_R_B_INVALID_STRUCTURE);
}

b_rec *b_work_rec(b_work *w, const char *slot, const char *raw_path, const char *source)
{
    if (w->n_recs >= B_MAX_RECS) return NULL;
    b_rec *r = &w->recs[w->n_recs++];
    memset(r, 0, sizeof *r);
    r->slot = slot;
    r->raw_path = raw_path ? raw_path : slot;
    r->source = source;
    r->conflict_action = "none";
    r->reason = MED_R_B_INPUT_MAPPED_COMPLETE;
    r->mapping_action = B_MAP_EXACT;
    r->rule_version = w->cfg.mapping_profile_version;
    return r;
}

typedef const char *(*slot_get)(const Mediation__V1__SourceSlotLite *);

static const char *get_placement_type(const Mediation__V1__SourceSlotLite *s)
{ return s->placement_type_opt_case ? s->placement_type : NULL; }
static const char *get_channel_type(const Mediation__V1__SourceSlotLite *s)
{ return s->channel_type_opt_case ? s->channel_type : NULL; }
static const char *get_actor_type(const Mediation__V1__SourceSlotLite *s)
{ return s->actor_type_opt_case ? s->actor_type : NULL; }
static const char *get_surface(const Mediation__V1__SourceSlotLite *s)
{ return s->placement_surface_opt_case ? s->placement_surface : NULL; }
static const char *get_gate_hint(const Mediation__V1__SourceSlotLite *s)
{ return s->policy_gate_hint_opt_case ? s->policy_gate_hint : NULL; }
static const char *get_session_id(const Mediation__V1__SourceSlotLite *s)
{ return s->session_id_opt_case ? s->session_id : NULL; }
static const char *get_device_id(const Mediation__V1__SourceSlotLite *s)
{ return s->device_id_opt_case ? s->device_id : NULL; }
static const char *get_app_id(const Mediation__V1__SourceSlotLite *s)
{ return s->app_id_opt_case ? s->app_id : NULL; }

static void cand_from(b_cand *c, const src_slot *src, int sequence, const char *raw)
{
    memset(c, 0, sizeof *c);
    c->source = src->name;
    c->sequence = sequence;
    c->has_updated_at = src->s->input_updated_at_unix_ms_opt_case;
    c->updated_at = src->s->input_updated_at_unix_ms;
    c->raw = raw;
}

/* Collects the slot's candidates; the seed's placementType counts as a
 * placementConfig value with sequence 0. */
static b_slot_conflict *gather(b_work *w, const char *slot, const char *raw_path, slot_get get,
                               const char *seed_value)
{
    if (w->n_conflicts >= B_MAX_CONFLICTS) return NULL;
    b_slot_conflict *sc = &w->conflicts[w->n_conflicts];
    memset(sc, 0, sizeof *sc);
    sc->slot = slot;
    sc->raw_path = raw_path;
    src_slot src[3];
    sources(w, src);
    for (int i = 0; i < 3; i++) {
        if (i == 1 && seed_value && seed_value[0]) cand_from(&sc->c[sc->n++], &src[i], 0, seed_value);
        const char *raw = get(src[i].s);
        if (raw) cand_from(&sc->c[sc->n++], &src[i], 1, raw);
    }
    return sc;
}

static void fill_raws(b_rec *r, const b_slot_conflict *sc)
{
    for (size_t i = 0; i < sc->n && r->n_raw < B_MAX_RAWS; i++) r->raws[r->n_raw++] = sc->c[i].raw;
}

/* Resolves gathered candidates; keeps the snapshot when there were any. */
static const char *resolve(b_work *w, b_slot_conflict *sc, b_rec *r, med_err *err)
{
    if (sc->n == 0) return NULL;
    w->n_conflicts++;
    med_err e;
    med_err_clear(&e);
    if (b_conflict_resolve(w->a, sc->slot, sc->c, sc->n, &sc->r, &e) != MED_OK) {
        if (e.rc == MED_ERR_NOMEM) {
            *err = e;
            return NULL;
        }
        b_work_reject_err(w, &e);
        r->reason = sc->r.reason_code;
    } else if (sc->r.reason_code[0]) {
        r->reason = sc->r.reason_code;
    }
    r->conflict_action = sc->r.action;
    for (size_t i = 0; i < sc->n; i++)
        if (sc->r.selected && sc->c[i].value && strcmp(sc->c[i].value, sc->r.selected) == 0) {
            r->source = sc->c[i].source;
            break;
        }
    return sc->r.selected;
}

static med_rc map_enum_slot(b_work *w, const char *slot, const char *qualified, slot_get get,
                            const char *seed_value, const char **dst, med_err *err)
{
    b_rec *r = b_work_rec(w, qualified, NULL, "default");
    b_slot_conflict *sc = gather(w, slot, qualified, get, seed_value);
    if (!r || !sc) return med_err_set(err, MED_ERR_INTERNAL, MED_R_INFRA_TRANSIENT_FAILURE, slot, "too many slots");
    const char *actions[B_MAX_RAWS];
    for (size_t i = 0; i < sc->n; i++) {
        b_enum_result er;
        b_enum_normalize(slot, sc->c[i].raw, w->cfg.enum_aliases, &er, NULL);
        sc->c[i].value = med_arena_strdup(w->a, er.value);
        actions[i] = er.mapping_action;
    }
    fill_raws(r, sc);
    r->rule_version = w->cfg.enum_dict_version;
    const char *sel = resolve(w, sc, r, err);
    if (err->rc == MED_ERR_NOMEM) return err->rc;
    if (!sel && sc->n == 0) {
        sel = b_enum_unknown_of(slot);
        r->mapping_action = B_MAP_UNKNOWN;
        r->reason = MED_R_B_OPTIONAL_DEFAULT_APPLIED;
        r->degraded = 1;
        b_verdict_degrade(w->v, MED_R_B_OPTIONAL_DEFAULT_APPLIED);
    }
    for (size_t i = 0; sel && i < sc->n; i++)
        if (strcmp(sc->c[i].value, sel) == 0) {
            r->mapping_action = actions[i];
            break;
        }
    if (sel && b_enum_is_unknown(sel) && sc->n > 0) {
        r->reason = MED_R_B_INVALID_OPTIONAL_ENUM;
        r->degraded = 1;
        b_verdict_degrade(w->v, MED_R_B_INVALID_OPTIONAL_ENUM);
    }
    r->normalized = sel ? sel : "NA";
    *dst = sel;
    return MED_OK;
}

static med_rc map_text_slot(b_work *w, const char *slot, const char *qualified, slot_get get,
                            const char **dst, med_err *err)
{
    b_rec *r = b_work_rec(w, qualified, NULL, "default");
    b_slot_conflict *sc = gather(w, slot, qualified, get, NULL);
    if (!r || !sc) return med_err_set(err, MED_ERR_INTERNAL, MED_R_INFRA_TRANSIENT_FAILURE, slot, "too many slots");
    for (size_t i = 0; i < sc->n; i++) sc->c[i].value = sc->c[i].raw;
    fill_raws(r, sc);
    *dst = resolve(w, sc, r, err);
    r->normalized = *dst ? *dst : "NA";
    if (!*dst) r->n_raw = 0;
    return err->rc == MED_ERR_NOMEM ? err->rc : MED_OK;
}

/* Identifiers are never compared across sources: the best-priority one is
 * the value (B.9 app.id rule), and no raw identifier enters a snapshot. */
static const char *first_by_priority(b_work *w, slot_get get, const char **source)
{
    src_slot src[3];
    sources(w, src);
    for (int i = 0; i < 3; i++) {
        const char *v = get(src[i].s);
        if (v && v[0]) {
            *source = src[i].name;
            return v;
        }
    }
    return NULL;
}

static void map_identifiers(b_work *w)
{
    const char *src = "default";
    w->session_id_raw = first_by_priority(w, get_session_id, &src);
    b_rec *r = b_work_rec(w, "UserContext.sessionKey", "UserContext.sessionKey", src);
    if (r) r->norm_path = "UserContext.sessionKey";
    if (r && w->session_id_raw) r->raws[r->n_raw++] = w->session_id_raw;
    src = "default";
    w->device_id_raw = first_by_priority(w, get_device_id, &src);
    r = b_work_rec(w, "device.id", "device.id", src);
    if (r) r->norm_path = "device.id";
    if (r && w->device_id_raw) r->raws[r->n_raw++] = w->device_id_raw;
    w->app_id = first_by_priority(w, get_app_id, &src);
}

typedef struct list_view {
    char *const *items;
    size_t n;
    const char *malformed;   /* JSON text of a non-list value */
} list_view;

static list_view flags_of(const Mediation__V1__SourceSlotLite *s)
{
    list_view l = { s->restricted_category_flags, s->n_restricted_category_flags, NULL };
    for (size_t i = 0; i < s->n_malformed_fields; i++)
        if (strcmp(s->malformed_fields[i]->key, "restrictedCategoryFlags") == 0)
            l.malformed = s->malformed_fields[i]->value;
    return l;
}

static list_view tags_of(const Mediation__V1__SourceSlotLite *s)
{
    list_view l = { s->experiment_tags, s->n_experiment_tags, NULL };
    for (size_t i = 0; i < s->n_malformed_fields; i++)
        if (strcmp(s->malformed_fields[i]->key, "experimentTags") == 0)
            l.malformed = s->malformed_fields[i]->value;
    return l;
}

static const char *list_json(med_arena *a, char *const *items, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) json_array_append_new(arr, json_string(items[i]));
    char *t = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    const char *copy = med_arena_strdup(a, t ? t : "[]");
    free(t);
    return copy;
}

static med_rc map_set_slot(b_work *w, const char *slot, const char *qualified,
                           list_view (*get)(const Mediation__V1__SourceSlotLite *), b_rec *r,
                           med_err *err)
{
    if (w->n_conflicts >= B_MAX_CONFLICTS)
        return med_err_set(err, MED_ERR_INTERNAL, MED_R_INFRA_TRANSIENT_FAILURE, slot, "too many slots");
    b_slot_conflict *sc = &w->conflicts[w->n_conflicts];
    memset(sc, 0, sizeof *sc);
    sc->slot = slot;
    sc->raw_path = qualified;
    src_slot src[3];
    sources(w, src);
    for (int i = 0; i < 3; i++) {
        list_view l = get(src[i].s);
        if (!l.malformed && l.n == 0) continue;
        b_cand *c = &sc->c[sc->n++];
        cand_from(c, &src[i], 1, l.malformed ? l.malformed : list_json(w->a, l.items, l.n));
        c->is_list = !l.malformed;
        c->bad_shape = l.malformed != NULL;
        c->items = (const char *const *)l.items;
        c->n_items = l.n;
    }
    if (r) fill_raws(r, sc);
    if (sc->n == 0) return MED_OK;
    resolve(w, sc, r ? r : &(b_rec){ 0 }, err);
    if (err->rc == MED_ERR_NOMEM) return err->rc;
    if (r && sc->n == 1 && sc->c[0].bad_shape) w->flags_invalid = 1;
    if (r && sc->r.merged) {
        w->flags = sc->r.merged;
        w->n_flags = sc->r.n_merged;
    }
    return MED_OK;
}

static void map_a_gating(b_work *w, const char *slot, const char *qualified, const char *raw,
                         const char *source, const char **dst)
{
    b_enum_result er;
    b_enum_normalize(slot, raw, w->cfg.enum_aliases, &er, NULL);
    b_rec *r = b_work_rec(w, qualified, NULL, source);
    *dst = med_arena_strdup(w->a, er.value);
    if (!r) return;
    r->raws[r->n_raw++] = raw;
    r->normalized = *dst;
    r->mapping_action = er.mapping_action;
    r->rule_version = w->cfg.enum_dict_version;
    if (b_enum_is_unknown(er.value)) {
        r->reason = MED_R_B_INVALID_REQUIRED_ENUM;
        b_verdict_reject(w->v, MED_R_B_INVALID_REQUIRED_ENUM);
    }
}

med_rc b_slots_map(b_work *w, med_err *err)
{
    const Mediation__V1__BIngressPacketLite *p = w->p;
    map_a_gating(w, "triggerDecision", "OpportunityContext.triggerDecision",
                 p->trigger_snapshot_lite->trigger_decision, "triggerSnapshotLite",
                 &w->trigger_decision);
    map_a_gating(w, "decisionOutcome", "OpportunityContext.decisionOutcome",
                 p->sensing_decision_lite->decision_outcome, "sensingDecisionLite",
                 &w->decision_outcome);
    map_a_gating(w, "hitType", "OpportunityContext.hitType", p->sensing_decision_lite->hit_type,
                 "sensingDecisionLite", &w->hit_type);
    med_rc rc;
    if ((rc = map_enum_slot(w, "placementType", "PlacementMeta.placementType", get_placement_type,
                            p->opportunity_seed->placement_type, &w->placement_type, err)) ||
        (rc = map_enum_slot(w, "channelType", "RequestMeta.channelType", get_channel_type, NULL,
                            &w->channel_type, err)) ||
        (rc = map_enum_slot(w, "actorType", "UserContext.actorType", get_actor_type, NULL,
                            &w->actor_type, err)) ||
        (rc = map_text_slot(w, "placementSurface", "PlacementMeta.placementSurface", get_surface,
                            &w->placement_surface, err)) ||
        (rc = map_text_slot(w, "policyGateHint", "PolicyContext.policyGateHint", get_gate_hint,
                            &w->policy_gate_hint, err)))
        return rc;
    map_identifiers(w);
    b_rec *fr = b_work_rec(w, "PolicyContext.restrictedCategoryFlags", NULL, "default");
    if (fr) fr->norm_path = "PolicyContext.restrictedCategoryFlags";
    if ((rc = map_set_slot(w, "restrictedCategoryFlags", "PolicyContext.restrictedCategoryFlags",
                           flags_of, fr, err)) ||
        (rc = map_set_slot(w, "experimentTags", "experimentTags", tags_of, NULL, err)))
        return rc;
    if (fr && !w->flags && !w->flags_invalid) {
        /* A single list source needs no merge: take its items as they are. */
        for (int i = 0; i < w->n_conflicts; i++)
            if (strcmp(w->conflicts[i].slot, "restrictedCategoryFlags") == 0 &&
                w->conflicts[i].n == 1) {
                w->flags = (char **)w->conflicts[i].c[0].items;
                w->n_flags = w->conflicts[i].c[0].n_items;
            }
    }
    if (fr) {
        if (fr->n_raw == 0) fr->raws[fr->n_raw++] = "[]";
        fr->normalized = "NA";
    }
    return MED_OK;
}
