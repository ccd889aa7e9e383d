/* Edge input validation (services/edge/edge_json.c): the table of bodies
 * the edge must refuse, with the reason code and field path each gets,
 * and the bodies it must let through. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "edge_json.h"
#include "med/reason.h"

static const char k_good[] =
    "{\"placementId\":\"plc_feed\",\"appContext\":{\"appId\":\"app_demo\",\"sessionId\":\"s1\"},"
    "\"triggerContext\":{\"triggerType\":\"answer_end\"}}";

typedef struct bad_case {
    const char *name;
    const char *body;
    const char *code;
    const char *field; /* "" = no field */
} bad_case;

static const bad_case k_bad[] = {
    { "empty", "", "edge_json_malformed", "" },
    { "truncated", "{\"placementId\":", "edge_json_malformed", "" },
    { "trailing garbage", "{} x", "edge_json_malformed", "" },
    { "single quotes", "{'a':1}", "edge_json_malformed", "" },
    { "nul in string", "{\"placementId\":\"a\\u0000b\"}", "edge_json_malformed", "" },
    { "duplicate key", "{\"placementId\":\"a\",\"placementId\":\"b\"}", "edge_json_malformed", "" },
    { "array root", "[1,2]", "edge_field_wrong_type", "" },
    { "string root", "\"x\"", "edge_field_wrong_type", "" },
    { "missing placementId", "{\"appContext\":{\"appId\":\"a\"},\"triggerContext\":{}}",
      "edge_field_missing", "placementId" },
    { "null placementId",
      "{\"placementId\":null,\"appContext\":{\"appId\":\"a\"},\"triggerContext\":{}}",
      "edge_field_missing", "placementId" },
    { "number placementId",
      "{\"placementId\":7,\"appContext\":{\"appId\":\"a\"},\"triggerContext\":{}}",
      "edge_field_wrong_type", "placementId" },
    { "missing appContext", "{\"placementId\":\"p\",\"triggerContext\":{}}", "edge_field_missing",
      "appContext" },
    { "appContext not object", "{\"placementId\":\"p\",\"appContext\":[],\"triggerContext\":{}}",
      "edge_field_wrong_type", "appContext" },
    { "missing appId", "{\"placementId\":\"p\",\"appContext\":{},\"triggerContext\":{}}",
      "edge_field_missing", "appContext.appId" },
    { "appId bool", "{\"placementId\":\"p\",\"appContext\":{\"appId\":true},\"triggerContext\":{}}",
      "edge_field_wrong_type", "appContext.appId" },
    { "missing triggerContext", "{\"placementId\":\"p\",\"appContext\":{\"appId\":\"a\"}}",
      "edge_field_missing", "triggerContext" },
    { "triggerContext string",
      "{\"placementId\":\"p\",\"appContext\":{\"appId\":\"a\"},\"triggerContext\":\"x\"}",
      "edge_field_wrong_type", "triggerContext" },
    { "empty placementId",
      "{\"placementId\":\"\",\"appContext\":{\"appId\":\"a\"},\"triggerContext\":{}}",
      "edge_field_invalid_value", "placementId" },
    { "placementId with CRLF",
      "{\"placementId\":\"a\\r\\nX-Evil: "
      "1\",\"appContext\":{\"appId\":\"a\"},\"triggerContext\":{}}",
      "edge_field_invalid_value", "placementId" },
    { "appId with space",
      "{\"placementId\":\"p\",\"appContext\":{\"appId\":\"a b\"},\"triggerContext\":{}}",
      "edge_field_invalid_value", "appContext.appId" },
};

static void bad_bodies_get_their_code_and_field(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof k_bad / sizeof k_bad[0]; i++) {
        const bad_case *c = &k_bad[i];
        med_err e;
        med_err_clear(&e);
        json_t *root = (json_t *)0x1;
        edge_opportunity_view v;
        med_rc rc = edge_opportunity_validate(c->body, strlen(c->body), NULL, &root, &v, &e);
        if (rc != MED_ERR_INVALID || strcmp(e.code, c->code) != 0 || strcmp(e.field, c->field) != 0)
            fail_msg("case '%s': rc=%d code=%s field=%s (want %s / %s)", c->name, rc, e.code,
                     e.field, c->code, c->field);
        assert_null(root);
        assert_true(e.message[0] != '\0');
    }
}

