/* H.2 resolution: validate the request and the layers, merge the layers
 * field by field, then derive versions, provenance and hashes. */
#include "h_resolve.h"
#include "h_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h_semver.h"
#include "med/ids.h"
#include "med/jcs.h"
#include "med/reason.h"

typedef enum field_kind {
    FK_REF,          /* non-empty "<kind>:<version>" */
    FK_STRING,       /* non-empty string */
    FK_SEMVER_MAP,   /* object adapterId -> SemVer string */
    FK_MISSING_POLICY,
    FK_TTL,          /* integer 1..86400 */
    FK_STRING_ARRAY,
} field_kind;

typedef struct field_rule {
    const char *name;
    field_kind kind;
    const char *ref_kind;  /* FK_REF only */
    int required;
} field_rule;

/* In code-point order: H.2 processes fields in that order. */
static const field_rule FIELDS[] = {
    {"adapterMinVersionMap", FK_SEMVER_MAP, NULL, 1},
    {"blackWhiteListRef", FK_REF, "black_white_list", 1},
    {"experimentTagList", FK_STRING_ARRAY, NULL, 0},
    {"missingMinVersionPolicy", FK_MISSING_POLICY, NULL, 1},
    {"placementRef", FK_REF, "placement", 0},
    {"policyThresholdsRef", FK_REF, "policy", 1},
    {"routePolicyRef", FK_REF, "route_policy", 1},
    {"sdkMinVersion", FK_STRING, NULL, 1},
    {"templateWhitelistRef", FK_REF, "template_whitelist", 1},
    {"ttlSec", FK_TTL, NULL, 1},
};
#define N_FIELDS (sizeof FIELDS / sizeof FIELDS[0])

#define TTL_MIN 1
#define TTL_MAX 86400
#define NO_SCOPE (-1)

/* Who set a field (or map entry) and whose invalid value was skipped. */
typedef struct prov_slot {
    char *path;     /* owned */
    int winner;     /* h_scope or NO_SCOPE when cleared / never set */
    int fallback;   /* h_scope or NO_SCOPE */
} prov_slot;

typedef struct res_work {
    const h_res_input *in;
    h_res_output *out;
    int applied[H_SCOPE_COUNT];
    prov_slot *slots;   /* owned */
    size_t n_slots, cap_slots;
    int oom;
} res_work;

/* ---- names ------------------------------------------------------------ */

const char *h_scope_name(h_scope s)
{
    static const char *const names[H_SCOPE_COUNT] = {"global", "app", "placement"};
    return (unsigned)s < H_SCOPE_COUNT ? names[s] : "NA";
}

const char *h_res_status_name(h_res_status s)
{
    switch (s) {
    case H_RES_RESOLVED: return "resolved";
    case H_RES_DEGRADED: return "degraded";
    case H_RES_REJECTED: return "rejected";
    }
    return "rejected";
}

/* ---- status and reason codes ---------------------------------------- */

static void add_code(h_res_output *out, const char *code)
{
    for (size_t i = 0; i < out->n_reason_codes; i++)
        if (strcmp(out->reason_codes[i], code) == 0)
            return;
    if (out->n_reason_codes < H_RES_MAX_CODES)
        out->reason_codes[out->n_reason_codes++] = code;
}

/* rejected > degraded > resolved: a status only ever gets worse. */
static void worsen(h_res_output *out, h_res_status s, const char *code)
{
    if (s > out->status)
        out->status = s;
    add_code(out, code);
}

