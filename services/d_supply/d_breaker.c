#include "d_breaker.h"

#include <stdio.h>
#include <string.h>

static d_breaker_state *find(const d_breakers *b, const char *id)
{
    for (int i = 0; i < b->n; i++)
        if (!strcmp(b->items[i].source_id, id)) return (d_breaker_state *)&b->items[i];
    return NULL;
}

/* A full table forgets nothing: an untracked source counts as closed. */
static d_breaker_state *find_or_add(d_breakers *b, const char *id)
{
    d_breaker_state *s = find(b, id);
    if (s || b->n >= D_BREAKER_MAX) return s;
    s = &b->items[b->n++];
    memset(s, 0, sizeof *s);
    size_t n = strnlen(id, sizeof s->source_id - 1);
    memcpy(s->source_id, id, n);
    s->source_id[n] = '\0';
    return s;
}

int d_breaker_allow(d_breakers *b, const char *source_id, int64_t now_ms)
{
    if (!b) return 1;
    d_breaker_state *s = find(b, source_id);
    if (!s || s->open_until_ms == 0) return 1;
    if (now_ms < s->open_until_ms || s->probing) return 0;
    s->probing = 1;
    return 1;
}

int d_breaker_closed(const d_breakers *b, const char *source_id, int64_t now_ms)
{
    (void)now_ms;
    if (!b) return 1;
    const d_breaker_state *s = find(b, source_id);
    return !s || (s->open_until_ms == 0 && s->consecutive_failures < D_BREAKER_THRESHOLD);
}

void d_breaker_record(d_breakers *b, const char *source_id, d_outcome_type t, int64_t now_ms)
{
    if (!b) return;
    d_breaker_state *s = find_or_add(b, source_id);
    if (!s) return;
    int failure = t == D_OUT_TIMEOUT || t == D_OUT_ERROR;
    if (!failure) {
        s->consecutive_failures = 0;
        s->open_until_ms = 0;
        s->probing = 0;
        return;
    }
    s->consecutive_failures++;
    if (s->probing || s->consecutive_failures >= D_BREAKER_THRESHOLD) {
        s->open_until_ms = now_ms + D_BREAKER_OPEN_MS;
        s->probing = 0;
    }
}
