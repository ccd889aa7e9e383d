/* Connecting to a port nobody listens on fails cleanly with UNAVAILABLE and
 * the infrastructure reason code, after the configured retries. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "med/pg.h"
#include "med/reason.h"
#include "med/redis.h"

static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_pg_connect_refused(void **state)
{
    (void)state;
    char dsn[128];
    snprintf(dsn, sizeof dsn, "host=127.0.0.1 port=%d dbname=x user=x connect_timeout=2",
             closed_port());
    med_pg_opts opts = { .dsn = dsn, .connect_retries = 3, .retry_wait_ms = 40 };
    med_pg *pg = (med_pg *)(uintptr_t)1;
    med_err err = { 0 };
    long long t0 = now_ms();
    assert_int_equal(med_pg_connect(&opts, &pg, &err), MED_ERR_UNAVAILABLE);
    assert_true(now_ms() - t0 >= 80); /* two waits between three attempts */
    assert_null(pg);
    assert_string_equal(err.code, MED_R_INFRA_PG_UNAVAILABLE);
}

static void test_pg_bad_arguments(void **state)
{
    (void)state;
    med_err err = { 0 };
    med_pg *pg = NULL;
    assert_int_equal(med_pg_connect(NULL, &pg, &err), MED_ERR_INVALID);
    med_pg_opts opts = { 0 };
    assert_int_equal(med_pg_connect(&opts, &pg, &err), MED_ERR_INVALID);
    assert_null(med_pg_conn(NULL, &err));
    med_pg_close(NULL);
}

static void test_redis_connect_refused(void **state)
{
    (void)state;
    med_redis *r = (med_redis *)(uintptr_t)1;
    med_err err = { 0 };
    assert_int_equal(med_redis_connect("127.0.0.1", closed_port(), 500, &r, &err),
                     MED_ERR_UNAVAILABLE);
    assert_null(r);
    assert_string_equal(err.code, MED_R_INFRA_REDIS_UNAVAILABLE);
    assert_int_equal(med_redis_connect("127.0.0.1", 0, 500, &r, &err), MED_ERR_INVALID);
    med_redis_close(NULL);
}

/* A server that accepts connections but never answers: every command is
 * bounded by the socket timeout (one try, one reconnect, one more try). */
static void test_redis_silent_server_times_out(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 8), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);

    med_redis *r = NULL;
    med_err err = { 0 };
    assert_int_equal(med_redis_connect("127.0.0.1", ntohs(a.sin_port), 200, &r, &err), MED_OK);
    long long t0 = now_ms();
    assert_int_equal(med_redis_ping(r, &err), MED_ERR_UNAVAILABLE);
    long long took = now_ms() - t0;
    assert_true(took >= 350);
    assert_true(took < 3000);
    assert_string_equal(err.code, MED_R_INFRA_REDIS_UNAVAILABLE);
    med_redis_close(r);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pg_connect_refused),
        cmocka_unit_test(test_pg_bad_arguments),
        cmocka_unit_test(test_redis_connect_refused),
        cmocka_unit_test(test_redis_silent_server_times_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
