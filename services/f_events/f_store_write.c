/* Phases 5 and 7 of f_work.h: billing claims, then everything the batch
 * leaves behind, written by one statement (data-modifying CTEs), so a
 * batch costs a handful of round trips whatever its size. */
#include "f_store.h"
#include "f_store_int.h"
#include "f_ack.h"
#include "f_archive.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "med/names.h"
#include "med/pbjson.h"
#include "med/reason.h"

/* Parameters of F_SQL_BATCH_WRITE: scalars first, then one binary array
 * per column of each row set (f_store_write fills them in this order). */
#define W_SCALARS 11
#define W_EV (W_SCALARS + 1)   /* $12..$33: event_records rows */
#define W_SQ (W_EV + EV_N)     /* $34..$36: dirty seq rows */
#define W_CL (W_SQ + SQ_N)     /* $37..$53: dirty closures */
#define W_PH (W_CL + CL_N)     /* $54: placeholders to delete */
#define W_RL (W_PH + 1)        /* $55: released dedup keys */
#define W_N W_RL

enum { EV_PLACEMENT, EV_INDEX, EV_EVENT_ID, EV_TYPE, EV_LAYER, EV_SEQ, EV_MS, EV_TRACE,
       EV_REQUEST, EV_ATTEMPT, EV_OPPORTUNITY, EV_RESPONSE_REFERENCE, EV_RENDER_ATTEMPT,
       EV_CLOSURE, EV_DEDUP_KEY, EV_KEY_SOURCE, EV_FINGERPRINT, EV_ACK_STATUS, EV_ACK_REASON,
       EV_ANCHOR, EV_SNAPSHOT_REF, EV_PAYLOAD, EV_N };
enum { SQ_SCOPE, SQ_LAST, SQ_EXPIRES, SQ_N };
enum { CL_KEY, CL_STATE, CL_TERMINAL_SOURCE, CL_OPENED, CL_SUPERSEDED, CL_BILLED_IMPRESSION,
       CL_BILLED_CLICK, CL_PENDING_EVENT, CL_PENDING_MS, CL_PENDING_DEDUP, CL_PENDING_TRACE,
       CL_OPEN_TRACE, CL_OPEN_REQUEST, CL_OPEN_ATTEMPT, CL_OPEN_OPPORTUNITY, CL_OPEN_VERSION,
       CL_TIMEOUT_RECORD, CL_N };
/* The statement text numbers its parameters by hand: keep them in step. */
_Static_assert(W_EV == 12 && W_SQ == 34 && W_CL == 37 && W_PH == 54 && W_N == 55,
               "F_SQL_BATCH_WRITE parameter numbers");

enum { BC_BILLING_KEY, BC_RESPONSE_REFERENCE, BC_RENDER_ATTEMPT, BC_TYPE, BC_FACT_ID,
       BC_SOURCE_EVENT, BC_TRACE, BC_REQUEST, BC_OPPORTUNITY, BC_AMOUNT, BC_CURRENCY, BC_ANCHOR,
       BC_SNAPSHOT_REF, BC_FACT_MS, BC_RECORD_KEY, BC_N };

