/* F's working set for one event batch: the contract between F's pure rules
 * (f_envelope.c, f_validate.c, f_dedup.c, f_closure.c, f_facts.c,
 * f_archive.c, f_ack.c) and its I/O (f_store*.c, f_service.c, f_scan.c).
 *
 * A batch moves through phases; pure phases never do I/O, I/O phases never
 * decide:
 *
 *   1 pure  f_envelope_parse + f_envelope_check   body -> request, or a 400/403
 *   2 pure  f_phase_validate     F.4 steps 1-9 per event; computes dedup key,
 *                                fingerprint, layer, seq scope, closure key;
 *                                fills the batch's lookup tables (keys only)
 *   3 I/O   (store)              inside one PostgreSQL transaction: claims the
 *                                dedup keys of candidates (rows it wins are
 *                                locked until commit), reads the claims it
 *                                lost, locks the seq rows and closure rows
 *                                (sorted keys), reads Deliveries
 *   4 pure  f_phase_decide       F.4 steps 10-12, then F.6 closures (applied
 *                                in (impression, failure, rest; eventAt;
 *                                eventId) order) and F.7 facts/billing
 *                                intents; marks rows dirty
 *   5 I/O   (store)              inserts billing claims (billing_ledger, ON
 *                                CONFLICT DO NOTHING); each lost claim goes
 *                                back through f_phase_claim_lost
 *   6 pure  f_phase_output       ACK (F.5), archive records (F.8), audit
 *   7 I/O   (store)              writes event_records, seq rows, closure rows,
 *                                releases dedup claims of events that ended
 *                                rejected, writes the outbox row (ACK +
 *                                archive records), commits; then replies,
 *                                publishes, sets Redis fast-path keys
 *
 * Memory: everything a phase allocates lives in b->arena; strings and
 * protobuf messages in this struct are arena-owned unless marked
 * "borrowed". */
#ifndef F_WORK_H
#define F_WORK_H

#include <stddef.h>
#include <stdint.h>

#include "med/arena.h"
#include "med/err.h"
#include "mediation/v1/archive.pb-c.h"
#include "mediation/v1/events.pb-c.h"

/* Windows and limits (00 decision 6: every window is configurable; the
 * defaults are the spec's). Milliseconds. */
typedef struct f_windows {
    int64_t billing_dedup_ms;     /* 14 d */
    int64_t diagnostics_dedup_ms; /* 3 d */
    int64_t inflight_lock_ms;     /* 120 s */
    int64_t terminal_wait_ms;     /* 120 s: closures, pending clicks, unknown Deliveries */
    int64_t future_skew_ms;       /* 300 s: eventAt <= receivedAt + this */
    int64_t seq_keep_ms;          /* 14 d: last accepted eventSeq per scope */
    int64_t compensation_ms;      /* 15 min: archive compensation */
} f_windows;

void f_windows_default(f_windows *w);

typedef enum f_ack_status {
    F_ACK_PENDING = 0, /* still a candidate (between phases 2 and 4) */
    F_ACK_ACCEPTED,
    F_ACK_REJECTED,
    F_ACK_DUPLICATE,
} f_ack_status;

typedef enum f_layer { F_LAYER_DIAGNOSTICS = 0, F_LAYER_BILLING } f_layer;

typedef enum f_closure_state {
    F_CLOSURE_NONE = 0,
    F_CLOSURE_OPEN,
    F_CLOSURE_CLOSED_SUCCESS,
    F_CLOSURE_CLOSED_FAILURE,
} f_closure_state;

typedef enum f_terminal_source {
    F_TERMINAL_NONE = 0,
    F_TERMINAL_REAL_FAILURE,
    F_TERMINAL_SYSTEM_TIMEOUT,
} f_terminal_source;

/* ---- lookup tables: phase 2 fills the keys, phase 3 the rest ---- */

/* One dedup key of the batch (first occurrence claims it). */
typedef struct f_dedup_row {
    const char *key;           /* canonicalDedupKey */
    const char *fingerprint;   /* this batch's fingerprint (first occurrence) */
    int64_t expires_at_ms;     /* receivedAt + layer window */
    int first_event;           /* index of the first candidate event with this key */
    /* phase 3 */
    int won;                   /* claim inserted (new, or took over an expired one) */
    int stored_found;          /* lost: a live record exists */
    const char *stored_fingerprint;
    /* phase 7 */
    int release;               /* the claiming event ended rejected: delete the claim */
} f_dedup_row;

