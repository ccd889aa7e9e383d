/* JWT verification: algorithms, signatures, claims and their time window. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "auth_fixture.h"
#include "med/b64url.h"
#include "med/jwt.h"
#include "med/reason.h"

static const med_jwt_expect k_expect = { FX_ISS, FX_AUD, FX_NOW, MED_JWT_LEEWAY_S };

/* Verifies tok at now; returns the reason code ("" when accepted). */
static const char *verify_at(fx_keys *k, const char *tok, int64_t now, med_jwt_claims *c)
{
    static med_err e;
    med_jwt_expect x = k_expect;
    x.now_s = now;
    med_jwt_claims local;
    med_err_clear(&e);
    med_rc rc = med_jwt_verify(tok, strlen(tok), k->set, &x, c ? c : &local, &e);
    return rc == MED_OK ? "" : e.code;
}

static const char *verify(fx_keys *k, const char *tok)
{
    return verify_at(k, tok, FX_NOW, NULL);
}

/* Mints a token whose claims are the defaults with one member replaced. */
static char *mint_with(fx_keys *k, const char *name, json_t *value)
{
    json_t *c = fx_claims();
    if (value)
        json_object_set_new(c, name, value);
    else
        json_object_del(c, name);
    return fx_mint(k->rsa, FX_KID_RSA, c);
}

static void expect_code(fx_keys *k, char *tok, const char *code)
{
    assert_string_equal(verify(k, tok), code);
    free(tok);
}

static void test_rs256_valid(void **state)
{
    fx_keys *k = *state;
    char *tok = fx_mint(k->rsa, FX_KID_RSA, fx_claims());
    med_jwt_claims c;
    assert_string_equal(verify_at(k, tok, FX_NOW, &c), "");
    assert_string_equal(c.sub, "key_demo");
    assert_string_equal(c.tenant, "t1");
    assert_string_equal(c.role, "sdk");
    assert_int_equal(c.exp, FX_NOW + 3600);
    assert_int_equal(c.apps.n, 1);
    assert_string_equal(c.apps.v[0], "app_demo");
    assert_string_equal(c.placements.v[0], "*");
    free(tok);
}

static void test_es256_valid(void **state)
{
    fx_keys *k = *state;
    char *tok = fx_mint(k->ec, FX_KID_EC, fx_claims());
    assert_string_equal(verify(k, tok), "");
    free(tok);
}

static void test_tampered_payload(void **state)
{
    fx_keys *k = *state;
    char *tok = fx_mint(k->rsa, FX_KID_RSA, fx_claims());
    json_t *c = fx_claims();
    json_object_set_new(c, "tenant", json_string("t2"));
    char *other = fx_mint(k->rsa, FX_KID_RSA, c);
    /* Splice the other payload under the first signature. */
    char *p1 = strchr(tok, '.'), *s1 = strrchr(tok, '.');
    char *p2 = strchr(other, '.'), *s2 = strrchr(other, '.');
    char forged[MED_JWT_TOKEN_MAX];
    snprintf(forged, sizeof forged, "%.*s%.*s%s", (int)(p1 - tok), tok, (int)(s2 - p2), p2, s1);
    assert_string_equal(verify(k, forged), MED_R_AUTH_SIGNATURE_MISMATCH);
    free(tok);
    free(other);
}

static void test_tampered_es256(void **state)
{
    fx_keys *k = *state;
    char *tok = fx_mint(k->ec, FX_KID_EC, fx_claims());
    char *last = tok + strlen(tok) - 2;
    *last = *last == 'A' ? 'B' : 'A';
    assert_string_equal(verify(k, tok), MED_R_AUTH_SIGNATURE_MISMATCH);
    free(tok);
}

static void test_signed_by_other_key(void **state)
{
    fx_keys *k = *state;
    expect_code(k, fx_mint(k->rsa2, FX_KID_RSA, fx_claims()), MED_R_AUTH_SIGNATURE_MISMATCH);
}

static char *hand_made(const char *header, const char *sig)
{
    char *h = fx_b64(header), *p = fx_b64("{\"iss\":\"med-local\",\"aud\":\"mediation\","
                                          "\"sub\":\"x\",\"tenant\":\"t1\",\"role\":\"admin\","
                                          "\"exp\":1790003600}");
    size_t cap = strlen(h) + strlen(p) + strlen(sig) + 3;
    char *tok = malloc(cap);
    assert_non_null(tok);
    snprintf(tok, cap, "%s.%s.%s", h, p, sig);
    free(h);
    free(p);
    return tok;
}

