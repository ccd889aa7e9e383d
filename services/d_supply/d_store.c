#include "d_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "med/ids.h"
#include "med/log.h"
#include "med/metrics.h"
#include "med/reason.h"
#include "med/redis.h"
#include "d_redis_link.h"

struct d_store {
    d_redis_link link;
    int64_t ttl_ms;
};

d_store *d_store_new(const char *host, int port, int timeout_ms, int64_t ttl_ms)
{
    d_store *s = calloc(1, sizeof *s);
    if (!s || d_redis_link_init(&s->link, host, port, timeout_ms, "D redelivery guard") != 0) {
        free(s);
        return NULL;
    }
    s->ttl_ms = ttl_ms;
    return s;
}

void d_store_free(d_store *s)
{
    if (!s) return;
    d_redis_link_clear(&s->link);
    free(s);
}

static void log_redis(const char *what, const med_err *e)
{
    med_log_ctx lc = { .error_code = e->code };
    MED_LOGW(&lc, "D redelivery guard: %s: %s", what, e->message);
}

/* The connection, or NULL while Redis is being skipped. */
static med_redis *redis(d_store *s)
{
    return d_redis_link_get(&s->link);
}

static void failed(d_store *s, const char *what, const med_err *e)
{
    d_redis_link_failed(&s->link, what, e);
}

/* One round trip for what observe needs, atomic on the server: take the
 * lock (SET NX PX), read the stored output, and when the lock is someone
 * else's and there is no output yet, read the holder's lock. The reply is
 * one tag byte and its bytes:
 *   'A' acquired, no output      'a' acquired + output
 *   'o' held + output            'h' held, no output + the holder's lock
 * A repeat after a lost reply (med_redis_eval retries once) finds our own
 * lock value and answers "acquired" again. */
static const char D_GUARD_OBSERVE_LUA[] =
    "local mine = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])\n"
    "local lock = nil\n"
    "if not mine then\n"
    "  lock = redis.call('GET', KEYS[1])\n"
    "  if lock == ARGV[1] then mine = true end\n"
    "end\n"
    "local out = redis.call('GET', KEYS[2])\n"
    "if mine then\n"
    "  if out then return 'a' .. out end\n"
    "  return 'A'\n"
    "end\n"
    "if out then return 'o' .. out end\n"
    "return 'h' .. (lock or '')\n";

static d_rd_out decode_output(d_guard *g, const uint8_t *v, size_t n)
{
    med_err e;
    if (d_rd_record_decode(v, n, &g->reuse, &e) == MED_OK) return D_RD_OUT_FOUND;
    /* A record this version cannot read is as good as none: route again
     * and overwrite it. */
    log_redis(g->out_key, &e);
    return D_RD_OUT_ABSENT;
}

/* The Redis reads behind the verdict, in one script so there is no gap:
 * the holder stores its output before its lock can lapse, so either we
 * hold the lock, or we see the holder's result, or the holder is still at
 * work (its deadline is in its lock). */
static void observe(d_store *s, d_guard *g, d_rd_view *v)
{
    med_redis *r = redis(s);
    if (!r) return;   /* lock and output stay DOWN */
    char ttl[24];
    snprintf(ttl, sizeof ttl, "%lld", (long long)(s->ttl_ms > 0 ? s->ttl_ms : 1));
    const char *keys[2] = { g->lock_key, g->out_key };
    const void *args[2] = { g->lock_val, ttl };
    size_t lens[2] = { g->lock_len, strlen(ttl) };
    med_redis_reply reply = { 0 };
    med_err e;
    med_rc rc = med_redis_eval(r, D_GUARD_OBSERVE_LUA, 2, keys, 2, args, lens, &reply, &e);
    if (rc == MED_OK && (reply.kind != MED_REDIS_REPLY_BYTES || reply.len == 0))
        rc = med_err_set(&e, MED_ERR_IO, MED_R_INFRA_REDIS_ERROR, NULL, "unexpected guard reply");
    if (rc != MED_OK) {
        failed(s, "lock", &e);
        med_redis_reply_clear(&reply);
        return;
    }
    const uint8_t tag = reply.bytes[0], *rest = reply.bytes + 1;
    size_t rest_len = reply.len - 1;
    v->lock = tag == 'A' || tag == 'a' ? D_RD_LOCK_ACQUIRED : D_RD_LOCK_HELD;
    v->out = tag == 'a' || tag == 'o' ? decode_output(g, rest, rest_len) : D_RD_OUT_ABSENT;
    if (tag == 'h') v->holder_deadline_unix_ms = rest_len ? d_rd_lock_deadline(rest, rest_len) : 0;
    med_redis_reply_clear(&reply);
}

