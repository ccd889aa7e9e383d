/* Test keys are generated per run so no private key lives in the tree. */
#include "auth_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "med/b64url.h"
#include "med/jwt_sign.h"

static char *jwks_of(EVP_PKEY *a, const char *kid_a, EVP_PKEY *b, const char *kid_b)
{
    json_t *keys = json_array();
    json_t *jwk = NULL;
    assert_int_equal(med_jwk_public(a, kid_a, &jwk, NULL), MED_OK);
    json_array_append_new(keys, jwk);
    if (b) {
        assert_int_equal(med_jwk_public(b, kid_b, &jwk, NULL), MED_OK);
        json_array_append_new(keys, jwk);
    }
    json_t *doc = json_pack("{s:o}", "keys", keys);
    char *txt = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    assert_non_null(txt);
    return txt;
}

int fx_setup(void **state)
{
    fx_keys *k = calloc(1, sizeof *k);
    assert_non_null(k);
    k->rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    k->rsa2 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    k->ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    assert_true(k->rsa && k->rsa2 && k->ec);
    char *txt = jwks_of(k->rsa, FX_KID_RSA, k->ec, FX_KID_EC);
    assert_int_equal(med_jwks_parse(txt, strlen(txt), &k->set, NULL), MED_OK);
    free(txt);
    *state = k;
    return 0;
}

int fx_teardown(void **state)
{
    fx_keys *k = *state;
    med_jwks_free(k->set);
    EVP_PKEY_free(k->rsa);
    EVP_PKEY_free(k->rsa2);
    EVP_PKEY_free(k->ec);
    free(k);
    return 0;
}

json_t *fx_claims(void)
{
    json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:[s], s:[s], s:[s]}",
                          "iss", FX_ISS, "aud", FX_AUD, "sub", "key_demo", "tenant", "t1",
                          "role", "sdk", "iat", (json_int_t)FX_NOW, "nbf", (json_int_t)FX_NOW,
                          "exp", (json_int_t)(FX_NOW + 3600), "envs", "prod", "apps",
                          "app_demo", "placements", "*");
    assert_non_null(c);
    return c;
}

char *fx_mint(EVP_PKEY *key, const char *kid, json_t *claims)
{
    char *tok = NULL;
    med_err e;
    assert_int_equal(med_jwt_sign(key, kid, claims, &tok, &e), MED_OK);
    json_decref(claims);
    return tok;
}

char *fx_jwks_json(EVP_PKEY *key, const char *kid)
{
    return jwks_of(key, kid, NULL, NULL);
}

char *fx_b64(const char *text)
{
    size_t n = strlen(text), cap = med_b64url_encoded_len(n) + 1;
    char *out = malloc(cap);
    assert_non_null(out);
    assert_true(med_b64url_encode((const uint8_t *)text, n, out, cap) >= 0);
    return out;
}