static int cmp_code(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* ---- request and layer checks ------------------------------------- */

static int blank(const char *s) { return !s || !s[0]; }

static void check_request(const h_res_input *in, h_res_output *out)
{
    const char *req[] = {in->request_key, in->trace_key, in->app_id, in->placement_id,
                         in->environment, in->schema_version, in->contract_version};
    for (size_t i = 0; i < sizeof req / sizeof req[0]; i++)
        if (blank(req[i]))
            worsen(out, H_RES_REJECTED, MED_R_H_CFG_MISSING_REQUIRED_AFTER_MERGE);
    if (in->resolve_at_ms <= 0)
        worsen(out, H_RES_REJECTED, MED_R_H_CFG_MISSING_REQUIRED_AFTER_MERGE);
    if (!blank(in->environment) && strcmp(in->environment, "prod") != 0 &&
        strcmp(in->environment, "staging") != 0)
        worsen(out, H_RES_REJECTED, MED_R_H_CFG_INVALID_RANGE);
    if (in->schema_version && strlen(in->schema_version) >= H_RES_VER_MAX)
        worsen(out, H_RES_REJECTED, MED_R_H_CFG_INVALID_RANGE);
}

static int layer_usable(const h_res_layer *l)
{
    return l->state == H_LAYER_OK && !blank(l->version) && strlen(l->version) < H_RES_VER_MAX &&
           json_is_object(l->json);
}

static int schema_matches(const h_res_input *in, const h_res_layer *l)
{
    return l->schema_version && in->schema_version &&
           strcmp(l->schema_version, in->schema_version) == 0;
}

/* Global fails closed; app and placement are skipped with degraded. */
static void check_layer(res_work *w, h_scope s)
{
    const h_res_layer *l = &w->in->layer[s];
    if (s != H_SCOPE_GLOBAL && l->state == H_LAYER_ABSENT)
        return;
    int usable = layer_usable(l), schema_ok = usable && schema_matches(w->in, l);
    if (usable && schema_ok) {
        w->applied[s] = 1;
        return;
    }
    if (s == H_SCOPE_GLOBAL)
        worsen(w->out, H_RES_REJECTED, MED_R_H_CFG_GLOBAL_UNAVAILABLE_FAIL_CLOSED);
    else
        worsen(w->out, H_RES_DEGRADED, MED_R_H_CFG_SCOPE_UNAVAILABLE);
    if (usable && !schema_ok)
        add_code(w->out, MED_R_H_CFG_VERSION_INCOMPATIBLE);
}

static const field_rule *rule_of(const char *name)
{
    for (size_t i = 0; i < N_FIELDS; i++)
        if (strcmp(FIELDS[i].name, name) == 0)
            return &FIELDS[i];
    return NULL;
}

static void drop_unknown_fields(res_work *w, const json_t *layer)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)layer, key, v) {
        if (!rule_of(key))
            add_code(w->out, MED_R_H_CFG_UNKNOWN_FIELD_DROPPED);
    }
}

/* ---- value validation: NULL when valid, else the reason code ------ */

static const char *check_ref(const field_rule *r, const json_t *v)
{
    if (!json_is_string(v))
        return MED_R_H_CFG_INVALID_TYPE;
    const char *s = json_string_value(v);
    size_t kl = strlen(r->ref_kind);
    if (strncmp(s, r->ref_kind, kl) != 0 || s[kl] != ':' || !s[kl + 1] ||
        strlen(s + kl + 1) >= H_RES_VER_MAX)
        return MED_R_H_CFG_INVALID_RANGE;
    return NULL;
}

static const char *check_semver_entry(const char *adapter_id, const json_t *v)
{
    if (!json_is_string(v))
        return MED_R_H_CFG_INVALID_TYPE;
    h_semver sv;
    med_err ignored;
    if (!adapter_id[0] || h_semver_parse(json_string_value(v), &sv, &ignored) != MED_OK)
        return MED_R_H_CFG_INVALID_RANGE;
    return NULL;
}

static const char *check_string_array(const json_t *v)
{
    if (!json_is_array(v))
        return MED_R_H_CFG_INVALID_TYPE;
    size_t i;
    const json_t *e;
    json_array_foreach(v, i, e) {
        if (!json_is_string(e))
            return MED_R_H_CFG_INVALID_TYPE;
    }
    return NULL;
}

