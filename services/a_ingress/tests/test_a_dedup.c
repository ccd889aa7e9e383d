/* A.4 / A.5 acceptance cases 2, 7, 8, 9, 10 (spec 01 A.11). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "a_fixture.h"
#include "a_types.h"
#include "med/reason.h"

static const char *F_HASH = "ac83c67c895671528d29ee9173b812402b989084f1ff1c644f0f8f2a61a15edd";

typedef struct run {
    a_request req;
    a_decision d;
    json_t *placement;
} run;

static void decide(run *r, json_t *body, const a_dedup_record *rec, int64_t received,
                   uint64_t seq)
{
    memset(r, 0, sizeof *r);
    r->placement = fixture_placement(1);
    a_decide_in in = fixture_in(r->placement);
    in.received_at_ms = received;
    in.now_ms = received + 2;
    in.stream_seq = seq;
    assert_int_equal(fixture_decide(&in, body, rec, 0, &r->req, &r->d), 1);
}

static void run_free(run *r)
{
    a_request_free(&r->req);
    json_decref(r->placement);
}

/* The record the first request leaves: inflight, or completed with its result. */
static void first_record(run *first, const char *state, a_dedup_record *rec)
{
    a_decision_record(&first->d, &first->req, F_RECEIVED_MS, 7, state, rec);
}

static void case02_computed_dedup_key(void **state)
{
    (void)state;
    a_dedup_key k;
    a_dedup_compute(F_APP, "sess_001", F_PLACEMENT, "answer_end", 1771696801000LL, NULL, &k);
    assert_string_equal(k.computed_dedup_key, F_HASH);
    assert_string_equal(k.source, A_DEDUP_SRC_COMPUTED);
    assert_memory_equal(k.dedup_key, "fp:", 3);
    assert_string_equal(k.dedup_key + 3, F_HASH);

    run r;
    json_t *b = fixture_body();
    set_tc(b, "triggerAt", "2026-02-21T18:00:01Z");
    decide(&r, b, NULL, F_RECEIVED_MS, 7);
    assert_string_equal(r.d.dkey.computed_dedup_key, F_HASH);
    run_free(&r);
}

static json_t *with_client_id(const char *cid)
{
    json_t *b = fixture_body();
    json_object_set_new(b, "clientRequestId", json_string(cid));
    return b;
}

static void case07_inflight_duplicate_reuses_keys(void **state)
{
    (void)state;
    run first, second;
    decide(&first, with_client_id("cli_req_0001"), NULL, F_RECEIVED_MS, 7);
    assert_string_equal(first.d.dkey.dedup_key, "cli:" F_APP ":cli_req_0001");
    assert_string_equal(first.d.dkey.source, A_DEDUP_SRC_CLIENT);
    assert_string_equal(first.d.keys.generated_client_id, "");
    a_dedup_record rec;
    first_record(&first, A_DEDUP_INFLIGHT, &rec);
    decide(&second, with_client_id("cli_req_0001"), &rec, F_RECEIVED_MS + 20, 8);
    assert_int_equal(second.d.dedup.state, A_DEDUP_INFLIGHT_DUPLICATE);
    assert_int_equal(second.d.kind, A_KIND_TERMINAL);
    assert_string_equal(second.d.trigger_action, A_ACT_NO_OP);
    assert_string_equal(second.d.reason_code, MED_R_A_TRG_DUPLICATE_INFLIGHT);
    assert_string_equal(second.d.decision_outcome, A_OUT_INELIGIBLE);
    assert_string_equal(second.d.keys.request_key, first.d.keys.request_key);
    assert_string_equal(second.d.keys.opportunity_key, first.d.keys.opportunity_key);
    assert_string_equal(second.d.keys.attempt_key, first.d.keys.attempt_key);
    assert_string_equal(second.d.keys.trace_key, first.d.keys.trace_key);
    run_free(&first);
    run_free(&second);
}

