/* Test fixture for F's pure phases: F.9 events as JSON, and an in-memory
 * stand-in for the store (phases 3, 5, 7) so a test can run batch after
 * batch, or interleave two replicas, against shared state. */
#ifndef TEST_F_FIXTURE_H
#define TEST_F_FIXTURE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "f_work.h"

#define FX_APP "app_chat_main"
#define FX_RR "resp_f_001"
#define FX_RA "ra_001"
/* 2026-02-22T10:30:00.000Z */
#define FX_T0 1771756200000LL

/* One F.9 fixture event of `type` (all common keys, resp_f_001, ra_001,
 * the type's fields; eventAt = FX_T0 - 1 s). Caller owns the json_t. */
json_t *fx_ev(const char *type, const char *event_id);
/* Sets eventAt to ms (RFC 3339 UTC). */
void fx_ev_at(json_t *ev, int64_t ms);
/* The POST body for events (stolen), as a malloc'd string. */
char *fx_body(const char *batch_id, json_t *events);

typedef struct fx_kv {
    char *key;
    char *val;
    int64_t num;
} fx_kv;

#define FX_MAX 128

typedef struct fx_store {
    fx_kv dedup[FX_MAX];     size_t n_dedup;     /* key -> fingerprint */
    fx_kv seqs[FX_MAX];      size_t n_seqs;      /* scope -> last */
    fx_kv billing[FX_MAX];   size_t n_billing;   /* billing keys claimed */
    fx_kv deliveries[FX_MAX]; size_t n_deliveries; /* rr -> status, amount */
    f_closure_row closures[FX_MAX]; size_t n_closures; /* strings strdup'd */
    size_t billable_records; /* billable_fact records output, ever */
} fx_store;

void fx_store_init(fx_store *s);
void fx_store_free(fx_store *s);
void fx_delivery(fx_store *s, const char *rr, const char *status, int64_t amount_micros);
const f_closure_row *fx_closure(const fx_store *s, const char *closure_key);

/* Starts batch b at received_ms with the fixture app and default windows. */
void fx_batch(f_batch_work *b, int64_t received_ms);
/* Phase 1 + 2 on body; asserts the envelope passes. */
void fx_parse_validate(f_batch_work *b, const char *body);
/* Phase 3 stand-in: fills the lookup rows from s. */
void fx_load(fx_store *s, f_batch_work *b);
/* Phase 4. */
void fx_decide(f_batch_work *b);
/* Phase 5 stand-in: claims billing keys in s, feeds losses back. */
void fx_claim(fx_store *s, f_batch_work *b);
/* Phase 6 + phase 7 stand-in: output, then writes dedup keys, seq rows,
 * closures to s; counts billable records. */
void fx_output_commit(fx_store *s, f_batch_work *b);
/* All phases for one body at received_ms; b stays for inspection. */
void fx_run(fx_store *s, f_batch_work *b, int64_t received_ms, const char *body);
/* Phases for b (already holding events, e.g. timers) from validate on. */
void fx_run_prepared(fx_store *s, f_batch_work *b);

/* Inspecting results. */
const char *fx_ack_status(const f_batch_work *b, size_t i);
const char *fx_ack_code(const f_batch_work *b, size_t i);
size_t fx_count_records(const f_batch_work *b, const char *record_type, const char *status);
size_t fx_count_billable(const f_batch_work *b, const char *billable_type);
const Mediation__V1__FToGArchiveRecordLite *fx_find_record(const f_batch_work *b, const char *record_type,
                                                           const char *reason);

#endif