static void good_body_passes_with_its_ids(void **state)
{
    (void)state;
    med_err e;
    json_t *root = NULL;
    edge_opportunity_view v;
    assert_int_equal(edge_opportunity_validate(k_good, strlen(k_good), NULL, &root, &v, &e),
                     MED_OK);
    assert_non_null(root);
    assert_string_equal(v.placement_id, "plc_feed");
    assert_string_equal(v.app_id, "app_demo");
    json_decref(root);
}

/* n nested arrays around a scalar, as the value of placementId's sibling. */
static char *nested(int n)
{
    char *s = malloc((size_t)n * 2 + 64);
    assert_non_null(s);
    size_t o = 0;
    for (int i = 0; i < n; i++) s[o++] = '[';
    s[o++] = '1';
    for (int i = 0; i < n; i++) s[o++] = ']';
    s[o] = '\0';
    return s;
}

static void depth_32_is_accepted_33_is_too_deep(void **state)
{
    (void)state;
    med_err e;
    char *ok = nested(32), *deep = nested(33);
    json_t *doc = NULL;
    assert_int_equal(edge_json_parse(ok, strlen(ok), NULL, &doc, &e), MED_OK);
    json_decref(doc);
    assert_int_equal(edge_json_parse(deep, strlen(deep), NULL, &doc, &e), MED_ERR_INVALID);
    assert_string_equal(e.code, MED_R_EDGE_JSON_TOO_DEEP);
    assert_null(doc);
    free(ok);
    free(deep);
}

static void depth_counts_objects_and_ignores_brackets_in_strings(void **state)
{
    (void)state;
    med_err e;
    /* 33 levels of objects. */
    char body[1024] = "";
    for (int i = 0; i < 33; i++) strcat(body, "{\"a\":");
    strcat(body, "1");
    for (int i = 0; i < 33; i++) strcat(body, "}");
    assert_int_equal(edge_json_depth_check(body, strlen(body), 32, &e), MED_ERR_INVALID);
    assert_string_equal(e.code, MED_R_EDGE_JSON_TOO_DEEP);
    /* Brackets inside strings (and escaped quotes) are not nesting. */
    const char *s =
        "{\"a\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\"{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{\"}";
    assert_int_equal(edge_json_depth_check(s, strlen(s), 2, &e), MED_OK);
}

static void a_million_brackets_is_too_deep_not_a_crash(void **state)
{
    (void)state;
    size_t n = 1024 * 1024 - 1;
    char *body = malloc(n);
    assert_non_null(body);
    memset(body, '[', n);
    med_err e;
    json_t *doc = NULL;
    assert_int_equal(edge_json_parse(body, n, NULL, &doc, &e), MED_ERR_INVALID);
    assert_string_equal(e.code, MED_R_EDGE_JSON_TOO_DEEP);
    free(body);
}

static void body_over_the_limit_is_too_large(void **state)
{
    (void)state;
    med_err e;
    json_t *doc = NULL;
    edge_json_limits lim = { 16, 32 };
    const char *body = "{\"placementId\":\"plc_feed\"}";
    assert_int_equal(edge_json_parse(body, strlen(body), &lim, &doc, &e), MED_ERR_INVALID);
    assert_string_equal(e.code, MED_R_EDGE_BODY_TOO_LARGE);
    assert_string_equal(e.field, "");
    /* Exactly at the limit is fine. */
    lim.max_bytes = strlen(body);
    assert_int_equal(edge_json_parse(body, strlen(body), &lim, &doc, &e), MED_OK);
    json_decref(doc);
    /* The default limit is 1 MiB. */
    assert_int_equal(edge_json_default_limits.max_bytes, 1024 * 1024);
    assert_int_equal(edge_json_default_limits.max_depth, 32);
}

