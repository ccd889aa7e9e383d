/* med_redis against a real Redis (tests/harness/infra.sh): values, expiry,
 * locks, msgpack values, and recovery of the same handle after a restart. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <hiredis/hiredis.h>

#include "harness.h"
#include "med/mpack.h"
#include "med/reason.h"
#include "med/redis.h"

static med_redis *rd;
static int redis_stopped;
static char prefix[64];

static const char *key(const char *name)
{
    static char buf[4][128];
    static int next;
    char *k = buf[next++ % 4];
    snprintf(k, sizeof buf[0], "%s%s", prefix, name);
    return k;
}

static void infra(const char *verb, const char *what)
{
    if (th_infra(verb, what) != 0) fail_msg("infra.sh %s %s failed", verb, what);
}

static void set_ok(const char *k, const void *v, size_t len, int64_t ttl_ms)
{
    med_err err = { 0 };
    if (med_redis_set(rd, k, v, len, ttl_ms, &err) != MED_OK) fail_msg("set: %s", err.message);
}

static void assert_value(const char *k, const void *want, size_t want_len)
{
    uint8_t *v = NULL;
    size_t len = 0;
    med_err err = { 0 };
    if (med_redis_get(rd, k, &v, &len, &err) != MED_OK) fail_msg("get %s: %s", k, err.message);
    assert_int_equal(len, want_len);
    if (len) assert_memory_equal(v, want, len);
    assert_int_equal(v[len], 0);
    free(v);
}

static void assert_absent(const char *k)
{
    uint8_t *v = (uint8_t *)(uintptr_t)1;
    size_t len = 7;
    med_err err = { 0 };
    assert_int_equal(med_redis_get(rd, k, &v, &len, &err), MED_ERR_NOT_FOUND);
    assert_null(v);
    assert_int_equal(len, 0);
}

static int group_setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    snprintf(prefix, sizeof prefix, "med-store-test:%d:", (int)getpid());
    med_err err = { 0 };
    if (med_redis_connect(th_env("REDIS_HOST"), atoi(th_env("REDIS_PORT")), 1000, &rd, &err) !=
        MED_OK)
        fail_msg("connect: %s", err.message);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    if (redis_stopped) infra("start-one", "redis");
    med_redis_close(rd);
    return 0;
}

static void test_ping(void **state)
{
    (void)state;
    med_err err = { 0 };
    assert_int_equal(med_redis_ping(rd, &err), MED_OK);
}

static void test_get_set_del(void **state)
{
    (void)state;
    static const uint8_t bin[] = { 0, 'a', 0, 0xff, '\r', '\n', 0 };
    med_err err = { 0 };
    assert_absent(key("plain"));
    set_ok(key("plain"), "v1", 2, 0);
    assert_value(key("plain"), "v1", 2);
    set_ok(key("plain"), "replaced", 8, 0);
    assert_value(key("plain"), "replaced", 8);
    set_ok(key("bin"), bin, sizeof bin, 0);
    assert_value(key("bin"), bin, sizeof bin);
    set_ok(key("empty"), "", 0, 0);
    assert_value(key("empty"), "", 0);
    set_ok(key("with space"), "x", 1, 0);
    assert_value(key("with space"), "x", 1);

    assert_int_equal(med_redis_del(rd, key("plain"), &err), MED_OK);
    assert_absent(key("plain"));
    assert_int_equal(med_redis_del(rd, key("plain"), &err), MED_OK); /* idempotent */
    assert_int_equal(med_redis_del(rd, key("bin"), &err), MED_OK);
    assert_int_equal(med_redis_del(rd, key("empty"), &err), MED_OK);
    assert_int_equal(med_redis_del(rd, key("with space"), &err), MED_OK);
}

static void test_ttl_expiry(void **state)
{
    (void)state;
    set_ok(key("ttl"), "soon gone", 9, 200);
    assert_value(key("ttl"), "soon gone", 9);
    th_sleep_ms(350);
    assert_absent(key("ttl"));

    set_ok(key("forever"), "stays", 5, 0);
    th_sleep_ms(250);
    assert_value(key("forever"), "stays", 5);
    med_err err = { 0 };
    assert_int_equal(med_redis_del(rd, key("forever"), &err), MED_OK);
}

static void test_set_nx_lock(void **state)
{
    (void)state;
    med_err err = { 0 };
    int acquired = -1;
    assert_int_equal(med_redis_set_nx(rd, key("lock"), "owner-a", 7, 200, &acquired, &err),
                     MED_OK);
    assert_int_equal(acquired, 1);
    assert_int_equal(med_redis_set_nx(rd, key("lock"), "owner-b", 7, 200, &acquired, &err),
                     MED_OK);
    assert_int_equal(acquired, 0);
    assert_value(key("lock"), "owner-a", 7);

    th_sleep_ms(350); /* the lock's TTL ran out */
    assert_int_equal(med_redis_set_nx(rd, key("lock"), "owner-b", 7, 5000, &acquired, &err),
                     MED_OK);
    assert_int_equal(acquired, 1);
    assert_value(key("lock"), "owner-b", 7);
    assert_int_equal(med_redis_del(rd, key("lock"), &err), MED_OK);
}

