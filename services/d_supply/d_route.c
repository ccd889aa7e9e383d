#include "d_route.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "d_budget.h"
#include "d_names.h"
#include "d_strlist.h"
#include "med/reason.h"

static const d_source *source_of(const d_run *r, int step_pos)
{
    return &r->ctx->reg->sources[r->plan->steps[step_pos].source];
}

static int64_t remaining(const d_run *r)
{
    return d_budget_remaining(r->ctx->effective_budget_ms, r->elapsed_ms);
}

static int64_t now_unix(const d_run *r) { return r->start_unix_ms + r->elapsed_ms; }

static void skip_from(d_run *r, int pos)
{
    for (int i = pos; r->plan && i < r->plan->n_steps; i++)
        if (r->plan->steps[i].status == D_STEP_PENDING) r->plan->steps[i].status = D_STEP_SKIPPED;
}

static void end_route(d_run *r, d_end end, const char *code, d_tier tier)
{
    r->end = end;
    d_copy_str(r->final_code, sizeof r->final_code, code);
    r->final_tier = tier;
    skip_from(r, 0);
}

void d_run_init(d_run *r, const d_ctx *ctx, d_plan *plan, d_breakers *breakers,
                int64_t start_unix_ms)
{
    memset(r, 0, sizeof *r);
    r->ctx = ctx;
    r->plan = plan;
    r->breakers = breakers;
    r->start_unix_ms = start_unix_ms;
    r->all_no_fill = 1;
    r->final_tier = D_TIER_NONE;
    r->last_tier_sent = D_TIER_NONE;
    if (plan && plan->terminated) {
        r->trigger_step_index = 0;
        end_route(r, D_END_NO_SOURCE, MED_R_D_ROUTE_NO_AVAILABLE_SOURCE, D_TIER_NONE);
    }
}

void d_run_reject(d_run *r, const char *check_code)
{
    end_route(r, D_END_REJECTED, check_code, D_TIER_NONE);
}

void d_run_sync_clock(d_run *r, int64_t elapsed_ms)
{
    if (elapsed_ms > r->elapsed_ms) r->elapsed_ms = elapsed_ms;
}

/* A switch event is written when the next dispatch starts. */
static void switch_to(d_run *r, const char *to)
{
    if (!r->leaving_from[0] || r->n_switches >= (int)(sizeof r->switches / sizeof r->switches[0]))
        return;
    d_switch *sw = &r->switches[r->n_switches++];
    d_copy_str(sw->from, sizeof sw->from, r->leaving_from);
    d_copy_str(sw->to, sizeof sw->to, to);
    sw->reason = r->leaving_reason;
    sw->at_unix_ms = now_unix(r);
    r->leaving_from[0] = '\0';
}

static void fill_adapt_in(const d_run *r, const d_source *src, const d_attempt *a, d_adapt_in *in)
{
    const d_ctx *c = r->ctx;
    memset(in, 0, sizeof *in);
    in->source = src;
    in->reg = c->reg;
    in->source_request_id = a->source_request_id;
    in->timeout_budget_ms = a->timeout_budget_ms;
    in->opportunity_key = c->opportunity_key;
    in->placement_key = c->placement_key;
    in->placement_type = c->placement_type;
    in->channel_type = c->channel_type;
    in->language = c->language;
    in->app_id = c->app_id;
    in->constraints = c->constraints;
}

/* The source's circuit: per tenant (d_breaker_key); NULL (no breaker)
 * only for a key too long to hold. */
static const char *breaker_key(const d_run *r, const d_source *src, char *buf, size_t cap)
{
    return d_breaker_key(r->ctx->tenant_id, src->source_id, buf, cap) == 0 ? buf : NULL;
}

