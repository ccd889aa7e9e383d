/* B.11 acceptance cases over the whole B.2 pipeline, from fixture G. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "b_audit.h"
#include "b_fixture.h"
#include "b_service.h"
#include "b_signal.h"
#include "med/names.h"
#include "med/reason.h"
#include "mediation/v1/compose.pb-c.h"

#define USER_ID "a99fc063fcfc0a4e25ec7aaf6d5e428b5295d13c8d5f48e56c4b8889a2bc02a6"

static b_fixture fx;
static b_normalize_out out;

static int setup(void **state)
{
    (void)state;
    b_fixture_init(&fx);
    memset(&out, 0, sizeof out);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    b_normalize_out_free(&out);
    return 0;
}

static void run(void) { b_fixture_run(&fx, NULL, &out); }

static const Mediation__V1__CanonicalBlocks *blocks(void) { return out.norm->blocks; }

static int has_code(const char *code)
{
    if (strcmp(out.norm->reason_code, code) == 0) return 1;
    for (size_t i = 0; i < out.norm->n_secondary_reason_codes; i++)
        if (strcmp(out.norm->secondary_reason_codes[i], code) == 0) return 1;
    return 0;
}

/* The schema document of the demo global config (06 section 1). */
static json_t *demo_schema_doc(void)
{
    json_error_t je;
    json_t *root = json_load_file(B_DEMO_CONFIG, 0, &je);
    assert_non_null(root);
    json_t *docs = json_object_get(json_object_get(root, "changeSet"), "documents");
    size_t i;
    json_t *d;
    json_array_foreach(docs, i, d) {
        if (strcmp(json_string_value(json_object_get(d, "kind")), "schema") == 0) {
            json_t *body = json_incref(json_object_get(d, "body"));
            json_decref(root);
            return body;
        }
    }
    json_decref(root);
    fail_msg("no schema document in %s", B_DEMO_CONFIG);
    return NULL;
}

/* 1: fixture G maps cleanly. */
static void test_b11_case01_fixture_g_continue(void **state)
{
    (void)state;
    json_t *doc = demo_schema_doc();
    b_fixture_run(&fx, doc, &out);
    assert_string_equal(out.norm->normalize_action, "continue");
    assert_string_equal(out.norm->reason_code, MED_R_B_INPUT_MAPPED_COMPLETE);
    assert_true(out.norm->normalize_accepted);
    assert_string_equal(out.norm->state, "received");
    assert_string_equal(blocks()->opportunity_context->hit_type, "explicit_hit");
    assert_string_equal(blocks()->opportunity_context->decision_outcome, "opportunity_eligible");
    assert_string_equal(blocks()->placement_meta->placement_type, "chat_inline");
    assert_string_equal(blocks()->user_context->actor_type, "human");
    assert_string_equal(blocks()->request_meta->channel_type, "sdk_server");
    assert_string_equal(blocks()->user_context->language, "en-us");
    assert_string_equal(blocks()->opportunity_context->intent_bucket, "intent_high");
    assert_string_equal(blocks()->request_meta->device_perf_bucket, "perf_p2");
    assert_string_equal(blocks()->user_context->session_depth_bucket, "sess_d4_10");
    assert_string_equal(out.norm->openrtb_projection_lite->projection_disposition, "mapped");
    assert_string_equal(out.norm->normalization_summary->enum_dict_version, "enum-1");
    /* pass-through of 00 decision 2 */
    assert_ptr_equal(out.norm->config_snapshot_lite, &fx.csnap);
    assert_ptr_equal(out.norm->routing_context_lite, &fx.route);
    assert_ptr_equal(out.norm->trace_init_lite, &fx.ti);
    /* Nats-Msg-Id on the relay output */
    med_relay_in in = { .stage = "b", .instance = "b-1", .now_unix_ms = B_FIX_NOW };
    med_relay_out ro = { .n = 0 };
    med_err e;
    assert_int_equal(b_service_emit(&in, &fx.seed, &out, &ro, NULL, &e), MED_OK);
    assert_true(ro.n >= 2);
    assert_string_equal(ro.pubs[0].subject, MED_SUBJ_C_NORMALIZED);
    assert_string_equal(ro.pubs[0].msg_id, "b.norm:opp_b_001");
    assert_string_equal(ro.pubs[1].subject, "med.audit.b.v1");
    assert_string_equal(ro.pubs[1].msg_id, "b.audit:opp_b_001");
    med_relay_out_free(&ro);
    json_decref(doc);
}

