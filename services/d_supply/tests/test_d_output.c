/* D.1 input checks and D.8 output: D.10 cases 7, 8, 14 (price) and 19. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "d_input.h"
#include "d_output.h"
#include "d_test_util.h"
#include "med/reason.h"

/* A valid PolicyDecision on the stack. */
typedef struct pd_fixture {
    Mediation__V1__PolicyDecision pd;
    Mediation__V1__CPolicyDecisionLite cp;
    Mediation__V1__TraceKeys keys;
    Mediation__V1__StateTransitionLite st;
    Mediation__V1__ConstraintsLite cl;
    Mediation__V1__SourceConstraints sc;
    Mediation__V1__CategoryConstraints cc;
    Mediation__V1__PersonalizationConstraints pc;
    Mediation__V1__RenderConstraints rcn;
    Mediation__V1__RoutableOpportunityLite ro;
    Mediation__V1__CanonicalBlocks b;
    Mediation__V1__RequestMeta rm;
    Mediation__V1__PlacementMeta pm;
    Mediation__V1__UserContext uc;
    Mediation__V1__OpportunityContext oc;
    Mediation__V1__PolicyContext pcx;
    Mediation__V1__TraceContextBlock tcb;
    Mediation__V1__PolicyAuditSnapshotLite pa;
    Mediation__V1__RoutingContextLite rc;
    Mediation__V1__ExecutionStrategyLite es;
    Mediation__V1__ConfigSnapshotLite cs;
} pd_fixture;

static void pd_init(pd_fixture *f)
{
    memset(f, 0, sizeof *f);
    mediation__v1__policy_decision__init(&f->pd);
    mediation__v1__cpolicy_decision_lite__init(&f->cp);
    mediation__v1__trace_keys__init(&f->keys);
    f->keys.trace_key = "tr_0123456789abcdef";
    f->keys.request_key = "rq_0123456789abcdef";
    f->keys.attempt_key = "at_0123456789abcdef";
    f->keys.opportunity_key = "op_0123456789abcdef";
    f->cp.keys = &f->keys;
    f->cp.final_policy_action = "allow";
    f->cp.is_routable = 1;
    f->cp.policy_decision_reason_code = "c_policy_allow";
    mediation__v1__state_transition_lite__init(&f->st);
    f->st.from_state = "received";
    f->st.to_state = "routed";
    f->cp.state_update = &f->st;
    mediation__v1__constraints_lite__init(&f->cl);
    mediation__v1__source_constraints__init(&f->sc);
    mediation__v1__category_constraints__init(&f->cc);
    mediation__v1__personalization_constraints__init(&f->pc);
    mediation__v1__render_constraints__init(&f->rcn);
    f->cl.constraint_set_version = "cs-1";
    f->sc.source_selection_mode = "all_except_blocked";
    f->cl.source_constraints = &f->sc;
    f->cl.category_constraints = &f->cc;
    f->cl.personalization_constraints = &f->pc;
    f->cl.render_constraints = &f->rcn;
    f->cp.constraints_lite = &f->cl;
    f->pd.c_policy_decision_lite = &f->cp;
    mediation__v1__routable_opportunity_lite__init(&f->ro);
    mediation__v1__canonical_blocks__init(&f->b);
    mediation__v1__request_meta__init(&f->rm);
    mediation__v1__placement_meta__init(&f->pm);
    mediation__v1__user_context__init(&f->uc);
    mediation__v1__opportunity_context__init(&f->oc);
    mediation__v1__policy_context__init(&f->pcx);
    mediation__v1__trace_context_block__init(&f->tcb);
    f->pm.placement_key = "plc_feed";
    f->pm.placement_type = "native_feed";
    f->rm.channel_type = "in_app";
    f->b.request_meta = &f->rm;
    f->b.placement_meta = &f->pm;
    f->b.user_context = &f->uc;
    f->b.opportunity_context = &f->oc;
    f->b.policy_context = &f->pcx;
    f->b.trace_context = &f->tcb;
    f->ro.blocks = &f->b;
    f->ro.constraints_lite = &f->cl;
    f->pd.routable_opportunity_lite = &f->ro;
    mediation__v1__policy_audit_snapshot_lite__init(&f->pa);
    f->pd.policy_audit_snapshot_lite = &f->pa;
    mediation__v1__routing_context_lite__init(&f->rc);
    mediation__v1__execution_strategy_lite__init(&f->es);
    f->rc.routing_policy_version = "rs-1";
    f->rc.route_budget_ms = 300;
    f->rc.fallback_profile_version = "fb-1";
    f->es.strategy_type = "waterfall";
    f->es.strategy_timeout_ms = 1500;
    f->es.fallback_policy = "on_no_fill_or_error";
    f->es.execution_strategy_version = "es-1";
    f->rc.execution_strategy_lite = &f->es;
    f->pd.routing_context_lite = &f->rc;
    mediation__v1__config_snapshot_lite__init(&f->cs);
    f->cs.config_snapshot_id = "cfgsnap_1";
    f->cs.resolved_config_ref = "resolve_1";
    f->cs.config_hash = "hash_1";
    f->pd.config_snapshot_lite = &f->cs;
    f->pd.schema_version = "1.0.0";
    f->pd.d_input_contract_version = "d_input_contract_v1";
}

