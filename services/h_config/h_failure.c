/* Config failure matrix (spec 04 H.9). */
#include "h_failure.h"
#include "h_json.h"

#include <stdio.h>
#include <string.h>

#include "med/ids.h"
#include "med/jcs.h"
#include "med/reason.h"

/* Columns of the per-module table. */
enum { COL_TIMEOUT_OPEN, COL_UNAVAILABLE_OPEN, COL_CLOSED, COL_VERSION_INVALID, COL_COUNT };

/* The spec's "same" cells are spelled out, so each cell reads alone. */
static const char *const module_actions[H_FAILURE_MODULES][COL_COUNT] = {
    /* A */ {"degrade on snapshot", "degrade on snapshot", "reject", "reject before B"},
    /* B */ {"pass only with snapshot", "pass only with snapshot", "reject",
             "reject, no inference"},
    /* C */ {"minimal policy set", "strictest defaults", "reject", "reject, keep code"},
    /* D */ {"last stable policy, compatible adapters", "primary + fallback, tighter timeouts",
             "blocked", "no supply call"},
    /* E */ {"only with candidate, no C reject", "stable templates only", "no_fill/error",
             "no render plan"},
    /* F */ {"audit failure mode", "facts + failure facts", "reject terminal event",
             "reject terminal event"},
    /* G */ {"archive + index", "archive + index", "full failure snapshot",
             "full failure snapshot"},
    /* H */ {"emit matrix snapshot", "alert + breaker review", "emit closed snapshot",
             "quarantine the version"},
};

static const char *const scenario_names[] = {
    "config_timeout", "config_unavailable", "config_version_invalid", "unknown"};

h_failure_scenario h_failure_scenario_parse(const char *s)
{
    for (int i = 0; s && i < H_FAIL_UNKNOWN; i++)
        if (strcmp(s, scenario_names[i]) == 0) return (h_failure_scenario)i;
    return H_FAIL_UNKNOWN;
}

const char *h_failure_scenario_name(h_failure_scenario s)
{
    return (unsigned)s < H_FAIL_UNKNOWN ? scenario_names[s] : scenario_names[H_FAIL_UNKNOWN];
}

const char *h_failure_mode_name(h_failure_mode m)
{
    return m == H_FAIL_OPEN ? "fail_open" : "fail_closed";
}

static const char *or_na(const char *s)
{
    return s && *s ? s : "NA";
}

static bool empty(const char *s)
{
    return !s || !*s;
}

static void add_secondary(h_failure_decision *d, const char *code)
{
    if (d->n_secondary < H_FAILURE_MAX_SECONDARY)
        d->secondary_reason_codes[d->n_secondary++] = code;
}

/* Picks mode and codes; returns the action column. */
static int classify(const h_failure_input *in, h_failure_decision *d)
{
    bool transient =
        in->scenario == H_FAIL_CONFIG_TIMEOUT || in->scenario == H_FAIL_CONFIG_UNAVAILABLE;
    d->mode = H_FAIL_CLOSED;
    if (in->scenario == H_FAIL_CONFIG_VERSION_INVALID) {
        d->primary_reason_code = MED_R_H_CFG_FAIL_CLOSED_VERSION_INVALID;
        return COL_VERSION_INVALID;
    }
    if (!transient) {
        d->primary_reason_code = MED_R_H_CFG_FAIL_CLOSED_CONTRACT_VIOLATION;
        return COL_CLOSED;
    }
    if (!in->has_stable_snapshot) {
        d->primary_reason_code = MED_R_H_CFG_FAIL_CLOSED_NO_STABLE_SNAPSHOT;
        return COL_CLOSED;
    }
    d->mode = H_FAIL_OPEN;
    if (in->scenario == H_FAIL_CONFIG_TIMEOUT) {
        d->primary_reason_code = MED_R_H_CFG_FAIL_OPEN_TIMEOUT_STALE_GRACE;
        return COL_TIMEOUT_OPEN;
    }
    d->primary_reason_code = MED_R_H_CFG_FAIL_OPEN_UNAVAILABLE_STABLE_SNAPSHOT;
    add_secondary(d, MED_R_H_CFG_FAIL_OPEN_UNAVAILABLE_RESTRICTED_ROUTE_MODE);
    add_secondary(d, MED_R_H_CFG_FAIL_OPEN_UNAVAILABLE_RESTRICTED_TEMPLATE_MODE);
    return COL_UNAVAILABLE_OPEN;
}

