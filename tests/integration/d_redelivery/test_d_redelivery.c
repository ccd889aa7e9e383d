/* D.9 redelivery through the real binaries (D.10 case 16, second half):
 * a PolicyDecision D already routed, delivered again, calls no network and
 * republishes the stored output byte for byte under the same Nats-Msg-Id;
 * with Redis down D routes again and the stream keeps one output; a lock
 * held by another replica makes D wait for the rest of that replica's
 * budget. The world (own infra, fake networks, H, edge, A..G) is
 * tests/harness/harness_world.h; Redis is read and written here directly
 * with the documented key and value shapes. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>
#include <nats/nats.h>

#include "harness_http.h"
#include "harness_world.h"
#include "med/ids.h"
#include "med/mpack.h"
#include "med/names.h"
#include "med/redis.h"
#include "mediation/v1/opportunity.pb-c.h"
#include "mediation/v1/policy.pb-c.h"

typedef th_world world;

static int setup(void **state)
{
    return th_world_setup(state, "d_redelivery", NULL);
}

static char *random_hex(char *out, int n)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < n; i++) out[i] = hex[rand() % 16];
    out[n] = '\0';
    return out;
}

static long network_hits(world *w)
{
    long a = th_fake_network_requests(&w->net_a), b = th_fake_network_requests(&w->net_b);
    assert_true(a >= 0 && b >= 0);
    return a + b;
}

/* Every message on a subject as published (core NATS sees duplicates the
 * stream drops). */
static natsSubscription *core_sub(world *w, const char *subject)
{
    natsSubscription *sub = NULL;
    assert_int_equal(natsConnection_SubscribeSync(&sub, w->nc, subject), NATS_OK);
    assert_int_equal(natsConnection_Flush(w->nc), NATS_OK);
    return sub;
}

static int has_request_key(natsMsg *m, const char *request_key)
{
    const char *rk = NULL;
    return natsMsgHeader_Get(m, MED_HDR_REQUEST_KEY, &rk) == NATS_OK && strcmp(rk, request_key) == 0;
}

/* The next message of request_key on sub within timeout_ms, or NULL. */
static natsMsg *next_of(natsSubscription *sub, const char *request_key, int timeout_ms)
{
    long long end = th_now_ms() + timeout_ms;
    natsMsg *m = NULL;
    while (th_now_ms() < end) {
        int left = (int)(end - th_now_ms());
        if (natsSubscription_NextMsg(&m, sub, left > 0 ? left : 1) != NATS_OK) continue;
        if (has_request_key(m, request_key)) return m;
        natsMsg_Destroy(m);
    }
    return NULL;
}

/* Messages of request_key the stream holds on subject from start_seq. */
static int stream_count(world *w, const char *subject, uint64_t start_seq, const char *request_key)
{
    natsSubscription *sub = th_stream_reader(w->js, subject, start_seq);
    int n = 0;
    natsMsg *m = NULL;
    while (natsSubscription_NextMsg(&m, sub, 1000) == NATS_OK) {
        n += has_request_key(m, request_key);
        natsMsg_Destroy(m);
    }
    natsSubscription_Destroy(sub);
    return n;
}

static const char *msg_id_of(natsMsg *m)
{
    const char *id = NULL;
    if (natsMsgHeader_Get(m, MED_HDR_MSG_ID, &id) != NATS_OK) fail_msg("output without Nats-Msg-Id");
    return id;
}

static void assert_same_message(natsMsg *a, natsMsg *b)
{
    assert_string_equal(msg_id_of(a), msg_id_of(b));
    assert_int_equal(natsMsg_GetDataLength(a), natsMsg_GetDataLength(b));
    assert_memory_equal(natsMsg_GetData(a), natsMsg_GetData(b), (size_t)natsMsg_GetDataLength(a));
}

/* A valid OpportunityRequest straight onto med.a.request.v1 (as the edge
 * would, without an inbox); request_key gets the key A mints for it. */
static void publish_request(world *w, const char *client_request_id, char *request_key, size_t cap)
{
    char extra[160];
    snprintf(extra, sizeof extra, "\"clientRequestId\":\"%s\"", client_request_id);
    char *body = th_opportunity_body(client_request_id, "answer_end", extra, NULL);
    th_publish_opportunity_request(w->js, w->tenant, body, client_request_id, request_key, cap);
    free(body);
}

/* One opportunity through A..C: its PolicyDecision as the stream holds it
 * (D's input), and its keys. */
typedef struct routable {
    char request_key[64];
    natsMsg *msg;               /* owned */
    char opportunity_key[128], attempt_key[128];
    char msg_id[300];           /* what D must publish under */
    char lock_key[400], out_key[400];
} routable;

