/* Phases 5 and 7 of f_work.h: billing claims, then everything the batch
 * leaves behind, written by one statement (data-modifying CTEs), so a
 * batch costs a handful of round trips whatever its size. */
#include "f_store.h"
#include "f_store_int.h"
#include "f_ack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "med/names.h"
#include "med/pbjson.h"
#include "med/reason.h"
#include "med/rows.h"

med_rc f_store_prepare_write(med_pg *pg, med_err *err)
{
    /* billing_ledger's primary key is the claim (00 decision 5): a key
     * claimed by any earlier batch, in any month, is never inserted
     * again; an uncommitted claim of another replica makes this wait. */
    med_rc rc = med_pg_prepare(pg, F_SQL_BILLING_CLAIM,
        "INSERT INTO billing_ledger (billing_key, tenant_id, app_id, placement_id, "
        "response_reference, render_attempt_id, billable_type, fact_id, source_event_id, trace_key, "
        "request_key, opportunity_key, amount_micros, currency, anchor_hash, "
        "version_anchor_snapshot_ref, fact_at) "
        "SELECT r.billing_key, $1, r.app_id, r.placement_id, r.response_reference, "
        "r.render_attempt_id, r.billable_type, r.fact_id, r.source_event_id, r.trace_key, "
        "r.request_key, r.opportunity_key, coalesce(r.amount_micros, 0), r.currency, r.anchor_hash, "
        "r.version_anchor_snapshot_ref, to_timestamp(r.fact_ms / 1000.0) "
        "FROM jsonb_to_recordset($2::jsonb) AS r(billing_key text, app_id text, placement_id text, "
        "response_reference text, render_attempt_id text, billable_type text, fact_id text, "
        "source_event_id text, trace_key text, request_key text, opportunity_key text, "
        "amount_micros bigint, currency text, anchor_hash text, version_anchor_snapshot_ref text, "
        "fact_ms bigint) ORDER BY r.billing_key "
        "ON CONFLICT DO NOTHING RETURNING billing_key", 2, err);
    if (rc != MED_OK) return rc;
    return med_pg_prepare(pg, F_SQL_BATCH_WRITE,
        "WITH ev AS (INSERT INTO event_records (tenant_id, app_id, placement_id, batch_id, "
        "event_index, event_id, event_type, event_layer, event_seq, event_at, received_at, trace_key, "
        "request_key, attempt_key, opportunity_key, response_reference, render_attempt_id, "
        "closure_key, canonical_dedup_key, key_source, fingerprint, ack_status, ack_reason_code, "
        "anchor_hash, version_anchor_snapshot_ref, payload) "
        "SELECT $1, r.app_id, r.placement_id, r.batch_id, r.event_index, r.event_id, r.event_type, "
        "r.event_layer, r.event_seq, to_timestamp(r.event_ms / 1000.0), "
        "to_timestamp(r.received_ms / 1000.0), r.trace_key, r.request_key, r.attempt_key, "
        "r.opportunity_key, r.response_reference, r.render_attempt_id, r.closure_key, "
        "r.canonical_dedup_key, r.key_source, r.fingerprint, r.ack_status, r.ack_reason_code, "
        "r.anchor_hash, r.version_anchor_snapshot_ref, coalesce(r.payload, '{}'::jsonb) "
        "FROM jsonb_to_recordset($2::jsonb) AS r(app_id text, placement_id text, batch_id text, "
        "event_index integer, event_id text, event_type text, event_layer text, event_seq bigint, "
        "event_ms bigint, received_ms bigint, trace_key text, request_key text, attempt_key text, "
        "opportunity_key text, response_reference text, render_attempt_id text, closure_key text, "
        "canonical_dedup_key text, key_source text, fingerprint text, ack_status text, "
        "ack_reason_code text, anchor_hash text, version_anchor_snapshot_ref text, payload jsonb) "
        "RETURNING 1), "
        "sq AS (UPDATE f_event_seq s SET last_seq = r.last_seq, "
        "expires_at = to_timestamp(r.expires_ms / 1000.0), updated_at = now() "
        "FROM jsonb_to_recordset($3::jsonb) AS r(scope text, last_seq bigint, expires_ms bigint) "
        "WHERE s.tenant_id = $1 AND s.scope = r.scope "
        "AND s.scope = ANY(ARRAY(SELECT x->>'scope' FROM jsonb_array_elements($3::jsonb) x)) "
        "RETURNING 1), "
        "cl AS (UPDATE f_closures c SET app_id = coalesce(c.app_id, r.app_id), state = r.state, "
        "terminal_source = r.terminal_source, opened_at = to_timestamp(r.opened_ms / 1000.0), "
        "closed_at = CASE WHEN r.state IN ('closed_success', 'closed_failure') "
        "THEN coalesce(c.closed_at, now()) END, "
        "superseded_once = r.superseded_once, billed_impression = r.billed_impression, "
        "billed_click = r.billed_click, pending_click_event_id = r.pending_click_event_id, "
        "pending_click_received_at = to_timestamp(r.pending_click_ms / 1000.0), "
        "pending_click_dedup_key = r.pending_click_dedup_key, "
        "pending_click_trace_key = r.pending_click_trace_key, open_trace_key = r.open_trace_key, "
        "open_request_key = r.open_request_key, open_attempt_key = r.open_attempt_key, "
        "open_opportunity_key = r.open_opportunity_key, open_event_version = r.open_event_version, "
        "timeout_record_key = r.timeout_record_key, anchor_hash = coalesce(r.anchor_hash, c.anchor_hash), "
        "updated_at = now() "
        "FROM jsonb_to_recordset($4::jsonb) AS r(closure_key text, app_id text, state text, "
        "terminal_source text, opened_ms bigint, superseded_once boolean, billed_impression boolean, "
        "billed_click boolean, pending_click_event_id text, pending_click_ms bigint, "
        "pending_click_dedup_key text, pending_click_trace_key text, open_trace_key text, "
        "open_request_key text, open_attempt_key text, open_opportunity_key text, "
        "open_event_version text, timeout_record_key text, anchor_hash text) "
        "WHERE c.tenant_id = $1 AND c.closure_key = r.closure_key "
        "AND c.closure_key = ANY(ARRAY(SELECT x->>'closure_key' FROM jsonb_array_elements($4::jsonb) x)) "
        "RETURNING 1), "
        "ph AS (DELETE FROM f_closures c WHERE c.tenant_id = $1 AND c.state = 'none' "
        "AND c.closure_key = ANY(ARRAY(SELECT jsonb_array_elements_text($5::jsonb))) RETURNING 1), "
        "rl AS (UPDATE idempotency_keys k SET state = 'released', "
        "expires_at = now() - interval '1 millisecond', updated_at = now() "
        "WHERE k.tenant_id = $1 AND k.scope = '" MED_SCOPE_F_DEDUP "' "
        "AND k.key = ANY(ARRAY(SELECT jsonb_array_elements_text($6::jsonb))) RETURNING 1), "
        "bl AS (UPDATE billing_ledger l SET record_key = r.record_key "
        "FROM jsonb_to_recordset($7::jsonb) AS r(billing_key text, record_key text) "
        "WHERE l.billing_key = r.billing_key AND l.tenant_id = $1 AND l.record_key IS NULL "
        "AND l.billing_key = ANY(ARRAY(SELECT x->>'billing_key' FROM jsonb_array_elements($7::jsonb) x)) "
        "RETURNING 1), "
        "ob AS (UPDATE f_outbox o SET kind = $9, app_id = $10, batch_id = $11, "
        "ack_pb = decode($12, 'hex'), records_pb = decode($13, 'hex'), audit_pb = decode($14, 'hex'), "
        "record_count = $15::integer, updated_at = now() "
        "WHERE o.tenant_id = $1 AND o.outbox_key = $8 RETURNING 1) "
        "SELECT (SELECT count(*) FROM ev), (SELECT count(*) FROM ob)", 15, err);
}

