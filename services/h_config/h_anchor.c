/* Version anchors: hash, append-only injection, snapshot JSON (spec 04 H.6). */
#include "h_anchor.h"
#include "h_json.h"

#include <stdbool.h>
#include <string.h>

#include "med/ids.h"
#include "med/jcs.h"
#include "med/reason.h"

static const char *const field_names[H_ANCHOR_FIELD_COUNT] = {
    "schemaVersion",
    "routingStrategyVersion",
    "placementConfigVersion",
    "globalConfigVersion",
    "appConfigVersionOrNA",
    "placementSourceVersionOrNA",
    "configResolutionContractVersion",
    "versionGateContractVersion",
    "enumDictVersion",
    "mappingRuleVersion",
    "policyRuleVersion",
    "routingPolicyVersion",
    "deliveryRuleVersion",
    "eventContractVersion",
    "dedupFingerprintVersion",
    "closureRuleVersion",
    "billingRuleVersion",
    "archiveContractVersion",
};

static const char *const freeze_names[H_FREEZE_COUNT] = {
    "freeze_point_ingress",
    "freeze_point_routing",
    "freeze_point_delivery",
    "freeze_point_event",
};

/* Outcome of comparing one proposed set with the stored one. */
typedef struct merge_outcome {
    bool strict_changed;
    bool other_changed;
    bool still_empty;
} merge_outcome;

const char *h_anchor_field_name(h_anchor_field f)
{
    return (unsigned)f < H_ANCHOR_FIELD_COUNT ? field_names[f] : "";
}

const char *h_freeze_point_name(h_freeze_point p)
{
    return (unsigned)p < H_FREEZE_COUNT ? freeze_names[p] : "";
}

/* A switch of these lines changes what the request means, so it is told
 * apart from other mutations (pre-route reject, post-route degrade). */
static bool is_strict(int f)
{
    return f == H_ANCHOR_SCHEMA_VERSION || f == H_ANCHOR_ROUTING_STRATEGY_VERSION ||
           f == H_ANCHOR_PLACEMENT_CONFIG_VERSION ||
           f == H_ANCHOR_CONFIG_RESOLUTION_CONTRACT_VERSION ||
           f == H_ANCHOR_VERSION_GATE_CONTRACT_VERSION;
}

static bool empty(const char *s)
{
    return !s || !*s;
}

static bool fits(const char *s, size_t cap)
{
    return !s || strlen(s) < cap;
}

static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= cap) n = cap - 1;
    if (n) memcpy(dst, src, n);
    dst[n] = '\0';
}

json_t *h_anchor_set_to_json(const h_anchor_set *set)
{
    json_t *o = json_object();
    if (!o) return NULL;
    for (int f = 0; f < H_ANCHOR_FIELD_COUNT; f++)
        if (json_object_set_new(o, field_names[f], json_string(set->value[f])) != 0) {
            json_decref(o);
            return NULL;
        }
    return o;
}

med_rc h_anchor_hash(const h_anchor_set *set, char out[65], med_err *err)
{
    json_t *o = h_anchor_set_to_json(set);
    if (!o)
        return med_err_set(err, MED_ERR_NOMEM, MED_R_H_ANCHOR_INJECTION_FAILED, "anchorSet",
                           "anchor set: out of memory");
    med_rc rc = med_jcs_sha256(o, out, err);
    json_decref(o);
    if (rc != MED_OK)
        med_err_set(err, rc, MED_R_H_ANCHOR_INJECTION_FAILED, "anchorHash",
                    "anchor hash failed");
    return rc;
}

static bool input_missing(const h_anchor_input *in, const h_anchor_snapshot *prev)
{
    if (empty(in->request_key) || empty(in->trace_key) || empty(in->contract_version))
        return true;
    if ((unsigned)in->freeze_point >= H_FREEZE_COUNT) return true;
    /* Only H writes first, at ingress; a later injector without the
     * forwarded snapshot has nothing to append to. */
    return !prev && in->freeze_point != H_FREEZE_INGRESS;
}

