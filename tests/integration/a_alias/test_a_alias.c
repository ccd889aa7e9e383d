/* A.4/A.5: a request without clientRequestId gets a generated id, stored
 * as an alias of its computed dedup record; an SDK that retries with that
 * id within the window is answered from the first request's result (no
 * second opportunity, no second network call). Then the alias scripts
 * themselves on the same Redis: written with the record, never over a
 * foreign value, deleted with the record on a reject. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "a_dedup.h"
#include "a_store.h"
#include "harness_http.h"
#include "harness_world.h"
#include "med/ids.h"

#define TTL_MS 240000

typedef th_world world;

static int setup(void **state)
{
    th_world_setup(state, "a_alias", NULL);
    world *w = *state;
    th_fake_network_behave(&w->net_a, TH_FILL_A);
    th_fake_network_behave(&w->net_b, TH_FILL_B);
    return 0;
}

static long pttl(med_redis *r, const char *key)
{
    med_redis_reply reply;
    med_err err = { 0 };
    assert_int_equal(med_redis_eval(r, "return redis.call('PTTL', KEYS[1])", 1, &key, 0, NULL,
                                    NULL, &reply, &err),
                     MED_OK);
    long v = reply.kind == MED_REDIS_REPLY_INT ? (long)reply.integer : -9;
    med_redis_reply_clear(&reply);
    return v;
}

/* What Redis holds under a full key: RECORD/ALIAS/NONE. */
static a_dedup_bytes read_key(med_redis *r, const char *key, a_dedup_record *rec, char *alias_of)
{
    uint8_t *b = NULL;
    size_t n = 0;
    med_err err = { 0 };
    assert_int_equal(a_store_dedup_read(r, key, &b, &n, &err), MED_OK);
    a_dedup_bytes k = a_dedup_bytes_read(b, n, rec, alias_of, A_DEDUP_KEY_MAX);
    free(b);
    return k;
}

static long network_calls(world *w)
{
    return th_fake_network_requests(&w->net_a) + th_fake_network_requests(&w->net_b);
}

static json_t *post(world *w, const char *body, long *status)
{
    return th_edge_json(w->edge_port, "POST", "/v1/opportunities", body, status);
}

/* The body again, now carrying clientRequestId (same request otherwise). */
static char *with_client_id(const char *body, const char *cid)
{
    json_error_t je;
    json_t *j = json_loads(body, 0, &je);
    assert_non_null(j);
    json_object_set_new(j, "clientRequestId", json_string(cid));
    char *out = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return out;
}

/* "fp:" + sha256(appId|sessionId|placementId|triggerType|triggerAt): the
 * harness body's triggerAt is already in the canonical form. */
static void computed_key(const char *body, const char *session, char *out, size_t cap)
{
    json_error_t je;
    json_t *j = json_loads(body, 0, &je);
    assert_non_null(j);
    const char *at = json_string_value(json_object_get(json_object_get(j, "triggerContext"),
                                                       "triggerAt"));
    assert_non_null(at);
    char fp[256], hex[65];
    int n = snprintf(fp, sizeof fp, "app_demo|%s|plc_feed|answer_end|%s", session, at);
    med_sha256_hex(fp, (size_t)n, hex);
    snprintf(out, cap, "fp:%s", hex);
    json_decref(j);
}

static void generated_id_retry_reuses_the_first_result(void **state)
{
    world *w = *state;
    const char *session = "sess_alias_01";
    char *body = th_opportunity_body(session, "answer_end", NULL, NULL);
    long st = 0;
    json_t *first = post(w, body, &st);
    assert_int_equal(st, 200);
    assert_string_equal(th_json_str(first, "status"), "served");
    long calls = network_calls(w);
    long rows = th_sql_count(w->pg, "SELECT count(*) FROM opportunity_records", NULL);

    /* The computed record names the generated id; the alias leads to it. */
    med_redis *r = th_redis_connect();
    char fp[A_DEDUP_KEY_MAX], rkey[512], akey_dk[A_DEDUP_KEY_MAX], akey[512], to[A_DEDUP_KEY_MAX];
    computed_key(body, session, fp, sizeof fp);
    a_store_dedup_key("ci", w->tenant, fp, rkey, sizeof rkey);
    a_dedup_record rec;
    assert_int_equal(read_key(r, rkey, &rec, to), A_DEDUP_BYTES_RECORD);
    assert_string_equal(rec.state, A_DEDUP_COMPLETED);
    assert_string_equal(rec.opportunity_key, th_json_str(first, "opportunityKey"));
    assert_memory_equal(rec.generated_client_id, "cli_", 4);
    a_dedup_alias_key("app_demo", rec.generated_client_id, akey_dk, sizeof akey_dk);
    a_store_dedup_key("ci", w->tenant, akey_dk, akey, sizeof akey);
    a_dedup_record ignored;
    assert_int_equal(read_key(r, akey, &ignored, to), A_DEDUP_BYTES_ALIAS);
    assert_string_equal(to, fp);
    long ttl = pttl(r, akey);
    assert_true(ttl > 200000 && ttl <= TTL_MS);

    /* The SDK retries with the id it was given: the first's result. */
    char *retry = with_client_id(body, rec.generated_client_id);
    json_t *second = post(w, retry, &st);
    assert_int_equal(st, 200);
    assert_string_equal(th_json_str(second, "responseReference"),
                        th_json_str(first, "responseReference"));
    assert_string_equal(th_json_str(second, "opportunityKey"),
                        th_json_str(first, "opportunityKey"));
    assert_string_equal(th_json_str(second, "status"), th_json_str(first, "status"));
    assert_int_equal(network_calls(w), calls);
    assert_int_equal(th_sql_count(w->pg, "SELECT count(*) FROM opportunity_records", NULL), rows);
    assert_int_equal(th_sql_count(w->pg,
                                  "SELECT count(*) FROM opportunity_records WHERE dedup_key = $1",
                                  akey_dk),
                     0);
    /* the alias is still an alias (a duplicate writes nothing) */
    assert_int_equal(read_key(r, akey, &ignored, to), A_DEDUP_BYTES_ALIAS);
    med_redis_close(r);
    json_decref(first);
    json_decref(second);
    free(retry);
    free(body);
}