/* 2: required, trace and state failures reject with a short output to E. */
static void test_b11_case02_bad_input_rejects(void **state)
{
    (void)state;
    fx.ti.attempt_key = (char *)"";
    run();
    assert_string_equal(out.norm->reason_code, MED_R_B_MISSING_REQUIRED_FIELD);
    assert_string_equal(out.norm->state, "error");
    assert_false(out.norm->normalize_accepted);
    assert_null(out.norm->mapping_audit_snapshot_lite);
    med_relay_in in = { .stage = "b", .instance = "b-1", .now_unix_ms = B_FIX_NOW };
    med_relay_out ro = { .n = 0 };
    med_err e;
    assert_int_equal(b_service_emit(&in, &fx.seed, &out, &ro, NULL, &e), MED_OK);
    assert_string_equal(ro.pubs[0].subject, MED_SUBJ_E_COMPOSE);
    assert_string_equal(ro.pubs[0].msg_id, "b.compose:opp_b_001");
    Mediation__V1__ComposeInput *ci =
        mediation__v1__compose_input__unpack(NULL, ro.pubs[0].len, ro.pubs[0].data);
    assert_non_null(ci);
    assert_string_equal(ci->compose_source, "b_reject");
    assert_string_equal(ci->upstream_terminal->stage, "b");
    assert_string_equal(ci->upstream_terminal->decision_action, "reject");
    assert_string_equal(ci->upstream_terminal->reason_code, MED_R_B_MISSING_REQUIRED_FIELD);
    assert_string_equal(ci->upstream_terminal->delivery_status_hint, "error");
    mediation__v1__compose_input__free_unpacked(ci, NULL);
    med_relay_out_free(&ro);
    b_normalize_out_free(&out);

    b_fixture_init(&fx);
    fx.ti.trace_key = (char *)"bad";
    run();
    assert_string_equal(out.norm->reason_code, MED_R_B_INVALID_TRACE_CONTEXT);
    assert_string_equal(blocks()->trace_context->trace_key, "NA");
    b_normalize_out_free(&out);

    b_fixture_init(&fx);
    fx.os.request_key = (char *)"req_x_0001";
    run();
    assert_string_equal(out.norm->reason_code, MED_R_B_INVALID_TRACE_CONTEXT);
    b_normalize_out_free(&out);

    b_fixture_init(&fx);
    fx.os.state = (char *)"routed";
    run();
    assert_string_equal(out.norm->reason_code, MED_R_B_INVALID_VALUE_RANGE);
    assert_string_equal(out.norm->state, "error");
}

/* 3: unknown gating enums reject. */
static void test_b11_case03_required_enum(void **state)
{
    (void)state;
    fx.trig.trigger_decision = (char *)"totally_unknown_decision";
    run();
    assert_string_equal(out.norm->normalize_action, "reject");
    assert_string_equal(out.norm->reason_code, MED_R_B_INVALID_REQUIRED_ENUM);
    b_normalize_out_free(&out);
    b_fixture_init(&fx);
    fx.sens.hit_type = (char *)"unknown_hit_type";
    run();
    assert_string_equal(out.norm->reason_code, MED_R_B_INVALID_REQUIRED_ENUM);
}

/* 4: unknown optional enum degrades, projection partial. */
static void test_b11_case04_optional_enum_degrades(void **state)
{
    (void)state;
    b_fix_set_actor(&fx.app, "actor_from_mars");
    run();
    assert_string_equal(out.norm->normalize_action, "degrade");
    assert_string_equal(out.norm->reason_code, MED_R_B_INVALID_OPTIONAL_ENUM);
    assert_string_equal(blocks()->user_context->actor_type, "unknown_actor_type");
    assert_string_equal(out.norm->openrtb_projection_lite->projection_disposition, "partial");
    assert_true(out.norm->n_mapping_warnings > 0);
}