med_rc f_store_prepare_write(med_pg *pg, med_err *err)
{
    /* billing_ledger's primary key is the claim (00 decision 5): a key
     * claimed by any earlier batch, in any month, is never inserted
     * again; an uncommitted claim of another replica makes this wait.
     * Two claims of one key in the batch: the first (the one mark_won
     * marks) is the row, with its recordKey. */
    med_rc rc = med_pg_prepare(pg, F_SQL_BILLING_CLAIM,
        "INSERT INTO billing_ledger (billing_key, tenant_id, app_id, placement_id, "
        "response_reference, render_attempt_id, billable_type, fact_id, source_event_id, trace_key, "
        "request_key, opportunity_key, amount_micros, currency, anchor_hash, "
        "version_anchor_snapshot_ref, fact_at, record_key) "
        "SELECT DISTINCT ON (r.billing_key) r.billing_key, $1, $2::text, NULL::text, "
        "r.response_reference, "
        "r.render_attempt_id, r.billable_type, r.fact_id, r.source_event_id, r.trace_key, "
        "r.request_key, r.opportunity_key, coalesce(r.amount_micros, 0), r.currency, r.anchor_hash, "
        "r.version_anchor_snapshot_ref, to_timestamp(r.fact_ms / 1000.0), r.record_key "
        "FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], "
        "$9::text[], $10::text[], $11::text[], $12::int8[], $13::text[], $14::text[], $15::text[], "
        "$16::int8[], $17::text[]) WITH ORDINALITY AS r(billing_key, response_reference, "
        "render_attempt_id, billable_type, fact_id, source_event_id, trace_key, request_key, "
        "opportunity_key, amount_micros, currency, anchor_hash, version_anchor_snapshot_ref, "
        "fact_ms, record_key, i) "
        "ORDER BY r.billing_key, r.i "
        "ON CONFLICT DO NOTHING RETURNING billing_key", 2 + BC_N, err);
    if (rc != MED_OK) return rc;
    return med_pg_prepare(pg, F_SQL_BATCH_WRITE,
        "WITH ev AS (INSERT INTO event_records (tenant_id, app_id, placement_id, batch_id, "
        "event_index, event_id, event_type, event_layer, event_seq, event_at, received_at, trace_key, "
        "request_key, attempt_key, opportunity_key, response_reference, render_attempt_id, "
        "closure_key, canonical_dedup_key, key_source, fingerprint, ack_status, ack_reason_code, "
        "anchor_hash, version_anchor_snapshot_ref, payload) "
        "SELECT $1, $2::text, r.placement_id, $3::text, r.event_index, r.event_id, r.event_type, "
        "r.event_layer, r.event_seq, to_timestamp(r.event_ms / 1000.0), "
        "to_timestamp($4::bigint / 1000.0), r.trace_key, r.request_key, r.attempt_key, "
        "r.opportunity_key, r.response_reference, r.render_attempt_id, r.closure_key, "
        "r.canonical_dedup_key, r.key_source, r.fingerprint, r.ack_status, r.ack_reason_code, "
        "r.anchor_hash, r.version_anchor_snapshot_ref, coalesce(r.payload::jsonb, '{}'::jsonb) "
        "FROM unnest($12::text[], $13::int4[], $14::text[], $15::text[], $16::text[], $17::int8[], "
        "$18::int8[], $19::text[], $20::text[], $21::text[], $22::text[], $23::text[], $24::text[], "
        "$25::text[], $26::text[], $27::text[], $28::text[], $29::text[], $30::text[], $31::text[], "
        "$32::text[], $33::text[]) AS r(placement_id, event_index, event_id, event_type, "
        "event_layer, event_seq, event_ms, trace_key, request_key, attempt_key, opportunity_key, "
        "response_reference, render_attempt_id, closure_key, canonical_dedup_key, key_source, "
        "fingerprint, ack_status, ack_reason_code, anchor_hash, version_anchor_snapshot_ref, payload) "
        "RETURNING 1), "
        "sq AS (UPDATE f_event_seq s SET last_seq = r.last_seq, "
        "expires_at = to_timestamp(r.expires_ms / 1000.0), updated_at = now() "
        "FROM unnest($34::text[], $35::int8[], $36::int8[]) AS r(scope, last_seq, expires_ms) "
        "WHERE s.tenant_id = $1 AND s.scope = r.scope AND s.scope = ANY($34::text[]) "
        "RETURNING 1), "
        "cl AS (UPDATE f_closures c SET app_id = coalesce(c.app_id, $2::text), state = r.state, "
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
        "timeout_record_key = r.timeout_record_key, updated_at = now() "
        "FROM unnest($37::text[], $38::text[], $39::text[], $40::int8[], $41::bool[], $42::bool[], "
        "$43::bool[], $44::text[], $45::int8[], $46::text[], $47::text[], $48::text[], $49::text[], "
        "$50::text[], $51::text[], $52::text[], $53::text[]) AS r(closure_key, state, "
        "terminal_source, opened_ms, superseded_once, billed_impression, billed_click, "
        "pending_click_event_id, pending_click_ms, pending_click_dedup_key, "
        "pending_click_trace_key, open_trace_key, open_request_key, open_attempt_key, "
        "open_opportunity_key, open_event_version, timeout_record_key) "
        "WHERE c.tenant_id = $1 AND c.closure_key = r.closure_key "
        "AND c.closure_key = ANY($37::text[]) RETURNING 1), "
        "ph AS (DELETE FROM f_closures c WHERE c.tenant_id = $1 AND c.state = 'none' "
        "AND c.closure_key = ANY($54::text[]) RETURNING 1), "
        "rl AS (UPDATE idempotency_keys k SET state = 'released', "
        "expires_at = now() - interval '1 millisecond', updated_at = now() "
        "WHERE k.tenant_id = $1 AND k.scope = '" MED_SCOPE_F_DEDUP "' "
        "AND k.key = ANY($55::text[]) RETURNING 1), "
        "ob AS (UPDATE f_outbox o SET kind = $6, app_id = $7, batch_id = $3::text, "
        "ack_pb = $8::bytea, records_pb = $9::bytea, audit_pb = $10::bytea, "
        "record_count = $11::integer, updated_at = now() "
        "WHERE o.tenant_id = $1 AND o.outbox_key = $5 RETURNING 1) "
        "SELECT (SELECT count(*) FROM ev), (SELECT count(*) FROM ob)", W_N, err);
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

/* One claim's row; -1 when its key does not split (rr|ra|type). */
static int claim_add(f_batch_work *b, const f_event_work *e, const f_billing_claim *c,
                     med_pg_cols *cols)
{
    char *rr = NULL, *ra = NULL;
    if (!c->billing_key || split_billing_key(&b->arena, c->billing_key, &rr, &ra) != 0) return -1;
    const Mediation__V1__BillableFactLite *f = fact_for(e, c->billing_key);
    const Mediation__V1__SdkEvent *ev = e->ev;
    const f_delivery_row *d = delivery_of(b, e);
    med_pg_array *col = cols->col;
    med_pg_array_add_str(&col[BC_BILLING_KEY], c->billing_key);
    med_pg_array_add_str(&col[BC_RESPONSE_REFERENCE], rr);
    med_pg_array_add_str(&col[BC_RENDER_ATTEMPT], ra);
    med_pg_array_add_str(&col[BC_TYPE], c->billable_type);
    med_pg_array_add_str(&col[BC_FACT_ID], f ? f->fact_id : NULL);
    med_pg_array_add_str(&col[BC_SOURCE_EVENT], c->source_event_id);
    med_pg_array_add_str(&col[BC_TRACE], f ? f->trace_key : ev ? ev->trace_key : NULL);
    med_pg_array_add_str(&col[BC_REQUEST], ev ? ev->request_key : NULL);
    med_pg_array_add_str(&col[BC_OPPORTUNITY], f ? f->opportunity_key : ev ? ev->opportunity_key : NULL);
    med_pg_array_add_int8(&col[BC_AMOUNT], c->amount_micros);
    med_pg_array_add_str(&col[BC_CURRENCY],
                         f && f->currency && f->currency[0] ? f->currency : d ? d->currency : NULL);
    med_pg_array_add_str(&col[BC_ANCHOR], anchor_of(b, e));
    med_pg_array_add_str(&col[BC_SNAPSHOT_REF], d ? d->version_anchor_snapshot_ref : NULL);
    f_store_add_ms(&col[BC_FACT_MS], f ? f->fact_at_unix_ms : b->now_ms);
    /* the recordKey of the fact's billable_fact record (reconciliation
     * joins the ledger with the archive on it), known before the claim */
    const char *record_key = f ? f_archive_billable_record_key(b, e, f) : NULL;
    if (f && !record_key) return -1;
    med_pg_array_add_str(&col[BC_RECORD_KEY], record_key);
    return 0;
}

/* The claims of the batch as columns; *n = how many. */
static med_rc claims_cols(f_batch_work *b, med_pg_cols *c, size_t *n, med_err *err)
{
    uint32_t oids[BC_N];
    for (int i = 0; i < BC_N; i++) oids[i] = MED_PG_OID_TEXT;
    oids[BC_AMOUNT] = oids[BC_FACT_MS] = MED_PG_OID_INT8;
    med_pg_cols_init(c, oids, BC_N);
    *n = 0;
    for (size_t i = 0; i < b->n_events; i++) {
        f_event_work *e = &b->events[i];
        for (size_t k = 0; k < e->n_claims; k++, (*n)++) {
            e->claims[k].won = 0;
            if (claim_add(b, e, &e->claims[k], c) != 0)
                return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "billing claim row");
        }
    }
    return med_pg_cols_finish(c, err);
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
    med_pg_cols rows;
    med_rc rc = claims_cols(b, &rows, &n, err);
    PGresult *res = NULL;
    if (rc == MED_OK && n > 0) {
        f_params p = { .n = 0 };
        f_params_text(&p, b->tenant_id);
        f_params_text(&p, b->auth_app_id);
        f_params_cols(&p, &rows);
        rc = f_store_exec_params(pg, F_SQL_BILLING_CLAIM, &p, &res, err);
    }
    med_pg_cols_free(&rows);
    if (rc != MED_OK || !res) return rc;
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

static void add_event_keys(med_pg_array *col, const Mediation__V1__SdkEvent *ev)
{
    med_pg_array_add_str(&col[EV_EVENT_ID], ev ? opt_str(1, ev->event_id) : NULL);
    med_pg_array_add_str(&col[EV_TRACE], ev ? opt_str(1, ev->trace_key) : NULL);
    med_pg_array_add_str(&col[EV_REQUEST], ev ? opt_str(1, ev->request_key) : NULL);
    med_pg_array_add_str(&col[EV_ATTEMPT], ev ? opt_str(1, ev->attempt_key) : NULL);
    med_pg_array_add_str(&col[EV_OPPORTUNITY], ev ? opt_str(1, ev->opportunity_key) : NULL);
    med_pg_array_add_str(&col[EV_RESPONSE_REFERENCE],
                         ev ? opt_str(ev->response_reference_opt_case, ev->response_reference) : NULL);
    med_pg_array_add_str(&col[EV_RENDER_ATTEMPT],
                         ev ? opt_str(ev->render_attempt_id_opt_case, ev->render_attempt_id) : NULL);
    med_pg_array_add_str(&col[EV_PLACEMENT],
                         ev ? opt_str(ev->placement_key_opt_case, ev->placement_key) : NULL);
}

static const char *batch_id_of(const f_batch_work *b, const f_outbox_row *ob)
{
    if (b->req && b->req->batch_id && b->req->batch_id[0]) return b->req->batch_id;
    return ob->batch_id[0] ? ob->batch_id : ob->key;
}

/* One event_records row; -1 when its payload cannot be built. */
static int event_add(const f_batch_work *b, const f_event_work *e, med_pg_array *col)
{
    const Mediation__V1__SdkEvent *ev = e->ev;
    const f_delivery_row *d = delivery_of(b, e);
    json_t *payload = event_payload(e);
    char *text = payload ? json_dumps(payload, JSON_COMPACT) : NULL;
    json_decref(payload);
    if (!text) return -1;
    add_event_keys(col, ev);
    med_pg_array_add_int4(&col[EV_INDEX], e->index);
    med_pg_array_add_str(&col[EV_TYPE], e->internal_type ? e->internal_type
                                                          : ev ? opt_str(1, ev->event_type) : NULL);
    med_pg_array_add_str(&col[EV_LAYER], e->layer == F_LAYER_BILLING ? "billing" : "diagnostics");
    if (ev && ev->event_seq_opt_case) med_pg_array_add_int8(&col[EV_SEQ], ev->event_seq);
    else med_pg_array_add(&col[EV_SEQ], NULL, 0);
    f_store_add_ms(&col[EV_MS], e->event_at_ms);
    med_pg_array_add_str(&col[EV_CLOSURE], closure_key_of(b, e));
    med_pg_array_add_str(&col[EV_DEDUP_KEY], e->dedup_key);
    med_pg_array_add_str(&col[EV_KEY_SOURCE], e->key_source);
    med_pg_array_add_str(&col[EV_FINGERPRINT], e->fingerprint);
    med_pg_array_add_str(&col[EV_ACK_STATUS], ack_status_name(e->status));
    med_pg_array_add_str(&col[EV_ACK_REASON], f_ack_reason(e));
    med_pg_array_add_str(&col[EV_ANCHOR], anchor_of(b, e));
    med_pg_array_add_str(&col[EV_SNAPSHOT_REF], d ? d->version_anchor_snapshot_ref : NULL);
    med_pg_array_add_str(&col[EV_PAYLOAD], text);
    free(text);
    return 0;
}

static void closure_add(const f_closure_row *c, med_pg_array *col)
{
    med_pg_array_add_str(&col[CL_KEY], c->closure_key);
    med_pg_array_add_str(&col[CL_STATE], closure_state_name(c->state));
    med_pg_array_add_str(&col[CL_TERMINAL_SOURCE],
                         c->state == F_CLOSURE_CLOSED_FAILURE ? terminal_source_name(c->source) : NULL);
    f_store_add_ms(&col[CL_OPENED], c->opened_at_ms);
    med_pg_array_add_bool(&col[CL_SUPERSEDED], c->superseded_once);
    med_pg_array_add_bool(&col[CL_BILLED_IMPRESSION], c->billed_impression);
    med_pg_array_add_bool(&col[CL_BILLED_CLICK], c->billed_click);
    med_pg_array_add_str(&col[CL_PENDING_EVENT], c->pending_click_event_id);
    f_store_add_ms(&col[CL_PENDING_MS], c->pending_click_event_id ? c->pending_click_received_ms : 0);
    med_pg_array_add_str(&col[CL_PENDING_DEDUP], c->pending_click_dedup_key);
    med_pg_array_add_str(&col[CL_PENDING_TRACE], c->pending_click_trace_key);
    med_pg_array_add_str(&col[CL_OPEN_TRACE], c->open_trace_key);
    med_pg_array_add_str(&col[CL_OPEN_REQUEST], c->open_request_key);
    med_pg_array_add_str(&col[CL_OPEN_ATTEMPT], c->open_attempt_key);
    med_pg_array_add_str(&col[CL_OPEN_OPPORTUNITY], c->open_opportunity_key);
    med_pg_array_add_str(&col[CL_OPEN_VERSION], c->open_event_version);
    med_pg_array_add_str(&col[CL_TIMEOUT_RECORD], c->timeout_record_key);
}

/* ---- phase 7: the statement ------------------------------------------------------ */

/* The row sets of the statement, one med_pg_cols each. */
typedef struct write_cols {
    med_pg_cols ev, sq, cl, ph, rl;
} write_cols;

static void write_cols_init(write_cols *w)
{
    uint32_t ev[EV_N], cl[CL_N];
    for (int i = 0; i < EV_N; i++) ev[i] = MED_PG_OID_TEXT;
    ev[EV_INDEX] = MED_PG_OID_INT4;
    ev[EV_SEQ] = ev[EV_MS] = MED_PG_OID_INT8;
    for (int i = 0; i < CL_N; i++) cl[i] = MED_PG_OID_TEXT;
    cl[CL_OPENED] = cl[CL_PENDING_MS] = MED_PG_OID_INT8;
    cl[CL_SUPERSEDED] = cl[CL_BILLED_IMPRESSION] = cl[CL_BILLED_CLICK] = MED_PG_OID_BOOL;
    med_pg_cols_init(&w->ev, ev, EV_N);
    med_pg_cols_init(&w->sq, (const uint32_t[]){ MED_PG_OID_TEXT, MED_PG_OID_INT8, MED_PG_OID_INT8 },
                     SQ_N);
    med_pg_cols_init(&w->cl, cl, CL_N);
    med_pg_cols_init(&w->ph, (const uint32_t[]){ MED_PG_OID_TEXT }, 1);
    med_pg_cols_init(&w->rl, (const uint32_t[]){ MED_PG_OID_TEXT }, 1);
}

static void write_cols_free(write_cols *w)
{
    med_pg_cols_free(&w->ev);
    med_pg_cols_free(&w->sq);
    med_pg_cols_free(&w->cl);
    med_pg_cols_free(&w->ph);
    med_pg_cols_free(&w->rl);
}

static void seqs_add(const f_batch_work *b, med_pg_array *col)
{
    for (size_t i = 0; i < b->n_seqs; i++) {
        const f_seq_row *s = &b->seqs[i];
        if (!s->dirty) continue;
        med_pg_array_add_str(&col[SQ_SCOPE], s->scope);
        med_pg_array_add_int8(&col[SQ_LAST], s->new_last);
        med_pg_array_add_int8(&col[SQ_EXPIRES], b->received_at_ms + b->windows.seq_keep_ms);
    }
}

/* Dirty closures are written; untouched ones are placeholders to delete. */
static void closures_add(const f_batch_work *b, write_cols *w)
{
    for (size_t i = 0; i < b->n_closures; i++) {
        const f_closure_row *c = &b->closures[i];
        if (c->dirty) closure_add(c, w->cl.col);
        else med_pg_array_add_str(&w->ph.col[0], c->closure_key);
    }
}

static void releases_add(const f_batch_work *b, med_pg_array *col)
{
    for (size_t i = 0; i < b->n_dedup; i++)
        if (b->dedup[i].won && b->dedup[i].release) med_pg_array_add_str(col, b->dedup[i].key);
}

static med_rc write_cols_build(const f_batch_work *b, write_cols *w, med_err *err)
{
    write_cols_init(w);
    for (size_t i = 0; i < b->n_events; i++)
        if (event_add(b, &b->events[i], w->ev.col) != 0)
            return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "event payload");
    seqs_add(b, w->sq.col);
    closures_add(b, w);
    releases_add(b, w->rl.col);
    med_rc rc = med_pg_cols_finish(&w->ev, err);
    if (rc == MED_OK) rc = med_pg_cols_finish(&w->sq, err);
    if (rc == MED_OK) rc = med_pg_cols_finish(&w->cl, err);
    if (rc == MED_OK) rc = med_pg_cols_finish(&w->ph, err);
    if (rc == MED_OK) rc = med_pg_cols_finish(&w->rl, err);
    return rc;
}

