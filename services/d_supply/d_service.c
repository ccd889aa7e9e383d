#include "d_service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "d_adapter.h"
#include "d_input.h"
#include "d_output.h"
#include "d_redeliver.h"
#include "d_registry.h"
#include "d_route.h"
#include "d_store.h"
#include "med/ids.h"
#include "med/log.h"
#include "med/names.h"
#include "med/pbtrace.h"
#include "med/reason.h"
#include "mediation/v1/audit.pb-c.h"
#include "mediation/v1/compose.pb-c.h"

#define E_COMPOSE_INPUT_CONTRACT_VERSION "e_compose_input_contract_v1"

/* Everything one message needs between the batch phases. */
typedef struct d_job {
    Mediation__V1__PolicyDecision *pd;
    const med_rconfig_entry *cfg;
    d_input in;
    d_registry *reg;
    d_plan plan;
    d_run run;
    int planned;
    int skip;                        /* rcs already set: nothing to publish */
    d_guard guard;                   /* D.9 redelivery lock / stored output */
    int reuse;                       /* republish guard.reuse, route nothing */
    char check_code[D_CODE_MAX];
    int64_t start_mono_ms;
    int64_t start_unix_ms;
} d_job;

static const char *first_set(const char *a, const char *b)
{
    return a && a[0] ? a : b;
}

/* Config for the message, pinned to the hash A recorded. A missing answer
 * from H is retryable; a pin that cannot be honoured is check 6. */
static med_rc load_config(d_service *svc, const med_relay_in *in, d_job *j, med_err *err)
{
    const Mediation__V1__PolicyDecision *pd = j->pd;
    const Mediation__V1__TraceContext *tc = pd->trace;
    const Mediation__V1__PlacementMeta *pm =
        pd->routable_opportunity_lite && pd->routable_opportunity_lite->blocks
            ? pd->routable_opportunity_lite->blocks->placement_meta : NULL;
    med_rconfig_key key = {
        .tenant_id = first_set(in->headers->tenant, tc ? tc->tenant_id : ""),
        .app_id = first_set(in->headers->app, tc ? tc->app_id : ""),
        .placement_id = first_set(in->headers->placement, pm ? pm->placement_key : ""),
        .environment = svc->environment,
        .schema_version = pd->schema_version,
        /* The same key A resolved under (H requires sdkVersion). */
        .sdk_version = pd->device_capabilities_lite ? pd->device_capabilities_lite->sdk_version : "",
        .trace_key = in->headers->trace_key,
        .request_key = in->headers->request_key,
    };
    const char *pin = pd->config_snapshot_lite ? pd->config_snapshot_lite->config_hash : NULL;
    med_rconfig_status st = MED_RCFG_FRESH;
    med_rc rc = med_rconfig_get(svc->rconfig, &key, pin, &j->cfg, &st, err);
    if (rc != MED_OK) return rc;
    if (st == MED_RCFG_NONE_TIMEOUT || st == MED_RCFG_NONE_UNAVAILABLE)
        return med_err_set(err, MED_ERR_UNAVAILABLE, MED_R_D_INVALID_CONFIG_SNAPSHOT, NULL,
                           "config unavailable (%s)", med_rconfig_status_name(st));
    return MED_OK;
}

/* D.9: nak delayed by the rest of the holder's budget (the consumer naks
 * with err->retry_after_ms instead of its ladder). d_rd_decide never waits
 * on the last delivery, so this never ends in a dead letter. */
static med_rc wait_for_holder(const d_job *j, med_err *err)
{
    int64_t delay = j->guard.verdict.delay_ms;
    med_rc rc = med_err_set(err, MED_ERR_UNAVAILABLE, MED_R_D_REDELIVERY_IN_FLIGHT, NULL,
                            "another delivery is routing this opportunity (%s); back in %lld ms",
                            j->guard.verdict.why, (long long)delay);
    err->retry_after_ms = delay;
    return rc;
}

