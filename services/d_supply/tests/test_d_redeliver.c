/* D.9 redelivery rules (d_redeliver.c): the reuse / wait / run table, the
 * holder's deadline, key and Nats-Msg-Id shapes, the lock value and the
 * stored output record. D.10 case 16 second half end to end is
 * tests/integration/d_redelivery. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "d_redeliver.h"
#include "med/mpack.h"
#include "med/reason.h"

#define NOW 1700000000000LL

static d_rd_view keyed_view(d_rd_lock lock, d_rd_out out)
{
    return (d_rd_view){ .keyed = 1, .lock = lock, .out = out, .now_unix_ms = NOW };
}

static void no_keys_runs_and_stores_nothing(void **state)
{
    (void)state;
    d_rd_view v = keyed_view(D_RD_LOCK_ACQUIRED, D_RD_OUT_FOUND);
    v.keyed = 0;
    d_rd_verdict r = d_rd_decide(&v);
    assert_int_equal(r.action, D_RD_RUN);
    assert_false(r.store);
    assert_false(r.take_over);
}

static void stored_output_is_reused_whoever_holds_the_lock(void **state)
{
    (void)state;
    d_rd_lock locks[] = { D_RD_LOCK_ACQUIRED, D_RD_LOCK_HELD };
    for (size_t i = 0; i < 2; i++) {
        d_rd_view v = keyed_view(locks[i], D_RD_OUT_FOUND);
        v.holder_deadline_unix_ms = NOW + 5000;
        d_rd_verdict r = d_rd_decide(&v);
        assert_int_equal(r.action, D_RD_REUSE);
        assert_false(r.store);
    }
}

static void redis_down_runs_again_unguarded(void **state)
{
    (void)state;
    d_rd_verdict r = d_rd_decide(&(d_rd_view){ .keyed = 1, .now_unix_ms = NOW });
    assert_int_equal(r.action, D_RD_RUN);
    assert_false(r.store);
    /* The lock answered but the output read did not: a holder may have
     * finished, so run without claiming anything. */
    d_rd_view v = keyed_view(D_RD_LOCK_HELD, D_RD_OUT_DOWN);
    v.holder_deadline_unix_ms = NOW + 5000;
    r = d_rd_decide(&v);
    assert_int_equal(r.action, D_RD_RUN);
    assert_false(r.store);
    assert_false(r.take_over);
}

static void acquired_lock_runs_and_stores(void **state)
{
    (void)state;
    d_rd_out outs[] = { D_RD_OUT_ABSENT, D_RD_OUT_DOWN };
    for (size_t i = 0; i < 2; i++) {
        d_rd_view v = keyed_view(D_RD_LOCK_ACQUIRED, outs[i]);
        d_rd_verdict r = d_rd_decide(&v);
        assert_int_equal(r.action, D_RD_RUN);
        assert_true(r.store);
        assert_false(r.take_over);
    }
}

static void held_lock_waits_the_rest_of_the_holders_budget(void **state)
{
    (void)state;
    d_rd_view v = keyed_view(D_RD_LOCK_HELD, D_RD_OUT_ABSENT);
    v.holder_deadline_unix_ms = NOW + 1234;
    d_rd_verdict r = d_rd_decide(&v);
    assert_int_equal(r.action, D_RD_WAIT);
    assert_int_equal(r.delay_ms, 1234);
    assert_false(r.store);
    /* A deadline a few ms ahead still waits, at least D_RD_MIN_WAIT_MS. */
    v.holder_deadline_unix_ms = NOW + 3;
    r = d_rd_decide(&v);
    assert_int_equal(r.action, D_RD_WAIT);
    assert_int_equal(r.delay_ms, D_RD_MIN_WAIT_MS);
}

static void stale_or_unknown_holder_is_taken_over(void **state)
{
    (void)state;
    int64_t deadlines[] = { NOW, NOW - 1, 0 };
    for (size_t i = 0; i < 3; i++) {
        d_rd_view v = keyed_view(D_RD_LOCK_HELD, D_RD_OUT_ABSENT);
        v.holder_deadline_unix_ms = deadlines[i];
        d_rd_verdict r = d_rd_decide(&v);
        assert_int_equal(r.action, D_RD_RUN);
        assert_true(r.store);
        assert_true(r.take_over);
    }
}

