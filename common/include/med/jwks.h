/* JSON Web Key Sets (RFC 7517) holding the token verification keys.
 *
 * Only public keys with a "kid" are kept: kty RSA (n, e; 2048 bits or more)
 * and kty EC on P-256 (x, y). Other entries are skipped, so a set may
 * carry keys for other consumers. A med_jwks_source re-reads its file when
 * the file changes (key rotation), looking at most once per second. */
#ifndef MED_JWKS_H
#define MED_JWKS_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>

#include "med/err.h"

#define MED_JWKS_FILE_MAX (256 * 1024)
#define MED_JWKS_KEYS_MAX 32
#define MED_JWK_KID_MAX 128
#define MED_JWKS_RECHECK_MS 1000

typedef enum med_jwk_type { MED_JWK_RSA = 1, MED_JWK_EC_P256 = 2 } med_jwk_type;

typedef struct med_jwks med_jwks;

/* Parses a JWKS document; a set without one usable key is an error
 * (AUTH_TOKEN_INVALID would be wrong here: CFG_INVALID_VALUE). */
med_rc med_jwks_parse(const char *json, size_t len, med_jwks **out, med_err *err);
med_rc med_jwks_load(const char *path, med_jwks **out, med_err *err);
void med_jwks_free(med_jwks *set);
size_t med_jwks_count(const med_jwks *set);
/* The key with this kid and type, or NULL. Borrowed from the set. */
EVP_PKEY *med_jwks_find(const med_jwks *set, const char *kid, med_jwk_type type);

/* A JWKS file that is re-read when its mtime, size or inode changes. */
typedef struct med_jwks_source med_jwks_source;

typedef enum med_jwks_open_mode {
    MED_JWKS_REQUIRED = 0, /* the file must load now: start-up refuses otherwise */
    MED_JWKS_MAY_WAIT,     /* start with no key until the file appears (dev stack order) */
} med_jwks_open_mode;

/* Loads the file once. With MED_JWKS_MAY_WAIT an unusable file is logged
 * and the source starts empty (every token fails its signature check). */
med_rc med_jwks_source_open(const char *path, med_jwks_open_mode mode, med_jwks_source **out,
                            med_err *err);
/* The current set (NULL while a MAY_WAIT source has none). At most every MED_JWKS_RECHECK_MS (by now_ms, any
 * monotonic clock) the file is stat'ed and re-read if it changed; a file
 * that no longer parses keeps the previous keys (logged). The returned
 * set is valid until the next call. One thread at a time. */
const med_jwks *med_jwks_source_get(med_jwks_source *src, int64_t now_ms);
/* Number of successful reloads since open (tests, metrics). */
unsigned med_jwks_source_reloads(const med_jwks_source *src);
void med_jwks_source_free(med_jwks_source *src);

#endif