static int64_t strategy_timeout(const Mediation__V1__RoutingContextLite *rc)
{
    return rc && rc->execution_strategy_lite ? rc->execution_strategy_lite->strategy_timeout_ms : 0;
}

/* D.9 before any work: a redelivery whose output is stored is republished
 * as is; one that another delivery is still routing waits for it. Returns
 * 1 when the job is settled here. */
static int guard(d_service *svc, const med_relay_in *in, d_job *j, med_rc *rc, med_err *err)
{
    const Mediation__V1__PolicyDecision *pd = j->pd;
    const Mediation__V1__TraceKeys *k = pd->c_policy_decision_lite ? pd->c_policy_decision_lite->keys : NULL;
    const Mediation__V1__RoutingContextLite *rcl = pd->routing_context_lite;
    d_guard_in gi = {
        .env = svc->app_env,
        .tenant = first_set(in->headers->tenant, pd->trace ? pd->trace->tenant_id : ""),
        .opportunity_key = k ? k->opportunity_key : NULL,
        .attempt_key = k ? k->attempt_key : NULL,
        .owner = in->instance,
        .deadline_unix_ms = d_rd_deadline(in->now_unix_ms, rcl ? rcl->route_budget_ms : 0,
                                          strategy_timeout(rcl)),
        .now_unix_ms = med_now_unix_ms(),
        .last_delivery = !in->info || in->info->num_delivered >= (uint64_t)svc->max_deliver,
    };
    d_store_begin(svc->store, &gi, &j->guard);
    switch (j->guard.verdict.action) {
    case D_RD_REUSE:
        j->reuse = 1;
        return 1;
    case D_RD_WAIT:
        *rc = wait_for_holder(j, err);
        j->skip = 1;
        return 1;
    case D_RD_RUN:
        break;
    }
    return 0;
}

static void reject(d_job *j, const char *code)
{
    snprintf(j->check_code, sizeof j->check_code, "%s", code);
    d_run_init(&j->run, &j->in.ctx, NULL, NULL, j->start_unix_ms);
    d_run_reject(&j->run, code);
}

/* D.1 checks, registry, plan. Leaves the job either rejected or with a
 * run ready to advance. */
static void prepare(d_service *svc, const med_relay_in *in, d_job *j, med_rc *rc, med_err *err)
{
    j->start_mono_ms = med_mono_ms();
    j->start_unix_ms = in->now_unix_ms;
    j->pd = mediation__v1__policy_decision__unpack(NULL, in->len, in->data);
    if (!j->pd) {
        *rc = med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_DECODE_FAILED, NULL,
                          "payload is not a PolicyDecision");
        j->skip = 1;
        return;
    }
    if (guard(svc, in, j, rc, err)) return;
    med_rc crc = load_config(svc, in, j, err);
    if (crc != MED_OK) {
        *rc = crc;
        j->skip = 1;
        return;
    }
    med_err e;
    med_err_clear(&e);
    const char *hash = j->cfg ? med_rconfig_config_hash(j->cfg) : NULL;
    if (d_input_check(j->pd, hash, &j->in, &e) != MED_OK) {
        reject(j, e.code);
        return;
    }
    j->reg = malloc(sizeof *j->reg);
    const json_t *rp = med_rconfig_doc(j->cfg, "route_policy");
    if (!j->reg || d_registry_build(rp, j->reg, &e) != MED_OK ||
        d_input_merge_bwl(&j->in.cons, med_rconfig_doc(j->cfg, "black_white_list")) != 0 ||
        d_input_check_supply(&j->in, j->reg, &e) != MED_OK) {
        if (!j->reg || e.rc == MED_ERR_NOMEM) {
            *rc = med_err_set(err, MED_ERR_NOMEM, MED_R_D_INVALID_SUPPLY_CONTEXT, NULL, "ENOMEM");
            j->skip = 1;
            return;
        }
        reject(j, e.code[0] ? e.code : MED_R_D_INVALID_SUPPLY_CONTEXT);
        return;
    }
    if (d_plan_build(&j->in.ctx, &j->plan, &e) != MED_OK) {
        *rc = med_err_set(err, MED_ERR_NOMEM, MED_R_D_ROUTE_NO_AVAILABLE_SOURCE, NULL, "ENOMEM");
        j->skip = 1;
        return;
    }
    j->planned = 1;
    j->in.ctx.tenant_id = first_set(in->headers->tenant, j->pd->trace ? j->pd->trace->tenant_id : "");
    d_run_init(&j->run, &j->in.ctx, &j->plan, &svc->breakers, j->start_unix_ms);
}

