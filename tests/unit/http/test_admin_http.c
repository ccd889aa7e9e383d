/* The admin HTTP server on a real loopback socket: port 0 picks a port,
 * /healthz, /readyz (503 naming the missing dependency, then 200),
 * /metrics in Prometheus text, 404/405 with the JSON error body, and a
 * clean stop while a client keeps its connection open. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <curl/curl.h>

#include "med/admin_http.h"
#include "med/metrics.h"

typedef struct resp {
    long status;
    char body[4096];
    size_t len;
    char ctype[128];
} resp;

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
    resp *r = ud;
    size_t add = size * n;
    if (r->len + add >= sizeof r->body) add = sizeof r->body - 1 - r->len;
    memcpy(r->body + r->len, p, add);
    r->len += add;
    r->body[r->len] = '\0';
    return size * n;
}

static void http_get(CURL *c, int port, const char *path, const char *method, resp *out)
{
    memset(out, 0, sizeof *out);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) fail_msg("GET %s: %s", path, curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    char *ct = NULL;
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
    snprintf(out->ctype, sizeof out->ctype, "%s", ct ? ct : "");
}

static atomic_int g_redis_up;

static int fake_redis(void *ud)
{
    (void)ud;
    return atomic_load(&g_redis_up);
}

static int always_up(void *ud)
{
    (void)ud;
    return 1;
}

static void admin_server_answers_ops_routes(void **state)
{
    (void)state;
    med_readiness *r = med_readiness_new(1000);
    med_readiness_add(r, "nats", always_up, NULL);
    med_readiness_add(r, "redis", fake_redis, NULL);
    med_readiness_set_started(r, 1);
    med_readiness_probe_now(r);
    med_counter_inc(med_counter_get("med_test_admin_total", "test counter", ""));

    med_admin *a = NULL;
    med_err e;
    assert_int_equal(med_admin_start("127.0.0.1", 0, r, "test", &a, &e), MED_OK);
    int port = med_admin_port(a);
    assert_true(port > 0);

    CURL *c = curl_easy_init(); /* one handle: the connection is kept alive */
    resp out;
    http_get(c, port, "/healthz", "GET", &out);
    assert_int_equal(out.status, 200);
    assert_string_equal(out.body, "{\"status\":\"ok\"}");
    assert_string_equal(out.ctype, "application/json");

    http_get(c, port, "/readyz", "GET", &out);
    assert_int_equal(out.status, 503);
    assert_string_equal(out.body, "{\"status\":\"not_ready\",\"missing\":[\"redis\"]}");
    atomic_store(&g_redis_up, 1);
    med_readiness_probe_now(r);
    http_get(c, port, "/readyz", "GET", &out);
    assert_int_equal(out.status, 200);

    http_get(c, port, "/metrics", "GET", &out);
    assert_int_equal(out.status, 200);
    assert_string_equal(out.ctype, "text/plain; version=0.0.4");
    assert_non_null(strstr(out.body, "med_test_admin_total 1"));
    assert_non_null(strstr(out.body, "med_readiness_up{dependency=\"redis\"} 1"));

    http_get(c, port, "/nope", "GET", &out);
    assert_int_equal(out.status, 404);
    assert_non_null(strstr(out.body, "\"code\":\"edge_route_not_found\""));
    http_get(c, port, "/healthz", "POST", &out);
    assert_int_equal(out.status, 405);

    /* Stop with the keep-alive connection still open. */
    med_admin_stop(a);
    curl_easy_cleanup(c);
    med_readiness_free(r);
    med_metrics_reset();
}

static void two_servers_get_two_ports(void **state)
{
    (void)state;
    med_readiness *r = med_readiness_new(1000);
    med_admin *a = NULL, *b = NULL;
    med_err e;
    assert_int_equal(med_admin_start("127.0.0.1", 0, r, "a", &a, &e), MED_OK);
    assert_int_equal(med_admin_start("127.0.0.1", 0, r, "b", &b, &e), MED_OK);
    assert_int_not_equal(med_admin_port(a), med_admin_port(b));
    /* The same port twice cannot bind. */
    med_admin *c = NULL;
    assert_int_not_equal(med_admin_start("127.0.0.1", med_admin_port(a), r, "c", &c, &e), MED_OK);
    assert_null(c);
    med_admin_stop(a);
    med_admin_stop(b);
    med_readiness_free(r);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(admin_server_answers_ops_routes),
        cmocka_unit_test(two_servers_get_two_ports),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