/* Last accepted eventSeq per appId|responseReference|renderAttemptIdOrNA|eventType. */
typedef struct f_seq_row {
    const char *scope;
    int64_t stored_last;       /* phase 3; 0 = none (or expired) */
    int64_t new_last;          /* phase 4 */
    int dirty;
} f_seq_row;

/* What F knows about a Delivery (from its delivery consumer, or from
 * delivery_records as a fallback). */
typedef struct f_delivery_row {
    const char *response_reference;
    int found;                 /* phase 3 */
    const char *status;        /* served | no_fill | error */
    const char *opportunity_key;
    const char *anchor_hash;
    const char *version_anchor_snapshot_ref;
    int64_t amount_micros;     /* the winner's price: billing and reconciliation */
    const char *currency;
    int64_t delivered_at_ms;
} f_delivery_row;

/* One closure (responseReference|renderAttemptId), as stored and as the
 * batch leaves it. Phase 3 loads it locked (or leaves exists=0). Phase 4
 * may leave a row dirty with exists=0 and state F_CLOSURE_NONE: a click
 * before any open stores its pending click there (insert it). */
typedef struct f_closure_row {
    const char *closure_key;
    const char *response_reference;
    const char *render_attempt_id;
    int exists;
    f_closure_state state;
    f_terminal_source source;     /* for closed_failure */
    int64_t opened_at_ms;
    int superseded_once;          /* a synthesized failure was superseded (at most once) */
    int billed_impression;        /* a billable_impression claim exists */
    int billed_click;             /* a billable_click claim exists */
    /* a click received before a billable impression (F.7 pending click) */
    const char *pending_click_event_id;
    int64_t pending_click_received_ms;
    const char *pending_click_dedup_key;
    const char *pending_click_trace_key;
    /* the opening event's keys, for the synthesized timeout failure (F.6) */
    const char *open_trace_key, *open_request_key, *open_attempt_key, *open_opportunity_key;
    const char *open_event_version;
    const char *timeout_record_key; /* attribution recordKey of the synthesized failure */
    int dirty;
} f_closure_row;

/* ---- per event ---- */

typedef struct f_billing_claim {
    const char *billing_key;      /* responseReference|renderAttemptId|billableType */
    const char *billable_type;    /* billable_impression | billable_click */
    const char *source_event_id;
    int64_t amount_micros;
    int won;                      /* phase 5 */
} f_billing_claim;

/* A pending click (F.7) that an impression or a failure resolves in this
 * batch: its own audit (and billable fact when upgraded) rides on the
 * resolving event. */
typedef struct f_click_resolution {
    const char *click_event_id;              /* NULL = none */
    const char *click_dedup_key;
    const char *click_trace_key;
    int64_t click_received_ms;
    Mediation__V1__FactDecisionAuditLite *decision;
    Mediation__V1__AttributionFactLite *attribution; /* attr_click_non_billable, or NULL */
    int claim;                               /* index into claims (upgrade), -1 none */
} f_click_resolution;

typedef struct f_event_work {
    int index;                               /* eventIndex */
    const Mediation__V1__SdkEvent *ev;       /* borrowed from the request */
    f_layer layer;
    int64_t event_at_ms;
    /* outcome (ACK item) */
    f_ack_status status;
    const char *reason;                      /* ackReasonCode (MED_R_F_...) */
    int retryable;
    int subenum_unknown;                     /* step 7 normalized a value to unknown */
    const char *raw_sub_enums_json;          /* raw values it replaced, JSON object */
    int idem_fallback;                       /* malformed idempotencyKey fell through */
    /* dedup (F.5) */
    const char *key_source;                  /* client_idempotency|client_event_id|computed|none */
    const char *dedup_key;
    const char *fingerprint;
    int dedup_row;                           /* index into b->dedup, -1 when none */
    /* lookups */
    int seq_row;                             /* -1 when the type has no eventSeq */
    int delivery_row;                        /* -1 without responseReference */
    int closure_row;                         /* -1 without closure key */
    /* decisions */
    Mediation__V1__ClosureDecisionLite *closure_decision;
    Mediation__V1__FactDecisionAuditLite *fact_decision;
    Mediation__V1__BillableFactLite **billable;       size_t n_billable;
    Mediation__V1__AttributionFactLite **attribution; size_t n_attribution;
    f_billing_claim claims[2];               size_t n_claims;
    int conflicted;                          /* closure/billing conflict record */
    const char *supersedes_record_key;       /* impression superseding a timeout failure */
    /* added by the rules (f_decide.c) */
    const char *dedup_outcome;               /* new|duplicate_inflight|duplicate_committed|rejected_conflict, NULL = not looked up */
    int is_failure;                          /* terminal error or synthesized failure */
    const char *internal_type;               /* F's type: the wire type, or failure */
    f_click_resolution click;                /* pending click resolved by this event */
    /* phase 6 */
    Mediation__V1__FToGArchiveRecordLite **records; size_t n_records;
} f_event_work;