static void routable_take(world *w, uint64_t start, routable *r)
{
    natsSubscription *sub = th_stream_reader(w->js, MED_SUBJ_D_ROUTABLE, start);
    r->msg = next_of(sub, r->request_key, 20000);
    natsSubscription_Destroy(sub);
    if (!r->msg) fail_msg("no PolicyDecision for %s on %s", r->request_key, MED_SUBJ_D_ROUTABLE);
    Mediation__V1__PolicyDecision *pd = mediation__v1__policy_decision__unpack(
        NULL, (size_t)natsMsg_GetDataLength(r->msg), (const uint8_t *)natsMsg_GetData(r->msg));
    assert_non_null(pd);
    assert_non_null(pd->c_policy_decision_lite);
    assert_non_null(pd->c_policy_decision_lite->keys);
    snprintf(r->opportunity_key, sizeof r->opportunity_key, "%s",
             pd->c_policy_decision_lite->keys->opportunity_key);
    snprintf(r->attempt_key, sizeof r->attempt_key, "%s", pd->c_policy_decision_lite->keys->attempt_key);
    mediation__v1__policy_decision__free_unpacked(pd, NULL);
    assert_true(r->opportunity_key[0] && r->attempt_key[0]);
    snprintf(r->msg_id, sizeof r->msg_id, "d:%s:%s", r->opportunity_key, r->attempt_key);
    /* APP_ENV=ci in the world; the tenant is the world's. */
    snprintf(r->lock_key, sizeof r->lock_key, "med:ci:d:lock:%s:%s:%s", w->tenant, r->opportunity_key,
             r->attempt_key);
    snprintf(r->out_key, sizeof r->out_key, "med:ci:d:out:%s:%s:%s", w->tenant, r->opportunity_key,
             r->attempt_key);
}

static void routable_new(world *w, const char *tag, routable *r)
{
    memset(r, 0, sizeof *r);
    char rnd[9], cid[64];
    snprintf(cid, sizeof cid, "cli_%s_%s", tag, random_hex(rnd, 8));
    uint64_t start = th_stream_last_seq(w->js, MED_STREAM_CHAIN) + 1;
    publish_request(w, cid, r->request_key, sizeof r->request_key);
    routable_take(w, start, r);
}

static void routable_free(routable *r)
{
    natsMsg_Destroy(r->msg);
    r->msg = NULL;
}

/* Delivers D's input again: the same bytes and headers under a new
 * Nats-Msg-Id, so the stream keeps it and D's durable hands it over. */
static void redeliver(world *w, const routable *r)
{
    natsMsg *m = NULL;
    assert_int_equal(natsMsg_Create(&m, MED_SUBJ_D_ROUTABLE, NULL, natsMsg_GetData(r->msg),
                                    natsMsg_GetDataLength(r->msg)),
                     NATS_OK);
    const char **keys = NULL;
    int nk = 0;
    assert_int_equal(natsMsgHeader_Keys(r->msg, &keys, &nk), NATS_OK);
    for (int i = 0; i < nk; i++) {
        if (strcasecmp(keys[i], MED_HDR_MSG_ID) == 0) continue;
        const char **vals = NULL;
        int nv = 0;
        assert_int_equal(natsMsgHeader_Values(r->msg, keys[i], &vals, &nv), NATS_OK);
        for (int k = 0; k < nv; k++) natsMsgHeader_Add(m, keys[i], vals[k]);
        free((void *)vals);
    }
    free((void *)keys);
    char id[64], rnd[17];
    snprintf(id, sizeof id, "test.redeliver:%s", random_hex(rnd, 16));
    natsMsgHeader_Set(m, MED_HDR_MSG_ID, id);
    jsPubAck *ack = NULL;
    jsErrCode jerr = 0;
    assert_int_equal(js_PublishMsg(&ack, w->js, m, NULL, &jerr), NATS_OK);
    assert_false(ack->Duplicate);
    jsPubAck_Destroy(ack);
    natsMsg_Destroy(m);
}

/* D's two publishes for r on the core subscriptions. */
static void await_outputs(natsSubscription *compose, natsSubscription *audit, const routable *r,
                          int timeout_ms, natsMsg **c, natsMsg **a)
{
    *c = next_of(compose, r->request_key, timeout_ms);
    if (!*c) fail_msg("no ComposeInput from D for %s", r->request_key);
    *a = next_of(audit, r->request_key, timeout_ms);
    if (!*a) fail_msg("no StageAudit from D for %s", r->request_key);
    assert_string_equal(msg_id_of(*c), r->msg_id);
    assert_string_equal(msg_id_of(*a), r->msg_id);
}

