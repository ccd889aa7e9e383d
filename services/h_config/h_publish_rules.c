/* H.4 pure rules: parsing and step-1 validation of the publish body,
 * idempotency key and payload hash, steps 3-6 (operator, time window, role
 * matrix with prod approval, scope bindings), the per-kind document check
 * of step 7 and the state machine. No I/O. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "h_publish.h"
#include "med/ids.h"
#include "med/jcs.h"
#include "med/reason.h"

static med_rc invalid(med_err *err, const char *field, const char *what)
{
    return med_err_set(err, MED_ERR_INVALID, MED_R_H_PUBLISH_VALIDATION_FAILED, field, "%s", what);
}

static const char *opt_str(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static med_rc req_str(const json_t *o, const char *key, const char **out, med_err *err)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= H_PUB_ID_MAX * 2)
        return invalid(err, key, "required non-empty string");
    *out = json_string_value(v);
    return MED_OK;
}

static int one_of(const char *s, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(s, *set) == 0) return 1;
    return 0;
}

int h_parse_utc_ms(const char *s, int64_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int n = 0;
    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                     &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 || n != 19)
        return -1;
    const char *p = s + n;
    int64_t ms = 0;
    if (*p == '.') {
        int digits = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, digits++)
            if (digits < 3) ms = ms * 10 + (*p - '0');
        if (digits == 0) return -1;
        for (; digits < 3; digits++) ms *= 10;
    }
    int64_t offset_s = 0;
    if (*p == 'Z' && p[1] == '\0') {
        offset_s = 0;
    } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
        int hh = atoi(p + 1), mm = atoi(p + 4);
        offset_s = (int64_t)(hh * 3600 + mm * 60) * (*p == '-' ? -1 : 1);
    } else {
        return -1;
    }
    if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
        tm.tm_min > 59 || tm.tm_sec > 60)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm(&tm);
    *out = ((int64_t)t - offset_s) * 1000 + ms;
    return 0;
}

static med_rc parse_versions(const json_t *body, const char *key, h_versions *out, med_err *err)
{
    const json_t *o = json_object_get(body, key);
    if (!json_is_object(o)) return invalid(err, key, "required object");
    static const char *const names[3] = {"schemaVersion", "routingStrategyVersion",
                                         "placementConfigVersion"};
    char *dst[3] = {out->schema, out->routing, out->placement};
    for (int i = 0; i < 3; i++) {
        const json_t *v = json_object_get(o, names[i]);
        if (!json_is_string(v) || json_string_length(v) == 0 ||
            json_string_length(v) >= H_PUB_VER_MAX) {
            char field[96];
            snprintf(field, sizeof field, "%s.%s", key, names[i]);
            return invalid(err, field, "required non-empty version string");
        }
        snprintf(dst[i], H_PUB_VER_MAX, "%s", json_string_value(v));
    }
    return MED_OK;
}

/* H.1: environment / appId|environment / appId|placementId|environment. */
static med_rc check_target_key(h_pub_req *r, med_err *err)
{
    char parts[3][H_PUB_ID_MAX];
    int n = 0;
    const char *p = r->target_key;
    while (n < 3) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == 0 || len >= H_PUB_ID_MAX) return invalid(err, "targetKey", "empty or long part");
        memcpy(parts[n], p, len);
        parts[n++][len] = '\0';
        if (!bar) break;
        p = bar + 1;
        if (n == 3) return invalid(err, "targetKey", "too many parts");
    }
    int want = strcmp(r->target_scope, "global") == 0 ? 1
             : strcmp(r->target_scope, "app") == 0   ? 2 : 3;
    if (n != want) return invalid(err, "targetKey", "shape does not match targetScope");
    if (strcmp(parts[n - 1], r->environment) != 0)
        return invalid(err, "targetKey", "environment part differs from environment");
    if (n >= 2) snprintf(r->app_id, sizeof r->app_id, "%s", parts[0]);
    if (n == 3) snprintf(r->placement_id, sizeof r->placement_id, "%s", parts[1]);
    return MED_OK;
}

static med_rc parse_enums(h_pub_req *r, med_err *err)
{
    static const char *const envs[] = {"prod", "staging", NULL};
    static const char *const actions[] = {"publish", "rollback", NULL};
    static const char *const scopes[] = {"global", "app", "placement", NULL};
    if (!one_of(r->environment, envs)) return invalid(err, "environment", "prod or staging");
    if (!one_of(r->action_type, actions)) return invalid(err, "actionType", "publish or rollback");
    if (!one_of(r->target_scope, scopes))
        return invalid(err, "targetScope", "global, app or placement");
    return check_target_key(r, err);
}

