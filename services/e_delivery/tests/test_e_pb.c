/* E.11 cases 2 (wire shape), 14 (redelivery) and 16 (status agreement)
 * on the packed Delivery and StageAudit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "e_fixture.h"
#include "e_pb.h"
#include "med/reason.h"
#include "mediation/v1/audit.pb-c.h"
#include "mediation/v1/delivery.pb-c.h"

static void build(e_fx *f, e_pb_out *out)
{
    e_outcome *o = e_fx_compose(f);
    assert_non_null(o);
    med_hop hop = { .stage = "e", .instance = "e-1", .at_unix_ms = FX_T0 };
    e_pb_ctx ctx = { .trace = f->ci.trace, .anchor_snapshot = NULL, .hop = &hop, .tenant_id = "t_demo" };
    med_err err;
    med_err_clear(&err);
    assert_int_equal(e_pb_build(o, &ctx, out, &err), MED_OK);
    free(o);
}

static Mediation__V1__Delivery *unpack(const e_pb_out *out)
{
    Mediation__V1__Delivery *d = mediation__v1__delivery__unpack(NULL, out->delivery_len, out->delivery);
    assert_non_null(d);
    return d;
}

static void case02_error_delivery_wire_shape(void **state)
{
    (void)state;
    e_fx *f = e_fx_new();
    f->d.auction_decision_lite = NULL;
    e_pb_out out;
    build(f, &out);
    Mediation__V1__Delivery *d = unpack(&out);
    assert_string_equal(d->status, "error");
    assert_string_equal(d->final_reason_code, MED_R_E_ER_INVALID_COMPOSE_INPUT);
    assert_string_equal(d->render_plan_lite->render_mode, "none");
    assert_string_equal(d->render_plan_lite->render_container->container_type, "none");
    assert_non_null(d->render_plan_lite->render_container->container_params);
    assert_int_equal(protobuf_c_message_get_packed_size(
                         &d->render_plan_lite->render_container->container_params->base), 0);
    assert_string_equal(d->render_plan_lite->creative_binding->creative_id, "none");
    assert_true(strncmp(d->response_reference, "resp_", 5) == 0);
    assert_string_equal(d->trace->response_reference, d->response_reference);
    assert_string_equal(d->render_plan_lite->tracking_injection->on_render_failure->response_reference,
                        d->response_reference);
    mediation__v1__delivery__free_unpacked(d, NULL);
    e_pb_out_free(&out);
    free(f);
}

static void case14_redelivery_is_identical(void **state)
{
    (void)state;
    e_fx *f = e_fx_new();
    e_pb_out a, b;
    build(f, &a);
    build(f, &b);
    assert_int_equal(a.delivery_len, b.delivery_len);
    assert_memory_equal(a.delivery, b.delivery, a.delivery_len);
    Mediation__V1__Delivery *d = unpack(&a);
    assert_string_equal(d->status, "served");
    /* F bills the auction's price: it travels on the Delivery */
    assert_int_equal(d->winner_price_micros, 1500000);
    assert_string_equal(d->winner_currency, "USD");
    /* same responseReference -> same Nats-Msg-Id e.delivery:<ref> */
    assert_true(strncmp(d->response_reference, "resp_", 5) == 0);
    mediation__v1__delivery__free_unpacked(d, NULL);
    e_pb_out_free(&a);
    e_pb_out_free(&b);
    free(f);
}

static void check_agreement(e_fx *f, const char *want_status)
{
    e_pb_out out;
    build(f, &out);
    Mediation__V1__Delivery *d = unpack(&out);
    assert_string_equal(d->status, want_status);
    assert_string_equal(d->render_plan_lite->delivery_status, d->status);
    assert_string_equal(d->state_transition_lite->to_state, d->status);
    assert_string_equal(d->state_transition_lite->from_state, "routed");
    assert_string_equal(d->state_transition_lite->state_reason_code, d->final_reason_code);
    assert_string_equal(
        d->render_plan_lite->e_error_degrade_decision_snapshot_lite->final_delivery_status, d->status);
    if (strcmp(d->status, "served") == 0) {
        assert_string_equal(d->final_reason_code, MED_R_E_RENDER_CANDIDATE_SELECTED);
        assert_string_equal(d->final_canonical_reason_code, "none");
        assert_string_not_equal(d->render_plan_lite->render_mode, "none");
        assert_int_equal(d->render_plan_lite->candidate_consumption_decision->n_selected_candidate_refs, 1);
        assert_int_equal(
            d->render_plan_lite->candidate_consumption_decision->selected_candidate_refs[0]->slot_index, 1);
    } else {
        const char *prefix = strcmp(d->status, "no_fill") == 0 ? "e_nf_" : "e_er_";
        assert_int_equal(strncmp(d->final_reason_code, prefix, 5), 0);
        assert_string_equal(d->render_plan_lite->render_mode, "none");
    }
    Mediation__V1__StageAudit *a = mediation__v1__stage_audit__unpack(NULL, out.audit_len, out.audit);
    assert_non_null(a);
    assert_string_equal(a->stage, "e");
    assert_int_equal(a->snapshot_case, MEDIATION__V1__STAGE_AUDIT__SNAPSHOT_E_AUDIT);
    assert_string_equal(a->e_audit->delivery_status, d->status);
    assert_string_equal(a->e_audit->response_reference, d->response_reference);
    mediation__v1__stage_audit__free_unpacked(a, NULL);
    mediation__v1__delivery__free_unpacked(d, NULL);
    e_pb_out_free(&out);
}

static void case16_statuses_agree_on_every_output(void **state)
{
    (void)state;
    e_fx *f = e_fx_new();
    check_agreement(f, "served");
    e_fx_flag(f, 0, "hard_block");
    check_agreement(f, "no_fill");
    f->d.auction_decision_lite = NULL;
    check_agreement(f, "error");
    free(f);
    f = e_fx_new();
    e_fx_route_failed(f, "error", "d_en_unknown");
    check_agreement(f, "error");
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(case02_error_delivery_wire_shape),
        cmocka_unit_test(case14_redelivery_is_identical),
        cmocka_unit_test(case16_statuses_agree_on_every_output),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
