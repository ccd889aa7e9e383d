/* Edge input checks (see edge_json.h). The depth limit is enforced on the
 * raw bytes before jansson sees them: jansson recurses per level, and its
 * own cap (2048) would let a 1 MiB body of brackets cost far more than a
 * request should, and report "malformed" instead of "too deep". */
#include "edge_json.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "med/reason.h"

#define EDGE_PATH_SEGMENT_MAX 128

const edge_json_limits edge_json_default_limits = { EDGE_BODY_LIMIT_DEFAULT,
                                                    EDGE_JSON_MAX_DEPTH_DEFAULT };

int edge_content_type_is_json(const char *value)
{
    static const char want[] = "application/json";
    if (!value) return 0;
    while (*value == ' ' || *value == '\t') value++;
    size_t n = strcspn(value, ";");
    while (n > 0 && (value[n - 1] == ' ' || value[n - 1] == '\t')) n--;
    return n == sizeof want - 1 && strncasecmp(value, want, n) == 0;
}

med_rc edge_json_depth_check(const char *body, size_t len, int max_depth, med_err *err)
{
    int depth = 0, in_string = 0, escaped = 0;
    for (size_t i = 0; i < len; i++) {
        char c = body[i];
        if (in_string) {
            if (escaped)
                escaped = 0;
            else if (c == '\\')
                escaped = 1;
            else if (c == '"')
                in_string = 0;
            continue;
        }
        if (c == '"') {
            in_string = 1;
        } else if (c == '{' || c == '[') {
            if (++depth > max_depth)
                return med_err_set(err, MED_ERR_INVALID, MED_R_EDGE_JSON_TOO_DEEP, NULL,
                                   "JSON nesting deeper than %d levels", max_depth);
        } else if ((c == '}' || c == ']') && depth > 0) {
            depth--;
        }
    }
    return MED_OK;
}