static med_rc parse_optional(h_pub_req *r, med_err *err)
{
    const json_t *b = r->body;
    const json_t *dry = json_object_get(b, "dryRun");
    if (dry && !json_is_boolean(dry)) return invalid(err, "dryRun", "boolean");
    r->dry_run = json_is_true(dry);
    const json_t *k = json_object_get(b, "publishIdempotencyKeyOrNA");
    if (k && !json_is_string(k)) return invalid(err, "publishIdempotencyKeyOrNA", "string");
    r->idem_key = opt_str(b, "publishIdempotencyKeyOrNA");
    if (r->idem_key && (strcmp(r->idem_key, "NA") == 0 || r->idem_key[0] == '\0'))
        r->idem_key = NULL;
    if (r->idem_key && strlen(r->idem_key) > 200)
        return invalid(err, "publishIdempotencyKeyOrNA", "too long");
    const json_t *reason = json_object_get(b, "reason");
    if (reason && !json_is_string(reason) && !json_is_null(reason))
        return invalid(err, "reason", "string");
    r->reason = opt_str(b, "reason");
    const json_t *ap = json_object_get(b, "approvalContextLite");
    if (ap && !json_is_object(ap) && !json_is_null(ap))
        return invalid(err, "approvalContextLite", "object");
    r->approval = json_is_object(ap) ? (json_t *)ap : NULL;
    return MED_OK;
}

static med_rc parse_action_body(h_pub_req *r, med_err *err)
{
    med_rc rc = parse_versions(r->body, "baseVersionSnapshot", &r->base, err);
    if (rc != MED_OK) return rc;
    if (h_pub_is_rollback(r)) {
        if (json_object_get(r->body, "changeSet"))
            return invalid(err, "changeSet", "a rollback carries no changeSet");
        return parse_versions(r->body, "rollbackToVersionSnapshot", &r->target, err);
    }
    rc = parse_versions(r->body, "targetVersionSnapshot", &r->target, err);
    if (rc != MED_OK) return rc;
    json_t *cs = json_object_get(r->body, "changeSet");
    if (!json_is_object(cs)) return invalid(err, "changeSet", "required object for a publish");
    r->change_set = cs;
    return MED_OK;
}

static med_rc parse_fields(h_pub_req *r, med_err *err)
{
    const json_t *b = r->body;
    med_rc rc;
    if ((rc = req_str(b, "requestId", &r->request_id, err)) != MED_OK ||
        (rc = req_str(b, "operatorId", &r->operator_id, err)) != MED_OK ||
        (rc = req_str(b, "environment", &r->environment, err)) != MED_OK ||
        (rc = req_str(b, "actionType", &r->action_type, err)) != MED_OK ||
        (rc = req_str(b, "targetScope", &r->target_scope, err)) != MED_OK ||
        (rc = req_str(b, "targetKey", &r->target_key, err)) != MED_OK ||
        (rc = req_str(b, "changeSetId", &r->change_set_id, err)) != MED_OK ||
        (rc = req_str(b, "publishAt", &r->publish_at, err)) != MED_OK ||
        (rc = req_str(b, "publishContractVersion", &r->contract_version, err)) != MED_OK)
        return rc;
    if (h_parse_utc_ms(r->publish_at, &r->publish_at_ms) != 0)
        return invalid(err, "publishAt", "RFC 3339 time");
    if ((rc = parse_enums(r, err)) != MED_OK) return rc;
    if ((rc = parse_optional(r, err)) != MED_OK) return rc;
    return parse_action_body(r, err);
}

med_rc h_pub_parse(const char *json, size_t len, h_pub_req *out, med_err *err)
{
    memset(out, 0, sizeof *out);
    json_error_t jerr;
    out->body = json_loadb(json ? json : "", json ? len : 0, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(out->body)) {
        json_decref(out->body);
        out->body = NULL;
        return invalid(err, NULL, "body is not a JSON object");
    }
    return parse_fields(out, err);
}

void h_pub_req_free(h_pub_req *r)
{
    if (!r) return;
    json_decref(r->body);
    r->body = NULL;
}

int h_pub_is_rollback(const h_pub_req *r)
{
    return r->action_type && strcmp(r->action_type, "rollback") == 0;
}

const char *h_pub_unit_tenant(const h_pub_req *r, const char *tenant)
{
    return strcmp(r->target_scope, "global") == 0 ? H_PLATFORM_TENANT : tenant;
}

