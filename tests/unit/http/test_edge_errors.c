/* The error body of 06 section 6 and the HTTP status of each failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "edge_errors.h"
#include "med/http_util.h"
#include "med/reason.h"

/* Parses body and checks it is exactly {"error":{"code","message","field"}}. */
static json_t *parse_error_body(const char *body, size_t len)
{
    json_error_t jerr;
    json_t *root = json_loadb(body, len, 0, &jerr);
    if (!root) fail_msg("error body is not JSON: %s", jerr.text);
    assert_int_equal(json_object_size(root), 1);
    json_t *e = json_object_get(root, "error");
    assert_true(json_is_object(e));
    assert_int_equal(json_object_size(e), 3);
    assert_true(json_is_string(json_object_get(e, "code")));
    assert_true(json_is_string(json_object_get(e, "message")));
    assert_non_null(json_object_get(e, "field"));
    return root;
}

static void body_with_field_names_the_path(void **state)
{
    (void)state;
    med_err e, inner;
    med_err_set(&e, MED_ERR_INVALID, MED_R_EDGE_FIELD_MISSING, "appContext.appId",
                "appContext.appId is required");
    char *body = NULL;
    size_t len = 0;
    assert_int_equal(edge_error_body(&e, &body, &len, &inner), MED_OK);
    assert_int_equal(len, strlen(body));
    json_t *root = parse_error_body(body, len);
    json_t *err = json_object_get(root, "error");
    assert_string_equal(json_string_value(json_object_get(err, "code")), "edge_field_missing");
    assert_string_equal(json_string_value(json_object_get(err, "message")),
                        "appContext.appId is required");
    assert_string_equal(json_string_value(json_object_get(err, "field")), "appContext.appId");
    json_decref(root);
    free(body);
}

static void body_without_field_has_null(void **state)
{
    (void)state;
    med_err e, inner;
    med_err_set(&e, MED_ERR_INVALID, MED_R_EDGE_JSON_MALFORMED, NULL, "malformed JSON");
    char *body = NULL;
    size_t len = 0;
    assert_int_equal(edge_error_body(&e, &body, &len, &inner), MED_OK);
    json_t *root = parse_error_body(body, len);
    assert_true(json_is_null(json_object_get(json_object_get(root, "error"), "field")));
    json_decref(root);
    free(body);
}

static void invalid_utf8_in_a_message_still_encodes(void **state)
{
    (void)state;
    char *body = NULL;
    size_t len = 0;
    med_err inner;
    assert_int_equal(
        med_http_error_body("edge_json_malformed", "bad \xff\xfe byte", NULL, &body, &len, &inner),
        MED_OK);
    json_decref(parse_error_body(body, len));
    free(body);
}

static void status_follows_the_reason_code(void **state)
{
    (void)state;
    const struct {
        const char *code;
        med_rc rc;
        int status;
    } cases[] = {
        { MED_R_EDGE_BODY_TOO_LARGE, MED_ERR_INVALID, 413 },
        { MED_R_EDGE_UNSUPPORTED_MEDIA, MED_ERR_INVALID, 415 },
        { MED_R_EDGE_JSON_TOO_DEEP, MED_ERR_INVALID, 400 },
        { MED_R_EDGE_JSON_MALFORMED, MED_ERR_INVALID, 400 },
        { MED_R_EDGE_FIELD_TYPE, MED_ERR_INVALID, 400 },
        { MED_R_EDGE_NOT_FOUND, MED_ERR_NOT_FOUND, 404 },
        { MED_R_EDGE_METHOD_NOT_ALLOWED, MED_ERR_INVALID, 405 },
        { MED_R_EDGE_NOT_IMPLEMENTED, MED_ERR_INTERNAL, 501 },
        { MED_R_EDGE_UPSTREAM_UNAVAILABLE, MED_ERR_UNAVAILABLE, 503 },
        { MED_R_AUTH_TOKEN_INVALID, MED_ERR_INVALID, 401 },
        { MED_R_AUTH_SIGNATURE_MISMATCH, MED_ERR_INVALID, 401 },
        { MED_R_AUTH_FORBIDDEN, MED_ERR_INVALID, 403 },
        { MED_R_INFRA_NOMEM, MED_ERR_NOMEM, 500 },
        { MED_R_INFRA_NATS_UNAVAILABLE, MED_ERR_UNAVAILABLE, 503 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        med_err e;
        med_err_set(&e, cases[i].rc, cases[i].code, NULL, "x");
        if (edge_error_status(&e) != cases[i].status)
            fail_msg("%s: status %d, want %d", cases[i].code, edge_error_status(&e),
                     cases[i].status);
    }
    assert_int_equal(edge_error_status(NULL), 500);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(body_with_field_names_the_path),
        cmocka_unit_test(body_without_field_has_null),
        cmocka_unit_test(invalid_utf8_in_a_message_still_encodes),
        cmocka_unit_test(status_follows_the_reason_code),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
