#include "e_fixture.h"

#include <stdlib.h>
#include <string.h>

#define S(x) ((char *)(x))

static void init_candidate(e_fx *f, int i, const char *src, const char *id, const char *creative)
{
    Mediation__V1__NormalizedCandidateLite *c = &f->cand[i];
    mediation__v1__normalized_candidate_lite__init(c);
    c->source_id = S(src);
    c->source_candidate_id = S(id);
    c->candidate_status = S("eligible");
    mediation__v1__pricing_lite__init(&f->pricing[i]);
    f->pricing[i].bid_value = 1.5;
    f->pricing[i].currency = S("USD");
    c->pricing = &f->pricing[i];
    mediation__v1__creative_ref_lite__init(&f->cref[i]);
    f->cref[i].creative_id = S(creative);
    f->cref[i].landing_type = S("external");
    c->creative_ref = &f->cref[i];
    c->asset_refs = f->assets;
    c->n_asset_refs = 1;
    c->destination_ref = S("https://advertiser.example/landing");
    c->compose_source = S("d_route");
    f->cand_p[i] = c;
}

static void init_auction(e_fx *f)
{
    mediation__v1__auction_decision_lite__init(&f->ad);
    mediation__v1__auction_winner_lite__init(&f->win);
    mediation__v1__auction_price_lite__init(&f->price);
    mediation__v1__creative_ref_lite__init(&f->handle);
    mediation__v1__auction_debug_ref_lite__init(&f->dbg);
    f->ad.served = 1;
    f->win.source_id = S("source_primary_a");
    f->win.candidate_id = S("cand_001");
    f->price.value = 1.5;
    f->price.value_micros = 1500000;
    f->price.currency = S("USD");
    f->handle.creative_id = S("creative_001");
    f->handle.landing_type = S("external");
    f->dbg.route_plan_id = S("rp_0123456789abcdef0123");
    f->ad.winner = &f->win;
    f->ad.price = &f->price;
    f->ad.creative_handle = &f->handle;
    f->ad.debug_ref = &f->dbg;
}

static void init_d(e_fx *f)
{
    Mediation__V1__DToEOutputLite *d = &f->d;
    mediation__v1__dto_eoutput_lite__init(d);
    d->opportunity_key = S("opp_0123456789abcdef");
    d->trace_key = S("tr_0123456789abcdef");
    d->request_key = S("req_0123456789abcdef");
    d->attempt_key = S("att_0123456789abcdef");
    f->assets[0] = S("asset_img_001");
    init_candidate(f, 0, "source_primary_a", "cand_001", "creative_001");
    d->normalized_candidates = f->cand_p;
    d->n_normalized_candidates = 1;
    d->has_candidate = 1;
    d->candidate_count = 1;
    init_auction(f);
    d->auction_decision_lite = &f->ad;
    mediation__v1__constraints_lite__init(&f->cons);
    mediation__v1__render_constraints__init(&f->rcons);
    f->cons.constraint_set_version = S("cs_1");
    f->rcons.disallow_render_modes = f->disallow;
    f->cons.render_constraints = &f->rcons;
    d->policy_constraints_lite = &f->cons;
    mediation__v1__route_conclusion_lite__init(&f->route);
    f->route.route_outcome = S("served_candidate");
    f->route.final_reason_code = S("d_route_served");
    d->route_conclusion = &f->route;
}

static void init_placement(e_fx *f)
{
    static const char *const modes[] = { "native_card", "webview" };
    Mediation__V1__PlacementSpecLite *p = &f->pl;
    mediation__v1__placement_spec_lite__init(p);
    p->placement_key = S("plc_feed");
    p->placement_type = S("native_feed");
    p->placement_surface = S("feed");
    e_fx_placement_modes(f, modes, 2);
    p->max_render_count = 1;
    mediation__v1__ui_constraint_profile_lite__init(&f->prof);
    mediation__v1__disclosure_policy_lite__init(&f->disc);
    p->ui_constraint_profile = &f->prof;
    p->disclosure_policy = &f->disc;
    p->placement_config_version = S("pc_1");
}

static void init_device(e_fx *f)
{
    static const char *const modes[] = { "native_card", "webview" };
    Mediation__V1__DeviceCapabilitiesLite *v = &f->dev;
    mediation__v1__device_capabilities_lite__init(v);
    v->platform_type = S("android");
    v->sdk_version = S("3.2.0");
    e_fx_device_modes(f, modes, 2);
    v->webview_supported_opt_case = MEDIATION__V1__DEVICE_CAPABILITIES_LITE__WEBVIEW_SUPPORTED_OPT_WEBVIEW_SUPPORTED;
    v->webview_supported = 1;
    v->mraid_supported_opt_case = MEDIATION__V1__DEVICE_CAPABILITIES_LITE__MRAID_SUPPORTED_OPT_MRAID_SUPPORTED;
    v->mraid_supported = 0;
    v->video_vast_supported_opt_case =
        MEDIATION__V1__DEVICE_CAPABILITIES_LITE__VIDEO_VAST_SUPPORTED_OPT_VIDEO_VAST_SUPPORTED;
    v->video_vast_supported = 0;
    v->max_render_slot_count_opt_case =
        MEDIATION__V1__DEVICE_CAPABILITIES_LITE__MAX_RENDER_SLOT_COUNT_OPT_MAX_RENDER_SLOT_COUNT;
    v->max_render_slot_count = 1;
}

