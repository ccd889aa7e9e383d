/* Minting tokens: tools/token, the local stack and tests. Services only
 * verify (med/jwt.h); nothing in a request path signs. */
#ifndef MED_JWT_SIGN_H
#define MED_JWT_SIGN_H

#include <jansson.h>
#include <openssl/evp.h>

#include "med/err.h"

/* base64url(sha256) of the RFC 7638 thumbprint input: 43 chars + NUL. */
#define MED_JWK_THUMBPRINT_LEN 44

/* Signs claims (a JSON object) as a compact JWS: RS256 for an RSA key,
 * ES256 for a P-256 key; header {"alg","typ":"JWT","kid"}. *out malloc'd. */
med_rc med_jwt_sign(EVP_PKEY *key, const char *kid, const json_t *claims, char **out,
                    med_err *err);
/* Reads a PEM private key (PKCS#8 or traditional). */
med_rc med_jwt_key_load_pem(const char *path, EVP_PKEY **out, med_err *err);
/* The public JWK of key ({"kty","kid","use":"sig","alg",...}); new ref. */
med_rc med_jwk_public(EVP_PKEY *key, const char *kid, json_t **out, med_err *err);
/* RFC 7638 thumbprint of key's public part, the kid tools/gen-keys uses. */
med_rc med_jwk_thumbprint(EVP_PKEY *key, char out[MED_JWK_THUMBPRINT_LEN], med_err *err);

#endif