/* ---- phase 5 ----------------------------------------------------------------- */

/* responseReference and renderAttemptId of a billing key
 * (rr|ra|type: ra and type never contain '|'). */
static int split_billing_key(med_arena *a, const char *key, char **rr, char **ra)
{
    const char *t = strrchr(key, '|');
    if (!t || t == key) return -1;
    const char *s = t - 1;
    while (s > key && *s != '|') s--;
    if (*s != '|') return -1;
    *rr = med_arena_printf(a, "%.*s", (int)(s - key), key);
    *ra = med_arena_printf(a, "%.*s", (int)(t - s - 1), s + 1);
    return *rr && *ra ? 0 : -1;
}

static const Mediation__V1__BillableFactLite *fact_for(const f_event_work *e, const char *key)
{
    for (size_t i = 0; i < e->n_billable; i++)
        if (e->billable[i] && e->billable[i]->billing_key &&
            strcmp(e->billable[i]->billing_key, key) == 0)
            return e->billable[i];
    return NULL;
}

static const f_delivery_row *delivery_of(const f_batch_work *b, const f_event_work *e)
{
    if (e->delivery_row < 0 || (size_t)e->delivery_row >= b->n_deliveries) return NULL;
    const f_delivery_row *d = &b->deliveries[e->delivery_row];
    return d->found ? d : NULL;
}

