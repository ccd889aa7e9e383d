/* JWKS parsing into OpenSSL keys, and a file source that follows key
 * rotation (see med/jwks.h). */
#include "med/jwks.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "med/b64url.h"
#include "med/log.h"
#include "med/reason.h"

/* 8192-bit RSA moduli are the largest anyone ships; bounds the decode. */
#define JWK_RSA_N_MAX 1024
#define JWK_RSA_E_MAX 8
#define JWK_RSA_MIN_BITS 2048
#define JWK_P256_COORD 32

typedef struct jwk {
    char kid[MED_JWK_KID_MAX];
    med_jwk_type type;
    EVP_PKEY *key;
} jwk;

struct med_jwks {
    size_t n;
    jwk keys[MED_JWKS_KEYS_MAX];
};

struct med_jwks_source {
    char *path;
    med_jwks *set;
    struct stat seen;
    int64_t next_check_ms;
    unsigned reloads;
};

static long decode_member(const json_t *obj, const char *name, uint8_t *out, size_t cap)
{
    const char *s = json_string_value(json_object_get(obj, name));
    if (!s) return -1;
    return med_b64url_decode(s, strlen(s), out, cap);
}

static EVP_PKEY *pkey_from_params(const char *type, OSSL_PARAM *params)
{
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    if (ctx && EVP_PKEY_fromdata_init(ctx) == 1)
        EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params);
    EVP_PKEY_CTX_free(ctx);
    return key;
}

static EVP_PKEY *rsa_key_of(const json_t *o)
{
    uint8_t n[JWK_RSA_N_MAX], e[JWK_RSA_E_MAX];
    long nl = decode_member(o, "n", n, sizeof n);
    long el = decode_member(o, "e", e, sizeof e);
    if (nl <= 0 || el <= 0) return NULL;
    EVP_PKEY *key = NULL;
    BIGNUM *bn = BN_bin2bn(n, (int)nl, NULL), *be = BN_bin2bn(e, (int)el, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    if (bn && be && bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) == 1 &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) == 1)
        params = OSSL_PARAM_BLD_to_param(bld);
    if (params) key = pkey_from_params("RSA", params);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);
    if (key && EVP_PKEY_get_bits(key) < JWK_RSA_MIN_BITS) {
        EVP_PKEY_free(key);
        key = NULL;
    }
    return key;
}

static EVP_PKEY *ec_key_of(const json_t *o)
{
    const char *crv = json_string_value(json_object_get(o, "crv"));
    if (!crv || strcmp(crv, "P-256") != 0) return NULL;
    /* Uncompressed point: 0x04 || x || y. */
    uint8_t pt[1 + 2 * JWK_P256_COORD + 1];
    pt[0] = 0x04;
    if (decode_member(o, "x", pt + 1, JWK_P256_COORD + 1) != JWK_P256_COORD ||
        decode_member(o, "y", pt + 1 + JWK_P256_COORD, JWK_P256_COORD + 1) != JWK_P256_COORD)
        return NULL;
    char group[] = "prime256v1";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pt, 1 + 2 * JWK_P256_COORD),
        OSSL_PARAM_construct_end(),
    };
    return pkey_from_params("EC", params);
}

/* 0 = added, 1 = skipped (not ours or not usable). */
static int add_key(med_jwks *set, const json_t *o)
{
    const char *kid = json_string_value(json_object_get(o, "kid"));
    const char *kty = json_string_value(json_object_get(o, "kty"));
    const char *use = json_string_value(json_object_get(o, "use"));
    if (!kid || !kty || !kid[0] || strlen(kid) >= MED_JWK_KID_MAX) return 1;
    if (use && strcmp(use, "sig") != 0) return 1;
    if (set->n >= MED_JWKS_KEYS_MAX) return 1;
    jwk *k = &set->keys[set->n];
    if (strcmp(kty, "RSA") == 0) {
        k->type = MED_JWK_RSA;
        k->key = rsa_key_of(o);
    } else if (strcmp(kty, "EC") == 0) {
        k->type = MED_JWK_EC_P256;
        k->key = ec_key_of(o);
    }
    if (!k->key) return 1;
    snprintf(k->kid, sizeof k->kid, "%s", kid);
    set->n++;
    return 0;
}

med_rc med_jwks_parse(const char *json, size_t len, med_jwks **out, med_err *err)
{
    *out = NULL;
    json_error_t je;
    json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    json_t *keys = json_object_get(doc, "keys");
    if (!json_is_array(keys)) {
        json_decref(doc);
        return med_err_set(err, MED_ERR_INVALID, MED_R_CFG_INVALID_VALUE, "JWKS_PATH",
                           "the JWKS is not an object with a \"keys\" array");
    }
    med_jwks *set = calloc(1, sizeof *set);
    if (!set) {
        json_decref(doc);
        return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "jwks");
    }
    size_t i;
    json_t *o;
    json_array_foreach(keys, i, o) add_key(set, o);
    json_decref(doc);
    if (set->n == 0) {
        med_jwks_free(set);
        return med_err_set(err, MED_ERR_INVALID, MED_R_CFG_INVALID_VALUE, "JWKS_PATH",
                           "the JWKS holds no usable RSA or P-256 signing key with a kid");
    }
    *out = set;
    return MED_OK;
}

