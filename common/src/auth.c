/* authContextLite from verified claims, role and scope checks, and the
 * bearer verifier (see med/auth.h). */
#include "med/auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "med/jwks.h"
#include "med/reason.h"

#define MS_PER_S 1000
#define BEARER_PREFIX "bearer "

static const struct {
    const char *name;
    med_role bit;
} k_roles[] = {
    { "sdk", MED_ROLE_SDK },       { "publisher", MED_ROLE_PUBLISHER },
    { "reviewer", MED_ROLE_REVIEWER }, { "admin", MED_ROLE_ADMIN },
    { "service", MED_ROLE_SERVICE },
};

struct med_auth_verifier {
    med_jwks_source *keys;
    char issuer[MED_JWT_STR_MAX];
    char audience[MED_JWT_STR_MAX];
};

static unsigned role_bit(const char *name)
{
    for (size_t i = 0; i < sizeof k_roles / sizeof k_roles[0]; i++)
        if (strcmp(name, k_roles[i].name) == 0) return k_roles[i].bit;
    return 0;
}

med_rc med_auth_context_build(const med_jwt_claims *c, med_auth_context *out, med_err *err)
{
    memset(out, 0, sizeof *out);
    out->principal = role_bit(c->role);
    if (!out->principal || !c->tenant[0] || !c->sub[0])
        return med_err_set(err, MED_ERR_INVALID, MED_R_AUTH_TOKEN_INVALID, NULL,
                           "the token names no actor, tenant or known role");
    snprintf(out->actor_id, sizeof out->actor_id, "%s", c->sub);
    snprintf(out->tenant, sizeof out->tenant, "%s", c->tenant);
    snprintf(out->role, sizeof out->role, "%s", c->authority);
    snprintf(out->principal_role, sizeof out->principal_role, "%s", c->role);
    snprintf(out->auth_method, sizeof out->auth_method, "%s", MED_AUTH_METHOD_TOKEN);
    snprintf(out->issuer, sizeof out->issuer, "%s", c->iss);
    out->issued_at_unix_ms = c->iat * MS_PER_S;
    out->expires_at_unix_ms = c->exp * MS_PER_S;
    out->envs = c->envs;
    out->apps = c->apps;
    out->placements = c->placements;
    return MED_OK;
}

static med_rc forbidden(med_err *err, const char *field, const char *why)
{
    return med_err_set(err, MED_ERR_INVALID, MED_R_AUTH_FORBIDDEN, field,
                       "the token does not allow this: %s", why);
}

med_rc med_auth_require_role(const med_auth_context *ctx, unsigned roles, med_err *err)
{
    if (ctx && (ctx->principal & roles)) return MED_OK;
    return forbidden(err, NULL, "role not permitted on this route");
}

static int binding_covers(const med_jwt_list *l, const char *want)
{
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->v[i], "*") == 0 || strcmp(l->v[i], want) == 0) return 1;
    return 0;
}

med_rc med_auth_scope_covers(const med_auth_context *ctx, const char *env, const char *app,
                             const char *placement, med_err *err)
{
    if (!ctx) return forbidden(err, NULL, "no identity");
    if (env && !binding_covers(&ctx->envs, env))
        return forbidden(err, NULL, "environment outside the token's envs");
    if (app && !binding_covers(&ctx->apps, app))
        return forbidden(err, "appContext.appId", "app outside the token's apps");
    if (placement && !binding_covers(&ctx->placements, placement))
        return forbidden(err, "placementId", "placement outside the token's placements");
    return MED_OK;
}

static void list_to_proto(const med_jwt_list *l, char **ptrs, char ***arr, size_t *n)
{
    for (int i = 0; i < l->n; i++) ptrs[i] = (char *)l->v[i];
    *arr = ptrs;
    *n = (size_t)l->n;
}

