#include "b_redact.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b_bucket.h"
#include "med/ids.h"
#include "med/reason.h"

static const b_redact_rule default_rules[] = {
    { "UserContext.sessionKey", "S2_identifier", "hash", "" },
    { "device.id", "S2_identifier", "hash", "" },
    { "RequestMeta.requestTimestamp", "S1_quasi_identifier", "coarsen", "time_bucket" },
    { "RequestMeta.devicePerfScore", "S1_quasi_identifier", "coarsen", "range_bucket" },
    { "user.ext.actor_type", "S0_public", "pass", "" },
    { "UserContext.language", "S0_public", "pass", "" },
    { "PolicyContext.restrictedCategoryFlags", "S3_sensitive_content", "drop", "" },
    { "extensions.*", "S3_sensitive_content", "drop", "" },
};

static const struct {
    const char *cls, *action;
} class_actions[] = {
    { "S0_public", "pass" },
    { "S1_quasi_identifier", "coarsen" },
    { "S2_identifier", "hash" },
    { "S3_sensitive_content", "drop" },
};

static med_rc policy_invalid(med_err *err, const char *field, const char *why)
{
    return med_err_set(err, MED_ERR_INVALID, MED_R_B_REDACTION_POLICY_MISSING_OR_INVALID, field,
                       "redaction policy: %s", why);
}

static b_redact_rule *rule_slot(b_redact_policy *p, const char *path)
{
    for (int i = 0; i < p->n_rules; i++)
        if (strcmp(p->rules[i].path, path) == 0) return &p->rules[i];
    if (p->n_rules >= B_REDACT_MAX_RULES) return NULL;
    b_redact_rule *r = &p->rules[p->n_rules++];
    memset(r, 0, sizeof *r);
    snprintf(r->path, sizeof r->path, "%s", path);
    return r;
}

/* A level names an action (the path keeps its class, so an S2 path set to
 * pass is caught by validate) or a class (its default action). */
static med_rc apply_level(b_redact_policy *p, const char *path, const json_t *level, med_err *err)
{
    const char *lv = json_string_value(level);
    b_redact_rule *r = lv ? rule_slot(p, path) : NULL;
    if (!r) return policy_invalid(err, path, "level must be an action or a class");
    for (size_t i = 0; i < sizeof class_actions / sizeof class_actions[0]; i++) {
        int is_action = strcmp(lv, class_actions[i].action) == 0;
        int is_class = strcmp(lv, class_actions[i].cls) == 0;
        if (!is_action && !is_class) continue;
        if (is_class || !r->cls[0]) snprintf(r->cls, sizeof r->cls, "%s", class_actions[i].cls);
        snprintf(r->action, sizeof r->action, "%s", class_actions[i].action);
        return MED_OK;
    }
    return policy_invalid(err, path, "unknown redaction level");
}

med_rc b_redact_policy_build(const json_t *levels, const char *version, const char *salt_key_ref,
                             b_redact_policy *out, med_err *err)
{
    memset(out, 0, sizeof *out);
    snprintf(out->version, sizeof out->version, "%s", version ? version : "");
    snprintf(out->algorithm, sizeof out->algorithm, "sha256");
    snprintf(out->salt_key_ref, sizeof out->salt_key_ref, "%s", salt_key_ref ? salt_key_ref : "");
    snprintf(out->failure_mode, sizeof out->failure_mode, "reject");
    out->n_rules = (int)(sizeof default_rules / sizeof default_rules[0]);
    memcpy(out->rules, default_rules, sizeof default_rules);
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)levels, k, v) {
        if (apply_level(out, k, v, err) != MED_OK) return err ? err->rc : MED_ERR_INVALID;
    }
    return b_redact_policy_validate(out, err);
}

