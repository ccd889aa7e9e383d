/* Config route messages (see edge_config_msg.h). */
#include "edge_config_msg.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "med/ids.h"
#include "med/reason.h"
#include "mediation/v1/config.pb-c.h"

#define PARAM_MAX 512
#define MAP_MAX_ENTRIES 64
#define NA "NA"
/* The oneof cases that mark an xxxOrNA field present (decisions 15). */
#define INM_SET MEDIATION__V1__CONFIG_GET_REQUEST__IF_NONE_MATCH_OPT_IF_NONE_MATCH
#define TRACE_KEY_SET MEDIATION__V1__CONFIG_GET_REQUEST__TRACE_KEY_OR_NA_OPT_TRACE_KEY_OR_NA
#define EXPECTED_SET \
    MEDIATION__V1__CONFIG_GET_REQUEST__EXPECTED_CONFIG_VERSION_OR_NA_OPT_EXPECTED_CONFIG_VERSION_OR_NA

/* ---- query parameters --------------------------------------------------- */

static int hex_val(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int decode_into(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '+') c = ' ';
        else if (c == '%') {
            if (i + 2 >= n) return -1;
            int hi = hex_val(s[i + 1]), lo = hex_val(s[i + 2]);
            if (hi < 0 || lo < 0) return -1;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0' || o + 1 >= cap) return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return 1;
}

int edge_cfg_query_param(const char *q, size_t qlen, const char *name, char *out, size_t cap)
{
    size_t nlen = strlen(name), i = 0;
    while (q && i < qlen) {
        const char *amp = memchr(q + i, '&', qlen - i);
        size_t end = amp ? (size_t)(amp - q) : qlen;
        const char *eq = memchr(q + i, '=', end - i);
        size_t klen = eq ? (size_t)(eq - (q + i)) : end - i;
        if (klen == nlen && memcmp(q + i, name, nlen) == 0) {
            const char *v = eq ? eq + 1 : q + end;
            return decode_into(v, (size_t)(q + end - v), out, cap);
        }
        i = end + 1;
    }
    return 0;
}

/* ---- adapterVersionMapOrNA ---------------------------------------------- */

typedef Mediation__V1__ConfigGetRequest__AdapterVersionMapOrNaEntry map_entry;

/* Splits "a:1.0.0,b:2.0.0" in place; NULL-free entries point into s. */
static int parse_map(char *s, map_entry *es, map_entry **ptrs, size_t *n)
{
    *n = 0;
    if (!*s || strcmp(s, NA) == 0) return 0;
    for (char *save = NULL, *tok = strtok_r(s, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(tok, ':');
        if (!colon || colon == tok || !colon[1] || *n >= MAP_MAX_ENTRIES) return -1;
        *colon = '\0';
        map_entry init = MEDIATION__V1__CONFIG_GET_REQUEST__ADAPTER_VERSION_MAP_OR_NA_ENTRY__INIT;
        es[*n] = init;
        es[*n].key = tok;
        es[*n].value = colon + 1;
        ptrs[*n] = &es[*n];
        (*n)++;
    }
    return 0;
}

int edge_cfg_adapter_map_valid(const char *s)
{
    char buf[PARAM_MAX];
    if (snprintf(buf, sizeof buf, "%s", s) >= (int)sizeof buf) return -1;
    map_entry es[MAP_MAX_ENTRIES];
    map_entry *ptrs[MAP_MAX_ENTRIES];
    size_t n;
    return parse_map(buf, es, ptrs, &n);
}

/* ---- dev identity ------------------------------------------------------- */

void edge_cfg_dev_auth_init(edge_cfg_dev_auth *a, const char *tenant, const char *operator_id,
                            int64_t now_ms)
{
    Mediation__V1__AuthContextLite init = MEDIATION__V1__AUTH_CONTEXT_LITE__INIT;
    Mediation__V1__ScopeBindings sinit = MEDIATION__V1__SCOPE_BINDINGS__INIT;
    a->msg = init;
    a->scope = sinit;
    a->any[0] = "*";
    a->scope.n_environments = a->scope.n_app_ids = a->scope.n_placement_ids = 1;
    a->scope.environments = a->scope.app_ids = a->scope.placement_ids = a->any;
    a->msg.actor_id = (char *)operator_id;
    a->msg.role = "config_admin";
    a->msg.principal_role = "admin";
    a->msg.auth_method = EDGE_CFG_DEV_AUTH_METHOD;
    a->msg.issued_at_unix_ms = now_ms - EDGE_CFG_DEV_AUTH_BACKDATE_MS;
    a->msg.expires_at_unix_ms = now_ms + EDGE_CFG_DEV_AUTH_TTL_MS;
    a->msg.scope_bindings = &a->scope;
    a->msg.tenant_id = (char *)tenant;
}

/* ---- requests ----------------------------------------------------------- */

typedef struct get_params {
    char app[PARAM_MAX], placement[PARAM_MAX], env[PARAM_MAX], schema[PARAM_MAX];
    char sdk[PARAM_MAX], at[PARAM_MAX], trace_key[PARAM_MAX], map[PARAM_MAX], expected[PARAM_MAX];
} get_params;

static med_rc read_params(const char *q, size_t qlen, get_params *p, med_err *err)
{
    struct {
        const char *name;
        char *out;
    } all[] = {
        { "appId", p->app },           { "placementId", p->placement },
        { "environment", p->env },     { "schemaVersion", p->schema },
        { "sdkVersion", p->sdk },      { "requestAt", p->at },
        { "traceKeyOrNA", p->trace_key }, { "adapterVersionMapOrNA", p->map },
        { "expectedConfigVersionOrNA", p->expected },
    };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        all[i].out[0] = '\0';
        if (edge_cfg_query_param(q, qlen, all[i].name, all[i].out, PARAM_MAX) < 0)
            return med_err_set(err, MED_ERR_INVALID, MED_R_EDGE_QUERY_MALFORMED, all[i].name,
                               "query parameter %s is malformed or too long", all[i].name);
    }
    return MED_OK;
}

static int present(const char *s)
{
    return *s && strcmp(s, NA) != 0;
}

static med_rc pack_or_nomem(size_t size, uint8_t **out, size_t *len, med_err *err)
{
    *len = size;
    *out = malloc(size ? size : 1);
    return *out ? MED_OK : med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "request");
}

