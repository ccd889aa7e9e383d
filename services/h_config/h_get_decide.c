/* GET /v1/config per-request decisions: gate, canary, audit. */
#include "h_get_decide.h"
#include "h_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h_rollout.h"
#include "med/reason.h"

#define NA "NA"

static med_rc nomem(med_err *err, const char *what)
{
    return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "GET decisions: %s", what);
}

static int empty(const char *s)
{
    return !s || !*s;
}

/* ---- snapshot lookups --------------------------------------------------- */

/* <v> of the first "<kind>:<v>" value among effectiveConfig's *Ref members:
 * the document the resolution selected for that kind. */
static const char *ref_version(const json_t *eff, const char *kind)
{
    const char *name;
    const json_t *v;
    size_t kl = strlen(kind);
    json_object_foreach((json_t *)eff, name, v) {
        size_t nl = strlen(name);
        const char *s = json_string_value(v);
        if (nl < 3 || strcmp(name + nl - 3, "Ref") != 0 || !s) continue;
        if (strncmp(s, kind, kl) == 0 && s[kl] == ':' && s[kl + 1]) return s + kl + 1;
    }
    return NULL;
}

/* The body of the dereferenced document kind:version, NULL when absent. */
static const json_t *doc_body(const json_t *snap, const char *kind, const char *version)
{
    size_t i;
    const json_t *d;
    if (!version) return NULL;
    json_array_foreach(json_object_get(snap, "documents"), i, d) {
        const char *k = json_string_value(json_object_get(d, "kind"));
        const char *v = json_string_value(json_object_get(d, "version"));
        if (k && v && strcmp(k, kind) == 0 && strcmp(v, version) == 0)
            return json_object_get(d, "body");
    }
    return NULL;
}

/* The string members of a JSON array (non-strings skipped), borrowed.
 * *out NULL with *n 0 when the array is empty or absent. */
static med_rc strings_of(const json_t *arr, const char ***out, size_t *n, med_err *err)
{
    *out = NULL;
    *n = 0;
    size_t cap = json_array_size(arr), i;
    if (cap == 0) return MED_OK;
    *out = calloc(cap, sizeof **out);
    if (!*out) return nomem(err, "string list");
    const json_t *v;
    json_array_foreach(arr, i, v)
        if (json_is_string(v)) (*out)[(*n)++] = json_string_value(v);
    return MED_OK;
}

/* ---- version gate (H.5) ------------------------------------------------- */

typedef struct gate_parts {
    h_kv *min_map;
    const char **full, **degrade;
    h_schema_policy policy;
} gate_parts;

static void gate_parts_free(gate_parts *g)
{
    free(g->min_map);
    free(g->full);
    free(g->degrade);
}

static med_rc min_map_of(const json_t *eff, gate_parts *g, h_gate_input *gi, med_err *err)
{
    const json_t *m = json_object_get(eff, "adapterMinVersionMap");
    if (!json_is_object(m)) return MED_OK; /* map missing: the gate decides */
    size_t n = json_object_size(m);
    g->min_map = calloc(n ? n : 1, sizeof *g->min_map);
    if (!g->min_map) return nomem(err, "adapter min map");
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)m, k, v) {
        if (!json_is_string(v)) continue;
        g->min_map[gi->n_adapter_min_versions++] = (h_kv){ k, json_string_value(v) };
    }
    gi->adapter_min_versions = g->min_map;
    return MED_OK;
}

/* schemaCompatibilityPolicy of the `schema` document: the one a layer ref
 * names, else the one of the request's schemaVersion (06 section 2: the
 * schema line is that document's version; the GET path loads it into the
 * snapshot's documents). None is policy not found. */
