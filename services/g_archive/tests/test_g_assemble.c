/* G.3 assembly of gAuditRecordLite from stored fragments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "g_assemble.h"
#include "med/pbjson.h"
#include "med/reason.h"
/* the fixture is shared with the integration test; one source, compiled here */
#include "g_replay_fixture.c"

#define T10 1795428000000LL

static void test_served_rendered_record(void **state)
{
    (void)state;
    med_arena a = {0};
    gfx_spec s;
    gfx_spec_default(&a, &s, "x", T10);
    s.dispatch[0] = "net_b";
    s.outcome[0] = "timeout";
    s.dispatch[1] = "net_a";
    s.outcome[1] = "candidate";
    gfx_spec_rendered(&s);
    g_opp o;
    gfx_opp(&a, &s, &o);
    g_assembled g;
    med_err e;
    assert_int_equal(g_assemble(&a, &o, &g, &e), MED_OK);
    const Mediation__V1__GAuditRecordLite *r = g.rec;
    assert_string_equal(r->audit_record_id, o.audit_record_id);
    assert_int_equal(strncmp(r->audit_record_id, "gar_", 4), 0);
    assert_int_equal(strlen(r->audit_record_id), 28);
    assert_string_equal(r->attempt_key, "at_x");
    assert_string_equal(r->response_reference_or_na, "resp_x");
    assert_int_equal(r->audit_at_unix_ms, T10);
    /* input snapshot: A's ingress time, B's placement slots, digests */
    assert_string_equal(r->opportunity_input_snapshot->placement_type, "native_card");
    assert_string_equal(r->opportunity_input_snapshot->placement_surface, "chat");
    assert_string_equal(r->opportunity_input_snapshot->request_schema_version, "1.0.0");
    assert_int_equal(strlen(r->opportunity_input_snapshot->policy_context_digest), 64);
    assert_string_not_equal(r->opportunity_input_snapshot->policy_context_digest,
                            r->opportunity_input_snapshot->user_context_digest);
    assert_int_equal(r->opportunity_input_snapshot->ingress_received_at_unix_ms, T10 - 300);
    /* adapters: the timeout first, in dispatch order */
    assert_int_equal(r->n_adapter_participation, 2);
    const Mediation__V1__AdapterParticipationLite *t = r->adapter_participation[0], *c = r->adapter_participation[1];
    assert_string_equal(t->adapter_id, "net_b");
    assert_string_equal(t->response_status, "timeout");
    assert_true(t->did_timeout);
    assert_int_equal(t->timeout_threshold_ms, 300);
    assert_int_equal(t->response_latency_ms_or_na_opt_case, 0);
    assert_string_equal(t->filter_reason_codes[0], MED_R_D_TO_READ_TIMEOUT);
    assert_string_equal(c->response_status, "responded");
    assert_int_equal(c->response_latency_ms_or_na, 41);
    assert_int_equal(c->response_received_at_or_na_unix_ms, c->request_sent_at_unix_ms + 41);
    /* winner */
    assert_string_equal(r->winner_snapshot->winner_adapter_id_or_na, "net_a");
    assert_string_equal(r->winner_snapshot->winner_candidate_ref_or_na, "cand_net_a");
    assert_true(r->winner_snapshot->winner_bid_price_or_na > 1.49 && r->winner_snapshot->winner_bid_price_or_na < 1.51);
    assert_string_equal(r->winner_snapshot->winner_currency_or_na, "USD");
    assert_string_equal(r->winner_snapshot->winner_reason_code, MED_R_D_ROUTE_SHORT_CIRCUIT_SERVED);
    /* render and events from F's facts */
    assert_string_equal(r->render_result_snapshot->render_status, "rendered");
    assert_string_equal(r->render_result_snapshot->render_attempt_id_or_na, "ra_at_x");
    assert_int_equal(r->render_result_snapshot->render_latency_ms_or_na, 500);
    assert_int_equal(r->key_event_summary->impression_count, 1);
    assert_string_equal(r->key_event_summary->terminal_event_type_or_na, "impression");
    assert_int_equal(r->key_event_summary->terminal_event_at_or_na_unix_ms, T10 + 1000);
    assert_string_equal(g.terminal_status, "impression");
    assert_int_equal(g.event_at_ms, T10 + 1000);
    /* anchors from the archived snapshot */
    assert_string_equal(r->replay_anchors->dedup_fingerprint_version, "f_dedup_v1");
    assert_string_equal(r->replay_anchors->routing_policy_version, "rp-1");
    assert_string_equal(r->replay_anchors->anchor_hash, "ah_fixture");
    /* keyReasonCodes: winner, then adapter filter codes, first seen */
    assert_int_equal(g.n_key_reason_codes, 2);
    assert_string_equal(g.key_reason_codes[0], MED_R_D_ROUTE_SHORT_CIRCUIT_SERVED);
    assert_string_equal(g.key_reason_codes[1], MED_R_D_TO_READ_TIMEOUT);
    /* archive records in gate order, counted by type */
    assert_int_equal(g.n_arch, 5);
    assert_string_equal(g.arch[0]->record_type, "decision_audit");
    assert_string_equal(g.arch[1]->record_type, "decision_audit");
    assert_string_equal(g.arch[2]->record_type, "billable_fact");
    assert_string_equal(g.arch[3]->record_type, "attribution_fact");
    assert_true(g.arch[3]->output_at_unix_ms <= g.arch[4]->output_at_unix_ms);
    assert_int_equal(g.count_by_type[0], 2);
    assert_int_equal(g.count_by_type[1], 1);
    assert_int_equal(g.count_by_type[2], 2);
    assert_int_equal(g.n_fda, 2);
    assert_string_equal(r->billing_key_or_na, "resp_x|ra_at_x|billable_impression");
    assert_string_equal(r->closure_key_or_na, "resp_x|ra_at_x");
    assert_string_equal(r->time_range_tag, "2026-11-23T10");
    med_arena_free(&a);
}