static const char *anchor_of(const f_batch_work *b, const f_event_work *e)
{
    const f_delivery_row *d = delivery_of(b, e);
    return d && d->anchor_hash ? d->anchor_hash : b->anchor_hash;
}

static json_t *claim_row(f_batch_work *b, const f_event_work *e, const f_billing_claim *c)
{
    char *rr = NULL, *ra = NULL;
    if (!c->billing_key || split_billing_key(&b->arena, c->billing_key, &rr, &ra) != 0) return NULL;
    const Mediation__V1__BillableFactLite *f = fact_for(e, c->billing_key);
    const Mediation__V1__SdkEvent *ev = e->ev;
    const f_delivery_row *d = delivery_of(b, e);
    json_t *row = json_object();
    if (!row || med_rows_put(row, "billing_key", c->billing_key) ||
        med_rows_put(row, "app_id", b->auth_app_id) ||
        med_rows_put(row, "placement_id", NULL) || med_rows_put(row, "response_reference", rr) ||
        med_rows_put(row, "render_attempt_id", ra) ||
        med_rows_put(row, "billable_type", c->billable_type) ||
        med_rows_put(row, "fact_id", f ? f->fact_id : NULL) ||
        med_rows_put(row, "source_event_id", c->source_event_id) ||
        med_rows_put(row, "trace_key", f ? f->trace_key : ev ? ev->trace_key : NULL) ||
        med_rows_put(row, "request_key", ev ? ev->request_key : NULL) ||
        med_rows_put(row, "opportunity_key", f ? f->opportunity_key : ev ? ev->opportunity_key : NULL) ||
        f_store_put_int(row, "amount_micros", c->amount_micros) ||
        med_rows_put(row, "currency", f && f->currency && f->currency[0] ? f->currency
                                                                       : d ? d->currency : NULL) ||
        med_rows_put(row, "anchor_hash", anchor_of(b, e)) ||
        med_rows_put(row, "version_anchor_snapshot_ref", d ? d->version_anchor_snapshot_ref : NULL) ||
        f_store_put_ms(row, "fact_ms", f ? f->fact_at_unix_ms : b->now_ms)) {
        json_decref(row);
        return NULL;
    }
    return row;
}

