#include "c_pb.h"

#include "mediation/v1/opportunity.pb-c.h"

char *c_pb_str(const char *s)
{
    return (char *)(s ? s : "");
}

const char *c_pb_version(const Mediation__V1__PolicySnapshotLite *s, const char *field_value)
{
    return s && field_value && field_value[0] ? field_value : C_NA;
}

char **c_pb_strv(med_arena *a, const char *const *v, size_t n)
{
    char **out = med_arena_alloc(a, (n ? n : 1) * sizeof *out);
    if (!out) return NULL;
    for (size_t i = 0; i < n; i++) out[i] = c_pb_str(v[i]);
    return out;
}

#define NEW(a, T, init) \
    T *p = med_arena_alloc((a), sizeof *p); \
    if (!p) return NULL; \
    init(p)

Mediation__V1__TraceKeys *c_pb_keys(med_arena *a, const c_keys *k)
{
    NEW(a, Mediation__V1__TraceKeys, mediation__v1__trace_keys__init);
    p->trace_key = c_pb_str(k->trace_key);
    p->request_key = c_pb_str(k->request_key);
    p->attempt_key = c_pb_str(k->attempt_key);
    p->opportunity_key = c_pb_str(k->opportunity_key);
    return p;
}

static int set_list(med_arena *a, const c_strlist *l, char ***v, size_t *n)
{
    *n = l->n;
    *v = c_pb_strv(a, l->v, l->n);
    return *v != NULL;
}

Mediation__V1__ConstraintsLite *c_pb_constraints(med_arena *a, const c_constraints *c)
{
    NEW(a, Mediation__V1__ConstraintsLite, mediation__v1__constraints_lite__init);
    Mediation__V1__CategoryConstraints *cc = med_arena_alloc(a, sizeof *cc);
    Mediation__V1__PersonalizationConstraints *pc = med_arena_alloc(a, sizeof *pc);
    Mediation__V1__RenderConstraints *rc = med_arena_alloc(a, sizeof *rc);
    Mediation__V1__SourceConstraints *sc = med_arena_alloc(a, sizeof *sc);
    if (!cc || !pc || !rc || !sc) return NULL;
    mediation__v1__category_constraints__init(cc);
    mediation__v1__personalization_constraints__init(pc);
    mediation__v1__render_constraints__init(rc);
    mediation__v1__source_constraints__init(sc);
    p->constraint_set_version = c_pb_str(c->constraint_set_version);
    pc->non_personalized_only = c->non_personalized_only;
    sc->source_selection_mode = c_pb_str(c->source_selection_mode);
    if (!set_list(a, &c->bcat, &cc->bcat, &cc->n_bcat) ||
        !set_list(a, &c->badv, &cc->badv, &cc->n_badv) ||
        !set_list(a, &c->disallow_render_modes, &rc->disallow_render_modes,
                  &rc->n_disallow_render_modes) ||
        !set_list(a, &c->allowed_source_ids, &sc->allowed_source_ids, &sc->n_allowed_source_ids) ||
        !set_list(a, &c->blocked_source_ids, &sc->blocked_source_ids, &sc->n_blocked_source_ids) ||
        !set_list(a, &c->reason_codes, &p->constraint_reason_codes, &p->n_constraint_reason_codes))
        return NULL;
    p->category_constraints = cc;
    p->personalization_constraints = pc;
    p->render_constraints = rc;
    p->source_constraints = sc;
    return p;
}

Mediation__V1__AdDecisionLite *c_pb_ad_decision(med_arena *a, const c_eval *e)
{
    NEW(a, Mediation__V1__AdDecisionLite, mediation__v1__ad_decision_lite__init);
    p->allow_ad = e->is_routable;
    p->decision_semantic = c_pb_str(e->is_routable ? "serve_ad" : "no_ad");
    p->no_ad_reason_code = c_pb_str(e->is_routable ? "" : e->primary_code);
    return p;
}

Mediation__V1__StateTransitionLite *c_pb_state(med_arena *a, const c_eval *e)
{
    NEW(a, Mediation__V1__StateTransitionLite, mediation__v1__state_transition_lite__init);
    p->from_state = c_pb_str(e->from_state);
    p->to_state = c_pb_str(e->to_state);
    p->state_reason_code = c_pb_str(e->state_reason);
    p->state_rule_version =
        c_pb_str(c_pb_version(e->snapshot, e->snapshot ? e->snapshot->policy_rule_version : NULL));
    p->transition_at_unix_ms = e->eval_end_ms;
    return p;
}

static Mediation__V1__WarningLite *own_warning(med_arena *a, const c_warning *w)
{
    NEW(a, Mediation__V1__WarningLite, mediation__v1__warning_lite__init);
    p->reason_code = c_pb_str(w->reason_code);
    p->field_path = c_pb_str(w->field_path);
    p->action = c_pb_str(w->action);
    p->original_value = c_pb_str(w->original_value);
    return p;
}

/* C.1: mappingWarnings are copied to policyWarnings. */
static Mediation__V1__WarningLite *mapping_warning(med_arena *a,
                                                   const Mediation__V1__MappingWarningLite *m)
{
    NEW(a, Mediation__V1__WarningLite, mediation__v1__warning_lite__init);
    p->reason_code = c_pb_str(m->reason_code);
    p->field_path = c_pb_str(m->semantic_slot);
    p->action = c_pb_str(m->disposition);
    p->original_value = c_pb_str(m->raw_value);
    p->corrected_value = c_pb_str(m->normalized_value);
    p->rule_version = c_pb_str(m->rule_version);
    return p;
}

Mediation__V1__WarningLite **c_pb_warnings(med_arena *a, const c_eval *e,
                                           const Mediation__V1__NormalizedOpportunity *msg,
                                           size_t *n)
{
    size_t n_map = msg ? msg->n_mapping_warnings : 0;
    size_t total = e->warnings.n + n_map;
    Mediation__V1__WarningLite **v = med_arena_alloc(a, (total ? total : 1) * sizeof *v);
    if (!v) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < e->warnings.n; i++)
        if (!(v[k++] = own_warning(a, &e->warnings.v[i]))) return NULL;
    for (size_t i = 0; i < n_map; i++)
        if (!(v[k++] = mapping_warning(a, msg->mapping_warnings[i]))) return NULL;
    *n = total;
    return v;
}
