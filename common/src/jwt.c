/* Compact JWS verification (see med/jwt.h). Untrusted input throughout:
 * every length is bounded before anything is decoded or parsed. */
#include "med/jwt.h"

#include <jansson.h>
#include <math.h>
#include <openssl/ecdsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "med/b64url.h"
#include "med/reason.h"

#define JWT_HEADER_MAX 1024
#define JWT_SIG_MAX 1024 /* an 8192-bit RSA signature */
#define ES256_SIG_LEN 64
#define ES256_COORD 32
/* Anything past year 9999 is nonsense; also keeps the leeway sums safe. */
#define JWT_TIME_MAX 253402300799LL

typedef struct jws_parts {
    const char *seg[3];
    size_t len[3];
} jws_parts;

static const char *const k_roles[] = { "sdk", "publisher", "reviewer", "admin", "service" };
static const char *const k_authorities[] = { "config_admin", "app_operator",
                                             "placement_operator", "read_only" };

static med_rc invalid(med_err *err, const char *field, const char *why)
{
    return med_err_set(err, MED_ERR_INVALID, MED_R_AUTH_TOKEN_INVALID, field,
                       "the bearer token is not acceptable: %s", why);
}

static med_rc split_token(const char *t, size_t len, jws_parts *p, med_err *err)
{
    if (!t || len == 0) return invalid(err, NULL, "no token");
    if (len > MED_JWT_TOKEN_MAX) return invalid(err, NULL, "token too long");
    int n = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && t[i] != '.') continue;
        if (n == 3) return invalid(err, NULL, "not a compact JWS");
        p->seg[n] = t + start;
        p->len[n] = i - start;
        if (p->len[n] == 0) return invalid(err, NULL, "empty JWS segment");
        n++;
        start = i + 1;
    }
    return n == 3 ? MED_OK : invalid(err, NULL, "not a compact JWS");
}

/* Decodes a base64url segment into a NUL-terminated malloc'd buffer. */
static med_rc decode_segment(const char *s, size_t len, size_t max, uint8_t **out, size_t *olen,
                             med_err *err)
{
    *out = NULL;
    size_t cap = med_b64url_decoded_max(len);
    if (cap > max) return invalid(err, NULL, "JWS segment too long");
    uint8_t *buf = malloc(cap + 1);
    if (!buf) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "token buffer");
    long n = med_b64url_decode(s, len, buf, cap);
    if (n < 0) {
        free(buf);
        return invalid(err, NULL, "bad base64url");
    }
    buf[n] = '\0';
    *out = buf;
    *olen = (size_t)n;
    return MED_OK;
}

static json_t *parse_object(const uint8_t *buf, size_t len)
{
    json_error_t je;
    json_t *o = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &je);
    if (o && !json_is_object(o)) {
        json_decref(o);
        o = NULL;
    }
    return o;
}

/* ---- header ------------------------------------------------------------- */

typedef struct jws_header {
    med_jwk_type type;
    char kid[MED_JWK_KID_MAX];
} jws_header;

static med_rc header_check(const json_t *h, jws_header *out, med_err *err)
{
    const char *alg = json_string_value(json_object_get(h, "alg"));
    const char *kid = json_string_value(json_object_get(h, "kid"));
    if (!alg) return invalid(err, "alg", "no alg");
    if (strcmp(alg, "RS256") == 0)
        out->type = MED_JWK_RSA;
    else if (strcmp(alg, "ES256") == 0)
        out->type = MED_JWK_EC_P256;
    else
        return invalid(err, "alg", "alg must be RS256 or ES256");
    /* We implement no extension, so a critical one cannot be honoured. */
    if (json_object_get(h, "crit")) return invalid(err, "crit", "unsupported crit header");
    if (!kid || !kid[0] || strlen(kid) >= sizeof out->kid) return invalid(err, "kid", "no kid");
    snprintf(out->kid, sizeof out->kid, "%s", kid);
    return MED_OK;
}

static med_rc header_read(const jws_parts *p, jws_header *out, med_err *err)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    med_rc rc = decode_segment(p->seg[0], p->len[0], JWT_HEADER_MAX, &buf, &len, err);
    if (rc != MED_OK) return rc;
    json_t *h = parse_object(buf, len);
    free(buf);
    if (!h) return invalid(err, NULL, "header is not a JSON object");
    rc = header_check(h, out, err);
    json_decref(h);
    return rc;
}

/* ---- signature ---------------------------------------------------------- */

