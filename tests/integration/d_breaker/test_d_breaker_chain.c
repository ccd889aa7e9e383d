/* D.2 circuit breakers of the running med-d-supply, held in Redis (D.10
 * case 18 end to end): a network failing twice opens its circuit under
 * med:ci:d:breaker:<tenant>:<sourceId>, the next request does not call it;
 * a circuit another replica opened (written here into Redis with the
 * documented shape) is honoured at D's next batch. The world (own infra,
 * fake networks, H, edge, A..G) is tests/harness/harness_world.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include <nats/nats.h>

#include "harness_http.h"
#include "harness_world.h"
#include "med/ids.h"
#include "med/mpack.h"
#include "med/redis.h"

typedef th_world world;

static int setup(void **state)
{
    return th_world_setup(state, "d_breaker_chain", NULL);
}

static void circuit_key(const world *w, const char *source_id, char *out, size_t cap)
{
    snprintf(out, cap, "med:ci:d:breaker:%s:%s", w->tenant, source_id);   /* APP_ENV=ci */
}

/* The final status of one POST /v1/opportunities; the Delivery's text in
 * text (caller frees). */
static const char *deliver(world *w, const char *session, char **text)
{
    char *body = th_opportunity_body(session, "answer_end", NULL, NULL);
    long st = 0;
    json_t *d = th_edge_json(w->edge_port, "POST", "/v1/opportunities", body, &st);
    free(body);
    *text = json_dumps(d, JSON_COMPACT);
    if (st != 200) fail_msg("HTTP %ld: %s", st, *text);
    static char status[32];
    snprintf(status, sizeof status, "%s", th_json_str(d, "status"));
    json_decref(d);
    return status;
}

/* The circuit as Redis holds it: 1 and its fields, 0 when absent. */
static int stored(med_redis *rd, const char *key, int64_t *failures, int64_t *open_until)
{
    uint8_t *v = NULL;
    size_t n = 0;
    med_err e;
    med_rc rc = med_redis_get(rd, key, &v, &n, &e);
    if (rc == MED_ERR_NOT_FOUND) return 0;
    assert_int_equal(rc, MED_OK);
    med_mmap *m = NULL;
    assert_int_equal(med_mmap_decode(v, n, &m, &e), MED_OK);
    free(v);
    assert_non_null(med_mmap_get(m, "failures"));
    assert_non_null(med_mmap_get(m, "openUntilUnixMs"));
    *failures = med_mmap_get(m, "failures")->u.i;
    *open_until = med_mmap_get(m, "openUntilUnixMs")->u.i;
    med_mmap_free(m);
    return 1;
}

/* The demo route is a waterfall: net_a's step and its retry both get a
 * 500 (two consecutive failures), then net_b serves. */
static void failing_network_opens_its_shared_circuit(void **state)
{
    world *w = *state;
    char key[256];
    circuit_key(w, "src_net_a", key, sizeof key);
    med_redis *rd = th_redis_connect();
    int64_t failures = 0, open_until = 0;
    assert_int_equal(stored(rd, key, &failures, &open_until), 0);
    th_fake_network_behave(&w->net_a, "error");
    long a0 = th_fake_network_requests(&w->net_a);
    char *text = NULL;
    assert_string_equal(deliver(w, "sess_brk_01", &text), "served");
    if (!strstr(text, "src_net_b")) fail_msg("net_b did not serve: %s", text);
    free(text);
    assert_int_equal(th_fake_network_requests(&w->net_a) - a0, 2);   /* the step and its retry */
    assert_int_equal(stored(rd, key, &failures, &open_until), 1);
    assert_int_equal(failures, 2);
    assert_true(open_until > med_now_unix_ms());                       /* open for 30 s */

    /* open: net_a is not called, even though it would fill now */
    th_fake_network_behave(&w->net_a, TH_FILL_A);
    long a1 = th_fake_network_requests(&w->net_a);
    assert_string_equal(deliver(w, "sess_brk_03", &text), "served");
    if (!strstr(text, "src_net_b")) fail_msg("net_b did not serve: %s", text);
    free(text);
    assert_int_equal(th_fake_network_requests(&w->net_a), a1);
    med_redis_close(rd);
}

