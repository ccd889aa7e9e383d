/* Config decision audit (spec 04 H.8). */
#include "h_decision.h"
#include "h_json.h"

#include <stdlib.h>
#include <string.h>

#include "med/ids.h"
#include "med/reason.h"

#define REJECT_PREFIX "h_cfg_decision_reject_"
#define DEGRADE_PREFIX "h_cfg_decision_degrade_"

static const char *const stage_names[H_DSTAGE_COUNT] = {
    "resolve", "version_gate", "rollout", "cache", "finalize"};

const char *h_decision_stage_name(h_decision_stage s)
{
    return (unsigned)s < H_DSTAGE_COUNT ? stage_names[s] : "";
}

const char *h_decision_action_name(h_decision_action a)
{
    if (a == H_DECISION_REJECT) return "reject";
    return a == H_DECISION_DEGRADE ? "degrade" : "hit";
}

static bool empty(const char *s)
{
    return !s || !*s;
}

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool code_is(const char *code, const char *want)
{
    return code && strcmp(code, want) == 0;
}

static const char *default_reject(h_decision_stage s, const char *stage_code)
{
    switch (s) {
    case H_DSTAGE_RESOLVE:
        return code_is(stage_code, MED_R_H_CFG_VERSION_INCOMPATIBLE)
                   ? MED_R_H_CFG_DECISION_REJECT_SCHEMA_INCOMPATIBLE
                   : MED_R_H_CFG_DECISION_REJECT_MISSING_REQUIRED;
    case H_DSTAGE_VERSION_GATE: return MED_R_H_CFG_DECISION_REJECT_VERSION_GATE_FAILED;
    case H_DSTAGE_ROLLOUT: return MED_R_H_CFG_DECISION_REJECT_POLICY_NOT_FOUND;
    case H_DSTAGE_CACHE: return MED_R_H_CFG_DECISION_REJECT_CONTRACT_INVALID;
    case H_DSTAGE_FINALIZE:
    default:
        return stage_code && has_prefix(stage_code, "h_anchor_")
                   ? MED_R_H_CFG_DECISION_REJECT_ANCHOR_INVALID
                   : MED_R_H_CFG_DECISION_REJECT_CONTRACT_INVALID;
    }
}

static const char *default_degrade(h_decision_stage s)
{
    switch (s) {
    case H_DSTAGE_RESOLVE: return MED_R_H_CFG_DECISION_DEGRADE_SCOPE_UNAVAILABLE;
    case H_DSTAGE_VERSION_GATE: return MED_R_H_CFG_DECISION_DEGRADE_PARTIAL_ADAPTER_COMPATIBLE;
    case H_DSTAGE_ROLLOUT: return MED_R_H_CFG_DECISION_DEGRADE_ROLLOUT_FORCE_FALLBACK;
    case H_DSTAGE_CACHE: return MED_R_H_CFG_DECISION_DEGRADE_STALE_GRACE_SERVED;
    case H_DSTAGE_FINALIZE:
    default: return NULL;
    }
}

static med_rc contract_invalid(med_err *err, const char *field, const char *why)
{
    return med_err_set(err, MED_ERR_INVALID, MED_R_H_CFG_DECISION_REJECT_CONTRACT_INVALID, field,
                       "decision audit: %s", why);
}

/* The stage's h_cfg_decision_ code (static storage), NULL for allow. */
static med_rc stage_code(h_decision_stage s, const h_decision_stage_result *r, const char **out,
                         med_err *err)
{
    *out = NULL;
    if (r->result == H_ALLOW) return MED_OK;
    const char *prefix = r->result == H_REJECT ? REJECT_PREFIX : DEGRADE_PREFIX;
    const char *code = r->decision_code ? med_reason_lookup(r->decision_code)
                       : r->result == H_REJECT ? default_reject(s, r->stage_reason_code)
                                               : default_degrade(s);
    if (!code || !has_prefix(code, prefix))
        return contract_invalid(err, stage_names[s], "no decision code of the stage's action");
    *out = code;
    return MED_OK;
}

static h_decision_action action_of(const h_decision_input *in)
{
    h_verdict worst = H_ALLOW;
    for (int s = 0; s < H_DSTAGE_COUNT; s++)
        if (in->stages[s].result > worst) worst = in->stages[s].result;
    if (worst == H_REJECT) return H_DECISION_REJECT;
    return worst == H_DEGRADE ? H_DECISION_DEGRADE : H_DECISION_HIT;
}

static void add_secondary(h_decision *d, const char *code)
{
    if (code == d->primary_reason_code) return;
    for (size_t i = 0; i < d->n_secondary; i++)
        if (d->secondary_reason_codes[i] == code) return;
    if (d->n_secondary < H_DSTAGE_COUNT) d->secondary_reason_codes[d->n_secondary++] = code;
}

