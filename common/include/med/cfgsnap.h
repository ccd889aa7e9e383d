/* Config snapshot: every stage's in-memory view of the published config
 * state, kept current from the ConfigChanged stream (spec 04 H.1).
 *
 * Design
 * - A snapshot is immutable: {generation, publishOperationId of the change
 *   that made it, per-release-unit versions, per-environment markers,
 *   loadedAt}. generation is the MED_CONFIG stream sequence of the last
 *   applied ConfigChanged, so "generation == stream last sequence" means
 *   "this replica has applied every change".
 * - med_cfgsnap holds the current snapshot behind an atomic pointer. A
 *   request takes a reference (med_cfgsnap_acquire) and keeps it until it
 *   ends (med_cfgsnap_release): a switch never changes config in the middle
 *   of a request. A switch builds a new snapshot (copy of the old one plus
 *   the change) and swaps the pointer; the old one is freed when its last
 *   reader releases it. acquire takes a mutex for the pointer load + ref
 *   increment only (a few instructions): a lock-free load+increment would
 *   race with the free and need hazard pointers or RCU, not worth it at
 *   one acquire per request. med_cfgsnap_generation is a plain atomic read.
 * - Changes apply in stream order; a change at a sequence <= the current
 *   generation (duplicate, replay after a consumer reset) is ignored. A
 *   change older (committedAt) than what a unit already has does not roll
 *   that unit back (an outbox may publish a late row after a newer one) but
 *   still advances the generation.
 * - The watcher (med_cfgsnap_watch) follows med.h.config.v1 with a JetStream
 *   ordered consumer from the start of MED_CONFIG (stream keeps all), so
 *   every replica sees every change and, once it reached the stream's last
 *   sequence as of start-up, holds the current state: med_cfgsnap_watch_
 *   caught_up turns 1 and the service may report ready. Resolved
 *   per-configKey answers are not fetched here (A asks H).
 * - Hot cache: after each switch the latest summary (msgpack: generation,
 *   publishOperationId, loadedAt, versions per unit) is written to Redis
 *   under med:<APP_ENV>:cfg:snapshot by a background thread, so a
 *   restarting stage can log/compare what it will load. Redis down never
 *   blocks switching or readiness: the writer only keeps the newest
 *   pending snapshot and retries later.
 * - Metrics (observability/metrics.md): med_config_generation{stage},
 *   med_config_switches_total{stage}. */
#ifndef MED_CFGSNAP_H
#define MED_CFGSNAP_H

#include <stddef.h>
#include <stdint.h>
#include "med/err.h"
#include "med/js.h"

/* Versions of one release unit (environment|targetScope|targetKey). */
typedef struct med_cfgsnap_unit {
    char *release_unit;
    char *environment;
    char *schema_version;            /* "NA" = never published */
    char *routing_strategy_version;
    char *placement_config_version;
    char *publish_operation_id;      /* change that set these versions */
    char *action_type;               /* publish | rollback */
    uint64_t generation;             /* stream sequence of that change */
    int64_t committed_at_unix_ms;
} med_cfgsnap_unit;

/* Per-environment marker: the last change that touched the environment. */
typedef struct med_cfgsnap_env {
    char *environment;
    uint64_t generation;
    char *publish_operation_id;
} med_cfgsnap_env;

typedef struct med_cfgsnap_snapshot {
    uint64_t generation;             /* 0 = nothing applied yet */
    const char *publish_operation_id;/* "" when generation is 0 */
    int64_t loaded_at_unix_ms;
    size_t n_units;                  /* sorted by release_unit (strcmp) */
    const med_cfgsnap_unit *units;
    size_t n_envs;                   /* sorted by environment */
    const med_cfgsnap_env *envs;
} med_cfgsnap_snapshot;

/* One ConfigChanged, flattened (strings borrowed for the call). */
typedef struct med_cfgsnap_change {
    uint64_t seq;                    /* MED_CONFIG stream sequence */
    const char *publish_operation_id;
    const char *environment;
    const char *release_unit;
    const char *action_type;
    const char *schema_version;
    const char *routing_strategy_version;
    const char *placement_config_version;
    int64_t committed_at_unix_ms;
} med_cfgsnap_change;

typedef struct med_cfgsnap med_cfgsnap;

/* Called on the applying thread after each switch; now is valid for the
 * call (acquire it to keep it). Must not call med_cfgsnap_apply. */
typedef void (*med_cfgsnap_change_fn)(void *ud, const med_cfgsnap_snapshot *now);

