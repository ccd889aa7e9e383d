/* Keys and token minting shared by the auth unit tests. */
#ifndef AUTH_FIXTURE_H
#define AUTH_FIXTURE_H

#include <jansson.h>
#include <openssl/evp.h>
#include <stdint.h>

#include "med/jwks.h"

#define FX_ISS "med-local"
#define FX_AUD "mediation"
#define FX_NOW 1790000000LL
#define FX_KID_RSA "kid-rsa-1"
#define FX_KID_EC "kid-ec-1"

typedef struct fx_keys {
    EVP_PKEY *rsa;
    EVP_PKEY *ec;
    EVP_PKEY *rsa2; /* not in the set: signs forgeries and rotations */
    med_jwks *set;  /* rsa (FX_KID_RSA) and ec (FX_KID_EC) */
} fx_keys;

/* cmocka group setup/teardown: *state becomes an fx_keys. */
int fx_setup(void **state);
int fx_teardown(void **state);

/* Valid claims at FX_NOW for an sdk caller of tenant t1, app app_demo. */
json_t *fx_claims(void);
/* Signs claims (taking the reference) with key/kid; malloc'd token. */
char *fx_mint(EVP_PKEY *key, const char *kid, json_t *claims);
/* A JWKS document of one key; malloc'd text. */
char *fx_jwks_json(EVP_PKEY *key, const char *kid);
/* base64url(text) + "." + ... for hand-made tokens; malloc'd. */
char *fx_b64(const char *text);

#endif
