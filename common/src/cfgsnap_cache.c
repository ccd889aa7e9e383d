/* Hot cache of the config snapshot summary in Redis. A background thread
 * owns the Redis connection (med_redis is not thread-safe) and writes only
 * the newest offered snapshot, so a slow or absent Redis never delays a
 * config switch or readiness. */
#include "med/cfgsnap.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "med/log.h"
#include "med/mpack.h"
#include "med/reason.h"
#include "med/redis.h"

#define CACHE_CONNECT_TIMEOUT_MS 300
#define CACHE_RETRY_MS 2000

struct med_cfgsnap_cache {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    const med_cfgsnap_snapshot *pending; /* reference held; guarded by mu */
    int stop;                            /* guarded by mu */
    char *host, *key, *writer;
    int port;
    med_redis *redis;                    /* writer thread only */
    int degraded_logged;                 /* writer thread only */
    atomic_int_fast64_t boot_generation;
    atomic_uint_fast64_t writes;
};

static int put_unit(med_mmap *m, const med_cfgsnap_unit *u)
{
    size_t klen = strlen(u->release_unit) + 3;
    char *key = malloc(klen);
    size_t vlen = strlen(u->schema_version) + strlen(u->routing_strategy_version) +
                  strlen(u->placement_config_version) + 32;
    char *val = malloc(vlen);
    int rc = -1;
    if (key && val) {
        snprintf(key, klen, "u.%s", u->release_unit);
        snprintf(val, vlen, "%s/%s/%s@%" PRIu64, u->schema_version, u->routing_strategy_version,
                 u->placement_config_version, u->generation);
        rc = med_mmap_set_str(m, key, val);
    }
    free(key);
    free(val);
    return rc;
}

med_rc med_cfgsnap_summary_encode(const med_cfgsnap_snapshot *s, const char *writer,
                                  uint8_t **out, size_t *len, med_err *err)
{
    med_mmap *m = med_mmap_new();
    if (!m) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "summary");
    int bad = med_mmap_set_int(m, "generation", (int64_t)s->generation) ||
              med_mmap_set_str(m, "publishOperationId", s->publish_operation_id) ||
              med_mmap_set_int(m, "loadedAt", s->loaded_at_unix_ms) ||
              med_mmap_set_str(m, "writer", writer ? writer : "") ||
              med_mmap_set_int(m, "units", (int64_t)s->n_units);
    /* keep within the decoder's bound; the unit count says what was cut */
    for (size_t i = 0; !bad && i < s->n_units && i + 8 < MED_MMAP_MAX_ENTRIES; i++)
        bad = put_unit(m, &s->units[i]);
    med_rc rc = bad ? med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "summary")
                    : med_mmap_encode(m, out, len, err);
    med_mmap_free(m);
    return rc;
}

med_rc med_cfgsnap_summary_generation(const uint8_t *buf, size_t len, uint64_t *gen,
                                      med_err *err)
{
    med_mmap *m = NULL;
    med_rc rc = med_mmap_decode(buf, len, &m, err);
    if (rc != MED_OK) return rc;
    const med_mval *v = med_mmap_get(m, "generation");
    if (!v || v->type != MED_MVAL_INT || v->u.i < 0) {
        med_mmap_free(m);
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_DECODE_FAILED, NULL,
                           "summary without generation");
    }
    *gen = (uint64_t)v->u.i;
    med_mmap_free(m);
    return MED_OK;
}

/* ---- writer thread ---- */

static int cache_connect(med_cfgsnap_cache *k)
{
    if (k->redis) return 0;
    med_err e;
    med_err_clear(&e);
    if (med_redis_connect(k->host, k->port, CACHE_CONNECT_TIMEOUT_MS, &k->redis, &e) == MED_OK)
        return 0;
    if (!k->degraded_logged) {
        med_log_ctx lc = { .error_code = e.code };
        MED_LOGW(&lc, "config hot cache: redis unavailable, snapshots stay in memory: %s",
                 e.message);
        k->degraded_logged = 1;
    }
    return -1;
}

static void cache_drop_conn(med_cfgsnap_cache *k, const med_err *e)
{
    if (!k->degraded_logged) {
        med_log_ctx lc = { .error_code = e->code };
        MED_LOGW(&lc, "config hot cache write failed: %s", e->message);
        k->degraded_logged = 1;
    }
    med_redis_close(k->redis);
    k->redis = NULL;
}

/* What a previous run left in the cache: logged so an operator can compare
 * with what this replica loads from the stream. */
