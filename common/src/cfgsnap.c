/* Config snapshot holder: immutable snapshots, reference counts, atomic
 * switch. See med/cfgsnap.h for the design. */
#include "med/cfgsnap.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "med/reason.h"
#include "mediation/v1/config.pb-c.h"

/* pub first, so a const med_cfgsnap_snapshot * is the impl's address. */
typedef struct snap_impl {
    med_cfgsnap_snapshot pub;
    atomic_long refs;
    char *op_id;
    med_cfgsnap_unit *units;
    med_cfgsnap_env *envs;
} snap_impl;

struct med_cfgsnap {
    _Atomic(snap_impl *) cur;     /* holds one reference */
    pthread_mutex_t read_mu;      /* pointer load + incref vs swap */
    pthread_mutex_t write_mu;     /* one change at a time, in order */
    atomic_uint_fast64_t generation;
    atomic_uint_fast64_t switches;
    med_cfgsnap_change_fn on_change;
    void *on_change_ud;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *dup_or_na(const char *s)
{
    return strdup(s && *s ? s : "NA");
}

static void unit_clear(med_cfgsnap_unit *u)
{
    free(u->release_unit);
    free(u->environment);
    free(u->schema_version);
    free(u->routing_strategy_version);
    free(u->placement_config_version);
    free(u->publish_operation_id);
    free(u->action_type);
}

static void snap_destroy(snap_impl *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->pub.n_units; i++) unit_clear(&s->units[i]);
    for (size_t i = 0; i < s->pub.n_envs; i++) {
        free(s->envs[i].environment);
        free(s->envs[i].publish_operation_id);
    }
    free(s->units);
    free(s->envs);
    free(s->op_id);
    free(s);
}

static snap_impl *snap_alloc(size_t n_units, size_t n_envs)
{
    snap_impl *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    atomic_init(&s->refs, 1);
    /* +1: calloc(0) may return NULL, which would read as ENOMEM */
    s->units = calloc(n_units + 1, sizeof *s->units);
    s->envs = calloc(n_envs + 1, sizeof *s->envs);
    if (!s->units || !s->envs) {
        snap_destroy(s);
        return NULL;
    }
    return s;
}

static void snap_publish_fields(snap_impl *s)
{
    s->pub.units = s->units;
    s->pub.envs = s->envs;
    s->pub.publish_operation_id = s->op_id ? s->op_id : "";
}

med_cfgsnap *med_cfgsnap_new(void)
{
    med_cfgsnap *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    snap_impl *empty = snap_alloc(0, 0);
    if (!empty) {
        free(c);
        return NULL;
    }
    empty->pub.loaded_at_unix_ms = now_ms();
    snap_publish_fields(empty);
    atomic_init(&c->cur, empty);
    atomic_init(&c->generation, 0);
    atomic_init(&c->switches, 0);
    pthread_mutex_init(&c->read_mu, NULL);
    pthread_mutex_init(&c->write_mu, NULL);
    return c;
}

void med_cfgsnap_free(med_cfgsnap *c)
{
    if (!c) return;
    med_cfgsnap_release(&atomic_load(&c->cur)->pub);
    pthread_mutex_destroy(&c->read_mu);
    pthread_mutex_destroy(&c->write_mu);
    free(c);
}

void med_cfgsnap_on_change(med_cfgsnap *c, med_cfgsnap_change_fn fn, void *ud)
{
    c->on_change = fn;
    c->on_change_ud = ud;
}

const med_cfgsnap_snapshot *med_cfgsnap_acquire(med_cfgsnap *c)
{
    pthread_mutex_lock(&c->read_mu);
    snap_impl *s = atomic_load(&c->cur);
    atomic_fetch_add(&s->refs, 1);
    pthread_mutex_unlock(&c->read_mu);
    return &s->pub;
}

const med_cfgsnap_snapshot *med_cfgsnap_retain(const med_cfgsnap_snapshot *s)
{
    if (s) atomic_fetch_add(&((snap_impl *)(uintptr_t)s)->refs, 1);
    return s;
}

void med_cfgsnap_release(const med_cfgsnap_snapshot *s)
{
    if (!s) return;
    snap_impl *impl = (snap_impl *)(uintptr_t)s;
    if (atomic_fetch_sub(&impl->refs, 1) == 1) snap_destroy(impl);
}

