/* B.11 acceptance cases that are about one rule (unit level). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "med/arena.h"
#include "b_bucket.h"
#include "b_conflict.h"
#include "b_enum.h"
#include "b_redact.h"
#include "b_signal.h"
#include "med/reason.h"

static b_cand scalar(const char *source, int seq, int64_t at, const char *slot, const char *raw)
{
    b_cand c = { .source = source, .sequence = seq, .has_updated_at = at != 0, .updated_at = at, .raw = raw };
    static char vals[16][64];
    static int k;
    b_enum_result r;
    b_enum_normalize(slot, raw, NULL, &r, NULL);
    strcpy(vals[k % 16], r.value);
    c.value = vals[k++ % 16];
    return c;
}

/* 3: gating enums never fall back silently. */
static void test_b11_case03_unknown_gating_enum(void **state)
{
    (void)state;
    b_enum_result r;
    assert_int_equal(b_enum_normalize("triggerDecision", "totally_unknown_decision", NULL, &r, NULL), MED_OK);
    assert_string_equal(r.value, "unknown_trigger_decision");
    assert_string_equal(r.mapping_action, B_MAP_UNKNOWN);
    assert_true(b_enum_is_gating("triggerDecision"));
    b_enum_normalize("hitType", "unknown_hit_type", NULL, &r, NULL);
    assert_true(b_enum_is_unknown(r.value));
    b_enum_normalize("hitType", " Intent-Hit ", NULL, &r, NULL);
    assert_string_equal(r.value, "explicit_hit");
    assert_string_equal(r.mapping_action, B_MAP_ALIAS);
    med_err e;
    assert_int_equal(b_enum_normalize("colourType", "red", NULL, &r, &e), MED_ERR_INVALID);
    assert_string_equal(e.code, MED_R_B_INVALID_STRUCTURE);
}

/* 4 (rule part) + schema enumAliases: an alias must target a canonical value. */
static void test_b11_case04_doc_aliases(void **state)
{
    (void)state;
    json_t *al = json_pack("{s:{s:s,s:s}}", "channelType", "application", "app", "My-Pipe", "webhook");
    b_enum_result r;
    b_enum_normalize("channelType", "application", al, &r, NULL);
    assert_string_equal(r.value, "unknown_channel_type");   /* "app" is not canonical */
    b_enum_normalize("channelType", "my pipe", al, &r, NULL);
    assert_string_equal(r.value, "webhook");
    assert_string_equal(r.mapping_action, B_MAP_ALIAS);
    b_enum_normalize("actorType", "actor_from_mars", al, &r, NULL);
    assert_string_equal(r.value, "unknown_actor_type");
    json_decref(al);
}

/* 8: tie-breaks. */
static void test_b11_case08_tie_break(void **state)
{
    (void)state;
    med_arena a = { 0 };
    med_err e;
    b_cand c[2] = { scalar(B_SRC_APP, 5, 2000, "actorType", "alien_actor"),
                    scalar(B_SRC_APP, 1, 1000, "actorType", "human_user") };
    b_conflict_result r;
    assert_int_equal(b_conflict_resolve(&a, "actorType", c, 2, &r, &e), MED_OK);
    assert_string_equal(r.selected, "human");
    assert_string_equal(r.tie_break_rule, "prefer_non_unknown");
    assert_string_equal(r.reason_code, MED_R_B_CONFLICT_OVERRIDE_BY_TIE_BREAK);
    for (int run = 0; run < 10; run++) {
        b_cand d[2] = { scalar(B_SRC_PLACEMENT, 1, 7, "channelType", run % 2 ? "sdk_mobile" : "sdk_http"),
                        scalar(B_SRC_PLACEMENT, 1, 7, "channelType", run % 2 ? "sdk_http" : "sdk_mobile") };
        assert_int_equal(b_conflict_resolve(&a, "channelType", d, 2, &r, &e), MED_OK);
        assert_string_equal(r.selected, "sdk_client");
        assert_string_equal(r.tie_break_rule, "prefer_lexicographically_smallest_normalized_value");
    }
    med_arena_free(&a);
}

