/* F's key formulas (F.5-F.8) and the small string helpers they share.
 * Every returned string is allocated in the arena passed in (NULL only when
 * the arena is out of memory, or where a function says so). */
#ifndef F_KEYS_H
#define F_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "med/arena.h"
#include "mediation/v1/events.pb-c.h"

#define F_NA "NA"
#define F_DEDUP_VERSION "f_dedup_v1"
#define F_MAPPING_RULE_VERSION "f_mapping_rule_v1"
#define F_CLOSURE_RULE_VERSION "f_closure_rule_v1"
#define F_BILLING_RULE_VERSION "f_billing_rule_v1"
#define F_ARCHIVE_CONTRACT_VERSION "f_archive_contract_v1"
#define F_FACT_VERSION "f_fact_v1"
#define F_SCHEMA_VERSION "schema_v1"
#define F_MAX_EVENTS 100

/* The SDK's optional string fields: the value when set and non-empty, else
 * NULL (an empty optional string is as good as absent). */
#define F_OPT(ev, f) ((ev)->f##_opt_case && (ev)->f && (ev)->f[0] ? (const char *)(ev)->f : NULL)
/* A required proto3 string: NULL when empty. */
#define F_REQ(s) ((s) && (s)[0] ? (const char *)(s) : NULL)

/* s matches [A-Za-z0-9._:-]{min,max} (ids, batchId, idempotencyKey,
 * renderAttemptId). NULL never matches. */
int f_token_valid(const char *s, size_t min, size_t max);
const char *f_or_na(const char *s);

/* sha256 lowercase hex of s (64 chars), and its first n chars (hexN). */
char *f_sha256(med_arena *a, const char *s);
char *f_hexn(med_arena *a, const char *s, size_t n);
/* parts joined with '|'; a NULL part is written as NA. */
char *f_join(med_arena *a, const char *const *parts, size_t n);
#define F_JOIN(a, ...) \
    f_join((a), (const char *const[]){__VA_ARGS__}, \
           sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

/* responseReference|renderAttemptId, or NULL when either is missing. */
char *f_closure_key(med_arena *a, const char *rr, const char *ra);
/* responseReference|renderAttemptId|billableType. */
char *f_billing_key(med_arena *a, const char *rr, const char *ra, const char *billable_type);
/* p + "_" + hex20(p|sourceEventId|traceKey|type), p = bill | attr. */
char *f_fact_id(med_arena *a, const char *p, const char *source_event_id, const char *trace_key,
                const char *type);
/* sha256hex(attributionType|eventType|responseReferenceOrNA|renderAttemptIdOrNA|eventId). */
char *f_attribution_key(med_arena *a, const char *attribution_type, const char *event_type,
                        const char *rr, const char *ra, const char *event_id);
/* sha256hex(recordType|payloadKey|canonicalDedupKey|f_archive_contract_v1). */
char *f_record_key(med_arena *a, const char *record_type, const char *payload_key,
                   const char *dedup_key);
/* F.8 fallback when an event has no dedup key:
 * f_dedup_v1:none:appId|batchId|eventIndex. */
char *f_dedup_key_none(med_arena *a, const char *app_id, const char *batch_id, int index);

#endif
