/* Version gate (spec 04 H.5). */
#include "h_gate.h"

#include <stdlib.h>
#include <string.h>

#include "h_semver.h"
#include "med/reason.h"

enum { STAGE_SCHEMA, STAGE_SDK, STAGE_ADAPTER };

const char *h_verdict_name(h_verdict v)
{
    switch (v) {
    case H_ALLOW: return "allow";
    case H_DEGRADE: return "degrade";
    case H_REJECT: return "reject";
    }
    return "reject";
}

static bool missing(const char *s)
{
    return !s || !*s;
}

static bool listed(const char *v, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] && strcmp(list[i], v) == 0) return true;
    return false;
}

static const char *find_value(const h_kv *map, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (map[i].key && strcmp(map[i].key, key) == 0) return map[i].value;
    return NULL;
}

static bool valid_version(const char *s)
{
    h_semver v;
    return h_semver_parse(s, &v, NULL) == MED_OK;
}

/* strcmp orders by unsigned bytes, which is the spec's byte order. */
static int compare_str_ptr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static h_verdict *stage_slot(h_gate_result *r, int stage)
{
    if (stage == STAGE_SCHEMA) return &r->schema_gate;
    if (stage == STAGE_SDK) return &r->sdk_gate;
    return &r->adapter_gate;
}

static void add_code(h_gate_result *r, const char *code)
{
    if (r->n_reason_codes < H_GATE_MAX_CODES) r->reason_codes[r->n_reason_codes++] = code;
}

/* A reject short-circuits: this and every later stage read reject, the code
 * stands alone and no adapter survives. Returns true so callers can write
 * `return reject_at(...)`. */
static bool reject_at(h_gate_result *r, int stage, const char *code, const char **ids, size_t n)
{
    for (int s = stage; s <= STAGE_ADAPTER; s++) *stage_slot(r, s) = H_REJECT;
    r->action = H_REJECT;
    r->n_reason_codes = 0;
    add_code(r, code);
    r->n_compatible = 0;
    memcpy(r->blocked_adapters, ids, n * sizeof *ids);
    r->n_blocked = n;
    return true;
}

static bool any_adapter_id_missing(const h_gate_input *in)
{
    for (size_t i = 0; i < in->n_adapter_versions; i++)
        if (missing(in->adapter_versions[i].key)) return true;
    return false;
}

static bool adapter_input_missing(const h_gate_input *in)
{
    if (in->adapters_not_reported) return false;
    return !in->adapter_versions || in->n_adapter_versions == 0 || !in->adapter_min_versions ||
           any_adapter_id_missing(in);
}

static const char *precheck_code(const h_gate_input *in)
{
    if (missing(in->schema_version) || missing(in->sdk_version) ||
        missing(in->sdk_min_version) || adapter_input_missing(in))
        return MED_R_H_GATE_MISSING_REQUIRED_VERSION;
    if (!in->schema_policy || missing(in->missing_min_version_policy) ||
        (strcmp(in->missing_min_version_policy, "reject") != 0 &&
         strcmp(in->missing_min_version_policy, "degrade_block_adapter") != 0))
        return MED_R_H_GATE_POLICY_NOT_FOUND;
    if (!valid_version(in->schema_version) || !valid_version(in->sdk_version) ||
        !valid_version(in->sdk_min_version))
        return MED_R_H_GATE_INVALID_VERSION_FORMAT;
    return NULL;
}

static const char *schema_stage(const h_gate_input *in, h_verdict *v)
{
    const h_schema_policy *p = in->schema_policy;
    *v = H_ALLOW;
    if (listed(in->schema_version, p->fully_supported, p->n_fully_supported)) return NULL;
    *v = H_DEGRADE;
    if (listed(in->schema_version, p->compatible_degrade, p->n_compatible_degrade))
        return MED_R_H_GATE_SCHEMA_COMPATIBLE_DEGRADE;
    *v = H_REJECT;
    return MED_R_H_GATE_SCHEMA_INCOMPATIBLE_REJECT;
}

static bool grace_hit(const h_gate_input *in)
{
    const h_grace_policy *g = in->grace_policy;
    return g && g->allow_below_min &&
           listed(in->sdk_version, g->allowed_sdk_versions, g->n_allowed_sdk_versions);
}

static const char *sdk_stage(const h_gate_input *in, h_verdict *v)
{
    int cmp = 0;
    /* Both were validated by the pre-checks. */
    (void)h_semver_compare_str(in->sdk_version, in->sdk_min_version, &cmp, NULL);
    *v = H_ALLOW;
    if (cmp >= 0) return NULL;
    if (grace_hit(in)) {
        *v = H_DEGRADE;
        return MED_R_H_GATE_SDK_BELOW_MIN_DEGRADE;
    }
    *v = H_REJECT;
    return MED_R_H_GATE_SDK_BELOW_MIN_REJECT;
}

static bool adapter_versions_valid(const h_gate_input *in, const char **ids, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *have = find_value(in->adapter_versions, in->n_adapter_versions, ids[i]);
        const char *min = find_value(in->adapter_min_versions, in->n_adapter_min_versions, ids[i]);
        if (!valid_version(have) || (min && !valid_version(min))) return false;
    }
    return true;
}