void h_pub_release_unit(const h_pub_req *r, char *out, size_t cap)
{
    snprintf(out, cap, "%s|%s|%s", r->environment, r->target_scope, r->target_key);
}

/* ---- idempotency (H.4) ---- */

static json_t *versions_json(const h_versions *v)
{
    return json_pack("{s:s,s:s,s:s}", "schemaVersion", v->schema, "routingStrategyVersion",
                     v->routing, "placementConfigVersion", v->placement);
}

static med_rc jcs_text(json_t *v, char **out, med_err *err)
{
    if (!v) return med_err_set(err, MED_ERR_NOMEM, MED_R_H_PUBLISH_VALIDATION_FAILED, NULL, "oom");
    size_t len;
    med_rc rc = med_jcs_serialize(v, out, &len, err);
    json_decref(v);
    return rc;
}

/* A dry run gets its own key space: it must not hold the key of the real
 * publish that usually follows it with the same content (its payloadHash
 * differs in dryRun, so sharing the key would answer that publish 409). */
static void dry_run_key(const h_pub_req *r, char out[65])
{
    if (!r->dry_run) return;
    char buf[80];
    snprintf(buf, sizeof buf, "%s|dryRun", out);
    med_sha256_hex(buf, strlen(buf), out);
}

med_rc h_pub_idem_key(const h_pub_req *r, char out[65], med_err *err)
{
    if (r->idem_key) {
        med_sha256_hex(r->idem_key, strlen(r->idem_key), out);
        dry_run_key(r, out);
        return MED_OK;
    }
    char *base = NULL, *target = NULL;
    med_rc rc = jcs_text(versions_json(&r->base), &base, err);
    if (rc == MED_OK) rc = jcs_text(versions_json(&r->target), &target, err);
    char *joined = NULL;
    if (rc == MED_OK &&
        asprintf(&joined, "%s|%s|%s|%s|%s|%s|%s", r->environment, r->action_type,
                 r->target_scope, r->target_key, r->change_set_id, base, target) < 0) {
        joined = NULL;
        rc = med_err_set(err, MED_ERR_NOMEM, MED_R_H_PUBLISH_VALIDATION_FAILED, NULL, "oom");
    }
    if (rc == MED_OK) {
        med_sha256_hex(joined, strlen(joined), out);
        dry_run_key(r, out);
    }
    free(base);
    free(target);
    free(joined);
    return rc;
}

med_rc h_pub_payload_hash(const h_pub_req *r, char out[65], med_err *err)
{
    int rb = h_pub_is_rollback(r);
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:s,s:b,s:o}",
        "operatorId", r->operator_id, "environment", r->environment, "actionType",
        r->action_type, "targetScope", r->target_scope, "targetKey", r->target_key,
        "changeSetId", r->change_set_id, "base", versions_json(&r->base),
        "target", rb ? json_null() : versions_json(&r->target),
        "rollbackTo", rb ? versions_json(&r->target) : json_null(),
        "publishAt", r->publish_at, "dryRun", r->dry_run,
        "reason", r->reason ? json_string(r->reason) : json_null());
    if (!o) return med_err_set(err, MED_ERR_NOMEM, MED_R_H_PUBLISH_VALIDATION_FAILED, NULL, "oom");
    char hex[65];
    med_rc rc = med_jcs_sha256(o, hex, err);
    json_decref(o);
    if (rc == MED_OK) memcpy(out, hex, 65);
    return rc;
}

/* ---- steps 3-6 ---- */

med_rc h_pub_check_operator(const h_pub_req *r, const h_pub_auth *a, med_err *err)
{
    if (!a->actor_id || strcmp(a->actor_id, r->operator_id) != 0)
        return med_err_set(err, MED_ERR_INVALID, MED_R_H_PUBLISH_AUTH_OPERATOR_MISMATCH,
                           "operatorId", "operatorId differs from the token's actor");
    return MED_OK;
}

med_rc h_pub_check_auth_window(const h_pub_req *r, const h_pub_auth *a, int64_t now_ms,
                               med_err *err)
{
    int ok = a->issued_ms > 0 && a->expires_ms > 0 &&
             a->issued_ms <= r->publish_at_ms + H_PUB_SKEW_MS &&
             r->publish_at_ms <= a->expires_ms + H_PUB_SKEW_MS &&
             now_ms <= a->expires_ms + H_PUB_SKEW_MS;
    if (!ok)
        return med_err_set(err, MED_ERR_INVALID, MED_R_H_PUBLISH_AUTH_CONTEXT_INVALID,
                           "authContextLite", "token time window does not cover publishAt/now");
    return MED_OK;
}