/* One round: every job advances; all pending dispatches of the batch go
 * out together on the multi handle. Returns how many were sent. A run
 * whose previous round already scheduled its next dispatches (a retry,
 * the next step) is not advanced first: that would consume them unsent. */
static size_t route_round(d_service *svc, d_job *jobs, size_t n, med_rc *rcs, med_err *errs)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (jobs[i].skip || !jobs[i].planned) continue;
        d_run_sync_clock(&jobs[i].run, med_mono_ms() - jobs[i].start_mono_ms);
        if (jobs[i].run.n_pending == 0 && d_run_advance(&jobs[i].run, &errs[i]) != MED_OK) {
            rcs[i] = errs[i].rc;
            jobs[i].skip = 1;
            continue;
        }
        total += (size_t)jobs[i].run.n_pending;
    }
    if (!total) return 0;
    d_http_req *reqs = calloc(total, sizeof *reqs);
    if (!reqs) return 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (jobs[i].skip || !jobs[i].planned) continue;
        for (int p = 0; p < jobs[i].run.n_pending; p++, k++) {
            d_pending *pd = &jobs[i].run.pending[p];
            reqs[k] = (d_http_req){ .url = pd->endpoint, .body = pd->payload,
                                    .body_len = pd->payload_len, .timeout_ms = pd->timeout_ms };
        }
    }
    d_http_perform(svc->http, reqs, total);
    k = 0;
    for (size_t i = 0; i < n; i++) {
        if (jobs[i].skip || !jobs[i].planned) continue;
        for (int p = 0; p < jobs[i].run.n_pending; p++, k++) jobs[i].run.pending[p].resp = reqs[k].resp;
        d_run_sync_clock(&jobs[i].run, med_mono_ms() - jobs[i].start_mono_ms);
        if (d_run_advance(&jobs[i].run, &errs[i]) != MED_OK) {   /* consumes the responses */
            rcs[i] = errs[i].rc;
            jobs[i].skip = 1;
        }
    }
    for (size_t r = 0; r < total; r++) d_http_req_clear(&reqs[r]);
    free(reqs);
    return total;
}

static Mediation__V1__EInputVersionAnchorsLite *e_anchors(const d_job *j,
                                                          Mediation__V1__EInputVersionAnchorsLite *v)
{
    const Mediation__V1__PolicyDecision *pd = j->pd;
    mediation__v1__einput_version_anchors_lite__init(v);
    v->e_compose_input_contract_version = E_COMPOSE_INPUT_CONTRACT_VERSION;
    v->d_output_contract_version = D_OUTPUT_CONTRACT_VERSION;
    v->schema_version = pd->schema_version;
    v->placement_config_version =
        pd->placement_spec_lite ? pd->placement_spec_lite->placement_config_version : "NA";
    v->render_policy_version = "NA";
    v->device_capability_profile_version =
        pd->device_capabilities_lite ? pd->device_capabilities_lite->device_capability_profile_version
                                     : "NA";
    v->routing_policy_version =
        pd->routing_context_lite ? pd->routing_context_lite->routing_policy_version : "NA";
    v->constraint_set_version =
        (char *)(j->in.ctx.constraint_set_version ? j->in.ctx.constraint_set_version : "NA");
    return v;
}

/* D.9: both outputs carry d:<opportunityKey>:<attemptKey> (they go to
 * different streams), so a re-run's publishes are dropped as duplicates. */
