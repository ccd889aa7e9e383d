/* libFuzzer: an untrusted POST /v1/events body through F's pure phases
 * (envelope, F.4 steps 1-9, then decide and output with the store's rows
 * filled from the input's first byte). Whatever the bytes: no crash, no
 * leak, every refusal carries a known reason code, every event gets
 * exactly one ACK item in events[] order, and every archive record has a
 * 64-hex recordKey. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "f_work.h"
#include "med/reason.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(int ok)
{
    if (!ok) abort();
}

/* Phase 3 and 5 stand-ins: which claims win comes from the input. */
static void fill_rows(f_batch_work *b, uint8_t bits)
{
    for (size_t i = 0; i < b->n_dedup; i++) {
        b->dedup[i].won = (bits >> (i % 8)) & 1;
        b->dedup[i].stored_found = !b->dedup[i].won && (bits & 0x10);
        b->dedup[i].stored_fingerprint = (bits & 0x20) ? b->dedup[i].fingerprint : "other";
    }
    for (size_t i = 0; i < b->n_seqs; i++) b->seqs[i].stored_last = bits & 3;
    for (size_t i = 0; i < b->n_deliveries; i++) {
        b->deliveries[i].found = (bits & 0x40) == 0;
        b->deliveries[i].status = (bits & 0x80) ? "no_fill" : "served";
        b->deliveries[i].amount_micros = 1000;
        b->deliveries[i].currency = "USD";
    }
    for (size_t i = 0; i < b->n_closures; i++) {
        b->closures[i].exists = (bits & 4) != 0;
        b->closures[i].state = (f_closure_state)((bits >> 2) & 3);
        b->closures[i].source = (bits & 8) ? F_TERMINAL_SYSTEM_TIMEOUT : F_TERMINAL_REAL_FAILURE;
    }
}

static void check_output(const f_batch_work *b)
{
    require(b->ack && b->ack->http_status == 200);
    require(b->ack->n_ack_items == b->n_events);
    for (size_t i = 0; i < b->n_events; i++) {
        const Mediation__V1__EventAck *it = b->ack->ack_items[i];
        require(it->event_index == (int32_t)i);
        require(med_reason_lookup(it->ack_reason_code) != NULL);
        require(it->server_event_key && it->server_event_key[0]);
    }
    for (size_t i = 0; i < b->n_records; i++)
        require(b->records[i]->record_key && strlen(b->records[i]->record_key) == 64);
}

/* Raw bytes rarely make a valid batch, so the same bytes also fill the
 * string fields of a well-formed one (pieces split at '\n'): the rules
 * past the envelope get exercised from the first run. */
static char *templated_body(const uint8_t *data, size_t size)
{
    static const char *const types[] = {"impression", "click", "ad_filled", "error",
                                        "postback", "interaction", "auction_started",
                                        "opportunity_created", "failure"};
    static const char *const fields[] = {"eventId", "idempotencyKey", "renderAttemptId",
                                         "eventAt", "eventIdScope", "errorClass",
                                         "postbackType", "creativeId", "responseReference"};
    char *copy = malloc(size + 1);
    if (!copy) return NULL;
    memcpy(copy, data, size);
    copy[size] = '\0';
    json_t *events = json_array();
    char *save = NULL;
    size_t n = 0;
    for (char *piece = strtok_r(copy, "\n", &save); piece && n < 12; piece = strtok_r(NULL, "\n", &save), n++) {
        json_t *ev = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i}",
                               "eventId", "evt_f", "eventType", types[n % 9], "eventAt",
                               "2026-02-22T10:29:59.000Z", "traceKey", "tr", "requestKey", "rq",
                               "attemptKey", "at", "opportunityKey", "op", "eventVersion", "v1",
                               "responseReference", "resp", "renderAttemptId", "ra", "creativeId",
                               "cr", "clickTarget", "cta", "errorStage", "render", "eventSeq", 1);
        if (!ev) continue;
        json_object_set_new(ev, "errorCode", json_string("x"));
        json_object_set_new(ev, "postbackStatus", json_string("success"));
        json_object_set_new(ev, fields[(unsigned char)piece[0] % 9], json_stringn(piece, strlen(piece)));
        json_array_append_new(events, ev);
    }
    free(copy);
    json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "batchId", "b_fuzz", "appId", "app",
                             "sdkVersion", "1", "sentAt", "2026-02-22T10:29:59.000Z",
                             "schemaVersion", "schema_v1", "events", events);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    return text;
}

static void run_one(const char *body, size_t size, const uint8_t *data, size_t dsize);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run_one((const char *)data, size, data, size);
    char *t = templated_body(data, size);
    if (t) run_one(t, strlen(t), data, size);
    free(t);
    return 0;
}

static void run_one(const char *body, size_t bsize, const uint8_t *data, size_t size)
{
    f_batch_work b;
    med_err err;
    f_batch_init(&b, "tenant_fuzz", NULL, 1771756200000LL, NULL);
    med_rc rc = f_envelope_parse(&b, body, bsize, &err);
    require(rc == MED_OK);
    if (b.envelope_reason) {
        require(med_reason_lookup(b.envelope_reason) != NULL);
        require(b.envelope_http_status == 400 || b.envelope_http_status == 403);
    } else {
        require(f_phase_validate(&b, &err) == MED_OK);
        fill_rows(&b, size ? data[0] : 0);
        require(f_phase_decide(&b, &err) == MED_OK);
        for (size_t i = 0; i < b.n_events; i++)
            for (size_t k = 0; k < b.events[i].n_claims; k++)
                if ((i + k + (size ? data[size - 1] : 0)) & 1)
                    require(f_phase_claim_lost(&b, i, k, &err) == MED_OK);
        require(f_phase_output(&b, &err) == MED_OK);
        check_output(&b);
    }
    f_batch_free(&b);
}
