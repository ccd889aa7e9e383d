/* See test_f_fixture.h. The store stand-in follows the contract of
 * f_work.h: keys only from phase 2, rows filled here, dirty rows written
 * back at "commit". */
#include "test_f_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "med/ids.h"

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

json_t *fx_ev(const char *type, const char *event_id)
{
    json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "eventId", event_id,
                          "eventType", type, "eventAt", "2026-02-22T10:29:59.000Z", "traceKey",
                          "tr_f_001", "requestKey", "rq_f_001", "attemptKey", "at_f_001",
                          "opportunityKey", "op_f_001", "eventVersion", "event_v1",
                          "responseReference", FX_RR, "renderAttemptId", FX_RA);
    if (strcmp(type, "opportunity_created") == 0) json_object_set_new(e, "placementKey", json_string("pl_home"));
    if (strcmp(type, "auction_started") == 0) json_object_set_new(e, "auctionChannel", json_string("bidding"));
    if (strcmp(type, "ad_filled") == 0 || strcmp(type, "impression") == 0)
        json_object_set_new(e, "creativeId", json_string("creative_001"));
    if (strcmp(type, "click") == 0) {
        json_object_set_new(e, "clickTarget", json_string("cta"));
        json_object_set_new(e, "eventSeq", json_integer(1));
    }
    if (strcmp(type, "interaction") == 0) {
        json_object_set_new(e, "interactionType", json_string("expand"));
        json_object_set_new(e, "eventSeq", json_integer(1));
    }
    if (strcmp(type, "postback") == 0) {
        json_object_set_new(e, "postbackType", json_string("conversion"));
        json_object_set_new(e, "postbackStatus", json_string("success"));
        json_object_set_new(e, "eventSeq", json_integer(1));
    }
    if (strcmp(type, "error") == 0) {
        json_object_set_new(e, "errorStage", json_string("render"));
        json_object_set_new(e, "errorCode", json_string("e_render_ttl_expired"));
        json_object_set_new(e, "errorClass", json_string("terminal"));
    }
    return e;
}

void fx_ev_at(json_t *ev, int64_t ms)
{
    char at[32];
    med_format_utc_ms(ms, at, sizeof at);
    json_object_set_new(ev, "eventAt", json_string(at));
}

char *fx_body(const char *batch_id, json_t *events)
{
    json_t *b = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "batchId", batch_id, "appId", FX_APP,
                          "sdkVersion", "sdk_2.1.0", "sentAt", "2026-02-22T10:29:59.500Z",
                          "schemaVersion", "schema_v1", "events", events);
    char *s = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    return s;
}

void fx_store_init(fx_store *s)
{
    memset(s, 0, sizeof *s);
}

static void free_kvs(fx_kv *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].key);
        free(v[i].val);
    }
}

static void free_closure(f_closure_row *c)
{
    char **strs[] = {(char **)&c->closure_key, (char **)&c->response_reference,
                     (char **)&c->render_attempt_id, (char **)&c->pending_click_event_id,
                     (char **)&c->pending_click_dedup_key, (char **)&c->pending_click_trace_key,
                     (char **)&c->open_trace_key, (char **)&c->open_request_key,
                     (char **)&c->open_attempt_key, (char **)&c->open_opportunity_key,
                     (char **)&c->open_event_version, (char **)&c->timeout_record_key};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        free(*strs[i]);
        *strs[i] = NULL;
    }
}

void fx_store_free(fx_store *s)
{
    free_kvs(s->dedup, s->n_dedup);
    free_kvs(s->seqs, s->n_seqs);
    free_kvs(s->billing, s->n_billing);
    free_kvs(s->deliveries, s->n_deliveries);
    for (size_t i = 0; i < s->n_closures; i++) free_closure(&s->closures[i]);
    memset(s, 0, sizeof *s);
}

static fx_kv *kv_find(fx_kv *v, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].key, key) == 0) return &v[i];
    return NULL;
}

static fx_kv *kv_put(fx_kv *v, size_t *n, const char *key, const char *val, int64_t num)
{
    fx_kv *e = kv_find(v, *n, key);
    if (!e) {
        assert_true(*n < FX_MAX);
        e = &v[(*n)++];
        e->key = strdup(key);
    } else {
        free(e->val);
    }
    e->val = dup_or_null(val);
    e->num = num;
    return e;
}