/* 5: empty, absent and non-object slots. */
static void test_b11_case05_slots(void **state)
{
    (void)state;
    mediation__v1__source_slot_lite__init(&fx.def);
    run();
    assert_string_equal(out.norm->normalize_action, "degrade");
    assert_string_equal(out.norm->reason_code, MED_R_B_SOURCE_SLOT_EMPTY);
    b_normalize_out_free(&out);
    b_fixture_init(&fx);
    fx.bundle.default_policy = NULL;
    run();
    assert_string_equal(out.norm->reason_code, MED_R_B_MISSING_REQUIRED_FIELD);
    b_normalize_out_free(&out);
    b_fixture_init(&fx);
    fx.def.invalid_slot_json_opt_case = MEDIATION__V1__SOURCE_SLOT_LITE__INVALID_SLOT_JSON_OPT_INVALID_SLOT_JSON;
    fx.def.invalid_slot_json = (char *)"\"x\"";
    run();
    assert_string_equal(out.norm->reason_code, MED_R_B_INVALID_STRUCTURE);
}

/* 6: confidenceBand clamp and NaN. */
static void test_b11_case06_confidence_band(void **state)
{
    (void)state;
    fx.sens.confidence_band = 1.27;
    run();
    assert_string_equal(out.norm->reason_code, MED_R_B_VALUE_CORRECTED);
    assert_string_equal(out.norm->normalize_action, "degrade");
    assert_true(blocks()->opportunity_context->confidence_band == 1.0);
    b_normalize_out_free(&out);
    b_fixture_init(&fx);
    fx.sens.confidence_band = NAN;
    run();
    assert_string_equal(out.norm->reason_code, MED_R_B_INVALID_VALUE_RANGE);
    assert_string_equal(out.norm->normalize_action, "reject");
}

/* 7: placementType conflict resolved by priority. */
static void test_b11_case07_priority_override(void **state)
{
    (void)state;
    b_fix_set_ptype(&fx.def, "workflow_step");
    b_fix_set_ptype(&fx.plc, "tool_output");
    b_fix_set_ptype(&fx.app, "chat-inline");
    run();
    assert_string_equal(blocks()->placement_meta->placement_type, "chat_inline");
    const Mediation__V1__ConflictResolutionSnapshotLite *c = NULL;
    for (size_t i = 0; i < out.norm->n_conflict_resolution_snapshots; i++)
        if (strcmp(out.norm->conflict_resolution_snapshots[i]->semantic_slot, "placementType") == 0)
            c = out.norm->conflict_resolution_snapshots[i];
    assert_non_null(c);
    assert_string_equal(c->reason_code, MED_R_B_CONFLICT_OVERRIDE_BY_PRIORITY);
    assert_string_equal(c->conflict_action, "override");
    assert_string_equal(c->selected_value, "chat_inline");
    assert_int_equal(c->n_candidates, 4);   /* seed + placement + app + default */
}

/* 10: app_context required pair and language. */
static void test_b11_case10_app_context(void **state)
{
    (void)state;
    fx.app_ctx.privacy_status_opt_case = 0;
    run();
    assert_true(has_code(MED_R_B_APPCTX_REQUIRED_SLOT_MISSING));
    assert_string_equal(out.norm->normalize_action, "reject");
    b_normalize_out_free(&out);

    b_fixture_init(&fx);
    fx.app_ctx.session_state = (char *)"sleeping";
    run();
    assert_string_equal(out.norm->reason_code, MED_R_B_APPCTX_SESSION_STATE_INVALID);
    b_normalize_out_free(&out);

    b_fixture_init(&fx);
    fx.app_ctx.language_opt_case = 0;
    run();
    assert_string_equal(out.norm->normalize_action, "degrade");
    assert_true(has_code(MED_R_B_APPCTX_LANGUAGE_MISSING));
    assert_string_equal(blocks()->user_context->language, "lang_unknown");
    b_normalize_out_free(&out);

    b_fixture_init(&fx);
    fx.app_ctx.privacy_status_opt_case = 0;
    fx.def_ctx.privacy_status_opt_case = MEDIATION__V1__APP_CONTEXT_RAW_LITE__PRIVACY_STATUS_OPT_PRIVACY_STATUS;
    fx.def_ctx.privacy_status = (char *)"consent_limited";
    fx.def.app_context = &fx.def_ctx;
    run();
    assert_string_equal(blocks()->policy_context->consent_scope, "consent_limited");
    assert_string_equal(out.norm->normalize_action, "continue");
}

