/* The edge's settings, read once from the service config. */
#ifndef EDGE_CONFIG_H
#define EDGE_CONFIG_H

#include <stddef.h>

#include "med/config.h"
#include "med/err.h"

#define EDGE_TIMEOUT_DEFAULT_MS 3000
#define EDGE_TENANT_MAX 128
#define EDGE_PATH_MAX 512

typedef struct edge_config {
    char host[128];
    int port;
    size_t body_limit;                /* EDGE_BODY_LIMIT_BYTES */
    int json_max_depth;               /* EDGE_JSON_MAX_DEPTH */
    int request_timeout_ms;           /* EDGE_REQUEST_TIMEOUT_MS */
    int auth_enabled;                 /* AUTH_ENABLED */
    char dev_tenant[EDGE_TENANT_MAX]; /* EDGE_DEV_TENANT, used while auth is off */
    int tls_enabled;                  /* EDGE_TLS_ENABLED */
    char tls_cert[EDGE_PATH_MAX];
    char tls_key[EDGE_PATH_MAX];
    char environment[16]; /* APP_ENV name, passed on to A */
} edge_config;

/* Fails (CFG_INVALID_VALUE, field = key) when a value cannot work:
 * auth off without EDGE_DEV_TENANT, TLS on without cert/key. */
med_rc edge_config_load(const med_config *cfg, edge_config *out, med_err *err);

#endif
