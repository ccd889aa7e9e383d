/* Source slots of bIngressPacketLite. */
#include "a_slots.h"

#include <string.h>

#include "a_json.h"

#define SLOT MEDIATION__V1__SOURCE_SLOT_LITE
#define RAWC MEDIATION__V1__APP_CONTEXT_RAW_LITE

typedef Mediation__V1__SourceSlotLite slot_t;
typedef Mediation__V1__SourceSlotLite__MalformedFieldsEntry malformed_t;

static void note_malformed(med_arena *a, slot_t *s, const char *name, const json_t *v)
{
    malformed_t **grown = med_arena_alloc(a, (s->n_malformed_fields + 1) * sizeof *grown);
    malformed_t *e = med_arena_alloc(a, sizeof *e);
    if (!grown || !e) return;
    mediation__v1__source_slot_lite__malformed_fields_entry__init(e);
    e->key = (char *)name;
    e->value = a_json_text(a, v);
    if (s->n_malformed_fields)
        memcpy(grown, s->malformed_fields, s->n_malformed_fields * sizeof *grown);
    grown[s->n_malformed_fields++] = e;
    s->malformed_fields = grown;
}

/* A scalar member as text; a present non-scalar is recorded malformed. */
static char *scalar(med_arena *a, slot_t *s, const json_t *obj, const char *name)
{
    const json_t *v = json_object_get(obj, name);
    if (!v || json_is_null(v)) return NULL;
    char *t = a_json_scalar_text(a, v);
    if (!t) note_malformed(a, s, name, v);
    return t;
}

#define SET_OPT(s, field, FIELD, value)                         \
    do {                                                        \
        char *v_ = (value);                                     \
        if (v_) {                                               \
            (s)->field##_opt_case = A_OPT(SLOT, FIELD);         \
            (s)->field = v_;                                    \
        }                                                       \
    } while (0)

static void str_list(med_arena *a, slot_t *s, const json_t *obj, const char *name, char ***out,
                     size_t *n)
{
    const json_t *v = json_object_get(obj, name);
    if (!v || json_is_null(v)) return;
    if (!json_is_array(v)) {
        note_malformed(a, s, name, v);
        return;
    }
    *out = a_json_str_array(a, v, n);
}

static void numeric_signals(med_arena *a, slot_t *s, const json_t *obj)
{
    const json_t *ns = json_object_get(obj, "numericSignals");
    if (!ns || json_is_null(ns)) return;
    if (!json_is_object(ns)) {
        note_malformed(a, s, "numericSignals", ns);
        return;
    }
    s->numeric_signals = med_arena_alloc(a, (json_object_size(ns) + 1) * sizeof *s->numeric_signals);
    if (!s->numeric_signals) return;
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)ns, k, v) {
        char *t = a_json_scalar_text(a, v);
        Mediation__V1__SourceSlotLite__NumericSignalsEntry *e = med_arena_alloc(a, sizeof *e);
        if (!t || !e) continue;
        mediation__v1__source_slot_lite__numeric_signals_entry__init(e);
        e->key = (char *)k;
        e->value = t;
        s->numeric_signals[s->n_numeric_signals++] = e;
    }
}

/* The B.5 app_context sub-fields, flat in the SDK's appContext or nested
 * as app_context in a config slot. */
static Mediation__V1__AppContextRawLite *app_context(med_arena *a, slot_t *s, const json_t *obj)
{
    Mediation__V1__AppContextRawLite *c = med_arena_alloc(a, sizeof *c);
    if (!c) return NULL;
    mediation__v1__app_context_raw_lite__init(c);
    char *v;
    if ((v = scalar(a, s, obj, "language"))) {
        c->language_opt_case = A_OPT(RAWC, LANGUAGE);
        c->language = v;
    }
    if ((v = scalar(a, s, obj, "session_state"))) {
        c->session_state_opt_case = A_OPT(RAWC, SESSION_STATE);
        c->session_state = v;
    }
    if ((v = scalar(a, s, obj, "device_performance_score"))) {
        c->device_performance_score_opt_case = A_OPT(RAWC, DEVICE_PERFORMANCE_SCORE);
        c->device_performance_score = v;
    }
    if ((v = scalar(a, s, obj, "privacy_status"))) {
        c->privacy_status_opt_case = A_OPT(RAWC, PRIVACY_STATUS);
        c->privacy_status = v;
    }
    if ((v = scalar(a, s, obj, "session_depth"))) {
        c->session_depth_opt_case = A_OPT(RAWC, SESSION_DEPTH);
        c->session_depth = v;
    }
    return c;
}

