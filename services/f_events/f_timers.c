/* The timers' events (F.6 autofill failure, F.7 pending-click expiry).
 * The scanner decides which closures are due (compare-and-set in the
 * store); these functions only turn a due closure into an event that runs
 * the normal phases, so dedup makes it take effect once. */
#include "f_timers.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "f_decide.h"
#include "f_dict.h"
#include "f_facts.h"
#include "f_keys.h"
#include "med/ids.h"
#include "med/reason.h"

void f_default_render_attempt_id(const char *response_reference, const char *attempt_key,
                                 char *out, size_t cap)
{
    char buf[1024];
    int n = snprintf(buf, sizeof buf, "%s:%s", response_reference ? response_reference : "",
                     attempt_key ? attempt_key : "");
    char hex[65];
    /* keys longer than buf are hashed in full, never truncated */
    if (n >= 0 && (size_t)n < sizeof buf) {
        med_sha256_hex(buf, (size_t)n, hex);
    } else {
        med_arena a;
        med_arena_init(&a);
        char *s = med_arena_printf(&a, "%s:%s", response_reference, attempt_key);
        med_sha256_hex(s ? s : "", s ? strlen(s) : 0, hex);
        med_arena_free(&a);
    }
    snprintf(out, cap, "ra_%.16s", hex);
}

char *f_timeout_event_id(med_arena *a, const char *closure_key)
{
    char *src = med_arena_printf(a, "%s|timeout", closure_key);
    char *h = src ? f_hexn(a, src, 16) : NULL;
    return h ? med_arena_printf(a, "evt_timeout_%s", h) : NULL;
}

char *f_timeout_idempotency_key(med_arena *a, const char *closure_key)
{
    char *src = med_arena_printf(a, "%s|timeout", closure_key);
    char *h = src ? f_hexn(a, src, 20) : NULL;
    return h ? med_arena_printf(a, "f_idem_timeout_%s", h) : NULL;
}

char *f_timeout_record_key(med_arena *a, const char *app_id, const char *rr, const char *ra)
{
    char *ck = f_closure_key(a, rr, ra);
    if (!ck) return NULL;
    char *eid = f_timeout_event_id(a, ck);
    char *idem = f_timeout_idempotency_key(a, ck);
    char *joined = idem ? F_JOIN(a, app_id, idem) : NULL;
    char *dedup = joined ? med_arena_printf(a, F_DEDUP_VERSION ":client_idempotency:%s", joined) : NULL;
    char *akey = eid ? f_attribution_key(a, F_ATTR_FAILURE_TERMINAL, "failure", rr, ra, eid) : NULL;
    return dedup && akey ? f_record_key(a, "attribution_fact", akey, dedup) : NULL;
}

/* The scan batch's envelope, when the caller did not bring one. */
static med_rc ensure_request(f_batch_work *b)
{
    if (b->req) return MED_OK;
    if (!b->auth_app_id || !b->auth_app_id[0]) return MED_ERR_INVALID;
    med_arena *a = &b->arena;
    Mediation__V1__EventBatchRequestLite *r = MED_NEW(a, Mediation__V1__EventBatchRequestLite);
    if (!r) return MED_ERR_NOMEM;
    *r = (Mediation__V1__EventBatchRequestLite)MEDIATION__V1__EVENT_BATCH_REQUEST_LITE__INIT;
    char at[32];
    med_format_utc_ms(b->received_at_ms, at, sizeof at);
    r->batch_id = med_arena_printf(a, "f_scan_%" PRId64, b->received_at_ms);
    r->app_id = (char *)b->auth_app_id;
    r->sdk_version = (char *)"med-f-scanner";
    r->sent_at = med_arena_strdup(a, at);
    r->schema_version = (char *)F_SCHEMA_VERSION;
    b->req = r;
    return r->batch_id && r->sent_at ? MED_OK : MED_ERR_NOMEM;
}

static med_rc append_event(f_batch_work *b, Mediation__V1__SdkEvent *ev)
{
    Mediation__V1__EventBatchRequestLite *r = b->req;
    Mediation__V1__SdkEvent **grown = MED_NEWN(&b->arena, Mediation__V1__SdkEvent *, r->n_events + 1);
    if (!grown) return MED_ERR_NOMEM;
    if (r->n_events) memcpy(grown, r->events, r->n_events * sizeof *grown);
    grown[r->n_events++] = ev;
    r->events = grown;
    return MED_OK;
}