static void case08_reused_then_expired_retry(void **state)
{
    (void)state;
    run first, again, late;
    decide(&first, fixture_body(), NULL, F_RECEIVED_MS, 7);
    first.d.reason_code = MED_R_A_TRG_MAP_ANSWER_END_ELIGIBLE;
    a_dedup_record rec;
    first_record(&first, A_DEDUP_COMPLETED, &rec);
    assert_string_equal(rec.opportunity_ref, first.d.keys.opportunity_key);

    /* +60 s: requestAt stays within 300 s of receivedAt */
    decide(&again, fixture_body(), &rec, F_RECEIVED_MS + 60000, 9);
    assert_int_equal(again.d.dedup.state, A_DEDUP_REUSED_RESULT);
    assert_string_equal(again.d.reason_code, MED_R_A_TRG_DUPLICATE_REUSED_RESULT);
    assert_string_equal(again.d.keys.request_key, first.d.keys.request_key);
    assert_string_equal(again.d.first.opportunity_ref, first.d.keys.opportunity_key);
    assert_string_equal(again.d.decision_outcome, A_OUT_ELIGIBLE);

    decide(&late, fixture_body(), &rec, F_RECEIVED_MS + 121000, 10);
    assert_int_equal(late.d.dedup.state, A_DEDUP_EXPIRED_RETRY);
    assert_string_equal(a_dedup_state_name(late.d.dedup.state), "expired_retry");
    assert_int_equal(late.d.dedup.generation, 1);
    assert_int_equal(late.d.kind, A_KIND_CREATE);
    assert_string_not_equal(late.d.keys.request_key, first.d.keys.request_key);
    assert_string_not_equal(late.d.keys.attempt_key, first.d.keys.attempt_key);
    assert_string_not_equal(late.d.keys.opportunity_key, first.d.keys.opportunity_key);
    assert_string_equal(late.d.keys.trace_key, first.d.keys.trace_key);
    run_free(&first);
    run_free(&again);
    run_free(&late);
}

static void case09_generated_client_id_is_an_alias(void **state)
{
    (void)state;
    run first, retry;
    decide(&first, fixture_body(), NULL, F_RECEIVED_MS, 7);
    char alias[A_DEDUP_KEY_MAX];
    a_dedup_alias_key(F_APP, first.d.keys.generated_client_id, alias, sizeof alias);
    a_dedup_record rec;
    first.d.reason_code = MED_R_A_TRG_MAP_ANSWER_END_ELIGIBLE;
    first_record(&first, A_DEDUP_COMPLETED, &rec);
    decide(&retry, with_client_id(first.d.keys.generated_client_id), &rec, F_RECEIVED_MS + 5000,
           11);
    /* The retry looks up exactly the alias key the first request stored. */
    assert_string_equal(retry.d.dkey.dedup_key, alias);
    assert_int_equal(retry.d.dedup.state, A_DEDUP_REUSED_RESULT);
    assert_string_equal(retry.d.keys.request_key, first.d.keys.request_key);
    assert_string_equal(retry.d.keys.opportunity_key, first.d.keys.opportunity_key);
    assert_string_equal(retry.d.first.opportunity_ref, first.d.keys.opportunity_key);
    assert_string_equal(retry.d.reason_code, MED_R_A_TRG_DUPLICATE_REUSED_RESULT);
    assert_int_equal(retry.d.kind, A_KIND_TERMINAL);
    run_free(&first);
    run_free(&retry);
}

/* The value stored under the alias key leads to the computed record; a
 * record, garbage or an alias of anything but a computed key does not. */
