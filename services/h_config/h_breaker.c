/* Canary circuit breaker (spec 04 H.7). */
#include "h_breaker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "med/mpack.h"
#include "med/reason.h"

static const int64_t latency_lo_ms[H_BREAKER_LAT_BUCKETS] = {
    0, 50, 100, 150, 200, 300, 400, 500, 750, 1000, 1500, 2000, 3000, 5000, 10000, 30000};

/* Bumped when the encoded layout changes, so an old Redis value is refused
 * instead of misread. */
#define STATE_FORMAT 1
#define SLOT_WORDS (4 + H_BREAKER_LAT_BUCKETS)
#define SLOT_BYTES (8 + 4 * SLOT_WORDS)
#define SLOTS_BYTES (SLOT_BYTES * H_BREAKER_SLOTS)

const char *h_breaker_mode_name(h_breaker_mode m)
{
    switch (m) {
    case H_BREAKER_CLOSED: return "closed";
    case H_BREAKER_OPEN: return "open";
    case H_BREAKER_HALF_OPEN: return "half_open";
    }
    return "open";
}

void h_breaker_thresholds_off(h_breaker_thresholds *t)
{
    t->error_rate_bp = -1;
    t->no_fill_rate_bp = -1;
    t->p95_latency_ms = -1;
    t->critical_reason_code_count = -1;
}

static void clear_window(h_breaker_state *s)
{
    memset(s->slots, 0, sizeof s->slots);
    for (size_t i = 0; i < H_BREAKER_SLOTS; i++) s->slots[i].epoch = -1;
}

void h_breaker_init(h_breaker_state *s)
{
    memset(s, 0, sizeof *s);
    s->mode = H_BREAKER_CLOSED;
    clear_window(s);
}

void h_breaker_reset(h_breaker_state *s)
{
    h_breaker_init(s);
}

static int missing(const char *s)
{
    return !s || !*s;
}

med_rc h_breaker_key(const char *app_id, const char *placement_id,
                     const char *rollout_policy_version, char **out, med_err *err)
{
    if (!out || missing(app_id) || missing(placement_id) || missing(rollout_policy_version))
        return med_err_set(err, MED_ERR_INVALID, MED_R_H_ROLLOUT_POLICY_NOT_FOUND, "",
                           "breaker key needs appId, placementId and rolloutPolicyVersion");
    if (asprintf(out, "%s|%s|%s", app_id, placement_id, rollout_policy_version) < 0) {
        *out = NULL;
        return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, "", "breaker key");
    }
    return MED_OK;
}

static int64_t effective_cooldown(int64_t cooldown_ms)
{
    return cooldown_ms > 0 ? cooldown_ms : H_BREAKER_DEFAULT_COOLDOWN_MS;
}

h_breaker_mode h_breaker_mode_at(const h_breaker_state *s, int64_t cooldown_ms, int64_t now_ms)
{
    if (s->mode != H_BREAKER_OPEN) return s->mode;
    if (now_ms - s->opened_at_ms >= effective_cooldown(cooldown_ms)) return H_BREAKER_HALF_OPEN;
    return H_BREAKER_OPEN;
}

h_breaker_mode h_breaker_advance(h_breaker_state *s, int64_t cooldown_ms, int64_t now_ms)
{
    h_breaker_mode m = h_breaker_mode_at(s, cooldown_ms, now_ms);
    if (m != s->mode) {
        s->mode = m;
        clear_window(s);
    }
    return m;
}

static size_t latency_bucket(int64_t ms)
{
    size_t i = H_BREAKER_LAT_BUCKETS - 1;
    while (i > 0 && ms < latency_lo_ms[i]) i--;
    return i;
}

static int64_t epoch_of(int64_t now_ms)
{
    return now_ms / H_BREAKER_SLOT_MS;
}

static int in_window(int64_t slot_epoch, int64_t now_epoch)
{
    return slot_epoch >= 0 && slot_epoch <= now_epoch && slot_epoch > now_epoch - H_BREAKER_SLOTS;
}

/* The slot for now_ms, recycled when it still holds an older epoch; NULL
 * when it already holds a newer one (the sample is too old to count). */
static h_breaker_slot *slot_for(h_breaker_state *s, int64_t now_ms)
{
    int64_t e = epoch_of(now_ms);
    h_breaker_slot *slot = &s->slots[e % H_BREAKER_SLOTS];
    if (slot->epoch > e) return NULL;
    if (slot->epoch < e) {
        memset(slot, 0, sizeof *slot);
        slot->epoch = e;
    }
    return slot;
}