void fx_delivery(fx_store *s, const char *rr, const char *status, int64_t amount)
{
    kv_put(s->deliveries, &s->n_deliveries, rr, status, amount);
}

const f_closure_row *fx_closure(const fx_store *s, const char *key)
{
    for (size_t i = 0; i < s->n_closures; i++)
        if (strcmp(s->closures[i].closure_key, key) == 0) return &s->closures[i];
    return NULL;
}

void fx_batch(f_batch_work *b, int64_t received_ms)
{
    f_batch_init(b, "tenant_a", FX_APP, received_ms, NULL);
    b->anchor_hash = "anchor_req";
}

void fx_parse_validate(f_batch_work *b, const char *body)
{
    med_err err;
    assert_int_equal(f_envelope_parse(b, body, strlen(body), &err), MED_OK);
    assert_null(b->envelope_reason);
    assert_int_equal(f_phase_validate(b, &err), MED_OK);
}

/* arena copy of a store closure's strings, so the batch never points
 * into the store */
static void load_closure(f_batch_work *b, f_closure_row *dst, const f_closure_row *src)
{
    med_arena *a = &b->arena;
    const char *key = dst->closure_key, *rr = dst->response_reference, *ra = dst->render_attempt_id;
    *dst = *src;
    dst->closure_key = key;
    dst->response_reference = rr;
    dst->render_attempt_id = ra;
    dst->exists = 1;
    dst->dirty = 0;
    dst->pending_click_event_id = med_arena_strdup(a, src->pending_click_event_id);
    dst->pending_click_dedup_key = med_arena_strdup(a, src->pending_click_dedup_key);
    dst->pending_click_trace_key = med_arena_strdup(a, src->pending_click_trace_key);
    dst->open_trace_key = med_arena_strdup(a, src->open_trace_key);
    dst->open_request_key = med_arena_strdup(a, src->open_request_key);
    dst->open_attempt_key = med_arena_strdup(a, src->open_attempt_key);
    dst->open_opportunity_key = med_arena_strdup(a, src->open_opportunity_key);
    dst->open_event_version = med_arena_strdup(a, src->open_event_version);
    dst->timeout_record_key = med_arena_strdup(a, src->timeout_record_key);
}

void fx_load(fx_store *s, f_batch_work *b)
{
    for (size_t i = 0; i < b->n_dedup; i++) {
        f_dedup_row *r = &b->dedup[i];
        fx_kv *e = kv_find(s->dedup, s->n_dedup, r->key);
        r->won = e == NULL;
        r->stored_found = e != NULL;
        r->stored_fingerprint = e ? med_arena_strdup(&b->arena, e->val) : NULL;
    }
    for (size_t i = 0; i < b->n_seqs; i++) {
        fx_kv *e = kv_find(s->seqs, s->n_seqs, b->seqs[i].scope);
        b->seqs[i].stored_last = e ? e->num : 0;
    }
    for (size_t i = 0; i < b->n_deliveries; i++) {
        f_delivery_row *d = &b->deliveries[i];
        fx_kv *e = kv_find(s->deliveries, s->n_deliveries, d->response_reference);
        if (!e) continue;
        d->found = 1;
        d->status = med_arena_strdup(&b->arena, e->val);
        d->amount_micros = e->num;
        d->currency = "USD";
        d->anchor_hash = "anchor_delivery";
    }
    for (size_t i = 0; i < b->n_closures; i++) {
        const f_closure_row *c = fx_closure(s, b->closures[i].closure_key);
        if (c) load_closure(b, &b->closures[i], c);
    }
}

void fx_decide(f_batch_work *b)
{
    med_err err;
    assert_int_equal(f_phase_decide(b, &err), MED_OK);
}

void fx_claim(fx_store *s, f_batch_work *b)
{
    med_err err;
    for (size_t i = 0; i < b->n_events; i++)
        for (size_t k = 0; k < b->events[i].n_claims; k++) {
            f_billing_claim *c = &b->events[i].claims[k];
            if (kv_find(s->billing, s->n_billing, c->billing_key)) {
                assert_int_equal(f_phase_claim_lost(b, i, k, &err), MED_OK);
            } else {
                kv_put(s->billing, &s->n_billing, c->billing_key, c->source_event_id, c->amount_micros);
                c->won = 1;
            }
        }
}

