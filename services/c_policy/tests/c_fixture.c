#include "c_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "c_input.h"
#include "med/pbtrace.h"

#define S(x) ((char *)(x))

static void init_blocks(c_fx *f)
{
    mediation__v1__canonical_blocks__init(&f->blocks);
    mediation__v1__request_meta__init(&f->rm);
    f->rm.request_key = S("req_0123456789abcdef");
    f->rm.request_timestamp_unix_ms = C_FX_NOW - 100;
    f->rm.channel_type = S("sdk_server");
    mediation__v1__placement_meta__init(&f->pm);
    f->pm.placement_key = S("plc_feed");
    f->pm.placement_type = S("native_feed");
    f->pm.placement_surface = S("feed_surface");
    mediation__v1__user_context__init(&f->uc);
    f->uc.session_key = S("sess_hash_0001");
    f->uc.actor_type = S("human");
    f->uc.session_state = S("active");
    mediation__v1__opportunity_context__init(&f->oc);
    f->oc.trigger_decision = S("opportunity_eligible");
    f->oc.decision_outcome = S("opportunity_eligible");
    f->oc.hit_type = S("workflow_hit");
    mediation__v1__policy_context__init(&f->pc);
    f->pc.consent_scope = S("consent_granted");
    f->pc.policy_gate_hint = S("allow");
    f->pc.restricted_category_flags = f->flags;
    mediation__v1__trace_context_block__init(&f->tc);
    f->tc.trace_key = S("tr_0123456789abcdef");
    f->tc.request_key = S("req_0123456789abcdef");
    f->tc.attempt_key = S("att_0123456789abcdef");
    f->blocks.request_meta = &f->rm;
    f->blocks.placement_meta = &f->pm;
    f->blocks.user_context = &f->uc;
    f->blocks.opportunity_context = &f->oc;
    f->blocks.policy_context = &f->pc;
    f->blocks.trace_context = &f->tc;
}

static void init_snapshot(c_fx *f)
{
    mediation__v1__policy_snapshot_lite__init(&f->snap);
    f->snap.policy_snapshot_id = S("polsnap_0001");
    f->snap.resolved_config_ref = S("resolve_0001");
    f->snap.effective_at_unix_ms = C_FX_NOW - 60000;
    f->snap.policy_snapshot_version = S("pol-1");
    f->snap.policy_pack_version = S("pack-1");
    f->snap.policy_rule_version = S("rule-1");
    f->snap.snapshot_source = S("resolvedConfigSnapshot");
    f->snap.config_hash = S("sha256:abcdef0123");
    f->snap.failure_mode = S("fail_closed");
    mediation__v1__policy_constraints_lite__init(&f->pcl);
    mediation__v1__compliance_gate_rule__init(&f->co);
    mediation__v1__consent_auth_gate_rule__init(&f->cs);
    mediation__v1__frequency_cap_gate_rule__init(&f->fq);
    mediation__v1__category_gate_rule__init(&f->ca);
    f->ca.hard_blocked_categories = f->hard_categories;
    f->ca.degraded_categories = f->degraded_categories;
    mediation__v1__constraints_lite__init(&f->base);
    mediation__v1__category_constraints__init(&f->cc);
    mediation__v1__source_constraints__init(&f->sc);
    mediation__v1__render_constraints__init(&f->rnd);
    f->bcat[0] = S("IAB25");
    f->bcat[1] = S("IAB26");
    f->bcat[2] = S("IAB25"); /* duplicate: dropped */
    f->cc.bcat = f->bcat;
    f->cc.n_bcat = 3;
    f->sc.source_selection_mode = S("all_except_blocked");
    f->sc.allowed_source_ids = f->allowed;
    f->sc.blocked_source_ids = f->blocked;
    f->rnd.disallow_render_modes = f->render_modes;
    f->base.category_constraints = &f->cc;
    f->base.source_constraints = &f->sc;
    f->base.render_constraints = &f->rnd;
    f->pcl.compliance_gate = &f->co;
    f->pcl.consent_auth_gate = &f->cs;
    f->pcl.frequency_cap_gate = &f->fq;
    f->pcl.category_gate = &f->ca;
    f->pcl.constraints_lite = &f->base;
    f->snap.policy_constraints_lite = &f->pcl;
}