static med_rc schema_policy_of(const json_t *snap, const json_t *eff, gate_parts *g,
                               h_gate_input *gi, med_err *err)
{
    const char *v = ref_version(eff, "schema");
    const json_t *body = doc_body(snap, "schema", v ? v : gi->schema_version);
    const json_t *pol = json_object_get(body, "schemaCompatibilityPolicy");
    if (!json_is_object(pol)) return MED_OK;
    med_rc rc = strings_of(json_object_get(pol, "fullySupported"), &g->full,
                           &g->policy.n_fully_supported, err);
    if (rc == MED_OK)
        rc = strings_of(json_object_get(pol, "compatibleDegrade"), &g->degrade,
                        &g->policy.n_compatible_degrade, err);
    if (rc != MED_OK) return rc;
    g->policy.fully_supported = g->full;
    g->policy.compatible_degrade = g->degrade;
    gi->schema_policy = &g->policy;
    return MED_OK;
}

static json_t *gate_json(const h_gate_result *r)
{
    return json_pack("{s:s, s:{s:s, s:s, s:s}, s:o, s:o, s:o}", "gateAction",
                     h_verdict_name(r->action), "gateStageResult", "schemaGate",
                     h_verdict_name(r->schema_gate), "sdkGate", h_verdict_name(r->sdk_gate),
                     "adapterGate", h_verdict_name(r->adapter_gate), "compatibleAdapters",
                     h_json_strings(r->compatible_adapters, r->n_compatible), "blockedAdapters",
                     h_json_strings(r->blocked_adapters, r->n_blocked), "reasonCodes",
                     h_json_strings(r->reason_codes, r->n_reason_codes));
}

/* Runs the gate; gj gets its JSON (new reference), action and code its
 * verdict and first reason code (static storage). */
static med_rc run_gate(const h_get_decide_in *in, const json_t *snap, json_t **gj,
                       h_verdict *action, const char **code, med_err *err)
{
    const json_t *eff = json_object_get(snap, "effectiveConfig");
    gate_parts g;
    memset(&g, 0, sizeof g);
    h_gate_input gi = {
        .schema_version = in->schema_version,
        .sdk_version = in->sdk_version,
        .adapter_versions = in->adapters,
        .n_adapter_versions = in->n_adapters,
        .sdk_min_version = json_string_value(json_object_get(eff, "sdkMinVersion")),
        .missing_min_version_policy =
            json_string_value(json_object_get(eff, "missingMinVersionPolicy")),
        .adapters_not_reported = in->n_adapters == 0,
    };
    med_rc rc = min_map_of(eff, &g, &gi, err);
    if (rc == MED_OK) rc = schema_policy_of(snap, eff, &g, &gi, err);
    h_gate_result r;
    memset(&r, 0, sizeof r);
    if (rc == MED_OK) rc = h_gate_evaluate(&gi, &r, err);
    if (rc == MED_OK) {
        *action = r.action;
        *code = r.n_reason_codes ? r.reason_codes[0] : NULL;
        *gj = gate_json(&r);
        if (!*gj) rc = nomem(err, "versionGateDecision");
    }
    h_gate_result_free(&r);
    gate_parts_free(&g);
    return rc;
}

/* ---- canary (H.7) ------------------------------------------------------- */

/* Adapters the canary splits: the request's, else the route policy's
 * sources' adapterIds (first occurrence kept). */
static med_rc rollout_adapters(const h_get_decide_in *in, const json_t *route, const char ***ids,
                               size_t *n, med_err *err)
{
    const json_t *src = json_object_get(route, "sources");
    size_t cap = in->n_adapters ? in->n_adapters : json_array_size(src), i;
    *ids = calloc(cap ? cap : 1, sizeof **ids);
    if (!*ids) return nomem(err, "rollout adapters");
    *n = 0;
    for (i = 0; i < in->n_adapters; i++) (*ids)[(*n)++] = in->adapters[i].key;
    if (in->n_adapters) return MED_OK;
    const json_t *s;
    json_array_foreach(src, i, s) {
        const char *id = json_string_value(json_object_get(s, "adapterId"));
        int dup = 0;
        for (size_t j = 0; id && j < *n; j++) dup |= strcmp((*ids)[j], id) == 0;
        if (id && *id && !dup) (*ids)[(*n)++] = id;
    }
    return MED_OK;
}

