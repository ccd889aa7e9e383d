#include "d_test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "d_strlist.h"

void d_fixture_init(d_fixture *f, const char *rp_json)
{
    memset(f, 0, sizeof *f);
    json_error_t je;
    json_t *rp = json_loads(rp_json, 0, &je);
    assert_non_null(rp);
    med_err err;
    med_err_clear(&err);
    assert_int_equal(d_registry_build(rp, &f->reg, &err), MED_OK);
    json_decref(rp);
    d_ctx *c = &f->ctx;
    c->trace_key = "tr_0123456789abcdef";
    c->request_key = "rq_0123456789abcdef";
    c->attempt_key = "at_0123456789abcdef";
    c->opportunity_key = "op_0123456789abcdef";
    c->routing_policy_version = "rs-1";
    c->fallback_profile_version = "fb-1";
    c->constraint_set_version = "cs-1";
    c->strategy.type = D_STRAT_WATERFALL;
    c->strategy.parallel_fanout = 1;
    c->strategy.fallback_policy = D_FB_ON_NO_FILL_OR_ERROR;
    c->strategy.strategy_timeout_ms = 3000;
    c->strategy.version = "es-1";
    c->route_budget_ms = 3000;
    c->effective_budget_ms = 3000;
    c->placement_type = "native_feed";
    c->placement_key = "plc_feed";
    c->channel_type = "in_app";
    c->actor_type = "human";
    c->config_snapshot_id = "cfgsnap_1";
    c->resolved_config_ref = "resolve_1";
    c->config_hash = "hash_1";
    c->constraints = &f->cons;
    c->reg = &f->reg;
}

void d_fixture_plan(d_fixture *f)
{
    med_err err;
    med_err_clear(&err);
    assert_int_equal(d_plan_build(&f->ctx, &f->plan, &err), MED_OK);
}

void d_fixture_free(d_fixture *f)
{
    d_plan_clear(&f->plan);
    d_registry_clear(&f->reg);
    d_strlist_free(&f->cons.allowed);
    d_strlist_free(&f->cons.blocked);
    d_strlist_free(&f->cons.bcat);
    d_strlist_free(&f->cons.badv);
    d_strlist_free(&f->cons.disallow_render_modes);
}

char *d_src_json(const char *id, const char *tier, double score, int timeout_ms, double cost)
{
    char *s = NULL;
    int n = asprintf(&s,
                     "{\"sourceId\":\"%s\",\"adapterId\":\"a_%s\",\"sourceType\":\"alliance\","
                     "\"status\":\"active\",\"statusReasonCode\":\"NA\","
                     "\"endpoint\":\"http://127.0.0.1:1/%s\",\"timeoutPolicyMs\":%d,"
                     "\"supportedPlacementTypes\":[\"native_feed\"],"
                     "\"routingAttributes\":{\"routeTier\":\"%s\",\"sourcePriorityScore\":%g,"
                     "\"costWeight\":%g}}",
                     id, id, id, timeout_ms, tier, score, cost);
    assert_true(n > 0);
    return s;
}

int d_fixture_step_of(const d_fixture *f, const char *source_id)
{
    for (int i = 0; i < f->plan.n_steps; i++)
        if (!strcmp(d_fixture_step_source(f, i), source_id)) return i;
    return -1;
}

const char *d_fixture_step_source(const d_fixture *f, int pos)
{
    return f->reg.sources[f->plan.steps[pos].source].source_id;
}

int d_fixture_run(d_fixture *f, d_run *r, d_answer_fn answer, void *ud, int *http_calls)
{
    static char bodies[D_MAX_STEPS][4096];
    med_err err;
    med_err_clear(&err);
    d_run_init(r, &f->ctx, &f->plan, &f->breakers, 1700000000000LL);
    int calls = 0;
    for (int guard = 0; guard < 200; guard++) {
        if (d_run_advance(r, &err) != MED_OK) return -1;
        if (r->end != D_END_NONE) break;
        for (int i = 0; i < r->n_pending; i++) {
            d_pending *p = &r->pending[i];
            const d_attempt *a = &r->attempts[p->attempt];
            const char *sid = f->reg.sources[f->plan.steps[a->step_pos].source].source_id;
            memset(&p->resp, 0, sizeof p->resp);
            bodies[i][0] = '\0';
            answer(ud, sid, p->payload, a->route_hop, &p->resp, bodies[i], sizeof bodies[i]);
            if (!p->resp.body) {
                p->resp.body = bodies[i];
                p->resp.body_len = strlen(bodies[i]);
            }
            calls++;
        }
    }
    if (http_calls) *http_calls = calls;
    return 0;
}

void d_bid_body(const char *payload, const char *bids_json, char *body, size_t cap)
{
    json_error_t je;
    json_t *req = json_loads(payload, 0, &je);
    assert_non_null(req);
    snprintf(body, cap, "{\"id\":\"%s\",\"cur\":\"USD\",\"seatbid\":[{\"seat\":\"s\",\"bid\":%s}]}",
             json_string_value(json_object_get(req, "id")), bids_json);
    json_decref(req);
}