/* An internal event carrying the closure's keys (from its opening event). */
static Mediation__V1__SdkEvent *closure_event(f_batch_work *b, const f_closure_row *c,
                                              const char *type)
{
    med_arena *a = &b->arena;
    Mediation__V1__SdkEvent *ev = MED_NEW(a, Mediation__V1__SdkEvent);
    if (!ev) return NULL;
    *ev = (Mediation__V1__SdkEvent)MEDIATION__V1__SDK_EVENT__INIT;
    char at[32];
    med_format_utc_ms(b->received_at_ms, at, sizeof at);
    ev->event_type = (char *)type;
    ev->event_at = med_arena_strdup(a, at);
    ev->trace_key = (char *)f_or_na(c->open_trace_key);
    ev->request_key = (char *)f_or_na(c->open_request_key);
    ev->attempt_key = (char *)f_or_na(c->open_attempt_key);
    ev->opportunity_key = (char *)f_or_na(c->open_opportunity_key);
    ev->event_version = (char *)(c->open_event_version && c->open_event_version[0]
                                     ? c->open_event_version
                                     : F_SYNTH_EVENT_VERSION);
    ev->response_reference_opt_case = MEDIATION__V1__SDK_EVENT__RESPONSE_REFERENCE_OPT_RESPONSE_REFERENCE;
    ev->response_reference = (char *)c->response_reference;
    ev->render_attempt_id_opt_case = MEDIATION__V1__SDK_EVENT__RENDER_ATTEMPT_ID_OPT_RENDER_ATTEMPT_ID;
    ev->render_attempt_id = (char *)c->render_attempt_id;
    ev->synthesized = 1;
    return ev->event_at ? ev : NULL;
}

static med_rc closure_ok(const f_closure_row *c, med_err *err)
{
    if (c && c->closure_key && c->response_reference && c->response_reference[0] &&
        c->render_attempt_id && c->render_attempt_id[0])
        return MED_OK;
    return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_PERMANENT_FAILURE, NULL,
                       "a closure needs its key, responseReference and renderAttemptId");
}

static med_rc finish(med_rc rc, med_err *err)
{
    if (rc == MED_ERR_INVALID)
        return med_err_set(err, rc, MED_R_INFRA_PERMANENT_FAILURE, NULL,
                           "a scan batch needs the app it scans (auth_app_id)");
    if (rc != MED_OK) return med_err_set(err, rc, MED_R_INFRA_NOMEM, NULL, "out of memory");
    return MED_OK;
}

med_rc f_batch_add_synth_failure(f_batch_work *b, const f_closure_row *closure, med_err *err)
{
    if (closure_ok(closure, err) != MED_OK) return err ? err->rc : MED_ERR_INVALID;
    med_rc rc = ensure_request(b);
    if (rc != MED_OK) return finish(rc, err);
    Mediation__V1__SdkEvent *ev = closure_event(b, closure, f_event_type_name(F_T_FAILURE));
    if (!ev) return finish(MED_ERR_NOMEM, err);
    ev->event_id = f_timeout_event_id(&b->arena, closure->closure_key);
    ev->idempotency_key_opt_case = MEDIATION__V1__SDK_EVENT__IDEMPOTENCY_KEY_OPT_IDEMPOTENCY_KEY;
    ev->idempotency_key = f_timeout_idempotency_key(&b->arena, closure->closure_key);
    ev->terminal_source = (char *)F_TERMINAL_SOURCE_SYNTH;
    ev->failure_reason_code_opt_case =
        MEDIATION__V1__SDK_EVENT__FAILURE_REASON_CODE_OPT_FAILURE_REASON_CODE;
    ev->failure_reason_code = (char *)MED_R_F_TERMINAL_TIMEOUT_AUTOFILL;
    ev->internal_kind = (char *)F_KIND_TIMEOUT_FAILURE;
    if (!ev->event_id || !ev->idempotency_key) return finish(MED_ERR_NOMEM, err);
    return finish(append_event(b, ev), err);
}

med_rc f_batch_add_click_expiry(f_batch_work *b, const f_closure_row *closure, med_err *err)
{
    if (closure_ok(closure, err) != MED_OK) return err ? err->rc : MED_ERR_INVALID;
    if (!closure->pending_click_event_id || !closure->pending_click_event_id[0])
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_PERMANENT_FAILURE, NULL,
                           "the closure has no pending click");
    med_rc rc = ensure_request(b);
    if (rc != MED_OK) return finish(rc, err);
    Mediation__V1__SdkEvent *ev = closure_event(b, closure, f_event_type_name(F_T_CLICK));
    if (!ev) return finish(MED_ERR_NOMEM, err);
    ev->event_id = (char *)closure->pending_click_event_id;
    if (closure->pending_click_trace_key && closure->pending_click_trace_key[0])
        ev->trace_key = (char *)closure->pending_click_trace_key;
    ev->internal_kind = (char *)F_KIND_CLICK_EXPIRY;
    ev->internal_dedup_key = (char *)(closure->pending_click_dedup_key ? closure->pending_click_dedup_key : "");
    return finish(append_event(b, ev), err);
}

int f_closure_timeout_due(const f_closure_row *c, int64_t now_ms, const f_windows *w)
{
    return c->state == F_CLOSURE_OPEN && now_ms - c->opened_at_ms >= w->terminal_wait_ms;
}

int f_pending_click_due(const f_closure_row *c, int64_t now_ms, const f_windows *w)
{
    return c->pending_click_event_id && c->pending_click_event_id[0] && !c->billed_click &&
           now_ms - c->pending_click_received_ms > w->terminal_wait_ms;
}