/* The claims of the batch as JSON rows; *n = how many. */
static char *claims_json(f_batch_work *b, size_t *n, med_err *err)
{
    json_t *arr = json_array();
    *n = 0;
    for (size_t i = 0; arr && i < b->n_events; i++) {
        f_event_work *e = &b->events[i];
        for (size_t k = 0; arr && k < e->n_claims; k++) {
            e->claims[k].won = 0;
            json_t *row = claim_row(b, e, &e->claims[k]);
            if (!row || json_array_append_new(arr, row)) {
                json_decref(arr);
                arr = NULL;
            }
            (*n)++;
        }
    }
    return f_store_json_text(&b->arena, arr, err);
}

/* Two claims of one key in one batch: only the first may win. */
static void mark_won(f_batch_work *b, const char *key)
{
    for (size_t i = 0; i < b->n_events; i++)
        for (size_t k = 0; k < b->events[i].n_claims; k++) {
            f_billing_claim *c = &b->events[i].claims[k];
            if (c->billing_key && strcmp(c->billing_key, key) == 0) {
                c->won = 1;
                return;
            }
        }
}

med_rc f_store_claim_billing(med_pg *pg, f_batch_work *b, med_err *err)
{
    size_t n = 0;
    char *rows = claims_json(b, &n, err);
    if (!rows) return MED_ERR_NOMEM;
    if (n == 0) return MED_OK;
    const char *v[2] = { b->tenant_id, rows };
    PGresult *res = NULL;
    med_rc rc = f_store_exec(pg, F_SQL_BILLING_CLAIM, 2, v, &res, err);
    if (rc != MED_OK) return rc;
    for (int r = 0; r < PQntuples(res); r++) mark_won(b, PQgetvalue(res, r, 0));
    PQclear(res);
    return MED_OK;
}

/* ---- phase 7: rows ------------------------------------------------------------ */

static const char *ack_status_name(f_ack_status s)
{
    switch (s) {
    case F_ACK_ACCEPTED: return "accepted";
    case F_ACK_DUPLICATE: return "duplicate";
    default: return "rejected";
    }
}

static const char *closure_state_name(f_closure_state s)
{
    switch (s) {
    case F_CLOSURE_OPEN: return "open";
    case F_CLOSURE_CLOSED_SUCCESS: return "closed_success";
    case F_CLOSURE_CLOSED_FAILURE: return "closed_failure";
    default: return "none";
    }
}

static const char *terminal_source_name(f_terminal_source s)
{
    switch (s) {
    case F_TERMINAL_REAL_FAILURE: return "real_failure";
    case F_TERMINAL_SYSTEM_TIMEOUT: return "system_timeout_synthesized";
    default: return NULL;
    }
}

static const char *opt_str(int set, const char *s)
{
    return set && s && s[0] ? s : NULL;
}

/* The event as stored: every field it came with (F.3: stored, never
 * decisive) plus the outcome details the columns do not hold. */
static json_t *event_payload(const f_event_work *e)
{
    json_t *p = json_object();
    if (!p) return NULL;
    if (e->ev) json_object_set_new(p, "event", med_pb_to_json(&e->ev->base, NULL));
    json_object_set_new(p, "retryable", json_boolean(e->retryable));
    if (e->dedup_outcome) json_object_set_new(p, "dedupOutcome", json_string(e->dedup_outcome));
    if (e->internal_type) json_object_set_new(p, "internalType", json_string(e->internal_type));
    if (e->closure_decision && e->closure_decision->reason_code)
        json_object_set_new(p, "closureReasonCode", json_string(e->closure_decision->reason_code));
    if (e->fact_decision && e->fact_decision->decision_reason_code)
        json_object_set_new(p, "decisionReasonCode",
                            json_string(e->fact_decision->decision_reason_code));
    if (e->raw_sub_enums_json) {
        json_t *raw = json_loads(e->raw_sub_enums_json, 0, NULL);
        json_object_set_new(p, "rawSubEnumValues", raw ? raw : json_string(e->raw_sub_enums_json));
    }
    return p;
}

static const char *closure_key_of(const f_batch_work *b, const f_event_work *e)
{
    return e->closure_row >= 0 && (size_t)e->closure_row < b->n_closures
               ? b->closures[e->closure_row].closure_key : NULL;
}