/* 9: gating conflict, set-like merge, unmergeable shape. */
static void test_b11_case09_conflicts(void **state)
{
    (void)state;
    med_arena a = { 0 };
    med_err e;
    b_conflict_result r;
    b_cand g[2] = { scalar(B_SRC_APP, 1, 0, "decisionOutcome", "eligible"),
                    scalar(B_SRC_PLACEMENT, 1, 0, "decisionOutcome", "ineligible") };
    assert_int_equal(b_conflict_resolve(&a, "decisionOutcome", g, 2, &r, &e), MED_ERR_INVALID);
    assert_string_equal(e.code, MED_R_B_CONFLICT_REJECT_GATING_HARD);
    assert_string_equal(r.action, "reject");
    const char *f1[] = { "finance", "health" }, *f2[] = { "health", "gambling" };
    b_cand s[2] = { { .source = B_SRC_APP, .is_list = 1, .items = f1, .n_items = 2 },
                    { .source = B_SRC_PLACEMENT, .is_list = 1, .items = f2, .n_items = 2 } };
    assert_int_equal(b_conflict_resolve(&a, "restrictedCategoryFlags", s, 2, &r, &e), MED_OK);
    assert_string_equal(r.action, "merge");
    assert_string_equal(r.reason_code, MED_R_B_CONFLICT_MERGE_UNION);
    assert_int_equal(r.n_merged, 3);
    assert_string_equal(r.merged[0], "finance");
    assert_string_equal(r.merged[1], "gambling");
    assert_string_equal(r.merged[2], "health");
    s[1] = (b_cand){ .source = B_SRC_PLACEMENT, .bad_shape = 1, .raw = "{\"key\":\"bad-shape\"}" };
    assert_int_equal(b_conflict_resolve(&a, "restrictedCategoryFlags", s, 2, &r, &e), MED_ERR_INVALID);
    assert_string_equal(e.code, MED_R_B_CONFLICT_REJECT_UNMERGEABLE);
    med_arena_free(&a);
}

static const char *bucket(const b_bucket_dict *d, const char *slot, const char *raw)
{
    b_bucket_decision o;
    med_err e;
    assert_int_equal(b_bucket_classify(b_bucket_slot_find(d, slot), raw, &o, &e), MED_OK);
    return o.bucket_value;
}

/* 11: bucket edges, outliers, unknowns. */
static void test_b11_case11_buckets(void **state)
{
    (void)state;
    b_bucket_dict d;
    med_err e;
    assert_int_equal(b_bucket_dict_build(NULL, "b_bucket_dict_v1", &d, &e), MED_OK);
    assert_string_equal(bucket(&d, "intentScore", "0.2"), "intent_low");
    assert_string_equal(bucket(&d, "intentScore", "1.0"), "intent_vhigh");
    assert_string_equal(bucket(&d, "intentScore", "1.2"), "intent_outlier_high");
    assert_string_equal(bucket(&d, "intentScore", "abc"), "intent_unknown");
    assert_string_equal(bucket(&d, "devicePerfScore", "72"), "perf_p3");
    assert_string_equal(bucket(&d, "devicePerfScore", "100"), "perf_p4");
    assert_string_equal(bucket(&d, "devicePerfScore", "130"), "perf_outlier_high");
    assert_string_equal(bucket(&d, "sessionDepth", "0"), "sess_d0");
    assert_string_equal(bucket(&d, "sessionDepth", "200"), "sess_d31p");
    assert_string_equal(bucket(&d, "sessionDepth", "201"), "session_outlier_high");
    assert_string_equal(bucket(&d, "sessionDepth", "-1"), "session_outlier_low");
    assert_string_equal(bucket(&d, "sessionDepth", "2.5"), "session_unknown");
    assert_string_equal(bucket(&d, "intentScore", "nan"), "intent_unknown");
    assert_string_equal(bucket(&d, "intentScore", "1e-1"), "intent_unknown");
    /* schema bucketBounds override one slot; unrelated keys are ignored */
    json_t *b = json_pack("{s:[f,f,f,f,f],s:[i,i]}", "intentScore", 0.1, 0.3, 0.5, 0.8, 1.0, "latencyMs", 5, 9);
    assert_int_equal(b_bucket_dict_build(b, "bucket-1", &d, &e), MED_OK);
    assert_string_equal(bucket(&d, "intentScore", "0.2"), "intent_low");
    assert_string_equal(bucket(&d, "intentScore", "0.85"), "intent_vhigh");
    json_decref(b);
}