static void alias_bytes_lead_to_the_computed_record(void **state)
{
    (void)state;
    run first;
    decide(&first, fixture_body(), NULL, F_RECEIVED_MS, 7);
    uint8_t *buf = NULL;
    size_t len = 0;
    med_err e;
    assert_int_equal(a_dedup_alias_encode(first.d.dkey.dedup_key, &buf, &len, &e), MED_OK);
    a_dedup_record rec;
    char to[A_DEDUP_KEY_MAX];
    assert_int_equal(a_dedup_bytes_read(buf, len, &rec, to, sizeof to), A_DEDUP_BYTES_ALIAS);
    assert_string_equal(to, first.d.dkey.dedup_key);
    free(buf);
    /* an alias is never made of a client key, so it cannot chain */
    assert_int_not_equal(a_dedup_alias_encode("cli:app:cli_0123456789ab", &buf, &len, &e),
                         MED_OK);

    a_dedup_record stored;
    first_record(&first, A_DEDUP_INFLIGHT, &stored);
    assert_int_equal(a_dedup_record_encode(&stored, &buf, &len, &e), MED_OK);
    assert_int_equal(a_dedup_bytes_read(buf, len, &rec, to, sizeof to), A_DEDUP_BYTES_RECORD);
    assert_string_equal(to, "");
    assert_string_equal(rec.request_key, first.d.keys.request_key);
    free(buf);
    assert_int_equal(a_dedup_bytes_read(NULL, 0, &rec, to, sizeof to), A_DEDUP_BYTES_NONE);
    assert_int_equal(a_dedup_bytes_read((const uint8_t *)"\xc1", 1, &rec, to, sizeof to),
                     A_DEDUP_BYTES_NONE);
    /* a map naming a client key as target is not followed */
    const uint8_t cli_alias[] = "\x81\xa7" "aliasOf" "\xa5" "cli:x";
    assert_int_equal(a_dedup_bytes_read(cli_alias, sizeof cli_alias - 1, &rec, to, sizeof to),
                     A_DEDUP_BYTES_NONE);
    run_free(&first);
}

/* Only the owner of a computed record writes (and later deletes) the
 * alias, under exactly the key a retry with that id looks up. */
static void alias_key_only_for_the_computed_owner(void **state)
{
    (void)state;
    run first, with_id, dup, late;
    char key[A_DEDUP_KEY_MAX], expect[A_DEDUP_KEY_MAX];
    decide(&first, fixture_body(), NULL, F_RECEIVED_MS, 7);
    assert_int_equal(a_decision_alias_key(&first.d, &first.req, key, sizeof key), 1);
    a_dedup_alias_key(F_APP, first.d.keys.generated_client_id, expect, sizeof expect);
    assert_string_equal(key, expect);
    assert_memory_equal(key, "cli:" F_APP ":cli_", strlen("cli:" F_APP ":cli_"));

    decide(&with_id, with_client_id("cli_req_0001"), NULL, F_RECEIVED_MS, 8);
    assert_int_equal(a_decision_alias_key(&with_id.d, &with_id.req, key, sizeof key), 0);
    assert_string_equal(key, "");

    a_dedup_record rec;
    first_record(&first, A_DEDUP_INFLIGHT, &rec);
    decide(&dup, fixture_body(), &rec, F_RECEIVED_MS + 1000, 9);
    assert_int_equal(dup.d.dedup.state, A_DEDUP_INFLIGHT_DUPLICATE);
    assert_int_equal(a_decision_alias_key(&dup.d, &dup.req, key, sizeof key), 0);

    /* an expired retry has new keys, so a new generated id and alias */
    decide(&late, fixture_body(), &rec, F_RECEIVED_MS + 121000, 10);
    assert_int_equal(late.d.dedup.state, A_DEDUP_EXPIRED_RETRY);
    assert_int_equal(a_decision_alias_key(&late.d, &late.req, key, sizeof key), 1);
    assert_string_not_equal(key, expect);
    run_free(&first);
    run_free(&with_id);
    run_free(&dup);
    run_free(&late);
}

/* A retry carrying the generated id while the first is still in flight:
 * decided on the computed record the alias leads to. */