void med_auth_context_to_proto(const med_auth_context *ctx, med_auth_proto *out)
{
    mediation__v1__auth_context_lite__init(&out->msg);
    mediation__v1__scope_bindings__init(&out->scope);
    list_to_proto(&ctx->envs, out->envs, &out->scope.environments, &out->scope.n_environments);
    list_to_proto(&ctx->apps, out->apps, &out->scope.app_ids, &out->scope.n_app_ids);
    list_to_proto(&ctx->placements, out->placements, &out->scope.placement_ids,
                  &out->scope.n_placement_ids);
    out->msg.actor_id = (char *)ctx->actor_id;
    out->msg.role = (char *)ctx->role;
    out->msg.auth_method = (char *)ctx->auth_method;
    out->msg.issued_at_unix_ms = ctx->issued_at_unix_ms;
    out->msg.expires_at_unix_ms = ctx->expires_at_unix_ms;
    out->msg.scope_bindings = &out->scope;
    out->msg.auth_context_version = (char *)MED_AUTH_CONTEXT_VERSION;
    out->msg.principal_role = (char *)ctx->principal_role;
    out->msg.tenant_id = (char *)ctx->tenant;
    out->msg.issuer = (char *)ctx->issuer;
}

/* ---- bearer verifier ---------------------------------------------------- */

med_rc med_auth_verifier_new(const char *jwks_path, const char *issuer, const char *audience,
                             med_jwks_open_mode mode, med_auth_verifier **out, med_err *err)
{
    *out = NULL;
    const char *missing = (!jwks_path || !jwks_path[0]) ? "JWKS_PATH"
                          : (!issuer || !issuer[0])     ? "JWT_ISSUER"
                          : (!audience || !audience[0]) ? "JWT_AUDIENCE"
                                                        : NULL;
    if (missing)
        return med_err_set(err, MED_ERR_INVALID, MED_R_CFG_INVALID_VALUE, missing,
                           "token verification needs JWKS_PATH, JWT_ISSUER and JWT_AUDIENCE");
    med_auth_verifier *v = calloc(1, sizeof *v);
    if (!v) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "auth verifier");
    snprintf(v->issuer, sizeof v->issuer, "%s", issuer);
    snprintf(v->audience, sizeof v->audience, "%s", audience);
    med_rc rc = med_jwks_source_open(jwks_path, mode, &v->keys, err);
    if (rc != MED_OK) {
        free(v);
        return rc;
    }
    *out = v;
    return MED_OK;
}

void med_auth_verifier_free(med_auth_verifier *v)
{
    if (!v) return;
    med_jwks_source_free(v->keys);
    free(v);
}

/* The token inside "Bearer <token>", surrounding spaces trimmed. */
static int bearer_token(const char *h, size_t len, const char **tok, size_t *tok_len)
{
    size_t plen = sizeof BEARER_PREFIX - 1;
    if (!h || len <= plen || strncasecmp(h, BEARER_PREFIX, plen) != 0) return -1;
    const char *s = h + plen, *e = h + len;
    while (s < e && *s == ' ') s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t')) e--;
    if (s == e) return -1;
    *tok = s;
    *tok_len = (size_t)(e - s);
    return 0;
}

med_rc med_auth_verify_bearer(med_auth_verifier *v, const char *authorization, size_t len,
                              int64_t now_ms, med_auth_context *out, med_err *err)
{
    memset(out, 0, sizeof *out);
    const char *tok = NULL;
    size_t tok_len = 0;
    if (bearer_token(authorization, len, &tok, &tok_len) != 0)
        return med_err_set(err, MED_ERR_INVALID, MED_R_AUTH_TOKEN_INVALID, NULL,
                           "an Authorization: Bearer token is required");
    med_jwt_expect x = { v->issuer, v->audience, now_ms / MS_PER_S, MED_JWT_LEEWAY_S };
    med_jwt_claims c;
    med_rc rc = med_jwt_verify(tok, tok_len, med_jwks_source_get(v->keys, now_ms), &x, &c, err);
    return rc == MED_OK ? med_auth_context_build(&c, out, err) : rc;
}
