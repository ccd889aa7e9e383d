#include "b_project.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "b_enum.h"
#include "med/reason.h"

typedef struct proj_state {
    med_arena *a;
    b_projection *out;
    int missing_required, invalid_required, degraded_optional;
    int nomem;
} proj_state;

static int value_missing(const char *v) { return !v || !v[0]; }

static void cover(proj_state *st, const char *path, const char *from, const char *status,
                  const char *code, int required)
{
    Mediation__V1__ProjectionTargetCoverageLite *c =
        MED_NEW(st->a, Mediation__V1__ProjectionTargetCoverageLite);
    if (!c) {
        st->nomem = 1;
        return;
    }
    mediation__v1__projection_target_coverage_lite__init(c);
    c->openrtb_path = (char *)path;
    c->mapped_from = (char *)from;
    c->coverage_status = (char *)status;
    c->reason_code = (char *)code;
    c->required = required;
    st->out->coverage[st->out->n_coverage++] = c;
}

/* A required target: unknown_* is invalid (takes precedence over missing). */
static int required(proj_state *st, json_t *obj, const char *key, const char *path,
                    const char *from, const char *v)
{
    if (value_missing(v)) {
        st->missing_required = 1;
        cover(st, path, from, "unmapped", MED_R_B_PROJ_UNMAPPED_REQUIRED_MISSING, 1);
        return 0;
    }
    if (b_enum_is_unknown(v)) {
        st->invalid_required = 1;
        cover(st, path, from, "unmapped", MED_R_B_PROJ_UNMAPPED_INVALID_VALUE, 1);
        return 0;
    }
    json_object_set_new(obj, key, json_string(v));
    cover(st, path, from, "mapped", MED_R_B_PROJ_MAPPED_COMPLETE, 1);
    return 1;
}

/* An optional target: missing, unknown_* or an outlier degrade it. */
static void optional(proj_state *st, json_t *obj, const char *key, const char *path,
                     const char *from, const char *v, int degraded)
{
    if (value_missing(v) || b_enum_is_unknown(v) || degraded) {
        st->degraded_optional = 1;
        cover(st, path, from, "degraded", MED_R_B_PROJ_PARTIAL_OPTIONAL_MISSING, 0);
        if (value_missing(v) || b_enum_is_unknown(v)) return;
    } else {
        cover(st, path, from, "mapped", MED_R_B_PROJ_MAPPED_COMPLETE, 0);
    }
    json_object_set_new(obj, key, json_string(v));
}

static void project_user(proj_state *st, const b_proj_input *in, json_t *user)
{
    /* user.id is required, but a device id stands in for it (partial). */
    if (value_missing(in->session_key_hashed) && !value_missing(in->device_id_hashed)) {
        st->degraded_optional = 1;
        cover(st, "user.id", "UserContext.sessionKey", "degraded",
              MED_R_B_PROJ_PARTIAL_OPTIONAL_MISSING, 1);
    } else {
        required(st, user, "id", "user.id", "UserContext.sessionKey", in->session_key_hashed);
    }
    json_t *ext = json_object();
    optional(st, ext, "actor_type", "user.ext.actor_type", "UserContext.actorType",
             in->actor_type, 0);
    json_object_set_new(user, "ext", ext);
}

static void project_regs(proj_state *st, const b_proj_input *in, json_t *regs)
{
    json_t *ext = json_object();
    required(st, ext, "consent_scope", "regs.ext.consent_scope", "PolicyContext.consentScope",
             in->consent_scope);
    if (in->flags_invalid) {
        st->invalid_required = 1;
        cover(st, "regs.ext.restricted_category_flags", "PolicyContext.restrictedCategoryFlags",
              "unmapped", MED_R_B_PROJ_UNMAPPED_INVALID_VALUE, 1);
    } else {
        json_t *flags = json_array();
        for (size_t i = 0; i < in->n_flags; i++) json_array_append_new(flags, json_string(in->flags[i]));
        json_object_set_new(ext, "restricted_category_flags", flags);
        cover(st, "regs.ext.restricted_category_flags", "PolicyContext.restrictedCategoryFlags",
              "mapped", MED_R_B_PROJ_MAPPED_COMPLETE, 1);
    }
    optional(st, ext, "policy_gate_hint", "regs.ext.policy_gate_hint",
             "PolicyContext.policyGateHint", in->policy_gate_hint, 0);
    json_object_set_new(regs, "ext", ext);
}

static void project_imp(proj_state *st, const b_proj_input *in, json_t *root)
{
    json_t *imp = json_object(), *ext = json_object();
    required(st, imp, "id", "imp[0].id", "PlacementMeta.placementKey", in->placement_key);
    required(st, imp, "tagid", "imp[0].tagid", "PlacementMeta.placementSurface",
             in->placement_surface);
    required(st, ext, "placement_type", "imp[0].ext.placement_type",
             "PlacementMeta.placementType", in->placement_type);
    required(st, ext, "trigger_decision", "imp[0].ext.trigger_decision",
             "OpportunityContext.triggerDecision", in->trigger_decision);
    required(st, ext, "decision_outcome", "imp[0].ext.decision_outcome",
             "OpportunityContext.decisionOutcome", in->decision_outcome);
    required(st, ext, "hit_type", "imp[0].ext.hit_type", "OpportunityContext.hitType",
             in->hit_type);
    json_object_set_new(imp, "ext", ext);
    json_t *arr = json_array();
    json_array_append_new(arr, imp);
    json_object_set_new(root, "imp", arr);
}