/* Breaker of this policy version; closed when absent or unreadable. */
static void read_breaker(const h_get_decide_in *in, const char *version, h_breaker_state *b)
{
    h_breaker_init(b);
    char *key = NULL;
    med_err e;
    if (!in->breaker_reader ||
        h_breaker_key(in->app_id, in->placement_id, version, &key, &e) != MED_OK)
        return;
    if (!in->breaker_reader(in->breaker_ud, key, b)) h_breaker_init(b);
    free(key);
}

typedef struct rollout_out {
    json_t *json;          /* NULL = no rollout object */
    const char *version;   /* rolloutPolicyVersion (borrowed from the snapshot) */
    int force_fallback;
    const char *code;
} rollout_out;

static med_rc decide_rollout(const h_get_decide_in *in, const json_t *route,
                             const h_rollout_policy *pol, rollout_out *ro, med_err *err)
{
    const char **ids = NULL;
    size_t n = 0;
    med_rc rc = rollout_adapters(in, route, &ids, &n, err);
    h_breaker_state b;
    read_breaker(in, ro->version, &b);
    h_rollout_input ri = {
        .request_key = in->config_key,
        .trace_key = in->trace_key,
        .app_id = in->app_id,
        .placement_id = in->placement_id,
        .sdk_version = in->sdk_version,
        .adapter_ids = ids,
        .n_adapter_ids = n,
        .environment = in->environment,
        .rollout_policy_version = ro->version,
        .rollout_at_ms = in->now_ms,
        .policy = pol,
        .breaker = &b,
    };
    h_rollout_result r;
    memset(&r, 0, sizeof r);
    if (rc == MED_OK) rc = h_rollout_decide(&ri, &r, err);
    if (rc == MED_OK) {
        ro->force_fallback = r.action == H_ROLLOUT_FORCE_FALLBACK;
        ro->code = r.n_reason_codes ? r.reason_codes[0] : NULL;
        ro->json = h_rollout_result_to_json(&r);
        if (!ro->json) rc = nomem(err, "rolloutDecision");
    }
    h_rollout_result_free(&r);
    free(ids);
    return rc;
}

static med_rc run_rollout(const h_get_decide_in *in, const json_t *snap, rollout_out *ro,
                          med_err *err)
{
    memset(ro, 0, sizeof *ro);
    ro->version = ref_version(json_object_get(snap, "effectiveConfig"), "route_policy");
    const json_t *route = doc_body(snap, "route_policy", ro->version);
    json_t *rollout = json_object_get(route, "rollout");
    if (!rollout) return MED_OK; /* no canary on this route policy */
    h_rollout_policy pol;
    med_err perr;
    /* An unusable rollout object is a decision (policy not found -> force
     * fallback), not a failed GET. */
    int ok = h_rollout_policy_parse(rollout, &pol, &perr) == MED_OK;
    med_rc rc = decide_rollout(in, route, ok ? &pol : NULL, ro, err);
    h_rollout_policy_free(&pol);
    return rc;
}

/* ---- decision audit (H.8) ----------------------------------------------- */

static h_verdict resolve_verdict(const char *status)
{
    if (status && strcmp(status, "rejected") == 0) return H_REJECT;
    return status && strcmp(status, "degraded") == 0 ? H_DEGRADE : H_ALLOW;
}