static void add_outcome(h_breaker_slot *slot, const h_breaker_outcome *o)
{
    slot->requests++;
    if (o->error) slot->errors++;
    if (o->no_fill) slot->no_fills++;
    slot->critical += o->critical_reason_codes;
    if (o->latency_ms >= 0) slot->latency[latency_bucket(o->latency_ms)]++;
}

static int64_t p95_from(const uint64_t *hist, uint64_t n)
{
    if (n == 0) return -1;
    uint64_t rank = (95 * n + 99) / 100; /* ceil(0.95 n) */
    uint64_t seen = 0;
    for (size_t i = 0; i < H_BREAKER_LAT_BUCKETS; i++) {
        seen += hist[i];
        if (seen >= rank) return latency_lo_ms[i];
    }
    return latency_lo_ms[H_BREAKER_LAT_BUCKETS - 1];
}

void h_breaker_stats_at(const h_breaker_state *s, int64_t now_ms, h_breaker_stats *out)
{
    uint64_t hist[H_BREAKER_LAT_BUCKETS] = {0};
    int64_t now_epoch = epoch_of(now_ms);
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < H_BREAKER_SLOTS; i++) {
        const h_breaker_slot *slot = &s->slots[i];
        if (!in_window(slot->epoch, now_epoch)) continue;
        out->requests += slot->requests;
        out->errors += slot->errors;
        out->no_fills += slot->no_fills;
        out->critical += slot->critical;
        for (size_t b = 0; b < H_BREAKER_LAT_BUCKETS; b++) {
            hist[b] += slot->latency[b];
            out->latency_samples += slot->latency[b];
        }
    }
    out->p95_latency_ms = p95_from(hist, out->latency_samples);
}

/* count/requests >= threshold_bp/10000, in integers. */
static bool rate_reached(uint64_t count, uint64_t requests, int32_t threshold_bp)
{
    if (threshold_bp < 0 || requests == 0) return false;
    return count * 10000u >= (uint64_t)threshold_bp * requests;
}

bool h_breaker_should_trip(const h_breaker_stats *st, const h_breaker_thresholds *t)
{
    if (rate_reached(st->errors, st->requests, t->error_rate_bp)) return true;
    if (rate_reached(st->no_fills, st->requests, t->no_fill_rate_bp)) return true;
    if (t->p95_latency_ms >= 0 && st->p95_latency_ms >= 0 &&
        st->p95_latency_ms >= t->p95_latency_ms)
        return true;
    return t->critical_reason_code_count >= 0 &&
           st->critical >= (uint64_t)t->critical_reason_code_count && st->requests > 0;
}

static void trip(h_breaker_state *s, int64_t now_ms)
{
    s->mode = H_BREAKER_OPEN;
    s->opened_at_ms = now_ms;
    s->trips++;
}

med_rc h_breaker_record(h_breaker_state *s, const h_breaker_thresholds *t, int64_t cooldown_ms,
                        const h_breaker_outcome *o, int64_t now_ms, bool *tripped, med_err *err)
{
    if (tripped) *tripped = false;
    if (!s || !t || !o || now_ms < 0)
        return med_err_set(err, MED_ERR_INVALID, MED_R_H_CFG_INVALID_RANGE, "",
                           "breaker record needs state, thresholds, outcome and a time");
    if (h_breaker_advance(s, cooldown_ms, now_ms) == H_BREAKER_OPEN) return MED_OK;
    h_breaker_slot *slot = slot_for(s, now_ms);
    if (!slot) return MED_OK;
    add_outcome(slot, o);
    h_breaker_stats st;
    h_breaker_stats_at(s, now_ms, &st);
    if (!h_breaker_should_trip(&st, t)) return MED_OK;
    trip(s, now_ms);
    if (tripped) *tripped = true;
    return MED_OK;
}

/* ---- msgpack state ---- */