typedef struct f_batch_work {
    med_arena arena;
    /* inputs */
    const char *tenant_id;
    const char *auth_app_id;                 /* Med-App, authenticated */
    int64_t received_at_ms;
    int64_t now_ms;                          /* decision time (outputAt, decidedAt) */
    f_windows windows;
    int event_id_global_verified;            /* app config eventIdGlobalUniqueVerified */
    const char *anchor_hash;                 /* Med-Anchor-Hash of the request, may be NULL */
    Mediation__V1__EventBatchRequestLite *req; /* parsed (arena or borrowed) */
    /* envelope verdict (phase 1) */
    const char *envelope_reason;             /* NULL = envelope ok */
    int envelope_http_status;                /* 400 | 403 */
    const char *envelope_field;
    /* per event, in events[] order */
    f_event_work *events; size_t n_events;
    /* lookup tables (phase 2 sizes them; at most one row per distinct key) */
    f_dedup_row *dedup;       size_t n_dedup;
    f_seq_row *seqs;          size_t n_seqs;
    f_delivery_row *deliveries; size_t n_deliveries;
    f_closure_row *closures;  size_t n_closures;
    /* phase 6 */
    /* every archive record of the batch (the events' records, same
     * pointers) in F.8 write order: group closureKeyOrNA|traceKey, then
     * decision_audit, billable_fact, attribution_fact, then outputAt,
     * recordKey */
    Mediation__V1__FToGArchiveRecordLite **records; size_t n_records;
    Mediation__V1__EventBatchAck *ack;
    Mediation__V1__FEventAuditLite *audit;
    const char *overall_status;
} f_batch_work;

/* Starts an empty batch; f_batch_free releases the arena. */
void f_batch_init(f_batch_work *b, const char *tenant_id, const char *auth_app_id,
                  int64_t received_at_ms, const f_windows *w);
void f_batch_free(f_batch_work *b);

/* ---- pure phases ---- */

/* Phase 1: parses a POST /v1/events body into b->req (arena) and runs the
 * F.2 whole-batch checks. MED_OK with b->envelope_reason == NULL: go on.
 * MED_OK with envelope_reason set: answer envelope_http_status, store
 * nothing. MED_ERR_NOMEM only on allocation failure. */
med_rc f_envelope_parse(f_batch_work *b, const char *body, size_t len, med_err *err);
/* The same checks for a request that arrived already parsed (tools). */
med_rc f_envelope_check(f_batch_work *b, Mediation__V1__EventBatchRequestLite *req, med_err *err);

/* Phase 2 (F.4 steps 1-9). */
med_rc f_phase_validate(f_batch_work *b, med_err *err);
/* Phase 4 (F.4 steps 10-12, F.6, F.7). */
med_rc f_phase_decide(f_batch_work *b, med_err *err);
/* Phase 5 feedback: event e's claim c lost the unique row. Claims phase 5
 * wins get won=1; every other claim must come back through here. */
med_rc f_phase_claim_lost(f_batch_work *b, size_t event, size_t claim, med_err *err);
/* Phase 6 (F.5 ACK, F.8 archive records, the batch audit). */
med_rc f_phase_output(f_batch_work *b, med_err *err);

/* ---- timers (f_scan.c drives them; the rules are pure) ---- */

/* The F.6 autofill: a batch of one synthesized `failure` event
 * (terminalSource system_timeout_synthesized, failureReasonCode
 * f_terminal_timeout_autofill, eventId "evt_timeout_" +
 * hex16(closureKey|timeout), keys from the opening event) for a closure the
 * caller CAS-moved from open to closed_failure. The event then runs phases
 * 2..6 like any other (normal dedup), so it takes effect once. */
med_rc f_batch_add_synth_failure(f_batch_work *b, const f_closure_row *closure, med_err *err);
/* A pending click older than the terminal wait: its decision_audit record
 * (f_billing_click_without_impression), into b like a processed event. */
med_rc f_batch_add_click_expiry(f_batch_work *b, const f_closure_row *closure, med_err *err);

/* E.10: the renderAttemptId an SDK uses when it mints none, and the one a
 * silent SDK's Delivery gets its default closure under:
 * "ra_" + hex16(sha256(responseReference ":" attemptKey)). out >= 20 bytes. */
void f_default_render_attempt_id(const char *response_reference, const char *attempt_key,
                                 char *out, size_t cap);

#endif