static void msg_id(const med_relay_in *in, const d_job *j, char *out, size_t cap)
{
    const Mediation__V1__CPolicyDecisionLite *cp = j->pd->c_policy_decision_lite;
    const Mediation__V1__TraceKeys *k = cp ? cp->keys : NULL;
    if (!k || d_rd_msg_id(k->opportunity_key, k->attempt_key, out, cap) != 0)
        med_relay_msg_id(in, "d", out, cap);
}

static med_rc publish_compose(const med_relay_in *in, d_job *j, const d_output *o,
                              const Mediation__V1__TraceContext *tc, med_relay_out *out, med_err *err)
{
    Mediation__V1__ComposeContextLite cc;
    mediation__v1__compose_context_lite__init(&cc);
    cc.compose_source_opt_case = MEDIATION__V1__COMPOSE_CONTEXT_LITE__COMPOSE_SOURCE_OPT_COMPOSE_SOURCE;
    cc.compose_source = "d_route";
    cc.compose_mode_opt_case = MEDIATION__V1__COMPOSE_CONTEXT_LITE__COMPOSE_MODE_OPT_COMPOSE_MODE;
    cc.compose_mode = "sync_delivery";
    cc.compose_request_at_unix_ms_opt_case =
        MEDIATION__V1__COMPOSE_CONTEXT_LITE__COMPOSE_REQUEST_AT_UNIX_MS_OPT_COMPOSE_REQUEST_AT_UNIX_MS;
    cc.compose_request_at_unix_ms = in->now_unix_ms;
    Mediation__V1__EInputVersionAnchorsLite va;
    Mediation__V1__EComposeInputLite eci;
    mediation__v1__ecompose_input_lite__init(&eci);
    eci.d_to_e_output_lite = o->dto;
    eci.placement_spec_lite = j->pd->placement_spec_lite;
    eci.device_capabilities_lite = j->pd->device_capabilities_lite;
    eci.compose_context_lite = &cc;
    eci.version_anchors = e_anchors(j, &va);
    Mediation__V1__ComposeInput ci;
    mediation__v1__compose_input__init(&ci);
    ci.trace = (Mediation__V1__TraceContext *)tc;
    ci.e_compose_input_lite = &eci;
    ci.compose_source = "d_route";
    ci.version_anchor_snapshot = j->pd->version_anchor_snapshot;
    ci.published_at_unix_ms = med_now_unix_ms();
    uint8_t *buf = NULL;
    size_t len = 0;
    med_rc rc = med_pb_pack(&ci.base, &buf, &len, err);
    if (rc != MED_OK) return rc;
    char id[192];
    msg_id(in, j, id, sizeof id);
    return med_relay_out_add(out, MED_SUBJ_E_COMPOSE, id, buf, len, 0, err);
}

static med_rc publish_audit(const med_relay_in *in, d_job *j, const d_output *o,
                            const Mediation__V1__TraceContext *tc, med_relay_out *out, med_err *err)
{
    Mediation__V1__StageAudit sa;
    mediation__v1__stage_audit__init(&sa);
    char id[192];
    msg_id(in, j, id, sizeof id);
    sa.trace = (Mediation__V1__TraceContext *)tc;
    sa.stage = MED_STAGE_D;
    sa.kind = "decision";
    sa.primary_reason_code = j->run.final_code;
    sa.anchor_hash = (char *)in->headers->anchor_hash;
    sa.version_anchor_snapshot = j->pd->version_anchor_snapshot;
    sa.started_at_unix_ms = j->start_unix_ms;
    sa.finished_at_unix_ms = med_now_unix_ms();
    sa.emitted_at_unix_ms = sa.finished_at_unix_ms;
    sa.audit_id = id;
    sa.instance = (char *)(in->instance ? in->instance : "");
    sa.decision_action = o->dto->route_conclusion->final_action;
    sa.snapshot_case = MEDIATION__V1__STAGE_AUDIT__SNAPSHOT_D_AUDIT;
    sa.d_audit = o->audit;
    uint8_t *buf = NULL;
    size_t len = 0;
    med_rc rc = med_pb_pack(&sa.base, &buf, &len, err);
    if (rc != MED_OK) return rc;
    return med_relay_out_add(out, MED_SUBJ_AUDIT_PREFIX MED_STAGE_D MED_SUBJ_VERSION_SUFFIX, id, buf,
                             len, 0, err);
}

