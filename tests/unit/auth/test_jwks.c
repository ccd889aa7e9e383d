/* JWKS parsing and the file source that follows key rotation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "auth_fixture.h"
#include "med/jwks.h"
#include "med/jwt.h"
#include "med/reason.h"

static const char *parse_code(const char *json)
{
    static med_err e;
    med_jwks *set = NULL;
    med_err_clear(&e);
    med_rc rc = med_jwks_parse(json, strlen(json), &set, &e);
    med_jwks_free(set);
    return rc == MED_OK ? "" : e.code;
}

static void test_parse_rejects_unusable_sets(void **state)
{
    (void)state;
    assert_string_equal(parse_code(""), MED_R_CFG_INVALID_VALUE);
    assert_string_equal(parse_code("[]"), MED_R_CFG_INVALID_VALUE);
    assert_string_equal(parse_code("{\"keys\":[]}"), MED_R_CFG_INVALID_VALUE);
    assert_string_equal(parse_code("{\"keys\":[{\"kty\":\"oct\",\"kid\":\"a\",\"k\":\"AAAA\"}]}"),
                        MED_R_CFG_INVALID_VALUE);
    /* A 512-bit RSA modulus is too weak to trust. */
    assert_string_equal(parse_code("{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"a\",\"e\":\"AQAB\","
                                   "\"n\":\"" "zV6aT4yP2Mv0mZsJk5t3Vh5n7C5rkq1dX9fQ3lJ2p8w"
                                   "zV6aT4yP2Mv0mZsJk5t3Vh5n7C5rkq1dX9fQ3lJ2p8w\"}]}"),
                        MED_R_CFG_INVALID_VALUE);
}

static void test_parse_keeps_usable_keys(void **state)
{
    fx_keys *k = *state;
    assert_int_equal(med_jwks_count(k->set), 2);
    assert_non_null(med_jwks_find(k->set, FX_KID_RSA, MED_JWK_RSA));
    assert_non_null(med_jwks_find(k->set, FX_KID_EC, MED_JWK_EC_P256));
    assert_null(med_jwks_find(k->set, FX_KID_RSA, MED_JWK_EC_P256));
    assert_null(med_jwks_find(k->set, "nope", MED_JWK_RSA));
    /* Foreign entries next to ours are skipped, not fatal. */
    char *one = fx_jwks_json(k->ec, "e1");
    json_error_t je;
    json_t *doc = json_loads(one, 0, &je);
    json_array_append_new(json_object_get(doc, "keys"), json_pack("{s:s}", "kty", "OKP"));
    json_array_append_new(json_object_get(doc, "keys"),
                          json_pack("{s:s,s:s,s:s}", "kty", "EC", "kid", "enc", "use", "enc"));
    char *txt = json_dumps(doc, 0);
    med_jwks *set = NULL;
    assert_int_equal(med_jwks_parse(txt, strlen(txt), &set, NULL), MED_OK);
    assert_int_equal(med_jwks_count(set), 1);
    med_jwks_free(set);
    free(txt);
    json_decref(doc);
    free(one);
}

static void write_file(const char *path, const char *text)
{
    /* Rotation by rename, as deploy tooling does: readers never see half a file. */
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(rename(tmp, path), 0);
}

static const char *verify_with(const med_jwks *set, const char *tok)
{
    static med_err e;
    med_jwt_expect x = { FX_ISS, FX_AUD, FX_NOW, MED_JWT_LEEWAY_S };
    med_jwt_claims c;
    med_err_clear(&e);
    return med_jwt_verify(tok, strlen(tok), set, &x, &c, &e) == MED_OK ? "" : e.code;
}

static void make_dir(char *dir, size_t cap)
{
    snprintf(dir, cap, "/tmp/med_jwks_XXXXXX");
    assert_non_null(mkdtemp(dir));
}

static void test_source_reloads_after_rotation(void **state)
{
    fx_keys *k = *state;
    char dir[64], path[128];
    make_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/jwks.json", dir);
    char *old_set = fx_jwks_json(k->rsa, "old"), *new_set = fx_jwks_json(k->rsa2, "new");
    write_file(path, old_set);
    med_jwks_source *src = NULL;
    assert_int_equal(med_jwks_source_open(path, MED_JWKS_REQUIRED, &src, NULL), MED_OK);
    char *old_tok = fx_mint(k->rsa, "old", fx_claims());
    char *new_tok = fx_mint(k->rsa2, "new", fx_claims());
    int64_t t = 1000000;
    assert_string_equal(verify_with(med_jwks_source_get(src, t), old_tok), "");
    assert_string_equal(verify_with(med_jwks_source_get(src, t), new_tok),
                        MED_R_AUTH_SIGNATURE_MISMATCH);
    write_file(path, new_set);
    /* Within the re-check interval the file is not looked at. */
    assert_string_equal(verify_with(med_jwks_source_get(src, t + 10), new_tok),
                        MED_R_AUTH_SIGNATURE_MISMATCH);
    const med_jwks *now = med_jwks_source_get(src, t + MED_JWKS_RECHECK_MS + 10);
    assert_string_equal(verify_with(now, new_tok), "");
    assert_string_equal(verify_with(now, old_tok), MED_R_AUTH_SIGNATURE_MISMATCH);
    assert_int_equal(med_jwks_source_reloads(src), 1);
    /* A broken file keeps the keys we had. */
    write_file(path, "{\"keys\":");
    now = med_jwks_source_get(src, t + 3 * MED_JWKS_RECHECK_MS);
    assert_string_equal(verify_with(now, new_tok), "");
    assert_int_equal(med_jwks_source_reloads(src), 1);
    med_jwks_source_free(src);
    free(old_tok);
    free(new_tok);
    free(old_set);
    free(new_set);
    unlink(path);
    rmdir(dir);
}

static void test_source_open_fails_without_file(void **state)
{
    (void)state;
    med_jwks_source *src = NULL;
    med_err e;
    assert_int_not_equal(
        med_jwks_source_open("/nonexistent/jwks.json", MED_JWKS_REQUIRED, &src, &e), MED_OK);
    assert_null(src);
    assert_string_equal(e.code, MED_R_CFG_INVALID_VALUE);
    assert_string_equal(e.field, "JWKS_PATH");
}

static void test_source_may_wait_for_the_file(void **state)
{
    fx_keys *k = *state;
    char dir[64], path[128];
    make_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/jwks.json", dir);
    med_jwks_source *src = NULL;
    assert_int_equal(med_jwks_source_open(path, MED_JWKS_MAY_WAIT, &src, NULL), MED_OK);
    char *tok = fx_mint(k->rsa, "late", fx_claims());
    assert_null(med_jwks_source_get(src, 0));
    assert_string_equal(verify_with(NULL, tok), MED_R_AUTH_SIGNATURE_MISMATCH);
    char *set = fx_jwks_json(k->rsa, "late");
    write_file(path, set);
    assert_string_equal(verify_with(med_jwks_source_get(src, MED_JWKS_RECHECK_MS), tok), "");
    med_jwks_source_free(src);
    free(set);
    free(tok);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_rejects_unusable_sets),
        cmocka_unit_test(test_parse_keeps_usable_keys),
        cmocka_unit_test(test_source_reloads_after_rotation),
        cmocka_unit_test(test_source_open_fails_without_file),
        cmocka_unit_test(test_source_may_wait_for_the_file),
    };
    return cmocka_run_group_tests(tests, fx_setup, fx_teardown);
}
