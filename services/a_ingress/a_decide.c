/* A.1 order: decode -> L1 -> identity -> config -> L2 -> dedup + keys ->
 * mapping -> budget. The first rule that fires is primary; later degrade
 * codes are secondary (A.8). */
#include "a_decide.h"

#include <stdio.h>
#include <string.h>

#include "a_types.h"
#include "med/reason.h"

static void add_secondary(a_decision *d, const char *code)
{
    if (!code || d->n_secondary >= A_MAX_SECONDARY) return;
    for (size_t i = 0; i < d->n_secondary; i++)
        if (strcmp(d->secondary[i], code) == 0) return;
    if (d->reason_code && strcmp(d->reason_code, code) == 0) return;
    d->secondary[d->n_secondary++] = code;
}

static void reject_reply(a_decision *d, const med_err *err)
{
    d->kind = A_KIND_REJECT_REPLY;
    d->reason_code = err->code[0] ? med_reason_lookup(err->code) : MED_R_A_TRG_INTERNAL_UNAVAILABLE;
    if (!d->reason_code) d->reason_code = MED_R_A_TRG_INVALID_CONTEXT_STRUCTURE;
    d->trigger_action = A_ACT_REJECT;
    d->error_action = A_ERR_REJECT;
    d->decision_outcome = A_OUT_INELIGIBLE;
    d->decision_action = A_ACT_REJECT;
    d->retryable = 0;
    snprintf(d->field, sizeof d->field, "%s", err->field);
    snprintf(d->message, sizeof d->message, "%s", err->message);
}

static void terminal(a_decision *d, const char *code, const char *action, const char *hint)
{
    d->kind = A_KIND_TERMINAL;
    d->reason_code = code;
    d->decision_action = action;
    d->delivery_status_hint = hint;
}

void a_decision_internal_unavailable(a_decision *d, const char *why)
{
    med_err e;
    med_err_clear(&e);
    med_err_set(&e, MED_ERR_UNAVAILABLE, MED_R_A_TRG_INTERNAL_UNAVAILABLE, NULL, "%s",
                why ? why : "internal dependency unavailable");
    reject_reply(d, &e);
    d->retryable = 1;
}

/* Best effort keys for a decision that stops before the dedup step (a
 * config reject): E still needs a request key to answer under. */
static void keys_without_dedup(a_request *req, a_decision *d, const a_decide_in *in)
{
    med_err e;
    if (a_request_check_semantics(req, in->received_at_ms, A_CLOCK_SKEW_LIMIT_MS, &e) != MED_OK)
        return;
    a_sensing s;
    a_taxonomy_map(req->trigger_type, NULL, req->has_intent_score, req->intent_score, &s, &e);
    a_dedup_compute(req->app_id, req->session_id, req->placement_id, s.trigger_type,
                    req->trigger_at_ms, req->client_request_id, &d->dkey);
    d->has_dkey = 1;
    a_keys_input ki = {.dedup_key = d->dkey.dedup_key,
                       .trigger_contract_version = req->trigger_contract_version,
                       .ingress_envelope_version = req->ingress_envelope_version,
                       .placement_id = req->placement_id, .trace_hint = req->trace_hint,
                       .has_client_request_id = req->client_request_id != NULL,
                       .request_at_ms = req->request_at_ms};
    d->has_keys = a_keys_derive(&ki, &d->keys, &e) == MED_OK;
}

static int placement_known(const json_t *doc, const char *placement_id)
{
    if (!json_is_object(doc)) return 0;
    const json_t *id = json_object_get(doc, "placementId");
    return !json_is_string(id) || strcmp(json_string_value(id), placement_id) == 0;
}

static int l2_checks(const a_decide_in *in, a_request *req, a_decision *d)
{
    med_err e;
    med_err_clear(&e);
    if (a_request_check_semantics(req, in->received_at_ms, A_CLOCK_SKEW_LIMIT_MS, &e) != MED_OK) {
        reject_reply(d, &e);
        return 0;
    }
    if (!placement_known(in->placement_doc, req->placement_id)) {
        med_err_set(&e, MED_ERR_INVALID, MED_R_A_TRG_INVALID_PLACEMENT_ID, "placementId",
                    "placementId does not resolve to a placement");
        reject_reply(d, &e);
        return 0;
    }
    med_rc rc = a_taxonomy_map(req->trigger_type, in->placement_doc, req->has_intent_score,
                               req->intent_score, &d->sensing, &e);
    d->has_sensing = 1;
    if (rc != MED_OK) {
        reject_reply(d, &e);
        add_secondary(d, d->sensing.mapping_code);
        return 0;
    }
    return 1;
}

