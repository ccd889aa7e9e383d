/* H.4 publish pipeline: the pure rules (h_publish_rules.c, unit-tested
 * without servers), the request handler (h_publish.c, h_service.h) and the
 * ConfigChanged outbox relay (h_publish_outbox.c). */
#ifndef H_PUBLISH_H
#define H_PUBLISH_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include "med/err.h"
#include "med/js.h"
#include "med/pg.h"

#define H_PUB_VER_MAX 128
#define H_PUB_ID_MAX 128
#define H_PUB_SKEW_MS 10000          /* H.4 step 4 clock skew */
#define H_PUB_IDEM_WINDOW_SEC 86400  /* H.4 idempotency window */
#define H_PUB_SCOPE "h_publish"      /* idempotency_keys.scope */
#define H_PLATFORM_TENANT "_platform"

typedef struct h_versions {
    char schema[H_PUB_VER_MAX];
    char routing[H_PUB_VER_MAX];
    char placement[H_PUB_VER_MAX];
} h_versions;

/* A parsed publish body. String pointers borrow from body (NULL = absent). */
typedef struct h_pub_req {
    json_t *body;
    const char *request_id, *operator_id, *environment, *action_type;
    const char *target_scope, *target_key, *change_set_id, *publish_at;
    const char *contract_version, *idem_key, *reason;
    int dry_run;
    int64_t publish_at_ms;
    h_versions base, target;      /* target = targetVersionSnapshot or rollbackTo */
    json_t *change_set;           /* borrowed; NULL for a rollback */
    json_t *approval;             /* borrowed; NULL when absent */
    char app_id[H_PUB_ID_MAX];
    char placement_id[H_PUB_ID_MAX];
} h_pub_req;

/* The caller as the edge built it from the token (06 section 4). */
typedef struct h_pub_auth {
    const char *actor_id;
    const char *authority;        /* config_admin | app_operator | placement_operator | read_only */
    const char *principal_role;   /* publisher | reviewer | admin | ... */
    int64_t issued_ms, expires_ms;
    char *const *envs;
    size_t n_envs;
    char *const *apps;
    size_t n_apps;
    char *const *placements;
    size_t n_placements;
} h_pub_auth;

/* Step 1: parses the JSON body and checks fields, enums and the targetKey
 * shape. On failure h_publish_validation_failed naming the field. */
med_rc h_pub_parse(const char *json, size_t len, h_pub_req *out, med_err *err);
void h_pub_req_free(h_pub_req *r);
int h_pub_is_rollback(const h_pub_req *r);
/* The tenant that owns the unit's rows: _platform for the global layer. */
const char *h_pub_unit_tenant(const h_pub_req *r, const char *tenant);
/* environment|targetScope|targetKey */
void h_pub_release_unit(const h_pub_req *r, char *out, size_t cap);

/* RFC 3339 UTC/offset text -> unix ms; 0 on success. */
int h_parse_utc_ms(const char *s, int64_t *out);

/* H.4 idempotency key and payload hash (sha256 hex over JCS). */
med_rc h_pub_idem_key(const h_pub_req *r, char out[65], med_err *err);
med_rc h_pub_payload_hash(const h_pub_req *r, char out[65], med_err *err);

/* Steps 3-6. */
med_rc h_pub_check_operator(const h_pub_req *r, const h_pub_auth *a, med_err *err);
med_rc h_pub_check_auth_window(const h_pub_req *r, const h_pub_auth *a, int64_t now_ms,
                               med_err *err);
med_rc h_pub_check_role(const h_pub_req *r, const h_pub_auth *a, med_err *err);
med_rc h_pub_check_scope(const h_pub_req *r, const h_pub_auth *a, med_err *err);

/* Step 7 (pure part): each document against its kind, the layer's refs. */
med_rc h_pub_check_document(const json_t *doc, size_t index, med_err *err);
med_rc h_pub_check_change_set(const h_pub_req *r, med_err *err);

/* The H.4 state machine: 1 when from -> to is allowed. */
int h_pub_transition_ok(const char *from, const char *to);
/* HTTP status of a publish outcome code. */
int h_pub_http_status(const char *code);
int h_pub_code_retryable(const char *code);
int h_versions_equal(const h_versions *a, const h_versions *b);

/* Outbox relay (h_publish_outbox.c): publishes pending ConfigChanged rows
 * of every tenant on med.h.config.v1 (Nats-Msg-Id = publishOperationId)
 * and marks them sent. *sent (optional) counts them. */
med_rc h_outbox_drain(med_pg *pg, med_js *js, int *sent, med_err *err);
/* The same for one operation of one tenant, right after its commit. */
med_rc h_outbox_send_one(med_pg *pg, med_js *js, const char *tenant, const char *op_id,
                         med_err *err);

#endif
