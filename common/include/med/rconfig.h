/* Resolved-config client: a stage's way to read the config *content*
 * (06 section 1 documents) that H resolved for one configKey.
 *
 * Design
 * - H owns resolution (H.2). A stage asks H over core request/reply on
 *   med.h.get.v1 (ConfigGetRequest -> ConfigGetReply) and keeps the answer
 *   in a process-local cache keyed by tenant|appId|placementId|environment|
 *   schemaVersion|sdkVersion. An entry is fresh while the stage's config
 *   snapshot generation (med/cfgsnap.h, fed by med.h.config.v1) has not
 *   moved and its ttlSec has not run out; then the next get asks H again.
 * - Entries are immutable and reference counted: a request keeps the one it
 *   started with (a publish in the middle never changes a decision).
 * - Downstream stages (B, D, E) pass the config_hash A pinned in the seed's
 *   configSnapshotLite: the cache keeps the last few entries per key, so an
 *   opportunity that started before a publish is still decided on its own
 *   config; when the pinned hash is gone (restart mid-change) the current
 *   entry is returned with *status = MED_RCFG_PIN_MISSED, and the caller
 *   flags it.
 * - Failure classification follows H.9 / A.6: a timeout or an H answer of
 *   503 with a last-known-good entry gives that entry (STALE_*); without
 *   one, NONE_*; a 400 from H (bad schemaVersion, unknown placement
 *   layer...) is VERSION_INVALID. The caller maps these to reason codes.
 * - Thread-safe (one mutex around the map; H is asked outside it).
 *
 * Ownership: entries from med_rconfig_get are released with
 * med_rconfig_release; every pointer an accessor returns is borrowed from
 * the entry and lives as long as the caller's reference. */
#ifndef MED_RCONFIG_H
#define MED_RCONFIG_H

#include <jansson.h>
#include <nats/nats.h>
#include <stdint.h>
#include "med/cfgsnap.h"
#include "med/err.h"

typedef struct med_rconfig med_rconfig;
typedef struct med_rconfig_entry med_rconfig_entry;

typedef struct med_rconfig_key {
    const char *tenant_id;
    const char *app_id;
    const char *placement_id;
    const char *environment;      /* "prod" when NULL/"" */
    const char *schema_version;   /* "1.0.0" when NULL/"" */
    const char *sdk_version;      /* may be "" */
    const char *trace_key;        /* optional, for H's audit */
    const char *request_key;      /* optional */
} med_rconfig_key;

typedef enum med_rconfig_status {
    MED_RCFG_FRESH = 0,            /* H answered (now or within the entry's life) */
    MED_RCFG_PIN_MISSED,           /* pinned hash not cached; current entry given */
    MED_RCFG_STALE_TIMEOUT,        /* H timed out; last-known-good given */
    MED_RCFG_STALE_UNAVAILABLE,    /* H unavailable / 5xx; last-known-good given */
    MED_RCFG_NONE_TIMEOUT,         /* H timed out; nothing cached (entry NULL) */
    MED_RCFG_NONE_UNAVAILABLE,     /* H unavailable; nothing cached (entry NULL) */
    MED_RCFG_VERSION_INVALID,      /* H rejected the key (400); entry NULL */
} med_rconfig_status;

const char *med_rconfig_status_name(med_rconfig_status s);

typedef struct med_rconfig_opts {
    int64_t timeout_ms;            /* per H request; 0 -> 200 */
    int keep_per_key;              /* entries kept per key for pinned lookups; 0 -> 4 */
    size_t max_keys;               /* 0 -> 10000; least recently used key evicted */
} med_rconfig_opts;

/* nc and snap are borrowed (snap may be NULL: then only ttlSec expires
 * entries). NULL on ENOMEM. */
med_rconfig *med_rconfig_new(natsConnection *nc, med_cfgsnap *snap, const med_rconfig_opts *opts);
void med_rconfig_free(med_rconfig *rc);

/* pinned_hash: NULL or "" = the current config. Returns MED_OK with
 * *status set; *out is NULL for the NONE_* / VERSION_INVALID statuses.
 * Errors only for ENOMEM / bad arguments. */
med_rc med_rconfig_get(med_rconfig *rc, const med_rconfig_key *key, const char *pinned_hash,
                       const med_rconfig_entry **out, med_rconfig_status *status,
                       med_err *err);
void med_rconfig_release(const med_rconfig_entry *e);

/* Builds an entry from a ConfigGetReply (or resolved snapshot JSON) without
 * NATS: for unit tests of stage logic and for tools. */
med_rc med_rconfig_entry_from_reply(const uint8_t *reply_pb, size_t len,
                                    const med_rconfig_entry **out, med_err *err);
/* From the JSON the HTTP GET /v1/config answers (the body_json of the
 * reply): {"resolvedConfigSnapshot": {...}, ...}. */
med_rc med_rconfig_entry_from_json(const char *body_json, const med_rconfig_entry **out,
                                   med_err *err);

/* ---- accessors (borrowed) ---- */
const char *med_rconfig_config_hash(const med_rconfig_entry *e);
const char *med_rconfig_snapshot_id(const med_rconfig_entry *e);   /* config_snapshots id */
const char *med_rconfig_resolve_id(const med_rconfig_entry *e);
const char *med_rconfig_etag(const med_rconfig_entry *e);
const char *med_rconfig_resolution_status(const med_rconfig_entry *e); /* resolved|degraded */
int64_t med_rconfig_resolved_at_ms(const med_rconfig_entry *e);
int32_t med_rconfig_ttl_sec(const med_rconfig_entry *e);
/* appliedVersions: schemaVersion, routingStrategyVersion,
 * placementConfigVersion, globalConfigVersion, appConfigVersionOrNA,
 * placementSourceVersionOrNA (JSON object). */
const json_t *med_rconfig_applied_versions(const med_rconfig_entry *e);
/* effectiveConfig fields (policyThresholdsRef, sdkMinVersion, ...). */
const json_t *med_rconfig_fields(const med_rconfig_entry *e);
/* Body of the document of that kind ("schema", "policy", "route_policy",
 * "template_whitelist", "black_white_list", "placement"), NULL when the
 * effective config has no such ref. */
const json_t *med_rconfig_doc(const med_rconfig_entry *e, const char *kind);
/* "<kind>:<version>" of that document, NULL when absent. */
const char *med_rconfig_doc_ref(const med_rconfig_entry *e, const char *kind);
/* H's per-request decision parts of the GET answer (version gate, canary
 * decision), JSON objects or NULL. */
const json_t *med_rconfig_version_gate(const med_rconfig_entry *e);
const json_t *med_rconfig_canary(const med_rconfig_entry *e);

#endif