/* Everything the D.6 / D.5 rules make of one finished dispatch. */
static int complete(d_run *r, d_attempt *a, const d_response *resp, d_parsed *parsed)
{
    d_step *step = &r->plan->steps[a->step_pos];
    const d_source *src = source_of(r, a->step_pos);
    d_response eff = *resp;
    if ((eff.transport == D_TR_OK || eff.transport == D_TR_LOCAL) &&
        eff.elapsed_ms > a->timeout_budget_ms)
        eff.transport = D_TR_DEADLINE;   /* a late response is dropped */
    int usable = parsed && parsed->kind == D_PARSE_BIDS &&
                 (eff.transport == D_TR_OK || eff.transport == D_TR_LOCAL);
    d_bid_tally tally = { 0 };
    if (usable) {
        d_norm_ctx nc = { .source = step->source, .source_id = src->source_id,
                          .settlement_currency = r->ctx->reg->settlement_currency,
                          .response_currency = parsed->cur, .constraints = r->ctx->constraints,
                          .tier = step->tier, .step_index = step->step_index,
                          .latency_ms = eff.elapsed_ms };
        if (d_candidate_normalize_all(&nc, parsed->bids, NULL, &r->group_cands, &tally,
                                      &r->mappings) != 0)
            return -1;
    }
    d_outcome *o = &a->outcome;
    d_classify_in ci = { .resp = &eff, .parsed = parsed, .tally = usable ? &tally : NULL,
                         .budget_cut = a->budget_cut };
    d_outcome_classify(&ci, o);
    o->source = step->source;
    o->step_index = step->step_index;
    o->route_hop = a->route_hop;
    int64_t spent = eff.elapsed_ms < a->timeout_budget_ms ? eff.elapsed_ms : a->timeout_budget_ms;
    d_run_sync_clock(r, (a->sent_at_unix_ms - r->start_unix_ms) + (spent > 0 ? spent : 0));
    a->budget_after_ms = remaining(r) > 0 ? remaining(r) : 0;
    a->response_bytes = (int64_t)resp->body_len;
    char key[D_BREAKER_KEY_MAX];
    const char *bk = breaker_key(r, src, key, sizeof key);
    if (a->sent) d_breaker_record(r->breakers, bk, o->type, now_unix(r));
    int retry_left = !step->batch_index && a->route_hop <= step->max_retry_count;
    d_outcome_route_action(o, retry_left, a->budget_after_ms > 0,
                           d_breaker_closed(r->breakers, bk, now_unix(r)));
    if (o->type == D_OUT_NO_FILL || o->type == D_OUT_TIMEOUT) r->any_no_fill_or_timeout = 1;
    return 0;
}

static int complete_now(d_run *r, d_attempt *a, d_transport tr, d_parsed *parsed)
{
    d_response resp = { .transport = tr, .http_status = tr == D_TR_LOCAL ? 200 : 0 };
    int rc = complete(r, a, &resp, parsed);
    if (parsed) d_parsed_clear(parsed);
    return rc;
}

/* A local adapter's answer, through the same D.5 / D.6 path. */
static int answer_local(d_run *r, d_attempt *a, const d_adapter *ad, const d_adapt_in *in)
{
    d_parsed local;
    memset(&local, 0, sizeof local);
    d_response resp = { .transport = D_TR_LOCAL, .http_status = 200 };
    ad->respond_local(in, &resp, &local);
    int rc = complete(r, a, &resp, &local);
    d_parsed_clear(&local);
    return rc;
}

static d_attempt *new_attempt(d_run *r, int pos, int64_t rem, int hop)
{
    if (r->n_attempts >= D_MAX_ATTEMPTS) return NULL;
    const d_step *step = &r->plan->steps[pos];
    const d_source *src = source_of(r, pos);
    d_attempt *a = &r->attempts[r->n_attempts++];
    memset(a, 0, sizeof *a);
    a->step_pos = pos;
    a->route_hop = hop;
    a->timeout_budget_ms = d_budget_step(rem, src->timeout_policy_ms);
    a->budget_cut = rem < src->timeout_policy_ms;
    a->budget_before_ms = rem;
    a->sent_at_unix_ms = now_unix(r);
    a->deadline_unix_ms = a->sent_at_unix_ms + a->timeout_budget_ms;
    char path[64];
    snprintf(path, sizeof path, "%s:%d", r->plan->route_plan_id, step->step_index);
    d_budget_keys k = { .source_id = src->source_id, .opportunity_key = r->ctx->opportunity_key,
                        .request_key = r->ctx->request_key, .attempt_key = r->ctx->attempt_key,
                        .route_path = path, .route_hop = hop };
    d_source_request_id(&k, a->source_request_id, sizeof a->source_request_id);
    return a;
}