/* JOSE carries ECDSA as raw r||s; OpenSSL wants DER. */
static int es256_raw_to_der(const uint8_t *raw, size_t len, uint8_t **der, int *der_len)
{
    if (len != ES256_SIG_LEN) return -1;
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(raw, ES256_COORD, NULL);
    BIGNUM *s = BN_bin2bn(raw + ES256_COORD, ES256_COORD, NULL);
    if (!sig || !r || !s || ECDSA_SIG_set0(sig, r, s) != 1) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(sig);
        return -1;
    }
    *der = NULL;
    *der_len = i2d_ECDSA_SIG(sig, der);
    ECDSA_SIG_free(sig);
    return *der_len > 0 ? 0 : -1;
}

static int digest_verify(EVP_PKEY *key, const uint8_t *sig, size_t sig_len, const char *msg,
                         size_t msg_len)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
             EVP_DigestVerify(md, sig, sig_len, (const unsigned char *)msg, msg_len) == 1;
    EVP_MD_CTX_free(md);
    return ok;
}

static int signature_ok(const jws_header *h, EVP_PKEY *key, const uint8_t *sig, size_t sig_len,
                        const jws_parts *p)
{
    /* The signing input is header "." payload exactly as received. */
    size_t msg_len = p->len[0] + 1 + p->len[1];
    if (h->type == MED_JWK_RSA) return digest_verify(key, sig, sig_len, p->seg[0], msg_len);
    uint8_t *der = NULL;
    int der_len = 0;
    if (es256_raw_to_der(sig, sig_len, &der, &der_len) != 0) return 0;
    int ok = digest_verify(key, der, (size_t)der_len, p->seg[0], msg_len);
    OPENSSL_free(der);
    return ok;
}

static med_rc signature_check(const jws_parts *p, const jws_header *h, const med_jwks *keys,
                              med_err *err)
{
    EVP_PKEY *key = med_jwks_find(keys, h->kid, h->type);
    if (!key)
        return med_err_set(err, MED_ERR_INVALID, MED_R_AUTH_SIGNATURE_MISMATCH, "kid",
                           "no trusted key has the token's kid");
    uint8_t *sig = NULL;
    size_t sig_len = 0;
    med_rc rc = decode_segment(p->seg[2], p->len[2], JWT_SIG_MAX, &sig, &sig_len, err);
    if (rc != MED_OK) return rc;
    int ok = signature_ok(h, key, sig, sig_len, p);
    free(sig);
    return ok ? MED_OK
              : med_err_set(err, MED_ERR_INVALID, MED_R_AUTH_SIGNATURE_MISMATCH, NULL,
                            "the token's signature does not verify");
}

/* ---- claims ------------------------------------------------------------- */

static int in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0) return 1;
    return 0;
}

/* Identifiers travel in NATS headers and logs: printable, no spaces. */
static int id_safe(const char *s)
{
    if (!s[0]) return 0;
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f) return 0;
    return 1;
}

static med_rc copy_id(const json_t *pl, const char *name, char *dst, size_t cap, int required,
                      med_err *err)
{
    const json_t *v = json_object_get(pl, name);
    dst[0] = '\0';
    if (!v) return required ? invalid(err, name, "a required claim is missing") : MED_OK;
    const char *s = json_string_value(v);
    if (!s || strlen(s) >= cap || !id_safe(s)) return invalid(err, name, "claim is not an id");
    snprintf(dst, cap, "%s", s);
    return MED_OK;
}

static med_rc copy_time(const json_t *pl, const char *name, int64_t *dst, int required,
                        med_err *err)
{
    const json_t *v = json_object_get(pl, name);
    *dst = 0;
    if (!v) return required ? invalid(err, name, "a required claim is missing") : MED_OK;
    double d = json_number_value(v);
    if (!json_is_number(v) || !isfinite(d) || d < 0 || d > (double)JWT_TIME_MAX)
        return invalid(err, name, "time claim is not a NumericDate");
    *dst = (int64_t)d;
    return MED_OK;
}

static med_rc copy_list(const json_t *pl, const char *name, med_jwt_list *dst, int allow_string,
                        med_err *err)
{
    const json_t *v = json_object_get(pl, name);
    dst->n = 0;
    if (!v) return MED_OK;
    if (allow_string && json_is_string(v)) return copy_id(pl, name, dst->v[dst->n++],
                                                          MED_JWT_STR_MAX, 1, err);
    if (!json_is_array(v) || json_array_size(v) > MED_JWT_LIST_MAX)
        return invalid(err, name, "claim is not an array of at most 32 strings");
    size_t i;
    const json_t *e;
    json_array_foreach(v, i, e) {
        const char *s = json_string_value(e);
        if (!s || strlen(s) >= MED_JWT_STR_MAX || !id_safe(s))
            return invalid(err, name, "array member is not an id");
        snprintf(dst->v[dst->n++], MED_JWT_STR_MAX, "%s", s);
    }
    return MED_OK;
}