/* 12 (pipeline part): an undeclared numericSignals key rejects. */
static void test_b11_case12_undeclared_numeric_signal(void **state)
{
    (void)state;
    fx.numsig = (Mediation__V1__SourceSlotLite__NumericSignalsEntry)MEDIATION__V1__SOURCE_SLOT_LITE__NUMERIC_SIGNALS_ENTRY__INIT;
    fx.numsig.key = (char *)"customScore";
    fx.numsig.value = (char *)"10";
    fx.numsigs[0] = &fx.numsig;
    fx.app.numeric_signals = fx.numsigs;
    fx.app.n_numeric_signals = 1;
    run();
    assert_string_equal(out.norm->reason_code, MED_R_B_BUCKET_SLOT_UNDEFINED);
    b_normalize_out_free(&out);
    b_fixture_init(&fx);
    json_t *doc = json_pack("{s:s}", "bucketDictVersion", "");
    b_fixture_run(&fx, doc, &out);
    assert_string_equal(out.norm->reason_code, MED_R_B_BUCKET_DICT_MISSING_OR_INVALID);
    json_decref(doc);
}

/* 13: hashing, coarsening, drop, nothing raw in any audit. */
static void test_b11_case13_redaction(void **state)
{
    (void)state;
    char *flags[2];
    b_fix_set_flags(&fx.plc, flags, "finance", "health");
    run();
    assert_string_equal(out.norm->normalize_action, "continue");
    assert_string_equal(blocks()->user_context->session_key, USER_ID);
    assert_non_null(strstr(out.norm->openrtb_projection_lite->request_json, "\"id\":\"" USER_ID "\""));
    const Mediation__V1__MappingAuditRecordLite *ts = b_fix_record(&out, "RequestMeta.requestTimestamp");
    assert_non_null(ts);
    assert_string_equal(ts->raw_value[0], "2026-01-01T01:00:00.000Z");
    const Mediation__V1__RedactionSnapshotLite *rs = out.norm->redaction_snapshot_lite;
    assert_true(rs->before_audit_enforced);
    int saw_drop = 0;
    for (size_t i = 0; i < rs->n_field_decisions; i++) {
        if (i) assert_true(strcmp(rs->field_decisions[i - 1]->field_path, rs->field_decisions[i]->field_path) <= 0);
        if (strcmp(rs->field_decisions[i]->field_path, "PolicyContext.restrictedCategoryFlags") == 0) {
            saw_drop = 1;
            assert_string_equal(rs->field_decisions[i]->action, "drop");
            assert_int_equal(rs->field_decisions[i]->output_preview_or_na_opt_case, 0);
        }
    }
    assert_true(saw_drop);
    assert_false(b_fix_audit_contains(&out, "sess_001"));
    assert_false(b_fix_audit_contains(&out, "dev-raw-abc"));
    assert_false(b_fix_audit_contains(&out, "finance"));
    assert_true(b_fix_audit_contains(&out, USER_ID));
}

/* 15: projection unmapped / invalid / partial. */
static void test_b11_case15_projection(void **state)
{
    (void)state;
    fx.app.app_id_opt_case = 0;
    run();
    assert_string_equal(out.norm->openrtb_projection_lite->projection_disposition, "unmapped");
    assert_string_equal(out.norm->reason_code, MED_R_B_PROJ_UNMAPPED_REQUIRED_MISSING);
    assert_string_equal(out.norm->normalize_action, "reject");
    b_normalize_out_free(&out);

    b_fixture_init(&fx);
    fx.malformed = (Mediation__V1__SourceSlotLite__MalformedFieldsEntry)MEDIATION__V1__SOURCE_SLOT_LITE__MALFORMED_FIELDS_ENTRY__INIT;
    fx.malformed.key = (char *)"restrictedCategoryFlags";
    fx.malformed.value = (char *)"\"finance\"";
    fx.malformeds[0] = &fx.malformed;
    fx.plc.malformed_fields = fx.malformeds;
    fx.plc.n_malformed_fields = 1;
    run();
    assert_string_equal(out.norm->reason_code, MED_R_B_PROJ_UNMAPPED_INVALID_VALUE);
    b_normalize_out_free(&out);

    b_fixture_init(&fx);
    fx.app.device_id_opt_case = 0;
    run();
    assert_string_equal(out.norm->openrtb_projection_lite->projection_disposition, "partial");
    const Mediation__V1__ProjectionAuditSnapshotLite *pa = out.norm->projection_audit_snapshot_lite;
    int found = 0;
    for (size_t i = 0; i < pa->n_target_coverage; i++)
        if (strcmp(pa->target_coverage[i]->openrtb_path, "device.id") == 0) {
            found = 1;
            assert_string_equal(pa->target_coverage[i]->coverage_status, "degraded");
        }
    assert_true(found);
}