static void project_app_device(proj_state *st, const b_proj_input *in, json_t *root)
{
    json_t *app = json_object(), *app_ext = json_object();
    required(st, app, "id", "app.id", "appExplicit|placementConfig|defaultPolicy.appId", in->app_id);
    optional(st, app_ext, "channel_type", "app.ext.channel_type", "RequestMeta.channelType",
             in->channel_type, 0);
    json_object_set_new(app, "ext", app_ext);
    json_object_set_new(root, "app", app);
    json_t *dev = json_object(), *dev_ext = json_object();
    optional(st, dev, "id", "device.id", "deviceId", in->device_id_hashed, 0);
    optional(st, dev_ext, "performance_tier", "device.ext.performance_tier",
             "RequestMeta.devicePerfBucket", in->perf_bucket, in->perf_bucket_degraded);
    json_object_set_new(dev, "ext", dev_ext);
    json_object_set_new(root, "device", dev);
}

static void project_ext(proj_state *st, const b_proj_input *in, json_t *root)
{
    json_t *ext = json_object(), *trace = json_object(), *med = json_object();
    required(st, trace, "trace_key", "ext.trace.trace_key", "TraceContext.traceKey", in->trace_key);
    required(st, trace, "request_key", "ext.trace.request_key", "TraceContext.requestKey",
             in->request_key);
    required(st, trace, "attempt_key", "ext.trace.attempt_key", "TraceContext.attemptKey",
             in->attempt_key);
    optional(st, med, "request_ts", "ext.mediation.request_ts", "RequestMeta.requestTimestamp",
             in->request_ts, 0);
    json_object_set_new(ext, "trace", trace);
    json_object_set_new(ext, "mediation", med);
    json_object_set_new(root, "ext", ext);
}

static void decide(proj_state *st)
{
    b_projection *o = st->out;
    if (st->invalid_required) {
        o->disposition = "unmapped";
        o->reason_code = MED_R_B_PROJ_UNMAPPED_INVALID_VALUE;
    } else if (st->missing_required) {
        o->disposition = "unmapped";
        o->reason_code = MED_R_B_PROJ_UNMAPPED_REQUIRED_MISSING;
    } else if (st->degraded_optional) {
        o->disposition = "partial";
        o->reason_code = MED_R_B_PROJ_PARTIAL_OPTIONAL_MISSING;
    } else {
        o->disposition = "mapped";
        o->reason_code = MED_R_B_PROJ_MAPPED_COMPLETE;
    }
}

static med_rc finish(med_arena *a, b_projection *out, const char *version, char *json)
{
    Mediation__V1__OpenrtbProjectionLite *l = MED_NEW(a, Mediation__V1__OpenrtbProjectionLite);
    char *copy = med_arena_strdup(a, json ? json : "{}");
    if (!l || !copy) return MED_ERR_NOMEM;
    mediation__v1__openrtb_projection_lite__init(l);
    l->openrtb_projection_version = (char *)version;
    l->request_json = copy;
    l->projection_disposition = (char *)out->disposition;
    l->projection_reason_code = (char *)out->reason_code;
    out->lite = l;
    return MED_OK;
}

med_rc b_project(med_arena *a, const b_proj_input *in, const char *version, b_projection *out,
                 med_err *err)
{
    memset(out, 0, sizeof *out);
    out->coverage = MED_NEWN(a, Mediation__V1__ProjectionTargetCoverageLite *, 24);
    if (!out->coverage) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_TRANSIENT_FAILURE, NULL, "oom");
    if (!in->redaction_enforced) {
        out->disposition = "unmapped";
        out->reason_code = MED_R_B_REDACTION_BEFORE_AUDIT_VIOLATION;
        if (finish(a, out, version, NULL) != MED_OK)
            return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_TRANSIENT_FAILURE, NULL, "oom");
        return med_err_set(err, MED_ERR_INVALID, out->reason_code, NULL,
                           "no redaction snapshot before projection");
    }
    proj_state st = { .a = a, .out = out };
    json_t *root = json_object();
    if (!root) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_TRANSIENT_FAILURE, NULL, "oom");
    if (!value_missing(in->request_key)) json_object_set_new(root, "id", json_string(in->request_key));
    else st.missing_required = 1;
    cover(&st, "id", "RequestMeta.requestKey", value_missing(in->request_key) ? "unmapped" : "mapped",
          value_missing(in->request_key) ? MED_R_B_PROJ_UNMAPPED_REQUIRED_MISSING
                                         : MED_R_B_PROJ_MAPPED_COMPLETE, 1);
    project_imp(&st, in, root);
    project_app_device(&st, in, root);
    json_t *user = json_object(), *regs = json_object();
    project_user(&st, in, user);
    project_regs(&st, in, regs);
    json_object_set_new(root, "user", user);
    json_object_set_new(root, "regs", regs);
    project_ext(&st, in, root);
    decide(&st);
    char *json = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(root);
    med_rc rc = st.nomem || !json ? MED_ERR_NOMEM : finish(a, out, version, json);
    free(json);
    if (rc != MED_OK) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_TRANSIENT_FAILURE, NULL, "oom");
    if (strcmp(out->disposition, "unmapped") == 0)
        return med_err_set(err, MED_ERR_INVALID, out->reason_code, NULL, "required OpenRTB target unmapped");
    return MED_OK;
}