static void test_del_if_equal(void **state)
{
    (void)state;
    med_err err = { 0 };
    int deleted = -1;
    set_ok(key("owned"), "token\0one", 9, 5000);
    assert_int_equal(med_redis_del_if_equal(rd, key("owned"), "token", 5, &deleted, &err), MED_OK);
    assert_int_equal(deleted, 0); /* a prefix is not equal */
    assert_int_equal(med_redis_del_if_equal(rd, key("owned"), "token\0two", 9, &deleted, &err),
                     MED_OK);
    assert_int_equal(deleted, 0);
    assert_value(key("owned"), "token\0one", 9);
    assert_int_equal(med_redis_del_if_equal(rd, key("owned"), "token\0one", 9, &deleted, &err),
                     MED_OK);
    assert_int_equal(deleted, 1);
    assert_absent(key("owned"));
    assert_int_equal(med_redis_del_if_equal(rd, key("owned"), "token\0one", 9, &deleted, &err),
                     MED_OK);
    assert_int_equal(deleted, 0);
}

static void test_msgpack_value_round_trip(void **state)
{
    (void)state;
    static const uint8_t raw[] = { 1, 0, 2 };
    med_mmap *m = med_mmap_new();
    assert_non_null(m);
    assert_int_equal(med_mmap_set_str(m, "tenant", "t-1"), 0);
    assert_int_equal(med_mmap_set_int(m, "billed_at", INT64_MIN), 0);
    assert_int_equal(med_mmap_set_double(m, "price", 1.25), 0);
    assert_int_equal(med_mmap_set_bool(m, "final", 1), 0);
    assert_int_equal(med_mmap_set_nil(m, "note"), 0);
    assert_int_equal(med_mmap_set_bin(m, "raw", raw, sizeof raw), 0);
    uint8_t *enc = NULL;
    size_t enc_len = 0;
    med_err err = { 0 };
    assert_int_equal(med_mmap_encode(m, &enc, &enc_len, &err), MED_OK);
    set_ok(key("mpack"), enc, enc_len, 5000);

    uint8_t *got = NULL;
    size_t got_len = 0;
    assert_int_equal(med_redis_get(rd, key("mpack"), &got, &got_len, &err), MED_OK);
    assert_int_equal(got_len, enc_len);
    assert_memory_equal(got, enc, enc_len);
    med_mmap *back = NULL;
    assert_int_equal(med_mmap_decode(got, got_len, &back, &err), MED_OK);
    assert_int_equal(med_mmap_size(back), 6);
    assert_string_equal(med_mmap_get(back, "tenant")->u.s.ptr, "t-1");
    assert_true(med_mmap_get(back, "billed_at")->u.i == INT64_MIN);
    assert_true(med_mmap_get(back, "price")->u.d == 1.25);
    assert_int_equal(med_mmap_get(back, "final")->u.b, 1);
    assert_int_equal(med_mmap_get(back, "note")->type, MED_MVAL_NIL);
    assert_int_equal(med_mmap_get(back, "raw")->u.s.len, sizeof raw);
    assert_memory_equal(med_mmap_get(back, "raw")->u.s.ptr, raw, sizeof raw);
    med_mmap_free(back);
    med_mmap_free(m);
    free(enc);
    free(got);
    assert_int_equal(med_redis_del(rd, key("mpack"), &err), MED_OK);
}

static void test_server_error_is_io(void **state)
{
    (void)state;
    /* A list under the key: GET answers WRONGTYPE, a server error rather
     * than an outage, so not worth a reconnect and not UNAVAILABLE. */
    redisContext *raw = redisConnect(th_env("REDIS_HOST"), atoi(th_env("REDIS_PORT")));
    assert_non_null(raw);
    assert_int_equal(raw->err, 0);
    redisReply *reply = redisCommand(raw, "RPUSH %s item", key("list"));
    assert_non_null(reply);
    assert_int_equal(reply->type, REDIS_REPLY_INTEGER);
    freeReplyObject(reply);
    redisFree(raw);

    med_err err = { 0 };
    uint8_t *v = NULL;
    size_t len = 0;
    assert_int_equal(med_redis_get(rd, key("list"), &v, &len, &err), MED_ERR_IO);
    assert_string_equal(err.code, MED_R_INFRA_REDIS_ERROR);
    assert_null(v);
    int deleted = -1;
    assert_int_equal(med_redis_del_if_equal(rd, key("list"), "item", 4, &deleted, &err),
                     MED_ERR_IO);
    assert_int_equal(deleted, 0);
    assert_int_equal(med_redis_ping(rd, &err), MED_OK); /* connection kept */
    assert_int_equal(med_redis_del(rd, key("list"), &err), MED_OK);
}