int a_decide_parse(const a_decide_in *in, const char *body, size_t len, a_request *req,
                   a_decision *d)
{
    memset(d, 0, sizeof *d);
    med_err e;
    med_err_clear(&e);
    if (a_request_parse(body, len, in->versions, req, &e) != MED_OK ||
        a_request_check_identity(req, in->med_app, &e) != MED_OK) {
        reject_reply(d, &e);
        return 0;
    }
    return 1;
}

int a_decide_config(const a_decide_in *in, a_request *req, a_decision *d)
{
    a_config_classify(in->config_status, &d->cfg);
    if (d->cfg.reject) {
        keys_without_dedup(req, d, in);
        d->trigger_action = A_ACT_REJECT;
        d->error_action = A_ERR_REJECT;
        d->decision_outcome = A_OUT_INELIGIBLE;
        terminal(d, d->cfg.a_code, A_ACT_REJECT, "error");
        return 0;
    }
    if (!l2_checks(in, req, d)) return 0;
    a_dedup_compute(req->app_id, req->session_id, req->placement_id, d->sensing.trigger_type,
                    req->trigger_at_ms, req->client_request_id, &d->dkey);
    d->has_dkey = 1;
    return 1;
}

int a_decide_front(const a_decide_in *in, const char *body, size_t len, a_request *req,
                   a_decision *d)
{
    int parsed = a_decide_parse(in, body, len, req, d);
    a_config_classify(in->config_status, &d->cfg);
    return parsed && a_decide_config(in, req, d);
}

static void duplicate(const a_dedup_record *rec, a_decision *d)
{
    d->first = *rec;
    a_keys_from_record(rec, &d->keys);
    d->has_keys = 1;
    d->trigger_action = A_ACT_NO_OP;
    d->error_action = A_ERR_ALLOW;
    if (d->dedup.state == A_DEDUP_INFLIGHT_DUPLICATE) {
        d->decision_outcome = A_OUT_INELIGIBLE;
        terminal(d, MED_R_A_TRG_DUPLICATE_INFLIGHT, A_ACT_NO_OP, "no_fill");
    } else {
        /* d->first, not rec: the decision outlives the caller's record. */
        d->decision_outcome =
            d->first.decision_outcome[0] ? d->first.decision_outcome : A_OUT_INELIGIBLE;
        terminal(d, MED_R_A_TRG_DUPLICATE_REUSED_RESULT, A_ACT_NO_OP, "no_fill");
    }
    add_secondary(d, d->cfg.a_code);
}

static int derive_keys(const a_decide_in *in, const a_request *req, const a_dedup_record *rec,
                       a_decision *d)
{
    (void)in;
    med_err e;
    a_keys_input ki = {
        .dedup_key = d->dkey.dedup_key, .generation = d->dedup.generation,
        .trigger_contract_version = req->trigger_contract_version,
        .ingress_envelope_version = req->ingress_envelope_version,
        .placement_id = req->placement_id, .trace_hint = req->trace_hint,
        .inherited_trace_key = rec && d->dedup.keep_trace_key ? rec->trace_key : NULL,
        .has_client_request_id = req->client_request_id != NULL,
        .request_at_ms = req->request_at_ms,
    };
    if (a_keys_derive(&ki, &d->keys, &e) != MED_OK) {
        a_decision_internal_unavailable(d, e.message);
        return 0;
    }
    d->has_keys = 1;
    return 1;
}

/* Mapping said no_op (ineligible, blocked or overridden): the mapping
 * code is primary, degrade codes secondary. */
static void mapping_no_op(a_decision *d)
{
    d->trigger_action = A_ACT_NO_OP;
    d->error_action = A_ERR_ALLOW;
    d->decision_outcome = d->sensing.decision_outcome;
    terminal(d, d->sensing.mapping_code,
             strcmp(d->sensing.decision_action, "block") == 0 ? "block" : A_ACT_NO_OP, "no_fill");
    add_secondary(d, d->cfg.a_code);
}

