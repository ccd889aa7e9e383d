/* The edge side of GET /v1/config and POST /v1/config/publish without
 * servers (services/edge/edge_config_msg.c): query decoding, the
 * ConfigGetRequest it builds, and H's replies turned into HTTP answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "edge_config_msg.h"
#include "mediation/v1/config.pb-c.h"

static void query_params_are_percent_decoded(void **state)
{
    (void)state;
    const char *q = "appId=app%5Fdemo&requestAt=2026-11-23T10%3A00%3A00.000Z&x=a+b&empty=&flag";
    size_t n = strlen(q);
    char out[64];
    assert_int_equal(edge_cfg_query_param(q, n, "appId", out, sizeof out), 1);
    assert_string_equal(out, "app_demo");
    assert_int_equal(edge_cfg_query_param(q, n, "requestAt", out, sizeof out), 1);
    assert_string_equal(out, "2026-11-23T10:00:00.000Z");
    assert_int_equal(edge_cfg_query_param(q, n, "x", out, sizeof out), 1);
    assert_string_equal(out, "a b");
    assert_int_equal(edge_cfg_query_param(q, n, "empty", out, sizeof out), 1);
    assert_string_equal(out, "");
    assert_int_equal(edge_cfg_query_param(q, n, "flag", out, sizeof out), 1);
    assert_int_equal(edge_cfg_query_param(q, n, "app", out, sizeof out), 0);
    assert_int_equal(edge_cfg_query_param("a=%4", 4, "a", out, sizeof out), -1);
    assert_int_equal(edge_cfg_query_param("a=%00", 5, "a", out, sizeof out), -1);
    assert_int_equal(edge_cfg_query_param("a=abcdef", 8, "a", out, 4), -1);
}

static void adapter_map_shape(void **state)
{
    (void)state;
    assert_int_equal(edge_cfg_adapter_map_valid("a:1.0.0,b:2.0.0"), 0);
    assert_int_equal(edge_cfg_adapter_map_valid("NA"), 0);
    assert_int_equal(edge_cfg_adapter_map_valid(""), 0);
    assert_int_equal(edge_cfg_adapter_map_valid("a"), -1);
    assert_int_equal(edge_cfg_adapter_map_valid("a:"), -1);
    assert_int_equal(edge_cfg_adapter_map_valid(":1.0.0"), -1);
}

static void get_request_carries_query_tag_and_tenant(void **state)
{
    (void)state;
    const char *q = "appId=app_demo&placementId=plc_feed&environment=prod&schemaVersion=1.0.0"
                    "&sdkVersion=2.0.0&requestAt=2026-11-23T10:00:00.000Z&traceKeyOrNA=NA"
                    "&adapterVersionMapOrNA=a:1.0.0,b:2.0.0";
    edge_cfg_caller who = { "t_dev", NULL };
    uint8_t *buf = NULL;
    size_t len = 0;
    med_err e;
    assert_int_equal(edge_cfg_get_request(q, strlen(q), "\"abc\"", &who, 42, &buf, &len, &e),
                     MED_OK);
    Mediation__V1__ConfigGetRequest *r = mediation__v1__config_get_request__unpack(NULL, len, buf);
    assert_non_null(r);
    assert_string_equal(r->app_id, "app_demo");
    assert_string_equal(r->placement_id, "plc_feed");
    assert_string_equal(r->environment, "prod");
    assert_string_equal(r->sdk_version, "2.0.0");
    assert_string_equal(r->tenant_id, "t_dev");
    assert_int_equal(r->received_at_unix_ms, 42);
    assert_int_equal(r->if_none_match_opt_case,
                     MEDIATION__V1__CONFIG_GET_REQUEST__IF_NONE_MATCH_OPT_IF_NONE_MATCH);
    assert_string_equal(r->if_none_match, "\"abc\"");
    assert_int_equal(r->trace_key_or_na_opt_case, 0); /* "NA" = unset */
    assert_int_equal(r->n_adapter_version_map_or_na, 2);
    assert_null(r->auth);
    mediation__v1__config_get_request__free_unpacked(r, NULL);
    free(buf);
    assert_int_not_equal(edge_cfg_get_request("adapterVersionMapOrNA=x", 23, NULL, &who, 0, &buf,
                                              &len, &e),
                         MED_OK);
}

