/* Resolved-config client: asks H on med.h.get.v1 and caches the answers
 * (design in med/rconfig.h). */
#include "rconfig_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "med/names.h"
#include "med/reason.h"
#include "mediation/v1/config.pb-c.h"

#define DEFAULT_TIMEOUT_MS 200
#define DEFAULT_KEEP 4
#define DEFAULT_MAX_KEYS 10000
#define KEEP_MAX 16

typedef struct key_slot {
    char *key;
    const med_rconfig_entry *entries[KEEP_MAX]; /* newest first */
    int n;
    uint64_t last_used;
    struct key_slot *next;                       /* hash chain */
} key_slot;

struct med_rconfig {
    natsConnection *nc;
    med_cfgsnap *snap;
    int64_t timeout_ms;
    int keep;
    size_t max_keys;
    pthread_mutex_t mu;
    key_slot **buckets;
    size_t n_buckets, n_keys;
    uint64_t tick;
};

const char *med_rconfig_status_name(med_rconfig_status s)
{
    switch (s) {
    case MED_RCFG_FRESH: return "fresh";
    case MED_RCFG_PIN_MISSED: return "pin_missed";
    case MED_RCFG_STALE_TIMEOUT: return "stale_timeout";
    case MED_RCFG_STALE_UNAVAILABLE: return "stale_unavailable";
    case MED_RCFG_NONE_TIMEOUT: return "none_timeout";
    case MED_RCFG_NONE_UNAVAILABLE: return "none_unavailable";
    case MED_RCFG_VERSION_INVALID: return "version_invalid";
    }
    return "unknown";
}

med_rconfig *med_rconfig_new(natsConnection *nc, med_cfgsnap *snap, const med_rconfig_opts *opts)
{
    med_rconfig *rc = calloc(1, sizeof *rc);
    if (!rc) return NULL;
    rc->nc = nc;
    rc->snap = snap;
    rc->timeout_ms = opts && opts->timeout_ms > 0 ? opts->timeout_ms : DEFAULT_TIMEOUT_MS;
    rc->keep = opts && opts->keep_per_key > 0 ? opts->keep_per_key : DEFAULT_KEEP;
    if (rc->keep > KEEP_MAX) rc->keep = KEEP_MAX;
    rc->max_keys = opts && opts->max_keys > 0 ? opts->max_keys : DEFAULT_MAX_KEYS;
    rc->n_buckets = 1024;
    rc->buckets = calloc(rc->n_buckets, sizeof *rc->buckets);
    if (!rc->buckets || pthread_mutex_init(&rc->mu, NULL) != 0) {
        free(rc->buckets);
        free(rc);
        return NULL;
    }
    return rc;
}

static void slot_free(key_slot *s)
{
    for (int i = 0; i < s->n; i++) med_rconfig_release(s->entries[i]);
    free(s->key);
    free(s);
}

void med_rconfig_free(med_rconfig *rc)
{
    if (!rc) return;
    for (size_t b = 0; b < rc->n_buckets; b++) {
        key_slot *s = rc->buckets[b];
        while (s) {
            key_slot *n = s->next;
            slot_free(s);
            s = n;
        }
    }
    free(rc->buckets);
    pthread_mutex_destroy(&rc->mu);
    free(rc);
}

/* ---- keys ---- */

static const char *or_default(const char *s, const char *d) { return s && *s ? s : d; }

static char *key_text(const med_rconfig_key *k)
{
    char *out = NULL;
    if (asprintf(&out, "%s|%s|%s|%s|%s|%s", or_default(k->tenant_id, ""),
                 or_default(k->app_id, ""), or_default(k->placement_id, ""),
                 or_default(k->environment, "prod"), or_default(k->schema_version, "1.0.0"),
                 or_default(k->sdk_version, "")) < 0)
        return NULL;
    return out;
}

static size_t hash_text(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (size_t)h;
}

static key_slot **find_link(med_rconfig *rc, const char *key)
{
    key_slot **l = &rc->buckets[hash_text(key) % rc->n_buckets];
    while (*l && strcmp((*l)->key, key) != 0) l = &(*l)->next;
    return l;
}

/* Drops the least recently used key (a linear scan, only when full). */
static void evict_one(med_rconfig *rc)
{
    key_slot **victim = NULL;
    for (size_t b = 0; b < rc->n_buckets; b++)
        for (key_slot **l = &rc->buckets[b]; *l; l = &(*l)->next)
            if (!victim || (*l)->last_used < (*victim)->last_used) victim = l;
    if (!victim) return;
    key_slot *s = *victim;
    *victim = s->next;
    slot_free(s);
    rc->n_keys--;
}