static const char *check_value(const field_rule *r, const json_t *v)
{
    const char *s = json_string_value(v);
    switch (r->kind) {
    case FK_REF:
        return check_ref(r, v);
    case FK_STRING:
        return !s ? MED_R_H_CFG_INVALID_TYPE : !s[0] ? MED_R_H_CFG_INVALID_RANGE : NULL;
    case FK_MISSING_POLICY:
        if (!s)
            return MED_R_H_CFG_INVALID_TYPE;
        return strcmp(s, "reject") == 0 || strcmp(s, "degrade_block_adapter") == 0
                   ? NULL : MED_R_H_CFG_INVALID_RANGE;
    case FK_TTL:
        if (!json_is_integer(v))
            return MED_R_H_CFG_INVALID_TYPE;
        return json_integer_value(v) < TTL_MIN || json_integer_value(v) > TTL_MAX
                   ? MED_R_H_CFG_INVALID_RANGE : NULL;
    case FK_STRING_ARRAY:
        return check_string_array(v);
    case FK_SEMVER_MAP:
        return json_is_object(v) ? NULL : MED_R_H_CFG_INVALID_TYPE;
    }
    return MED_R_H_CFG_INVALID_TYPE;
}

/* ---- provenance slots ----------------------------------------------- */

static prov_slot *slot_get(res_work *w, const char *path)
{
    for (size_t i = 0; i < w->n_slots; i++)
        if (strcmp(w->slots[i].path, path) == 0)
            return &w->slots[i];
    if (w->n_slots == w->cap_slots) {
        size_t cap = w->cap_slots ? 2 * w->cap_slots : 16;
        prov_slot *ns = realloc(w->slots, cap * sizeof *ns);
        if (!ns)
            return NULL;
        w->slots = ns;
        w->cap_slots = cap;
    }
    char *p = strdup(path);
    if (!p)
        return NULL;
    w->slots[w->n_slots] = (prov_slot){p, NO_SCOPE, NO_SCOPE};
    return &w->slots[w->n_slots++];
}

static prov_slot *slot_for_entry(res_work *w, const char *field, const char *key)
{
    char *path;
    if (asprintf(&path, "%s.%s", field, key) < 0)
        return NULL;
    prov_slot *s = slot_get(w, path);
    free(path);
    return s;
}

static int slot_in_map(const prov_slot *s, const char *field)
{
    size_t n = strlen(field);
    return strncmp(s->path, field, n) == 0 && s->path[n] == '.';
}

/* A valid value took over: any earlier skip no longer explains it. */
static void slot_win(prov_slot *s, h_scope scope)
{
    s->winner = (int)scope;
    s->fallback = NO_SCOPE;
}

static void slot_clear(prov_slot *s)
{
    s->winner = NO_SCOPE;
    s->fallback = NO_SCOPE;
}

/* ---- merge -------------------------------------------------------- */

static void skip_invalid(res_work *w, prov_slot *slot, const char *code, h_scope scope)
{
    worsen(w->out, H_RES_DEGRADED, code);
    if (slot)
        slot->fallback = (int)scope;
}

static void merge_map_entry(res_work *w, const field_rule *r, json_t *map, const char *key,
                            const json_t *v, h_scope scope)
{
    prov_slot *slot = slot_for_entry(w, r->name, key);
    if (!slot) {
        w->oom = 1;
        return;
    }
    if (json_is_null(v)) {
        json_object_del(map, key);
        slot_clear(slot);
        return;
    }
    const char *code = check_semver_entry(key, v);
    if (code) {
        skip_invalid(w, slot, code, scope);
        return;
    }
    json_t *copy = json_deep_copy(v);
    if (!copy || json_object_set_new(map, key, copy) != 0) {
        w->oom = 1;
        return;
    }
    slot_win(slot, scope);
}

static void merge_map(res_work *w, const field_rule *r, const json_t *v, h_scope scope)
{
    json_t *eff = w->out->effective_config;
    json_t *map = json_object_get(eff, r->name);
    if (!map) {
        map = json_object();
        if (!map || json_object_set_new(eff, r->name, map) != 0) {
            w->oom = 1;
            return;
        }
    }
    const char *key;
    json_t *ev;
    json_object_foreach((json_t *)v, key, ev) {
        merge_map_entry(w, r, map, key, ev, scope);
    }
    if (json_object_size(map) == 0)
        json_object_del(eff, r->name); /* keeps "empty" and "absent" one state */
}