/* Starts at an empty snapshot (generation 0). NULL on ENOMEM. */
med_cfgsnap *med_cfgsnap_new(void);
/* Every acquired snapshot must have been released. */
void med_cfgsnap_free(med_cfgsnap *c);
/* Set before changes flow (not synchronised with apply). */
void med_cfgsnap_on_change(med_cfgsnap *c, med_cfgsnap_change_fn fn, void *ud);

/* The current snapshot with a reference held; never NULL. */
const med_cfgsnap_snapshot *med_cfgsnap_acquire(med_cfgsnap *c);
/* Another reference to a snapshot already held (hand-off to a thread). */
const med_cfgsnap_snapshot *med_cfgsnap_retain(const med_cfgsnap_snapshot *s);
void med_cfgsnap_release(const med_cfgsnap_snapshot *s);
uint64_t med_cfgsnap_generation(const med_cfgsnap *c);
uint64_t med_cfgsnap_switches(const med_cfgsnap *c);

/* Applies one change: *applied = 1 when a new snapshot was swapped in, 0
 * when seq <= generation (ignored). Changes are applied by one thread at a
 * time (a mutex serialises writers). MED_ERR_INVALID for a change without
 * release unit or environment; MED_ERR_NOMEM. */
med_rc med_cfgsnap_apply(med_cfgsnap *c, const med_cfgsnap_change *ch, int *applied,
                         med_err *err);
/* Decodes a mediation.v1.ConfigChanged and applies it at seq. */
med_rc med_cfgsnap_apply_pb(med_cfgsnap *c, uint64_t seq, const uint8_t *data, size_t len,
                            int *applied, med_err *err);

/* Binary search; NULL when the unit never changed. */
const med_cfgsnap_unit *med_cfgsnap_find_unit(const med_cfgsnap_snapshot *s,
                                              const char *release_unit);

/* ---- hot cache summary (Redis) ---- */

/* msgpack flat map: generation, publishOperationId, loadedAt, units
 * (count) and per unit "u.<releaseUnit>" = "schema/routing/placement@gen". */
med_rc med_cfgsnap_summary_encode(const med_cfgsnap_snapshot *s, const char *writer,
                                  uint8_t **out, size_t *len, med_err *err);
/* Generation stored in a summary; MED_ERR_INVALID when it has none. */
med_rc med_cfgsnap_summary_generation(const uint8_t *buf, size_t len, uint64_t *gen,
                                      med_err *err);

typedef struct med_cfgsnap_cache med_cfgsnap_cache;
/* Starts the writer thread; it connects lazily, so Redis may be down. key
 * is copied. NULL on ENOMEM/thread failure. */
med_cfgsnap_cache *med_cfgsnap_cache_start(const char *host, int port, const char *key,
                                           const char *writer);
/* Hands the newest snapshot to the writer (never blocks on Redis; an older
 * pending one is dropped). */
void med_cfgsnap_cache_offer(med_cfgsnap_cache *k, const med_cfgsnap_snapshot *s);
/* Generation the cache held when the writer first read it: -1 unknown
 * (not read yet, Redis down or empty). */
int64_t med_cfgsnap_cache_boot_generation(med_cfgsnap_cache *k);
/* Summaries written so far (tests). */
uint64_t med_cfgsnap_cache_writes(med_cfgsnap_cache *k);
void med_cfgsnap_cache_stop(med_cfgsnap_cache *k);

/* ---- watcher: MED_CONFIG -> med_cfgsnap ---- */

typedef struct med_cfgsnap_watch_opts {
    med_js *js;
    const char *stage;       /* metrics label */
    const char *instance;    /* cache writer name */
    const char *app_env;     /* "dev" | "ci" | "prod": Redis key */
    const char *redis_host;  /* NULL: no hot cache */
    int redis_port;
} med_cfgsnap_watch_opts;

typedef struct med_cfgsnap_watch med_cfgsnap_watch;

/* Reads the stream's last sequence, then follows it from the start with an
 * ordered consumer on its own thread. */
med_rc med_cfgsnap_watch_start(med_cfgsnap *c, const med_cfgsnap_watch_opts *opts,
                               med_cfgsnap_watch **out, med_err *err);
/* 1 once every change up to the start-up last sequence was applied. */
int med_cfgsnap_watch_caught_up(med_cfgsnap_watch *w);
/* Stops the thread (joins) and the cache writer. */
void med_cfgsnap_watch_stop(med_cfgsnap_watch *w);

#endif