static int put_event_keys(json_t *row, const Mediation__V1__SdkEvent *ev)
{
    return med_rows_put(row, "event_id", ev ? opt_str(1, ev->event_id) : NULL) ||
           med_rows_put(row, "trace_key", ev ? opt_str(1, ev->trace_key) : NULL) ||
           med_rows_put(row, "request_key", ev ? opt_str(1, ev->request_key) : NULL) ||
           med_rows_put(row, "attempt_key", ev ? opt_str(1, ev->attempt_key) : NULL) ||
           med_rows_put(row, "opportunity_key", ev ? opt_str(1, ev->opportunity_key) : NULL) ||
           med_rows_put(row, "response_reference",
                        ev ? opt_str(ev->response_reference_opt_case, ev->response_reference) : NULL) ||
           med_rows_put(row, "render_attempt_id",
                        ev ? opt_str(ev->render_attempt_id_opt_case, ev->render_attempt_id) : NULL) ||
           med_rows_put(row, "placement_id",
                        ev ? opt_str(ev->placement_key_opt_case, ev->placement_key) : NULL);
}

static const char *batch_id_of(const f_batch_work *b, const f_outbox_row *ob)
{
    if (b->req && b->req->batch_id && b->req->batch_id[0]) return b->req->batch_id;
    return ob->batch_id[0] ? ob->batch_id : ob->key;
}

static json_t *event_row(const f_batch_work *b, const f_event_work *e, const f_outbox_row *ob)
{
    const Mediation__V1__SdkEvent *ev = e->ev;
    const f_delivery_row *d = delivery_of(b, e);
    json_t *row = json_object();
    int seq_set = ev && ev->event_seq_opt_case;
    const char *type = e->internal_type ? e->internal_type : ev ? opt_str(1, ev->event_type) : NULL;
    if (!row || put_event_keys(row, ev) || med_rows_put(row, "app_id", b->auth_app_id) ||
        med_rows_put(row, "batch_id", batch_id_of(b, ob)) ||
        f_store_put_int(row, "event_index", e->index) || med_rows_put(row, "event_type", type) ||
        med_rows_put(row, "event_layer", e->layer == F_LAYER_BILLING ? "billing" : "diagnostics") ||
        json_object_set_new(row, "event_seq", seq_set ? json_integer(ev->event_seq) : json_null()) ||
        f_store_put_ms(row, "event_ms", e->event_at_ms) ||
        f_store_put_int(row, "received_ms", b->received_at_ms) ||
        med_rows_put(row, "closure_key", closure_key_of(b, e)) ||
        med_rows_put(row, "canonical_dedup_key", e->dedup_key) ||
        med_rows_put(row, "key_source", e->key_source) ||
        med_rows_put(row, "fingerprint", e->fingerprint) ||
        med_rows_put(row, "ack_status", ack_status_name(e->status)) ||
        med_rows_put(row, "ack_reason_code", f_ack_reason(e)) ||
        med_rows_put(row, "anchor_hash", anchor_of(b, e)) ||
        med_rows_put(row, "version_anchor_snapshot_ref", d ? d->version_anchor_snapshot_ref : NULL) ||
        json_object_set_new(row, "payload", event_payload(e))) {
        json_decref(row);
        return NULL;
    }
    return row;
}

static json_t *seq_row(const f_batch_work *b, const f_seq_row *s)
{
    json_t *row = json_object();
    if (!row || med_rows_put(row, "scope", s->scope) || f_store_put_int(row, "last_seq", s->new_last) ||
        f_store_put_int(row, "expires_ms", b->received_at_ms + b->windows.seq_keep_ms)) {
        json_decref(row);
        return NULL;
    }
    return row;
}