/* The fields the snapshotId covers (spec: "those"), nothing else, so a
 * retry with a new generatedAt keeps its id. */
static json_t *identity_json(const h_failure_decision *d)
{
    const h_failure_input *in = d->in;
    char detected_at[32];
    med_format_utc_ms(in->failure_detected_at_ms, detected_at, sizeof detected_at);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "requestKey",
                     in->request_key, "traceKey", in->trace_key, "configFailureScenario",
                     h_failure_scenario_name(in->scenario), "failureMode",
                     h_failure_mode_name(d->mode), "primaryReasonCode", d->primary_reason_code,
                     "stableSnapshotRefOrNA", or_na(in->stable_snapshot_ref),
                     "lastStablePolicyIdOrNA", or_na(in->last_stable_policy_id),
                     "anchorHashOrNA", or_na(in->anchor_hash), "failureDetectedAt",
                     detected_at);
}

static med_rc compute_snapshot_id(h_failure_decision *d, med_err *err)
{
    char hex[65];
    json_t *id = identity_json(d);
    if (!id)
        return med_err_set(err, MED_ERR_NOMEM, MED_R_H_CFG_FAIL_CLOSED_CONTRACT_VIOLATION, "",
                           "failure snapshot: out of memory");
    med_rc rc = med_jcs_sha256(id, hex, err);
    json_decref(id);
    if (rc != MED_OK) return rc;
    snprintf(d->snapshot_id, sizeof d->snapshot_id, "cfgfail_%.16s", hex);
    return MED_OK;
}

med_rc h_failure_decide(const h_failure_input *in, h_failure_decision *out, med_err *err)
{
    if (!in || !out || empty(in->request_key) || empty(in->trace_key) ||
        empty(in->detected_by_module))
        return med_err_set(err, MED_ERR_INVALID, MED_R_H_CFG_FAIL_CLOSED_CONTRACT_VIOLATION, "",
                           "failure decision: requestKey, traceKey and detectedByModule "
                           "are required");
    memset(out, 0, sizeof *out);
    out->in = in;
    int col = classify(in, out);
    for (int m = 0; m < H_FAILURE_MODULES; m++) out->module_action[m] = module_actions[m][col];
    return compute_snapshot_id(out, err);
}

static int add_module_actions(json_t *o, const h_failure_decision *d)
{
    char key[] = "moduleXAction";
    for (int m = 0; m < H_FAILURE_MODULES; m++) {
        key[6] = (char)('A' + m);
        if (json_object_set_new(o, key, json_string(d->module_action[m])) != 0) return -1;
    }
    return 0;
}

json_t *h_failure_decision_to_json(const h_failure_decision *d)
{
    char generated_at[32];
    if (!d || !d->in) return NULL;
    json_t *o = identity_json(d);
    if (!o) return NULL;
    med_format_utc_ms(d->in->generated_at_ms, generated_at, sizeof generated_at);
    if (json_object_set_new(o, "snapshotId", json_string(d->snapshot_id)) != 0 ||
        json_object_set_new(o, "detectedByModule", json_string(d->in->detected_by_module)) != 0 ||
        json_object_set_new(o, "secondaryReasonCodes",
                            h_json_strings(d->secondary_reason_codes, d->n_secondary)) != 0 ||
        json_object_set_new(o, "generatedAt", json_string(generated_at)) != 0 ||
        add_module_actions(o, d) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}