/* Sends one step (or resolves it locally). -1 on ENOMEM. */
static int dispatch(d_run *r, int pos, int64_t rem, int hop)
{
    d_step *step = &r->plan->steps[pos];
    const d_source *src = source_of(r, pos);
    if (src->status != D_ST_ACTIVE && src->status != D_ST_DRAINING) {
        step->status = D_STEP_SKIPPED;   /* d_adapter_status_not_active */
        d_copy_str(r->leaving_from, sizeof r->leaving_from, src->source_id);
        r->leaving_reason = "policy_block";
        return 0;
    }
    switch_to(r, src->source_id);
    d_attempt *a = new_attempt(r, pos, rem, hop);
    if (!a) return 0;
    step->status = D_STEP_RUNNING;
    r->last_tier_sent = step->tier;
    if (step->tier == D_TIER_FALLBACK) r->fallback_used = 1;
    const d_adapter *ad = d_adapter_get((d_adapter_kind)src->adapter_kind);
    d_adapt_in in;
    fill_adapt_in(r, src, a, &in);
    char *payload = NULL;
    size_t len = 0;
    med_err e;
    med_err_clear(&e);
    if (!ad || ad->adapt_request(&in, &payload, &len, &e) != MED_OK) {
        if (e.rc == MED_ERR_NOMEM) return -1;
        d_parsed bad = { .kind = D_PARSE_HTTP_ERROR };
        d_response resp = { .transport = D_TR_OK, .http_status = 400 };
        return complete(r, a, &resp, &bad);   /* adapt failure: d_en_invalid_request */
    }
    if (!ad->needs_network && !ad->breaker_gated) return answer_local(r, a, ad, &in);
    char key[D_BREAKER_KEY_MAX];
    if (!d_breaker_allow(r->breakers, breaker_key(r, src, key, sizeof key), now_unix(r))) {
        free(payload);
        return complete_now(r, a, D_TR_CIRCUIT_OPEN, NULL);
    }
    a->sent = 1;
    if (!ad->needs_network) {
        free(payload);
        return answer_local(r, a, ad, &in);
    }
    d_pending *p = &r->pending[r->n_pending++];
    memset(p, 0, sizeof *p);
    p->attempt = (int)(a - r->attempts);
    p->payload = payload;
    p->payload_len = len;
    p->endpoint = src->endpoint;
    p->timeout_ms = a->timeout_budget_ms;
    return 0;
}

static void end_budget(d_run *r, int pos, int64_t rem)
{
    r->trigger_step_index = r->plan->steps[pos].step_index;
    r->sc_budget_before = rem;
    r->sc_budget_after = rem;
    end_route(r, D_END_BUDGET, MED_R_D_ROUTE_BUDGET_EXHAUSTED, D_TIER_NONE);
}

static void finish_exhausted(d_run *r)
{
    if (r->n_attempts == 0) {
        end_route(r, D_END_NO_SOURCE, MED_R_D_ROUTE_NO_AVAILABLE_SOURCE, D_TIER_NONE);
        return;
    }
    const d_attempt *last = &r->attempts[r->n_attempts - 1];
    r->trigger_step_index = last->outcome.step_index;
    r->sc_budget_before = last->budget_before_ms;
    r->sc_budget_after = last->budget_after_ms;
    if (r->any_no_fill_or_timeout)
        end_route(r, D_END_EXHAUSTED_NO_FILL, last->outcome.reason_code, D_TIER_NONE);
    else
        end_route(r, D_END_ALL_ERRORS, last->outcome.reason_code,
                  r->plan->steps[last->step_pos].tier);
}

static int fallback_allowed(const d_run *r)
{
    d_fallback_policy p = r->ctx->strategy.fallback_policy;
    if (p == D_FB_DISABLED) return 0;
    return p == D_FB_ON_NO_FILL_OR_ERROR || r->all_no_fill;
}

static int batch_size(const d_run *r, int pos)
{
    int b = r->plan->steps[pos].batch_index, n = 1;
    while (b && pos + n < r->plan->n_steps && r->plan->steps[pos + n].batch_index == b) n++;
    return n;
}

static int start_group(d_run *r)
{
    int pos = r->next_step;
    const d_step *step = &r->plan->steps[pos];
    if (step->tier == D_TIER_FALLBACK && !r->fallback_entered) {
        if (!fallback_allowed(r)) {
            finish_exhausted(r);
            return 0;
        }
        r->fallback_entered = 1;
        if (r->leaving_from[0]) r->leaving_reason = "strategy_fallback";
    }
    int64_t rem = remaining(r);
    if (rem <= 0) {
        end_budget(r, pos, rem);
        return 0;
    }
    int count = batch_size(r, pos);
    r->group_first = pos;
    r->group_count = count;
    r->group_batch = step->batch_index != 0;
    r->group_started_ms = r->elapsed_ms;
    r->group_attempt_first = r->n_attempts;
    r->next_step = pos + count;
    for (int i = 0; i < count; i++)
        if (dispatch(r, pos + i, rem, 1) != 0) return -1;
    return 0;
}

static int start_retry(d_run *r)
{
    r->retry_pending = 0;
    const d_attempt *prev = &r->attempts[r->n_attempts - 1];
    int64_t rem = remaining(r);
    if (rem <= 0) {
        end_budget(r, r->group_first, rem);
        return 0;
    }
    r->group_attempt_first = r->n_attempts;
    return dispatch(r, r->group_first, rem, prev->route_hop + 1);
}