static int put_closure_open_keys(json_t *row, const f_closure_row *c)
{
    return med_rows_put(row, "open_trace_key", c->open_trace_key) ||
           med_rows_put(row, "open_request_key", c->open_request_key) ||
           med_rows_put(row, "open_attempt_key", c->open_attempt_key) ||
           med_rows_put(row, "open_opportunity_key", c->open_opportunity_key) ||
           med_rows_put(row, "open_event_version", c->open_event_version);
}

static json_t *closure_row(const f_batch_work *b, const f_closure_row *c)
{
    json_t *row = json_object();
    if (!row || med_rows_put(row, "closure_key", c->closure_key) ||
        med_rows_put(row, "app_id", b->auth_app_id) ||
        med_rows_put(row, "state", closure_state_name(c->state)) ||
        med_rows_put(row, "terminal_source",
                     c->state == F_CLOSURE_CLOSED_FAILURE ? terminal_source_name(c->source) : NULL) ||
        f_store_put_ms(row, "opened_ms", c->opened_at_ms) ||
        f_store_put_bool(row, "superseded_once", c->superseded_once) ||
        f_store_put_bool(row, "billed_impression", c->billed_impression) ||
        f_store_put_bool(row, "billed_click", c->billed_click) ||
        med_rows_put(row, "pending_click_event_id", c->pending_click_event_id) ||
        f_store_put_ms(row, "pending_click_ms",
                       c->pending_click_event_id ? c->pending_click_received_ms : 0) ||
        med_rows_put(row, "pending_click_dedup_key", c->pending_click_dedup_key) ||
        med_rows_put(row, "pending_click_trace_key", c->pending_click_trace_key) ||
        put_closure_open_keys(row, c) ||
        med_rows_put(row, "timeout_record_key", c->timeout_record_key) ||
        med_rows_put(row, "anchor_hash", NULL)) {
        json_decref(row);
        return NULL;
    }
    return row;
}

/* ---- phase 7: the statement ------------------------------------------------------ */

typedef struct write_json {
    char *events, *seqs, *closures, *placeholders, *releases, *billing;
} write_json;

static int append(json_t *arr, json_t *item)
{
    return !item || json_array_append_new(arr, item) != 0;
}

static char *events_json(f_batch_work *b, const f_outbox_row *ob, med_err *err)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < b->n_events; i++)
        if (append(arr, event_row(b, &b->events[i], ob))) {
            json_decref(arr);
            arr = NULL;
        }
    return f_store_json_text(&b->arena, arr, err);
}

static char *seqs_json(f_batch_work *b, med_err *err)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < b->n_seqs; i++)
        if (b->seqs[i].dirty && append(arr, seq_row(b, &b->seqs[i]))) {
            json_decref(arr);
            arr = NULL;
        }
    return f_store_json_text(&b->arena, arr, err);
}

/* dirty closures (want_dirty) or the untouched ones (placeholders). */
static char *closures_json(f_batch_work *b, int want_dirty, med_err *err)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < b->n_closures; i++) {
        const f_closure_row *c = &b->closures[i];
        if (!c->dirty != !want_dirty) continue;
        json_t *item = want_dirty ? closure_row(b, c) : json_string(c->closure_key);
        if (append(arr, item)) {
            json_decref(arr);
            arr = NULL;
        }
    }
    return f_store_json_text(&b->arena, arr, err);
}

static char *releases_json(f_batch_work *b, med_err *err)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < b->n_dedup; i++)
        if (b->dedup[i].won && b->dedup[i].release &&
            append(arr, json_string(b->dedup[i].key))) {
            json_decref(arr);
            arr = NULL;
        }
    return f_store_json_text(&b->arena, arr, err);
}

static int claim_won(const f_batch_work *b, const char *billing_key)
{
    for (size_t i = 0; i < b->n_events; i++)
        for (size_t k = 0; k < b->events[i].n_claims; k++) {
            const f_billing_claim *c = &b->events[i].claims[k];
            if (c->won && c->billing_key && strcmp(c->billing_key, billing_key) == 0) return 1;
        }
    return 0;
}