static void test_alg_none_and_hs256_rejected(void **state)
{
    fx_keys *k = *state;
    expect_code(k, hand_made("{\"alg\":\"none\",\"kid\":\"" FX_KID_RSA "\"}", "AAAA"),
                MED_R_AUTH_TOKEN_INVALID);
    /* An unsigned token: empty third segment. */
    char *h = fx_b64("{\"alg\":\"none\"}"), *p = fx_b64("{\"sub\":\"x\"}");
    char tok[256];
    snprintf(tok, sizeof tok, "%s.%s.", h, p);
    assert_string_equal(verify(k, tok), MED_R_AUTH_TOKEN_INVALID);
    free(h);
    free(p);
    expect_code(k, hand_made("{\"alg\":\"HS256\",\"kid\":\"" FX_KID_RSA "\"}", "c2lnbmF0dXJl"),
                MED_R_AUTH_TOKEN_INVALID);
    expect_code(k, hand_made("{\"alg\":\"RS512\",\"kid\":\"" FX_KID_RSA "\"}", "c2ln"),
                MED_R_AUTH_TOKEN_INVALID);
    expect_code(k, hand_made("{\"kid\":\"" FX_KID_RSA "\"}", "c2ln"), MED_R_AUTH_TOKEN_INVALID);
    expect_code(k, hand_made("{\"alg\":\"RS256\"}", "c2ln"), MED_R_AUTH_TOKEN_INVALID);
    expect_code(k, hand_made("{\"alg\":\"RS256\",\"kid\":\"k\",\"crit\":[\"x\"]}", "c2ln"),
                MED_R_AUTH_TOKEN_INVALID);
}

static void test_alg_key_type_confusion(void **state)
{
    fx_keys *k = *state;
    /* ES256 header naming the RSA kid: no EC key has that kid. */
    expect_code(k, hand_made("{\"alg\":\"ES256\",\"kid\":\"" FX_KID_RSA "\"}", "c2ln"),
                MED_R_AUTH_SIGNATURE_MISMATCH);
}

static void test_wrong_iss_aud(void **state)
{
    fx_keys *k = *state;
    expect_code(k, mint_with(k, "iss", json_string("evil")), MED_R_AUTH_TOKEN_INVALID);
    expect_code(k, mint_with(k, "aud", json_string("other")), MED_R_AUTH_TOKEN_INVALID);
    expect_code(k, mint_with(k, "aud", NULL), MED_R_AUTH_TOKEN_INVALID);
    expect_code(k, mint_with(k, "iss", NULL), MED_R_AUTH_TOKEN_INVALID);
    expect_code(k, mint_with(k, "aud", json_pack("[s,s]", "x", FX_AUD)), "");
    expect_code(k, mint_with(k, "aud", json_pack("[s]", "x")), MED_R_AUTH_TOKEN_INVALID);
}

static void test_time_window(void **state)
{
    fx_keys *k = *state;
    char *tok = fx_mint(k->rsa, FX_KID_RSA, fx_claims());
    int64_t exp = FX_NOW + 3600, leeway = MED_JWT_LEEWAY_S;
    assert_string_equal(verify_at(k, tok, exp + leeway - 1, NULL), "");
    assert_string_equal(verify_at(k, tok, exp + leeway, NULL), MED_R_AUTH_TOKEN_INVALID);
    assert_string_equal(verify_at(k, tok, exp + 3600, NULL), MED_R_AUTH_TOKEN_INVALID);
    /* nbf = iat = FX_NOW */
    assert_string_equal(verify_at(k, tok, FX_NOW - leeway, NULL), "");
    assert_string_equal(verify_at(k, tok, FX_NOW - leeway - 1, NULL), MED_R_AUTH_TOKEN_INVALID);
    free(tok);
    expect_code(k, mint_with(k, "exp", NULL), MED_R_AUTH_TOKEN_INVALID);
    expect_code(k, mint_with(k, "exp", json_string("soon")), MED_R_AUTH_TOKEN_INVALID);
    expect_code(k, mint_with(k, "nbf", NULL), "");
}

static void test_unknown_kid(void **state)
{
    fx_keys *k = *state;
    expect_code(k, fx_mint(k->rsa, "kid-unknown", fx_claims()), MED_R_AUTH_SIGNATURE_MISMATCH);
}

