/* Canary rollout (spec 04 H.7): the route_policy `rollout` object and the
 * per-request decision. */
#include "h_rollout.h"
#include "h_json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h_semver.h"
#include "med/ids.h"
#include "med/reason.h"

/* ---- decimal percentages without float drift ---- */

static int64_t pow10_i(int d)
{
    int64_t p = 1;
    while (d-- > 0) p *= 10;
    return p;
}

/* "-12.34": sign, 1..15 integer digits, optional '.' and 1..decimals
 * digits. Nothing else (no exponent, no spaces). */
static int parse_decimal_text(const char *s, int decimals, int64_t *out)
{
    int neg = (*s == '-');
    if (neg) s++;
    int64_t whole = 0, frac = 0;
    int n_int = 0, n_frac = 0;
    for (; *s >= '0' && *s <= '9'; s++, n_int++) {
        if (n_int == 15) return -1;
        whole = whole * 10 + (*s - '0');
    }
    if (n_int == 0) return -1;
    if (*s == '.') {
        for (s++; *s >= '0' && *s <= '9'; s++, n_frac++) {
            if (n_frac == decimals) return -1;
            frac = frac * 10 + (*s - '0');
        }
        if (n_frac == 0) return -1;
    }
    if (*s) return -1;
    int64_t v = whole * pow10_i(decimals) + frac * pow10_i(decimals - n_frac);
    *out = neg ? -v : v;
    return 0;
}

/* A JSON real is binary: accept it when it sits within 1e-6 of a value with
 * the allowed decimals (99.5 -> 9950, 0.07 -> 7), refuse 12.345. */
static int parse_decimal_real(double x, int decimals, int64_t *out)
{
    if (!isfinite(x) || fabs(x) > 1e12) return -1;
    double y = x * (double)pow10_i(decimals);
    double r = round(y);
    if (fabs(y - r) > 1e-6) return -1;
    *out = (int64_t)r;
    return 0;
}

int h_rollout_parse_scaled(const json_t *v, int decimals, int64_t *out)
{
    if (!v || !out || decimals < 0 || decimals > 6) return -1;
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        int64_t scale = pow10_i(decimals);
        if (i > INT64_MAX / scale || i < -(INT64_MAX / scale)) return -1;
        *out = (int64_t)i * scale;
        return 0;
    }
    if (json_is_real(v)) return parse_decimal_real(json_real_value(v), decimals, out);
    if (json_is_string(v)) return parse_decimal_text(json_string_value(v), decimals, out);
    return -1;
}

static bool bp_in_range(int64_t bp)
{
    return bp >= 0 && bp <= H_ROLLOUT_FULL_BP;
}

/* ---- policy ---- */

static med_rc bad_type(med_err *err, const char *field)
{
    return med_err_set(err, MED_ERR_INVALID, MED_R_H_CFG_INVALID_TYPE, field,
                       "rollout.%s has the wrong type", field);
}

static med_rc bad_range(med_err *err, const char *field)
{
    return med_err_set(err, MED_ERR_INVALID, MED_R_H_CFG_INVALID_RANGE, field,
                       "rollout.%s is out of range", field);
}

static med_rc nomem(med_err *err)
{
    return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, "", "rollout");
}

static const char *required_id(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s && *s ? s : NULL;
}

static med_rc parse_ids(json_t *arr, const char *field, h_rollout_ids *out, med_err *err)
{
    if (!arr) return MED_OK;
    if (!json_is_array(arr)) return bad_type(err, field);
    out->present = true;
    out->ids = calloc(json_array_size(arr) + 1, sizeof *out->ids);
    if (!out->ids) return nomem(err);
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        if (!json_is_string(v)) return bad_type(err, field);
        out->ids[out->n++] = json_string_value(v);
    }
    return MED_OK;
}