/* The whole field is cleared (null) or skipped (invalid): for a map that
 * applies to each of its entries. */
static void clear_field(res_work *w, const field_rule *r)
{
    json_object_del(w->out->effective_config, r->name);
    for (size_t i = 0; i < w->n_slots; i++)
        if (strcmp(w->slots[i].path, r->name) == 0 || slot_in_map(&w->slots[i], r->name))
            slot_clear(&w->slots[i]);
}

static void skip_field(res_work *w, const field_rule *r, const char *code, h_scope scope)
{
    worsen(w->out, H_RES_DEGRADED, code);
    for (size_t i = 0; i < w->n_slots; i++)
        if (strcmp(w->slots[i].path, r->name) == 0 || slot_in_map(&w->slots[i], r->name))
            w->slots[i].fallback = (int)scope;
}

static void merge_scalar(res_work *w, const field_rule *r, const json_t *v, h_scope scope)
{
    prov_slot *slot = slot_get(w, r->name);
    json_t *copy = json_deep_copy(v);
    if (!slot || !copy || json_object_set_new(w->out->effective_config, r->name, copy) != 0) {
        w->oom = 1;
        return;
    }
    slot_win(slot, scope);
}

static void merge_field(res_work *w, const field_rule *r, h_scope scope)
{
    const json_t *v = json_object_get(w->in->layer[scope].json, r->name);
    if (!v)
        return;
    if (json_is_null(v)) {
        clear_field(w, r);
        return;
    }
    const char *code = check_value(r, v);
    if (code)
        skip_field(w, r, code, scope);
    else if (r->kind == FK_SEMVER_MAP)
        merge_map(w, r, v, scope);
    else
        merge_scalar(w, r, v, scope);
}

static void merge_layers(res_work *w)
{
    for (int s = 0; s < H_SCOPE_COUNT; s++)
        if (w->applied[s])
            drop_unknown_fields(w, w->in->layer[s].json);
    for (size_t f = 0; f < N_FIELDS && !w->oom; f++)
        for (int s = 0; s < H_SCOPE_COUNT && !w->oom; s++)
            if (w->applied[s])
                merge_field(w, &FIELDS[f], (h_scope)s);
}

static void check_required(res_work *w)
{
    for (size_t f = 0; f < N_FIELDS; f++)
        if (FIELDS[f].required && !json_object_get(w->out->effective_config, FIELDS[f].name))
            worsen(w->out, H_RES_REJECTED, MED_R_H_CFG_MISSING_REQUIRED_AFTER_MERGE);
}

/* ---- versions ------------------------------------------------------- */

static void copy_ver(char dst[H_RES_VER_MAX], const char *src)
{
    snprintf(dst, H_RES_VER_MAX, "%s", blank(src) ? "NA" : src);
}

static const char *layer_version(const res_work *w, h_scope s)
{
    return w->applied[s] ? w->in->layer[s].version : NULL;
}

/* <v> of the effective "<kind>:<v>" ref, NULL when the ref is absent. */
static const char *ref_version(const res_work *w, const char *field)
{
    const char *s = json_string_value(json_object_get(w->out->effective_config, field));
    const char *colon = s ? strchr(s, ':') : NULL;
    return colon ? colon + 1 : NULL;
}

static void fill_versions(res_work *w)
{
    h_res_applied *a = &w->out->applied;
    copy_ver(a->schema_version, w->in->schema_version);
    copy_ver(a->routing_strategy_version, ref_version(w, "routePolicyRef"));
    copy_ver(a->placement_config_version, layer_version(w, H_SCOPE_PLACEMENT));
    copy_ver(a->global_config_version, layer_version(w, H_SCOPE_GLOBAL));
    copy_ver(a->app_config_version_or_na, layer_version(w, H_SCOPE_APP));
    copy_ver(a->placement_source_version_or_na, ref_version(w, "placementRef"));
}

