/* JSON-lines logging: fields, escaping, level filter. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "med/log.h"

typedef struct log_fixture {
    FILE *out;
} log_fixture;

static int setup(void **state)
{
    log_fixture *fx = calloc(1, sizeof *fx);
    if (!fx) return -1;
    fx->out = tmpfile();
    if (!fx->out) {
        free(fx);
        return -1;
    }
    med_log_init("svc_log", MED_LOG_INFO, fx->out);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    log_fixture *fx = *state;
    med_log_init("svc_log", MED_LOG_INFO, NULL); /* stop writing to the closed file */
    fclose(fx->out);
    free(fx);
    return 0;
}

/* All lines written so far, each parsed; the caller json_decref's. */
static json_t *read_lines(FILE *f)
{
    json_t *arr = json_array();
    assert_non_null(arr);
    rewind(f);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        assert_int_equal(line[n - 1], '\n');
        json_error_t jerr;
        json_t *obj = json_loadb(line, (size_t)n, 0, &jerr);
        if (!obj) fail_msg("not JSON (%s): %s", jerr.text, line);
        assert_true(json_is_object(obj));
        json_array_append_new(arr, obj);
    }
    free(line);
    return arr;
}

static const char *field(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static void assert_ts_format(const char *ts)
{
    assert_non_null(ts);
    assert_int_equal(strlen(ts), 24);
    int y, mo, d, h, mi, s, ms;
    char z;
    assert_int_equal(sscanf(ts, "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c", &y, &mo, &d, &h, &mi, &s, &ms, &z), 8);
    assert_int_equal(z, 'Z');
    assert_true(y >= 2020);
}

static void test_fields_and_ctx(void **state)
{
    log_fixture *fx = *state;
    med_log_ctx ctx = { .trace_id = "0af7651916cd43dd8448eb211c80319c", .request_id = "req_1",
                        .tenant_id = "t1", .job_id = "", .error_code = "infra_pg_unavailable" };
    MED_LOGW(&ctx, "pg down after %d tries", 3);
    MED_LOGI(NULL, "plain");
    json_t *lines = read_lines(fx->out);
    assert_int_equal(json_array_size(lines), 2);
    json_t *a = json_array_get(lines, 0);
    assert_ts_format(field(a, "ts"));
    assert_string_equal(field(a, "level"), "warn");
    assert_string_equal(field(a, "service"), "svc_log");
    assert_string_equal(field(a, "msg"), "pg down after 3 tries");
    assert_string_equal(field(a, "trace_id"), ctx.trace_id);
    assert_string_equal(field(a, "request_id"), "req_1");
    assert_string_equal(field(a, "tenant_id"), "t1");
    assert_string_equal(field(a, "error_code"), "infra_pg_unavailable");
    assert_null(json_object_get(a, "job_id")); /* empty is left out */
    json_t *b = json_array_get(lines, 1);
    assert_string_equal(field(b, "level"), "info");
    assert_int_equal(json_object_size(b), 4);
    json_decref(lines);
}

static void test_escaping(void **state)
{
    log_fixture *fx = *state;
    const char *nasty = "quote\" back\\ nl\n tab\t cr\r bell\x07 esc\x1b del\x7f snow\xe2\x98\x83 end";
    med_log_ctx ctx = { .tenant_id = "t\"1\n" };
    MED_LOGE(&ctx, "%s", nasty);
    MED_LOGE(NULL, "bad utf8 \xff\xfe and cut \xe2\x98 and overlong \xc0\xaf ok");
    json_t *lines = read_lines(fx->out);
    assert_int_equal(json_array_size(lines), 2);
    assert_string_equal(field(json_array_get(lines, 0), "msg"), nasty);
    assert_string_equal(field(json_array_get(lines, 0), "tenant_id"), "t\"1\n");
    const char *repl = field(json_array_get(lines, 1), "msg");
    assert_non_null(repl);
    assert_non_null(strstr(repl, "bad utf8 \xef\xbf\xbd\xef\xbf\xbd and cut "));
    assert_non_null(strstr(repl, " ok"));
    json_decref(lines);
    /* A raw control byte must never reach the file. */
    rewind(fx->out);
    int c, newlines = 0;
    while ((c = fgetc(fx->out)) != EOF) {
        if (c == '\n') newlines++;
        else assert_false(c < 0x20);
    }
    assert_int_equal(newlines, 2);
}

static void test_level_filter(void **state)
{
    log_fixture *fx = *state;
    MED_LOGD(NULL, "hidden");
    MED_LOGI(NULL, "shown");
    med_log_init("svc_log", MED_LOG_ERROR, fx->out);
    MED_LOGW(NULL, "hidden too");
    MED_LOGE(NULL, "shown too");
    med_log_init("svc_log", MED_LOG_DEBUG, fx->out);
    MED_LOGD(NULL, "debug now");
    json_t *lines = read_lines(fx->out);
    assert_int_equal(json_array_size(lines), 3);
    assert_string_equal(field(json_array_get(lines, 0), "msg"), "shown");
    assert_string_equal(field(json_array_get(lines, 1), "msg"), "shown too");
    assert_string_equal(field(json_array_get(lines, 2), "level"), "debug");
    json_decref(lines);
}

static void test_long_message(void **state)
{
    log_fixture *fx = *state;
    size_t n = 20000;
    char *big = malloc(n + 1);
    assert_non_null(big);
    for (size_t i = 0; i < n; i++) big[i] = (i % 50 == 49) ? '"' : (char)('a' + i % 26);
    big[n] = '\0';
    MED_LOGI(NULL, "%s", big);
    json_t *lines = read_lines(fx->out);
    assert_int_equal(json_array_size(lines), 1);
    assert_string_equal(field(json_array_get(lines, 0), "msg"), big);
    json_decref(lines);
    free(big);
}

#define LOG_THREADS 4
#define LINES_PER_THREAD 250

static void *log_worker(void *arg)
{
    long id = (long)(intptr_t)arg;
    char pad[3000];
    memset(pad, 'p', sizeof pad - 1);
    pad[sizeof pad - 1] = '\0';
    for (int i = 0; i < LINES_PER_THREAD; i++) MED_LOGI(NULL, "w%ld line %d %s", id, i, pad);
    return NULL;
}

/* Lines from many threads never interleave: each is one write(). */
static void test_concurrent_lines_intact(void **state)
{
    log_fixture *fx = *state;
    pthread_t t[LOG_THREADS];
    for (long i = 0; i < LOG_THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, log_worker, (void *)(intptr_t)i), 0);
    for (int i = 0; i < LOG_THREADS; i++) pthread_join(t[i], NULL);
    json_t *lines = read_lines(fx->out);
    assert_int_equal(json_array_size(lines), LOG_THREADS * LINES_PER_THREAD);
    json_decref(lines);
}

static void test_level_parse(void **state)
{
    (void)state;
    assert_int_equal(med_log_level_parse("debug"), MED_LOG_DEBUG);
    assert_int_equal(med_log_level_parse("info"), MED_LOG_INFO);
    assert_int_equal(med_log_level_parse("warn"), MED_LOG_WARN);
    assert_int_equal(med_log_level_parse("ERROR"), MED_LOG_ERROR);
    assert_int_equal(med_log_level_parse("chatty"), MED_LOG_INFO);
    assert_int_equal(med_log_level_parse(NULL), MED_LOG_INFO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fields_and_ctx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escaping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_level_filter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_message, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_lines_intact, setup, teardown),
        cmocka_unit_test(test_level_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