static med_rc parse_selector(json_t *o, const char *field, h_rollout_selector *out,
                             med_err *err)
{
    if (!o) return MED_OK;
    if (!json_is_object(o)) return bad_type(err, field);
    med_rc rc = parse_ids(json_object_get(o, "appIds"), field, &out->app_ids, err);
    if (rc == MED_OK)
        rc = parse_ids(json_object_get(o, "placementIds"), field, &out->placement_ids, err);
    if (rc == MED_OK)
        rc = parse_ids(json_object_get(o, "adapterIds"), field, &out->adapter_ids, err);
    return rc;
}

static med_rc parse_adapter_pcts(json_t *o, h_rollout_policy *p, med_err *err)
{
    if (!o) return MED_OK;
    if (!json_is_object(o)) return bad_type(err, "adapterRolloutPercentMap");
    p->adapter_pcts = calloc(json_object_size(o) + 1, sizeof *p->adapter_pcts);
    if (!p->adapter_pcts) return nomem(err);
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        h_rollout_adapter_pct *a = &p->adapter_pcts[p->n_adapter_pcts++];
        a->adapter_id = key;
        a->pct_valid = h_rollout_parse_scaled(v, 2, &a->bp) == 0 && bp_in_range(a->bp);
    }
    return MED_OK;
}

/* Absent, null or "NA" = no bound; otherwise a valid SemVer. */
static med_rc parse_sdk_bound(json_t *o, const char *key, const char **out, med_err *err)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) return MED_OK;
    const char *s = json_string_value(v);
    if (!s) return bad_type(err, key);
    if (strcmp(s, "NA") == 0) return MED_OK;
    h_semver sv;
    if (h_semver_parse(s, &sv, NULL) != MED_OK) return bad_type(err, key);
    *out = s;
    return MED_OK;
}

static med_rc parse_rate(json_t *o, const char *key, int32_t *out, med_err *err)
{
    json_t *v = json_object_get(o, key);
    int64_t bp;
    if (!v || json_is_null(v)) return MED_OK;
    if (h_rollout_parse_scaled(v, 4, &bp) != 0) return bad_type(err, key);
    if (!bp_in_range(bp)) return bad_range(err, key);
    *out = (int32_t)bp;
    return MED_OK;
}

static med_rc parse_count(json_t *o, const char *key, int64_t *out, med_err *err)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) return MED_OK;
    if (!json_is_integer(v)) return bad_type(err, key);
    if (json_integer_value(v) < 0) return bad_range(err, key);
    *out = json_integer_value(v);
    return MED_OK;
}

static med_rc parse_thresholds(json_t *o, h_breaker_thresholds *t, med_err *err)
{
    h_breaker_thresholds_off(t);
    if (!o) return MED_OK;
    if (!json_is_object(o)) return bad_type(err, "breakerThresholds");
    med_rc rc = parse_rate(o, "errorRate", &t->error_rate_bp, err);
    if (rc == MED_OK) rc = parse_rate(o, "noFillRate", &t->no_fill_rate_bp, err);
    if (rc == MED_OK) rc = parse_count(o, "p95LatencyMs", &t->p95_latency_ms, err);
    if (rc == MED_OK)
        rc = parse_count(o, "criticalReasonCodeCount", &t->critical_reason_code_count, err);
    return rc;
}

static med_rc parse_cooldown(json_t *o, int64_t *out, med_err *err)
{
    *out = H_BREAKER_DEFAULT_COOLDOWN_MS;
    med_rc rc = parse_count(o, "cooldownMs", out, err);
    if (rc == MED_OK && *out == 0) return bad_range(err, "cooldownMs");
    return rc;
}

static void parse_percents(json_t *o, h_rollout_policy *p)
{
    p->rollout_pct_parsed =
        h_rollout_parse_scaled(json_object_get(o, "rolloutPercent"), 2, &p->rollout_bp) == 0;
    p->rollout_pct_valid = p->rollout_pct_parsed && bp_in_range(p->rollout_bp);
    json_t *control = json_object_get(o, "controlPercent");
    p->control_pct_valid = !control || (h_rollout_parse_scaled(control, 2, &p->control_bp) == 0 &&
                                        bp_in_range(p->control_bp));
}