/* 16: mapping audit meta, order, numeric records = bucket audit. */
static void test_b11_case16_mapping_audit(void **state)
{
    (void)state;
    run();
    Mediation__V1__MappingAuditSnapshotLite *m = out.norm->mapping_audit_snapshot_lite;
    assert_non_null(m);
    med_err e;
    assert_int_equal(b_audit_validate(m, &e), MED_OK);
    for (size_t i = 1; i < m->n_records; i++)
        assert_true(strcmp(m->records[i - 1]->semantic_slot, m->records[i]->semantic_slot) < 0);
    const Mediation__V1__BucketAuditSnapshotLite *b = out.norm->bucket_audit_snapshot_lite;
    const char *slots[] = { "OpportunityContext.intentBucket", "RequestMeta.devicePerfBucket",
                            "UserContext.sessionDepthBucket" };
    for (size_t i = 0; i < 3; i++) {
        const Mediation__V1__MappingAuditRecordLite *r = b_fix_record(&out, slots[i]);
        assert_non_null(r);
        assert_string_equal(r->bucket_value_or_na, b->slot_decisions[i]->bucket_value);
        assert_string_equal(r->raw_value[0], b->slot_decisions[i]->raw_value);
    }
    assert_string_equal(b_fix_record(&out, "RequestMeta.devicePerfBucket")->raw_value[0], "60-69");
    char *saved = m->records[0]->rule_version;
    m->records[0]->rule_version = (char *)"";
    assert_int_equal(b_audit_validate(m, &e), MED_ERR_INVALID);
    assert_string_equal(e.code, MED_R_B_MAPPING_AUDIT_MISSING_RECORD_FIELD);
    m->records[0]->rule_version = saved;
    m->enum_dict_version = (char *)"";
    assert_int_equal(b_audit_validate(m, &e), MED_ERR_INVALID);
    assert_string_equal(e.code, MED_R_B_MAPPING_AUDIT_MISSING_SNAPSHOT_META);
}

/* 17 (pipeline part): an invalid sampling rule never blocks the output. */
static void test_b11_case17_invalid_rule_still_published(void **state)
{
    (void)state;
    json_t *doc = json_pack("{s:i}", "sampleRateBps", 12000);
    b_fixture_run(&fx, doc, &out);
    assert_true(out.norm->normalize_accepted);
    assert_null(out.signal);
    assert_string_equal(out.signal_reason, MED_R_B_SIG_EVT_SAMPLING_RULE_INVALID);
    b_normalize_out_free(&out);
    json_decref(doc);
    b_fixture_init(&fx);
    doc = json_pack("{s:i}", "sampleRateBps", 10000);
    b_fixture_run(&fx, doc, &out);
    assert_non_null(out.signal);
    assert_string_equal(out.signal->sampling_decision, "sampled_in");
    assert_string_equal(out.signal->event_idempotency_key, out.signal_idempotency_key);
    json_decref(doc);
}

/* Packs the sampled-in event as b_service_emit hands it to the emitter. */
static b_signal_msg pack_signal_of(const char *event_key, int64_t now_ms)
{
    json_t *doc = json_pack("{s:i}", "sampleRateBps", 10000);
    b_normalize_out_free(&out);
    b_fixture_init(&fx);
    b_normalize_in bin = { .seed = &fx.seed, .schema_doc = doc, .salt = "test_salt",
                           .now_unix_ms = now_ms, .signal_event_key = event_key };
    med_err e;
    assert_int_equal(b_normalize_run(&bin, &out, &e), MED_OK);
    assert_non_null(out.signal);
    med_relay_in in = { .stage = "b", .instance = "b-1", .now_unix_ms = now_ms };
    med_relay_out ro = { .n = 0 };
    b_signal_msg sig;
    assert_int_equal(b_service_emit(&in, &fx.seed, &out, &ro, &sig, &e), MED_OK);
    /* the event is not a relay output: it never holds up the output to C */
    for (int i = 0; i < ro.n; i++) assert_string_not_equal(ro.pubs[i].msg_id, out.signal_idempotency_key);
    med_relay_out_free(&ro);
    json_decref(doc);
    return sig;
}