static void test_restart_recovers_same_handle(void **state)
{
    (void)state;
    med_err err = { 0 };
    set_ok(key("before"), "x", 1, 0);

    infra("stop-one", "redis");
    redis_stopped = 1;
    assert_int_equal(med_redis_ping(rd, &err), MED_ERR_UNAVAILABLE);
    assert_string_equal(err.code, MED_R_INFRA_REDIS_UNAVAILABLE);
    /* Down is never "absent": callers must not read it as a free key. */
    uint8_t *v = NULL;
    size_t len = 0;
    assert_int_equal(med_redis_get(rd, key("before"), &v, &len, &err), MED_ERR_UNAVAILABLE);
    assert_null(v);
    int acquired = -1;
    assert_int_equal(med_redis_set_nx(rd, key("lock"), "a", 1, 1000, &acquired, &err),
                     MED_ERR_UNAVAILABLE);
    assert_int_equal(acquired, 0);
    assert_int_equal(med_redis_set(rd, key("x"), "a", 1, 0, &err), MED_ERR_UNAVAILABLE);
    assert_true(med_rc_is_retryable(err.rc));

    infra("start-one", "redis");
    redis_stopped = 0;
    assert_int_equal(med_redis_ping(rd, &err), MED_OK);
    assert_absent(key("before")); /* started with --save '': data is gone */
    set_ok(key("after"), "back", 4, 5000);
    assert_value(key("after"), "back", 4);
    assert_int_equal(med_redis_del(rd, key("after"), &err), MED_OK);
}

/* A script that returns each reply kind by ARGV[1]. */
static const char EVAL_KINDS_LUA[] =
    "if ARGV[1] == 'int' then return 42 end\n"
    "if ARGV[1] == 'nil' then return false end\n"
    "if ARGV[1] == 'set' then redis.call('SET', KEYS[1], ARGV[2]) return 1 end\n"
    "return redis.call('GET', KEYS[1])\n";

static med_rc eval_kind(const char *kind, const void *val, size_t val_len, med_redis_reply *out,
                        med_err *err)
{
    const char *k = key("eval");
    const void *args[2] = { kind, val };
    size_t lens[2] = { strlen(kind), val_len };
    return med_redis_eval(rd, EVAL_KINDS_LUA, 1, &k, 2, args, lens, out, err);
}

static void script_flush(void)
{
    redisContext *raw = redisConnect(th_env("REDIS_HOST"), atoi(th_env("REDIS_PORT")));
    assert_non_null(raw);
    redisReply *reply = redisCommand(raw, "SCRIPT FLUSH");
    assert_non_null(reply);
    assert_int_equal(reply->type, REDIS_REPLY_STATUS);
    freeReplyObject(reply);
    redisFree(raw);
}

static void test_eval_replies_and_noscript(void **state)
{
    (void)state;
    static const uint8_t bin[] = { 0, 'r', 0xff, 0 };
    med_redis_reply out;
    med_err err = { 0 };
    assert_int_equal(eval_kind("int", "", 0, &out, &err), MED_OK);
    assert_int_equal(out.kind, MED_REDIS_REPLY_INT);
    assert_int_equal(out.integer, 42);
    assert_int_equal(eval_kind("nil", "", 0, &out, &err), MED_OK);
    assert_int_equal(out.kind, MED_REDIS_REPLY_NIL);
    assert_int_equal(eval_kind("set", bin, sizeof bin, &out, &err), MED_OK);
    assert_int_equal(out.integer, 1);
    assert_int_equal(eval_kind("get", "", 0, &out, &err), MED_OK);
    assert_int_equal(out.kind, MED_REDIS_REPLY_BYTES);
    assert_int_equal(out.len, sizeof bin);
    assert_memory_equal(out.bytes, bin, sizeof bin);
    assert_int_equal(out.bytes[out.len], 0);
    med_redis_reply_clear(&out);
    assert_null(out.bytes);

    /* The server forgets the script (SCRIPT FLUSH, as after a restart):
     * EVALSHA answers NOSCRIPT and the call still runs, by EVAL, which
     * caches the script again for the next EVALSHA. */
    script_flush();
    assert_int_equal(eval_kind("int", "", 0, &out, &err), MED_OK);
    assert_int_equal(out.integer, 42);
    assert_int_equal(eval_kind("get", "", 0, &out, &err), MED_OK);
    assert_int_equal(out.len, sizeof bin);
    med_redis_reply_clear(&out);

    /* A script error is a server error, not an outage. */
    const char *k = key("eval");
    assert_int_equal(med_redis_eval(rd, "return redis.call('NOSUCHCMD')", 1, &k, 0, NULL, NULL,
                                    &out, &err),
                     MED_ERR_IO);
    assert_string_equal(err.code, MED_R_INFRA_REDIS_ERROR);
    assert_int_equal(med_redis_del(rd, key("eval"), &err), MED_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ping),
        cmocka_unit_test(test_get_set_del),
        cmocka_unit_test(test_ttl_expiry),
        cmocka_unit_test(test_set_nx_lock),
        cmocka_unit_test(test_del_if_equal),
        cmocka_unit_test(test_msgpack_value_round_trip),
        cmocka_unit_test(test_server_error_is_io),
        cmocka_unit_test(test_eval_replies_and_noscript),
        cmocka_unit_test(test_restart_recovers_same_handle),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