static med_rc denied(med_err *err, const char *field, const char *why)
{
    return med_err_set(err, MED_ERR_INVALID, MED_R_H_PUBLISH_AUTHZ_DENIED, field, "%s", why);
}

/* Target authority: a higher authority covers the scopes below it
 * (config_admin everything, app_operator app and placement). */
static int authority_covers(const char *authority, const char *scope)
{
    if (!authority) return 0;
    if (strcmp(authority, "config_admin") == 0) return 1;
    if (strcmp(authority, "app_operator") == 0)
        return strcmp(scope, "app") == 0 || strcmp(scope, "placement") == 0;
    if (strcmp(authority, "placement_operator") == 0) return strcmp(scope, "placement") == 0;
    return 0;
}

static med_rc check_approval(const h_pub_req *r, med_err *err)
{
    const json_t *ap = r->approval;
    if (!ap) return denied(err, "approvalContextLite", "prod publish by a publisher needs approval");
    const char *reviewer = opt_str(ap, "reviewerId");
    const char *role = opt_str(ap, "reviewerRole");
    const char *cs = opt_str(ap, "changeSetId");
    const char *at = opt_str(ap, "approvedAt");
    int64_t at_ms = 0;
    if (!reviewer || strcmp(reviewer, r->operator_id) == 0)
        return denied(err, "approvalContextLite.reviewerId", "reviewer must differ from operator");
    if (!role || (strcmp(role, "reviewer") != 0 && strcmp(role, "admin") != 0))
        return denied(err, "approvalContextLite.reviewerRole", "reviewer or admin");
    if (!cs || strcmp(cs, r->change_set_id) != 0)
        return denied(err, "approvalContextLite.changeSetId", "approval of another changeSet");
    if (!at || h_parse_utc_ms(at, &at_ms) != 0 || at_ms > r->publish_at_ms)
        return denied(err, "approvalContextLite.approvedAt", "approval after publishAt");
    return MED_OK;
}

med_rc h_pub_check_role(const h_pub_req *r, const h_pub_auth *a, med_err *err)
{
    const char *pr = a->principal_role ? a->principal_role : "";
    int is_admin = strcmp(pr, "admin") == 0;
    if (!is_admin && strcmp(pr, "publisher") != 0)
        return denied(err, "authContextLite.role", "config:publish needs publisher or admin");
    if (!authority_covers(a->authority, r->target_scope))
        return denied(err, "authContextLite.role", "authority does not cover targetScope");
    if (!is_admin && strcmp(r->environment, "prod") == 0 && !r->dry_run)
        return check_approval(r, err);
    return MED_OK;
}

static int binding_has(char *const *list, size_t n, const char *want)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], "*") == 0 || strcmp(list[i], want) == 0) return 1;
    return 0;
}

med_rc h_pub_check_scope(const h_pub_req *r, const h_pub_auth *a, med_err *err)
{
    const char *field = NULL;
    if (!binding_has(a->envs, a->n_envs, r->environment)) field = "environment";
    else if (r->app_id[0] && !binding_has(a->apps, a->n_apps, r->app_id)) field = "targetKey";
    else if (r->placement_id[0] && !binding_has(a->placements, a->n_placements, r->placement_id))
        field = "targetKey";
    if (field)
        return med_err_set(err, MED_ERR_INVALID, MED_R_H_PUBLISH_AUTHZ_DENIED_SCOPE, field,
                           "scope bindings do not cover the target");
    return MED_OK;
}

/* ---- step 7: documents (06 section 1, minimal required fields) ---- */

typedef struct kind_rule {
    const char *kind;
    const char *required[4];
} kind_rule;

static const kind_rule KIND_RULES[] = {
    {"schema", {"schemaVersion", "schemaCompatibilityPolicy", NULL}},
    {"policy", {"policyPackVersion", "policyRuleVersion", "failureMode", NULL}},
    {"route_policy", {"routingPolicyVersion", "sources", NULL}},
    {"template_whitelist", {NULL}},
    {"black_white_list", {"sourceSelectionMode", NULL}},
    {"placement", {NULL}},
};

static const kind_rule *kind_rule_of(const char *kind)
{
    for (size_t i = 0; i < sizeof KIND_RULES / sizeof KIND_RULES[0]; i++)
        if (strcmp(KIND_RULES[i].kind, kind) == 0) return &KIND_RULES[i];
    return NULL;
}