static void get_answer_304_has_tag_no_body(void **state)
{
    (void)state;
    Mediation__V1__ConfigGetReply rep = MEDIATION__V1__CONFIG_GET_REPLY__INIT;
    rep.http_status = 304;
    rep.etag = "e1";
    rep.ttl_sec = 120;
    rep.body_json = "";
    uint8_t buf[256];
    size_t len = mediation__v1__config_get_reply__pack(&rep, buf);
    edge_cfg_answer a;
    med_err e;
    assert_int_equal(edge_cfg_get_answer(buf, len, &a, &e), MED_OK);
    assert_int_equal(a.status, 304);
    assert_string_equal(a.etag, "e1");
    assert_int_equal(a.ttl_sec, 120);
    assert_null(a.body);
    edge_cfg_answer_free(&a);

    rep.http_status = 400;
    rep.body_json = "{\"error\":{}}";
    len = mediation__v1__config_get_reply__pack(&rep, buf);
    assert_int_equal(edge_cfg_get_answer(buf, len, &a, &e), MED_OK);
    assert_int_equal(a.status, 400);
    assert_string_equal(a.etag, ""); /* no ETag on errors */
    assert_string_equal(a.body, "{\"error\":{}}");
    edge_cfg_answer_free(&a);
    assert_int_not_equal(edge_cfg_get_answer((const uint8_t *)"\xff\xff", 2, &a, &e), MED_OK);
}

static void publish_answer_relays_status_and_body(void **state)
{
    (void)state;
    Mediation__V1__ConfigPublishReply rep = MEDIATION__V1__CONFIG_PUBLISH_REPLY__INIT;
    rep.http_status = 409;
    rep.retry_after_sec = 0;
    rep.body_json = "{\"publishState\":\"failed\"}";
    uint8_t buf[256];
    size_t len = mediation__v1__config_publish_reply__pack(&rep, buf);
    edge_cfg_answer a;
    med_err e;
    assert_int_equal(edge_cfg_publish_answer(buf, len, &a, &e), MED_OK);
    assert_int_equal(a.status, 409);
    assert_string_equal(a.body, rep.body_json);
    edge_cfg_answer_free(&a);
}

static void publish_request_keeps_raw_body_and_dev_identity(void **state)
{
    (void)state;
    edge_cfg_dev_auth dev;
    edge_cfg_dev_auth_init(&dev, "t_dev", "alice", 1000000);
    edge_cfg_caller who = { "t_dev", &dev.msg };
    const char *body = "{\"operatorId\":\"alice\"}";
    uint8_t *buf = NULL;
    size_t len = 0;
    med_err e;
    assert_int_equal(edge_cfg_publish_request(body, strlen(body), &who, 7, &buf, &len, &e), MED_OK);
    Mediation__V1__ConfigPublishRequest *r =
        mediation__v1__config_publish_request__unpack(NULL, len, buf);
    assert_non_null(r);
    assert_string_equal(r->body_json, body);
    assert_string_equal(r->tenant_id, "t_dev");
    assert_non_null(r->auth_context_lite);
    assert_string_equal(r->auth_context_lite->actor_id, "alice");
    assert_string_equal(r->auth_context_lite->role, "config_admin");
    assert_true(r->auth_context_lite->issued_at_unix_ms < 1000000);
    assert_true(r->auth_context_lite->expires_at_unix_ms > 1000000);
    mediation__v1__config_publish_request__free_unpacked(r, NULL);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(query_params_are_percent_decoded),
        cmocka_unit_test(adapter_map_shape),
        cmocka_unit_test(get_request_carries_query_tag_and_tenant),
        cmocka_unit_test(get_answer_304_has_tag_no_body),
        cmocka_unit_test(publish_answer_relays_status_and_body),
        cmocka_unit_test(publish_request_keeps_raw_body_and_dev_identity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