/* A 304 is the most specific hit; provenance then goes to secondary. */
static void pick_hit_codes(h_decision *d)
{
    const char *provenance = d->in->override_applied ? MED_R_H_CFG_DECISION_HIT_OVERRIDE_APPLIED
                                                     : MED_R_H_CFG_DECISION_HIT_EXACT_MATCH;
    d->primary_reason_code = provenance;
    if (!d->in->cache_revalidated_304) return;
    d->primary_reason_code = MED_R_H_CFG_DECISION_HIT_CACHE_REVALIDATED_304;
    add_secondary(d, provenance);
}

/* First stage of the winning action is primary; the rest of that action's
 * stages, in stage order, are secondary. */
static void pick_codes(h_decision *d)
{
    if (d->action == H_DECISION_HIT) {
        pick_hit_codes(d);
        return;
    }
    h_verdict want = d->action == H_DECISION_REJECT ? H_REJECT : H_DEGRADE;
    for (int s = 0; s < H_DSTAGE_COUNT; s++) {
        if (d->in->stages[s].result != want) continue;
        if (!d->primary_reason_code) d->primary_reason_code = d->stage_decision_code[s];
        else add_secondary(d, d->stage_decision_code[s]);
    }
}

static const char *or_na(const char *s)
{
    return empty(s) ? "NA" : s;
}

static med_rc compute_snapshot_id(h_decision *d, med_err *err)
{
    const h_decision_input *in = d->in;
    char *joined = NULL;
    if (asprintf(&joined, "%s|%s|%s|%s", in->request_key, in->trace_key, in->resolve_id,
                 or_na(in->anchor_hash)) < 0)
        return med_err_set(err, MED_ERR_NOMEM, MED_R_H_CFG_DECISION_REJECT_CONTRACT_INVALID, "",
                           "decision audit: out of memory");
    int bad = med_hash_key(d->snapshot_id, sizeof d->snapshot_id, "cfgdec_", joined, 16);
    free(joined);
    return bad ? contract_invalid(err, "snapshotId", "hash failed") : MED_OK;
}

med_rc h_decision_build(const h_decision_input *in, h_decision *out, med_err *err)
{
    if (!in || !out) return contract_invalid(err, "", "NULL argument");
    if (empty(in->request_key) || empty(in->trace_key) || empty(in->resolve_id) ||
        empty(in->config_key) || empty(in->contract_version))
        return contract_invalid(err, "", "requestKey, traceKey, resolveId, configKey and "
                                         "contract version are required");
    memset(out, 0, sizeof *out);
    out->in = in;
    for (int s = 0; s < H_DSTAGE_COUNT; s++) {
        med_rc rc =
            stage_code((h_decision_stage)s, &in->stages[s], &out->stage_decision_code[s], err);
        if (rc != MED_OK) return rc;
    }
    out->action = action_of(in);
    pick_codes(out);
    return compute_snapshot_id(out, err);
}

static json_t *decision_path_json(const h_decision_input *in)
{
    json_t *a = json_array();
    for (int s = 0; a && s < H_DSTAGE_COUNT; s++) {
        json_t *step = json_pack("{s:s, s:s, s:s}", "stageName", stage_names[s], "stageResult",
                                 h_verdict_name(in->stages[s].result), "stageReasonCodeOrNA",
                                 or_na(in->stages[s].stage_reason_code));
        if (json_array_append_new(a, step) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *selected_versions_json(const h_decision_input *in)
{
    json_t *o = in->selected_version_snapshot && json_is_object(in->selected_version_snapshot)
                    ? json_deep_copy(in->selected_version_snapshot)
                    : json_object();
    if (o && json_object_set_new(o, "rolloutPolicyVersionOrNA",
                                 json_string(or_na(in->rollout_policy_version))) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* A borrowed part, or null when the caller had none. */
static json_t *part(const json_t *v)
{
    return v ? json_deep_copy(v) : json_null();
}

json_t *h_decision_to_json(const h_decision *d)
{
    char generated_at[32];
    if (!d || !d->in) return NULL;
    const h_decision_input *in = d->in;
    med_format_utc_ms(in->generated_at_ms, generated_at, sizeof generated_at);
    /* "o" steals each part even when packing fails, so nothing leaks. */
    return json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, "
        "s:{s:s, s:o}, s:s, s:s}",
        "snapshotId", d->snapshot_id, "requestKey", in->request_key, "traceKey", in->trace_key,
        "resolveId", in->resolve_id, "configKey", in->config_key, "decisionAction",
        h_decision_action_name(d->action), "primaryReasonCode", d->primary_reason_code,
        "secondaryReasonCodes", h_json_strings(d->secondary_reason_codes, d->n_secondary),
        "decisionPath", decision_path_json(in), "selectedVersionSnapshot",
        selected_versions_json(in), "selectorDigest", part(in->selector_digest), "gateDigest",
        part(in->gate_digest), "cacheDigest", part(in->cache_digest), "anchorDigest",
        "anchorHash", or_na(in->anchor_hash), "freezeState", part(in->freeze_state),
        "generatedAt", generated_at, "configDecisionContractVersion", in->contract_version);
}
