/* Prometheus registry: exposition text, identity of handles, histograms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "med/metrics.h"

static int reset(void **state)
{
    (void)state;
    med_metrics_reset();
    return 0;
}

static char *render(void)
{
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(med_metrics_render(&text, &len), 0);
    assert_non_null(text);
    assert_int_equal(strlen(text), len);
    return text;
}

static void assert_has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
        if ((p == text || p[-1] == '\n') && p[n] == '\n') return;
    fail_msg("missing line '%s' in:\n%s", line, text);
}

static int count_occurrences(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle)) n++;
    return n;
}

static void test_counter_and_labels(void **state)
{
    (void)state;
    med_counter *ack = med_counter_get("med_consumer_messages_total", "Messages handled.",
                                       "stage=\"a\",outcome=\"ack\"");
    med_counter *nak = med_counter_get("med_consumer_messages_total", "Messages handled.",
                                       "stage=\"a\",outcome=\"nak\"");
    assert_non_null(ack);
    assert_non_null(nak);
    assert_ptr_not_equal(ack, nak);
    assert_ptr_equal(ack, med_counter_get("med_consumer_messages_total", "ignored",
                                          "stage=\"a\",outcome=\"ack\""));
    med_counter_inc(ack);
    med_counter_add(ack, 41);
    med_counter_inc(nak);
    med_counter *plain = med_counter_get("med_starts_total", "Starts.", NULL);
    med_counter_inc(plain);

    char *text = render();
    assert_has_line(text, "# HELP med_consumer_messages_total Messages handled.");
    assert_has_line(text, "# TYPE med_consumer_messages_total counter");
    assert_has_line(text, "med_consumer_messages_total{stage=\"a\",outcome=\"ack\"} 42");
    assert_has_line(text, "med_consumer_messages_total{stage=\"a\",outcome=\"nak\"} 1");
    assert_has_line(text, "med_starts_total 1");
    assert_int_equal(count_occurrences(text, "# HELP med_consumer_messages_total "), 1);
    assert_int_equal(count_occurrences(text, "# TYPE med_consumer_messages_total "), 1);
    /* HELP/TYPE come before the family's samples. */
    assert_true(strstr(text, "# TYPE med_consumer_messages_total") <
                strstr(text, "med_consumer_messages_total{"));
    free(text);
}

static void test_gauge(void **state)
{
    (void)state;
    med_gauge *g = med_gauge_get("med_inflight", "In flight.", "stage=\"f\"");
    assert_non_null(g);
    med_gauge_set(g, 2.5);
    med_gauge_add(g, -1.25);
    med_gauge *big = med_gauge_get("med_big", "Big.", "");
    med_gauge_set(big, 1e21);
    char *text = render();
    assert_has_line(text, "# TYPE med_inflight gauge");
    assert_has_line(text, "med_inflight{stage=\"f\"} 1.25");
    assert_has_line(text, "med_big 1e+21");
    free(text);
}

static void test_histogram_cumulative(void **state)
{
    (void)state;
    const double bounds[] = { 0.125, 0.5, 1 };
    med_histogram *h = med_histogram_get("med_stage_seconds", "Stage latency.", "stage=\"e\"",
                                         bounds, 3);
    assert_non_null(h);
    med_histogram_observe(h, 0.0625);
    med_histogram_observe(h, 0.125); /* upper bounds are inclusive */
    med_histogram_observe(h, 0.25);
    med_histogram_observe(h, 0.75);
    med_histogram_observe(h, 7);
    char *text = render();
    assert_has_line(text, "# TYPE med_stage_seconds histogram");
    assert_has_line(text, "med_stage_seconds_bucket{stage=\"e\",le=\"0.125\"} 2");
    assert_has_line(text, "med_stage_seconds_bucket{stage=\"e\",le=\"0.5\"} 3");
    assert_has_line(text, "med_stage_seconds_bucket{stage=\"e\",le=\"1\"} 4");
    assert_has_line(text, "med_stage_seconds_bucket{stage=\"e\",le=\"+Inf\"} 5");
    assert_has_line(text, "med_stage_seconds_sum{stage=\"e\"} 8.1875");
    assert_has_line(text, "med_stage_seconds_count{stage=\"e\"} 5");
    free(text);
}