static void last_delivery_never_waits(void **state)
{
    (void)state;
    d_rd_view v = keyed_view(D_RD_LOCK_HELD, D_RD_OUT_ABSENT);
    v.holder_deadline_unix_ms = NOW + 2000;
    v.last_delivery = 1;
    d_rd_verdict r = d_rd_decide(&v);
    assert_int_equal(r.action, D_RD_RUN);
    assert_true(r.take_over);
    /* ... but a stored output is still reused on it. */
    v.out = D_RD_OUT_FOUND;
    assert_int_equal(d_rd_decide(&v).action, D_RD_REUSE);
}

static void deadline_is_start_plus_effective_budget_plus_grace(void **state)
{
    (void)state;
    assert_int_equal(d_rd_deadline(NOW, 4500, 3000), NOW + 3000 + D_RD_GRACE_MS);
    assert_int_equal(d_rd_deadline(NOW, 800, 3000), NOW + 800 + D_RD_GRACE_MS);
    /* D.1 row 9: no route budget runs on the strategy timeout. */
    assert_int_equal(d_rd_deadline(NOW, 0, 1500), NOW + 1500 + D_RD_GRACE_MS);
    /* No strategy timeout: the input is rejected (no HTTP), only the grace. */
    assert_int_equal(d_rd_deadline(NOW, 0, 0), NOW + D_RD_GRACE_MS);
    assert_int_equal(d_rd_deadline(NOW, 700, 0), NOW + 700 + D_RD_GRACE_MS);
}

static void key_and_msg_id_shapes(void **state)
{
    (void)state;
    char k[128];
    assert_int_equal(d_rd_key("prod", "lock", "t_1", "op_a", "at_b", k, sizeof k), 0);
    assert_string_equal(k, "med:prod:d:lock:t_1:op_a:at_b");
    assert_int_equal(d_rd_key("ci", "out", "", "op_a", "at_b", k, sizeof k), 0);
    assert_string_equal(k, "med:ci:d:out:NA:op_a:at_b");
    assert_int_equal(d_rd_key("ci", "out", "t", "", "at_b", k, sizeof k), -1);
    assert_int_equal(d_rd_key("ci", "out", "t", "op_a", NULL, k, sizeof k), -1);
    assert_int_equal(d_rd_key("ci", "out", "t", "op_a", "at_b", k, 10), -1);

    char id[64];
    assert_int_equal(d_rd_msg_id("op_a", "at_b", id, sizeof id), 0);
    assert_string_equal(id, "d:op_a:at_b");
    assert_int_equal(d_rd_msg_id("op_a", "", id, sizeof id), 0);
    assert_string_equal(id, "d:op_a:NA");
    assert_int_equal(d_rd_msg_id(NULL, "at_b", id, sizeof id), -1);
    assert_int_equal(d_rd_msg_id("op_a", "at_b", id, 5), -1);
}

static void lock_value_round_trips(void **state)
{
    (void)state;
    uint8_t *buf = NULL;
    size_t len = 0;
    med_err e;
    assert_int_equal(d_rd_lock_encode("d-1", NOW + 3250, &buf, &len, &e), MED_OK);
    assert_true(d_rd_lock_deadline(buf, len) == NOW + 3250);
    /* Equal inputs give equal bytes: the compare-and-delete release relies on it. */
    uint8_t *again = NULL;
    size_t alen = 0;
    assert_int_equal(d_rd_lock_encode("d-1", NOW + 3250, &again, &alen, &e), MED_OK);
    assert_int_equal(alen, len);
    assert_memory_equal(again, buf, len);
    free(again);
    assert_true(d_rd_lock_deadline(buf, len - 1) == 0);
    assert_true(d_rd_lock_deadline((const uint8_t *)"1", 1) == 0);
    assert_true(d_rd_lock_deadline(NULL, 0) == 0);
    free(buf);
}