static void create_or_budget_reject(const a_decide_in *in, a_decision *d)
{
    a_budget_check(in->received_at_ms, in->now_ms, in->soft_budget_ms, in->hard_budget_ms,
                   &d->budget);
    d->has_budget = 1;
    if (d->budget.latency_reason_code &&
        strcmp(d->budget.latency_reason_code, MED_R_A_TRG_HARD_BUDGET_EXCEEDED) == 0) {
        d->trigger_action = A_ACT_REJECT;
        d->error_action = A_ERR_REJECT;
        d->decision_outcome = A_OUT_INELIGIBLE;
        terminal(d, d->budget.latency_reason_code, A_ACT_REJECT, "error");
        add_secondary(d, d->cfg.a_code);
        add_secondary(d, d->sensing.mapping_code);
        return;
    }
    d->kind = A_KIND_CREATE;
    d->trigger_action = A_ACT_CREATE;
    d->decision_outcome = d->sensing.decision_outcome;
    const char *first_degrade = d->cfg.a_code ? d->cfg.a_code : d->budget.latency_reason_code;
    d->error_action = first_degrade ? A_ERR_DEGRADE : A_ERR_ALLOW;
    d->reason_code = first_degrade ? first_degrade : d->sensing.mapping_code;
    add_secondary(d, d->budget.latency_reason_code);
    add_secondary(d, d->sensing.mapping_code);
}

void a_decide_back(const a_decide_in *in, const a_request *req, const a_dedup_record *rec,
                   int redis_down, a_decision *d)
{
    d->has_dedup = 1;
    d->dedup_degraded = redis_down;
    if (redis_down) rec = NULL;
    a_dedup_decide(rec, in->received_at_ms, in->dedup_window_sec, in->stream_seq, req->app_id,
                   req->session_id, req->placement_id, &d->dedup);
    if (d->dedup.state == A_DEDUP_INFLIGHT_DUPLICATE || d->dedup.state == A_DEDUP_REUSED_RESULT) {
        duplicate(rec, d);
        return;
    }
    if (!derive_keys(in, req, rec, d)) return;
    if (strcmp(d->sensing.trigger_action, A_ACT_NO_OP) == 0) {
        mapping_no_op(d);
        return;
    }
    create_or_budget_reject(in, d);
}

void a_decision_record(const a_decision *d, const a_request *req, int64_t now_ms,
                       uint64_t stream_seq, const char *state, a_dedup_record *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->state, sizeof out->state, "%s", state);
    out->first_seen_at_ms = d->has_dedup ? d->dedup.first_seen_at_ms : now_ms;
    out->generation = d->dedup.generation;
    out->owner_stream_seq = stream_seq;
    snprintf(out->request_key, sizeof out->request_key, "%s", d->keys.request_key);
    snprintf(out->attempt_key, sizeof out->attempt_key, "%s", d->keys.attempt_key);
    snprintf(out->trace_key, sizeof out->trace_key, "%s", d->keys.trace_key);
    snprintf(out->opportunity_key, sizeof out->opportunity_key, "%s", d->keys.opportunity_key);
    snprintf(out->imp_key, sizeof out->imp_key, "%s", d->keys.imp_key);
    snprintf(out->generated_client_id, sizeof out->generated_client_id, "%s",
             d->keys.generated_client_id);
    snprintf(out->app_id, sizeof out->app_id, "%s", req->app_id);
    snprintf(out->session_id, sizeof out->session_id, "%s", req->session_id);
    snprintf(out->placement_id, sizeof out->placement_id, "%s", req->placement_id);
    if (strcmp(state, A_DEDUP_COMPLETED) != 0) return;
    snprintf(out->trigger_action, sizeof out->trigger_action, "%s", d->trigger_action);
    snprintf(out->decision_outcome, sizeof out->decision_outcome, "%s", d->decision_outcome);
    snprintf(out->reason_code, sizeof out->reason_code, "%s", d->reason_code);
    if (d->kind == A_KIND_CREATE)
        snprintf(out->opportunity_ref, sizeof out->opportunity_ref, "%s", d->keys.opportunity_key);
}

int a_decision_alias_key(const a_decision *d, const a_request *req, char *out, size_t cap)
{
    if (cap) out[0] = '\0';
    if (!d->has_dkey || !d->has_keys || !d->has_dedup || req->client_request_id ||
        strcmp(d->dkey.source, A_DEDUP_SRC_COMPUTED) != 0 || !d->keys.generated_client_id[0])
        return 0;
    if (d->dedup.state == A_DEDUP_INFLIGHT_DUPLICATE || d->dedup.state == A_DEDUP_REUSED_RESULT)
        return 0;
    a_dedup_alias_key(req->app_id, d->keys.generated_client_id, out, cap);
    return 1;
}