static void alias_retry_while_inflight_is_a_duplicate(void **state)
{
    (void)state;
    run first, retry;
    decide(&first, fixture_body(), NULL, F_RECEIVED_MS, 7);
    a_dedup_record rec;
    first_record(&first, A_DEDUP_INFLIGHT, &rec);
    decide(&retry, with_client_id(first.d.keys.generated_client_id), &rec, F_RECEIVED_MS + 300,
           12);
    assert_string_equal(retry.d.dkey.source, A_DEDUP_SRC_CLIENT);
    assert_int_equal(retry.d.dedup.state, A_DEDUP_INFLIGHT_DUPLICATE);
    assert_int_equal(retry.d.kind, A_KIND_TERMINAL);
    assert_string_equal(retry.d.reason_code, MED_R_A_TRG_DUPLICATE_INFLIGHT);
    assert_string_equal(retry.d.keys.request_key, first.d.keys.request_key);
    assert_string_equal(retry.d.keys.opportunity_key, first.d.keys.opportunity_key);
    assert_string_equal(retry.d.keys.attempt_key, first.d.keys.attempt_key);
    assert_string_equal(retry.d.keys.generated_client_id, first.d.keys.generated_client_id);
    assert_int_equal(a_dedup_claim_for(retry.d.kind == A_KIND_CREATE, 0, &retry.d.dedup, 1),
                     A_DEDUP_CLAIM_NONE);
    run_free(&first);
    run_free(&retry);
}

static void case10_owner_redelivery_resumes(void **state)
{
    (void)state;
    run first, redelivered;
    decide(&first, fixture_body(), NULL, F_RECEIVED_MS, 7);
    a_dedup_record rec;
    first_record(&first, A_DEDUP_INFLIGHT, &rec);
    decide(&redelivered, fixture_body(), &rec, F_RECEIVED_MS, 7);
    assert_int_equal(redelivered.d.dedup.state, A_DEDUP_RESUME);
    assert_int_equal(redelivered.d.kind, A_KIND_CREATE);
    assert_string_equal(redelivered.d.keys.opportunity_key, first.d.keys.opportunity_key);
    run_free(&redelivered);
    /* also once it completed: the owner republishes under the same ids */
    first.d.reason_code = MED_R_A_TRG_MAP_ANSWER_END_ELIGIBLE;
    first_record(&first, A_DEDUP_COMPLETED, &rec);
    decide(&redelivered, fixture_body(), &rec, F_RECEIVED_MS, 7);
    assert_int_equal(redelivered.d.dedup.state, A_DEDUP_RESUME);
    assert_string_equal(redelivered.d.keys.request_key, first.d.keys.request_key);
    run_free(&first);
    run_free(&redelivered);
}

static void redis_down_degrades(void **state)
{
    (void)state;
    run r;
    memset(&r, 0, sizeof r);
    r.placement = fixture_placement(1);
    a_decide_in in = fixture_in(r.placement);
    assert_int_equal(fixture_decide(&in, fixture_body(), NULL, 1, &r.req, &r.d), 1);
    assert_int_equal(r.d.dedup_degraded, 1);
    assert_int_equal(r.d.kind, A_KIND_CREATE);
    run_free(&r);
}

static void record_roundtrip(void **state)
{
    (void)state;
    a_dedup_record rec, back;
    memset(&rec, 0, sizeof rec);
    strcpy(rec.state, A_DEDUP_COMPLETED);
    rec.first_seen_at_ms = 1771696801010LL;
    rec.generation = 3;
    rec.owner_stream_seq = 99;
    strcpy(rec.request_key, "req_0123456789abcdef");
    strcpy(rec.opportunity_ref, "opp_0123456789abcdef");
    uint8_t *buf = NULL;
    size_t len = 0;
    med_err e;
    assert_int_equal(a_dedup_record_encode(&rec, &buf, &len, &e), MED_OK);
    assert_int_equal(a_dedup_record_decode(buf, len, &back, &e), MED_OK);
    assert_memory_equal(&rec, &back, sizeof rec);
    free(buf);
    assert_int_not_equal(a_dedup_record_decode((const uint8_t *)"\x80", 1, &back, &e), MED_OK);
}