static med_rc parse_fields(json_t *o, h_rollout_policy *p, med_err *err)
{
    p->policy_id = required_id(o, "policyId");
    p->last_stable_policy_id = required_id(o, "lastStablePolicyId");
    if (!p->policy_id || !p->last_stable_policy_id)
        return med_err_set(err, MED_ERR_INVALID, MED_R_H_ROLLOUT_POLICY_NOT_FOUND, "policyId",
                           "rollout needs policyId and lastStablePolicyId");
    parse_percents(o, p);
    med_rc rc = parse_adapter_pcts(json_object_get(o, "adapterRolloutPercentMap"), p, err);
    if (rc == MED_OK) rc = parse_selector(json_object_get(o, "include"), "include", &p->include, err);
    if (rc == MED_OK) rc = parse_selector(json_object_get(o, "exclude"), "exclude", &p->exclude, err);
    if (rc == MED_OK) rc = parse_sdk_bound(o, "minSdkVersion", &p->min_sdk_version, err);
    if (rc == MED_OK) rc = parse_sdk_bound(o, "maxSdkVersionOrNA", &p->max_sdk_version, err);
    if (rc == MED_OK)
        rc = parse_thresholds(json_object_get(o, "breakerThresholds"), &p->thresholds, err);
    if (rc == MED_OK) rc = parse_cooldown(o, &p->cooldown_ms, err);
    return rc;
}

med_rc h_rollout_policy_parse(json_t *rollout, h_rollout_policy *out, med_err *err)
{
    if (!out) return med_err_set(err, MED_ERR_INVALID, MED_R_H_ROLLOUT_POLICY_NOT_FOUND, "",
                                 "no output");
    memset(out, 0, sizeof *out);
    h_breaker_thresholds_off(&out->thresholds);
    out->cooldown_ms = H_BREAKER_DEFAULT_COOLDOWN_MS;
    if (!json_is_object(rollout))
        return med_err_set(err, MED_ERR_INVALID, MED_R_H_ROLLOUT_POLICY_NOT_FOUND, "rollout",
                           "rollout is not an object");
    out->doc = json_incref(rollout);
    return parse_fields(rollout, out, err);
}

static void free_selector(h_rollout_selector *s)
{
    free(s->app_ids.ids);
    free(s->placement_ids.ids);
    free(s->adapter_ids.ids);
}

void h_rollout_policy_free(h_rollout_policy *p)
{
    if (!p) return;
    free_selector(&p->include);
    free_selector(&p->exclude);
    free(p->adapter_pcts);
    json_decref(p->doc);
    memset(p, 0, sizeof *p);
}

/* ---- buckets ---- */

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int64_t h_rollout_bucket_bp(const char *hex_key)
{
    if (!hex_key) return -1;
    uint64_t v = 0;
    for (int i = 0; i < 16; i++) {
        int h = hex_value(hex_key[i]);
        if (h < 0) return -1;
        v = (v << 4) | (uint64_t)h;
    }
    return (int64_t)(v % H_ROLLOUT_FULL_BP);
}

static med_rc hash_joined(char out[65], med_err *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static med_rc hash_joined(char out[65], med_err *err, const char *fmt, ...)
{
    char *s = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0) return nomem(err);
    med_sha256_hex(s, (size_t)n, out);
    free(s);
    return MED_OK;
}

/* ---- decision ---- */

static bool missing(const char *s)
{
    return !s || !*s;
}

static bool listed(const char *v, const h_rollout_ids *l)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->ids[i], v) == 0) return true;
    return false;
}

const char *h_rollout_action_name(h_rollout_action a)
{
    switch (a) {
    case H_ROLLOUT_IN: return "in_experiment";
    case H_ROLLOUT_OUT: return "out_of_experiment";
    case H_ROLLOUT_FORCE_FALLBACK: return "force_fallback";
    }
    return "force_fallback";
}