static void put_be(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--) {
        p[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

static uint64_t get_be(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) v = (v << 8) | p[i];
    return v;
}

static void slot_words(const h_breaker_slot *slot, uint32_t w[SLOT_WORDS])
{
    w[0] = slot->requests;
    w[1] = slot->errors;
    w[2] = slot->no_fills;
    w[3] = slot->critical;
    memcpy(&w[4], slot->latency, sizeof slot->latency);
}

static void pack_slots(const h_breaker_state *s, uint8_t *buf)
{
    for (size_t i = 0; i < H_BREAKER_SLOTS; i++) {
        uint8_t *p = buf + i * SLOT_BYTES;
        uint32_t w[SLOT_WORDS];
        put_be(p, (uint64_t)s->slots[i].epoch, 8);
        slot_words(&s->slots[i], w);
        for (size_t k = 0; k < SLOT_WORDS; k++) put_be(p + 8 + 4 * k, w[k], 4);
    }
}

static void unpack_slots(const uint8_t *buf, h_breaker_state *s)
{
    for (size_t i = 0; i < H_BREAKER_SLOTS; i++) {
        const uint8_t *p = buf + i * SLOT_BYTES;
        h_breaker_slot *slot = &s->slots[i];
        uint32_t w[SLOT_WORDS];
        slot->epoch = (int64_t)get_be(p, 8);
        for (size_t k = 0; k < SLOT_WORDS; k++) w[k] = (uint32_t)get_be(p + 8 + 4 * k, 4);
        slot->requests = w[0];
        slot->errors = w[1];
        slot->no_fills = w[2];
        slot->critical = w[3];
        memcpy(slot->latency, &w[4], sizeof slot->latency);
    }
}

med_rc h_breaker_encode(const h_breaker_state *s, uint8_t **out, size_t *len, med_err *err)
{
    uint8_t slots[SLOTS_BYTES];
    med_mmap *m = med_mmap_new();
    if (!m) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, "", "breaker state map");
    pack_slots(s, slots);
    int bad = med_mmap_set_int(m, "format", STATE_FORMAT) ||
              med_mmap_set_str(m, "mode", h_breaker_mode_name(s->mode)) ||
              med_mmap_set_int(m, "openedAtMs", s->opened_at_ms) ||
              med_mmap_set_int(m, "trips", s->trips) ||
              med_mmap_set_bin(m, "slots", slots, sizeof slots);
    med_rc rc = bad ? med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, "", "breaker state map")
                    : med_mmap_encode(m, out, len, err);
    med_mmap_free(m);
    return rc;
}

static med_rc decode_failed(med_err *err, const char *what)
{
    return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_DECODE_FAILED, "",
                       "breaker state: %s", what);
}

static const med_mval *typed(const med_mmap *m, const char *key, med_mval_type type)
{
    const med_mval *v = med_mmap_get(m, key);
    return v && v->type == type ? v : NULL;
}

static int mode_from_name(const med_mval *v, h_breaker_mode *out)
{
    static const h_breaker_mode modes[] = {H_BREAKER_CLOSED, H_BREAKER_OPEN, H_BREAKER_HALF_OPEN};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        const char *name = h_breaker_mode_name(modes[i]);
        if (v->u.s.len == strlen(name) && memcmp(v->u.s.ptr, name, v->u.s.len) == 0) {
            *out = modes[i];
            return 0;
        }
    }
    return -1;
}

static med_rc fill_state(const med_mmap *m, h_breaker_state *out, med_err *err)
{
    const med_mval *format = typed(m, "format", MED_MVAL_INT);
    const med_mval *mode = typed(m, "mode", MED_MVAL_STR);
    const med_mval *opened = typed(m, "openedAtMs", MED_MVAL_INT);
    const med_mval *trips = typed(m, "trips", MED_MVAL_INT);
    const med_mval *slots = typed(m, "slots", MED_MVAL_BIN);
    if (!format || format->u.i != STATE_FORMAT) return decode_failed(err, "unknown format");
    if (!mode || !opened || !trips || !slots) return decode_failed(err, "field missing");
    if (trips->u.i < 0 || trips->u.i > UINT32_MAX || opened->u.i < 0)
        return decode_failed(err, "counter out of range");
    if (slots->u.s.len != SLOTS_BYTES) return decode_failed(err, "slots size");
    h_breaker_init(out);
    if (mode_from_name(mode, &out->mode) != 0) return decode_failed(err, "unknown mode");
    out->opened_at_ms = opened->u.i;
    out->trips = (uint32_t)trips->u.i;
    unpack_slots((const uint8_t *)slots->u.s.ptr, out);
    return MED_OK;
}

med_rc h_breaker_decode(const uint8_t *buf, size_t len, h_breaker_state *out, med_err *err)
{
    med_mmap *m = NULL;
    med_rc rc = med_mmap_decode(buf, len, &m, err);
    if (rc != MED_OK) return rc;
    rc = fill_state(m, out, err);
    med_mmap_free(m);
    return rc;
}