med_rc b_redact_policy_validate(const b_redact_policy *p, med_err *err)
{
    if (!p) return policy_invalid(err, NULL, "no policy");
    if (!p->version[0]) return policy_invalid(err, "redactionPolicyVersion", "unversioned");
    if (strcmp(p->failure_mode, "reject") != 0)
        return policy_invalid(err, "redactionFailureMode", "mode must be reject");
    if (strcmp(p->algorithm, "sha256") != 0 || !p->salt_key_ref[0])
        return policy_invalid(err, "hashRule", "hash rule must be sha256 with a salt");
    for (int i = 0; i < p->n_rules; i++) {
        const b_redact_rule *r = &p->rules[i];
        int strict = strncmp(r->cls, "S2", 2) == 0 || strncmp(r->cls, "S3", 2) == 0;
        if (strict && strcmp(r->action, "pass") == 0)
            return med_err_set(err, MED_ERR_INVALID, MED_R_B_REDACTION_ACTION_VIOLATION, r->path,
                               "%s is %s and may not pass", r->path, r->cls);
    }
    return MED_OK;
}

b_redact_rule b_redact_rule_for(const b_redact_policy *p, const char *path)
{
    for (int i = 0; i < p->n_rules; i++) {
        const char *rp = p->rules[i].path;
        size_t n = strlen(rp);
        int wildcard = n >= 2 && strcmp(rp + n - 2, ".*") == 0;
        if (strcmp(rp, path) == 0 || (wildcard && strncmp(rp, path, n - 1) == 0))
            return p->rules[i];
    }
    b_redact_rule pass = { .cls = "S0_public", .action = "pass" };
    snprintf(pass.path, sizeof pass.path, "%s", path);
    return pass;
}

void b_redact_hash(const char *salt, const char *value, char out[65])
{
    size_t ls = strlen(salt), lv = strlen(value);
    char *buf = malloc(ls + lv + 2);
    if (!buf) {
        out[0] = '\0';
        return;
    }
    memcpy(buf, salt, ls);
    buf[ls] = '|';
    memcpy(buf + ls + 1, value, lv + 1);
    med_sha256_hex(buf, ls + lv + 1, out);
    free(buf);
}

static int digits_at(const char *s, int from, int n)
{
    for (int i = from; i < from + n; i++)
        if (!isdigit((unsigned char)s[i])) return 0;
    return 1;
}

/* YYYY-MM-DDTHH:MM:SS.sssZ -> the same hour, minutes and below zeroed. */
static int time_bucket(const char *raw, char *out, size_t cap)
{
    if (strlen(raw) != 24 || !digits_at(raw, 0, 4) || raw[4] != '-' || !digits_at(raw, 5, 2) ||
        raw[7] != '-' || !digits_at(raw, 8, 2) || raw[10] != 'T' || !digits_at(raw, 11, 2) ||
        raw[13] != ':' || !digits_at(raw, 14, 2) || raw[16] != ':' || !digits_at(raw, 17, 2) ||
        raw[19] != '.' || !digits_at(raw, 20, 3) || raw[23] != 'Z')
        return 0;
    snprintf(out, cap, "%.13s:00:00.000Z", raw);
    return 1;
}

static int coarsen(const char *method, const char *raw, char *out, size_t cap)
{
    if (strcmp(method, "time_bucket") == 0) return time_bucket(raw, out, cap);
    if (strcmp(method, "range_bucket") == 0) {
        double v;
        /* Not a number: nothing to coarsen, and nothing of it leaves. */
        if (!b_bucket_parse(raw, &v)) return snprintf(out, cap, "unparseable"), 1;
        long long lo = (long long)floor(v / 10) * 10;
        snprintf(out, cap, "%lld-%lld", lo, lo + 9);
        return 1;
    }
    snprintf(out, cap, "%.3s***", raw);
    return 1;
}

void b_redactor_init(b_redactor *r, const b_redact_policy *p, const char *salt, med_arena *a)
{
    memset(r, 0, sizeof *r);
    r->policy = p;
    r->salt = salt ? salt : "";
    r->arena = a;
}

static med_rc exec_failed(med_err *err, const char *path, const char *why)
{
    return med_err_set(err, MED_ERR_INVALID, MED_R_B_REDACTION_EXECUTION_FAILED, path,
                       "redaction of %s failed: %s", path, why);
}

static int already_decided(const b_redactor *r, const char *path, const char *digest)
{
    for (int i = 0; i < r->n_decisions; i++)
        if (strcmp(r->decisions[i]->field_path, path) == 0 &&
            strcmp(r->decisions[i]->input_digest, digest) == 0)
            return 1;
    return 0;
}

