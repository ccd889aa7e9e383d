/* The config routes' messages, without h2o: GET /v1/config query ->
 * ConfigGetRequest, POST /v1/config/publish body -> ConfigPublishRequest,
 * and H's replies -> the HTTP answer (status, ETag, Cache-Control, body). */
#ifndef EDGE_CONFIG_MSG_H
#define EDGE_CONFIG_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "med/err.h"
#include "mediation/v1/common.pb-c.h"

#define EDGE_CFG_ETAG_MAX 80

/* Who is calling, as the edge established it: the tenant and the
 * authContextLite built from the verified token (NULL while auth is off). */
typedef struct edge_cfg_caller {
    const char *tenant;
    Mediation__V1__AuthContextLite *auth;
} edge_cfg_caller;

typedef struct edge_cfg_answer {
    int status;
    char etag[EDGE_CFG_ETAG_MAX];   /* "" = no ETag header */
    int ttl_sec;                    /* Cache-Control max-age when etag is set */
    int retry_after_sec;
    char *body;                     /* owned; NULL = no body (304) */
    size_t len;
} edge_cfg_answer;

/* The identity of a publish while AUTH_ENABLED=false (dev/ci only: prod
 * refuses to start that way). There is no token, so the operator named
 * in the body acts as a config_admin of the dev tenant with every scope,
 * for a short window around now; with auth on this is never used. */
typedef struct edge_cfg_dev_auth {
    Mediation__V1__AuthContextLite msg;
    Mediation__V1__ScopeBindings scope;
    char *any[1];
} edge_cfg_dev_auth;

#define EDGE_CFG_DEV_AUTH_METHOD "none"
#define EDGE_CFG_DEV_AUTH_BACKDATE_MS 60000
#define EDGE_CFG_DEV_AUTH_TTL_MS 300000

/* Strings borrow from tenant and operator_id. */
void edge_cfg_dev_auth_init(edge_cfg_dev_auth *a, const char *tenant, const char *operator_id,
                            int64_t now_ms);

/* Percent-decodes the first value of name in query q ('+' is a space);
 * 1 when present (out set, NUL-terminated), 0 when absent, -1 when too
 * long or badly escaped. */
int edge_cfg_query_param(const char *q, size_t qlen, const char *name, char *out, size_t cap);

/* "a:1.0.0,b:2.0.0" -> pairs; "" or "NA" = none. -1 when malformed. */
int edge_cfg_adapter_map_valid(const char *s);

/* Packed ConfigGetRequest from the query string and If-None-Match (NULL
 * when absent). */
med_rc edge_cfg_get_request(const char *q, size_t qlen, const char *if_none_match,
                            const edge_cfg_caller *who, int64_t now_ms, uint8_t **out,
                            size_t *len, med_err *err);
/* Packed ConfigPublishRequest carrying the raw JSON body. */
med_rc edge_cfg_publish_request(const char *body, size_t blen, const edge_cfg_caller *who,
                                int64_t now_ms, uint8_t **out, size_t *len, med_err *err);

/* H's ConfigGetReply / ConfigPublishReply -> answer; MED_ERR_IO when the
 * reply does not decode or has no status. */
med_rc edge_cfg_get_answer(const uint8_t *data, size_t len, edge_cfg_answer *a, med_err *err);
med_rc edge_cfg_publish_answer(const uint8_t *data, size_t len, edge_cfg_answer *a,
                               med_err *err);
void edge_cfg_answer_free(edge_cfg_answer *a);

#endif
