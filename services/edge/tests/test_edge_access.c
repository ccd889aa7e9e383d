/* Who may call the events and query routes (06 section 4), and which app
 * an events batch is authenticated for (F.2's Med-App). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "edge_access.h"
#include "edge_events_msg.h"
#include "edge_json.h"
#include "med/reason.h"

static med_auth_context ctx_of(unsigned role, const char *const *apps, int n_apps)
{
    med_auth_context c;
    memset(&c, 0, sizeof c);
    snprintf(c.tenant, sizeof c.tenant, "t1");
    snprintf(c.actor_id, sizeof c.actor_id, "actor");
    c.principal = role;
    for (int i = 0; i < n_apps; i++) snprintf(c.apps.v[i], sizeof c.apps.v[i], "%s", apps[i]);
    c.apps.n = n_apps;
    return c;
}

/* Runs edge_events_app on body; returns rc, *app the result. */
static med_rc events_app(const med_auth_context *c, const char *body, char *app, med_err *e)
{
    json_t *doc = json_loads(body, 0, NULL);
    assert_non_null(doc);
    med_err_clear(e);
    med_rc rc = edge_events_app(c, doc, app, EDGE_ID_MAX_LEN + 1, e);
    json_decref(doc);
    return rc;
}

static void query_routes_need_reviewer_or_admin(void **state)
{
    (void)state;
    med_err e;
    med_auth_context c = ctx_of(MED_ROLE_REVIEWER, NULL, 0);
    assert_int_equal(edge_access_query(&c, &e), MED_OK);
    assert_false(edge_access_raw_read(&c));
    c = ctx_of(MED_ROLE_ADMIN, NULL, 0);
    assert_int_equal(edge_access_query(&c, &e), MED_OK);
    assert_true(edge_access_raw_read(&c));
    const unsigned others[] = { MED_ROLE_SDK, MED_ROLE_PUBLISHER, MED_ROLE_SERVICE };
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        c = ctx_of(others[i], NULL, 0);
        med_err_clear(&e);
        assert_int_equal(edge_access_query(&c, &e), MED_ERR_INVALID);
        assert_string_equal(e.code, MED_R_AUTH_FORBIDDEN);
        assert_false(edge_access_raw_read(&c));
    }
    /* Auth off (dev/ci): no identity to check. */
    assert_int_equal(edge_access_query(NULL, &e), MED_OK);
    assert_true(edge_access_raw_read(NULL));
}

static void events_need_role_sdk(void **state)
{
    (void)state;
    static const char *const any[] = { "*" };
    char app[EDGE_ID_MAX_LEN + 1];
    med_err e;
    const unsigned others[] = { MED_ROLE_PUBLISHER, MED_ROLE_REVIEWER, MED_ROLE_ADMIN,
                                MED_ROLE_SERVICE };
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        med_auth_context c = ctx_of(others[i], any, 1);
        assert_int_equal(events_app(&c, "{\"appId\":\"app_demo\"}", app, &e), MED_ERR_INVALID);
        assert_string_equal(e.code, MED_R_AUTH_FORBIDDEN);
    }
    med_auth_context none = ctx_of(MED_ROLE_SDK, NULL, 0);
    assert_int_equal(events_app(&none, "{\"appId\":\"app_demo\"}", app, &e), MED_ERR_INVALID);
    assert_string_equal(e.code, MED_R_AUTH_FORBIDDEN);
}

static void a_single_app_token_names_the_app_and_f_judges_the_body(void **state)
{
    (void)state;
    static const char *const one[] = { "app_chat_main" };
    med_auth_context c = ctx_of(MED_ROLE_SDK, one, 1);
    char app[EDGE_ID_MAX_LEN + 1];
    med_err e;
    assert_int_equal(events_app(&c, "{\"appId\":\"app_chat_main\"}", app, &e), MED_OK);
    assert_string_equal(app, "app_chat_main");
    /* Another appId in the body: F answers 403 f_envelope_app_mismatch
     * (after its own earlier envelope checks), so the edge passes it on
     * with the token's app. */
    assert_int_equal(events_app(&c, "{\"appId\":\"app_other\"}", app, &e), MED_OK);
    assert_string_equal(app, "app_chat_main");
    assert_int_equal(events_app(&c, "{\"events\":[]}", app, &e), MED_OK);
    assert_string_equal(app, "app_chat_main");
}

static void a_multi_app_token_needs_the_body_app_inside_apps(void **state)
{
    (void)state;
    static const char *const two[] = { "app_a", "app_b" };
    med_auth_context c = ctx_of(MED_ROLE_SDK, two, 2);
    char app[EDGE_ID_MAX_LEN + 1];
    med_err e;
    assert_int_equal(events_app(&c, "{\"appId\":\"app_b\"}", app, &e), MED_OK);
    assert_string_equal(app, "app_b");
    assert_int_equal(events_app(&c, "{\"appId\":\"app_c\"}", app, &e), MED_ERR_INVALID);
    assert_string_equal(e.code, MED_R_AUTH_FORBIDDEN);
    assert_string_equal(e.field, "appId");
    /* No appId to judge: F's f_envelope_missing_required, no app. */
    assert_int_equal(events_app(&c, "{\"events\":[]}", app, &e), MED_OK);
    assert_string_equal(app, "");
    static const char *const any[] = { "*" };
    c = ctx_of(MED_ROLE_SDK, any, 1);
    assert_int_equal(events_app(&c, "{\"appId\":\"app_z\"}", app, &e), MED_OK);
    assert_string_equal(app, "app_z");
    /* Covered by "*" but unusable as a header value: F reports it. */
    assert_int_equal(events_app(&c, "{\"appId\":\"app z\"}", app, &e), MED_OK);
    assert_string_equal(app, "");
}

static void auth_off_takes_the_body_app(void **state)
{
    (void)state;
    char app[EDGE_ID_MAX_LEN + 1];
    med_err e;
    assert_int_equal(events_app(NULL, "{\"appId\":\"app_demo\"}", app, &e), MED_OK);
    assert_string_equal(app, "app_demo");
    assert_int_equal(events_app(NULL, "{\"appId\":7}", app, &e), MED_OK);
    assert_string_equal(app, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(query_routes_need_reviewer_or_admin),
        cmocka_unit_test(events_need_role_sdk),
        cmocka_unit_test(a_single_app_token_names_the_app_and_f_judges_the_body),
        cmocka_unit_test(a_multi_app_token_needs_the_body_app_inside_apps),
        cmocka_unit_test(auth_off_takes_the_body_app),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