med_rc edge_cfg_get_request(const char *q, size_t qlen, const char *if_none_match,
                            const edge_cfg_caller *who, int64_t now_ms, uint8_t **out,
                            size_t *len, med_err *err)
{
    get_params p;
    med_rc rc = read_params(q, qlen, &p, err);
    if (rc != MED_OK) return rc;
    map_entry es[MAP_MAX_ENTRIES];
    map_entry *ptrs[MAP_MAX_ENTRIES];
    size_t n_map = 0;
    if (parse_map(p.map, es, ptrs, &n_map) != 0)
        return med_err_set(err, MED_ERR_INVALID, MED_R_H_CFG_INVALID_TYPE,
                           "adapterVersionMapOrNA",
                           "adapterVersionMapOrNA must be a:1.0.0,b:2.0.0");
    Mediation__V1__TraceContext tc = MEDIATION__V1__TRACE_CONTEXT__INIT;
    tc.tenant_id = (char *)who->tenant;
    tc.app_id = p.app;
    tc.placement_id = p.placement;
    Mediation__V1__ConfigGetRequest r = MEDIATION__V1__CONFIG_GET_REQUEST__INIT;
    r.trace = &tc;
    r.app_id = p.app;
    r.placement_id = p.placement;
    r.environment = p.env;
    r.schema_version = p.schema;
    r.sdk_version = p.sdk;
    r.request_at = p.at;
    r.tenant_id = (char *)who->tenant;
    r.received_at_unix_ms = now_ms;
    r.n_adapter_version_map_or_na = n_map;
    r.adapter_version_map_or_na = ptrs;
    if (if_none_match) {
        r.if_none_match_opt_case = INM_SET;
        r.if_none_match = (char *)if_none_match;
    }
    if (present(p.trace_key)) {
        r.trace_key_or_na_opt_case = TRACE_KEY_SET;
        r.trace_key_or_na = p.trace_key;
    }
    if (present(p.expected)) {
        r.expected_config_version_or_na_opt_case = EXPECTED_SET;
        r.expected_config_version_or_na = p.expected;
    }
    r.auth = who->auth;
    rc = pack_or_nomem(mediation__v1__config_get_request__get_packed_size(&r), out, len, err);
    if (rc == MED_OK) mediation__v1__config_get_request__pack(&r, *out);
    return rc;
}

