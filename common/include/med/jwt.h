/* Compact JWS tokens (RFC 7515/7519) as 06 section 4 uses them.
 *
 * Accepted: alg RS256 or ES256 with a kid naming a JWKS key of the
 * matching type. "none", HS* and everything else are refused before any
 * key is looked at. Failures (err->code):
 * - auth_token_invalid: no token, over MED_JWT_TOKEN_MAX, not three
 *   base64url segments, header/payload not JSON objects, bad alg, no kid,
 *   a claim of the wrong type, wrong iss/aud, expired or not yet valid
 *   (beyond the leeway);
 * - auth_signature_mismatch: the signature does not verify, or no key in
 *   the set has the token's kid (a token nobody we trust signed is
 *   treated like a forged one, whether the kid was invented or rotated
 *   out).
 * The signature is checked before the claims are looked at. */
#ifndef MED_JWT_H
#define MED_JWT_H

#include <stddef.h>
#include <stdint.h>

#include "med/err.h"
#include "med/jwks.h"

#define MED_JWT_TOKEN_MAX 8192
#define MED_JWT_LEEWAY_S 30
#define MED_JWT_STR_MAX 128
#define MED_JWT_LIST_MAX 32

/* A scope binding array; "*" in it means any. */
typedef struct med_jwt_list {
    int n;
    char v[MED_JWT_LIST_MAX][MED_JWT_STR_MAX];
} med_jwt_list;

typedef struct med_jwt_claims {
    char iss[MED_JWT_STR_MAX];
    char sub[MED_JWT_STR_MAX];
    char tenant[MED_JWT_STR_MAX];
    char role[16];      /* sdk|publisher|reviewer|admin|service */
    char authority[32]; /* config_admin|app_operator|placement_operator|read_only, "" if absent */
    int64_t iat, nbf, exp; /* seconds since the epoch; nbf/iat 0 when absent */
    med_jwt_list aud;      /* a string aud becomes a list of one */
    med_jwt_list envs, apps, placements;
} med_jwt_claims;

typedef struct med_jwt_expect {
    const char *issuer;   /* required iss */
    const char *audience; /* must be aud, or one of the aud array */
    int64_t now_s;        /* Unix seconds */
    int leeway_s;         /* MED_JWT_LEEWAY_S */
} med_jwt_expect;

/* Verifies token (len bytes, no "Bearer ") against keys and expect; on
 * success fills *out. */
med_rc med_jwt_verify(const char *token, size_t len, const med_jwks *keys,
                      const med_jwt_expect *expect, med_jwt_claims *out, med_err *err);

/* Reads the claims of an already verified payload (JSON text) and checks
 * their shapes: sub, tenant, role, exp required; role and authority from
 * their lists; the arrays of strings. Times and iss/aud are not judged. */
med_rc med_jwt_claims_parse(const char *json, size_t len, med_jwt_claims *out, med_err *err);

/* Judges iss, aud, exp and nbf (and an iat in the future) against expect. */
med_rc med_jwt_claims_check(const med_jwt_claims *c, const med_jwt_expect *expect, med_err *err);

#endif
