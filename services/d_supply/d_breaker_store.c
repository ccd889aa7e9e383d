#include "d_breaker_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "d_redis_link.h"
#include "med/ids.h"
#include "med/log.h"
#include "med/metrics.h"
#include "med/mpack.h"

#define SYNC_CHUNK 64   /* med_redis_eval takes at most 64 keys and args */

/* The state as Lua sees it; an unreadable value counts as absent. */
#define LUA_LOAD                                                                  \
    "local function load(raw)\n"                                                  \
    "  if not raw then return nil end\n"                                          \
    "  local ok, s = pcall(cmsgpack.unpack, raw)\n"                               \
    "  if not ok or type(s) ~= 'table' then return nil end\n"                     \
    "  s.failures = tonumber(s.failures) or 0\n"                                  \
    "  s.openUntilUnixMs = tonumber(s.openUntilUnixMs) or 0\n"                    \
    "  s.probeUntilUnixMs = tonumber(s.probeUntilUnixMs) or 0\n"                  \
    "  if type(s.probeOwner) ~= 'string' then s.probeOwner = '' end\n"            \
    "  return s\n"                                                                \
    "end\n"

/* KEYS[1] circuit; ARGV now, failure (1|0), threshold, open ms, ttl ms, op.
 * d_breaker.c's transition. Replies: the new state; or, for a success, 1
 * when it closed an opened circuit, 0 / false otherwise. lastOp makes a
 * repeat of the same call (the client repeats once after an I/O error) a
 * no-op. */
static const char RECORD_LUA[] =
    LUA_LOAD
    "local raw = redis.call('GET', KEYS[1])\n"
    "local s = load(raw)\n"
    "if s and s.lastOp == ARGV[6] then return raw end\n"
    "if ARGV[2] ~= '1' then\n"
    "  if not raw then return false end\n"
    "  redis.call('DEL', KEYS[1])\n"
    "  if s and s.openUntilUnixMs > 0 then return 1 end\n"
    "  return 0\n"
    "end\n"
    "s = s or {failures = 0, openUntilUnixMs = 0, probeUntilUnixMs = 0, probeOwner = ''}\n"
    "s.failures = s.failures + 1\n"
    "if s.probeUntilUnixMs > 0 or s.failures >= tonumber(ARGV[3]) then\n"
    "  s.openUntilUnixMs = tonumber(ARGV[1]) + tonumber(ARGV[4])\n"
    "  s.probeUntilUnixMs = 0\n"
    "  s.probeOwner = ''\n"
    "end\n"
    "s.lastOp = ARGV[6]\n"
    "local v = cmsgpack.pack(s)\n"
    "redis.call('SET', KEYS[1], v, 'PX', ARGV[5])\n"
    "return v\n";

/* KEYS[1] circuit; ARGV now, lease ms, ttl ms, owner. The probe goes to
 * the first caller after the open period; a repeat by the holder finds
 * its own lease (the C side reads probeOwner). */
static const char CLAIM_LUA[] =
    LUA_LOAD
    "local raw = redis.call('GET', KEYS[1])\n"
    "local s = load(raw)\n"
    "if not s then return false end\n"
    "local now = tonumber(ARGV[1])\n"
    "if s.openUntilUnixMs == 0 or now < s.openUntilUnixMs or s.probeUntilUnixMs > now then\n"
    "  return raw\n"
    "end\n"
    "s.probeUntilUnixMs = now + tonumber(ARGV[2])\n"
    "s.probeOwner = ARGV[4]\n"
    "local v = cmsgpack.pack(s)\n"
    "redis.call('SET', KEYS[1], v, 'PX', ARGV[3])\n"
    "return v\n";

/* KEYS: circuits. One flat map: <i>f, <i>u, <i>p for each stored one
 * (1-based), or false when none is. */
static const char READ_LUA[] =
    LUA_LOAD
    "local out, n = {}, 0\n"
    "for i, k in ipairs(KEYS) do\n"
    "  local s = load(redis.call('GET', k))\n"
    "  if s then\n"
    "    out[i .. 'f'] = s.failures\n"
    "    out[i .. 'u'] = s.openUntilUnixMs\n"
    "    out[i .. 'p'] = s.probeUntilUnixMs\n"
    "    n = n + 1\n"
    "  end\n"
    "end\n"
    "if n == 0 then return false end\n"
    "return cmsgpack.pack(out)\n";

struct d_breaker_store {
    d_redis_link link;
    d_breaker_port port;
    const char *env;
    char owner[128];
    int64_t open_ms;
    uint64_t op_seq;
};