static med_rc record(b_redactor *r, const b_redact_rule *rule, const char *raw, const char *out,
                     med_err *err)
{
    char digest[65];
    b_redact_hash(r->salt, raw, digest);
    int strict = strcmp(rule->action, "hash") == 0 || strcmp(rule->action, "drop") == 0;
    if (strict && raw[0] && r->n_sensitive < B_REDACT_MAX_SENSITIVE) {
        /* An identifier is found inside any text; a dropped category like
         * "chat" only as a whole value, or canonical text would match. */
        r->sensitive_substr[r->n_sensitive] = strcmp(rule->action, "hash") == 0 && strlen(raw) >= 6;
        r->sensitive[r->n_sensitive++] = raw;
    }
    if (already_decided(r, rule->path, digest)) return MED_OK;
    if (r->n_decisions >= B_REDACT_MAX_DECISIONS) return exec_failed(err, rule->path, "too many fields");
    Mediation__V1__RedactionFieldDecisionLite *d = MED_NEW(r->arena, Mediation__V1__RedactionFieldDecisionLite);
    if (!d) return exec_failed(err, rule->path, "out of memory");
    mediation__v1__redaction_field_decision_lite__init(d);
    d->field_path = med_arena_strdup(r->arena, rule->path);
    d->sensitivity_class = med_arena_strdup(r->arena, rule->cls);
    d->action = med_arena_strdup(r->arena, rule->action);
    d->input_digest = med_arena_strdup(r->arena, digest);
    if (strcmp(rule->action, "drop") != 0) {
        d->output_preview_or_na_opt_case =
            MEDIATION__V1__REDACTION_FIELD_DECISION_LITE__OUTPUT_PREVIEW_OR_NA_OPT_OUTPUT_PREVIEW_OR_NA;
        d->output_preview_or_na = med_arena_printf(r->arena, "%.20s", out);
    }
    d->reason_code = (char *)MED_R_B_REDACTION_APPLIED;
    r->decisions[r->n_decisions++] = d;
    if (strcmp(rule->action, "pass") == 0) r->pass++;
    else if (strcmp(rule->action, "hash") == 0) r->hash++;
    else if (strcmp(rule->action, "coarsen") == 0) r->coarsen++;
    else r->drop++;
    return MED_OK;
}

med_rc b_redactor_apply(b_redactor *r, const char *path, const char *raw, const char **out,
                        med_err *err)
{
    b_redact_rule rule = b_redact_rule_for(r->policy, path);
    char buf[128];
    *out = NULL;
    if (!raw) raw = "";
    if (strcmp(rule.action, "hash") == 0) {
        if (!r->salt[0]) return exec_failed(err, path, "no salt");
        char h[65];
        b_redact_hash(r->salt, raw, h);
        if (!h[0]) return exec_failed(err, path, "hash failed");
        snprintf(buf, sizeof buf, "%s", h);
    } else if (strcmp(rule.action, "coarsen") == 0) {
        if (!coarsen(rule.coarsen[0] ? rule.coarsen : "prefix_mask", raw, buf, sizeof buf))
            return exec_failed(err, path, "value cannot be coarsened");
    } else if (strcmp(rule.action, "drop") == 0) {
        snprintf(buf, sizeof buf, "NA");
    } else {
        snprintf(buf, sizeof buf, "%s", raw);
    }
    med_rc rc = record(r, &rule, raw, buf, err);
    if (rc != MED_OK) return rc;
    /* pass keeps the whole value, even past the preview buffer. */
    *out = med_arena_strdup(r->arena, strcmp(rule.action, "pass") == 0 ? raw : buf);
    return *out ? MED_OK : exec_failed(err, path, "out of memory");
}

static int by_path(const void *x, const void *y)
{
    const Mediation__V1__RedactionFieldDecisionLite *a = *(void *const *)x, *b = *(void *const *)y;
    int c = strcmp(a->field_path, b->field_path);
    return c ? c : strcmp(a->input_digest, b->input_digest);
}