/* 12: dictionary without version; undeclared slot. */
static void test_b11_case12_bucket_dict_invalid(void **state)
{
    (void)state;
    b_bucket_dict d;
    med_err e;
    assert_int_equal(b_bucket_dict_build(NULL, "", &d, &e), MED_ERR_INVALID);
    assert_string_equal(e.code, MED_R_B_BUCKET_DICT_MISSING_OR_INVALID);
    assert_int_equal(b_bucket_dict_build(NULL, "v1", &d, &e), MED_OK);
    assert_null(b_bucket_slot_find(&d, "customScore"));
    json_t *b = json_pack("{s:[f,f]}", "intentScore", 0.5, 1.0);
    assert_int_equal(b_bucket_dict_build(b, "v1", &d, &e), MED_ERR_INVALID);
    assert_string_equal(e.code, MED_R_B_BUCKET_DICT_MISSING_OR_INVALID);
    json_decref(b);
}

/* 14: policy failures all reject. */
static void test_b11_case14_redaction_failures(void **state)
{
    (void)state;
    b_redact_policy p;
    med_err e;
    json_t *lv = json_pack("{s:s}", "UserContext.sessionKey", "pass");
    assert_int_equal(b_redact_policy_build(lv, "redact-1", "B_REDACTION_SALT", &p, &e), MED_ERR_INVALID);
    assert_string_equal(e.code, MED_R_B_REDACTION_ACTION_VIOLATION);
    json_decref(lv);
    assert_int_equal(b_redact_policy_build(NULL, "", "B_REDACTION_SALT", &p, &e), MED_ERR_INVALID);
    assert_string_equal(e.code, MED_R_B_REDACTION_POLICY_MISSING_OR_INVALID);
    assert_int_equal(b_redact_policy_validate(NULL, &e), MED_ERR_INVALID);
    assert_string_equal(e.code, MED_R_B_REDACTION_POLICY_MISSING_OR_INVALID);
    assert_int_equal(b_redact_policy_build(NULL, "redact-1", "B_REDACTION_SALT", &p, &e), MED_OK);
    med_arena a = { 0 };
    b_redactor r;
    b_redactor_init(&r, &p, "test_salt", &a);
    const char *out;
    assert_int_equal(b_redactor_apply(&r, "RequestMeta.requestTimestamp", "not-a-time", &out, &e), MED_ERR_INVALID);
    assert_string_equal(e.code, MED_R_B_REDACTION_EXECUTION_FAILED);
    assert_int_equal(b_redactor_apply(&r, "RequestMeta.requestTimestamp", "2026-01-01T01:03:04.123Z", &out, &e), MED_OK);
    assert_string_equal(out, "2026-01-01T01:00:00.000Z");
    assert_int_equal(b_redactor_apply(&r, "UserContext.sessionKey", "sess_001", &out, &e), MED_OK);
    /* the raw session id under an unlisted (pass) path reaches an audit */
    const char *leaked;
    assert_int_equal(b_redactor_apply(&r, "RequestMeta.channelType", "sess_001", &leaked, &e), MED_OK);
    const char *texts[] = { out, leaked };
    assert_int_equal(b_redactor_guard(&r, texts, 1, &e), MED_OK);
    assert_int_equal(b_redactor_guard(&r, texts, 2, &e), MED_ERR_INVALID);
    assert_string_equal(e.code, MED_R_B_REDACTION_BEFORE_AUDIT_VIOLATION);
    b_redactor_init(&r, &p, "", &a);
    assert_int_equal(b_redactor_apply(&r, "device.id", "dev-raw-abc", &out, &e), MED_ERR_INVALID);
    assert_string_equal(e.code, MED_R_B_REDACTION_EXECUTION_FAILED);
    med_arena_free(&a);
}