static void add_code(h_rollout_result *r, const char *code)
{
    if (r->n_reason_codes < H_ROLLOUT_MAX_CODES) r->reason_codes[r->n_reason_codes++] = code;
}

static bool inputs_missing(const h_rollout_input *in)
{
    if (!in->policy || missing(in->app_id) || missing(in->placement_id) ||
        missing(in->sdk_version) || missing(in->rollout_policy_version))
        return true;
    if (missing(in->user_bucket_hint) && missing(in->trace_key)) return true;
    if (in->n_adapter_ids > 0 && !in->adapter_ids) return true;
    for (size_t i = 0; i < in->n_adapter_ids; i++)
        if (missing(in->adapter_ids[i])) return true;
    return false;
}

static void block_all(const h_rollout_input *in, h_rollout_result *r)
{
    r->n_allowed = 0;
    for (size_t i = 0; i < in->n_adapter_ids; i++) r->blocked_adapters[i] = in->adapter_ids[i];
    r->n_blocked = in->n_adapter_ids;
}

static void allow_all(const h_rollout_input *in, h_rollout_result *r)
{
    r->n_blocked = 0;
    for (size_t i = 0; i < in->n_adapter_ids; i++) r->allowed_adapters[i] = in->adapter_ids[i];
    r->n_allowed = in->n_adapter_ids;
}

static void force_fallback(const h_rollout_input *in, h_rollout_result *r, const char *code)
{
    r->action = H_ROLLOUT_FORCE_FALLBACK;
    r->selected_policy_id = in->policy ? in->policy->last_stable_policy_id : NULL;
    if (code) add_code(r, code);
    add_code(r, MED_R_H_ROLLOUT_FORCE_FALLBACK_APPLIED);
    block_all(in, r);
}

static void out_of_experiment(const h_rollout_input *in, h_rollout_result *r, const char *code)
{
    r->action = H_ROLLOUT_OUT;
    r->selected_policy_id = in->policy->last_stable_policy_id;
    add_code(r, code);
}

static med_rc compute_split_key(const h_rollout_input *in, h_rollout_result *r, med_err *err)
{
    const char *stable_key = in->user_bucket_hint;
    if (missing(stable_key)) {
        stable_key = in->trace_key;
        add_code(r, MED_R_H_ROLLOUT_SPLIT_KEY_MISSING_FALLBACK_TRACE);
    }
    med_rc rc = hash_joined(r->split_key, err, "%s|%s|%s|%s|%s", in->app_id, in->placement_id,
                            in->sdk_version, stable_key, in->rollout_policy_version);
    if (rc == MED_OK) r->bucket_bp = h_rollout_bucket_bp(r->split_key);
    return rc;
}

/* Adapter selectors only hit when they cover every adapter of the request:
 * excluding some adapters narrows the experiment, it does not end it. */
static bool all_adapters_listed(const h_rollout_input *in, const h_rollout_ids *l)
{
    if (!l->present || in->n_adapter_ids == 0) return false;
    for (size_t i = 0; i < in->n_adapter_ids; i++)
        if (!listed(in->adapter_ids[i], l)) return false;
    return true;
}

static bool excluded(const h_rollout_input *in, const h_rollout_selector *ex)
{
    return listed(in->app_id, &ex->app_ids) || listed(in->placement_id, &ex->placement_ids) ||
           all_adapters_listed(in, &ex->adapter_ids);
}

static bool sdk_in_range(const h_rollout_input *in, const h_rollout_policy *p)
{
    int cmp;
    if (p->min_sdk_version &&
        (h_semver_compare_str(p->min_sdk_version, in->sdk_version, &cmp, NULL) != MED_OK || cmp > 0))
        return false;
    if (p->max_sdk_version &&
        (h_semver_compare_str(in->sdk_version, p->max_sdk_version, &cmp, NULL) != MED_OK || cmp > 0))
        return false;
    return true;
}