static void test_no_fill_record(void **state)
{
    (void)state;
    med_arena a = {0};
    gfx_spec s;
    gfx_spec_default(&a, &s, "nf", T10);
    s.delivery_status = "no_fill";
    s.outcome[0] = "no_fill";
    g_opp o;
    gfx_opp(&a, &s, &o);
    g_assembled g;
    med_err e;
    assert_int_equal(g_assemble(&a, &o, &g, &e), MED_OK);
    assert_int_equal(g.rec->winner_snapshot->winner_adapter_id_or_na_opt_case, 0);
    assert_string_equal(g.rec->winner_snapshot->winner_reason_code, MED_R_E_NF_NO_CANDIDATE);
    assert_string_equal(g.rec->render_result_snapshot->render_status, "not_rendered");
    assert_string_equal(g.rec->render_result_snapshot->render_reason_code_or_na, MED_R_E_NF_NO_CANDIDATE);
    assert_string_equal(g.terminal_status, "open");
    assert_int_equal(g.event_at_ms, T10);
    /* E_NF_NO_CANDIDATE (winner and render) once, then the adapter's own code */
    assert_int_equal(g.n_key_reason_codes, 2);
    assert_string_equal(g.key_reason_codes[1], MED_R_D_NF_INVENTORY_UNAVAILABLE);
    med_arena_free(&a);
}

static void test_offer_audit_keeps_first_decision(void **state)
{
    (void)state;
    med_arena a = {0};
    gfx_spec s;
    gfx_spec_default(&a, &s, "k", T10);
    g_frags f = {0};
    Mediation__V1__StageAudit *late = gfx_audit(&a, &s, 'd'), *early = gfx_audit(&a, &s, 'd');
    Mediation__V1__StageAudit *event = gfx_audit(&a, &s, 'b');
    event->kind = "signal_normalized";
    g_frags_offer_audit(&f, late, 2000, 9);
    g_frags_offer_audit(&f, early, 1000, 10);
    g_frags_offer_audit(&f, late, 3000, 11);
    g_frags_offer_audit(&f, event, 500, 1);
    assert_ptr_equal(f.stage[G_ST_D], early);
    assert_null(f.stage[G_ST_B]);
    med_arena_free(&a);
}

/* r packed into the arena. */
static uint8_t *packed(med_arena *a, const ProtobufCMessage *m, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(m);
    uint8_t *b = med_arena_alloc(a, *len + 1);
    assert_non_null(b);
    protobuf_c_message_pack(m, b);
    return b;
}