static med_rc claims_read(const json_t *pl, med_jwt_claims *c, med_err *err)
{
    med_rc rc = copy_id(pl, "iss", c->iss, sizeof c->iss, 1, err);
    if (rc == MED_OK) rc = copy_id(pl, "sub", c->sub, sizeof c->sub, 1, err);
    if (rc == MED_OK) rc = copy_id(pl, "tenant", c->tenant, sizeof c->tenant, 1, err);
    if (rc == MED_OK) rc = copy_id(pl, "role", c->role, sizeof c->role, 1, err);
    if (rc == MED_OK) rc = copy_id(pl, "authority", c->authority, sizeof c->authority, 0, err);
    if (rc == MED_OK) rc = copy_time(pl, "exp", &c->exp, 1, err);
    if (rc == MED_OK) rc = copy_time(pl, "nbf", &c->nbf, 0, err);
    if (rc == MED_OK) rc = copy_time(pl, "iat", &c->iat, 0, err);
    if (rc == MED_OK) rc = copy_list(pl, "aud", &c->aud, 1, err);
    if (rc == MED_OK) rc = copy_list(pl, "envs", &c->envs, 0, err);
    if (rc == MED_OK) rc = copy_list(pl, "apps", &c->apps, 0, err);
    if (rc == MED_OK) rc = copy_list(pl, "placements", &c->placements, 0, err);
    if (rc != MED_OK) return rc;
    if (!in_list(c->role, k_roles, sizeof k_roles / sizeof k_roles[0]))
        return invalid(err, "role", "unknown role");
    if (c->authority[0] &&
        !in_list(c->authority, k_authorities, sizeof k_authorities / sizeof k_authorities[0]))
        return invalid(err, "authority", "unknown authority");
    return MED_OK;
}

med_rc med_jwt_claims_parse(const char *json, size_t len, med_jwt_claims *out, med_err *err)
{
    memset(out, 0, sizeof *out);
    json_t *pl = parse_object((const uint8_t *)json, len);
    if (!pl) return invalid(err, NULL, "payload is not a JSON object");
    med_rc rc = claims_read(pl, out, err);
    json_decref(pl);
    return rc;
}

static int aud_matches(const med_jwt_list *aud, const char *want)
{
    for (int i = 0; i < aud->n; i++)
        if (strcmp(aud->v[i], want) == 0) return 1;
    return 0;
}

med_rc med_jwt_claims_check(const med_jwt_claims *c, const med_jwt_expect *x, med_err *err)
{
    if (!x->issuer || strcmp(c->iss, x->issuer) != 0) return invalid(err, "iss", "wrong issuer");
    if (!x->audience || !aud_matches(&c->aud, x->audience))
        return invalid(err, "aud", "wrong audience");
    int64_t leeway = x->leeway_s < 0 ? 0 : x->leeway_s;
    if (x->now_s >= c->exp + leeway) return invalid(err, "exp", "expired");
    if (c->nbf && x->now_s + leeway < c->nbf) return invalid(err, "nbf", "not yet valid");
    if (c->iat && x->now_s + leeway < c->iat) return invalid(err, "iat", "issued in the future");
    return MED_OK;
}

/* ---- verify ------------------------------------------------------------- */

static med_rc payload_read(const jws_parts *p, const med_jwt_expect *x, med_jwt_claims *out,
                           med_err *err)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    med_rc rc = decode_segment(p->seg[1], p->len[1], MED_JWT_TOKEN_MAX, &buf, &len, err);
    if (rc != MED_OK) return rc;
    rc = med_jwt_claims_parse((const char *)buf, len, out, err);
    free(buf);
    return rc == MED_OK ? med_jwt_claims_check(out, x, err) : rc;
}

med_rc med_jwt_verify(const char *token, size_t len, const med_jwks *keys,
                      const med_jwt_expect *expect, med_jwt_claims *out, med_err *err)
{
    memset(out, 0, sizeof *out);
    jws_parts p;
    jws_header h;
    med_rc rc = split_token(token, len, &p, err);
    if (rc == MED_OK) rc = header_read(&p, &h, err);
    if (rc == MED_OK) rc = signature_check(&p, &h, keys, err);
    if (rc == MED_OK) rc = payload_read(&p, expect, out, err);
    if (rc != MED_OK) memset(out, 0, sizeof *out);
    return rc;
}
