/* tools/token: prints a signed RS256/ES256 JWT for the local stack and
 * tests (06 section 4). Defaults match the dev/ci config: key
 * .run/secrets/jwt-private.pem, iss med-local, aud mediation; the kid is
 * the key's RFC 7638 thumbprint, as tools/gen-keys writes it. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "med/jwt_sign.h"

#define TOKEN_TTL_DEFAULT 3600
#define TOKEN_TTL_MAX (366L * 24 * 3600)

typedef struct token_opts {
    const char *role, *tenant, *authority, *sub, *key, *kid, *iss, *aud;
    const char *apps, *envs, *placements;
    long ttl;
} token_opts;

static void usage(FILE *out)
{
    fputs("usage: token --role sdk|publisher|reviewer|admin|service --tenant T\n"
          "             [--apps a,b] [--envs e,f] [--placements p,q] [--authority A]\n"
          "             [--sub ID] [--ttl SECONDS] [--key PEM] [--kid KID]\n"
          "             [--iss ISSUER] [--aud AUDIENCE]\n"
          "Prints a signed JWT. Lists are comma-separated; \"*\" means any.\n",
          out);
}

/* "a,b" -> ["a","b"]; NULL -> no claim. */
static json_t *csv_array(const char *csv)
{
    json_t *arr = json_array();
    char *copy = strdup(csv);
    if (!arr || !copy) {
        json_decref(arr);
        free(copy);
        return NULL;
    }
    char *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
        if (json_array_append_new(arr, json_string(t)) != 0) {
            json_decref(arr);
            arr = NULL;
            break;
        }
    free(copy);
    return arr;
}

static int set_list(json_t *c, const char *name, const char *csv)
{
    if (!csv) return 0;
    json_t *arr = csv_array(csv);
    return arr ? json_object_set_new(c, name, arr) : -1;
}

static json_t *build_claims(const token_opts *o)
{
    json_int_t now = (json_int_t)time(NULL);
    char sub[160];
    snprintf(sub, sizeof sub, "%s", o->sub ? o->sub : "");
    if (!sub[0]) snprintf(sub, sizeof sub, "%s:%s", o->role, o->tenant);
    json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "iss", o->iss, "aud",
                          o->aud, "sub", sub, "tenant", o->tenant, "role", o->role, "iat", now,
                          "nbf", now, "exp", now + (json_int_t)o->ttl);
    if (c && o->authority && json_object_set_new(c, "authority", json_string(o->authority)))
        c = (json_decref(c), NULL);
    if (c && (set_list(c, "apps", o->apps) || set_list(c, "envs", o->envs) ||
              set_list(c, "placements", o->placements)))
        c = (json_decref(c), NULL);
    return c;
}

static int parse_args(int argc, char **argv, token_opts *o)
{
    static const struct option longs[] = {
        { "role", 1, 0, 'r' },      { "tenant", 1, 0, 't' }, { "apps", 1, 0, 'a' },
        { "envs", 1, 0, 'e' },      { "placements", 1, 0, 'p' },
        { "authority", 1, 0, 'A' }, { "sub", 1, 0, 's' },   { "ttl", 1, 0, 'l' },
        { "key", 1, 0, 'k' },       { "kid", 1, 0, 'K' },   { "iss", 1, 0, 'i' },
        { "aud", 1, 0, 'd' },       { "help", 0, 0, 'h' },  { 0, 0, 0, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (c) {
        case 'r': o->role = optarg; break;
        case 't': o->tenant = optarg; break;
        case 'a': o->apps = optarg; break;
        case 'e': o->envs = optarg; break;
        case 'p': o->placements = optarg; break;
        case 'A': o->authority = optarg; break;
        case 's': o->sub = optarg; break;
        case 'l': o->ttl = strtol(optarg, NULL, 10); break;
        case 'k': o->key = optarg; break;
        case 'K': o->kid = optarg; break;
        case 'i': o->iss = optarg; break;
        case 'd': o->aud = optarg; break;
        case 'h': usage(stdout); exit(0);
        default: return -1;
        }
    }
    if (optind != argc || !o->role || !o->tenant) return -1;
    return o->ttl > 0 && o->ttl <= TOKEN_TTL_MAX ? 0 : -1;
}

static int mint(const token_opts *o)
{
    med_err e;
    EVP_PKEY *key = NULL;
    char kid[MED_JWK_THUMBPRINT_LEN], *tok = NULL;
    json_t *claims = NULL;
    int rc = 1;
    if (med_jwt_key_load_pem(o->key, &key, &e) != MED_OK) goto out;
    if (!o->kid && med_jwk_thumbprint(key, kid, &e) != MED_OK) goto out;
    claims = build_claims(o);
    if (!claims) {
        snprintf(e.message, sizeof e.message, "cannot build the claims");
        goto out;
    }
    if (med_jwt_sign(key, o->kid ? o->kid : kid, claims, &tok, &e) != MED_OK) goto out;
    printf("%s\n", tok);
    rc = 0;
out:
    if (rc) fprintf(stderr, "token: %s\n", e.message);
    free(tok);
    json_decref(claims);
    EVP_PKEY_free(key);
    return rc;
}

int main(int argc, char **argv)
{
    token_opts o = {
        .key = ".run/secrets/jwt-private.pem",
        .iss = "med-local",
        .aud = "mediation",
        .ttl = TOKEN_TTL_DEFAULT,
    };
    if (parse_args(argc, argv, &o) != 0) {
        usage(stderr);
        return 2;
    }
    return mint(&o);
}