static int guard_keys(const d_guard_in *in, d_guard *g)
{
    return d_rd_key(in->env, "lock", in->tenant, in->opportunity_key, in->attempt_key, g->lock_key,
                    sizeof g->lock_key) == 0 &&
           d_rd_key(in->env, "out", in->tenant, in->opportunity_key, in->attempt_key, g->out_key,
                    sizeof g->out_key) == 0;
}

static void take_over(d_store *s, d_guard *g)
{
    med_redis *r = redis(s);
    med_err e;
    if (r && med_redis_set(r, g->lock_key, g->lock_val, g->lock_len, s->ttl_ms, &e) != MED_OK)
        failed(s, "take over lock", &e);
}

static const char *result_of(const d_rd_verdict *v, int keyed)
{
    switch (v->action) {
    case D_RD_REUSE: return "reuse";
    case D_RD_WAIT: return "wait";
    case D_RD_RUN: break;
    }
    if (v->take_over) return "take_over";
    if (v->store) return "run";
    return keyed ? "unguarded" : "unkeyed";
}

/* Operators watch "unguarded" (Redis trouble: duplicates left to the
 * stream) and "reuse" / "wait" (redeliveries and contended replicas). */
static void count(const d_rd_verdict *v, int keyed)
{
    char labels[48];
    snprintf(labels, sizeof labels, "result=\"%s\"", result_of(v, keyed));
    med_counter_inc(med_counter_get("med_redelivery_guard_total",
                                    "D messages by what the D.9 redelivery guard decided", labels));
}

void d_store_begin(d_store *s, const d_guard_in *in, d_guard *g)
{
    memset(g, 0, sizeof *g);
    d_rd_view v = { .now_unix_ms = in->now_unix_ms, .last_delivery = in->last_delivery };
    med_err e;
    v.keyed = s && guard_keys(in, g) &&
              d_rd_lock_encode(in->owner, in->deadline_unix_ms, &g->lock_val, &g->lock_len, &e) == MED_OK;
    if (v.keyed) observe(s, g, &v);
    g->verdict = d_rd_decide(&v);
    count(&g->verdict, v.keyed);
    if (g->verdict.take_over) take_over(s, g);
    g->holds = g->verdict.action == D_RD_RUN && g->verdict.store;
}

med_rc d_guard_republish(const d_guard *g, med_relay_out *out, med_err *err)
{
    for (int i = 0; i < g->reuse.n; i++) {
        const d_rd_pub *p = &g->reuse.pubs[i];
        uint8_t *copy = malloc(p->len ? p->len : 1);
        if (!copy) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "republish");
        if (p->len) memcpy(copy, p->data, p->len);
        med_rc rc = med_relay_out_add(out, p->subject, p->msg_id, copy, p->len, 0, err);
        if (rc != MED_OK) return rc;
    }
    return MED_OK;
}

void d_store_output(d_store *s, d_guard *g, const med_relay_out *out)
{
    if (!g->holds || out->n < 1 || out->n > D_RD_MAX_PUBS) return;
    d_rd_pub pubs[D_RD_MAX_PUBS];
    for (int i = 0; i < out->n; i++)
        pubs[i] = (d_rd_pub){ .subject = out->pubs[i].subject, .msg_id = out->pubs[i].msg_id,
                              .data = out->pubs[i].data, .len = out->pubs[i].len };
    uint8_t *buf = NULL;
    size_t len = 0;
    med_err e;
    if (d_rd_record_encode(pubs, out->n, &buf, &len, &e) != MED_OK) {
        log_redis("encode output", &e);
        return;
    }
    med_redis *r = redis(s);
    if (r && med_redis_set(r, g->out_key, buf, len, s->ttl_ms, &e) == MED_OK) g->stored = 1;
    else if (r) failed(s, "store output", &e);
    free(buf);
}

void d_store_end(d_store *s, d_guard *g)
{
    if (s && g->holds && !g->stored) {
        med_redis *r = redis(s);
        int deleted = 0;
        med_err e;
        if (r && med_redis_del_if_equal(r, g->lock_key, g->lock_val, g->lock_len, &deleted, &e) != MED_OK)
            failed(s, "release lock", &e);
    }
    d_rd_record_free(&g->reuse);
    free(g->lock_val);
    g->lock_val = NULL;
}
