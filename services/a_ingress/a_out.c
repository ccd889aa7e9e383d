/* Decision -> outgoing protobuf messages. */
#include "a_out.h"

#include <string.h>

#include "a_json.h"
#include "a_types.h"

#define SYNC MEDIATION__V1__ATRIGGER_SYNC_RESULT_LITE
#define TINIT MEDIATION__V1__TRACE_INIT_LITE

static char *key_or_na(const a_decision *d, const char *k)
{
    return (char *)(d->has_keys && k && *k ? k : A_NA);
}

Mediation__V1__TraceInitLite *a_out_trace_init(med_arena *a, const a_decision *d)
{
    Mediation__V1__TraceInitLite *t = med_arena_alloc(a, sizeof *t);
    if (!t) return NULL;
    mediation__v1__trace_init_lite__init(t);
    t->trace_key = key_or_na(d, d->keys.trace_key);
    t->request_key = key_or_na(d, d->keys.request_key);
    t->attempt_key = key_or_na(d, d->keys.attempt_key);
    t->opportunity_key = key_or_na(d, d->keys.opportunity_key);
    t->imp_key = key_or_na(d, d->keys.imp_key);
    if (d->has_keys && d->keys.generated_client_id[0]) {
        t->generated_client_request_id_or_na_opt_case =
            A_OPT(TINIT, GENERATED_CLIENT_REQUEST_ID_OR_NA);
        t->generated_client_request_id_or_na = (char *)d->keys.generated_client_id;
    }
    return t;
}

Mediation__V1__ADedupSnapshotLite *a_out_dedup_snapshot(med_arena *a, const a_decision *d)
{
    if (!d->has_dkey) return NULL;
    Mediation__V1__ADedupSnapshotLite *s = med_arena_alloc(a, sizeof *s);
    if (!s) return NULL;
    mediation__v1__adedup_snapshot_lite__init(s);
    s->dedup_key_source = (char *)d->dkey.source;
    s->dedup_fingerprint_version = (char *)A_VER_DEDUP;
    s->dedup_state = (char *)a_dedup_state_name(d->dedup.state);
    s->dedup_degraded = d->dedup_degraded;
    s->dedup_key = (char *)d->dkey.dedup_key;
    s->computed_dedup_key = (char *)d->dkey.computed_dedup_key;
    s->generation = d->dedup.generation;
    s->first_seen_at_unix_ms = d->dedup.first_seen_at_ms;
    return s;
}

static void set_opportunity_ref(Mediation__V1__ATriggerSyncResultLite *r, const a_decision *d)
{
    const char *ref = d->kind == A_KIND_CREATE ? d->keys.opportunity_key
                      : d->dedup.state == A_DEDUP_REUSED_RESULT ? d->first.opportunity_ref
                                                                : NULL;
    if (!ref || !*ref) return;
    r->opportunity_ref_or_na_opt_case = A_OPT(SYNC, OPPORTUNITY_REF_OR_NA);
    r->opportunity_ref_or_na = (char *)ref;
}

Mediation__V1__ATriggerSyncResultLite *a_out_sync_result(med_arena *a, const a_decision *d,
                                                         const char *trigger_contract_version,
                                                         int64_t now_ms)
{
    Mediation__V1__ATriggerSyncResultLite *r = med_arena_alloc(a, sizeof *r);
    if (!r) return NULL;
    mediation__v1__atrigger_sync_result_lite__init(r);
    r->request_accepted = strcmp(d->trigger_action, A_ACT_REJECT) != 0;
    r->trigger_action = (char *)d->trigger_action;
    r->decision_outcome = (char *)d->decision_outcome;
    r->reason_code = (char *)d->reason_code;
    r->error_action = (char *)d->error_action;
    r->trace_init_lite = a_out_trace_init(a, d);
    set_opportunity_ref(r, d);
    r->retryable = d->retryable;
    r->returned_at_unix_ms = now_ms;
    r->trigger_contract_version =
        (char *)(trigger_contract_version ? trigger_contract_version : A_VER_TRIGGER_CONTRACT);
    if (d->has_keys && d->keys.generated_client_id[0]) {
        r->generated_client_request_id_or_na_opt_case =
            A_OPT(SYNC, GENERATED_CLIENT_REQUEST_ID_OR_NA);
        r->generated_client_request_id_or_na = (char *)d->keys.generated_client_id;
    }
    if (d->has_budget) {
        r->latency_decision_or_na_opt_case = A_OPT(SYNC, LATENCY_DECISION_OR_NA);
        r->latency_decision_or_na = (char *)d->budget.latency_decision;
    }
    r->secondary_reason_codes = (char **)d->secondary;
    r->n_secondary_reason_codes = d->n_secondary;
    r->a_dedup_snapshot_lite = a_out_dedup_snapshot(a, d);
    r->error_field_path = (char *)d->field;
    r->error_message = (char *)d->message;
    return r;
}

Mediation__V1__OpportunityRejectReply *a_out_reject_reply(med_arena *a, const a_decision *d,
                                                          Mediation__V1__TraceContext *trace,
                                                          int64_t now_ms)
{
    Mediation__V1__OpportunityRejectReply *r = med_arena_alloc(a, sizeof *r);
    Mediation__V1__ErrorBodyLite *e = med_arena_alloc(a, sizeof *e);
    if (!r || !e) return NULL;
    mediation__v1__opportunity_reject_reply__init(r);
    mediation__v1__error_body_lite__init(e);
    r->trace = trace;
    r->result = a_out_sync_result(a, d, NULL, now_ms);
    r->http_status = d->retryable ? 503 : 400;
    r->retry_after_sec = d->retryable ? A_RETRY_AFTER_SEC : 0;
    e->code = (char *)d->reason_code;
    e->message = (char *)(d->message[0] ? d->message : d->reason_code);
    if (d->field[0]) {
        e->field_opt_case = A_OPT(MEDIATION__V1__ERROR_BODY_LITE, FIELD);
        e->field = (char *)d->field;
    }
    r->error = e;
    return r;
}

Mediation__V1__ComposeInput *a_out_terminal_compose(med_arena *a, const a_decision *d,
                                                    const char *trigger_contract_version,
                                                    Mediation__V1__TraceContext *trace,
                                                    int64_t now_ms)
{
    Mediation__V1__ComposeInput *c = med_arena_alloc(a, sizeof *c);
    Mediation__V1__UpstreamTerminalLite *u = med_arena_alloc(a, sizeof *u);
    if (!c || !u) return NULL;
    mediation__v1__compose_input__init(c);
    mediation__v1__upstream_terminal_lite__init(u);
    c->trace = trace;
    c->compose_source = (char *)"a_terminal";
    c->a_trigger_sync_result_lite = a_out_sync_result(a, d, trigger_contract_version, now_ms);
    u->stage = (char *)"a";
    u->decision_action = (char *)d->decision_action;
    u->reason_code = (char *)d->reason_code;
    u->error_action = (char *)d->error_action;
    u->secondary_reason_codes = (char **)d->secondary;
    u->n_secondary_reason_codes = d->n_secondary;
    u->delivery_status_hint = (char *)d->delivery_status_hint;
    u->retryable = d->retryable;
    c->upstream_terminal = u;
    c->published_at_unix_ms = now_ms;
    return c;
}