static void output_record_round_trips_bytes_exactly(void **state)
{
    (void)state;
    const uint8_t compose[] = { 0x0a, 0x00, 0xff, 0x10, 0x00, 0x7f };
    const uint8_t audit[] = { 0x12, 0x03, 'a', 0x00, 'b' };
    d_rd_pub pubs[2] = {
        { "med.e.compose.v1", "d:op_a:at_b", compose, sizeof compose },
        { "med.audit.d.v1", "d:op_a:at_b", audit, sizeof audit },
    };
    uint8_t *buf = NULL;
    size_t len = 0;
    med_err e;
    assert_int_equal(d_rd_record_encode(pubs, 2, &buf, &len, &e), MED_OK);
    d_rd_record rec;
    assert_int_equal(d_rd_record_decode(buf, len, &rec, &e), MED_OK);
    assert_int_equal(rec.n, 2);
    for (int i = 0; i < 2; i++) {
        assert_string_equal(rec.pubs[i].subject, pubs[i].subject);
        assert_string_equal(rec.pubs[i].msg_id, pubs[i].msg_id);
        assert_int_equal(rec.pubs[i].len, pubs[i].len);
        assert_memory_equal(rec.pubs[i].data, pubs[i].data, pubs[i].len);
    }
    d_rd_record_free(&rec);
    assert_int_equal(d_rd_record_decode(buf, len - 2, &rec, &e), MED_ERR_INVALID);
    assert_null(rec.owned);
    free(buf);
}

static void foreign_records_do_not_decode(void **state)
{
    (void)state;
    med_err e;
    d_rd_record rec;
    uint8_t *buf = NULL;
    size_t len = 0;
    /* Another version, a missing publish, and a count out of range. */
    const char *const versions[] = { "d_out_v0", D_RD_RECORD_VERSION, D_RD_RECORD_VERSION };
    const int64_t counts[] = { 1, 2, 3 };
    for (int c = 0; c < 3; c++) {
        med_mmap *m = med_mmap_new();
        assert_non_null(m);
        assert_int_equal(med_mmap_set_str(m, "v", versions[c]), 0);
        assert_int_equal(med_mmap_set_int(m, "n", counts[c]), 0);
        assert_int_equal(med_mmap_set_str(m, "s0", "med.e.compose.v1"), 0);
        assert_int_equal(med_mmap_set_str(m, "i0", "d:op:at"), 0);
        assert_int_equal(med_mmap_set_bin(m, "d0", "x", 1), 0);
        assert_int_equal(med_mmap_encode(m, &buf, &len, &e), MED_OK);
        med_mmap_free(m);
        assert_int_equal(d_rd_record_decode(buf, len, &rec, &e), MED_ERR_INVALID);
        assert_string_equal(e.code, MED_R_INFRA_DECODE_FAILED);
        free(buf);
    }
    d_rd_pub p = { "s", "i", (const uint8_t *)"x", 1 };
    d_rd_pub three[3] = { p, p, p };
    assert_int_equal(d_rd_record_encode(three, 3, &buf, &len, &e), MED_ERR_INVALID);
    assert_int_equal(d_rd_record_encode(three, 0, &buf, &len, &e), MED_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_keys_runs_and_stores_nothing),
        cmocka_unit_test(stored_output_is_reused_whoever_holds_the_lock),
        cmocka_unit_test(redis_down_runs_again_unguarded),
        cmocka_unit_test(acquired_lock_runs_and_stores),
        cmocka_unit_test(held_lock_waits_the_rest_of_the_holders_budget),
        cmocka_unit_test(stale_or_unknown_holder_is_taken_over),
        cmocka_unit_test(last_delivery_never_waits),
        cmocka_unit_test(deadline_is_start_plus_effective_budget_plus_grace),
        cmocka_unit_test(key_and_msg_id_shapes),
        cmocka_unit_test(lock_value_round_trips),
        cmocka_unit_test(output_record_round_trips_bytes_exactly),
        cmocka_unit_test(foreign_records_do_not_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