static void serve(d_run *r)
{
    d_candidate_rank(&r->group_cands);
    r->winners = r->group_cands;
    memset(&r->group_cands, 0, sizeof r->group_cands);
    const d_candidate *w = &r->winners.items[0];
    r->hit_step_index = w->step_index;
    r->trigger_step_index = w->step_index;
    for (int i = r->group_attempt_first; i < r->n_attempts; i++)
        if (r->attempts[i].outcome.step_index == w->step_index) {
            r->sc_budget_before = r->attempts[i].budget_before_ms;
            r->sc_budget_after = r->attempts[i].budget_after_ms;
        }
    for (int i = r->group_first; i < r->group_first + r->group_count; i++)
        r->plan->steps[i].status = D_STEP_FINISHED;
    end_route(r, D_END_SERVED, MED_R_D_ROUTE_SHORT_CIRCUIT_SERVED, w->tier);
}

/* After every dispatch of the step/batch finished: serve, retry or move on. */
static void finish_group(d_run *r)
{
    if (r->group_cands.n > 0) {
        serve(r);
        return;
    }
    int first = r->group_attempt_first;
    if (r->n_attempts <= first) return;   /* every member skipped for its status */
    const d_attempt *last = &r->attempts[r->n_attempts - 1];
    if (!r->group_batch && last->outcome.action == D_ACT_RETRY_SAME_SOURCE) {
        r->retry_pending = 1;
        return;
    }
    for (int i = first; i < r->n_attempts; i++) {
        if (r->attempts[i].outcome.type != D_OUT_NO_FILL) r->all_no_fill = 0;
        r->plan->steps[r->attempts[i].step_pos].status = D_STEP_FINISHED;
    }
    if (r->group_batch) {
        d_copy_str(r->leaving_from, sizeof r->leaving_from, "parallel_batch");
        r->leaving_reason = "strategy_fallback";
    } else {
        d_copy_str(r->leaving_from, sizeof r->leaving_from, source_of(r, last->step_pos)->source_id);
        r->leaving_reason = d_outcome_switch_reason(&last->outcome);
    }
}

static int consume_pending(d_run *r)
{
    int rc = 0;
    for (int i = 0; i < r->n_pending; i++) {
        d_pending *p = &r->pending[i];
        d_attempt *a = &r->attempts[p->attempt];
        const d_source *src = source_of(r, a->step_pos);
        const d_adapter *ad = d_adapter_get((d_adapter_kind)src->adapter_kind);
        d_adapt_in in;
        fill_adapt_in(r, src, a, &in);
        d_parsed parsed;
        memset(&parsed, 0, sizeof parsed);
        int parse = p->resp.transport == D_TR_OK && ad && ad->parse_response;
        if (parse) ad->parse_response(&in, &p->resp, &parsed);
        if (rc == 0 && complete(r, a, &p->resp, parse ? &parsed : NULL) != 0) rc = -1;
        d_parsed_clear(&parsed);
        free(p->payload);
        p->payload = NULL;
    }
    r->n_pending = 0;
    return rc;
}

med_rc d_run_advance(d_run *r, med_err *err)
{
    if (r->end != D_END_NONE) return MED_OK;
    int rc = 0;
    if (r->n_pending > 0) {
        rc = consume_pending(r);
        if (rc == 0) finish_group(r);
    }
    while (rc == 0 && r->end == D_END_NONE && r->n_pending == 0) {
        if (r->retry_pending) rc = start_retry(r);
        else if (r->next_step >= r->plan->n_steps) finish_exhausted(r);
        else rc = start_group(r);
        if (rc == 0 && r->end == D_END_NONE && r->n_pending == 0) finish_group(r);
    }
    if (rc != 0)
        return med_err_set(err, MED_ERR_NOMEM, MED_R_D_ROUTE_SHORT_CIRCUIT_EXHAUSTED, NULL,
                           "ENOMEM while routing");
    return MED_OK;
}

const char *d_run_final_source(const d_run *r)
{
    return r->end == D_END_SERVED && r->winners.n ? r->winners.items[0].source_id : "none";
}

void d_run_free(d_run *r)
{
    for (int i = 0; i < r->n_pending; i++) free(r->pending[i].payload);
    r->n_pending = 0;
    d_cand_list_free(&r->group_cands);
    d_cand_list_free(&r->winners);
    d_mapping_log_free(&r->mappings);
}