static void test_garbled(void **state)
{
    fx_keys *k = *state;
    const char *bad[] = { "", "abc", "a.b", "a.b.c.d", "..", "eyJ.eyJ.AAAA", "!!!.###.$$$",
                          "eyJhbGciOiJSUzI1NiJ9=.e30.AAAA" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_string_equal(verify(k, bad[i]), MED_R_AUTH_TOKEN_INVALID);
    char *tok = fx_mint(k->rsa, FX_KID_RSA, fx_claims());
    tok[3] = '*'; /* header no longer base64url */
    assert_string_equal(verify(k, tok), MED_R_AUTH_TOKEN_INVALID);
    free(tok);
    char *big = malloc(MED_JWT_TOKEN_MAX + 2);
    assert_non_null(big);
    memset(big, 'A', MED_JWT_TOKEN_MAX + 1);
    big[MED_JWT_TOKEN_MAX + 1] = '\0';
    big[10] = '.';
    big[20] = '.';
    assert_string_equal(verify(k, big), MED_R_AUTH_TOKEN_INVALID);
    free(big);
    med_jwt_claims c;
    med_err e;
    assert_int_equal(med_jwt_verify(NULL, 0, k->set, &k_expect, &c, &e), MED_ERR_INVALID);
    assert_string_equal(e.code, MED_R_AUTH_TOKEN_INVALID);
}

static void test_claim_shapes(void **state)
{
    fx_keys *k = *state;
    expect_code(k, mint_with(k, "role", json_string("root")), MED_R_AUTH_TOKEN_INVALID);
    expect_code(k, mint_with(k, "authority", json_string("god")), MED_R_AUTH_TOKEN_INVALID);
    expect_code(k, mint_with(k, "authority", json_string("config_admin")), "");
    expect_code(k, mint_with(k, "tenant", NULL), MED_R_AUTH_TOKEN_INVALID);
    expect_code(k, mint_with(k, "tenant", json_string("t 1")), MED_R_AUTH_TOKEN_INVALID);
    expect_code(k, mint_with(k, "sub", json_integer(3)), MED_R_AUTH_TOKEN_INVALID);
    expect_code(k, mint_with(k, "apps", json_string("app_demo")), MED_R_AUTH_TOKEN_INVALID);
    expect_code(k, mint_with(k, "apps", json_pack("[i]", 1)), MED_R_AUTH_TOKEN_INVALID);
    json_t *many = json_array();
    for (int i = 0; i <= MED_JWT_LIST_MAX; i++) json_array_append_new(many, json_string("a"));
    expect_code(k, mint_with(k, "apps", many), MED_R_AUTH_TOKEN_INVALID);
}

static void test_b64url_roundtrip(void **state)
{
    (void)state;
    uint8_t in[64], out[64];
    char enc[128];
    for (size_t n = 0; n < sizeof in; n++) {
        for (size_t i = 0; i < n; i++) in[i] = (uint8_t)(i * 37 + n);
        long el = med_b64url_encode(in, n, enc, sizeof enc);
        assert_int_equal((size_t)el, med_b64url_encoded_len(n));
        assert_int_equal(med_b64url_decode(enc, (size_t)el, out, sizeof out), (long)n);
        assert_memory_equal(in, out, n);
    }
    assert_int_equal(med_b64url_decode("QQ==", 4, out, sizeof out), -1);
    assert_int_equal(med_b64url_decode("QR", 2, out, sizeof out), -1); /* non-zero tail bits */
    assert_int_equal(med_b64url_decode("A", 1, out, sizeof out), -1);
    assert_int_equal(med_b64url_decode("a+/b", 4, out, sizeof out), -1);
    assert_int_equal(med_b64url_encode(in, 3, enc, 4), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rs256_valid),
        cmocka_unit_test(test_es256_valid),
        cmocka_unit_test(test_tampered_payload),
        cmocka_unit_test(test_tampered_es256),
        cmocka_unit_test(test_signed_by_other_key),
        cmocka_unit_test(test_alg_none_and_hs256_rejected),
        cmocka_unit_test(test_alg_key_type_confusion),
        cmocka_unit_test(test_wrong_iss_aud),
        cmocka_unit_test(test_time_window),
        cmocka_unit_test(test_unknown_kid),
        cmocka_unit_test(test_garbled),
        cmocka_unit_test(test_claim_shapes),
        cmocka_unit_test(test_b64url_roundtrip),
    };
    return cmocka_run_group_tests(tests, fx_setup, fx_teardown);
}