static const char *check(pd_fixture *f, const char *hash, d_input *in)
{
    static med_err err;
    med_err_clear(&err);
    med_rc rc = d_input_check(&f->pd, hash, in, &err);
    return rc == MED_OK ? NULL : err.code;
}

static void test_valid_input_accepted(void **state)
{
    (void)state;
    pd_fixture f;
    pd_init(&f);
    d_input in;
    assert_null(check(&f, "hash_1", &in));
    assert_int_equal(in.ctx.effective_budget_ms, 300);
    assert_string_equal(in.ctx.placement_type, "native_feed");
    d_input_free(&in);
}

/* Case 7: weighted_random is no strategy; a hash mismatch is rejected. */
static void test_case07_invalid_strategy_and_hash_mismatch(void **state)
{
    (void)state;
    pd_fixture f;
    pd_init(&f);
    d_input in;
    f.es.strategy_type = "weighted_random";
    assert_string_equal(check(&f, "hash_1", &in), MED_R_D_INVALID_EXECUTION_STRATEGY_CONTRACT);
    d_input_free(&in);
    pd_init(&f);
    assert_string_equal(check(&f, "hash_2", &in), MED_R_D_INVALID_CONFIG_SNAPSHOT);
    d_input_free(&in);
    /* bidding needs a fanout */
    pd_init(&f);
    f.es.strategy_type = "bidding";
    assert_string_equal(check(&f, "hash_1", &in), MED_R_D_INVALID_EXECUTION_STRATEGY_CONTRACT);
    d_input_free(&in);
}

/* Case 8: routeBudgetMs 0 is corrected to the strategy timeout. */
static void test_case08_route_budget_corrected(void **state)
{
    (void)state;
    pd_fixture f;
    pd_init(&f);
    f.rc.route_budget_ms = 0;
    d_input in;
    assert_null(check(&f, "hash_1", &in));
    assert_true(in.budget_corrected);
    assert_int_equal(in.ctx.route_budget_ms, 1500);
    assert_int_equal(in.ctx.effective_budget_ms, 1500);
    d_input_free(&in);
}

static void test_input_state_checks(void **state)
{
    (void)state;
    pd_fixture f;
    d_input in;
    pd_init(&f);
    f.keys.attempt_key = "";
    assert_string_equal(check(&f, "hash_1", &in), MED_R_D_INVALID_STRUCTURE);
    d_input_free(&in);
    pd_init(&f);
    f.cl.source_constraints = NULL;
    assert_string_equal(check(&f, "hash_1", &in), MED_R_D_MISSING_REQUIRED_FIELD);
    d_input_free(&in);
    pd_init(&f);
    f.st.to_state = "blocked";
    assert_string_equal(check(&f, "hash_1", &in), MED_R_D_INVALID_ROUTE_INPUT_STATE);
    d_input_free(&in);
    pd_init(&f);
    f.pd.config_snapshot_lite = NULL;
    assert_string_equal(check(&f, "hash_1", &in), MED_R_D_CONFIG_SNAPSHOT_MISSING);
    d_input_free(&in);
    pd_init(&f);
    f.rc.routing_policy_version = "bad version!";
    assert_string_equal(check(&f, "hash_1", &in), MED_R_D_INVALID_VERSION_ANCHOR);
    d_input_free(&in);
}

