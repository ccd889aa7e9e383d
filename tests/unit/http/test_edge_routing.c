/* The edge's route table and its pending-request table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "edge_pending.h"
#include "edge_routes.h"

static const edge_route *match(const char *p)
{
    return edge_route_match(p, strlen(p));
}

static edge_method method(const char *m)
{
    return edge_method_parse(m, strlen(m));
}

static void every_public_route_exists(void **state)
{
    (void)state;
    const char *paths[] = { "/v1/opportunities",
                            "/v1/events",
                            "/v1/config",
                            "/v1/config/publish",
                            "/v1/replay",
                            "/v1/reconciliation",
                            "/internal/v1/release/readiness/evaluate",
                            "/healthz",
                            "/readyz",
                            "/metrics" };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        const edge_route *r = match(paths[i]);
        if (!r) fail_msg("%s missing", paths[i]);
        assert_string_equal(edge_route_path(r->id), paths[i]);
    }
    assert_null(match("/v1/opportunities/"));
    assert_null(match("/v1/opportunitiesX"));
    assert_null(match("/"));
    assert_null(match(""));
    assert_string_equal(edge_route_path(EDGE_R__COUNT), EDGE_ROUTE_LABEL_OTHER);
}

static void methods_per_route(void **state)
{
    (void)state;
    assert_true(edge_route_allows(match("/v1/opportunities"), method("POST")));
    assert_false(edge_route_allows(match("/v1/opportunities"), method("GET")));
    assert_true(edge_route_allows(match("/v1/replay"), method("GET")));
    assert_true(edge_route_allows(match("/v1/replay"), method("POST")));
    assert_false(edge_route_allows(match("/v1/config"), method("POST")));
    assert_true(edge_route_allows(match("/readyz"), method("HEAD")));
    assert_false(edge_route_allows(match("/healthz"), method("DELETE")));
    assert_false(
        edge_route_allows(match("/healthz"), method("get"))); /* methods are case-sensitive */
    assert_false(match("/metrics")->needs_auth);
    assert_true(match("/v1/events")->needs_auth);
    assert_string_equal(match("/v1/replay")->allow, "GET, HEAD, POST");
}

static void pending_put_take_and_duplicates(void **state)
{
    (void)state;
    edge_pending_table *t = edge_pending_new();
    assert_non_null(t);
    int a = 1, b = 2;
    assert_int_equal(edge_pending_put(t, "req_a", &a), 0);
    assert_int_equal(edge_pending_put(t, "req_a", &b), -1);
    assert_int_equal(edge_pending_put(t, "req_b", &b), 0);
    assert_int_equal(edge_pending_count(t), 2);
    assert_ptr_equal(edge_pending_get(t, "req_b"), &b);
    assert_ptr_equal(edge_pending_take(t, "req_a"), &a);
    assert_null(edge_pending_take(t, "req_a")); /* a late second reply finds nothing */
    assert_null(edge_pending_get(t, "nope"));
    assert_int_equal(edge_pending_count(t), 1);
    edge_pending_free(t);
}

static void pending_survives_growth_and_drains(void **state)
{
    (void)state;
    enum { N = 5000 };
    static int values[N];
    edge_pending_table *t = edge_pending_new();
    char key[32];
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "req_%08x", i * 2654435761u);
        assert_int_equal(edge_pending_put(t, key, &values[i]), 0);
    }
    assert_int_equal(edge_pending_count(t), N);
    for (int i = 0; i < N; i += 7) {
        snprintf(key, sizeof key, "req_%08x", i * 2654435761u);
        assert_ptr_equal(edge_pending_take(t, key), &values[i]);
    }
    size_t left = edge_pending_count(t), drained = 0;
    while (edge_pending_take_any(t)) drained++;
    assert_int_equal(drained, left);
    assert_int_equal(edge_pending_count(t), 0);
    assert_null(edge_pending_take_any(t));
    edge_pending_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_public_route_exists),
        cmocka_unit_test(methods_per_route),
        cmocka_unit_test(pending_put_take_and_duplicates),
        cmocka_unit_test(pending_survives_growth_and_drains),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