static void store_closure(fx_store *s, const f_closure_row *c)
{
    f_closure_row *dst = (f_closure_row *)fx_closure(s, c->closure_key);
    /* the batch may borrow strings of the stored row (timer events): copy
     * first, free the old row after */
    f_closure_row old = {0};
    if (!dst) {
        assert_true(s->n_closures < FX_MAX);
        dst = &s->closures[s->n_closures++];
    } else {
        old = *dst;
    }
    *dst = *c;
    dst->closure_key = strdup(c->closure_key);
    dst->response_reference = strdup(c->response_reference);
    dst->render_attempt_id = strdup(c->render_attempt_id);
    dst->pending_click_event_id = dup_or_null(c->pending_click_event_id);
    dst->pending_click_dedup_key = dup_or_null(c->pending_click_dedup_key);
    dst->pending_click_trace_key = dup_or_null(c->pending_click_trace_key);
    dst->open_trace_key = dup_or_null(c->open_trace_key);
    dst->open_request_key = dup_or_null(c->open_request_key);
    dst->open_attempt_key = dup_or_null(c->open_attempt_key);
    dst->open_opportunity_key = dup_or_null(c->open_opportunity_key);
    dst->open_event_version = dup_or_null(c->open_event_version);
    dst->timeout_record_key = dup_or_null(c->timeout_record_key);
    dst->exists = 1;
    dst->dirty = 0;
    free_closure(&old);
}

void fx_output_commit(fx_store *s, f_batch_work *b)
{
    med_err err;
    assert_int_equal(f_phase_output(b, &err), MED_OK);
    for (size_t i = 0; i < b->n_dedup; i++)
        if (b->dedup[i].won && !b->dedup[i].release)
            kv_put(s->dedup, &s->n_dedup, b->dedup[i].key, b->dedup[i].fingerprint, 0);
    for (size_t i = 0; i < b->n_seqs; i++)
        if (b->seqs[i].dirty) kv_put(s->seqs, &s->n_seqs, b->seqs[i].scope, NULL, b->seqs[i].new_last);
    for (size_t i = 0; i < b->n_closures; i++)
        if (b->closures[i].dirty) store_closure(s, &b->closures[i]);
    s->billable_records += fx_count_records(b, "billable_fact", NULL);
}

void fx_run_prepared(fx_store *s, f_batch_work *b)
{
    med_err err;
    assert_int_equal(f_phase_validate(b, &err), MED_OK);
    fx_load(s, b);
    fx_decide(b);
    fx_claim(s, b);
    fx_output_commit(s, b);
}

void fx_run(fx_store *s, f_batch_work *b, int64_t received_ms, const char *body)
{
    fx_batch(b, received_ms);
    fx_parse_validate(b, body);
    fx_load(s, b);
    fx_decide(b);
    fx_claim(s, b);
    fx_output_commit(s, b);
}

const char *fx_ack_status(const f_batch_work *b, size_t i)
{
    assert_non_null(b->ack);
    assert_true(i < b->ack->n_ack_items);
    return b->ack->ack_items[i]->ack_status;
}

const char *fx_ack_code(const f_batch_work *b, size_t i)
{
    assert_non_null(b->ack);
    assert_true(i < b->ack->n_ack_items);
    return b->ack->ack_items[i]->ack_reason_code;
}

size_t fx_count_records(const f_batch_work *b, const char *type, const char *status)
{
    size_t n = 0;
    for (size_t i = 0; i < b->n_records; i++)
        if (strcmp(b->records[i]->record_type, type) == 0 &&
            (!status || strcmp(b->records[i]->record_status, status) == 0))
            n++;
    return n;
}

size_t fx_count_billable(const f_batch_work *b, const char *billable_type)
{
    size_t n = 0;
    for (size_t i = 0; i < b->n_records; i++)
        if (b->records[i]->payload_case == MEDIATION__V1__FTO_GARCHIVE_RECORD_LITE__PAYLOAD_BILLABLE_FACT &&
            strcmp(b->records[i]->billable_fact->billable_type, billable_type) == 0)
            n++;
    return n;
}

const Mediation__V1__FToGArchiveRecordLite *fx_find_record(const f_batch_work *b, const char *type,
                                                           const char *reason)
{
    for (size_t i = 0; i < b->n_records; i++)
        if (strcmp(b->records[i]->record_type, type) == 0 &&
            (!reason || strcmp(b->records[i]->decision_reason_code, reason) == 0))
            return b->records[i];
    return NULL;
}
