/* F.4 steps 1-9: everything F can decide about an event from the event
 * alone (and the batch's receivedAt). The first failing step decides; all
 * these rejects are final (retryable=false). */
#include "f_validate.h"

#include <jansson.h>
#include <string.h>

#include "med/rfc3339.h"
#include "f_dedup.h"
#include "f_keys.h"
#include "med/reason.h"

int f_ev_malformed(const Mediation__V1__SdkEvent *ev, const char *name)
{
    for (size_t i = 0; i < ev->n_malformed_fields; i++)
        if (ev->malformed_fields[i]->key && strcmp(ev->malformed_fields[i]->key, name) == 0)
            return 1;
    return 0;
}

f_event_type f_ev_internal_type(const Mediation__V1__SdkEvent *ev)
{
    f_event_type t = f_event_type_of(ev->event_type);
    return t == F_T_ERROR && f_event_is_terminal_error(ev) ? F_T_FAILURE : t;
}

static void reject(f_event_work *ew, const char *reason)
{
    ew->status = F_ACK_REJECTED;
    ew->reason = reason;
    ew->retryable = 0;
}

/* Step 1: an object with at least one field. */
static int step_object(const Mediation__V1__SdkEvent *ev)
{
    if (ev->invalid_event_json_opt_case) return 0;
    const char *req[] = {ev->event_id,    ev->event_type,      ev->event_at,   ev->trace_key,
                         ev->request_key, ev->attempt_key, ev->opportunity_key, ev->event_version};
    for (size_t i = 0; i < sizeof req / sizeof req[0]; i++)
        if (F_REQ(req[i])) return 1;
    return ev->n_malformed_fields || ev->n_extensions || ev->response_reference_opt_case ||
           ev->render_attempt_id_opt_case || ev->idempotency_key_opt_case;
}

/* Step 2. The wire never carries failure; only F's own synthesized event. */
static const char *step_type(const Mediation__V1__SdkEvent *ev, f_event_type *t)
{
    if (!F_REQ(ev->event_type) && !f_ev_malformed(ev, "eventType"))
        return MED_R_F_EVENT_MISSING_REQUIRED;
    *t = f_event_type_of(ev->event_type);
    if (*t == F_T_UNKNOWN || (*t == F_T_FAILURE && !ev->synthesized))
        return MED_R_F_EVENT_TYPE_UNSUPPORTED;
    return NULL;
}

/* Step 3. */
static int step_common(const Mediation__V1__SdkEvent *ev, f_event_type t)
{
    const char *req[] = {ev->event_id,    ev->event_type,  ev->event_at,        ev->trace_key,
                         ev->request_key, ev->attempt_key, ev->opportunity_key, ev->event_version};
    for (size_t i = 0; i < sizeof req / sizeof req[0]; i++)
        if (!F_REQ(req[i])) return 0;
    return !f_type_needs_response_reference(t) || F_OPT(ev, response_reference);
}

/* Step 4: a valid instant, not beyond receivedAt + the allowed skew. */
static int step_time(const f_batch_work *b, const Mediation__V1__SdkEvent *ev, int64_t *at)
{
    return med_rfc3339_parse(ev->event_at, at) == 0 &&
           *at <= b->received_at_ms + b->windows.future_skew_ms;
}

/* Step 5: repeatable types carry eventSeq (a malformed one is present; step
 * 11 judges its value). */
static int step_seq_present(const Mediation__V1__SdkEvent *ev, f_event_type t)
{
    return !f_type_has_seq(t) || ev->event_seq_opt_case || f_ev_malformed(ev, "eventSeq");
}

/* Step 6. renderAttemptId has the E.10 format: keys are |-joined, so a
 * '|' in it could make two closures share a billing key. */