/* What the claim script is asked to store after each decision of the A.4
 * table: only a create that is new or an expired retry claims; a new one
 * only where no record is, an expired one only over the bytes it saw. */
static void claim_follows_the_decision(void **state)
{
    (void)state;
    run first, dup, done, late, resumed;
    decide(&first, fixture_body(), NULL, F_RECEIVED_MS, 7);
    assert_int_equal(a_dedup_claim_for(1, 0, &first.d.dedup, 0), A_DEDUP_CLAIM_IF_ABSENT);
    /* an undecodable record counts as absent but is replaced only as seen */
    assert_int_equal(a_dedup_claim_for(1, 0, &first.d.dedup, 1), A_DEDUP_CLAIM_IF_UNCHANGED);
    /* Redis down, or no create (no_op, reject): nothing written */
    assert_int_equal(a_dedup_claim_for(1, 1, &first.d.dedup, 0), A_DEDUP_CLAIM_NONE);
    assert_int_equal(a_dedup_claim_for(0, 0, &first.d.dedup, 0), A_DEDUP_CLAIM_NONE);

    a_dedup_record rec;
    first_record(&first, A_DEDUP_INFLIGHT, &rec);
    decide(&dup, fixture_body(), &rec, F_RECEIVED_MS + 1000, 8);
    assert_int_equal(dup.d.dedup.state, A_DEDUP_INFLIGHT_DUPLICATE);
    assert_int_equal(a_dedup_claim_for(dup.d.kind == A_KIND_CREATE, 0, &dup.d.dedup, 1),
                     A_DEDUP_CLAIM_NONE);
    decide(&resumed, fixture_body(), &rec, F_RECEIVED_MS, 7);
    assert_int_equal(resumed.d.dedup.state, A_DEDUP_RESUME);
    assert_int_equal(resumed.d.kind, A_KIND_CREATE);
    assert_int_equal(a_dedup_claim_for(1, 0, &resumed.d.dedup, 1), A_DEDUP_CLAIM_NONE);

    first.d.reason_code = MED_R_A_TRG_MAP_ANSWER_END_ELIGIBLE;
    first_record(&first, A_DEDUP_COMPLETED, &rec);
    decide(&done, fixture_body(), &rec, F_RECEIVED_MS + 1000, 8);
    assert_int_equal(done.d.dedup.state, A_DEDUP_REUSED_RESULT);
    assert_int_equal(a_dedup_claim_for(done.d.kind == A_KIND_CREATE, 0, &done.d.dedup, 1),
                     A_DEDUP_CLAIM_NONE);
    decide(&late, fixture_body(), &rec, F_RECEIVED_MS + 121000, 9);
    assert_int_equal(late.d.dedup.state, A_DEDUP_EXPIRED_RETRY);
    assert_int_equal(a_dedup_claim_for(late.d.kind == A_KIND_CREATE, 0, &late.d.dedup, 1),
                     A_DEDUP_CLAIM_IF_UNCHANGED);
    run_free(&first);
    run_free(&dup);
    run_free(&resumed);
    run_free(&done);
    run_free(&late);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(case02_computed_dedup_key),
        cmocka_unit_test(case07_inflight_duplicate_reuses_keys),
        cmocka_unit_test(case08_reused_then_expired_retry),
        cmocka_unit_test(case09_generated_client_id_is_an_alias),
        cmocka_unit_test(alias_bytes_lead_to_the_computed_record),
        cmocka_unit_test(alias_key_only_for_the_computed_owner),
        cmocka_unit_test(alias_retry_while_inflight_is_a_duplicate),
        cmocka_unit_test(case10_owner_redelivery_resumes),
        cmocka_unit_test(redis_down_degrades),
        cmocka_unit_test(record_roundtrip),
        cmocka_unit_test(claim_follows_the_decision),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