med_rc h_pub_check_document(const json_t *doc, size_t index, med_err *err)
{
    char field[96];
    snprintf(field, sizeof field, "changeSet.documents[%zu]", index);
    const char *kind = opt_str(doc, "kind"), *version = opt_str(doc, "version");
    const json_t *body = json_object_get(doc, "body");
    const kind_rule *rule = kind ? kind_rule_of(kind) : NULL;
    if (!rule) return invalid(err, field, "unknown document kind");
    if (!version || !version[0] || strlen(version) >= H_PUB_VER_MAX || strchr(version, ':'))
        return invalid(err, field, "version must be a non-empty string without ':'");
    if (!json_is_object(body)) return invalid(err, field, "body must be an object");
    for (const char *const *f = rule->required; *f; f++) {
        if (!json_object_get(body, *f)) {
            snprintf(field, sizeof field, "changeSet.documents[%zu].body.%s", index, *f);
            return invalid(err, field, "required field of this kind is missing");
        }
    }
    return MED_OK;
}

static const char *const REF_FIELDS[][2] = {
    {"policyThresholdsRef", "policy"},
    {"routePolicyRef", "route_policy"},
    {"templateWhitelistRef", "template_whitelist"},
    {"blackWhiteListRef", "black_white_list"},
    {"placementRef", "placement"},
};

static med_rc check_layer(const json_t *layer, med_err *err)
{
    if (!json_is_object(layer)) return invalid(err, "changeSet.layer", "required object");
    for (size_t i = 0; i < sizeof REF_FIELDS / sizeof REF_FIELDS[0]; i++) {
        const json_t *v = json_object_get(layer, REF_FIELDS[i][0]);
        if (!v || json_is_null(v)) continue;
        char field[96];
        snprintf(field, sizeof field, "changeSet.layer.%s", REF_FIELDS[i][0]);
        const char *s = json_string_value(v);
        size_t kl = strlen(REF_FIELDS[i][1]);
        if (!s || strncmp(s, REF_FIELDS[i][1], kl) != 0 || s[kl] != ':' || !s[kl + 1])
            return invalid(err, field, "reference must be <kind>:<version> of its kind");
    }
    return MED_OK;
}

med_rc h_pub_check_change_set(const h_pub_req *r, med_err *err)
{
    if (h_pub_is_rollback(r)) return MED_OK;
    const json_t *docs = json_object_get(r->change_set, "documents");
    if (docs && !json_is_array(docs)) return invalid(err, "changeSet.documents", "array");
    size_t i;
    const json_t *d;
    json_array_foreach(docs, i, d) {
        med_rc rc = h_pub_check_document(d, i, err);
        if (rc != MED_OK) return rc;
    }
    return check_layer(json_object_get(r->change_set, "layer"), err);
}

/* ---- state machine and outcomes ---- */

int h_pub_transition_ok(const char *from, const char *to)
{
    static const char *const edges[][2] = {
        {"draft", "validated"},    {"draft", "failed"},       {"validated", "published"},
        {"validated", "failed"},   {"validated", "rollback"}, {"rollback", "rolled_back"},
        {"rollback", "failed"},    {"published", "rollback"},
        /* a stored retryable failure is re-run from step 8 under the same id */
        {"failed", "validated"},
    };
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
        if (strcmp(edges[i][0], from) == 0 && strcmp(edges[i][1], to) == 0) return 1;
    return 0;
}

int h_pub_http_status(const char *code)
{
    static const struct { const char *code; int status; } map[] = {
        {"h_publish_validation_failed", 400},
        {"h_publish_idempotency_payload_conflict", 409},
        {"h_publish_auth_operator_mismatch", 403},
        {"h_publish_auth_context_invalid", 403},
        {"h_publish_authz_denied", 403},
        {"h_publish_authz_denied_scope", 403},
        {"h_publish_base_version_conflict", 409},
        {"h_publish_rollback_target_not_found", 404},
        {"h_publish_atomic_commit_failed", 503},
        {"h_publish_compensation_triggered", 503},
        {"h_publish_compensation_failed", 500},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i].code, code) == 0) return map[i].status;
    return 200;
}

int h_pub_code_retryable(const char *code)
{
    return strcmp(code, "h_publish_atomic_commit_failed") == 0 ||
           strcmp(code, "h_publish_compensation_triggered") == 0;
}

int h_versions_equal(const h_versions *a, const h_versions *b)
{
    return strcmp(a->schema, b->schema) == 0 && strcmp(a->routing, b->routing) == 0 &&
           strcmp(a->placement, b->placement) == 0;
}