/* 17: sampling hash and threshold. */
static void test_b11_case17_sampling(void **state)
{
    (void)state;
    assert_int_equal(b_sig_sampling_hash("trace_b_sig_001", "b_sampling_rule_v1"), 2712);
    assert_int_equal(b_sig_sampling_hash("tr_0123456789abcdef", "b_sampling_rule_v1"), 3650);
    b_sig_decision d;
    med_err e;
    assert_int_equal(b_sig_decide("tr_0123456789abcdef", "b_sampling_rule_v1", 3651, 0, &d, &e), MED_OK);
    assert_true(d.sampled_in);
    assert_string_equal(d.reason_code, MED_R_B_SIG_EVT_SAMPLED_IN_EMIT);
    b_sig_decide("tr_0123456789abcdef", "b_sampling_rule_v1", 3650, 0, &d, &e);
    assert_false(d.sampled_in);
    assert_string_equal(d.reason_code, MED_R_B_SIG_EVT_SAMPLED_OUT_NO_EMIT);
    b_sig_decide("tr_0123456789abcdef", "b_sampling_rule_v1", 3650, 1, &d, &e);
    assert_true(d.sampled_in && d.forced);
    assert_int_equal(b_sig_decide("tr_0123456789abcdef", "b_sampling_rule_v1", 12000, 0, &d, &e), MED_ERR_INVALID);
    assert_string_equal(e.code, MED_R_B_SIG_EVT_SAMPLING_RULE_INVALID);
}

/* 18: idempotency key, duplicate, payload conflict. */
static void test_b11_case18_event_idempotency(void **state)
{
    (void)state;
    char k[65];
    b_sig_idempotency_key("trace_b_sig_001", "req_b_sig_001", "att_b_sig_001", "opp_b_sig_001",
                          "b_sampling_rule_v1", "b_signal_event_v1", k);
    assert_string_equal(k, "de402e8dbf52434e7966278eb197bd98bef22cbaeb6c91a7e27c38ef20d10949");
    b_sig_ack ack;
    b_sig_ack_decide(NULL, "d1", &ack);
    assert_string_equal(ack.status, "accepted");
    assert_true(ack.publish);
    b_sig_ack_decide("d1", "d1", &ack);
    assert_string_equal(ack.status, "duplicate");
    assert_string_equal(ack.reason_code, MED_R_B_SIG_EVT_ACK_DUPLICATE);
    assert_false(ack.publish);
    b_sig_ack_decide("d1", "d2", &ack);
    assert_string_equal(ack.reason_code, MED_R_B_SIG_EVT_PAYLOAD_CONFLICT);
    assert_false(ack.publish);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b11_case03_unknown_gating_enum),
        cmocka_unit_test(test_b11_case04_doc_aliases),
        cmocka_unit_test(test_b11_case08_tie_break),
        cmocka_unit_test(test_b11_case09_conflicts),
        cmocka_unit_test(test_b11_case11_buckets),
        cmocka_unit_test(test_b11_case12_bucket_dict_invalid),
        cmocka_unit_test(test_b11_case14_redaction_failures),
        cmocka_unit_test(test_b11_case17_sampling),
        cmocka_unit_test(test_b11_case18_event_idempotency),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
