/* libFuzzer: the bearer-token parser on arbitrary bytes (every edge call
 * carries one). Properties: nothing crashes or leaks; random bytes never
 * verify; a payload we signed ourselves verifies exactly when its claims
 * parse and pass the checks, so parsing and verifying agree. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "med/auth.h"
#include "med/b64url.h"
#include "med/jwks.h"
#include "med/jwt.h"
#include "med/jwt_sign.h"

#define FUZZ_KID "fuzz"
#define FUZZ_NOW 1790000000LL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static EVP_PKEY *g_key;
static med_jwks *g_set;

static void init_keys(void)
{
    g_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    json_t *jwk = NULL;
    if (!g_key || med_jwk_public(g_key, FUZZ_KID, &jwk, NULL) != MED_OK) abort();
    json_t *doc = json_pack("{s:[o]}", "keys", jwk);
    char *txt = json_dumps(doc, 0);
    if (!txt || med_jwks_parse(txt, strlen(txt), &g_set, NULL) != MED_OK) abort();
    free(txt);
    json_decref(doc);
}

static const med_jwt_expect k_expect = { "med-local", "mediation", FUZZ_NOW, MED_JWT_LEEWAY_S };

static void random_token(const uint8_t *data, size_t size)
{
    med_jwt_claims c;
    med_err e;
    if (med_jwt_verify((const char *)data, size, g_set, &k_expect, &c, &e) == MED_OK) abort();
    uint8_t out[512];
    med_b64url_decode((const char *)data, size < 600 ? size : 600, out, sizeof out);
}

/* Signs data as the payload and checks verify agrees with the claim checks. */
static void signed_payload(const uint8_t *data, size_t size)
{
    json_error_t je;
    json_t *claims = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(claims)) {
        json_decref(claims);
        return;
    }
    char *txt = json_dumps(claims, JSON_COMPACT);
    med_jwt_claims parsed, verified;
    med_err e;
    int ok_parse = txt && med_jwt_claims_parse(txt, strlen(txt), &parsed, &e) == MED_OK &&
                   med_jwt_claims_check(&parsed, &k_expect, &e) == MED_OK;
    char *tok = NULL;
    if (med_jwt_sign(g_key, FUZZ_KID, claims, &tok, &e) == MED_OK) {
        int ok_verify = med_jwt_verify(tok, strlen(tok), g_set, &k_expect, &verified, &e) ==
                        MED_OK;
        /* Tokens over the size bound are refused whatever they hold. */
        if (strlen(tok) <= MED_JWT_TOKEN_MAX && ok_verify != ok_parse) abort();
        med_auth_context ctx;
        if (ok_verify && med_auth_context_build(&verified, &ctx, &e) != MED_OK) abort();
    }
    free(tok);
    free(txt);
    json_decref(claims);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!g_key) init_keys();
    random_token(data, size);
    if (size <= MED_JWT_TOKEN_MAX) signed_payload(data, size);
    return 0;
}