/* D.8: a broken invariant is a defect: publish terminal_error instead. */
static med_rc build_output(d_job *j, d_output *o, med_err *err)
{
    const Mediation__V1__PolicyDecision *pd = j->pd;
    d_output_in oi = {
        .ctx = &j->in.ctx, .plan = j->planned ? &j->plan : NULL, .run = &j->run,
        .constraints = pd->c_policy_decision_lite ? pd->c_policy_decision_lite->constraints_lite : NULL,
        .strategy = pd->routing_context_lite ? pd->routing_context_lite->execution_strategy_lite : NULL,
        .check_code = j->check_code, .budget_corrected = j->in.budget_corrected,
        .now_unix_ms = med_now_unix_ms(),
    };
    med_rc rc = d_output_build(&oi, o, err);
    if (rc != MED_OK) return rc;
    const char *broken = d_output_check_invariants(o->dto);
    if (!broken) return MED_OK;
    med_log_ctx lc = { .error_code = broken };
    MED_LOGE(&lc, "D output invariant broken; publishing terminal_error");
    d_output_free(o);
    d_run_free(&j->run);
    reject(j, broken);
    oi.plan = NULL;
    oi.check_code = j->check_code;
    return d_output_build(&oi, o, err);
}

static med_rc emit(d_service *svc, const med_relay_in *in, d_job *j, med_relay_out *out, med_err *err)
{
    d_output o;
    med_rc rc = build_output(j, &o, err);
    if (rc != MED_OK) return rc;
    Mediation__V1__TraceContext tc;
    Mediation__V1__StageHop hop_storage;
    Mediation__V1__StageHop **hops = NULL;
    med_hop hop = { .stage = MED_STAGE_D, .instance = in->instance, .at_unix_ms = in->now_unix_ms };
    rc = med_pb_trace_with_hop(j->pd->trace, &hop, &tc, &hop_storage, &hops, err);
    if (rc == MED_OK) rc = publish_compose(in, j, &o, &tc, out, err);
    if (rc == MED_OK) rc = publish_audit(in, j, &o, &tc, out, err);
    /* Stored before the relay publishes: a publish that fails is retried
     * from this very output. */
    if (rc == MED_OK) d_store_output(svc->store, &j->guard, out);
    free(hops);
    d_output_free(&o);
    return rc;
}

static void job_free(d_service *svc, d_job *j)
{
    d_store_end(svc->store, &j->guard);
    d_run_free(&j->run);
    if (j->planned) d_plan_clear(&j->plan);
    if (j->reg) {
        d_registry_clear(j->reg);
        free(j->reg);
    }
    d_input_free(&j->in);
    if (j->cfg) med_rconfig_release(j->cfg);
    if (j->pd) mediation__v1__policy_decision__free_unpacked(j->pd, NULL);
}

static void bind(d_service *svc, med_service *s, const char *instance)
{
    if (svc->rconfig || !s) return;
    svc->rconfig = med_service_rconfig(s);
    svc->environment = med_service_config_environment(s);
    const med_config *cfg = med_service_config(s);
    svc->app_env = med_config_env_name(med_config_env(cfg));
    svc->max_deliver = (int)med_config_int(cfg, "JS_MAX_DELIVER");
    if (!svc->http) svc->http = d_http_new((size_t)med_config_int(cfg, "D_MAX_RESPONSE_BYTES"));
    /* Without it (ENOMEM) D runs unguarded, as when Redis is down. */
    if (!svc->store)
        svc->store = d_store_new(med_config_str(cfg, "REDIS_HOST"), (int)med_config_int(cfg, "REDIS_PORT"),
                                 (int)med_config_int(cfg, "D_REDIS_TIMEOUT_MS"),
                                 med_config_int(cfg, "D_REDELIVERY_WINDOW_SEC") * 1000);
    /* Without it (ENOMEM) the circuits stay process-local. */
    svc->breakers.open_ms = med_config_int(cfg, "D_BREAKER_OPEN_MS");
    if (!svc->breakers_shared)
        svc->breakers_shared = d_breaker_store_new(
            med_config_str(cfg, "REDIS_HOST"), (int)med_config_int(cfg, "REDIS_PORT"),
            (int)med_config_int(cfg, "D_REDIS_TIMEOUT_MS"), svc->app_env, instance,
            svc->breakers.open_ms);
    svc->breakers.port = d_breaker_store_port(svc->breakers_shared);
}