/* ---- lookups under the mutex ---- */

static int entry_fresh(const med_rconfig *rc, const med_rconfig_entry *e, int64_t now)
{
    if (rc->snap && e->generation != med_cfgsnap_generation(rc->snap)) return 0;
    int64_t ttl_ms = (int64_t)(e->ttl_sec > 0 ? e->ttl_sec : 60) * 1000;
    return now - e->fetched_mono_ms < ttl_ms;
}

/* Returns a retained entry: the pinned one, else the newest if fresh_only
 * is 0 or it is fresh. */
static const med_rconfig_entry *lookup(med_rconfig *rc, const char *key, const char *pin,
                                       int fresh_only, int64_t now)
{
    const med_rconfig_entry *found = NULL;
    pthread_mutex_lock(&rc->mu);
    key_slot *s = *find_link(rc, key);
    if (s && s->n > 0) {
        s->last_used = ++rc->tick;
        for (int i = 0; pin && *pin && i < s->n && !found; i++)
            if (strcmp(s->entries[i]->config_hash, pin) == 0) found = s->entries[i];
        if (!found && !(pin && *pin && fresh_only == 2) &&
            (!fresh_only || entry_fresh(rc, s->entries[0], now)))
            found = s->entries[0];
        if (found) rconfig_entry_retain(found);
    }
    pthread_mutex_unlock(&rc->mu);
    return found;
}

static void store(med_rconfig *rc, const char *key, const med_rconfig_entry *e)
{
    pthread_mutex_lock(&rc->mu);
    key_slot **l = find_link(rc, key);
    key_slot *s = *l;
    if (!s) {
        if (rc->n_keys >= rc->max_keys) {
            evict_one(rc);
            l = find_link(rc, key);
        }
        s = calloc(1, sizeof *s);
        if (s) s->key = strdup(key);
        if (!s || !s->key) {
            free(s);
            pthread_mutex_unlock(&rc->mu);
            return; /* not cached: the next request asks H again */
        }
        *l = s;
        rc->n_keys++;
    }
    s->last_used = ++rc->tick;
    /* An answer with a hash we already hold replaces that one in place. */
    int at = 0;
    while (at < s->n && strcmp(s->entries[at]->config_hash, e->config_hash) != 0) at++;
    if (at < s->n) {
        med_rconfig_release(s->entries[at]);
        memmove(&s->entries[1], &s->entries[0], (size_t)at * sizeof s->entries[0]);
    } else {
        if (s->n == rc->keep) med_rconfig_release(s->entries[--s->n]);
        memmove(&s->entries[1], &s->entries[0], (size_t)s->n * sizeof s->entries[0]);
        s->n++;
    }
    s->entries[0] = rconfig_entry_retain(e);
    pthread_mutex_unlock(&rc->mu);
}

/* ---- asking H ---- */

typedef enum fetch_result { FETCH_OK, FETCH_TIMEOUT, FETCH_UNAVAILABLE, FETCH_INVALID } fetch_result;

static med_rc pack_request(const med_rconfig_key *k, uint8_t **buf, size_t *len, med_err *err)
{
    Mediation__V1__ConfigGetRequest q;
    mediation__v1__config_get_request__init(&q);
    char at[32];
    int64_t now = med_now_unix_ms();
    med_format_utc_ms(now, at, sizeof at);
    q.app_id = (char *)or_default(k->app_id, "");
    q.placement_id = (char *)or_default(k->placement_id, "");
    q.environment = (char *)or_default(k->environment, "prod");
    q.schema_version = (char *)or_default(k->schema_version, "1.0.0");
    /* H requires sdkVersion for its gate; a stage after A that only needs
     * the documents (the snapshot and its hash do not depend on it) may not
     * know it. */
    q.sdk_version = (char *)or_default(k->sdk_version, "0.0.0");
    q.request_at = at;
    q.tenant_id = (char *)or_default(k->tenant_id, "");
    q.received_at_unix_ms = now;
    if (k->trace_key && *k->trace_key) {
        q.trace_key_or_na_opt_case =
            MEDIATION__V1__CONFIG_GET_REQUEST__TRACE_KEY_OR_NA_OPT_TRACE_KEY_OR_NA;
        q.trace_key_or_na = (char *)k->trace_key;
    }
    *len = mediation__v1__config_get_request__get_packed_size(&q);
    *buf = malloc(*len ? *len : 1);
    if (!*buf) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "config request");
    mediation__v1__config_get_request__pack(&q, *buf);
    return MED_OK;
}