static bool adapter_candidate(const char *id, const h_rollout_policy *p)
{
    if (p->exclude.adapter_ids.present && listed(id, &p->exclude.adapter_ids)) return false;
    return !p->include.adapter_ids.present || listed(id, &p->include.adapter_ids);
}

static bool any_adapter_candidate(const h_rollout_input *in)
{
    for (size_t i = 0; i < in->n_adapter_ids; i++)
        if (adapter_candidate(in->adapter_ids[i], in->policy)) return true;
    return false;
}

static bool included(const h_rollout_input *in, const h_rollout_policy *p)
{
    const h_rollout_selector *inc = &p->include;
    if (inc->app_ids.present && !listed(in->app_id, &inc->app_ids)) return false;
    if (inc->placement_ids.present && !listed(in->placement_id, &inc->placement_ids)) return false;
    if (!sdk_in_range(in, p)) return false;
    return !inc->adapter_ids.present || any_adapter_candidate(in);
}

static bool percents_valid(const h_rollout_policy *p)
{
    if (!p->rollout_pct_valid || !p->control_pct_valid) return false;
    for (size_t i = 0; i < p->n_adapter_pcts; i++)
        if (!p->adapter_pcts[i].pct_valid) return false;
    return true;
}

static const h_rollout_adapter_pct *adapter_pct(const h_rollout_policy *p, const char *id)
{
    for (size_t i = 0; i < p->n_adapter_pcts; i++)
        if (strcmp(p->adapter_pcts[i].adapter_id, id) == 0) return &p->adapter_pcts[i];
    return NULL;
}

static med_rc adapter_allowed(const char *split_key, const char *id, const h_rollout_policy *p,
                              bool *allowed, med_err *err)
{
    *allowed = adapter_candidate(id, p);
    const h_rollout_adapter_pct *pct = adapter_pct(p, id);
    if (!*allowed || !pct) return MED_OK;
    char key[65];
    med_rc rc = hash_joined(key, err, "%s|%s", split_key, id);
    if (rc == MED_OK) *allowed = h_rollout_bucket_bp(key) < pct->bp;
    return rc;
}

static med_rc split_adapters(const h_rollout_input *in, h_rollout_result *r, med_err *err)
{
    for (size_t i = 0; i < in->n_adapter_ids; i++) {
        bool ok;
        med_rc rc = adapter_allowed(r->split_key, in->adapter_ids[i], in->policy, &ok, err);
        if (rc != MED_OK) return rc;
        if (ok)
            r->allowed_adapters[r->n_allowed++] = in->adapter_ids[i];
        else
            r->blocked_adapters[r->n_blocked++] = in->adapter_ids[i];
    }
    return MED_OK;
}

static int64_t effective_percent(const h_rollout_policy *p, h_breaker_mode mode)
{
    if (mode == H_BREAKER_HALF_OPEN && p->rollout_bp > H_BREAKER_HALF_OPEN_BP)
        return H_BREAKER_HALF_OPEN_BP;
    return p->rollout_bp;
}

static med_rc bucket_decision(const h_rollout_input *in, h_rollout_result *r, med_err *err)
{
    if (r->bucket_bp >= r->effective_bp) {
        out_of_experiment(in, r, MED_R_H_ROLLOUT_OUT_OF_EXPERIMENT);
        allow_all(in, r);
        return MED_OK;
    }
    r->action = H_ROLLOUT_IN;
    r->selected_policy_id = in->policy->policy_id;
    add_code(r, MED_R_H_ROLLOUT_IN_EXPERIMENT);
    med_rc rc = split_adapters(in, r, err);
    if (rc == MED_OK && r->n_allowed == 0) force_fallback(in, r, NULL);
    return rc;
}