static med_rc read_file(const char *path, char **buf, size_t *len, med_err *err)
{
    *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return med_err_set(err, MED_ERR_IO, MED_R_CFG_INVALID_VALUE, "JWKS_PATH",
                           "cannot open the JWKS file %s: %s", path, strerror(errno));
    char *b = malloc(MED_JWKS_FILE_MAX + 1);
    size_t n = b ? fread(b, 1, MED_JWKS_FILE_MAX + 1, f) : 0;
    fclose(f);
    if (!b) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "jwks file");
    if (n > MED_JWKS_FILE_MAX) {
        free(b);
        return med_err_set(err, MED_ERR_INVALID, MED_R_CFG_INVALID_VALUE, "JWKS_PATH",
                           "the JWKS file is larger than %d bytes", MED_JWKS_FILE_MAX);
    }
    *buf = b;
    *len = n;
    return MED_OK;
}

med_rc med_jwks_load(const char *path, med_jwks **out, med_err *err)
{
    *out = NULL;
    char *buf = NULL;
    size_t len = 0;
    med_rc rc = read_file(path, &buf, &len, err);
    if (rc != MED_OK) return rc;
    rc = med_jwks_parse(buf, len, out, err);
    free(buf);
    return rc;
}

void med_jwks_free(med_jwks *set)
{
    if (!set) return;
    for (size_t i = 0; i < set->n; i++) EVP_PKEY_free(set->keys[i].key);
    free(set);
}

size_t med_jwks_count(const med_jwks *set)
{
    return set ? set->n : 0;
}

EVP_PKEY *med_jwks_find(const med_jwks *set, const char *kid, med_jwk_type type)
{
    for (size_t i = 0; set && kid && i < set->n; i++)
        if (set->keys[i].type == type && strcmp(set->keys[i].kid, kid) == 0)
            return set->keys[i].key;
    return NULL;
}

/* ---- file source -------------------------------------------------------- */

static int same_file_state(const struct stat *a, const struct stat *b)
{
    return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

med_rc med_jwks_source_open(const char *path, med_jwks_open_mode mode, med_jwks_source **out,
                            med_err *err)
{
    *out = NULL;
    med_jwks_source *src = calloc(1, sizeof *src);
    if (!src || !(src->path = strdup(path))) {
        free(src);
        return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "jwks source");
    }
    /* stat before reading: a change racing the read is then seen next time. */
    if (stat(path, &src->seen) != 0) memset(&src->seen, 0, sizeof src->seen);
    med_rc rc = med_jwks_load(path, &src->set, err);
    if (rc != MED_OK && mode == MED_JWKS_MAY_WAIT) {
        MED_LOGW(NULL, "JWKS %s not usable yet (%s); every token is refused until it is",
                 path, err ? err->message : "");
        /* Forget what we saw so the file counts as changed once it is fixed. */
        memset(&src->seen, 0, sizeof src->seen);
        rc = MED_OK;
    }
    if (rc != MED_OK) {
        med_jwks_source_free(src);
        return rc;
    }
    *out = src;
    return MED_OK;
}

static void reload(med_jwks_source *src, const struct stat *now_state)
{
    med_jwks *fresh = NULL;
    med_err e;
    src->seen = *now_state;
    if (med_jwks_load(src->path, &fresh, &e) != MED_OK) {
        /* A half-written file must not lock everyone out: keep the keys
         * we have until a good file appears. */
        MED_LOGW(NULL, "JWKS %s changed but cannot be used (%s); keeping %zu previous keys",
                 src->path, e.message, med_jwks_count(src->set));
        return;
    }
    med_jwks_free(src->set);
    src->set = fresh;
    src->reloads++;
    MED_LOGI(NULL, "JWKS %s reloaded: %zu keys", src->path, fresh->n);
}

const med_jwks *med_jwks_source_get(med_jwks_source *src, int64_t now_ms)
{
    if (!src) return NULL;
    /* A clock stepped backwards must not postpone checks for long. */
    if (now_ms < src->next_check_ms && now_ms >= src->next_check_ms - MED_JWKS_RECHECK_MS)
        return src->set;
    src->next_check_ms = now_ms + MED_JWKS_RECHECK_MS;
    struct stat st;
    if (stat(src->path, &st) == 0 && !same_file_state(&st, &src->seen)) reload(src, &st);
    return src->set;
}

unsigned med_jwks_source_reloads(const med_jwks_source *src)
{
    return src ? src->reloads : 0;
}

void med_jwks_source_free(med_jwks_source *src)
{
    if (!src) return;
    med_jwks_free(src->set);
    free(src->path);
    free(src);
}