static fetch_result classify_reply(natsMsg *reply, med_rconfig_entry **out, med_err *err)
{
    Mediation__V1__ConfigGetReply *r = mediation__v1__config_get_reply__unpack(
        NULL, (size_t)natsMsg_GetDataLength(reply), (const uint8_t *)natsMsg_GetData(reply));
    if (!r) return FETCH_UNAVAILABLE;
    fetch_result fr;
    if (r->http_status == 200) {
        json_error_t je;
        json_t *body = json_loads(r->body_json ? r->body_json : "", 0, &je);
        fr = body && rconfig_entry_build(body, out, err) == MED_OK ? FETCH_OK : FETCH_UNAVAILABLE;
    } else if (r->http_status >= 400 && r->http_status < 500) {
        fr = FETCH_INVALID;
        if (r->error && r->error->code)
            med_err_set(err, MED_ERR_INVALID, r->error->code, r->error->field, "%s",
                        r->error->message ? r->error->message : "config rejected");
    } else {
        fr = FETCH_UNAVAILABLE;
    }
    mediation__v1__config_get_reply__free_unpacked(r, NULL);
    return fr;
}

static fetch_result fetch(med_rconfig *rc, const med_rconfig_key *k, med_rconfig_entry **out,
                          med_err *err)
{
    *out = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    if (pack_request(k, &buf, &len, err) != MED_OK) return FETCH_UNAVAILABLE;
    natsMsg *reply = NULL;
    natsStatus s = natsConnection_Request(&reply, rc->nc, MED_SUBJ_H_GET, buf, (int)len,
                                          rc->timeout_ms);
    free(buf);
    if (s == NATS_TIMEOUT) return FETCH_TIMEOUT;
    if (s != NATS_OK) return FETCH_UNAVAILABLE;
    fetch_result fr = classify_reply(reply, out, err);
    natsMsg_Destroy(reply);
    return fr;
}

med_rc med_rconfig_get(med_rconfig *rc, const med_rconfig_key *key, const char *pinned_hash,
                       const med_rconfig_entry **out, med_rconfig_status *status,
                       med_err *err)
{
    *out = NULL;
    *status = MED_RCFG_NONE_UNAVAILABLE;
    if (!rc || !key)
        return med_err_set(err, MED_ERR_INVALID, MED_R_CFG_INVALID_VALUE, NULL,
                           "rconfig needs a client and a key");
    char *kt = key_text(key);
    if (!kt) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "rconfig key");
    int64_t now = med_mono_ms();
    /* A pinned hash we hold answers at once, fresh or not: the content is
     * immutable and the opportunity already ran on it. */
    const med_rconfig_entry *hit = pinned_hash && *pinned_hash
        ? lookup(rc, kt, pinned_hash, 2, now) : NULL;
    if (!hit) hit = lookup(rc, kt, NULL, 1, now);
    if (hit) {
        *status = pinned_hash && *pinned_hash && strcmp(hit->config_hash, pinned_hash) != 0
            ? MED_RCFG_PIN_MISSED : MED_RCFG_FRESH;
        *out = hit;
        free(kt);
        return MED_OK;
    }
    med_rconfig_entry *e = NULL;
    med_err ferr;
    med_err_clear(&ferr);
    fetch_result fr = fetch(rc, key, &e, &ferr);
    if (fr == FETCH_OK) {
        e->generation = rc->snap ? med_cfgsnap_generation(rc->snap) : 0;
        e->fetched_mono_ms = now;
        store(rc, kt, e);
        *status = pinned_hash && *pinned_hash && strcmp(e->config_hash, pinned_hash) != 0
            ? MED_RCFG_PIN_MISSED : MED_RCFG_FRESH;
        *out = e;
    } else if (fr == FETCH_INVALID) {
        *status = MED_RCFG_VERSION_INVALID;
        if (err && ferr.code[0]) *err = ferr;
    } else {
        /* Last-known-good: the newest entry we hold, however old. */
        *out = lookup(rc, kt, NULL, 0, now);
        if (fr == FETCH_TIMEOUT)
            *status = *out ? MED_RCFG_STALE_TIMEOUT : MED_RCFG_NONE_TIMEOUT;
        else
            *status = *out ? MED_RCFG_STALE_UNAVAILABLE : MED_RCFG_NONE_UNAVAILABLE;
    }
    free(kt);
    return MED_OK;
}