static bool input_too_long(const h_anchor_input *in)
{
    if (!fits(in->request_key, H_ANCHOR_KEY_MAX) || !fits(in->trace_key, H_ANCHOR_KEY_MAX) ||
        !fits(in->contract_version, H_ANCHOR_VALUE_MAX))
        return true;
    for (int f = 0; f < H_ANCHOR_FIELD_COUNT; f++)
        if (!fits(in->values[f], H_ANCHOR_VALUE_MAX)) return true;
    return false;
}

/* A snapshot of another request, or one whose set no longer matches its
 * hash, was altered in transit. */
static med_rc prev_is_intact(const h_anchor_input *in, const h_anchor_snapshot *prev,
                             bool *intact, med_err *err)
{
    char hash[65];
    *intact = false;
    if (strcmp(prev->request_key, in->request_key) != 0 ||
        strcmp(prev->trace_key, in->trace_key) != 0)
        return MED_OK;
    med_rc rc = h_anchor_hash(&prev->anchor_set, hash, err);
    if (rc != MED_OK) return rc;
    *intact = strcmp(hash, prev->anchor_hash) == 0;
    return MED_OK;
}

/* Append-only: a stored value is never replaced, whatever is proposed. */
static merge_outcome merge_fields(const h_anchor_input *in, h_anchor_set *set)
{
    merge_outcome m = {false, false, false};
    for (int f = 0; f < H_ANCHOR_FIELD_COUNT; f++) {
        const char *want = in->values[f];
        char *have = set->value[f];
        if (empty(want)) {
            if (!*have) m.still_empty = true;
        } else if (!*have) {
            copy_str(have, H_ANCHOR_VALUE_MAX, want);
        } else if (strcmp(have, want) != 0) {
            if (is_strict(f)) m.strict_changed = true;
            else m.other_changed = true;
        }
    }
    return m;
}

/* Rejects first, in the spec's order; a post-route switch only degrades. */
static const char *merge_verdict(const merge_outcome *m, h_freeze_point fp, h_verdict *v)
{
    *v = H_REJECT;
    if (m->strict_changed && fp == H_FREEZE_INGRESS)
        return MED_R_H_ANCHOR_SWITCH_DETECTED_PRE_ROUTE;
    if (m->other_changed) return MED_R_H_ANCHOR_MUTATION_FORBIDDEN;
    if (m->still_empty) return MED_R_H_ANCHOR_MISSING_REQUIRED;
    *v = m->strict_changed ? H_DEGRADE : H_ALLOW;
    return m->strict_changed ? MED_R_H_ANCHOR_SWITCH_DETECTED_POST_ROUTE : MED_R_H_ANCHOR_ALL_PASS;
}

static void start_from(h_anchor_snapshot *out, const h_anchor_input *in,
                       const h_anchor_snapshot *prev)
{
    memset(out, 0, sizeof *out);
    if (prev) {
        *out = *prev;
    } else {
        copy_str(out->request_key, sizeof out->request_key, in->request_key);
        copy_str(out->trace_key, sizeof out->trace_key, in->trace_key);
        out->current_freeze_point = H_FREEZE_INGRESS;
    }
    out->injected_at_ms = in->inject_at_ms;
    copy_str(out->contract_version, sizeof out->contract_version, in->contract_version);
}

static void set_decision(h_anchor_snapshot *out, h_verdict v, const char *code)
{
    out->anchor_action = v;
    out->reason_codes[0] = code;
    out->n_reason_codes = 1;
}

/* Fills the hash of whatever set out carries; an unhashable set rejects. */
static med_rc seal(h_anchor_snapshot *out, med_err *err)
{
    med_rc rc = h_anchor_hash(&out->anchor_set, out->anchor_hash, err);
    if (rc != MED_OK) {
        out->anchor_hash[0] = '\0';
        set_decision(out, H_REJECT, MED_R_H_ANCHOR_INJECTION_FAILED);
    }
    return rc;
}

/* With a previous snapshot, out keeps its set and hash exactly as they came
 * (never rehashed: a tampered set must not get a matching hash). */