/* Another replica opened net_b's circuit: this D skips it from its next
 * batch on (the house ad serves; no network is called). */
static void circuit_opened_by_another_replica_is_honoured(void **state)
{
    world *w = *state;
    char key[256];
    circuit_key(w, "src_net_b", key, sizeof key);
    med_mmap *m = med_mmap_new();
    assert_non_null(m);
    assert_int_equal(med_mmap_set_int(m, "failures", 2), 0);
    assert_int_equal(med_mmap_set_int(m, "openUntilUnixMs", med_now_unix_ms() + 60000), 0);
    assert_int_equal(med_mmap_set_int(m, "probeUntilUnixMs", 0), 0);
    assert_int_equal(med_mmap_set_str(m, "probeOwner", ""), 0);
    uint8_t *v = NULL;
    size_t n = 0;
    med_err e;
    assert_int_equal(med_mmap_encode(m, &v, &n, &e), MED_OK);
    med_mmap_free(m);
    med_redis *rd = th_redis_connect();
    assert_int_equal(med_redis_set(rd, key, v, n, 90000, &e), MED_OK);
    free(v);
    long b0 = th_fake_network_requests(&w->net_b), a0 = th_fake_network_requests(&w->net_a);
    char *text = NULL;
    assert_string_equal(deliver(w, "sess_brk_04", &text), "served");
    if (!strstr(text, "house")) fail_msg("the house ad did not serve: %s", text);
    free(text);
    assert_int_equal(th_fake_network_requests(&w->net_b), b0);
    assert_int_equal(th_fake_network_requests(&w->net_a), a0);   /* still open from the case above */
    /* the other replica's probe succeeded: closed again, net_b serves */
    assert_int_equal(med_redis_del(rd, key, &e), MED_OK);
    assert_string_equal(deliver(w, "sess_brk_05", &text), "served");
    if (!strstr(text, "src_net_b")) fail_msg("net_b did not serve once closed: %s", text);
    free(text);
    assert_int_equal(th_fake_network_requests(&w->net_b), b0 + 1);
    med_redis_close(rd);
}

/* D.10 cases 10 and 11 through the running D: a hanging primary gets its
 * one retry on the wire (each a read timeout counted by the breaker, which
 * opens), and the demo's 450 ms route budget leaves net_b its 100 ms. */
static void hanging_primary_is_retried_on_the_wire(void **state)
{
    world *w = *state;
    char key[256];
    circuit_key(w, "src_net_a", key, sizeof key);
    med_redis *rd = th_redis_connect();
    med_err e;
    assert_int_equal(med_redis_del(rd, key, &e), MED_OK);   /* closed (a probe elsewhere) */
    th_fake_network_behave(&w->net_a, "delay;ms=1500;price=2.0");
    long a0 = th_fake_network_requests(&w->net_a), b0 = th_fake_network_requests(&w->net_b);
    char *text = NULL;
    assert_string_equal(deliver(w, "sess_brk_06", &text), "served");
    if (!strstr(text, "src_net_b")) fail_msg("net_b did not serve: %s", text);
    free(text);
    assert_int_equal(th_fake_network_requests(&w->net_a) - a0, 2);
    assert_int_equal(th_fake_network_requests(&w->net_b) - b0, 1);
    int64_t failures = 0, open_until = 0;
    assert_int_equal(stored(rd, key, &failures, &open_until), 1);
    assert_int_equal(failures, 2);
    med_redis_close(rd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(failing_network_opens_its_shared_circuit),
        cmocka_unit_test(circuit_opened_by_another_replica_is_honoured),
        cmocka_unit_test(hanging_primary_is_retried_on_the_wire),
    };
    return cmocka_run_group_tests(tests, setup, th_world_teardown);
}