/* ---- provenance output ------------------------------------------- */

static int cmp_prov(const void *a, const void *b)
{
    return strcmp(((const h_res_provenance *)a)->field_path,
                  ((const h_res_provenance *)b)->field_path);
}

/* Moves every slot that names a winner into out->provenance. */
static void emit_provenance(res_work *w)
{
    h_res_output *out = w->out;
    out->provenance = w->n_slots ? calloc(w->n_slots, sizeof *out->provenance) : NULL;
    if (w->n_slots && !out->provenance) {
        w->oom = 1;
        return;
    }
    for (size_t i = 0; i < w->n_slots; i++) {
        prov_slot *s = &w->slots[i];
        if (s->winner == NO_SCOPE)
            continue;
        h_res_provenance *p = &out->provenance[out->n_provenance++];
        p->field_path = s->path;
        s->path = NULL;
        p->winner_scope = (h_scope)s->winner;
        copy_ver(p->winner_version, w->in->layer[s->winner].version);
        p->has_fallback = s->fallback != NO_SCOPE;
        p->fallback_scope = p->has_fallback ? (h_scope)s->fallback : H_SCOPE_GLOBAL;
    }
    if (out->n_provenance > 1)
        qsort(out->provenance, out->n_provenance, sizeof *out->provenance, cmp_prov);
}

/* ---- hashes --------------------------------------------------------- */

static const char *str_or_empty(const char *s) { return s ? s : ""; }

static med_rc compute_hashes(const h_res_input *in, h_res_output *out, med_err *err)
{
    med_rc rc = med_jcs_sha256(out->effective_config, out->config_hash, err);
    if (rc != MED_OK)
        return rc;
    const h_res_applied *a = &out->applied;
    char *etag_in = NULL, *id_in = NULL;
    if (asprintf(&etag_in, "%s|%s|%s|%s|%s|%s|%s", out->config_hash, a->schema_version,
                 a->global_config_version, a->app_config_version_or_na,
                 a->placement_source_version_or_na, a->placement_config_version,
                 a->routing_strategy_version) < 0)
        return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_ENCODE_FAILED, "", "out of memory");
    med_sha256_hex(etag_in, strlen(etag_in), out->etag);
    free(etag_in);
    if (asprintf(&id_in, "%s|%s|%s|%s", str_or_empty(in->request_key),
                 str_or_empty(in->trace_key), out->etag, str_or_empty(in->contract_version)) < 0)
        return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_ENCODE_FAILED, "", "out of memory");
    int bad = med_hash_key(out->resolve_id, sizeof out->resolve_id, "cfgres_", id_in, 16);
    free(id_in);
    if (bad)
        return med_err_set(err, MED_ERR_INTERNAL, MED_R_INFRA_ENCODE_FAILED, "",
                           "resolveId hashing failed");
    return MED_OK;
}

/* ---- entry points ------------------------------------------------- */

void h_res_output_free(h_res_output *out)
{
    if (!out)
        return;
    json_decref(out->effective_config);
    for (size_t i = 0; i < out->n_provenance; i++)
        free(out->provenance[i].field_path);
    free(out->provenance);
    free(out->request_key);
    free(out->trace_key);
    free(out->contract_version);
    memset(out, 0, sizeof *out);
}

static void free_slots(res_work *w)
{
    for (size_t i = 0; i < w->n_slots; i++)
        free(w->slots[i].path);
    free(w->slots);
}

static med_rc copy_echo_fields(const h_res_input *in, h_res_output *out)
{
    out->request_key = strdup(str_or_empty(in->request_key));
    out->trace_key = strdup(str_or_empty(in->trace_key));
    out->contract_version = strdup(str_or_empty(in->contract_version));
    out->resolved_at_ms = in->resolve_at_ms;
    out->effective_config = json_object();
    return out->request_key && out->trace_key && out->contract_version && out->effective_config
               ? MED_OK : MED_ERR_NOMEM;
}