static void init_passthrough(c_fx *f)
{
    mediation__v1__routing_context_lite__init(&f->routing);
    f->routing.routing_policy_version = S("rs-1");
    f->routing.route_budget_ms = 300;
    mediation__v1__config_snapshot_lite__init(&f->cfg);
    f->cfg.config_snapshot_id = S("cfgsnap_0001");
    f->cfg.config_hash = S("sha256:abcdef0123");
    mediation__v1__version_anchor_snapshot__init(&f->vas);
    f->vas.anchor_hash = S("anchor_0001");
    mediation__v1__placement_spec_lite__init(&f->ps);
    f->ps.placement_key = S("plc_feed");
    mediation__v1__device_capabilities_lite__init(&f->dc);
    f->dc.platform_type = S("ios");
}

void c_fx_init(c_fx *f)
{
    memset(f, 0, sizeof *f);
    init_blocks(f);
    init_snapshot(f);
    init_passthrough(f);
    mediation__v1__trace_context__init(&f->trace);
    f->trace.trace_key = S("tr_0123456789abcdef");
    f->trace.request_key = S("req_0123456789abcdef");
    f->trace.opportunity_key = S("opp_0123456789abcdef");
    f->trace.attempt_key = S("att_0123456789abcdef");
    mediation__v1__normalization_summary__init(&f->ns);
    f->ns.mapping_profile_version = S("map-1");
    f->ns.enum_dict_version = S("enum-1");
    f->ns.conflict_policy_version = S("conflict-1");
    mediation__v1__mapping_audit_snapshot_lite__init(&f->mas);
    f->mas.trace_key = S("tr_0123456789abcdef");
    Mediation__V1__NormalizedOpportunity *m = &f->msg;
    mediation__v1__normalized_opportunity__init(m);
    m->trace = &f->trace;
    m->opportunity_key = S("opp_0123456789abcdef");
    m->schema_version = S("1.0.0");
    m->state = S("received");
    m->blocks = &f->blocks;
    m->normalization_summary = &f->ns;
    m->mapping_audit_snapshot_lite = &f->mas;
    m->normalize_accepted = 1;
    m->normalize_action = S("continue");
    m->c_input_contract_version = S("c_input_contract_v1");
    m->policy_snapshot_lite = &f->snap;
    m->routing_context_lite = &f->routing;
    m->config_snapshot_lite = &f->cfg;
    m->version_anchor_snapshot = &f->vas;
    m->placement_spec_lite = &f->ps;
    m->device_capabilities_lite = &f->dc;
    c_fx_set_count(f, 1);
}

void c_fx_set_count(c_fx *f, int64_t count)
{
    f->pc.frequency_count_opt_case = MEDIATION__V1__POLICY_CONTEXT__FREQUENCY_COUNT_OPT_FREQUENCY_COUNT;
    f->pc.frequency_count = count;
}

void c_fx_add_flag(c_fx *f, const char *flag)
{
    f->flags[f->pc.n_restricted_category_flags++] = S(flag);
}

void c_fx_add_hard_category(c_fx *f, const char *cat)
{
    f->hard_categories[f->ca.n_hard_blocked_categories++] = S(cat);
}

static const c_header_keys k_headers = {
    .trace_key = "tr_fromheader00001",
    .request_key = "req_fromheader0001",
    .opportunity_key = "opp_fromheader0001",
};

med_rc c_fx_run(c_fx *f, int64_t now, c_eval *e)
{
    c_eval_init(e);
    c_input in;
    med_err why;
    med_err_clear(&why);
    med_rc rc = c_input_check(&f->msg, &k_headers, now, &in, &e->warnings, &why);
    if (rc == MED_OK)
        c_decide_evaluate(&in, now, e);
    else
        c_decide_reject(&f->msg, &in.keys, &why,
                        strcmp(why.code, "c_policy_snapshot_expired") == 0, now, e);
    return rc;
}

med_rc c_fx_process(c_fx *f, int64_t now, c_emit *out)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    med_err err;
    assert_int_equal(med_pb_pack((const ProtobufCMessage *)&f->msg, &buf, &len, &err), MED_OK);
    c_process_in in = { .data = buf, .len = len, .hdr = k_headers, .stream_seq = 7,
                        .stage = "c", .instance = "c-test", .now_ms = now };
    med_rc rc = c_process(&in, out, &err);
    free(buf);
    return rc;
}

const c_emit_item *c_fx_find(const c_emit *out, const char *subject)
{
    for (int i = 0; i < out->n; i++)
        if (strcmp(out->v[i].subject, subject) == 0) return &out->v[i];
    return NULL;
}