static void assert_same_record(med_arena *a, const Mediation__V1__FToGArchiveRecordLite *want,
                               const Mediation__V1__FToGArchiveRecordLite *got)
{
    size_t nw = 0, ng = 0;
    const uint8_t *w = packed(a, &want->base, &nw), *g = packed(a, &got->base, &ng);
    assert_int_equal(ng, nw);
    assert_memory_equal(g, w, nw);
}

/* The archive records of a rendered opportunity (decision audits, a
 * billable fact, attribution facts). */
static size_t records(med_arena *a, const char *k, Mediation__V1__FToGArchiveRecordLite ***recs)
{
    gfx_spec s;
    gfx_spec_default(a, &s, k, T10);
    gfx_spec_rendered(&s);
    size_t n = gfx_archive(a, &s, recs);
    assert_true(n >= 4);
    return n;
}

/* payload_pb as G stores it: the record unpacked as it was sent, but with
 * the row's current status (committed -> superseded happens in place). */
static void test_archive_row_from_pb(void **state)
{
    (void)state;
    med_arena a = {0};
    Mediation__V1__FToGArchiveRecordLite **recs = NULL;
    size_t n = records(&a, "p", &recs);
    for (size_t i = 0; i < n; i++) {
        g_arch_stored st = {.record_status = "superseded"};
        st.pb = packed(&a, &recs[i]->base, &st.pb_len);
        Mediation__V1__FToGArchiveRecordLite *out = NULL;
        med_err e;
        assert_int_equal(g_archive_decode(&a, &st, &out, &e), MED_OK);
        assert_non_null(out);
        assert_string_equal(out->record_status, "superseded");
        recs[i]->record_status = "superseded";
        assert_same_record(&a, recs[i], out);
    }
    assert_string_equal(recs[3]->record_type, "attribution_fact");
    med_arena_free(&a);
}

static void test_archive_row_undecodable_is_no_fragment(void **state)
{
    (void)state;
    med_arena a = {0};
    static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
    g_arch_stored bad_pb = {.pb = junk, .pb_len = sizeof junk, .record_status = "committed"};
    g_arch_stored bad_json = {.legacy_json = "{\"not\": ", .record_status = "committed"};
    Mediation__V1__FToGArchiveRecordLite *out = (void *)&a;
    med_err e;
    assert_int_equal(g_archive_decode(&a, &bad_pb, &out, &e), MED_OK);
    assert_null(out);
    out = (void *)&a;
    assert_int_equal(g_archive_decode(&a, &bad_json, &out, &e), MED_OK);
    assert_null(out);
    med_arena_free(&a);
}

/* A row stored before payload_pb (0018): its payload is the whole record
 * as med_pb_to_json rendered it; the legacy reader gives back the same
 * record, byte for byte once packed ("NA" oneofs unset, times in ms). */
static void test_archive_row_from_legacy_json(void **state)
{
    (void)state;
    med_arena a = {0};
    Mediation__V1__FToGArchiveRecordLite **recs = NULL;
    size_t n = records(&a, "j", &recs);
    for (size_t i = 0; i < n; i++) {
        for (int envelope = 0; envelope < 2; envelope++) {
            json_t *j = med_pb_to_json(&recs[i]->base, NULL);
            if (envelope) j = json_pack("{s:o}", "record", j);
            char *text = json_dumps(j, JSON_COMPACT);
            json_decref(j);
            g_arch_stored st = {.legacy_json = text, .record_status = recs[i]->record_status};
            Mediation__V1__FToGArchiveRecordLite *out = NULL;
            med_err e;
            assert_int_equal(g_archive_decode(&a, &st, &out, &e), MED_OK);
            free(text);
            assert_non_null(out);
            assert_same_record(&a, recs[i], out);
        }
    }
    const Mediation__V1__FToGArchiveRecordLite *imp = recs[3];
    assert_string_equal(imp->record_type, "attribution_fact");
    assert_string_equal(imp->attribution_fact->event_type, "impression");
    assert_int_equal(imp->attribution_fact->fact_at_unix_ms, T10 + 1000);
    med_arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_served_rendered_record),
        cmocka_unit_test(test_no_fill_record),
        cmocka_unit_test(test_offer_audit_keeps_first_decision),
        cmocka_unit_test(test_archive_row_from_pb),
        cmocka_unit_test(test_archive_row_undecodable_is_no_fragment),
        cmocka_unit_test(test_archive_row_from_legacy_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