static void rec_of(a_dedup_record *rec, const char *gen_id)
{
    memset(rec, 0, sizeof *rec);
    snprintf(rec->state, sizeof rec->state, "%s", A_DEDUP_INFLIGHT);
    rec->first_seen_at_ms = 1771696801000LL;
    rec->owner_stream_seq = 5;
    snprintf(rec->request_key, sizeof rec->request_key, "req_0123456789abcdef");
    snprintf(rec->generated_client_id, sizeof rec->generated_client_id, "%s", gen_id);
}

/* The scripts: the claim stores record and alias together with one TTL;
 * an alias key holding a client's own record is never overwritten; a
 * reject deletes both, but not a foreign value under the alias key. */
static void alias_scripts_on_redis(void **state)
{
    (void)state;
    med_redis *r = th_redis_connect();
    med_err err = { 0 };
    const char *rkey = "med:ci:a:dedup:t_alias:fp:00aa";
    const char *akey = "med:ci:a:dedup:t_alias:cli:app:cli_00aa00aa00aa";
    a_store_alias alias = { .key = akey, .alias_of = "fp:00aa" };
    a_dedup_record rec, back;
    char to[A_DEDUP_KEY_MAX];
    rec_of(&rec, "cli_00aa00aa00aa");
    int claimed = 0;
    uint8_t *cur = NULL;
    size_t len = 0;
    assert_int_equal(a_store_dedup_claim_aliased(r, rkey, &alias, NULL, 0, &rec, TTL_MS, &claimed,
                                                 &cur, &len, &err),
                     MED_OK);
    assert_int_equal(claimed, 1);
    assert_int_equal(read_key(r, rkey, &back, to), A_DEDUP_BYTES_RECORD);
    assert_int_equal(read_key(r, akey, &back, to), A_DEDUP_BYTES_ALIAS);
    assert_string_equal(to, "fp:00aa");
    assert_true(pttl(r, akey) > 0);
    /* a second claimant loses and writes neither key */
    a_dedup_record other;
    rec_of(&other, "cli_11bb11bb11bb");
    assert_int_equal(a_store_dedup_claim_aliased(r, rkey, &alias, NULL, 0, &other, TTL_MS,
                                                 &claimed, &cur, &len, &err),
                     MED_OK);
    assert_int_equal(claimed, 0);
    assert_non_null(cur);
    free(cur);
    /* completion refreshes both */
    snprintf(rec.state, sizeof rec.state, "%s", A_DEDUP_COMPLETED);
    assert_int_equal(a_store_dedup_put_aliased(r, rkey, &alias, &rec, TTL_MS, &err), MED_OK);
    assert_int_equal(read_key(r, rkey, &back, to), A_DEDUP_BYTES_RECORD);
    assert_string_equal(back.state, A_DEDUP_COMPLETED);
    assert_int_equal(read_key(r, akey, &back, to), A_DEDUP_BYTES_ALIAS);
    /* reject: both gone */
    assert_int_equal(a_store_dedup_delete_aliased(r, rkey, &alias, &err), MED_OK);
    assert_int_equal(read_key(r, rkey, &back, to), A_DEDUP_BYTES_NONE);
    assert_int_equal(read_key(r, akey, &back, to), A_DEDUP_BYTES_NONE);

    /* A client that sent that id itself owns the key: its record stays. */
    a_dedup_record owner;
    rec_of(&owner, "");
    assert_int_equal(a_store_dedup_put(r, akey, &owner, TTL_MS, &err), MED_OK);
    assert_int_equal(a_store_dedup_claim_aliased(r, rkey, &alias, NULL, 0, &rec, TTL_MS, &claimed,
                                                 &cur, &len, &err),
                     MED_OK);
    assert_int_equal(claimed, 1);
    assert_int_equal(read_key(r, akey, &back, to), A_DEDUP_BYTES_RECORD);
    assert_int_equal(a_store_dedup_put_aliased(r, rkey, &alias, &rec, TTL_MS, &err), MED_OK);
    assert_int_equal(read_key(r, akey, &back, to), A_DEDUP_BYTES_RECORD);
    assert_int_equal(a_store_dedup_delete_aliased(r, rkey, &alias, &err), MED_OK);
    assert_int_equal(read_key(r, rkey, &back, to), A_DEDUP_BYTES_NONE);
    assert_int_equal(read_key(r, akey, &back, to), A_DEDUP_BYTES_RECORD);
    assert_int_equal(a_store_dedup_delete(r, akey, &err), MED_OK);
    med_redis_close(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(generated_id_retry_reuses_the_first_result),
        cmocka_unit_test(alias_scripts_on_redis),
    };
    return cmocka_run_group_tests(tests, setup, th_world_teardown);
}
