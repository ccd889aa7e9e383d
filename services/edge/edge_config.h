/* The edge's settings, read once from the service config. */
#ifndef EDGE_CONFIG_H
#define EDGE_CONFIG_H

#include <stddef.h>

#include "med/auth.h"
#include "med/config.h"
#include "med/err.h"

#define EDGE_TIMEOUT_DEFAULT_MS 3000
#define EDGE_EVENTS_TIMEOUT_DEFAULT_MS 5000
#define EDGE_QUERY_TIMEOUT_DEFAULT_MS 10000
#define EDGE_TENANT_MAX 128
#define EDGE_PATH_MAX 512

typedef struct edge_config {
    char host[128];
    int port;
    size_t body_limit;                /* EDGE_BODY_LIMIT_BYTES */
    int json_max_depth;               /* EDGE_JSON_MAX_DEPTH */
    int request_timeout_ms;           /* EDGE_REQUEST_TIMEOUT_MS */
    int events_timeout_ms;            /* EDGE_EVENTS_TIMEOUT_MS: F's ACK */
    int query_timeout_ms;             /* EDGE_QUERY_TIMEOUT_MS: G's replay/reconciliation */
    int auth_enabled;                 /* AUTH_ENABLED */
    char dev_tenant[EDGE_TENANT_MAX]; /* EDGE_DEV_TENANT, used while auth is off */
    int tls_enabled;                  /* EDGE_TLS_ENABLED */
    char tls_cert[EDGE_PATH_MAX];
    char tls_key[EDGE_PATH_MAX];
    char environment[16]; /* APP_ENV name, passed on to A */
    char jwks_path[EDGE_PATH_MAX];     /* JWKS_PATH */
    char jwt_issuer[EDGE_TENANT_MAX];  /* JWT_ISSUER */
    char jwt_audience[EDGE_TENANT_MAX]; /* JWT_AUDIENCE */
    /* Token verifier, opened by edge_config_load when AUTH_ENABLED=true;
     * owned by the config (copies borrow it), freed by edge_config_release. */
    med_auth_verifier *verifier;
} edge_config;

/* Fails (CFG_INVALID_VALUE, field = key) when a value cannot work:
 * auth off without EDGE_DEV_TENANT, TLS on without cert/key, auth on
 * without JWKS_PATH/JWT_ISSUER/JWT_AUDIENCE, or (prod only) a JWKS file
 * that does not load. In dev/ci the edge may start before the local stack
 * wrote its keys: it refuses every token until the file appears. */
med_rc edge_config_load(const med_config *cfg, edge_config *out, med_err *err);
/* Frees what edge_config_load opened (the verifier). */
void edge_config_release(edge_config *c);

#endif