/* billing_ledger rows this batch claimed -> their billable_fact recordKey
 * (reconciliation joins the ledger with the archive on it). */
static char *billing_links_json(f_batch_work *b, med_err *err)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < b->n_records; i++) {
        const Mediation__V1__FToGArchiveRecordLite *r = b->records[i];
        if (!r || r->payload_case != MEDIATION__V1__FTO_GARCHIVE_RECORD_LITE__PAYLOAD_BILLABLE_FACT ||
            !r->billable_fact || !r->billable_fact->billing_key ||
            !claim_won(b, r->billable_fact->billing_key))
            continue;
        json_t *row = json_object();
        if (!row || med_rows_put(row, "billing_key", r->billable_fact->billing_key) ||
            med_rows_put(row, "record_key", r->record_key)) {
            json_decref(row);
            row = NULL;
        }
        if (append(arr, row)) {
            json_decref(arr);
            arr = NULL;
        }
    }
    return f_store_json_text(&b->arena, arr, err);
}

static med_rc build_write_json(f_batch_work *b, const f_outbox_row *ob, write_json *w, med_err *err)
{
    w->events = events_json(b, ob, err);
    w->seqs = w->events ? seqs_json(b, err) : NULL;
    w->closures = w->seqs ? closures_json(b, 1, err) : NULL;
    w->placeholders = w->closures ? closures_json(b, 0, err) : NULL;
    w->releases = w->placeholders ? releases_json(b, err) : NULL;
    w->billing = w->releases ? billing_links_json(b, err) : NULL;
    return w->billing ? MED_OK : MED_ERR_NOMEM;
}

typedef struct hex_blobs {
    char *ack, *records, *audit;
} hex_blobs;

static void hex_free(hex_blobs *h)
{
    free(h->ack);
    free(h->records);
    free(h->audit);
}

static med_rc hex_all(const f_outbox_row *ob, hex_blobs *h, med_err *err)
{
    h->ack = f_store_hex(ob->ack_pb, ob->ack_pb ? ob->ack_len : 0);
    h->records = f_store_hex(ob->records_pb, ob->records_pb ? ob->records_len : 0);
    h->audit = f_store_hex(ob->audit_pb, ob->audit_pb ? ob->audit_len : 0);
    if (h->ack && h->records && h->audit) return MED_OK;
    hex_free(h);
    return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "outbox hex");
}

med_rc f_store_write(med_pg *pg, const f_batch_work *cb, const f_outbox_row *ob, med_err *err)
{
    /* The arena is the batch's: building the JSON only adds to it. */
    f_batch_work *b = (f_batch_work *)cb;
    write_json w;
    med_rc rc = build_write_json(b, ob, &w, err);
    if (rc != MED_OK) return rc;
    hex_blobs h = { 0 };
    rc = hex_all(ob, &h, err);
    if (rc != MED_OK) return rc;
    char count[16];
    snprintf(count, sizeof count, "%d", ob->record_count);
    const char *v[15] = { b->tenant_id, w.events, w.seqs, w.closures, w.placeholders, w.releases,
                          w.billing, ob->key, ob->kind, ob->app_id[0] ? ob->app_id : b->auth_app_id,
                          batch_id_of(b, ob), ob->ack_pb ? h.ack : NULL,
                          ob->records_pb ? h.records : NULL, ob->audit_pb ? h.audit : NULL, count };
    PGresult *res = NULL;
    rc = f_store_exec(pg, F_SQL_BATCH_WRITE, 15, v, &res, err);
    hex_free(&h);
    if (rc != MED_OK) return rc;
    int outbox_rows = (int)f_store_int_at(res, 0, 1);
    PQclear(res);
    if (outbox_rows != 1)
        return med_err_set(err, MED_ERR_INTERNAL, MED_R_INFRA_PG_QUERY_FAILED, NULL,
                           "outbox row %s was not claimed in this transaction", ob->key);
    return MED_OK;
}