/* Sorts adapters into compatible / blocked; returns a reject code or NULL. */
static const char *adapter_stage(const h_gate_input *in, const char **ids, size_t n,
                                 h_gate_result *r, bool *unknown_blocked)
{
    bool block_unknown = strcmp(in->missing_min_version_policy, "degrade_block_adapter") == 0;
    if (!adapter_versions_valid(in, ids, n)) return MED_R_H_GATE_INVALID_VERSION_FORMAT;
    *unknown_blocked = false;
    for (size_t i = 0; i < n; i++) {
        const char *have = find_value(in->adapter_versions, in->n_adapter_versions, ids[i]);
        const char *min = find_value(in->adapter_min_versions, in->n_adapter_min_versions, ids[i]);
        int cmp = 0;
        if (!min && !block_unknown) return MED_R_H_GATE_ADAPTER_MIN_VERSION_MISSING_REJECT;
        if (!min) *unknown_blocked = true;
        else (void)h_semver_compare_str(have, min, &cmp, NULL);
        if (!min || cmp < 0) r->blocked_adapters[r->n_blocked++] = ids[i];
        else r->compatible_adapters[r->n_compatible++] = ids[i];
    }
    if (r->n_compatible == 0) return MED_R_H_GATE_ADAPTER_ALL_BLOCKED_REJECT;
    return NULL;
}

static void adapter_degrade_codes(h_gate_result *r, bool unknown_blocked)
{
    r->adapter_gate = H_ALLOW;
    if (r->n_blocked == 0) return;
    r->adapter_gate = H_DEGRADE;
    add_code(r, MED_R_H_GATE_ADAPTER_PARTIAL_DEGRADE);
    if (unknown_blocked) add_code(r, MED_R_H_GATE_ADAPTER_MIN_VERSION_MISSING_BLOCKED);
}

static med_rc alloc_lists(const h_gate_input *in, h_gate_result *r, const char ***ids,
                          med_err *err)
{
    size_t n = in->adapter_versions ? in->n_adapter_versions : 0;
    size_t cap = n ? n : 1;
    *ids = calloc(cap, sizeof **ids);
    r->compatible_adapters = calloc(cap, sizeof *r->compatible_adapters);
    r->blocked_adapters = calloc(cap, sizeof *r->blocked_adapters);
    if (!*ids || !r->compatible_adapters || !r->blocked_adapters) {
        free(*ids);
        *ids = NULL;
        h_gate_result_free(r);
        return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_PERMANENT_FAILURE, "",
                           "gate: out of memory");
    }
    /* A NULL id is rejected by the pre-checks; "" keeps qsort safe till then. */
    for (size_t i = 0; i < n; i++) {
        const char *id = in->adapter_versions[i].key;
        (*ids)[i] = id ? id : "";
    }
    qsort(*ids, n, sizeof **ids, compare_str_ptr);
    return MED_OK;
}

/* Runs the stages in order; false once a stage rejected. */
static bool run_stage(h_gate_result *r, int stage, const char *code, h_verdict v,
                      const char **ids, size_t n)
{
    if (v == H_REJECT) return !reject_at(r, stage, code, ids, n);
    *stage_slot(r, stage) = v;
    if (code) add_code(r, code);
    return true;
}

static void evaluate_stages(const h_gate_input *in, const char **ids, size_t n, h_gate_result *r)
{
    h_verdict v;
    const char *code = precheck_code(in);
    if (code) {
        reject_at(r, STAGE_SCHEMA, code, ids, n);
        return;
    }
    code = schema_stage(in, &v);
    if (!run_stage(r, STAGE_SCHEMA, code, v, ids, n)) return;
    code = sdk_stage(in, &v);
    if (!run_stage(r, STAGE_SDK, code, v, ids, n)) return;
    if (in->adapters_not_reported) {
        r->adapter_gate = H_ALLOW;
        return;
    }
    bool unknown_blocked = false;
    code = adapter_stage(in, ids, n, r, &unknown_blocked);
    if (code) {
        reject_at(r, STAGE_ADAPTER, code, ids, n);
        return;
    }
    adapter_degrade_codes(r, unknown_blocked);
}

static void finish(h_gate_result *r)
{
    if (r->action == H_REJECT) return;
    r->action = r->schema_gate;
    if (r->sdk_gate > r->action) r->action = r->sdk_gate;
    if (r->adapter_gate > r->action) r->action = r->adapter_gate;
    if (r->action == H_ALLOW) {
        r->n_reason_codes = 0;
        add_code(r, MED_R_H_GATE_ALL_PASS);
    }
}

med_rc h_gate_evaluate(const h_gate_input *in, h_gate_result *out, med_err *err)
{
    if (!in || !out)
        return med_err_set(err, MED_ERR_INVALID, MED_R_H_GATE_MISSING_REQUIRED_VERSION, "",
                           "gate: NULL argument");
    memset(out, 0, sizeof *out);
    const char **ids = NULL;
    med_rc rc = alloc_lists(in, out, &ids, err);
    if (rc != MED_OK) return rc;
    size_t n = in->adapter_versions ? in->n_adapter_versions : 0;
    evaluate_stages(in, ids, n, out);
    finish(out);
    free(ids);
    return MED_OK;
}

void h_gate_result_free(h_gate_result *r)
{
    if (!r) return;
    free(r->compatible_adapters);
    free(r->blocked_adapters);
    r->compatible_adapters = NULL;
    r->blocked_adapters = NULL;
    r->n_compatible = r->n_blocked = 0;
}