static void init_context_and_anchors(e_fx *f)
{
    Mediation__V1__ComposeContextLite *c = &f->ctx;
    mediation__v1__compose_context_lite__init(c);
    c->compose_request_at_unix_ms_opt_case =
        MEDIATION__V1__COMPOSE_CONTEXT_LITE__COMPOSE_REQUEST_AT_UNIX_MS_OPT_COMPOSE_REQUEST_AT_UNIX_MS;
    c->compose_request_at_unix_ms = FX_T0;
    c->compose_mode_opt_case = MEDIATION__V1__COMPOSE_CONTEXT_LITE__COMPOSE_MODE_OPT_COMPOSE_MODE;
    c->compose_mode = S("sync_delivery");
    c->compose_source_opt_case = MEDIATION__V1__COMPOSE_CONTEXT_LITE__COMPOSE_SOURCE_OPT_COMPOSE_SOURCE;
    c->compose_source = S("d_route");
    c->render_ttl_ms_opt_case = MEDIATION__V1__COMPOSE_CONTEXT_LITE__RENDER_TTL_MS_OPT_RENDER_TTL_MS;
    c->render_ttl_ms = 7000;
    mediation__v1__policy_signals_lite__init(&f->sig);
    f->sig.frequency_cap_state = S("none");
    c->policy_signals_lite = &f->sig;
    Mediation__V1__EInputVersionAnchorsLite *a = &f->va;
    mediation__v1__einput_version_anchors_lite__init(a);
    a->e_compose_input_contract_version = S("e_compose_input_contract_v1");
    a->d_output_contract_version = S("d_output_contract_v1");
    a->schema_version = S("1.0.0");
    a->placement_config_version = S("pc_1");
    a->render_policy_version = S("rp_1");
    a->device_capability_profile_version = S("dcp_1");
    a->routing_policy_version = S("rs-1");
    a->constraint_set_version = S("cs_1");
}

e_fx *e_fx_new(void)
{
    e_fx *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    init_d(f);
    init_placement(f);
    init_device(f);
    init_context_and_anchors(f);
    mediation__v1__ecompose_input_lite__init(&f->lite);
    f->lite.d_to_e_output_lite = &f->d;
    f->lite.placement_spec_lite = &f->pl;
    f->lite.device_capabilities_lite = &f->dev;
    f->lite.compose_context_lite = &f->ctx;
    f->lite.version_anchors = &f->va;
    mediation__v1__trace_context__init(&f->tc);
    f->tc.trace_key = f->d.trace_key;
    f->tc.request_key = f->d.request_key;
    f->tc.attempt_key = f->d.attempt_key;
    f->tc.opportunity_key = f->d.opportunity_key;
    f->tc.tenant_id = S("t_demo");
    mediation__v1__compose_input__init(&f->ci);
    f->ci.trace = &f->tc;
    f->ci.e_compose_input_lite = &f->lite;
    f->ci.compose_source = S("d_route");
    return f;
}

void e_fx_placement_modes(e_fx *f, const char *const *modes, size_t n)
{
    for (size_t i = 0; i < n && i < 4; i++) f->pl_modes[i] = S(modes[i]);
    f->pl.allowed_render_modes = f->pl_modes;
    f->pl.n_allowed_render_modes = n < 4 ? n : 4;
}

void e_fx_device_modes(e_fx *f, const char *const *modes, size_t n)
{
    for (size_t i = 0; i < n && i < 4; i++) f->dev_modes[i] = S(modes[i]);
    f->dev.supported_render_modes = f->dev_modes;
    f->dev.n_supported_render_modes = n < 4 ? n : 4;
}

void e_fx_device_all(e_fx *f)
{
    static const char *const all[] = { "native_card", "webview", "mraid_container", "video_vast_container" };
    e_fx_device_modes(f, all, 4);
    f->dev.webview_supported = f->dev.mraid_supported = f->dev.video_vast_supported = 1;
}

void e_fx_render_assets(e_fx *f)
{
    mediation__v1__render_assets_lite__init(&f->ra);
    mediation__v1__video_slot_spec_lite__init(&f->vss);
    f->ra.webview_url = S("https://ads.example.com/creative/001");
    f->ra.html_snippet_ref = S("html_ref_001");
    f->ra.vast_tag_url = S("https://ads.example.com/vast/001.xml");
    f->vss.width = 640;
    f->vss.height = 360;
    f->ra.video_slot_spec = &f->vss;
    f->cand[0].render_assets = &f->ra;
}

void e_fx_route_failed(e_fx *f, const char *route_outcome, const char *code)
{
    f->d.n_normalized_candidates = 0;
    f->d.has_candidate = 0;
    f->d.candidate_count = 0;
    f->ad.served = 0;
    f->win.source_id = S("none");
    f->win.candidate_id = S("none");
    f->price.value = 0;
    f->price.currency = S("NA");
    f->handle.creative_id = S("none");
    f->handle.landing_type = S("none");
    f->route.route_outcome = S(route_outcome);
    f->route.final_reason_code = S(code);
}

void e_fx_runner_up(e_fx *f)
{
    init_candidate(f, 1, "source_b", "cand_002", "creative_002");
    f->d.n_normalized_candidates = 2;
    f->d.candidate_count = 2;
}

void e_fx_flag(e_fx *f, int cand, const char *flag)
{
    f->flags[cand][0] = S(flag);
    f->cand[cand].policy_flags = f->flags[cand];
    f->cand[cand].n_policy_flags = 1;
}

e_outcome *e_fx_compose(e_fx *f)
{
    e_outcome *o = calloc(1, sizeof *o);
    if (o) e_compose(&f->ci, NULL, FX_T0, o);
    return o;
}