static void test_histogram_defaults_no_labels(void **state)
{
    (void)state;
    med_histogram *h = med_histogram_get("med_req_seconds", "Latency.", "", NULL, 0);
    assert_non_null(h);
    med_histogram_observe(h, 0.0004);
    med_histogram_observe(h, 20);
    char *text = render();
    assert_has_line(text, "med_req_seconds_bucket{le=\"0.0005\"} 1");
    assert_has_line(text, "med_req_seconds_bucket{le=\"10\"} 1");
    assert_has_line(text, "med_req_seconds_bucket{le=\"+Inf\"} 2");
    assert_has_line(text, "med_req_seconds_count 2");
    assert_int_equal(count_occurrences(text, "med_req_seconds_bucket{"), 15);
    free(text);
}

static void test_rejects_bad_registrations(void **state)
{
    (void)state;
    assert_non_null(med_counter_get("med_x_total", "X.", ""));
    assert_null(med_gauge_get("med_x_total", "X.", "")); /* one name, one type */
    assert_null(med_counter_get("9bad", "X.", ""));
    assert_null(med_counter_get("bad-name", "X.", ""));
    assert_null(med_counter_get("", "X.", ""));
    assert_null(med_counter_get("med_y_total", "X.", "a=\"1\"\nb 2"));
    const double unsorted[] = { 1, 0.5 };
    assert_null(med_histogram_get("med_h", "H.", "", unsorted, 2));
    /* NULL handles are harmless. */
    med_counter_inc(NULL);
    med_gauge_set(NULL, 1);
    med_histogram_observe(NULL, 1);
}

static void test_help_escaping(void **state)
{
    (void)state;
    med_counter_inc(med_counter_get("med_esc_total", "Line one\nback\\slash.", ""));
    char *text = render();
    assert_has_line(text, "# HELP med_esc_total Line one\\nback\\\\slash.");
    free(text);
}

#define THREADS 4
#define PER_THREAD 50000

typedef struct worker_args {
    med_counter *c;
    med_gauge *g;
    med_histogram *h;
} worker_args;

static void *worker(void *p)
{
    worker_args *a = p;
    for (int i = 0; i < PER_THREAD; i++) {
        med_counter_inc(a->c);
        med_gauge_add(a->g, 0.5);
        med_histogram_observe(a->h, 0.25);
    }
    return NULL;
}

static void test_concurrent_updates(void **state)
{
    (void)state;
    const double bounds[] = { 0.5 };
    worker_args a = {
        .c = med_counter_get("med_conc_total", "C.", ""),
        .g = med_gauge_get("med_conc_gauge", "G.", ""),
        .h = med_histogram_get("med_conc_seconds", "H.", "", bounds, 1),
    };
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) assert_int_equal(pthread_create(&t[i], NULL, worker, &a), 0);
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    char *text = render();
    assert_has_line(text, "med_conc_total 200000");
    assert_has_line(text, "med_conc_gauge 100000");
    assert_has_line(text, "med_conc_seconds_bucket{le=\"0.5\"} 200000");
    assert_has_line(text, "med_conc_seconds_sum 50000");
    assert_has_line(text, "med_conc_seconds_count 200000");
    free(text);
}

static void test_reset_empties(void **state)
{
    (void)state;
    med_counter_inc(med_counter_get("med_gone_total", "G.", ""));
    med_metrics_reset();
    char *text = render();
    assert_string_equal(text, "");
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_counter_and_labels, reset, reset),
        cmocka_unit_test_setup_teardown(test_gauge, reset, reset),
        cmocka_unit_test_setup_teardown(test_histogram_cumulative, reset, reset),
        cmocka_unit_test_setup_teardown(test_histogram_defaults_no_labels, reset, reset),
        cmocka_unit_test_setup_teardown(test_rejects_bad_registrations, reset, reset),
        cmocka_unit_test_setup_teardown(test_help_escaping, reset, reset),
        cmocka_unit_test_setup_teardown(test_concurrent_updates, reset, reset),
        cmocka_unit_test_setup_teardown(test_reset_empties, reset, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