static int step_type_fields(const Mediation__V1__SdkEvent *ev, f_event_type t)
{
    const char *ra = F_OPT(ev, render_attempt_id);
    if (ra && !f_token_valid(ra, 1, 128)) return 0;
    if (ev->render_attempt_id_opt_case && !ra) return 0; /* "" is not an id */
    switch (t) {
    case F_T_OPPORTUNITY_CREATED: return F_OPT(ev, placement_key) != NULL;
    case F_T_AUCTION_STARTED: return F_OPT(ev, auction_channel) != NULL;
    case F_T_AD_FILLED: return F_OPT(ev, creative_id) != NULL;
    case F_T_IMPRESSION: return ra && F_OPT(ev, creative_id);
    case F_T_CLICK: return ra && F_OPT(ev, click_target);
    case F_T_INTERACTION: return ra && F_OPT(ev, interaction_type);
    case F_T_POSTBACK: return F_OPT(ev, postback_type) && F_OPT(ev, postback_status);
    case F_T_ERROR:
        return F_OPT(ev, error_stage) && F_OPT(ev, error_code) &&
               (!f_event_is_terminal_error(ev) || ra);
    case F_T_FAILURE: return ra && F_REQ(ev->terminal_source) && F_OPT(ev, failure_reason_code);
    default: return 0;
    }
}

/* ---- step 7: sub-enum normalization ---- */

static char **subenum_slot(Mediation__V1__SdkEvent *ev, f_subenum f)
{
    switch (f) {
    case F_SE_AUCTION_CHANNEL: return ev->auction_channel_opt_case ? &ev->auction_channel : NULL;
    case F_SE_INTERACTION_TYPE: return ev->interaction_type_opt_case ? &ev->interaction_type : NULL;
    case F_SE_POSTBACK_TYPE: return ev->postback_type_opt_case ? &ev->postback_type : NULL;
    case F_SE_POSTBACK_STATUS: return ev->postback_status_opt_case ? &ev->postback_status : NULL;
    case F_SE_ERROR_STAGE: return ev->error_stage_opt_case ? &ev->error_stage : NULL;
    case F_SE_ERROR_CLASS: return ev->error_class_opt_case ? &ev->error_class : NULL;
    default: return NULL;
    }
}

/* Replaces unknown sub-enum values by "unknown" in an arena copy of the
 * event (the request stays as received) and keeps the raw values. */