static void assert_no_output(natsSubscription *compose, const routable *r, int for_ms)
{
    natsMsg *m = next_of(compose, r->request_key, for_ms);
    if (m) {
        natsMsg_Destroy(m);
        fail_msg("D published for %s while it should wait", r->request_key);
    }
}

/* The lock value D writes: msgpack {owner, deadlineAtUnixMs}. */
static void lock_read(med_redis *rd, const char *key, char *owner, size_t cap, int64_t *deadline)
{
    uint8_t *v = NULL;
    size_t n = 0;
    med_err e;
    assert_int_equal(med_redis_get(rd, key, &v, &n, &e), MED_OK);
    med_mmap *m = NULL;
    assert_int_equal(med_mmap_decode(v, n, &m, &e), MED_OK);
    const med_mval *o = med_mmap_get(m, "owner");
    const med_mval *d = med_mmap_get(m, "deadlineAtUnixMs");
    assert_true(o && o->type == MED_MVAL_STR && d && d->type == MED_MVAL_INT);
    snprintf(owner, cap, "%s", o->u.s.ptr);
    *deadline = d->u.i;
    med_mmap_free(m);
    free(v);
}

static void lock_write(med_redis *rd, const char *key, const char *owner, int64_t deadline)
{
    med_mmap *m = med_mmap_new();
    assert_non_null(m);
    assert_int_equal(med_mmap_set_str(m, "owner", owner), 0);
    assert_int_equal(med_mmap_set_int(m, "deadlineAtUnixMs", deadline), 0);
    uint8_t *v = NULL;
    size_t n = 0;
    med_err e;
    assert_int_equal(med_mmap_encode(m, &v, &n, &e), MED_OK);
    med_mmap_free(m);
    assert_int_equal(med_redis_set(rd, key, v, n, 120000, &e), MED_OK);
    free(v);
}

/* D.10 case 16: given a redelivered message, no HTTP call, and the same
 * output under the same Nats-Msg-Id. */
static void redelivered_message_republishes_the_stored_output(void **state)
{
    world *w = *state;
    natsSubscription *compose = core_sub(w, MED_SUBJ_E_COMPOSE);
    natsSubscription *audit = core_sub(w, MED_SUBJ_AUDIT_PREFIX MED_STAGE_D MED_SUBJ_VERSION_SUFFIX);
    uint64_t chain0 = th_stream_last_seq(w->js, MED_STREAM_CHAIN) + 1;
    uint64_t audit0 = th_stream_last_seq(w->js, MED_STREAM_AUDIT) + 1;
    long hits0 = network_hits(w);

    routable r;
    routable_new(w, "redeliver", &r);
    natsMsg *c1 = NULL, *a1 = NULL, *c2 = NULL, *a2 = NULL;
    await_outputs(compose, audit, &r, 20000, &c1, &a1);
    long hits1 = network_hits(w);
    assert_true(hits1 > hits0);   /* the first delivery routed over the networks */

    /* The first delivery left its lock and its output in Redis. */
    med_redis *rd = th_redis_connect();
    char owner[64];
    int64_t deadline = 0;
    lock_read(rd, r.lock_key, owner, sizeof owner, &deadline);
    assert_string_equal(owner, "d_supply");
    assert_true(deadline > med_now_unix_ms() - 60000);
    uint8_t *out = NULL;
    size_t out_len = 0;
    med_err e;
    assert_int_equal(med_redis_get(rd, r.out_key, &out, &out_len, &e), MED_OK);
    free(out);

    redeliver(w, &r);
    await_outputs(compose, audit, &r, 20000, &c2, &a2);
    assert_same_message(c1, c2);
    assert_same_message(a1, a2);
    assert_int_equal(network_hits(w), hits1);

    /* The republish was a duplicate to both streams. */
    assert_int_equal(stream_count(w, MED_SUBJ_E_COMPOSE, chain0, r.request_key), 1);
    assert_int_equal(stream_count(w, MED_SUBJ_AUDIT_PREFIX MED_STAGE_D MED_SUBJ_VERSION_SUFFIX, audit0,
                                  r.request_key),
                     1);
    natsMsg_Destroy(c1);
    natsMsg_Destroy(a1);
    natsMsg_Destroy(c2);
    natsMsg_Destroy(a2);
    med_redis_close(rd);
    routable_free(&r);
    natsSubscription_Destroy(compose);
    natsSubscription_Destroy(audit);
}