typedef struct fixed_answer {
    int status;
    const char *bids;
} fixed_answer;

static void answer_fixed(void *ud, const char *sid, const char *payload, int hop,
                         d_response *resp, char *body, size_t cap)
{
    (void)sid; (void)hop;
    const fixed_answer *fa = ud;
    resp->transport = D_TR_OK;
    resp->http_status = fa->status;
    resp->elapsed_ms = 20;
    if (fa->bids) d_bid_body(payload, fa->bids, body, cap);
}

/* Runs one routed output end to end (input -> plan -> run -> output). */
static void route_and_build(pd_fixture *pf, const fixed_answer *fa, d_output *out, d_input *in,
                            d_fixture *f, d_run *r)
{
    char *e[] = { d_src_json("p1", "primary", 0, 100, 1) };
    char rp[1024];
    snprintf(rp, sizeof rp, "{\"sources\":[%s]}", e[0]);
    free(e[0]);
    d_fixture_init(f, rp);
    assert_null(check(pf, "hash_1", in));
    in->ctx.reg = &f->reg;
    f->ctx = in->ctx;
    d_fixture_plan(f);
    assert_int_equal(d_fixture_run(f, r, answer_fixed, (void *)fa, NULL), 0);
    d_output_in oi = { .ctx = &f->ctx, .plan = &f->plan, .run = r, .constraints = &pf->cl,
                       .strategy = &pf->es, .check_code = "", .now_unix_ms = 1700000000500LL };
    med_err err;
    assert_int_equal(d_output_build(&oi, out, &err), MED_OK);
}

static void assert_constraints_unchanged(const d_output *out, const pd_fixture *pf)
{
    assert_ptr_equal(out->dto->policy_constraints_lite, &pf->cl);
    size_t n = mediation__v1__dto_eoutput_lite__get_packed_size(out->dto);
    uint8_t *buf = malloc(n);
    assert_non_null(buf);
    mediation__v1__dto_eoutput_lite__pack(out->dto, buf);
    Mediation__V1__DToEOutputLite *back = mediation__v1__dto_eoutput_lite__unpack(NULL, n, buf);
    assert_non_null(back);
    assert_string_equal(back->policy_constraints_lite->constraint_set_version, "cs-1");
    assert_string_equal(back->policy_constraints_lite->source_constraints->source_selection_mode,
                        "all_except_blocked");
    mediation__v1__dto_eoutput_lite__free_unpacked(back, NULL);
    free(buf);
}

/* Case 14 (output half) and 19: no_fill has price 0/NA, winner none, and
 * the invariants hold. */
static void test_case14_19_no_fill_output(void **state)
{
    (void)state;
    pd_fixture pf;
    pd_init(&pf);
    fixed_answer fa = { 204, NULL };
    d_output out;
    d_input in;
    d_fixture f;
    d_run r;
    route_and_build(&pf, &fa, &out, &in, &f, &r);
    const Mediation__V1__DToEOutputLite *o = out.dto;
    assert_null(d_output_check_invariants(o));
    assert_false(o->has_candidate);
    assert_int_equal(o->candidate_count, 0);
    assert_true(o->auction_decision_lite->price->value == 0);
    assert_string_equal(o->auction_decision_lite->price->currency, "NA");
    assert_string_equal(o->auction_decision_lite->winner->source_id, "none");
    assert_string_equal(o->route_conclusion->route_outcome, "no_fill");
    assert_string_equal(o->route_conclusion->final_reason_code, MED_R_D_NF_INVENTORY_UNAVAILABLE);
    assert_string_equal(o->state_update->to_state, "no_fill");
    assert_int_equal(o->route_audit_snapshot_lite->n_dispatch_records, 1);
    assert_constraints_unchanged(&out, &pf);
    d_output_free(&out);
    d_run_free(&r);
    d_input_free(&in);
    f.ctx.constraints = &f.cons;
    d_fixture_free(&f);
}

