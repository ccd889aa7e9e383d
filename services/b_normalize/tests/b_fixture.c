#include "b_fixture.h"

#include <stdlib.h>
#include <string.h>

#define S(x) ((char *)(x))

static void slots_init(b_fixture *f)
{
    mediation__v1__source_slot_lite__init(&f->app);
    mediation__v1__source_slot_lite__init(&f->plc);
    mediation__v1__source_slot_lite__init(&f->def);
    mediation__v1__app_context_raw_lite__init(&f->app_ctx);
    mediation__v1__app_context_raw_lite__init(&f->plc_ctx);
    mediation__v1__app_context_raw_lite__init(&f->def_ctx);
    Mediation__V1__SourceSlotLite *a = &f->app;
    a->app_id_opt_case = MEDIATION__V1__SOURCE_SLOT_LITE__APP_ID_OPT_APP_ID;
    a->app_id = S("app_chat_main");
    a->session_id_opt_case = MEDIATION__V1__SOURCE_SLOT_LITE__SESSION_ID_OPT_SESSION_ID;
    a->session_id = S("sess_001");
    a->device_id_opt_case = MEDIATION__V1__SOURCE_SLOT_LITE__DEVICE_ID_OPT_DEVICE_ID;
    a->device_id = S("dev-raw-abc");
    b_fix_set_actor(a, "human_user");
    b_fix_set_channel(a, "rest");
    a->intent_score_opt_case = MEDIATION__V1__SOURCE_SLOT_LITE__INTENT_SCORE_OPT_INTENT_SCORE;
    a->intent_score = S("0.82");
    Mediation__V1__AppContextRawLite *c = &f->app_ctx;
    c->language_opt_case = MEDIATION__V1__APP_CONTEXT_RAW_LITE__LANGUAGE_OPT_LANGUAGE;
    c->language = S("en-US");
    c->session_state_opt_case = MEDIATION__V1__APP_CONTEXT_RAW_LITE__SESSION_STATE_OPT_SESSION_STATE;
    c->session_state = S("active");
    c->device_performance_score_opt_case =
        MEDIATION__V1__APP_CONTEXT_RAW_LITE__DEVICE_PERFORMANCE_SCORE_OPT_DEVICE_PERFORMANCE_SCORE;
    c->device_performance_score = S("66");
    c->privacy_status_opt_case = MEDIATION__V1__APP_CONTEXT_RAW_LITE__PRIVACY_STATUS_OPT_PRIVACY_STATUS;
    c->privacy_status = S("consent_granted");
    c->session_depth_opt_case = MEDIATION__V1__APP_CONTEXT_RAW_LITE__SESSION_DEPTH_OPT_SESSION_DEPTH;
    c->session_depth = S("4");
    a->app_context = c;
    b_fix_set_ptype(&f->plc, "chat-inline");
    f->plc.placement_surface_opt_case = MEDIATION__V1__SOURCE_SLOT_LITE__PLACEMENT_SURFACE_OPT_PLACEMENT_SURFACE;
    f->plc.placement_surface = S("chat_inline_surface");
    f->plc.policy_gate_hint_opt_case = MEDIATION__V1__SOURCE_SLOT_LITE__POLICY_GATE_HINT_OPT_POLICY_GATE_HINT;
    f->plc.policy_gate_hint = S("allow");
    f->def.policy_gate_hint_opt_case = MEDIATION__V1__SOURCE_SLOT_LITE__POLICY_GATE_HINT_OPT_POLICY_GATE_HINT;
    f->def.policy_gate_hint = S("allow");
}