/* The B.1 slot field names shared by every slot source. */
static void common_fields(med_arena *a, slot_t *s, const json_t *obj)
{
    SET_OPT(s, app_id, APP_ID, scalar(a, s, obj, "appId"));
    SET_OPT(s, session_id, SESSION_ID, scalar(a, s, obj, "sessionId"));
    SET_OPT(s, channel_type, CHANNEL_TYPE, scalar(a, s, obj, "channelType"));
    SET_OPT(s, actor_type, ACTOR_TYPE, scalar(a, s, obj, "actorType"));
    SET_OPT(s, placement_type, PLACEMENT_TYPE, scalar(a, s, obj, "placementType"));
    SET_OPT(s, placement_surface, PLACEMENT_SURFACE, scalar(a, s, obj, "placementSurface"));
    SET_OPT(s, policy_gate_hint, POLICY_GATE_HINT, scalar(a, s, obj, "policyGateHint"));
    SET_OPT(s, device_id, DEVICE_ID, scalar(a, s, obj, "deviceId"));
    SET_OPT(s, intent_score, INTENT_SCORE, scalar(a, s, obj, "intentScore"));
    str_list(a, s, obj, "restrictedCategoryFlags", &s->restricted_category_flags,
             &s->n_restricted_category_flags);
    str_list(a, s, obj, "experimentTags", &s->experiment_tags, &s->n_experiment_tags);
    numeric_signals(a, s, obj);
}

static slot_t *new_slot(med_arena *a)
{
    slot_t *s = med_arena_alloc(a, sizeof *s);
    if (s) mediation__v1__source_slot_lite__init(s);
    return s;
}

static void set_updated_at(slot_t *s, int64_t ms)
{
    if (ms <= 0) return;
    s->input_updated_at_unix_ms_opt_case = A_OPT(SLOT, INPUT_UPDATED_AT_UNIX_MS);
    s->input_updated_at_unix_ms = ms;
}

static void extensions(med_arena *a, slot_t *s, const json_t *ext)
{
    if (!json_is_object(ext) || json_object_size(ext) == 0) return;
    s->extensions = med_arena_alloc(a, json_object_size(ext) * sizeof *s->extensions);
    if (!s->extensions) return;
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)ext, k, v) {
        Mediation__V1__SourceSlotLite__ExtensionsEntry *e = med_arena_alloc(a, sizeof *e);
        if (!e) return;
        mediation__v1__source_slot_lite__extensions_entry__init(e);
        e->key = (char *)k;
        e->value = a_json_text(a, v);
        s->extensions[s->n_extensions++] = e;
    }
}

Mediation__V1__SourceSlotLite *a_slot_app_explicit(med_arena *a, const a_request *r)
{
    slot_t *s = new_slot(a);
    if (!s) return NULL;
    common_fields(a, s, r->app_context);
    /* The SDK spells the device id deviceIdOrNA and sends its top-level
     * intent score and tags beside appContext. */
    const char *dev = a_json_str(r->app_context, "deviceIdOrNA");
    if (dev && strcmp(dev, "NA") != 0) SET_OPT(s, device_id, DEVICE_ID, (char *)dev);
    const json_t *score = json_object_get(r->root, "intentScoreOrNA");
    if (json_is_number(score)) SET_OPT(s, intent_score, INTENT_SCORE, a_json_text(a, score));
    if (r->experiment_tags)
        s->experiment_tags = a_json_str_array(a, r->experiment_tags, &s->n_experiment_tags);
    if (r->conversation_turn_id) {
        s->conversation_turn_id_or_na_opt_case = A_OPT(SLOT, CONVERSATION_TURN_ID_OR_NA);
        s->conversation_turn_id_or_na = (char *)r->conversation_turn_id;
    }
    s->app_context = app_context(a, s, r->app_context);
    extensions(a, s, r->extensions);
    set_updated_at(s, r->request_at_ms);
    return s;
}

static slot_t *slot_from_doc(med_arena *a, const json_t *obj, int64_t updated_at_ms)
{
    slot_t *s = new_slot(a);
    if (!s || !json_is_object(obj)) return s;
    common_fields(a, s, obj);
    const json_t *ac = json_object_get(obj, "app_context");
    if (json_is_object(ac)) s->app_context = app_context(a, s, ac);
    set_updated_at(s, updated_at_ms);
    return s;
}

Mediation__V1__SourceSlotLite *a_slot_placement_config(med_arena *a, const json_t *placement_doc,
                                                       int64_t updated_at_ms)
{
    return slot_from_doc(a, placement_doc, updated_at_ms);
}

Mediation__V1__SourceSlotLite *a_slot_default_policy(med_arena *a, const json_t *policy_doc,
                                                     int64_t updated_at_ms)
{
    const json_t *dp = json_object_get(policy_doc, "defaultPolicy");
    return slot_from_doc(a, json_is_object(dp) ? dp : NULL, updated_at_ms);
}
