/* A's I/O: the dedup record in Redis (A.4) and the opportunity row in
 * PostgreSQL (A.8). Redis is the fast path; the opportunity_records
 * unique claim is the backstop when Redis is down or was flushed. */
#ifndef A_STORE_H
#define A_STORE_H

#include <stdint.h>
#include "a_dedup.h"
#include "med/pg.h"
#include "med/redis.h"

/* med:<env>:a:dedup:<tenant>:<dedupKey> */
void a_store_dedup_key(const char *app_env, const char *tenant, const char *dedup_key, char *out,
                       size_t cap);

/* SET with TTL = ttl_ms: the completed record, by the request that
 * claimed it (a_store_dedup_claim). */
med_rc a_store_dedup_put(med_redis *r, const char *key, const a_dedup_record *rec,
                         int64_t ttl_ms, med_err *err);
med_rc a_store_dedup_delete(med_redis *r, const char *key, med_err *err);

/* One run of the claim script (a_dedup_lua.h), atomic on the server.
 * expected: the stored bytes the decision was taken on (NULL = none); rec
 * NULL = only read. *claimed = 1 when rec is stored now; otherwise
 * *current (malloc'd, caller frees; NULL = no record) holds what the key
 * holds, to decide on again. Redis down: MED_ERR_UNAVAILABLE (degrade). */
med_rc a_store_dedup_claim(med_redis *r, const char *key, const uint8_t *expected,
                           size_t expected_len, const a_dedup_record *rec, int64_t ttl_ms,
                           int *claimed, uint8_t **current, size_t *current_len, med_err *err);

/* The alias a computed record is also stored under (A.4/A.5): key = the
 * full Redis key of "cli:<appId>:<generated id>", alias_of = the record's
 * dedupKey ("fp:..."). A NULL a_store_alias = none. */
typedef struct a_store_alias {
    const char *key;
    const char *alias_of;
} a_store_alias;

/* a_store_dedup_claim that also stores the alias (same TTL) in the same
 * script run when the record is claimed. */
med_rc a_store_dedup_claim_aliased(med_redis *r, const char *key, const a_store_alias *alias,
                                   const uint8_t *expected, size_t expected_len,
                                   const a_dedup_record *rec, int64_t ttl_ms, int *claimed,
                                   uint8_t **current, size_t *current_len, med_err *err);
/* a_store_dedup_put plus the alias, atomically (A_DEDUP_PUT_LUA). */
med_rc a_store_dedup_put_aliased(med_redis *r, const char *key, const a_store_alias *alias,
                                 const a_dedup_record *rec, int64_t ttl_ms, med_err *err);
/* Deletes the record and its alias (only while it still points here). */
med_rc a_store_dedup_delete_aliased(med_redis *r, const char *key, const a_store_alias *alias,
                                    med_err *err);
/* The record an alias points at: plain GET of its full Redis key; *bytes
 * malloc'd, NULL when absent. Redis down: MED_ERR_UNAVAILABLE. */
med_rc a_store_dedup_read(med_redis *r, const char *key, uint8_t **bytes, size_t *len,
                          med_err *err);

typedef struct a_store_opportunity {
    const char *tenant_id, *app_id, *placement_id;
    const char *opportunity_key, *request_key, *trace_key, *attempt_key;
    const char *contract_version, *dedup_key, *reason_code;
    const char *resolved_config_ref, *anchor_hash;
    const char *event_key, *event_idempotency_key, *event_status;
    /* A.9 emit state before the first attempt: started at first_ms, a
     * resend due at next_ms unless the outcome is recorded first; the
     * StageAudit bytes the resends send again. */
    int64_t event_first_ms, event_next_ms;
    const uint8_t *event_payload;
    size_t event_payload_len;
    const char *payload_json;     /* createOpportunity input, redacted of raw ids */
} a_store_opportunity;

/* Registers the statement (once per connection handle). */
med_rc a_store_prepare(med_pg *pg, med_err *err);
/* *created = 0 when the key was already stored (duplicate_noop: the row is
 * left untouched). */
med_rc a_store_opportunity_insert(med_pg *pg, const a_store_opportunity *o, int *created,
                                  med_err *err);

/* The rows of one tenant in one statement; created[i] = 0 for a row whose
 * key was stored before. A batch the claim refuses (a redelivered key) is
 * written row by row instead, so one duplicate costs only itself. */
med_rc a_store_opportunity_insert_many(med_pg *pg, a_store_opportunity *const *rows, size_t n,
                                       int *created, med_err *err);

#endif
