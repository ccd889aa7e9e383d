/* A NATS outage does not end the consumer loop: nats-server is stopped and
 * started again (tests/harness/infra.sh stop-one/start-one) under a running
 * med_consumer_run, which must pick up messages published afterwards.
 * Needs MED_INFRA_DIR (from infra.sh's env file) and MED_SOURCE_ROOT. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "consumer_fixture.h"
#include "jst.h"
#include "med/names.h"

static int run_infra(const char *verb)
{
    const char *root = getenv("MED_SOURCE_ROOT");
    const char *dir = getenv("MED_INFRA_DIR");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s/tests/harness/infra.sh' %s '%s' nats >/dev/null 2>&1", root,
             verb, dir);
    return system(cmd);
}

static int connected(void *arg) { return med_js_connected(arg); }

static int called_once(void *arg) { return cf_calls(arg) >= 1; }

static int called_twice(void *arg) { return cf_calls(arg) >= 2; }

/* JetStream needs a moment after the restart before it stores again. */
static void publish_when_back(med_js *js, const cf_names *n)
{
    int64_t end = jst_now_ms() + 15000;
    for (;;) {
        natsMsg *m = NULL;
        med_err err;
        med_err_clear(&err);
        assert_int_equal(med_js_msg_new(n->subject, "after", 5, NULL, &m, &err), MED_OK);
        char id[64];
        snprintf(id, sizeof id, "outage-after-%s", n->unique);
        /* Same id on every try: a publish that did land is not doubled. */
        med_rc rc = med_js_publish(js, m, id, NULL, &err);
        natsMsg_Destroy(m);
        if (rc == MED_OK) return;
        if (jst_now_ms() > end) fail_msg("publish after restart: %s", err.message);
        jst_sleep_ms(200);
    }
}

static void test_loop_survives_nats_restart(void **state)
{
    (void)state;
    if (!getenv("MED_INFRA_DIR") || !getenv("MED_SOURCE_ROOT")) {
        print_message("MED_INFRA_DIR/MED_SOURCE_ROOT unset: cannot restart nats, skipped\n");
        skip();
    }
    med_js *js = jst_connect();
    cf_names n;
    cf_names_init(&n);
    cf_script *s = cf_script_new(CF_ACK);
    med_consumer_opts o;
    cf_opts(&n, 3, 2000, &o);
    cf_runner r;
    cf_start(&r, js, &o, s);
    cf_publish(js, &n, "before");
    if (!jst_wait_until(called_once, s, 5000)) fail_msg("first message not handled");

    assert_int_equal(run_infra("stop-one"), 0);
    jst_sleep_ms(800); /* several failed fetches while it is down */
    assert_false(med_js_connected(js));
    assert_int_equal(run_infra("start-one"), 0);
    if (!jst_wait_until(connected, js, 15000)) fail_msg("no reconnect within 15 s");
    publish_when_back(js, &n);

    if (!jst_wait_until(called_twice, s, 15000))
        fail_msg("loop handled %d messages after the restart, expected 2", cf_calls(s));
    cf_stop(&r, 3000);
    assert_int_equal(s->delivered[1], 1);
    cf_delete_consumer(js, &n);
    cf_script_free(s);
    med_js_close(js);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loop_survives_nats_restart),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    nats_Close();
    return rc;
}
