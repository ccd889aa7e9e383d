/* The caller's identity after token verification (06 section 4): the
 * authContextLite every stage sees, the checks routes make on it, and the
 * bearer-token verifier the edge runs.
 *
 * Failures: a missing or unverifiable token -> auth_token_invalid /
 * auth_signature_mismatch (401); a valid token without the role or scope
 * -> auth_forbidden (403). */
#ifndef MED_AUTH_H
#define MED_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "med/err.h"
#include "med/jwks.h"
#include "med/jwt.h"
#include "mediation/v1/common.pb-c.h"

#define MED_AUTH_METHOD_TOKEN "token"
#define MED_AUTH_CONTEXT_VERSION "v1"

/* Principal roles (token `role`), as a bit set for med_auth_require_role. */
typedef enum med_role {
    MED_ROLE_SDK = 1u << 0,
    MED_ROLE_PUBLISHER = 1u << 1,
    MED_ROLE_REVIEWER = 1u << 2,
    MED_ROLE_ADMIN = 1u << 3,
    MED_ROLE_SERVICE = 1u << 4,
} med_role;

typedef struct med_auth_context {
    char actor_id[MED_JWT_STR_MAX];  /* sub */
    char tenant[MED_JWT_STR_MAX];    /* tenant: the only source of tenant_id */
    char role[32];                   /* authority ("" when the token has none) */
    char principal_role[16];         /* role */
    char auth_method[16];            /* "token" */
    char issuer[MED_JWT_STR_MAX];
    unsigned principal;              /* med_role bit of principal_role */
    int64_t issued_at_unix_ms;       /* iat (0 when absent) */
    int64_t expires_at_unix_ms;      /* exp */
    med_jwt_list envs, apps, placements;
} med_auth_context;

/* From verified claims (med_jwt_verify). */
med_rc med_auth_context_build(const med_jwt_claims *c, med_auth_context *out, med_err *err);
/* MED_OK when the principal role is one of roles (a med_role bit set);
 * otherwise auth_forbidden. */
med_rc med_auth_require_role(const med_auth_context *ctx, unsigned roles, med_err *err);
/* MED_OK when every non-NULL argument is inside its binding (a binding
 * containing "*" covers anything; an absent binding covers nothing);
 * otherwise auth_forbidden naming the first uncovered one. */
med_rc med_auth_scope_covers(const med_auth_context *ctx, const char *env, const char *app,
                             const char *placement, med_err *err);

/* The protobuf AuthContextLite of ctx, without allocation: strings point
 * into ctx, which must outlive msg. */
typedef struct med_auth_proto {
    Mediation__V1__AuthContextLite msg;
    Mediation__V1__ScopeBindings scope;
    char *envs[MED_JWT_LIST_MAX], *apps[MED_JWT_LIST_MAX], *placements[MED_JWT_LIST_MAX];
} med_auth_proto;
void med_auth_context_to_proto(const med_auth_context *ctx, med_auth_proto *out);

/* ---- bearer verification for HTTP edges --------------------------------- */

typedef struct med_auth_verifier med_auth_verifier;

/* Opens the JWKS (see med_jwks_source_open for mode): prod passes
 * MED_JWKS_REQUIRED so a missing key file refuses start-up. */
med_rc med_auth_verifier_new(const char *jwks_path, const char *issuer, const char *audience,
                             med_jwks_open_mode mode, med_auth_verifier **out, med_err *err);
void med_auth_verifier_free(med_auth_verifier *v);
/* authorization: the Authorization header value (NULL when absent);
 * "Bearer <jwt>" with the scheme case-insensitive. now_ms: Unix ms (the
 * JWKS re-check uses it too). One thread at a time. */
med_rc med_auth_verify_bearer(med_auth_verifier *v, const char *authorization, size_t len,
                              int64_t now_ms, med_auth_context *out, med_err *err);

#endif