static med_rc reject(h_anchor_snapshot *out, const h_anchor_snapshot *prev, const char *code,
                     med_err *err)
{
    set_decision(out, H_REJECT, code);
    return prev ? MED_OK : seal(out, err);
}

static med_rc apply_merge(const h_anchor_input *in, const h_anchor_snapshot *prev,
                          h_anchor_snapshot *out, med_err *err)
{
    h_anchor_set merged = out->anchor_set;
    merge_outcome m = merge_fields(in, &merged);
    h_verdict v;
    const char *code = merge_verdict(&m, in->freeze_point, &v);
    /* The first injection keeps what it could collect, for the audit. */
    if (v == H_REJECT) {
        if (!prev) out->anchor_set = merged;
        return reject(out, prev, code, err);
    }
    out->anchor_set = merged;
    set_decision(out, v, code);
    out->current_freeze_point = in->freeze_point;
    out->completed_mask |= 1u << in->freeze_point;
    return seal(out, err);
}

med_rc h_anchor_inject(const h_anchor_input *in, const h_anchor_snapshot *prev,
                       h_anchor_snapshot *out, med_err *err)
{
    static const h_anchor_input none;
    if (!out)
        return med_err_set(err, MED_ERR_INVALID, MED_R_H_ANCHOR_INJECTION_FAILED, "",
                           "anchor: NULL output");
    if (!in) in = &none;
    start_from(out, in, prev);
    if (input_missing(in, prev)) return reject(out, prev, MED_R_H_ANCHOR_MISSING_REQUIRED, err);
    if (input_too_long(in)) {
        set_decision(out, H_REJECT, MED_R_H_ANCHOR_INJECTION_FAILED);
        return med_err_set(err, MED_ERR_INVALID, MED_R_H_ANCHOR_INJECTION_FAILED, "",
                           "anchor: value longer than %d bytes", H_ANCHOR_VALUE_MAX - 1);
    }
    if (prev) {
        bool intact = false;
        med_rc rc = prev_is_intact(in, prev, &intact, err);
        if (rc != MED_OK) {
            set_decision(out, H_REJECT, MED_R_H_ANCHOR_INJECTION_FAILED);
            return rc;
        }
        if (!intact) return reject(out, prev, MED_R_H_ANCHOR_SNAPSHOT_HASH_MISMATCH, err);
        if (in->freeze_point < prev->current_freeze_point)
            return reject(out, prev, MED_R_H_ANCHOR_MUTATION_FORBIDDEN, err);
    }
    return apply_merge(in, prev, out, err);
}

static json_t *freeze_state_json(const h_anchor_snapshot *s)
{
    json_t *done = json_array();
    for (int p = 0; done && p < H_FREEZE_COUNT; p++)
        if ((s->completed_mask & (1u << p)) &&
            json_array_append_new(done, json_string(freeze_names[p])) != 0) {
            json_decref(done);
            return NULL;
        }
    if (!done) return NULL;
    return json_pack("{s:s, s:o, s:s}", "currentFreezePoint",
                     h_freeze_point_name(s->current_freeze_point), "completedFreezePoints", done,
                     "anchorAction", h_verdict_name(s->anchor_action));
}

json_t *h_anchor_snapshot_to_json(const h_anchor_snapshot *s)
{
    char injected_at[32];
    if (!s) return NULL;
    med_format_utc_ms(s->injected_at_ms, injected_at, sizeof injected_at);
    /* "o" steals each part even when packing fails, so nothing leaks. */
    return json_pack("{s:s, s:s, s:o, s:s, s:o, s:o, s:s, s:s}", "requestKey",
                     s->request_key, "traceKey", s->trace_key, "anchorSet",
                     h_anchor_set_to_json(&s->anchor_set), "anchorHash", s->anchor_hash,
                     "freezeState", freeze_state_json(s), "reasonCodes",
                     h_json_strings(s->reason_codes, s->n_reason_codes), "injectedAt",
                     injected_at, "versionAnchorContractVersion", s->contract_version);
}