med_rc edge_cfg_publish_request(const char *body, size_t blen, const edge_cfg_caller *who,
                                int64_t now_ms, uint8_t **out, size_t *len, med_err *err)
{
    char *text = strndup(body, blen);
    if (!text) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "publish body");
    Mediation__V1__TraceContext tc = MEDIATION__V1__TRACE_CONTEXT__INIT;
    tc.tenant_id = (char *)who->tenant;
    Mediation__V1__ConfigPublishRequest r = MEDIATION__V1__CONFIG_PUBLISH_REQUEST__INIT;
    r.trace = &tc;
    r.tenant_id = (char *)who->tenant;
    r.received_at_unix_ms = now_ms;
    r.body_json = text;
    r.auth_context_lite = who->auth;
    med_rc rc =
        pack_or_nomem(mediation__v1__config_publish_request__get_packed_size(&r), out, len, err);
    if (rc == MED_OK) mediation__v1__config_publish_request__pack(&r, *out);
    free(text);
    return rc;
}

/* ---- replies ------------------------------------------------------------ */

void edge_cfg_answer_free(edge_cfg_answer *a)
{
    free(a->body);
    memset(a, 0, sizeof *a);
}

static med_rc set_body(edge_cfg_answer *a, const char *body, med_err *err)
{
    if (!body || !*body) return MED_OK;
    a->body = strdup(body);
    a->len = strlen(body);
    return a->body ? MED_OK : med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "answer");
}

static med_rc bad_reply(const char *what, med_err *err)
{
    return med_err_set(err, MED_ERR_IO, MED_R_EDGE_INTERNAL, NULL, "%s reply is unusable", what);
}

med_rc edge_cfg_get_answer(const uint8_t *data, size_t len, edge_cfg_answer *a, med_err *err)
{
    memset(a, 0, sizeof *a);
    Mediation__V1__ConfigGetReply *r = mediation__v1__config_get_reply__unpack(NULL, len, data);
    if (!r || r->http_status < 200 || r->http_status > 599) {
        if (r) mediation__v1__config_get_reply__free_unpacked(r, NULL);
        return bad_reply("config", err);
    }
    a->status = r->http_status;
    if ((a->status == 200 || a->status == 304) && r->etag && *r->etag) {
        snprintf(a->etag, sizeof a->etag, "%s", r->etag);
        a->ttl_sec = r->ttl_sec;
    }
    med_rc rc = a->status == 304 ? MED_OK : set_body(a, r->body_json, err);
    mediation__v1__config_get_reply__free_unpacked(r, NULL);
    return rc;
}

med_rc edge_cfg_publish_answer(const uint8_t *data, size_t len, edge_cfg_answer *a,
                               med_err *err)
{
    memset(a, 0, sizeof *a);
    Mediation__V1__ConfigPublishReply *r =
        mediation__v1__config_publish_reply__unpack(NULL, len, data);
    if (!r || r->http_status < 200 || r->http_status > 599 || !r->body_json || !*r->body_json) {
        if (r) mediation__v1__config_publish_reply__free_unpacked(r, NULL);
        return bad_reply("publish", err);
    }
    a->status = r->http_status;
    a->retry_after_sec = r->retry_after_sec;
    med_rc rc = set_body(a, r->body_json, err);
    mediation__v1__config_publish_reply__free_unpacked(r, NULL);
    return rc;
}