/* Another replica holds the lock with a deadline ahead: D naks, delayed by
 * the rest of that budget, calls no network meanwhile, then takes the
 * stale lock over and routes once. D is stopped while the message is
 * queued so the lock is in place before D sees it. */
static void lock_held_elsewhere_waits_for_the_holders_budget(void **state)
{
    world *w = *state;
    th_proc *d = &w->procs[TH_P_D];
    natsSubscription *compose = core_sub(w, MED_SUBJ_E_COMPOSE);
    natsSubscription *audit = core_sub(w, MED_SUBJ_AUDIT_PREFIX MED_STAGE_D MED_SUBJ_VERSION_SUFFIX);
    uint64_t chain0 = th_stream_last_seq(w->js, MED_STREAM_CHAIN) + 1;
    th_proc_stop(d, SIGTERM, 10000);

    routable r;
    routable_new(w, "locked", &r);
    med_redis *rd = th_redis_connect();
    int64_t deadline = med_now_unix_ms() + 8000;
    lock_write(rd, r.lock_key, "d_other_replica", deadline);
    long hits0 = network_hits(w);

    th_proc_start_ready(d);
    if (med_now_unix_ms() > deadline - 2000) fail_msg("D took too long to start for this test");
    /* Until the holder's deadline: no call, no output. */
    int quiet_ms = (int)(deadline - 300 - med_now_unix_ms());
    assert_no_output(compose, &r, quiet_ms);
    assert_int_equal(network_hits(w), hits0);

    natsMsg *c = NULL, *a = NULL;
    await_outputs(compose, audit, &r, 15000, &c, &a);
    assert_true(med_now_unix_ms() >= deadline);
    assert_true(network_hits(w) > hits0);
    /* D took the lock over and stored its output. */
    char owner[64];
    int64_t dl = 0;
    lock_read(rd, r.lock_key, owner, sizeof owner, &dl);
    assert_string_equal(owner, "d_supply");
    uint8_t *out = NULL;
    size_t out_len = 0;
    med_err e;
    assert_int_equal(med_redis_get(rd, r.out_key, &out, &out_len, &e), MED_OK);
    free(out);
    assert_int_equal(stream_count(w, MED_SUBJ_E_COMPOSE, chain0, r.request_key), 1);

    natsMsg_Destroy(c);
    natsMsg_Destroy(a);
    med_redis_close(rd);
    routable_free(&r);
    natsSubscription_Destroy(compose);
    natsSubscription_Destroy(audit);
}

/* Redis down: D routes again (a second network call, a second publish
 * under the same Nats-Msg-Id) and the stream drops the duplicate. */
static void redis_down_routes_again_and_the_stream_keeps_one(void **state)
{
    world *w = *state;
    natsSubscription *compose = core_sub(w, MED_SUBJ_E_COMPOSE);
    natsSubscription *audit = core_sub(w, MED_SUBJ_AUDIT_PREFIX MED_STAGE_D MED_SUBJ_VERSION_SUFFIX);
    uint64_t chain0 = th_stream_last_seq(w->js, MED_STREAM_CHAIN) + 1;

    routable r;
    routable_new(w, "nored", &r);
    natsMsg *c1 = NULL, *a1 = NULL, *c2 = NULL, *a2 = NULL;
    await_outputs(compose, audit, &r, 20000, &c1, &a1);
    long hits1 = network_hits(w);

    assert_int_equal(th_infra("stop-one", "redis"), 0);
    redeliver(w, &r);
    await_outputs(compose, audit, &r, 20000, &c2, &a2);
    long hits2 = network_hits(w);
    int restarted = th_infra("start-one", "redis");

    assert_true(hits2 > hits1);
    assert_string_equal(msg_id_of(c1), msg_id_of(c2));
    assert_int_equal(stream_count(w, MED_SUBJ_E_COMPOSE, chain0, r.request_key), 1);
    assert_int_equal(restarted, 0);

    natsMsg_Destroy(c1);
    natsMsg_Destroy(a1);
    natsMsg_Destroy(c2);
    natsMsg_Destroy(a2);
    routable_free(&r);
    natsSubscription_Destroy(compose);
    natsSubscription_Destroy(audit);
}

int main(void)
{
    srand((unsigned)th_now_ms());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(redelivered_message_republishes_the_stored_output),
        cmocka_unit_test(lock_held_elsewhere_waits_for_the_holders_budget),
        cmocka_unit_test(redis_down_routes_again_and_the_stream_keeps_one),
    };
    return cmocka_run_group_tests(tests, setup, th_world_teardown);
}