/* $1..$11 (see W_SCALARS), then the row sets in W_* order. */
static void write_params(const f_batch_work *b, const f_outbox_row *ob, const write_cols *w,
                         const char *received, const char *count, f_params *p)
{
    f_params_text(p, b->tenant_id);
    f_params_text(p, b->auth_app_id);
    f_params_text(p, batch_id_of(b, ob));
    f_params_text(p, received);
    f_params_text(p, ob->key);
    f_params_text(p, ob->kind);
    f_params_text(p, ob->app_id[0] ? ob->app_id : b->auth_app_id);
    f_params_bytes(p, ob->ack_pb, ob->ack_len);
    f_params_bytes(p, ob->records_pb, ob->records_len);
    f_params_bytes(p, ob->audit_pb, ob->audit_len);
    f_params_text(p, count);
    f_params_cols(p, &w->ev);
    f_params_cols(p, &w->sq);
    f_params_cols(p, &w->cl);
    f_params_cols(p, &w->ph);
    f_params_cols(p, &w->rl);
}

med_rc f_store_write(med_pg *pg, const f_batch_work *b, const f_outbox_row *ob, med_err *err)
{
    write_cols w;
    med_rc rc = write_cols_build(b, &w, err);
    char received[24], count[16];
    snprintf(received, sizeof received, "%lld", (long long)b->received_at_ms);
    snprintf(count, sizeof count, "%d", ob->record_count);
    f_params p = { .n = 0 };
    write_params(b, ob, &w, received, count, &p);
    PGresult *res = NULL;
    if (rc == MED_OK) rc = f_store_exec_params(pg, F_SQL_BATCH_WRITE, &p, &res, err);
    write_cols_free(&w);
    if (rc != MED_OK) return rc;
    int outbox_rows = (int)f_store_int_at(res, 0, 1);
    PQclear(res);
    if (outbox_rows != 1)
        return med_err_set(err, MED_ERR_INTERNAL, MED_R_INFRA_PG_QUERY_FAILED, NULL,
                           "outbox row %s was not claimed in this transaction", ob->key);
    return MED_OK;
}