static med_rc step_normalize(f_batch_work *b, f_event_work *ew)
{
    Mediation__V1__SdkEvent *copy = NULL;
    json_t *raw = NULL;
    for (int f = 0; f < F_SE_COUNT; f++) {
        char **slot = subenum_slot((Mediation__V1__SdkEvent *)ew->ev, (f_subenum)f);
        if (!slot || !*slot || !(*slot)[0] || f_subenum_known((f_subenum)f, *slot)) continue;
        if (!copy) {
            copy = MED_NEW(&b->arena, Mediation__V1__SdkEvent);
            raw = json_object();
            if (!copy || !raw) { json_decref(raw); return MED_ERR_NOMEM; }
            *copy = *ew->ev;
        }
        json_object_set_new(raw, f_subenum_json_name((f_subenum)f), json_string(*slot));
        *subenum_slot(copy, (f_subenum)f) = (char *)"unknown";
    }
    if (!copy) return MED_OK;
    char *text = json_dumps(raw, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(raw);
    if (!text || !med_arena_adopt(&b->arena, text)) return MED_ERR_NOMEM;
    ew->ev = copy;
    ew->subenum_unknown = 1;
    ew->raw_sub_enums_json = text;
    return MED_OK;
}

/* Step 9: the layer's dedup window bounds how old an event may be. */
static int step_fresh(const f_batch_work *b, const f_event_work *ew)
{
    int64_t window = ew->layer == F_LAYER_BILLING ? b->windows.billing_dedup_ms
                                                  : b->windows.diagnostics_dedup_ms;
    return b->received_at_ms - ew->event_at_ms <= window;
}

/* Steps 1-6; NULL when the event passes them. */
static const char *steps_1_to_6(f_batch_work *b, f_event_work *ew, f_event_type *t)
{
    const Mediation__V1__SdkEvent *ev = ew->ev;
    if (!step_object(ev)) return MED_R_F_EVENT_MISSING_REQUIRED;
    const char *r = step_type(ev, t);
    if (r) return r;
    if (!step_common(ev, *t)) return MED_R_F_EVENT_MISSING_REQUIRED;
    if (!step_time(b, ev, &ew->event_at_ms)) return MED_R_F_EVENT_TIME_INVALID;
    if (!step_seq_present(ev, *t)) return MED_R_F_EVENT_SEQ_MISSING_REQUIRED;
    if (!step_type_fields(ev, *t)) return MED_R_F_EVENT_MISSING_REQUIRED;
    return NULL;
}

med_rc f_validate_event(f_batch_work *b, f_event_work *ew)
{
    f_event_type t = F_T_UNKNOWN;
    const char *r = steps_1_to_6(b, ew, &t);
    if (r) return reject(ew, r), MED_OK;
    ew->layer = f_type_layer(t);
    ew->internal_type = f_event_type_name(f_ev_internal_type(ew->ev));
    ew->is_failure = f_ev_internal_type(ew->ev) == F_T_FAILURE;
    med_rc rc = step_normalize(b, ew);
    if (rc != MED_OK) return rc;
    f_dedup_key k;
    rc = f_dedup_compute(&b->arena, b->req->app_id, b->req->batch_id, ew->ev, t,
                         b->event_id_global_verified, &k);
    if (rc != MED_OK) return rc;
    ew->fingerprint = k.fingerprint;
    ew->idem_fallback = k.idem_fallback;
    ew->key_source = k.source ? k.source : F_KEY_SOURCE_NONE;
    ew->dedup_key = k.key;
    if (k.reject) return reject(ew, k.reject), MED_OK;
    if (!step_fresh(b, ew)) reject(ew, MED_R_F_EVENT_STALE_OUTSIDE_DEDUP_WINDOW);
    return MED_OK;
}

/* ---- lookup tables ---- */

int f_table_dedup(f_batch_work *b, const f_event_work *ew)
{
    for (size_t i = 0; i < b->n_dedup; i++)
        if (strcmp(b->dedup[i].key, ew->dedup_key) == 0) return (int)i;
    f_dedup_row *r = &b->dedup[b->n_dedup];
    memset(r, 0, sizeof *r);
    r->key = ew->dedup_key;
    r->fingerprint = ew->fingerprint;
    r->first_event = ew->index;
    r->expires_at_ms = b->received_at_ms + (ew->layer == F_LAYER_BILLING
                                                ? b->windows.billing_dedup_ms
                                                : b->windows.diagnostics_dedup_ms);
    return (int)b->n_dedup++;
}

int f_table_seq(f_batch_work *b, const char *scope)
{
    for (size_t i = 0; i < b->n_seqs; i++)
        if (strcmp(b->seqs[i].scope, scope) == 0) return (int)i;
    f_seq_row *r = &b->seqs[b->n_seqs];
    memset(r, 0, sizeof *r);
    r->scope = scope;
    return (int)b->n_seqs++;
}

int f_table_delivery(f_batch_work *b, const char *rr)
{
    for (size_t i = 0; i < b->n_deliveries; i++)
        if (strcmp(b->deliveries[i].response_reference, rr) == 0) return (int)i;
    f_delivery_row *r = &b->deliveries[b->n_deliveries];
    memset(r, 0, sizeof *r);
    r->response_reference = rr;
    return (int)b->n_deliveries++;
}

int f_table_closure(f_batch_work *b, const char *rr, const char *ra)
{
    char *key = f_closure_key(&b->arena, rr, ra);
    if (!key) return -1;
    for (size_t i = 0; i < b->n_closures; i++)
        if (strcmp(b->closures[i].closure_key, key) == 0) return (int)i;
    f_closure_row *r = &b->closures[b->n_closures];
    memset(r, 0, sizeof *r);
    r->closure_key = key;
    r->response_reference = rr;
    r->render_attempt_id = ra;
    return (int)b->n_closures++;
}

/* ---- phase 2 ---- */

/* Which events lock a closure row: the ones F.6 / F.7 read or change. */
static int uses_closure(f_event_type t)
{
    return t == F_T_AD_FILLED || t == F_T_IMPRESSION || t == F_T_CLICK || t == F_T_POSTBACK ||
           t == F_T_FAILURE;
}

static void add_lookups(f_batch_work *b, f_event_work *ew)
{
    const Mediation__V1__SdkEvent *ev = ew->ev;
    const char *rr = F_OPT(ev, response_reference), *ra = F_OPT(ev, render_attempt_id);
    f_event_type t = f_ev_internal_type(ev);
    if (ew->dedup_key) ew->dedup_row = f_table_dedup(b, ew);
    if (rr) ew->delivery_row = f_table_delivery(b, rr);
    if (f_type_has_seq(t) && ev->event_seq_opt_case && ev->event_seq >= 1) {
        char *scope = F_JOIN(&b->arena, b->req->app_id, rr, ra, ev->event_type);
        if (scope) ew->seq_row = f_table_seq(b, scope);
    }
    if (uses_closure(t) && rr && ra) ew->closure_row = f_table_closure(b, rr, ra);
}

/* A pending click past the terminal wait (f_batch_add_click_expiry): the
 * scanner already decided; it only needs its audit record. */
static void prepare_click_expiry(f_batch_work *b, f_event_work *ew)
{
    const Mediation__V1__SdkEvent *ev = ew->ev;
    ew->status = F_ACK_ACCEPTED;
    ew->layer = F_LAYER_BILLING;
    ew->internal_type = f_event_type_name(F_T_CLICK);
    ew->event_at_ms = b->received_at_ms;
    ew->key_source = F_KEY_SOURCE_NONE;
    ew->dedup_key = F_REQ(ev->internal_dedup_key);
    const char *rr = F_OPT(ev, response_reference);
    if (rr) ew->delivery_row = f_table_delivery(b, rr);
}

static med_rc alloc_tables(f_batch_work *b, size_t n)
{
    med_arena *a = &b->arena;
    b->events = MED_NEWN(a, f_event_work, n);
    b->dedup = MED_NEWN(a, f_dedup_row, n);
    b->seqs = MED_NEWN(a, f_seq_row, n);
    b->deliveries = MED_NEWN(a, f_delivery_row, n);
    b->closures = MED_NEWN(a, f_closure_row, n);
    b->n_events = b->n_dedup = b->n_seqs = b->n_deliveries = b->n_closures = 0;
    return b->events && b->dedup && b->seqs && b->deliveries && b->closures ? MED_OK
                                                                            : MED_ERR_NOMEM;
}

med_rc f_phase_validate(f_batch_work *b, med_err *err)
{
    if (!b->req || b->envelope_reason)
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_PERMANENT_FAILURE, NULL,
                           "validate needs a batch whose envelope passed");
    size_t n = b->req->n_events;
    if (alloc_tables(b, n) != MED_OK)
        return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        f_event_work *ew = &b->events[b->n_events++];
        memset(ew, 0, sizeof *ew);
        ew->index = (int)i;
        /* a producer-built request may hold a NULL item: judge it as the
         * empty object it stands for */
        static const Mediation__V1__SdkEvent empty = MEDIATION__V1__SDK_EVENT__INIT;
        ew->ev = b->req->events[i] ? b->req->events[i] : &empty;
        ew->dedup_row = ew->seq_row = ew->delivery_row = ew->closure_row = -1;
        ew->click.claim = -1;
        if (ew->ev->synthesized && F_REQ(ew->ev->internal_kind) &&
            strcmp(ew->ev->internal_kind, F_KIND_CLICK_EXPIRY) == 0) {
            prepare_click_expiry(b, ew);
            continue;
        }
        if (f_validate_event(b, ew) != MED_OK) break;
        if (ew->status == F_ACK_PENDING) add_lookups(b, ew);
    }
    if (b->arena.failed)
        return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "out of memory");
    return MED_OK;
}
