/* F's Redis fast path (see f_redis.h). */
#include "f_redis.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "med/ids.h"
#include "med/log.h"
#include "med/metrics.h"

#define F_REDIS_RETRY_MS 1000

/* Deletes KEYS[1] only while it holds ARGV[1]: a lock that expired and was
 * taken by another batch is never released by its former owner. */
static const char DEL_IF_OWNER[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

struct f_redis {
    char *host;
    int port;
    struct timeval timeout;
    redisContext *ctx;
    int64_t next_try_ms;
};

f_redis *f_redis_new(const char *host, int port, int timeout_ms)
{
    f_redis *r = calloc(1, sizeof *r);
    if (!r || !(r->host = strdup(host ? host : "127.0.0.1"))) {
        free(r);
        return NULL;
    }
    r->port = port;
    r->timeout.tv_sec = timeout_ms / 1000;
    r->timeout.tv_usec = (timeout_ms % 1000) * 1000;
    return r;
}

static void drop(f_redis *r)
{
    if (r->ctx) redisFree(r->ctx);
    r->ctx = NULL;
    r->next_try_ms = med_mono_ms() + F_REDIS_RETRY_MS;
}

void f_redis_free(f_redis *r)
{
    if (!r) return;
    if (r->ctx) redisFree(r->ctx);
    free(r->host);
    free(r);
}

static int ensure(f_redis *r)
{
    if (r->ctx) return 0;
    if (med_mono_ms() < r->next_try_ms) return -1;
    redisContext *c = redisConnectWithTimeout(r->host, r->port, r->timeout);
    if (!c || c->err || redisSetTimeout(c, r->timeout) != REDIS_OK) {
        if (c) redisFree(c);
        r->next_try_ms = med_mono_ms() + F_REDIS_RETRY_MS;
        return -1;
    }
    r->ctx = c;
    return 0;
}

static void key_of(char *out, size_t cap, const char *kind, const char *tenant, const char *key)
{
    snprintf(out, cap, "f:%s:%s:%s", kind, tenant ? tenant : "", key);
}

static void count(const char *result, size_t n)
{
    if (n == 0) return;
    char labels[64];
    snprintf(labels, sizeof labels, "result=\"%s\"", result);
    med_counter_add(med_counter_get("f_dedup_fastpath_total",
                                    "Dedup keys by what the Redis fast path knew before the claim",
                                    labels),
                    n);
}

/* Reads n pipelined replies; each goes to on_reply (may be NULL). -1 when
 * the connection broke (dropped). */
typedef void (*reply_fn)(size_t i, const redisReply *rep, void *ud);

static int read_replies(f_redis *r, size_t n, reply_fn on_reply, void *ud)
{
    for (size_t i = 0; i < n; i++) {
        void *rep = NULL;
        if (redisGetReply(r->ctx, &rep) != REDIS_OK || !rep) {
            drop(r);
            return -1;
        }
        if (on_reply) on_reply(i, rep, ud);
        freeReplyObject(rep);
    }
    return 0;
}

typedef struct before_ud {
    const f_batch_work *b;
    f_redis_seen *seen;
    const char *owner;
} before_ud;

/* Replies come in pairs per key: SET NX, then GET of the marker. */
static void on_before(size_t i, const redisReply *rep, void *ud)
{
    before_ud *u = ud;
    size_t row = i / 2;
    if (i % 2 == 0) {
        u->seen->acquired[row] =
            (unsigned char)(rep->type == REDIS_REPLY_STATUS && strcmp(rep->str, "OK") == 0);
        return;
    }
    if (rep->type == REDIS_REPLY_STRING)
        u->seen->committed++;
    else if (!u->seen->acquired[row])
        u->seen->locked_elsewhere++;
}

void f_redis_before(f_redis *r, const f_batch_work *b, const char *owner, f_redis_seen *seen)
{
    memset(seen, 0, sizeof *seen);
    if (!r || b->n_dedup == 0) return;
    seen->acquired = calloc(b->n_dedup, 1);
    if (!seen->acquired || ensure(r) != 0) {
        count("unavailable", b->n_dedup);
        return;
    }
    long long lock_ms = b->windows.inflight_lock_ms > 0 ? b->windows.inflight_lock_ms : 120000;
    char key[600];
    for (size_t i = 0; i < b->n_dedup; i++) {
        key_of(key, sizeof key, "lk", b->tenant_id, b->dedup[i].key);
        redisAppendCommand(r->ctx, "SET %s %s NX PX %lld", key, owner, lock_ms);
        key_of(key, sizeof key, "dk", b->tenant_id, b->dedup[i].key);
        redisAppendCommand(r->ctx, "GET %s", key);
    }
    before_ud u = { b, seen, owner };
    if (read_replies(r, b->n_dedup * 2, on_before, &u) != 0) {
        memset(seen->acquired, 0, b->n_dedup);
        seen->committed = seen->locked_elsewhere = 0;
        count("unavailable", b->n_dedup);
        return;
    }
    seen->available = 1;
    seen->keys = b->n_dedup;
    count("committed", seen->committed);
    count("inflight_elsewhere", seen->locked_elsewhere);
    count("free", seen->keys - seen->committed - seen->locked_elsewhere);
}

void f_redis_after(f_redis *r, const f_batch_work *b, const char *owner, const f_redis_seen *seen)
{
    if (!r || b->n_dedup == 0 || ensure(r) != 0) return;
    size_t cmds = 0;
    char key[600];
    for (size_t i = 0; i < b->n_dedup; i++) {
        const f_dedup_row *d = &b->dedup[i];
        long long ttl = d->expires_at_ms - med_now_unix_ms();
        if (d->won && !d->release && ttl > 0 && d->fingerprint) {
            key_of(key, sizeof key, "dk", b->tenant_id, d->key);
            redisAppendCommand(r->ctx, "SET %s %s PX %lld", key, d->fingerprint, ttl);
            cmds++;
        }
        if (seen && seen->acquired && seen->acquired[i]) {
            key_of(key, sizeof key, "lk", b->tenant_id, d->key);
            redisAppendCommand(r->ctx, "EVAL %s 1 %s %s", DEL_IF_OWNER, key, owner);
            cmds++;
        }
    }
    read_replies(r, cmds, NULL, NULL);
}

void f_redis_seen_free(f_redis_seen *seen)
{
    if (!seen) return;
    free(seen->acquired);
    seen->acquired = NULL;
}
