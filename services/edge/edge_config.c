/* Edge settings (see edge_config.h). Defaults per APP_ENV live in
 * common/src/config.c; the fallbacks here only cover a key reading as 0. */
#include "edge_config.h"

#include <stdio.h>
#include <string.h>

#include "edge_json.h"
#include "med/reason.h"

static void copy_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

static med_rc load_auth(const med_config *cfg, edge_config *out, med_err *err)
{
    copy_str(out->jwks_path, sizeof out->jwks_path, med_config_str(cfg, "JWKS_PATH"));
    copy_str(out->jwt_issuer, sizeof out->jwt_issuer, med_config_str(cfg, "JWT_ISSUER"));
    copy_str(out->jwt_audience, sizeof out->jwt_audience, med_config_str(cfg, "JWT_AUDIENCE"));
    if (!out->auth_enabled) return MED_OK;
    med_jwks_open_mode mode =
        med_config_env(cfg) == MED_ENV_PROD ? MED_JWKS_REQUIRED : MED_JWKS_MAY_WAIT;
    return med_auth_verifier_new(out->jwks_path, out->jwt_issuer, out->jwt_audience, mode,
                                 &out->verifier, err);
}

med_rc edge_config_load(const med_config *cfg, edge_config *out, med_err *err)
{
    memset(out, 0, sizeof *out);
    copy_str(out->host, sizeof out->host, med_config_str(cfg, "EDGE_HTTP_HOST"));
    out->port = (int)med_config_int(cfg, "EDGE_HTTP_PORT");
    int64_t limit = med_config_int(cfg, "EDGE_BODY_LIMIT_BYTES");
    out->body_limit = limit > 0 ? (size_t)limit : EDGE_BODY_LIMIT_DEFAULT;
    int64_t depth = med_config_int(cfg, "EDGE_JSON_MAX_DEPTH");
    out->json_max_depth = depth > 0 ? (int)depth : EDGE_JSON_MAX_DEPTH_DEFAULT;
    /* The config environment (prod | staging), not APP_ENV: a ci or dev
     * deployment serves the config published for one of them. */
    const char *cenv = med_config_str(cfg, "CONFIG_ENVIRONMENT");
    copy_str(out->environment, sizeof out->environment, cenv && *cenv ? cenv : "prod");
    int64_t timeout = med_config_int(cfg, "EDGE_REQUEST_TIMEOUT_MS");
    out->request_timeout_ms = timeout > 0 ? (int)timeout : EDGE_TIMEOUT_DEFAULT_MS;
    timeout = med_config_int(cfg, "EDGE_EVENTS_TIMEOUT_MS");
    out->events_timeout_ms = timeout > 0 ? (int)timeout : EDGE_EVENTS_TIMEOUT_DEFAULT_MS;
    timeout = med_config_int(cfg, "EDGE_QUERY_TIMEOUT_MS");
    out->query_timeout_ms = timeout > 0 ? (int)timeout : EDGE_QUERY_TIMEOUT_DEFAULT_MS;
    out->auth_enabled = med_config_bool(cfg, "AUTH_ENABLED");
    copy_str(out->dev_tenant, sizeof out->dev_tenant, med_config_str(cfg, "EDGE_DEV_TENANT"));
    out->tls_enabled = med_config_bool(cfg, "EDGE_TLS_ENABLED");
    copy_str(out->tls_cert, sizeof out->tls_cert, med_config_str(cfg, "EDGE_TLS_CERT_FILE"));
    copy_str(out->tls_key, sizeof out->tls_key, med_config_str(cfg, "EDGE_TLS_KEY_FILE"));
    if (out->port < 0 || out->port > 65535)
        return med_err_set(err, MED_ERR_INVALID, MED_R_CFG_INVALID_VALUE, "EDGE_HTTP_PORT",
                           "EDGE_HTTP_PORT must be 0..65535");
    if (!out->auth_enabled && !edge_id_valid(out->dev_tenant))
        return med_err_set(err, MED_ERR_INVALID, MED_R_CFG_INVALID_VALUE, "EDGE_DEV_TENANT",
                           "EDGE_DEV_TENANT must name a tenant while AUTH_ENABLED=false");
    if (out->tls_enabled && (!out->tls_cert[0] || !out->tls_key[0]))
        return med_err_set(err, MED_ERR_INVALID, MED_R_CFG_INVALID_VALUE, "EDGE_TLS_CERT_FILE",
                           "EDGE_TLS_ENABLED=true needs EDGE_TLS_CERT_FILE and EDGE_TLS_KEY_FILE");
    return load_auth(cfg, out, err);
}

void edge_config_release(edge_config *c)
{
    if (!c) return;
    med_auth_verifier_free(c->verifier);
    c->verifier = NULL;
}