static void run_rules(res_work *w)
{
    check_request(w->in, w->out);
    for (int s = 0; s < H_SCOPE_COUNT; s++)
        check_layer(w, (h_scope)s);
    if (w->applied[H_SCOPE_GLOBAL])
        merge_layers(w);
    if (!w->oom)
        check_required(w);
    if (!w->oom)
        emit_provenance(w);
    fill_versions(w);
    qsort(w->out->reason_codes, w->out->n_reason_codes, sizeof w->out->reason_codes[0],
          cmp_code);
}

med_rc h_resolve(const h_res_input *in, h_res_output *out, med_err *err)
{
    if (!in || !out)
        return med_err_set(err, MED_ERR_INVALID, MED_R_H_CFG_MISSING_REQUIRED_AFTER_MERGE, "",
                           "no input or output");
    memset(out, 0, sizeof *out);
    res_work w = {.in = in, .out = out};
    med_rc rc = copy_echo_fields(in, out);
    if (rc == MED_OK) {
        run_rules(&w);
        rc = w.oom ? MED_ERR_NOMEM : MED_OK;
    }
    free_slots(&w);
    if (rc == MED_ERR_NOMEM)
        med_err_set(err, rc, MED_R_INFRA_ENCODE_FAILED, "", "out of memory");
    if (rc == MED_OK)
        rc = compute_hashes(in, out, err);
    if (rc != MED_OK)
        h_res_output_free(out);
    return rc;
}

/* ---- snapshot rendering (GET /v1/config) ------------------------- */

static json_t *applied_json(const h_res_applied *a)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}",
                     "schemaVersion", a->schema_version,
                     "routingStrategyVersion", a->routing_strategy_version,
                     "placementConfigVersion", a->placement_config_version,
                     "globalConfigVersion", a->global_config_version,
                     "appConfigVersionOrNA", a->app_config_version_or_na,
                     "placementSourceVersionOrNA", a->placement_source_version_or_na);
}

static json_t *provenance_json(const h_res_output *out)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < out->n_provenance; i++) {
        const h_res_provenance *p = &out->provenance[i];
        json_t *e = json_pack("{s:s, s:s, s:s, s:s}", "fieldPath", p->field_path,
                              "winnerScope", h_scope_name(p->winner_scope),
                              "winnerVersion", p->winner_version, "fallbackFromScopeOrNA",
                              p->has_fallback ? h_scope_name(p->fallback_scope) : "NA");
        if (!e || json_array_append_new(arr, e) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

med_rc h_res_snapshot_json(const h_res_output *out, json_t **snap, med_err *err)
{
    if (!out || !snap || !out->effective_config)
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_ENCODE_FAILED, "",
                           "no resolution to render");
    char at[32];
    med_format_utc_ms(out->resolved_at_ms, at, sizeof at);
    json_t *applied = applied_json(&out->applied), *eff = json_deep_copy(out->effective_config);
    json_t *prov = provenance_json(out);
    json_t *codes = h_json_strings(out->reason_codes, out->n_reason_codes);
    /* "O" takes its own references, so the parts are always ours to drop. */
    *snap = applied && eff && prov && codes
        ? json_pack("{s:s, s:s, s:s, s:s, s:O, s:O, s:O, s:O, s:s, s:s, s:s, s:s}",
                    "resolveId", out->resolve_id, "requestKey", out->request_key,
                    "traceKey", out->trace_key,
                    "resolutionStatus", h_res_status_name(out->status),
                    "appliedVersions", applied, "effectiveConfig", eff,
                    "fieldProvenance", prov, "reasonCodes", codes, "etag", out->etag,
                    "configHash", out->config_hash, "resolvedAt", at,
                    "configResolutionContractVersion", out->contract_version)
        : NULL;
    json_decref(applied);
    json_decref(eff);
    json_decref(prov);
    json_decref(codes);
    if (!*snap)
        return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_ENCODE_FAILED, "",
                           "snapshot could not be built");
    return MED_OK;
}
