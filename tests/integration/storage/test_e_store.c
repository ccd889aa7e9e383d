/* Stage E's store against a real PostgreSQL: a Delivery is kept as bytes
 * (delivery_pb, migration 0019), a second save of the same
 * responseReference loses the claim and gets the first Delivery back byte
 * for byte, and a row from before 0019 (base64url in payload.deliveryPb)
 * still reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <libpq-fe.h>

#include "e_fixture.h"
#include "e_store.h"
#include "harness.h"
#include "med/b64url.h"
#include "med/ids.h"
#include "med/pg.h"

static med_pg *pg;
static PGconn *admin;

static int setup(void **state)
{
    (void)state;
    med_err err = { 0 };
    med_pg_opts opts = { .dsn = th_env("PG_DSN"), .connect_retries = 5, .retry_wait_ms = 200 };
    if (med_pg_connect(&opts, &pg, &err) != MED_OK) fail_msg("connect: %s", err.message);
    if (e_store_prepare(pg, &err) != MED_OK) fail_msg("prepare: %s", err.message);
    admin = PQconnectdb(th_env("PG_ADMIN_DSN"));
    assert_int_equal(PQstatus(admin), CONNECTION_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    med_pg_close(pg);
    PQfinish(admin);
    return 0;
}

/* A fixture outcome under a fresh responseReference. */
static e_outcome *outcome_fresh(e_fx **fx)
{
    *fx = e_fx_new();
    assert_non_null(*fx);
    e_outcome *o = e_fx_compose(*fx);
    assert_non_null(o);
    uint8_t rnd[6];
    assert_int_equal(med_random_bytes(rnd, sizeof rnd), 0);
    snprintf(o->response_reference, sizeof o->response_reference, "resp_it_%02x%02x%02x%02x%02x%02x",
             rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
    return o;
}

static char *admin_value(const char *sql, const char *param)
{
    const char *p[1] = { param };
    PGresult *r = PQexecParams(admin, sql, 1, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    }
    char *v = PQgetisnull(r, 0, 0) ? NULL : strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
}

static void delivery_is_stored_as_bytes_and_reused(void **state)
{
    (void)state;
    e_fx *fx;
    e_outcome *o = outcome_fresh(&fx);
    const uint8_t first[] = { 0x0a, 0x00, 0x5c, 0x22, 0xff, 0x01 };   /* NUL, \, ", 0xff */
    e_store_row row = { .tenant_id = "t_e_store", .app_id = "app_e", .placement_id = "plc_e",
                        .outcome = o, .delivery = first, .delivery_len = sizeof first };
    const e_store_row *rows[1] = { &row };
    uint8_t *stored[1] = { NULL };
    size_t stored_len[1] = { 0 };
    med_err err = { 0 };
    assert_int_equal(e_store_save_many(pg, rows, 1, stored, stored_len, &err), MED_OK);
    assert_null(stored[0]);   /* this save won the claim */

    char *hex = admin_value("SELECT encode(delivery_pb, 'hex') FROM delivery_records "
                            "WHERE response_reference = $1", o->response_reference);
    assert_string_equal(hex, "0a005c22ff01");
    free(hex);
    char *has_b64 = admin_value("SELECT (payload ? 'deliveryPb')::text FROM delivery_records "
                                "WHERE response_reference = $1", o->response_reference);
    assert_string_equal(has_b64, "false");
    free(has_b64);

    /* a second save (a redelivered compose) loses the claim: the first bytes */
    const uint8_t second[] = { 0x0b, 0x0c };
    row.delivery = second;
    row.delivery_len = sizeof second;
    assert_int_equal(e_store_save_many(pg, rows, 1, stored, stored_len, &err), MED_OK);
    assert_non_null(stored[0]);
    assert_int_equal(stored_len[0], sizeof first);
    assert_memory_equal(stored[0], first, sizeof first);
    free(stored[0]);
    char *count = admin_value("SELECT count(*)::text FROM delivery_records WHERE response_reference = $1",
                              o->response_reference);
    assert_string_equal(count, "1");
    free(count);
    free(o);
    free(fx);
}

static void row_from_before_0019_still_reads(void **state)
{
    (void)state;
    e_fx *fx;
    e_outcome *o = outcome_fresh(&fx);
    const uint8_t old[] = { 0x12, 0x34, 0xfe, 0x00, 0x7f };
    char b64[32];
    assert_true(med_b64url_encode(old, sizeof old, b64, sizeof b64) > 0);
    char json[128];
    snprintf(json, sizeof json, "{\"deliveryPb\":\"%s\"}", b64);
    const char *p[3] = { o->response_reference, json, "t_e_store" };
    PGresult *r = PQexecParams(admin,
        "INSERT INTO delivery_records (tenant_id, app_id, placement_id, response_reference, trace_key, "
        "request_key, opportunity_key, delivery_status, final_reason_code, payload) "
        "VALUES ($3, 'app_e', 'plc_e', $1, 'tr_old', 'req_old', 'opp_old', 'served', "
        "'e_render_candidate_selected', $2::jsonb)",
        3, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) fail_msg("insert: %s", PQresultErrorMessage(r));
    PQclear(r);
    uint8_t *stored = NULL;
    size_t len = 0;
    med_err err = { 0 };
    assert_int_equal(e_store_load(pg, "t_e_store", o->response_reference, &stored, &len, &err), MED_OK);
    assert_int_equal(len, sizeof old);
    assert_memory_equal(stored, old, sizeof old);
    free(stored);
    free(o);
    free(fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(delivery_is_stored_as_bytes_and_reused),
        cmocka_unit_test(row_from_before_0019_still_reads),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