/* Case 19: a served output keeps the invariants; the winner is [0]. */
static void test_case19_served_output_invariants(void **state)
{
    (void)state;
    pd_fixture pf;
    pd_init(&pf);
    fixed_answer fa = { 200, "[{\"id\":\"b1\",\"price\":2.1,\"crid\":\"c21\"},"
                             "{\"id\":\"b2\",\"price\":2.4,\"crid\":\"c24\",\"adm\":\"{}\"}]" };
    d_output out;
    d_input in;
    d_fixture f;
    d_run r;
    route_and_build(&pf, &fa, &out, &in, &f, &r);
    const Mediation__V1__DToEOutputLite *o = out.dto;
    assert_null(d_output_check_invariants(o));
    assert_true(o->has_candidate);
    assert_int_equal(o->candidate_count, 2);
    assert_string_equal(o->normalized_candidates[0]->creative_ref->creative_id, "c24");
    assert_string_equal(o->auction_decision_lite->creative_handle->creative_id, "c24");
    assert_string_equal(o->route_conclusion->final_action, "deliver");
    assert_string_equal(o->route_conclusion->final_route_tier, "primary");
    assert_string_equal(o->auction_decision_lite->debug_ref->route_plan_id, f.plan.route_plan_id);
    assert_string_equal(out.audit->route_plan_lite->route_plan_id, f.plan.route_plan_id);
    assert_constraints_unchanged(&out, &pf);
    /* breaking invariant 1 is detected */
    o->auction_decision_lite->served = 0;
    assert_string_equal(d_output_check_invariants(o), MED_R_D_ROUTE_AUDIT_INCONSISTENT_CONCLUSION);
    d_output_free(&out);
    d_run_free(&r);
    d_input_free(&in);
    f.ctx.constraints = &f.cons;
    d_fixture_free(&f);
}

/* An input reject: error / terminal_error, tier none, plan NA. */
static void test_reject_output_invariants(void **state)
{
    (void)state;
    pd_fixture pf;
    pd_init(&pf);
    d_input in;
    assert_string_equal(check(&pf, "other", &in), MED_R_D_INVALID_CONFIG_SNAPSHOT);
    d_run r;
    d_run_init(&r, &in.ctx, NULL, NULL, 1700000000000LL);
    d_run_reject(&r, MED_R_D_INVALID_CONFIG_SNAPSHOT);
    d_output_in oi = { .ctx = &in.ctx, .run = &r, .constraints = &pf.cl, .strategy = &pf.es,
                       .check_code = MED_R_D_INVALID_CONFIG_SNAPSHOT, .now_unix_ms = 1 };
    d_output out;
    med_err err;
    assert_int_equal(d_output_build(&oi, &out, &err), MED_OK);
    assert_null(d_output_check_invariants(out.dto));
    assert_string_equal(out.dto->route_conclusion->route_plan_id, "NA");
    assert_string_equal(out.dto->route_conclusion->final_action, "terminal_error");
    assert_string_equal(out.dto->route_conclusion->final_route_tier, "none");
    assert_string_equal(out.dto->route_conclusion->final_reason_code, MED_R_D_INVALID_CONFIG_SNAPSHOT);
    d_output_free(&out);
    d_run_free(&r);
    d_input_free(&in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_input_accepted),
        cmocka_unit_test(test_case07_invalid_strategy_and_hash_mismatch),
        cmocka_unit_test(test_case08_route_budget_corrected),
        cmocka_unit_test(test_input_state_checks),
        cmocka_unit_test(test_case14_19_no_fill_output),
        cmocka_unit_test(test_case19_served_output_invariants),
        cmocka_unit_test(test_reject_output_invariants),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