/* Adds the circuit of every breaker-gated step of j to keys (distinct, at
 * most D_BREAKER_MAX in all). */
static void circuits_of(const d_job *j, char (*keys)[D_BREAKER_KEY_MAX], size_t *n)
{
    for (int i = 0; i < j->plan.n_steps && *n < D_BREAKER_MAX; i++) {
        const d_source *src = &j->reg->sources[j->plan.steps[i].source];
        const d_adapter *ad = d_adapter_get((d_adapter_kind)src->adapter_kind);
        char key[D_BREAKER_KEY_MAX];
        if (!ad || !(ad->needs_network || ad->breaker_gated) ||
            d_breaker_key(j->in.ctx.tenant_id, src->source_id, key, sizeof key) != 0)
            continue;
        size_t k = 0;
        while (k < *n && strcmp(keys[k], key) != 0) k++;
        if (k == *n) memcpy(keys[(*n)++], key, sizeof key);
    }
}

/* D.2: the batch reads the circuits of its sources from Redis once (one
 * round trip per 64); what this replica records later in the batch goes
 * to Redis and into its view at once (d_breaker_record). */
static void sync_circuits(d_service *svc, const d_job *jobs, size_t n)
{
    if (!svc->breakers_shared) return;
    char (*keys)[D_BREAKER_KEY_MAX] = malloc(D_BREAKER_MAX * sizeof *keys);
    const char **kp = malloc(D_BREAKER_MAX * sizeof *kp);
    size_t nk = 0;
    for (size_t i = 0; keys && kp && i < n; i++)
        if (jobs[i].planned && !jobs[i].skip) circuits_of(&jobs[i], keys, &nk);
    for (size_t i = 0; i < nk; i++) kp[i] = keys[i];
    if (nk) d_breaker_store_sync(svc->breakers_shared, &svc->breakers, kp, nk, med_now_unix_ms());
    free(kp);
    free(keys);
}

void d_service_batch(void *ud, const med_relay_in *ins, size_t n, med_relay_out *outs,
                     med_rc *rcs, med_err *errs)
{
    d_service *svc = ud;
    if (n > 0) bind(svc, ins[0].svc, ins[0].instance);
    if (!svc->http || !svc->rconfig) {
        for (size_t i = 0; i < n; i++)
            rcs[i] = med_err_set(&errs[i], MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "D start-up");
        return;
    }
    d_job *jobs = calloc(n ? n : 1, sizeof *jobs);
    if (!jobs) {
        for (size_t i = 0; i < n; i++)
            rcs[i] = med_err_set(&errs[i], MED_ERR_NOMEM, MED_R_INFRA_ENCODE_FAILED, NULL, "ENOMEM");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        rcs[i] = MED_OK;
        prepare(svc, &ins[i], &jobs[i], &rcs[i], &errs[i]);
    }
    sync_circuits(svc, jobs, n);
    while (route_round(svc, jobs, n, rcs, errs) > 0) {
    }
    for (size_t i = 0; i < n; i++) {
        if (jobs[i].reuse && rcs[i] == MED_OK)
            rcs[i] = d_guard_republish(&jobs[i].guard, &outs[i], &errs[i]);
        else if (!jobs[i].skip && rcs[i] == MED_OK)
            rcs[i] = emit(svc, &ins[i], &jobs[i], &outs[i], &errs[i]);
        job_free(svc, &jobs[i]);
    }
    free(jobs);
}
