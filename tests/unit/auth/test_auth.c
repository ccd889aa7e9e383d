/* authContextLite from claims, role and scope checks, bearer parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "auth_fixture.h"
#include "med/auth.h"
#include "med/reason.h"

static void context_of(fx_keys *k, json_t *claims, med_auth_context *ctx)
{
    char *tok = fx_mint(k->rsa, FX_KID_RSA, claims);
    med_jwt_expect x = { FX_ISS, FX_AUD, FX_NOW, MED_JWT_LEEWAY_S };
    med_jwt_claims c;
    med_err e;
    assert_int_equal(med_jwt_verify(tok, strlen(tok), k->set, &x, &c, &e), MED_OK);
    assert_int_equal(med_auth_context_build(&c, ctx, &e), MED_OK);
    free(tok);
}

static void test_context_from_claims(void **state)
{
    fx_keys *k = *state;
    json_t *c = fx_claims();
    json_object_set_new(c, "authority", json_string("app_operator"));
    med_auth_context ctx;
    context_of(k, c, &ctx);
    assert_string_equal(ctx.actor_id, "key_demo");
    assert_string_equal(ctx.tenant, "t1");
    assert_string_equal(ctx.role, "app_operator");
    assert_string_equal(ctx.principal_role, "sdk");
    assert_string_equal(ctx.auth_method, "token");
    assert_int_equal(ctx.issued_at_unix_ms, FX_NOW * 1000);
    assert_int_equal(ctx.expires_at_unix_ms, (FX_NOW + 3600) * 1000);
    med_auth_proto p;
    med_auth_context_to_proto(&ctx, &p);
    assert_string_equal(p.msg.actor_id, "key_demo");
    assert_string_equal(p.msg.tenant_id, "t1");
    assert_string_equal(p.msg.principal_role, "sdk");
    assert_string_equal(p.msg.issuer, FX_ISS);
    assert_int_equal(p.msg.scope_bindings->n_app_ids, 1);
    assert_string_equal(p.msg.scope_bindings->app_ids[0], "app_demo");
    assert_string_equal(p.msg.scope_bindings->environments[0], "prod");
    /* It must pack: the edge sends it to stage A. */
    size_t n = mediation__v1__auth_context_lite__get_packed_size(&p.msg);
    uint8_t *buf = malloc(n);
    assert_non_null(buf);
    assert_int_equal(mediation__v1__auth_context_lite__pack(&p.msg, buf), n);
    Mediation__V1__AuthContextLite *back =
        mediation__v1__auth_context_lite__unpack(NULL, n, buf);
    assert_non_null(back);
    assert_string_equal(back->role, "app_operator");
    mediation__v1__auth_context_lite__free_unpacked(back, NULL);
    free(buf);
}

static void test_require_role(void **state)
{
    fx_keys *k = *state;
    med_auth_context ctx;
    context_of(k, fx_claims(), &ctx);
    med_err e;
    assert_int_equal(med_auth_require_role(&ctx, MED_ROLE_SDK, &e), MED_OK);
    assert_int_equal(med_auth_require_role(&ctx, MED_ROLE_SDK | MED_ROLE_ADMIN, &e), MED_OK);
    assert_int_equal(med_auth_require_role(&ctx, MED_ROLE_REVIEWER | MED_ROLE_ADMIN, &e),
                     MED_ERR_INVALID);
    assert_string_equal(e.code, MED_R_AUTH_FORBIDDEN);
    assert_int_equal(med_auth_require_role(NULL, MED_ROLE_SDK, &e), MED_ERR_INVALID);
}

static void test_scope_covers(void **state)
{
    fx_keys *k = *state;
    med_auth_context ctx;
    context_of(k, fx_claims(), &ctx); /* envs [prod], apps [app_demo], placements [*] */
    med_err e;
    assert_int_equal(med_auth_scope_covers(&ctx, "prod", "app_demo", "plc_any", &e), MED_OK);
    assert_int_equal(med_auth_scope_covers(&ctx, NULL, "app_demo", NULL, &e), MED_OK);
    assert_int_equal(med_auth_scope_covers(&ctx, NULL, "app_other", NULL, &e), MED_ERR_INVALID);
    assert_string_equal(e.code, MED_R_AUTH_FORBIDDEN);
    assert_string_equal(e.field, "appContext.appId");
    assert_int_equal(med_auth_scope_covers(&ctx, "staging", NULL, NULL, &e), MED_ERR_INVALID);
    json_t *c = fx_claims();
    json_object_set_new(c, "apps", json_pack("[s]", "*"));
    json_object_del(c, "placements");
    context_of(k, c, &ctx);
    assert_int_equal(med_auth_scope_covers(&ctx, NULL, "anything", NULL, &e), MED_OK);
    /* No binding at all covers nothing. */
    assert_int_equal(med_auth_scope_covers(&ctx, NULL, NULL, "plc_feed", &e), MED_ERR_INVALID);
}

static void test_verify_bearer(void **state)
{
    fx_keys *k = *state;
    char dir[] = "/tmp/med_auth_XXXXXX", path[128];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/jwks.json", dir);
    char *set = fx_jwks_json(k->rsa, FX_KID_RSA);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(set, f);
    fclose(f);
    free(set);
    med_auth_verifier *v = NULL;
    med_err e;
    assert_int_equal(med_auth_verifier_new(path, FX_ISS, FX_AUD, MED_JWKS_REQUIRED, &v, &e), MED_OK);
    char *tok = fx_mint(k->rsa, FX_KID_RSA, fx_claims());
    char hdr[MED_JWT_TOKEN_MAX + 32];
    med_auth_context ctx;
    int64_t now_ms = FX_NOW * 1000;
    snprintf(hdr, sizeof hdr, "bearer   %s ", tok);
    assert_int_equal(med_auth_verify_bearer(v, hdr, strlen(hdr), now_ms, &ctx, &e), MED_OK);
    assert_string_equal(ctx.tenant, "t1");
    const char *bad[] = { "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", tok };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(med_auth_verify_bearer(v, bad[i], strlen(bad[i]), now_ms, &ctx, &e),
                         MED_ERR_INVALID);
        assert_string_equal(e.code, MED_R_AUTH_TOKEN_INVALID);
    }
    assert_int_equal(med_auth_verify_bearer(v, NULL, 0, now_ms, &ctx, &e), MED_ERR_INVALID);
    med_auth_verifier *none = NULL;
    assert_int_not_equal(med_auth_verifier_new(path, "", FX_AUD, MED_JWKS_REQUIRED, &none, &e), MED_OK);
    assert_null(none);
    med_auth_verifier_free(v);
    free(tok);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_context_from_claims),
        cmocka_unit_test(test_require_role),
        cmocka_unit_test(test_scope_covers),
        cmocka_unit_test(test_verify_bearer),
    };
    return cmocka_run_group_tests(tests, fx_setup, fx_teardown);
}