void h_get_decide_stages(const h_get_stage_facts *f, h_decision_stage_result out[H_DSTAGE_COUNT],
                         int *revalidated_304)
{
    memset(out, 0, sizeof(h_decision_stage_result) * H_DSTAGE_COUNT);
    h_verdict rv = resolve_verdict(f->resolution_status);
    /* h_decision picks the matching h_cfg_decision_ code from the stage
     * code (version_incompatible -> schema_incompatible, ...). */
    out[H_DSTAGE_RESOLVE] = (h_decision_stage_result){ rv, rv ? f->resolve_code : NULL, NULL };
    out[H_DSTAGE_VERSION_GATE] = (h_decision_stage_result){ f->gate_action, f->gate_code, NULL };
    if (f->has_rollout)
        out[H_DSTAGE_ROLLOUT] = (h_decision_stage_result){
            f->rollout_force_fallback ? H_DEGRADE : H_ALLOW, f->rollout_code,
            f->rollout_force_fallback ? MED_R_H_CFG_DECISION_DEGRADE_ROLLOUT_FORCE_FALLBACK
                                      : NULL };
    int stale = f->cache_decision && strcmp(f->cache_decision, "stale_served") == 0;
    out[H_DSTAGE_CACHE] = (h_decision_stage_result){
        stale ? H_DEGRADE : H_ALLOW, f->cache_code,
        stale ? MED_R_H_CFG_DECISION_DEGRADE_STALE_GRACE_SERVED : NULL };
    *revalidated_304 = f->http_status == 304;
}

/* An app or placement layer won some field. */
static int override_applied(const json_t *snap)
{
    size_t i;
    const json_t *p;
    json_array_foreach(json_object_get(snap, "fieldProvenance"), i, p) {
        const char *w = json_string_value(json_object_get(p, "winnerScope"));
        if (w && (strcmp(w, "app") == 0 || strcmp(w, "placement") == 0)) return 1;
    }
    return 0;
}

static const char *first_code(const json_t *snap)
{
    return json_string_value(json_array_get(json_object_get(snap, "reasonCodes"), 0));
}

/* The body's member: the five fields the SDK and operators read. */
static json_t *audit_body(const json_t *full)
{
    return json_pack("{s:O, s:O, s:O, s:O, s:O}", "snapshotId",
                     json_object_get(full, "snapshotId"), "decisionAction",
                     json_object_get(full, "decisionAction"), "primaryReasonCode",
                     json_object_get(full, "primaryReasonCode"), "secondaryReasonCodes",
                     json_object_get(full, "secondaryReasonCodes"), "decisionPath",
                     json_object_get(full, "decisionPath"));
}

typedef struct audit_parts {
    const json_t *snap, *gate, *rollout;
    json_t *versions, *cache;
    const char *rollout_version;
} audit_parts;

static med_rc build_audit(const h_get_decide_in *in, const h_get_stage_facts *f,
                          const audit_parts *p, h_get_decisions *out, med_err *err)
{
    h_decision_input di = {
        .request_key = json_string_value(json_object_get(p->snap, "requestKey")),
        .trace_key = empty(in->trace_key) ? NA : in->trace_key,
        .resolve_id = json_string_value(json_object_get(p->snap, "resolveId")),
        .config_key = in->config_key,
        .anchor_hash = NULL, /* no anchors at GET time: "NA" (decisions 25) */
        .override_applied = override_applied(p->snap),
        .selected_version_snapshot = p->versions,
        .rollout_policy_version = p->rollout ? p->rollout_version : NULL,
        .selector_digest = p->rollout,
        .gate_digest = p->gate,
        .cache_digest = p->cache,
        .generated_at_ms = in->now_ms,
        .contract_version = H_GET_DECISION_CONTRACT,
    };
    int r304 = 0;
    h_get_decide_stages(f, di.stages, &r304);
    di.cache_revalidated_304 = r304 != 0;
    h_decision d;
    med_rc rc = h_decision_build(&di, &d, err);
    if (rc != MED_OK) return rc;
    out->audit_full = h_decision_to_json(&d);
    json_t *body = out->audit_full ? audit_body(out->audit_full) : NULL;
    out->audit_json = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!out->audit_json) return nomem(err, "configDecisionAudit");
    memcpy(out->snapshot_id, d.snapshot_id, sizeof out->snapshot_id);
    snprintf(out->action, sizeof out->action, "%s", h_decision_action_name(d.action));
    out->primary = d.primary_reason_code;
    out->n_secondary = d.n_secondary;
    for (size_t i = 0; i < d.n_secondary; i++) out->secondary[i] = d.secondary_reason_codes[i];
    return MED_OK;
}