int d_breaker_store_key(const char *env, const char *circuit_key, char *out, size_t cap)
{
    if (!env || !env[0] || !circuit_key || !circuit_key[0]) return -1;
    int n = snprintf(out, cap, "med:%s:d:breaker:%s", env, circuit_key);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

static int64_t int_of(const med_mmap *m, const char *key)
{
    const med_mval *v = med_mmap_get(m, key);
    if (!v) return 0;
    if (v->type == MED_MVAL_INT) return v->u.i;
    if (v->type == MED_MVAL_DOUBLE) return (int64_t)v->u.d;
    return 0;
}

/* A stored value -> view; *mine = this store holds its probe. -1 when it
 * does not decode. */
static int decode_state(const d_breaker_store *s, const uint8_t *buf, size_t len, d_breaker_view *v,
                        int *mine)
{
    med_mmap *m = NULL;
    med_err e;
    if (med_mmap_decode(buf, len, &m, &e) != MED_OK) return -1;
    v->failures = (int)int_of(m, "failures");
    v->open_until_ms = int_of(m, "openUntilUnixMs");
    v->probe_until_ms = int_of(m, "probeUntilUnixMs");
    const med_mval *o = med_mmap_get(m, "probeOwner");
    *mine = o && o->type == MED_MVAL_STR && v->probe_until_ms > 0 && o->u.s.len == strlen(s->owner) &&
            memcmp(o->u.s.ptr, s->owner, o->u.s.len) == 0;
    med_mmap_free(m);
    return 0;
}

/* "<tenant>:<sourceId>" -> sourceId (a sourceId has no ':'). */
static const char *source_of(const char *circuit_key)
{
    const char *c = strrchr(circuit_key, ':');
    return c ? c + 1 : circuit_key;
}

static void count_transition(const char *circuit_key, const char *to)
{
    char labels[128];
    snprintf(labels, sizeof labels, "source=\"%s\",to=\"%s\"", source_of(circuit_key), to);
    med_counter_inc(med_counter_get("med_breaker_transitions_total",
                                    "D circuit breaker transitions this replica caused", labels));
}

static void count_read(const char *result, uint64_t n)
{
    char labels[64];
    snprintf(labels, sizeof labels, "cache=\"breaker\",result=\"%s\"", result);
    if (n) med_counter_add(med_counter_get("med_cache_requests_total", "Cache lookups", labels), n);
}

/* Runs one script on one circuit; the reply decoded into v (*mine: this
 * store holds the probe), an integer reply into *flag. */
static d_breaker_reply run_one(d_breaker_store *s, const char *lua, const char *op, const char *key,
                               size_t nargs, const void *const *args, const size_t *lens,
                               d_breaker_view *v, int *mine, long long *flag)
{
    char rkey[256];
    med_redis *r = d_breaker_store_key(s->env, key, rkey, sizeof rkey) == 0 ? d_redis_link_get(&s->link)
                                                                            : NULL;
    if (!r) return D_BRK_DOWN;
    const char *keys[1] = { rkey };
    med_redis_reply reply = { 0 };
    med_err e;
    if (med_redis_eval(r, lua, 1, keys, nargs, args, lens, &reply, &e) != MED_OK) {
        d_redis_link_failed(&s->link, op, &e);
        return D_BRK_DOWN;
    }
    d_breaker_reply out = D_BRK_CLOSED;
    *mine = 0;
    *flag = reply.kind == MED_REDIS_REPLY_INT ? reply.integer : 0;
    if (reply.kind == MED_REDIS_REPLY_BYTES)
        out = decode_state(s, reply.bytes, reply.len, v, mine) == 0 ? D_BRK_STATE : D_BRK_CLOSED;
    med_redis_reply_clear(&reply);
    return out;
}

#define ARG(i, buf) (args[i] = (buf), lens[i] = strlen(buf))

static d_breaker_reply port_record(void *ud, const char *key, int failure, int64_t now_ms,
                                   d_breaker_view *v)
{
    d_breaker_store *s = ud;
    char now[24], fail[2], thr[8], open[24], ttl[24], op[160];
    snprintf(now, sizeof now, "%lld", (long long)now_ms);
    snprintf(fail, sizeof fail, "%d", failure ? 1 : 0);
    snprintf(thr, sizeof thr, "%d", D_BREAKER_THRESHOLD);
    snprintf(open, sizeof open, "%lld", (long long)s->open_ms);
    snprintf(ttl, sizeof ttl, "%lld", (long long)(s->open_ms + D_BREAKER_STATE_GRACE_MS));
    snprintf(op, sizeof op, "%s#%llu", s->owner, (unsigned long long)++s->op_seq);
    const void *args[6];
    size_t lens[6];
    ARG(0, now), ARG(1, fail), ARG(2, thr), ARG(3, open), ARG(4, ttl), ARG(5, op);
    int mine = 0;
    long long closed_open = 0;
    d_breaker_reply r =
        run_one(s, RECORD_LUA, "record outcome", key, 6, args, lens, v, &mine, &closed_open);
    if (r == D_BRK_STATE && failure && v->open_until_ms == now_ms + s->open_ms)
        count_transition(key, "open");
    else if (r == D_BRK_CLOSED && closed_open == 1)
        count_transition(key, "closed");
    return r;
}

static d_breaker_reply port_claim(void *ud, const char *key, int64_t now_ms, d_breaker_view *v)
{
    d_breaker_store *s = ud;
    char now[24], lease[24], ttl[24];
    snprintf(now, sizeof now, "%lld", (long long)now_ms);
    snprintf(lease, sizeof lease, "%lld", (long long)s->open_ms);
    snprintf(ttl, sizeof ttl, "%lld", (long long)(s->open_ms + D_BREAKER_STATE_GRACE_MS));
    const void *args[4];
    size_t lens[4];
    ARG(0, now), ARG(1, lease), ARG(2, ttl), ARG(3, s->owner);
    int mine = 0;
    long long unused = 0;
    d_breaker_reply r = run_one(s, CLAIM_LUA, "claim probe", key, 4, args, lens, v, &mine, &unused);
    if (r == D_BRK_STATE && mine && v->probe_until_ms > now_ms) {
        count_transition(key, "half_open");
        return D_BRK_CLAIMED;
    }
    return r;
}

d_breaker_store *d_breaker_store_new(const char *host, int port, int timeout_ms, const char *env,
                                     const char *owner, int64_t open_ms)
{
    d_breaker_store *s = calloc(1, sizeof *s);
    if (!s || d_redis_link_init(&s->link, host, port, timeout_ms, "D circuit breakers") != 0) {
        free(s);
        return NULL;
    }
    s->env = env && env[0] ? env : "dev";
    s->open_ms = open_ms > 0 ? open_ms : D_BREAKER_OPEN_MS;
    /* Unique per store: the probe lease names its holder. */
    snprintf(s->owner, sizeof s->owner, "%.80s/%ld/%llx", owner && owner[0] ? owner : "d",
             (long)getpid(), (unsigned long long)((uintptr_t)s ^ (uint64_t)med_now_unix_ms()));
    s->port = (d_breaker_port){ .record = port_record, .claim = port_claim, .ud = s };
    return s;
}

void d_breaker_store_free(d_breaker_store *s)
{
    if (!s) return;
    d_redis_link_clear(&s->link);
    free(s);
}

const d_breaker_port *d_breaker_store_port(d_breaker_store *s)
{
    return s ? &s->port : NULL;
}

/* One chunk's flat map into b: circuits without an entry are closed. */
static void load_chunk(d_breakers *b, const char *const *keys, size_t n, const med_mmap *m,
                       int64_t now_ms)
{
    uint64_t hits = 0;
    for (size_t i = 0; i < n; i++) {
        char f[24], u[24], p[24];
        snprintf(f, sizeof f, "%zuf", i + 1);
        snprintf(u, sizeof u, "%zuu", i + 1);
        snprintf(p, sizeof p, "%zup", i + 1);
        if (!m || !med_mmap_get(m, f)) {
            d_breaker_load(b, keys[i], D_BRK_CLOSED, NULL, now_ms);
            continue;
        }
        d_breaker_view v = { .failures = (int)int_of(m, f), .open_until_ms = int_of(m, u),
                             .probe_until_ms = int_of(m, p) };
        d_breaker_load(b, keys[i], D_BRK_STATE, &v, now_ms);
        hits++;
    }
    count_read("hit", hits);
    count_read("miss", n - hits);
}

/* -1 when Redis did not answer (the chunk's circuits are then closed). */
static int sync_chunk(d_breaker_store *s, d_breakers *b, const char *const *keys, size_t n,
                      int64_t now_ms)
{
    med_redis *r = d_redis_link_get(&s->link);
    char rkeys[SYNC_CHUNK][256];
    const char *kp[SYNC_CHUNK];
    size_t k = 0;
    const char *ck[SYNC_CHUNK];
    for (size_t i = 0; i < n && i < SYNC_CHUNK; i++)
        if (d_breaker_store_key(s->env, keys[i], rkeys[k], sizeof rkeys[k]) == 0) {
            ck[k] = keys[i];
            kp[k] = rkeys[k];
            k++;
        }
    if (!r || !k) return r ? 0 : -1;
    med_redis_reply reply = { 0 };
    med_err e;
    if (med_redis_eval(r, READ_LUA, k, kp, 0, NULL, NULL, &reply, &e) != MED_OK) {
        d_redis_link_failed(&s->link, "read circuits", &e);
        return -1;
    }
    med_mmap *m = NULL;
    if (reply.kind == MED_REDIS_REPLY_BYTES && med_mmap_decode(reply.bytes, reply.len, &m, &e) != MED_OK)
        m = NULL;   /* unreadable: as if nothing were stored */
    load_chunk(b, ck, k, m, now_ms);
    med_mmap_free(m);
    med_redis_reply_clear(&reply);
    return 0;
}

void d_breaker_store_sync(d_breaker_store *s, d_breakers *b, const char *const *keys, size_t n,
                          int64_t now_ms)
{
    if (!b) return;
    for (size_t at = 0; at < n; at += SYNC_CHUNK) {
        size_t len = n - at < SYNC_CHUNK ? n - at : SYNC_CHUNK;
        if (!s || sync_chunk(s, b, keys + at, len, now_ms) != 0) {
            for (size_t i = 0; i < len; i++) d_breaker_load(b, keys[at + i], D_BRK_DOWN, NULL, now_ms);
            count_read("error", len);
        }
    }
}