static void cache_read_boot(med_cfgsnap_cache *k)
{
    if (cache_connect(k) != 0) return;
    uint8_t *buf = NULL;
    size_t len = 0;
    uint64_t gen = 0;
    med_err e;
    med_err_clear(&e);
    med_rc rc = med_redis_get(k->redis, k->key, &buf, &len, &e);
    if (rc == MED_OK && med_cfgsnap_summary_generation(buf, len, &gen, &e) == MED_OK) {
        atomic_store(&k->boot_generation, (int_fast64_t)gen);
        MED_LOGI(NULL, "config hot cache: %s held generation %" PRIu64 " at start-up",
                 k->key, gen);
    } else if (rc != MED_OK && rc != MED_ERR_NOT_FOUND) {
        cache_drop_conn(k, &e);
    }
    free(buf);
}

static int cache_write(med_cfgsnap_cache *k, const med_cfgsnap_snapshot *s)
{
    if (cache_connect(k) != 0) return -1;
    uint8_t *buf = NULL;
    size_t len = 0;
    med_err e;
    med_err_clear(&e);
    if (med_cfgsnap_summary_encode(s, k->writer, &buf, &len, &e) != MED_OK) return 0; /* drop */
    med_rc rc = med_redis_set(k->redis, k->key, buf, len, 0, &e);
    free(buf);
    if (rc != MED_OK) {
        cache_drop_conn(k, &e);
        return -1;
    }
    if (k->degraded_logged) MED_LOGI(NULL, "config hot cache: redis back");
    k->degraded_logged = 0;
    atomic_fetch_add(&k->writes, 1);
    return 0;
}

static void wait_until(med_cfgsnap_cache *k, int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    while (!k->stop && pthread_cond_timedwait(&k->cv, &k->mu, &ts) != ETIMEDOUT) {
        if (k->pending) break;
    }
}

static void *cache_thread(void *arg)
{
    med_cfgsnap_cache *k = arg;
    cache_read_boot(k);
    pthread_mutex_lock(&k->mu);
    while (!k->stop) {
        if (!k->pending) {
            pthread_cond_wait(&k->cv, &k->mu);
            continue;
        }
        const med_cfgsnap_snapshot *s = k->pending;
        k->pending = NULL;
        pthread_mutex_unlock(&k->mu);
        int failed = cache_write(k, s) != 0;
        pthread_mutex_lock(&k->mu);
        if (failed && !k->pending) {
            k->pending = s; /* retry later unless a newer one came */
            s = NULL;
            wait_until(k, CACHE_RETRY_MS);
        }
        if (s) {
            pthread_mutex_unlock(&k->mu);
            med_cfgsnap_release(s);
            pthread_mutex_lock(&k->mu);
        }
    }
    pthread_mutex_unlock(&k->mu);
    return NULL;
}

static void cache_free(med_cfgsnap_cache *k)
{
    med_cfgsnap_release(k->pending);
    if (k->redis) med_redis_close(k->redis);
    pthread_cond_destroy(&k->cv);
    pthread_mutex_destroy(&k->mu);
    free(k->host);
    free(k->key);
    free(k->writer);
    free(k);
}

med_cfgsnap_cache *med_cfgsnap_cache_start(const char *host, int port, const char *key,
                                           const char *writer)
{
    med_cfgsnap_cache *k = calloc(1, sizeof *k);
    if (!k) return NULL;
    pthread_mutex_init(&k->mu, NULL);
    pthread_cond_init(&k->cv, NULL);
    atomic_init(&k->boot_generation, -1);
    atomic_init(&k->writes, 0);
    k->port = port;
    k->host = strdup(host ? host : "127.0.0.1");
    k->key = strdup(key ? key : "");
    k->writer = strdup(writer ? writer : "");
    if (!k->host || !k->key || !k->writer ||
        pthread_create(&k->thread, NULL, cache_thread, k) != 0) {
        cache_free(k);
        return NULL;
    }
    return k;
}

void med_cfgsnap_cache_offer(med_cfgsnap_cache *k, const med_cfgsnap_snapshot *s)
{
    if (!k || !s) return;
    med_cfgsnap_retain(s);
    pthread_mutex_lock(&k->mu);
    const med_cfgsnap_snapshot *older = k->pending;
    k->pending = s;
    pthread_cond_signal(&k->cv);
    pthread_mutex_unlock(&k->mu);
    med_cfgsnap_release(older);
}

int64_t med_cfgsnap_cache_boot_generation(med_cfgsnap_cache *k)
{
    return k ? (int64_t)atomic_load(&k->boot_generation) : -1;
}

uint64_t med_cfgsnap_cache_writes(med_cfgsnap_cache *k)
{
    return k ? (uint64_t)atomic_load(&k->writes) : 0;
}

void med_cfgsnap_cache_stop(med_cfgsnap_cache *k)
{
    if (!k) return;
    pthread_mutex_lock(&k->mu);
    k->stop = 1;
    pthread_cond_broadcast(&k->cv);
    pthread_mutex_unlock(&k->mu);
    pthread_join(k->thread, NULL);
    cache_free(k);
}