uint64_t med_cfgsnap_generation(const med_cfgsnap *c)
{
    return atomic_load(&((med_cfgsnap *)(uintptr_t)c)->generation);
}

uint64_t med_cfgsnap_switches(const med_cfgsnap *c)
{
    return atomic_load(&((med_cfgsnap *)(uintptr_t)c)->switches);
}

static size_t unit_lower_bound(const med_cfgsnap_unit *u, size_t n, const char *key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(u[mid].release_unit, key) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

const med_cfgsnap_unit *med_cfgsnap_find_unit(const med_cfgsnap_snapshot *s,
                                              const char *release_unit)
{
    if (!s || !release_unit) return NULL;
    size_t i = unit_lower_bound(s->units, s->n_units, release_unit);
    if (i < s->n_units && strcmp(s->units[i].release_unit, release_unit) == 0)
        return &s->units[i];
    return NULL;
}

static int unit_copy(med_cfgsnap_unit *dst, const med_cfgsnap_unit *src)
{
    *dst = *src;
    dst->release_unit = strdup(src->release_unit);
    dst->environment = strdup(src->environment);
    dst->schema_version = strdup(src->schema_version);
    dst->routing_strategy_version = strdup(src->routing_strategy_version);
    dst->placement_config_version = strdup(src->placement_config_version);
    dst->publish_operation_id = strdup(src->publish_operation_id);
    dst->action_type = strdup(src->action_type);
    return dst->release_unit && dst->environment && dst->schema_version &&
           dst->routing_strategy_version && dst->placement_config_version &&
           dst->publish_operation_id && dst->action_type ? 0 : -1;
}

static int unit_from_change(med_cfgsnap_unit *u, const med_cfgsnap_change *ch)
{
    memset(u, 0, sizeof *u);
    u->release_unit = strdup(ch->release_unit);
    u->environment = strdup(ch->environment);
    u->schema_version = dup_or_na(ch->schema_version);
    u->routing_strategy_version = dup_or_na(ch->routing_strategy_version);
    u->placement_config_version = dup_or_na(ch->placement_config_version);
    u->publish_operation_id = strdup(ch->publish_operation_id ? ch->publish_operation_id : "");
    u->action_type = strdup(ch->action_type ? ch->action_type : "");
    u->generation = ch->seq;
    u->committed_at_unix_ms = ch->committed_at_unix_ms;
    return u->release_unit && u->environment && u->schema_version &&
           u->routing_strategy_version && u->placement_config_version &&
           u->publish_operation_id && u->action_type ? 0 : -1;
}

/* Units of old with the change merged in, still sorted. A change older
 * than the unit's current one keeps the unit (no roll-back by a late
 * outbox row). */
static int build_units(snap_impl *s, const snap_impl *old, const med_cfgsnap_change *ch)
{
    size_t pos = unit_lower_bound(old->units, old->pub.n_units, ch->release_unit);
    int exists = pos < old->pub.n_units &&
                 strcmp(old->units[pos].release_unit, ch->release_unit) == 0;
    int stale = exists && old->units[pos].committed_at_unix_ms > ch->committed_at_unix_ms;
    size_t n = 0;
    for (size_t i = 0; i < old->pub.n_units; i++) {
        if (i == pos && !exists) {
            if (unit_from_change(&s->units[n++], ch) != 0) goto nomem;
        }
        int replace = i == pos && exists && !stale;
        int rc = replace ? unit_from_change(&s->units[n], ch) : unit_copy(&s->units[n], &old->units[i]);
        n++;
        if (rc != 0) goto nomem;
    }
    if (pos == old->pub.n_units && !exists) {
        if (unit_from_change(&s->units[n++], ch) != 0) goto nomem;
    }
    s->pub.n_units = n;
    return 0;
nomem:
    s->pub.n_units = n; /* snap_destroy frees what was built */
    return -1;
}

static int env_set(med_cfgsnap_env *e, const char *env, uint64_t gen, const char *op)
{
    e->environment = strdup(env);
    e->publish_operation_id = strdup(op ? op : "");
    e->generation = gen;
    return e->environment && e->publish_operation_id ? 0 : -1;
}

static int build_envs(snap_impl *s, const snap_impl *old, const med_cfgsnap_change *ch)
{
    size_t n = 0;
    int placed = 0;
    for (size_t i = 0; i <= old->pub.n_envs; i++) {
        const med_cfgsnap_env *o = i < old->pub.n_envs ? &old->envs[i] : NULL;
        int cmp = o ? strcmp(o->environment, ch->environment) : 1;
        int rc = 0;
        if (!placed && cmp >= 0) {
            rc = env_set(&s->envs[n++], ch->environment, ch->seq, ch->publish_operation_id);
            placed = 1;
            if (cmp == 0) o = NULL; /* replaced */
        }
        if (rc == 0 && o)
            rc = env_set(&s->envs[n++], o->environment, o->generation, o->publish_operation_id);
        if (rc != 0) {
            s->pub.n_envs = n;
            return -1;
        }
    }
    s->pub.n_envs = n;
    return 0;
}

static snap_impl *build_next(const snap_impl *old, const med_cfgsnap_change *ch)
{
    snap_impl *s = snap_alloc(old->pub.n_units + 1, old->pub.n_envs + 1);
    if (!s) return NULL;
    s->op_id = strdup(ch->publish_operation_id ? ch->publish_operation_id : "");
    if (!s->op_id || build_units(s, old, ch) != 0 || build_envs(s, old, ch) != 0) {
        snap_publish_fields(s);
        snap_destroy(s);
        return NULL;
    }
    s->pub.generation = ch->seq;
    s->pub.loaded_at_unix_ms = now_ms();
    snap_publish_fields(s);
    return s;
}

static void swap_in(med_cfgsnap *c, snap_impl *next)
{
    pthread_mutex_lock(&c->read_mu);
    snap_impl *old = atomic_exchange(&c->cur, next);
    pthread_mutex_unlock(&c->read_mu);
    atomic_store(&c->generation, next->pub.generation);
    atomic_fetch_add(&c->switches, 1);
    /* the holder's reference; readers still holding old keep it alive */
    med_cfgsnap_release(&old->pub);
}

med_rc med_cfgsnap_apply(med_cfgsnap *c, const med_cfgsnap_change *ch, int *applied,
                         med_err *err)
{
    if (applied) *applied = 0;
    if (!ch || !ch->release_unit || !*ch->release_unit || !ch->environment ||
        !*ch->environment)
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_DECODE_FAILED, NULL,
                           "ConfigChanged without releaseUnit or environment");
    pthread_mutex_lock(&c->write_mu);
    snap_impl *old = atomic_load(&c->cur);
    if (ch->seq <= old->pub.generation) {
        pthread_mutex_unlock(&c->write_mu);
        return MED_OK; /* duplicate or replayed: already applied */
    }
    snap_impl *next = build_next(old, ch);
    if (!next) {
        pthread_mutex_unlock(&c->write_mu);
        return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "config snapshot");
    }
    swap_in(c, next);
    /* still under write_mu, so callbacks see switches in order; the holder
     * keeps next alive for the call */
    if (c->on_change) c->on_change(c->on_change_ud, &next->pub);
    pthread_mutex_unlock(&c->write_mu);
    if (applied) *applied = 1;
    return MED_OK;
}

med_rc med_cfgsnap_apply_pb(med_cfgsnap *c, uint64_t seq, const uint8_t *data, size_t len,
                            int *applied, med_err *err)
{
    if (applied) *applied = 0;
    Mediation__V1__ConfigChanged *m = mediation__v1__config_changed__unpack(NULL, len, data);
    if (!m)
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_DECODE_FAILED, NULL,
                           "payload is not a mediation.v1.ConfigChanged");
    const Mediation__V1__ConfigLineVersionsLite *v = m->new_versions;
    med_cfgsnap_change ch = {
        .seq = seq,
        .publish_operation_id = m->publish_operation_id,
        .environment = m->environment,
        .release_unit = m->release_unit,
        .action_type = m->action_type,
        .schema_version = v ? v->schema_version : NULL,
        .routing_strategy_version = v ? v->routing_strategy_version : NULL,
        .placement_config_version = v ? v->placement_config_version : NULL,
        .committed_at_unix_ms = m->committed_at_unix_ms,
    };
    med_rc rc = med_cfgsnap_apply(c, &ch, applied, err);
    mediation__v1__config_changed__free_unpacked(m, NULL);
    return rc;
}