static med_rc audit(const h_get_decide_in *in, const json_t *snap, const json_t *gj,
                    h_verdict gate_action, const char *gate_code, const rollout_out *ro,
                    h_get_decisions *out, med_err *err)
{
    h_get_stage_facts f = {
        .resolution_status = json_string_value(json_object_get(snap, "resolutionStatus")),
        .resolve_code = first_code(snap),
        .gate_action = gate_action,
        .gate_code = gate_code,
        .has_rollout = ro->json != NULL,
        .rollout_force_fallback = ro->force_fallback,
        .rollout_code = ro->code,
        .http_status = in->http_status,
        .cache_decision = in->cache_decision,
        .cache_code = in->cache_code,
    };
    audit_parts p = { .snap = snap, .gate = gj, .rollout = ro->json,
                      .rollout_version = ro->version };
    p.versions = in->versions_json ? json_loads(in->versions_json, 0, NULL) : NULL;
    p.cache = json_pack("{s:i, s:s}", "httpStatus", in->http_status, "cacheDecision",
                        in->cache_decision ? in->cache_decision : "");
    med_rc rc = p.cache ? build_audit(in, &f, &p, out, err) : nomem(err, "cache digest");
    json_decref(p.versions);
    json_decref(p.cache);
    return rc;
}

/* ---- entry -------------------------------------------------------------- */

static med_rc render(json_t *j, int flags, char **out, med_err *err, const char *what)
{
    *out = json_dumps(j, flags);
    return *out ? MED_OK : nomem(err, what);
}

static med_rc decide_parsed(const h_get_decide_in *in, const json_t *snap, h_get_decisions *out,
                            med_err *err)
{
    json_t *gj = NULL;
    h_verdict ga = H_ALLOW;
    const char *gcode = NULL;
    rollout_out ro;
    memset(&ro, 0, sizeof ro);
    med_rc rc = run_gate(in, snap, &gj, &ga, &gcode, err);
    if (rc == MED_OK) rc = run_rollout(in, snap, &ro, err);
    if (rc == MED_OK) rc = render(gj, JSON_COMPACT, &out->gate_json, err, "gate");
    if (rc == MED_OK && ro.json)
        rc = render(ro.json, H_ROLLOUT_JSON_FLAGS, &out->rollout_json, err, "rollout");
    if (rc == MED_OK) rc = audit(in, snap, gj, ga, gcode, &ro, out, err);
    json_decref(gj);
    json_decref(ro.json);
    return rc;
}

med_rc h_get_decide(const h_get_decide_in *in, h_get_decisions *out, med_err *err)
{
    memset(out, 0, sizeof *out);
    json_t *snap = in->snapshot_json ? json_loads(in->snapshot_json, 0, NULL) : NULL;
    if (!json_is_object(snap) || !json_is_object(json_object_get(snap, "effectiveConfig"))) {
        json_decref(snap);
        return med_err_set(err, MED_ERR_INVALID, MED_R_H_CFG_DECISION_REJECT_CONTRACT_INVALID,
                           "resolvedConfigSnapshot", "served snapshot does not parse");
    }
    med_rc rc = decide_parsed(in, snap, out, err);
    json_decref(snap);
    if (rc != MED_OK) h_get_decisions_clear(out);
    return rc;
}

void h_get_decisions_clear(h_get_decisions *d)
{
    free(d->gate_json);
    free(d->rollout_json);
    free(d->audit_json);
    json_decref(d->audit_full);
    memset(d, 0, sizeof *d);
}