static void field_rules_report_the_first_failing_path(void **state)
{
    (void)state;
    const edge_field_rule rules[] = {
        { "a", EDGE_JT_OBJECT, 1 },  { "a.n", EDGE_JT_INTEGER, 1 }, { "a.opt", EDGE_JT_ARRAY, 0 },
        { "b", EDGE_JT_BOOLEAN, 0 }, { "c", EDGE_JT_NUMBER, 0 },
    };
    med_err e;
    json_t *doc = json_loads("{\"a\":{\"n\":1.5},\"b\":true}", 0, NULL);
    assert_int_equal(edge_json_check_fields(doc, rules, 5, &e), MED_ERR_INVALID);
    assert_string_equal(e.code, MED_R_EDGE_FIELD_TYPE);
    assert_string_equal(e.field, "a.n");
    json_decref(doc);
    doc = json_loads("{\"a\":{\"n\":1,\"opt\":{}}}", 0, NULL);
    assert_int_equal(edge_json_check_fields(doc, rules, 5, &e), MED_ERR_INVALID);
    assert_string_equal(e.field, "a.opt");
    json_decref(doc);
    doc = json_loads("{\"a\":{\"n\":1},\"c\":2}", 0, NULL);
    assert_int_equal(edge_json_check_fields(doc, rules, 5, &e), MED_OK);
    json_decref(doc);
}

static void content_type_must_be_json(void **state)
{
    (void)state;
    assert_true(edge_content_type_is_json("application/json"));
    assert_true(edge_content_type_is_json("Application/JSON; charset=utf-8"));
    assert_true(edge_content_type_is_json("  application/json ;charset=UTF-8"));
    assert_false(edge_content_type_is_json(NULL));
    assert_false(edge_content_type_is_json("text/plain"));
    assert_false(edge_content_type_is_json("application/jsonx"));
    assert_false(edge_content_type_is_json("application/json-seq"));
    assert_false(edge_content_type_is_json(""));
}

static void query_strings_need_valid_escapes(void **state)
{
    (void)state;
    med_err e;
    const char *ok = "granularity=hourly&windowStart=2026-11-23T10%3A00%3A00Z&a=b+c";
    assert_int_equal(edge_query_check(ok, strlen(ok), &e), MED_OK);
    assert_int_equal(edge_query_check(NULL, 0, &e), MED_OK);
    const char *bad[] = { "a=%zz", "a=%4", "a=%", "a=%00", "a=\x01" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(edge_query_check(bad[i], strlen(bad[i]), &e), MED_ERR_INVALID);
        assert_string_equal(e.code, MED_R_EDGE_QUERY_MALFORMED);
    }
}

static void ids_are_printable_and_bounded(void **state)
{
    (void)state;
    char long_id[EDGE_ID_MAX_LEN + 2];
    memset(long_id, 'a', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    assert_false(edge_id_valid(long_id));
    long_id[EDGE_ID_MAX_LEN] = '\0';
    assert_true(edge_id_valid(long_id));
    assert_true(edge_id_valid("plc_feed:1"));
    assert_false(edge_id_valid(""));
    assert_false(edge_id_valid(NULL));
    assert_false(edge_id_valid("caf\xc3\xa9"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_bodies_get_their_code_and_field),
        cmocka_unit_test(good_body_passes_with_its_ids),
        cmocka_unit_test(depth_32_is_accepted_33_is_too_deep),
        cmocka_unit_test(depth_counts_objects_and_ignores_brackets_in_strings),
        cmocka_unit_test(a_million_brackets_is_too_deep_not_a_crash),
        cmocka_unit_test(body_over_the_limit_is_too_large),
        cmocka_unit_test(field_rules_report_the_first_failing_path),
        cmocka_unit_test(content_type_must_be_json),
        cmocka_unit_test(query_strings_need_valid_escapes),
        cmocka_unit_test(ids_are_printable_and_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