med_rc edge_json_parse(const char *body, size_t len, const edge_json_limits *lim, json_t **out,
                       med_err *err)
{
    *out = NULL;
    if (!lim) lim = &edge_json_default_limits;
    if (len > lim->max_bytes)
        return med_err_set(err, MED_ERR_INVALID, MED_R_EDGE_BODY_TOO_LARGE, NULL,
                           "body of %zu bytes exceeds the limit of %zu bytes", len, lim->max_bytes);
    if (!body || len == 0)
        return med_err_set(err, MED_ERR_INVALID, MED_R_EDGE_JSON_MALFORMED, NULL,
                           "the body is empty; a JSON document is required");
    med_rc rc = edge_json_depth_check(body, len, lim->max_depth, err);
    if (rc != MED_OK) return rc;
    json_error_t jerr;
    /* Duplicate keys are refused: two parsers picking different values for
     * the same key is how validation gets bypassed. */
    json_t *doc = json_loadb(body, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
    if (!doc)
        return med_err_set(err, MED_ERR_INVALID, MED_R_EDGE_JSON_MALFORMED, NULL,
                           "malformed JSON at line %d column %d: %s", jerr.line, jerr.column,
                           jerr.text);
    *out = doc;
    return MED_OK;
}

med_rc edge_json_parse_object(const char *body, size_t len, const edge_json_limits *lim,
                              json_t **out, med_err *err)
{
    med_rc rc = edge_json_parse(body, len, lim, out, err);
    if (rc != MED_OK) return rc;
    if (json_is_object(*out)) return MED_OK;
    json_decref(*out);
    *out = NULL;
    return med_err_set(err, MED_ERR_INVALID, MED_R_EDGE_FIELD_TYPE, NULL,
                       "the body must be a JSON object");
}

/* Walks a dotted path through nested objects; NULL when any step is
 * absent or not an object. */
static const json_t *lookup_path(const json_t *root, const char *path)
{
    const json_t *cur = root;
    const char *p = path;
    while (cur && *p) {
        size_t n = strcspn(p, ".");
        char key[EDGE_PATH_SEGMENT_MAX];
        if (n == 0 || n >= sizeof key || !json_is_object(cur)) return NULL;
        memcpy(key, p, n);
        key[n] = '\0';
        cur = json_object_get(cur, key);
        p += n;
        if (*p == '.') p++;
    }
    return cur;
}

static int type_matches(const json_t *v, edge_jtype t)
{
    switch (t) {
    case EDGE_JT_STRING: return json_is_string(v);
    case EDGE_JT_OBJECT: return json_is_object(v);
    case EDGE_JT_ARRAY: return json_is_array(v);
    case EDGE_JT_NUMBER: return json_is_number(v);
    case EDGE_JT_INTEGER: return json_is_integer(v);
    case EDGE_JT_BOOLEAN: return json_is_boolean(v);
    }
    return 0;
}

static const char *type_name(edge_jtype t)
{
    switch (t) {
    case EDGE_JT_STRING: return "a string";
    case EDGE_JT_OBJECT: return "an object";
    case EDGE_JT_ARRAY: return "an array";
    case EDGE_JT_NUMBER: return "a number";
    case EDGE_JT_INTEGER: return "an integer";
    case EDGE_JT_BOOLEAN: return "a boolean";
    }
    return "?";
}

med_rc edge_json_check_fields(const json_t *root, const edge_field_rule *rules, size_t n,
                              med_err *err)
{
    for (size_t i = 0; i < n; i++) {
        const json_t *v = lookup_path(root, rules[i].path);
        /* null reads as absent: clients serialize unset fields either way. */
        if (!v || json_is_null(v)) {
            if (!rules[i].required) continue;
            return med_err_set(err, MED_ERR_INVALID, MED_R_EDGE_FIELD_MISSING, rules[i].path,
                               "%s is required", rules[i].path);
        }
        if (!type_matches(v, rules[i].type))
            return med_err_set(err, MED_ERR_INVALID, MED_R_EDGE_FIELD_TYPE, rules[i].path,
                               "%s must be %s", rules[i].path, type_name(rules[i].type));
    }
    return MED_OK;
}

int edge_id_valid(const char *s)
{
    if (!s) return 0;
    size_t n = 0;
    for (; s[n]; n++) {
        unsigned char c = (unsigned char)s[n];
        if (c <= 0x20 || c >= 0x7f || n >= EDGE_ID_MAX_LEN) return 0;
    }
    return n > 0;
}

static const edge_field_rule k_opportunity_rules[] = {
    { "placementId", EDGE_JT_STRING, 1 },
    { "appContext", EDGE_JT_OBJECT, 1 },
    { "appContext.appId", EDGE_JT_STRING, 1 },
    { "triggerContext", EDGE_JT_OBJECT, 1 },
};

static med_rc id_field(const json_t *root, const char *path, const char **out, med_err *err)
{
    const char *s = json_string_value(lookup_path(root, path));
    if (!edge_id_valid(s))
        return med_err_set(err, MED_ERR_INVALID, MED_R_EDGE_FIELD_INVALID, path,
                           "%s must be 1..%d printable characters without spaces", path,
                           EDGE_ID_MAX_LEN);
    *out = s;
    return MED_OK;
}

med_rc edge_opportunity_check(const json_t *root, edge_opportunity_view *out, med_err *err)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(root))
        return med_err_set(err, MED_ERR_INVALID, MED_R_EDGE_FIELD_TYPE, NULL,
                           "the body must be a JSON object");
    med_rc rc = edge_json_check_fields(
        root, k_opportunity_rules, sizeof k_opportunity_rules / sizeof k_opportunity_rules[0], err);
    if (rc == MED_OK) rc = id_field(root, "placementId", &out->placement_id, err);
    if (rc == MED_OK) rc = id_field(root, "appContext.appId", &out->app_id, err);
    return rc;
}

med_rc edge_opportunity_validate(const char *body, size_t len, const edge_json_limits *lim,
                                 json_t **root, edge_opportunity_view *out, med_err *err)
{
    if (root) *root = NULL;
    json_t *doc = NULL;
    med_rc rc = edge_json_parse_object(body, len, lim, &doc, err);
    if (rc == MED_OK) rc = edge_opportunity_check(doc, out, err);
    if (rc == MED_OK && root) {
        *root = doc;
        return MED_OK;
    }
    /* Without the document the view's pointers would dangle. */
    if (rc == MED_OK) memset(out, 0, sizeof *out);
    json_decref(doc);
    return rc;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c = (char)tolower((unsigned char)c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

med_rc edge_query_check(const char *q, size_t len, med_err *err)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)q[i];
        if (c < 0x20 || c == 0x7f)
            return med_err_set(err, MED_ERR_INVALID, MED_R_EDGE_QUERY_MALFORMED, NULL,
                               "control character in the query string");
        if (c != '%') continue;
        int hi = i + 2 < len ? hex_value(q[i + 1]) : -1;
        int lo = hi >= 0 ? hex_value(q[i + 2]) : -1;
        if (lo < 0)
            return med_err_set(err, MED_ERR_INVALID, MED_R_EDGE_QUERY_MALFORMED, NULL,
                               "bad percent escape in the query string");
        if (hi == 0 && lo == 0)
            return med_err_set(err, MED_ERR_INVALID, MED_R_EDGE_QUERY_MALFORMED, NULL,
                               "NUL byte in the query string");
        i += 2;
    }
    return MED_OK;
}