void b_fixture_init(b_fixture *f)
{
    memset(f, 0, sizeof *f);
    mediation__v1__opportunity_seed__init(&f->seed);
    mediation__v1__trace_context__init(&f->trace);
    mediation__v1__bingress_packet_lite__init(&f->pkt);
    mediation__v1__opportunity_seed_lite__init(&f->os);
    mediation__v1__opportunity_timestamps__init(&f->ts);
    mediation__v1__trace_init_lite__init(&f->ti);
    mediation__v1__trigger_snapshot_lite__init(&f->trig);
    mediation__v1__sensing_decision_lite__init(&f->sens);
    mediation__v1__source_input_bundle_lite__init(&f->bundle);
    mediation__v1__config_failure_lite__init(&f->cfail);
    mediation__v1__config_snapshot_lite__init(&f->csnap);
    mediation__v1__routing_context_lite__init(&f->route);
    f->os.opportunity_key = S("opp_b_001");
    f->os.state = S("received");
    f->os.request_key = S("req_b_001");
    f->os.placement_id = S("chat_from_answer_v1");
    f->os.placement_type = S("chat-inline");
    f->ts.request_at_unix_ms = B_FIX_NOW;
    f->os.timestamps = &f->ts;
    f->ti.trace_key = S("trace_b_000001");
    f->ti.request_key = S("req_b_001");
    f->ti.attempt_key = S("attempt_b_0001");
    f->ti.opportunity_key = S("opp_b_001");
    f->trig.trigger_type = S("answer_end");
    f->trig.trigger_decision = S("opportunity_eligible");
    f->sens.decision_outcome = S("eligible");
    f->sens.hit_type = S("intent_hit");
    f->sens.confidence_band = 0.82;
    slots_init(f);
    f->bundle.app_explicit = &f->app;
    f->bundle.placement_config = &f->plc;
    f->bundle.default_policy = &f->def;
    f->pkt.opportunity_seed = &f->os;
    f->pkt.trace_init_lite = &f->ti;
    f->pkt.trigger_snapshot_lite = &f->trig;
    f->pkt.sensing_decision_lite = &f->sens;
    f->pkt.source_input_bundle_lite = &f->bundle;
    f->pkt.b_input_contract_version = S("b_input_contract_v1");
    f->trace.trace_key = S("trace_b_000001");
    f->trace.request_key = S("req_b_001");
    f->trace.opportunity_key = S("opp_b_001");
    f->trace.tenant_id = S("t1");
    f->csnap.config_hash = S("cfghash1");
    f->csnap.config_snapshot_id = S("cfgsnap_1");
    f->route.routing_policy_version = S("rs-1");
    f->seed.trace = &f->trace;
    f->seed.b_ingress_packet_lite = &f->pkt;
    f->seed.schema_version = S("1.0.0");
    f->seed.config_snapshot_lite = &f->csnap;
    f->seed.routing_context_lite = &f->route;
}

void b_fixture_run(b_fixture *f, const json_t *schema_doc, b_normalize_out *out)
{
    b_normalize_in in = { .seed = &f->seed, .schema_doc = schema_doc, .salt = B_FIX_SALT,
                          .now_unix_ms = B_FIX_NOW + 5, .signal_event_key = "evt_b_sig_test" };
    med_err err;
    med_err_clear(&err);
    if (b_normalize_run(&in, out, &err) != MED_OK) abort();
}

void b_fix_set_actor(Mediation__V1__SourceSlotLite *s, const char *v)
{
    s->actor_type_opt_case = MEDIATION__V1__SOURCE_SLOT_LITE__ACTOR_TYPE_OPT_ACTOR_TYPE;
    s->actor_type = S(v);
}

void b_fix_set_channel(Mediation__V1__SourceSlotLite *s, const char *v)
{
    s->channel_type_opt_case = MEDIATION__V1__SOURCE_SLOT_LITE__CHANNEL_TYPE_OPT_CHANNEL_TYPE;
    s->channel_type = S(v);
}

void b_fix_set_ptype(Mediation__V1__SourceSlotLite *s, const char *v)
{
    s->placement_type_opt_case = MEDIATION__V1__SOURCE_SLOT_LITE__PLACEMENT_TYPE_OPT_PLACEMENT_TYPE;
    s->placement_type = S(v);
}

void b_fix_set_flags(Mediation__V1__SourceSlotLite *s, char **store, const char *a, const char *b)
{
    store[0] = S(a);
    store[1] = S(b);
    s->restricted_category_flags = store;
    s->n_restricted_category_flags = 2;
}

const Mediation__V1__MappingAuditRecordLite *b_fix_record(const b_normalize_out *o, const char *slot)
{
    const Mediation__V1__MappingAuditSnapshotLite *m = o->norm->mapping_audit_snapshot_lite;
    for (size_t i = 0; m && i < m->n_records; i++)
        if (strcmp(m->records[i]->semantic_slot, slot) == 0) return m->records[i];
    return NULL;
}

int b_fix_audit_contains(const b_normalize_out *o, const char *needle)
{
    size_t len = mediation__v1__bstage_audit_lite__get_packed_size(o->audit);
    uint8_t *buf = malloc(len + 1);
    if (!buf) abort();
    mediation__v1__bstage_audit_lite__pack(o->audit, buf);
    int found = memmem(buf, len, needle, strlen(needle)) != NULL;
    free(buf);
    return found;
}
