/* Token minting and JWK export (see med/jwt_sign.h). */
#include "med/jwt_sign.h"

#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "med/b64url.h"
#include "med/jwt.h"
#include "med/reason.h"

#define P256_COORD 32
#define SIG_MAX 1024

static med_rc sign_fail(med_err *err, const char *what)
{
    return med_err_set(err, MED_ERR_INTERNAL, MED_R_AUTH_TOKEN_INVALID, NULL,
                       "cannot sign the token: %s", what);
}

static int is_ec(EVP_PKEY *key)
{
    return EVP_PKEY_is_a(key, "EC");
}

/* base64url of a JSON value's compact text, malloc'd. */
static char *b64_json(const json_t *v)
{
    char *txt = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
    if (!txt) return NULL;
    size_t n = strlen(txt);
    size_t cap = med_b64url_encoded_len(n) + 1;
    char *out = malloc(cap);
    if (out && med_b64url_encode((const uint8_t *)txt, n, out, cap) < 0) {
        free(out);
        out = NULL;
    }
    free(txt);
    return out;
}

/* OpenSSL's DER ECDSA signature -> JOSE r||s. */
static int der_to_raw(const uint8_t *der, size_t len, uint8_t raw[2 * P256_COORD])
{
    const uint8_t *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
    if (!sig) return -1;
    const BIGNUM *r = NULL, *s = NULL;
    ECDSA_SIG_get0(sig, &r, &s);
    int ok = BN_bn2binpad(r, raw, P256_COORD) == P256_COORD &&
             BN_bn2binpad(s, raw + P256_COORD, P256_COORD) == P256_COORD;
    ECDSA_SIG_free(sig);
    return ok ? 0 : -1;
}

/* Signature over input, base64url encoded into out (cap bytes). */
static int sign_input(EVP_PKEY *key, const char *input, char *out, size_t cap)
{
    uint8_t sig[SIG_MAX], raw[2 * P256_COORD];
    size_t len = sizeof sig;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
             EVP_DigestSign(md, sig, &len, (const uint8_t *)input, strlen(input)) == 1;
    EVP_MD_CTX_free(md);
    if (!ok) return -1;
    const uint8_t *bytes = sig;
    if (is_ec(key)) {
        if (der_to_raw(sig, len, raw) != 0) return -1;
        bytes = raw;
        len = sizeof raw;
    }
    return med_b64url_encode(bytes, len, out, cap) < 0 ? -1 : 0;
}

static char *header_b64(EVP_PKEY *key, const char *kid)
{
    json_t *h = json_pack("{s:s, s:s, s:s}", "alg", is_ec(key) ? "ES256" : "RS256", "typ",
                          "JWT", "kid", kid);
    char *out = h ? b64_json(h) : NULL;
    json_decref(h);
    return out;
}

med_rc med_jwt_sign(EVP_PKEY *key, const char *kid, const json_t *claims, char **out,
                    med_err *err)
{
    *out = NULL;
    if (!key || !kid || !json_is_object(claims)) return sign_fail(err, "bad arguments");
    char *h = header_b64(key, kid), *p = b64_json(claims);
    size_t cap = (h && p) ? strlen(h) + strlen(p) + 2 + med_b64url_encoded_len(SIG_MAX) + 1 : 0;
    char *tok = cap ? malloc(cap) : NULL;
    med_rc rc = MED_OK;
    if (!tok) {
        rc = med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "token");
    } else {
        int n = snprintf(tok, cap, "%s.%s", h, p);
        if (sign_input(key, tok, tok + n + 1, cap - (size_t)n - 1) != 0) {
            rc = sign_fail(err, "the key refused to sign");
        } else {
            tok[n] = '.';
        }
    }
    free(h);
    free(p);
    if (rc != MED_OK) {
        free(tok);
        return rc;
    }
    *out = tok;
    return MED_OK;
}

med_rc med_jwt_key_load_pem(const char *path, EVP_PKEY **out, med_err *err)
{
    *out = NULL;
    FILE *f = fopen(path, "r");
    if (!f)
        return med_err_set(err, MED_ERR_IO, MED_R_CFG_INVALID_VALUE, NULL,
                           "cannot open the private key %s: %s", path, strerror(errno));
    EVP_PKEY *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (!key || !(EVP_PKEY_is_a(key, "RSA") || is_ec(key))) {
        EVP_PKEY_free(key);
        return med_err_set(err, MED_ERR_INVALID, MED_R_CFG_INVALID_VALUE, NULL,
                           "%s is not an RSA or EC private key in PEM", path);
    }
    *out = key;
    return MED_OK;
}

/* ---- JWK export --------------------------------------------------------- */

static int bn_member(json_t *o, const char *name, EVP_PKEY *key, const char *param, int pad)
{
    BIGNUM *bn = NULL;
    if (EVP_PKEY_get_bn_param(key, param, &bn) != 1) return -1;
    int len = pad ? pad : BN_num_bytes(bn);
    uint8_t *bin = malloc((size_t)len + 1);
    size_t cap = med_b64url_encoded_len((size_t)len) + 1;
    char *b64 = malloc(cap);
    int rc = -1;
    if (bin && b64 && BN_bn2binpad(bn, bin, len) == len &&
        med_b64url_encode(bin, (size_t)len, b64, cap) >= 0)
        rc = json_object_set_new(o, name, json_string(b64));
    BN_free(bn);
    free(bin);
    free(b64);
    return rc;
}

/* The required public members only, as RFC 7638 hashes them. */
static json_t *public_members(EVP_PKEY *key)
{
    json_t *o = json_object();
    int ok = o != NULL;
    if (ok && is_ec(key)) {
        ok = json_object_set_new(o, "kty", json_string("EC")) == 0 &&
             json_object_set_new(o, "crv", json_string("P-256")) == 0 &&
             bn_member(o, "x", key, OSSL_PKEY_PARAM_EC_PUB_X, P256_COORD) == 0 &&
             bn_member(o, "y", key, OSSL_PKEY_PARAM_EC_PUB_Y, P256_COORD) == 0;
    } else if (ok) {
        ok = json_object_set_new(o, "kty", json_string("RSA")) == 0 &&
             bn_member(o, "n", key, OSSL_PKEY_PARAM_RSA_N, 0) == 0 &&
             bn_member(o, "e", key, OSSL_PKEY_PARAM_RSA_E, 0) == 0;
    }
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

med_rc med_jwk_thumbprint(EVP_PKEY *key, char out[MED_JWK_THUMBPRINT_LEN], med_err *err)
{
    out[0] = '\0';
    json_t *o = public_members(key);
    char *txt = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    if (!txt) return sign_fail(err, "cannot export the public key");
    uint8_t md[32];
    unsigned int mdlen = 0;
    int ok = EVP_Digest(txt, strlen(txt), md, &mdlen, EVP_sha256(), NULL) == 1;
    free(txt);
    if (!ok || med_b64url_encode(md, mdlen, out, MED_JWK_THUMBPRINT_LEN) < 0)
        return sign_fail(err, "cannot hash the public key");
    return MED_OK;
}

med_rc med_jwk_public(EVP_PKEY *key, const char *kid, json_t **out, med_err *err)
{
    *out = NULL;
    json_t *o = public_members(key);
    if (!o || json_object_set_new(o, "kid", json_string(kid)) != 0 ||
        json_object_set_new(o, "use", json_string("sig")) != 0 ||
        json_object_set_new(o, "alg", json_string(is_ec(key) ? "ES256" : "RS256")) != 0) {
        json_decref(o);
        return sign_fail(err, "cannot export the public key");
    }
    *out = o;
    return MED_OK;
}
