/* Assembly of one opportunity's audit record (spec 04 G.3
 * gAuditRecordLite) from the fragments stored for its attemptKey: the
 * decision StageAudits of A..E (audit_records.payload_pb), the Delivery
 * (delivery_records) and F's archive records (archive_records).
 *
 * Assembled on read, never materialized: the I/O hands over only fragments
 * stored at or before the replay cut, and the same fragments always
 * assemble to the same bytes, so a late append cannot alter a past cut and
 * two replicas answer alike. auditAt is the time E durably recorded the
 * Delivery (delivery_records.created_at, ms): the opportunity becomes
 * visible to replay once E decided. Pure; everything built lives in the
 * caller's arena. */
#ifndef G_ASSEMBLE_H
#define G_ASSEMBLE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "med/arena.h"
#include "med/err.h"
#include "mediation/v1/archive.pb-c.h"
#include "mediation/v1/audit.pb-c.h"
#include "mediation/v1/delivery.pb-c.h"

#define G_AUDIT_RECORD_VERSION "g_audit_record_v1"
#define G_AUDIT_RULE_VERSION "g_assemble_rule_v1"
#define G_AUDIT_CONTRACT_VERSION "g_audit_contract_v1"

typedef enum g_stage_ix { G_ST_A = 0, G_ST_B, G_ST_C, G_ST_D, G_ST_E, G_ST_COUNT } g_stage_ix;

/* One stored archive record with its G.4 write state. */
typedef struct g_arch_row {
    Mediation__V1__FToGArchiveRecordLite *rec;
    const char *write_status;
    int64_t created_ms;
} g_arch_row;

/* The fragments of one opportunity visible at the cut. */
typedef struct g_frags {
    const Mediation__V1__StageAudit *stage[G_ST_COUNT];
    int64_t stage_created_ms[G_ST_COUNT];
    int64_t stage_row_id[G_ST_COUNT];
    const Mediation__V1__Delivery *delivery;
    g_arch_row *arch;
    size_t n_arch, cap_arch;
} g_frags;

/* One opportunity attempt as replay sees it: the Delivery row's keys, then
 * its fragments once loaded. Strings live in the page's arena. */
typedef struct g_opp {
    const char *response_reference, *attempt_key, *trace_key, *request_key, *opportunity_key;
    const char *app_id, *placement_id;
    int64_t audit_at_ms;
    int64_t min_output_ms;        /* earliest linked archive outputAt; 0 = none */
    int has_output;
    int arch_match;               /* record filters of the query */
    char audit_record_id[40];
    int loaded;                   /* fragments below are filled */
    g_frags f;
} g_opp;

/* auditRecordId = "gar_" + sha256(traceKey|requestKey|attemptKey|responseReference)[0:24]. */
void g_assemble_record_id(g_opp *o);

/* Offers a decoded StageAudit of o (stored at created_ms, row id): kept
 * when it is its stage's decision audit and the earliest stored. */
void g_frags_offer_audit(g_frags *f, const Mediation__V1__StageAudit *sa, int64_t created_ms,
                         int64_t row_id);
/* Appends an archive row (the arena owns rows and record). */
med_rc g_frags_add_archive(med_arena *a, g_frags *f, Mediation__V1__FToGArchiveRecordLite *rec,
                           const char *write_status, int64_t created_ms, med_err *err);

/* One archive_records row as replay reads it: pb/pb_len the packed
 * FToGArchiveRecordLite (payload_pb), else legacy_json the full JSON
 * payload of a row stored before payload_pb existed (migration 0018).
 * record_status is the row's: new -> committed / superseded happen in
 * place, after the record was packed. */
typedef struct g_arch_stored {
    const uint8_t *pb;
    size_t pb_len;
    const char *legacy_json;
    const char *record_status;
} g_arch_stored;

/* The record of a stored row, in the arena. *out NULL (MED_OK): the row
 * does not decode, no fragment. err only on allocation failure. */
med_rc g_archive_decode(med_arena *a, const g_arch_stored *s, Mediation__V1__FToGArchiveRecordLite **out,
                        med_err *err);

/* j (as med_pb_to_json renders a message of d) -> the message, in the
 * arena (g_assemble_legacy.c: the reader of pre-0018 rows). NULL on
 * allocation failure. */
ProtobufCMessage *g_pb_from_json(med_arena *a, const json_t *j, const ProtobufCMessageDescriptor *d);

/* Protobuf-c allocator over an arena (free is a no-op: the arena frees). */
void g_pb_arena_allocator(med_arena *a, ProtobufCAllocator *out);

/* ---- event facts (F.6/F.7 inputs, as archived) ---- */

typedef struct g_fact {
    const char *event_type;
    const char *attribution_type;
    const char *source_event_id;
    const char *closure_key;       /* responseReference|renderAttemptId or NULL */
    const char *render_attempt_id;
    const char *record_status;
    const char *record_key;
    const char *reason_code;
    int64_t at_ms;
} g_fact;

/* The attribution facts of f (their archive records), in record order. */
size_t g_facts_collect(med_arena *a, const g_frags *f, g_fact **out);
int g_fact_is_impression(const g_fact *x);
int g_fact_is_terminal_failure(const g_fact *x);
/* Counted = an event F accepted (record new or committed). */
int g_fact_counted(const g_fact *x);

/* ---- the record ---- */

typedef struct g_assembled {
    Mediation__V1__GAuditRecordLite *rec;
    Mediation__V1__FToGArchiveRecordLite **arch;      /* gate order */
    size_t n_arch;
    Mediation__V1__FactDecisionAuditLite **fda;        /* of the decision_audit records */
    size_t n_fda;
    const char *terminal_status;                       /* terminal event type or "open" */
    char **key_reason_codes;
    size_t n_key_reason_codes;
    int64_t count_by_type[3];                          /* decision_audit, billable_fact, attribution_fact */
    int missing_snapshot;                              /* no Delivery / E audit: nothing to compare */
    int64_t event_at_ms;                               /* terminal event time, else auditAt */
} g_assembled;

extern const char *const g_record_types[3];

med_rc g_assemble(med_arena *a, const g_opp *o, g_assembled *out, med_err *err);

/* eventAt of G.5: the archived terminal event's time, else auditAt (needs
 * o's archive rows). */
int64_t g_assemble_event_at(med_arena *a, const g_opp *o);
/* D's and E's audit bodies, or NULL. */
const Mediation__V1__DSupplyAuditLite *g_frags_d_audit(const g_frags *f);
const Mediation__V1__EStageAuditLite *g_frags_e_audit(const g_frags *f);
/* The Delivery status of the fragments (Delivery, else E's audit), or NULL. */
const char *g_assemble_delivery_status(const g_frags *f);
/* The Delivery's final reason code, or "NA". */
const char *g_assemble_delivery_code(const g_frags *f);

/* keyReasonCodes of G.6 from a record: winner code, non-NA render code,
 * adapter filter codes; deduplicated in first-seen order. */
size_t g_key_reason_codes(med_arena *a, const Mediation__V1__GAuditRecordLite *r, char ***out);

/* The replay anchors of an opportunity: from the archived version anchor
 * snapshots (E's, else D's, C's, B's, A's), the event anchors completed
 * from F's archive records; never from live config. */
Mediation__V1__ReplayAnchorsLite *g_assemble_anchors(med_arena *a, const g_frags *f);

#endif