/* 18 (pipeline part): the packed event is StageAudit{signal_normalized}
 * with its digest; a rebuilt event (new eventKey, later eventAt) keeps the
 * digest (a repeat, not a conflict); other sampledSemanticSlots change it. */
static void test_b11_case18_signal_digest(void **state)
{
    (void)state;
    b_signal_msg a = pack_signal_of("evt_b_sig_0001", B_FIX_NOW);
    assert_non_null(a.data);
    Mediation__V1__StageAudit *sa = mediation__v1__stage_audit__unpack(NULL, a.len, a.data);
    assert_non_null(sa);
    assert_string_equal(sa->kind, "signal_normalized");
    assert_string_equal(sa->audit_id, out.signal_idempotency_key);
    assert_string_equal(sa->b_audit->emit_ack->payload_digest, a.digest);
    assert_string_equal(sa->b_audit->signal_normalized_event_lite->event_key, "evt_b_sig_0001");
    mediation__v1__stage_audit__free_unpacked(sa, NULL);
    b_signal_msg b = pack_signal_of("evt_b_sig_0002", B_FIX_NOW + 5000);
    assert_string_equal(a.digest, b.digest);
    char changed[65];
    med_err e;
    out.signal->n_sampled_semantic_slots--;
    assert_int_equal(b_sig_digest(out.signal, changed, &e), MED_OK);
    assert_string_not_equal(changed, a.digest);
    free(a.data);
    free(b.data);
}

/* 19: config failures carried by the seed. */
static void test_b11_case19_config_gate(void **state)
{
    (void)state;
    fx.cfail.config_failure_scenario = (char *)"config_version_invalid";
    fx.pkt.config_failure = &fx.cfail;
    run();
    assert_string_equal(out.norm->reason_code, MED_R_H_CFG_FAIL_CLOSED_VERSION_INVALID);
    assert_null(out.norm->mapping_audit_snapshot_lite);
    b_normalize_out_free(&out);
    b_fixture_init(&fx);
    fx.cfail.config_failure_scenario = (char *)"config_timeout";
    fx.cfail.failure_mode = (char *)"fail_open";
    fx.pkt.config_failure = &fx.cfail;
    run();
    assert_string_equal(out.norm->reason_code, MED_R_H_CFG_FAIL_CLOSED_NO_STABLE_SNAPSHOT);
    assert_string_equal(out.norm->state, "error");
}

static uint8_t *pack_norm(size_t *len)
{
    Mediation__V1__NormalizedOpportunity *n = out.norm;
    /* wall-clock fields are the only allowed difference */
    n->normalization_summary->normalized_at_unix_ms = 0;
    *len = mediation__v1__normalized_opportunity__get_packed_size(n);
    uint8_t *buf = malloc(*len);
    assert_non_null(buf);
    mediation__v1__normalized_opportunity__pack(n, buf);
    return buf;
}

/* 20: same seed twice -> identical output and one message id. */
static void test_b11_case20_deterministic(void **state)
{
    (void)state;
    size_t l1, l2;
    run();
    uint8_t *a = pack_norm(&l1);
    b_normalize_out_free(&out);
    run();
    uint8_t *b = pack_norm(&l2);
    assert_int_equal(l1, l2);
    assert_memory_equal(a, b, l1);
    free(a);
    free(b);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_b11_case01_fixture_g_continue),
        T(test_b11_case02_bad_input_rejects),
        T(test_b11_case03_required_enum),
        T(test_b11_case04_optional_enum_degrades),
        T(test_b11_case05_slots),
        T(test_b11_case06_confidence_band),
        T(test_b11_case07_priority_override),
        T(test_b11_case10_app_context),
        T(test_b11_case12_undeclared_numeric_signal),
        T(test_b11_case18_signal_digest),
        T(test_b11_case13_redaction),
        T(test_b11_case15_projection),
        T(test_b11_case16_mapping_audit),
        T(test_b11_case17_invalid_rule_still_published),
        T(test_b11_case19_config_gate),
        T(test_b11_case20_deterministic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