static med_rc decide_with_policy(const h_rollout_input *in, h_rollout_result *r, med_err *err)
{
    const h_rollout_policy *p = in->policy;
    med_rc rc = compute_split_key(in, r, err);
    if (rc != MED_OK) return rc;
    h_breaker_mode mode = in->breaker
                              ? h_breaker_mode_at(in->breaker, p->cooldown_ms, in->rollout_at_ms)
                              : H_BREAKER_CLOSED;
    r->effective_bp = p->rollout_pct_parsed ? effective_percent(p, mode) : -1;
    if (mode == H_BREAKER_OPEN) {
        r->effective_bp = 0;
        force_fallback(in, r, MED_R_H_ROLLOUT_CIRCUIT_BREAKER_TRIGGERED);
    } else if (excluded(in, &p->exclude)) {
        out_of_experiment(in, r, MED_R_H_ROLLOUT_SELECTOR_EXCLUDED);
        block_all(in, r);
    } else if (!included(in, p)) {
        out_of_experiment(in, r, MED_R_H_ROLLOUT_SELECTOR_NOT_MATCHED);
        block_all(in, r);
    } else if (!percents_valid(p)) {
        force_fallback(in, r, MED_R_H_ROLLOUT_INVALID_PERCENT);
    } else {
        rc = bucket_decision(in, r, err);
    }
    return rc;
}

void h_rollout_result_free(h_rollout_result *r)
{
    if (!r) return;
    free(r->allowed_adapters);
    free(r->blocked_adapters);
    r->allowed_adapters = r->blocked_adapters = NULL;
    r->n_allowed = r->n_blocked = 0;
}

med_rc h_rollout_decide(const h_rollout_input *in, h_rollout_result *out, med_err *err)
{
    if (!in || !out)
        return med_err_set(err, MED_ERR_INVALID, MED_R_H_ROLLOUT_POLICY_NOT_FOUND, "",
                           "rollout decision needs input and output");
    memset(out, 0, sizeof *out);
    out->bucket_bp = -1;
    out->effective_bp = -1;
    size_t n = in->n_adapter_ids + 1;
    out->allowed_adapters = calloc(n, sizeof *out->allowed_adapters);
    out->blocked_adapters = calloc(n, sizeof *out->blocked_adapters);
    if (!out->allowed_adapters || !out->blocked_adapters) {
        h_rollout_result_free(out);
        return nomem(err);
    }
    if (inputs_missing(in)) {
        force_fallback(in, out, MED_R_H_ROLLOUT_POLICY_NOT_FOUND);
        return MED_OK;
    }
    med_rc rc = decide_with_policy(in, out, err);
    if (rc != MED_OK) h_rollout_result_free(out);
    return rc;
}

/* ---- JSON ---- */

static json_t *bp_value(int64_t bp)
{
    return bp < 0 ? json_null() : json_real((double)bp / 100.0);
}

static json_t *opt_string(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

json_t *h_rollout_result_to_json(const h_rollout_result *r)
{
    if (!r) return NULL;
    json_t *o = json_object();
    if (!o) return NULL;
    int bad = json_object_set_new(o, "rolloutAction", json_string(h_rollout_action_name(r->action)));
    bad |= json_object_set_new(o, "selectedPolicyId", opt_string(r->selected_policy_id));
    bad |= json_object_set_new(o, "splitKey", opt_string(r->split_key));
    bad |= json_object_set_new(o, "bucketValue", bp_value(r->bucket_bp));
    bad |= json_object_set_new(o, "rolloutPercent", bp_value(r->effective_bp));
    bad |= json_object_set_new(o, "allowedAdapters", h_json_strings(r->allowed_adapters, r->n_allowed));
    bad |= json_object_set_new(o, "blockedAdapters", h_json_strings(r->blocked_adapters, r->n_blocked));
    bad |= json_object_set_new(o, "reasonCodes", h_json_strings(r->reason_codes, r->n_reason_codes));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

char *h_rollout_result_render(const h_rollout_result *r)
{
    json_t *o = h_rollout_result_to_json(r);
    if (!o) return NULL;
    char *s = json_dumps(o, H_ROLLOUT_JSON_FLAGS);
    json_decref(o);
    return s;
}
