#include "d_breaker.h"

#include <stdio.h>
#include <string.h>

int d_breaker_key(const char *tenant, const char *source_id, char *out, size_t cap)
{
    if (!source_id || !source_id[0]) return -1;
    int n = snprintf(out, cap, "%s:%s", tenant && tenant[0] ? tenant : "NA", source_id);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

static d_breaker_state *find(const d_breakers *b, const char *key)
{
    for (int i = 0; i < b->n; i++)
        if (!strcmp(b->items[i].key, key)) return (d_breaker_state *)&b->items[i];
    return NULL;
}

static int clean(const d_breaker_state *s)
{
    return s->consecutive_failures == 0 && s->open_until_ms == 0 && !s->probing;
}

/* A slot for key: a new one, or, in a full table, one whose circuit is
 * clean (forgetting it changes nothing). NULL when every slot holds a
 * failing circuit: that source then counts as closed. */
static d_breaker_state *find_or_add(d_breakers *b, const char *key)
{
    d_breaker_state *s = find(b, key);
    if (s) return s;
    if (strlen(key) >= sizeof s->key) return NULL;
    if (b->n < D_BREAKER_MAX) s = &b->items[b->n++];
    for (int i = 0; !s && i < b->n; i++)
        if (clean(&b->items[i])) s = &b->items[i];
    if (!s) return NULL;
    memset(s, 0, sizeof *s);
    memcpy(s->key, key, strlen(key) + 1);
    return s;
}

static int64_t open_ms(const d_breakers *b)
{
    return b->open_ms > 0 ? b->open_ms : D_BREAKER_OPEN_MS;
}

static void close_circuit(d_breaker_state *s)
{
    s->consecutive_failures = 0;
    s->open_until_ms = 0;
    s->probing = 0;
}

void d_breaker_load(d_breakers *b, const char *key, d_breaker_reply r, const d_breaker_view *v,
                    int64_t now_ms)
{
    if (!b || !key) return;
    int closed = r == D_BRK_DOWN || r == D_BRK_CLOSED || !v;
    d_breaker_state *s = closed ? find(b, key) : find_or_add(b, key);
    if (!s) return;
    if (closed) {
        close_circuit(s);
        return;
    }
    s->consecutive_failures = v->failures;
    s->open_until_ms = v->open_until_ms;
    s->probing = r == D_BRK_CLAIMED || v->probe_until_ms > now_ms;
}

int d_breaker_dirty(const d_breakers *b, const char *key)
{
    const d_breaker_state *s = b ? find(b, key) : NULL;
    return s && !clean(s);
}

/* Half-open: the probe goes to whoever claims it in the shared store; a
 * store that does not answer leaves the circuit closed. */
static int claim_probe(d_breakers *b, d_breaker_state *s, int64_t now_ms)
{
    if (!b->port) {
        s->probing = 1;
        return 1;
    }
    d_breaker_view v;
    memset(&v, 0, sizeof v);
    char key[D_BREAKER_KEY_MAX];
    memcpy(key, s->key, sizeof key);
    d_breaker_reply r = b->port->claim(b->port->ud, key, now_ms, &v);
    d_breaker_load(b, key, r, &v, now_ms);
    if (r == D_BRK_CLAIMED) return 1;
    return s->open_until_ms == 0;   /* reopened or probed elsewhere: no */
}

int d_breaker_allow(d_breakers *b, const char *key, int64_t now_ms)
{
    if (!b || !key) return 1;
    d_breaker_state *s = find(b, key);
    if (!s || s->open_until_ms == 0) return 1;
    if (now_ms < s->open_until_ms || s->probing) return 0;
    return claim_probe(b, s, now_ms);
}

int d_breaker_closed(const d_breakers *b, const char *key, int64_t now_ms)
{
    (void)now_ms;
    if (!b || !key) return 1;
    const d_breaker_state *s = find(b, key);
    return !s || (s->open_until_ms == 0 && s->consecutive_failures < D_BREAKER_THRESHOLD);
}

/* The transition itself (the shared store's script mirrors it). */
static void transition(const d_breakers *b, d_breaker_state *s, int failure, int64_t now_ms)
{
    if (!failure) {
        close_circuit(s);
        return;
    }
    s->consecutive_failures++;
    if (s->probing || s->consecutive_failures >= D_BREAKER_THRESHOLD) {
        s->open_until_ms = now_ms + open_ms(b);
        s->probing = 0;
    }
}

void d_breaker_record(d_breakers *b, const char *key, d_outcome_type t, int64_t now_ms)
{
    if (!b || !key) return;
    int failure = t == D_OUT_TIMEOUT || t == D_OUT_ERROR;
    if (b->port) {
        /* A success on a clean circuit changes nothing anywhere: the hot
         * path stays without a round trip. */
        if (!failure && !d_breaker_dirty(b, key)) return;
        d_breaker_view v;
        memset(&v, 0, sizeof v);
        d_breaker_reply r = b->port->record(b->port->ud, key, failure, now_ms, &v);
        d_breaker_load(b, key, r, &v, now_ms);
        return;
    }
    d_breaker_state *s = find_or_add(b, key);
    if (s) transition(b, s, failure, now_ms);
}