Mediation__V1__RedactionSnapshotLite *b_redactor_snapshot(b_redactor *r, const char *trace_key,
                                                          const char *request_key,
                                                          const char *attempt_key,
                                                          int64_t now_ms)
{
    Mediation__V1__RedactionSnapshotLite *s = MED_NEW(r->arena, Mediation__V1__RedactionSnapshotLite);
    Mediation__V1__RedactionActionSummary *sum = MED_NEW(r->arena, Mediation__V1__RedactionActionSummary);
    Mediation__V1__RedactionFieldDecisionLite **ds =
        MED_NEWN(r->arena, Mediation__V1__RedactionFieldDecisionLite *, (size_t)r->n_decisions);
    if (!s || !sum || !ds) return NULL;
    mediation__v1__redaction_snapshot_lite__init(s);
    mediation__v1__redaction_action_summary__init(sum);
    memcpy(ds, r->decisions, sizeof *ds * (size_t)r->n_decisions);
    qsort(ds, (size_t)r->n_decisions, sizeof *ds, by_path);
    s->trace_key = (char *)trace_key;
    s->request_key = (char *)request_key;
    s->attempt_key = (char *)attempt_key;
    s->redaction_policy_version = (char *)r->policy->version;
    s->before_audit_enforced = 1;
    s->field_decisions = ds;
    s->n_field_decisions = (size_t)r->n_decisions;
    sum->pass_count = r->pass;
    sum->hash_count = r->hash;
    sum->coarsen_count = r->coarsen;
    sum->drop_count = r->drop;
    s->action_summary = sum;
    s->generated_at_unix_ms = now_ms;
    return s;
}

med_rc b_redactor_guard(const b_redactor *r, const char *const *texts, size_t n, med_err *err)
{
    for (int i = 0; i < r->n_sensitive; i++) {
        const char *raw = r->sensitive[i];
        int exact_only = !r->sensitive_substr[i];
        for (size_t j = 0; j < n; j++) {
            if (!texts[j]) continue;
            if (exact_only ? strcmp(texts[j], raw) == 0 : strstr(texts[j], raw) != NULL)
                return med_err_set(err, MED_ERR_INVALID, MED_R_B_REDACTION_BEFORE_AUDIT_VIOLATION,
                                   NULL, "a raw S2/S3 value would enter an audit");
        }
    }
    return MED_OK;
}

Mediation__V1__RedactionPolicyLite *b_redact_policy_lite(med_arena *a, const b_redact_policy *p)
{
    Mediation__V1__RedactionPolicyLite *l = MED_NEW(a, Mediation__V1__RedactionPolicyLite);
    Mediation__V1__HashRuleLite *h = MED_NEW(a, Mediation__V1__HashRuleLite);
    Mediation__V1__FieldClassRuleLite **rs = MED_NEWN(a, Mediation__V1__FieldClassRuleLite *, (size_t)p->n_rules);
    Mediation__V1__CoarsenRuleLite **cs = MED_NEWN(a, Mediation__V1__CoarsenRuleLite *, (size_t)p->n_rules);
    if (!l || !h || !rs || !cs) return NULL;
    mediation__v1__redaction_policy_lite__init(l);
    mediation__v1__hash_rule_lite__init(h);
    h->algorithm = (char *)p->algorithm;
    h->salt_key_ref = (char *)p->salt_key_ref;
    size_t nc = 0;
    for (int i = 0; i < p->n_rules; i++) {
        rs[i] = MED_NEW(a, Mediation__V1__FieldClassRuleLite);
        if (!rs[i]) return NULL;
        mediation__v1__field_class_rule_lite__init(rs[i]);
        rs[i]->field_path = (char *)p->rules[i].path;
        rs[i]->sensitivity_class = (char *)p->rules[i].cls;
        rs[i]->default_action = (char *)p->rules[i].action;
        if (!p->rules[i].coarsen[0]) continue;
        cs[nc] = MED_NEW(a, Mediation__V1__CoarsenRuleLite);
        if (!cs[nc]) return NULL;
        mediation__v1__coarsen_rule_lite__init(cs[nc]);
        cs[nc]->field_path = (char *)p->rules[i].path;
        cs[nc]->coarsen_method = (char *)p->rules[i].coarsen;
        nc++;
    }
    l->redaction_policy_version = (char *)p->version;
    l->field_class_rules = rs;
    l->n_field_class_rules = (size_t)p->n_rules;
    l->hash_rule = h;
    l->coarsen_rules = cs;
    l->n_coarsen_rules = nc;
    l->redaction_failure_mode = (char *)p->failure_mode;
    return l;
}
