#include "d_redeliver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "d_budget.h"
#include "med/mpack.h"
#include "med/reason.h"

static int set_(const char *s) { return s && s[0]; }

static d_rd_verdict verdict(d_rd_action a, int store, int take_over, const char *why)
{
    return (d_rd_verdict){ .action = a, .store = store, .take_over = take_over, .why = why };
}

d_rd_verdict d_rd_decide(const d_rd_view *v)
{
    if (!v->keyed) return verdict(D_RD_RUN, 0, 0, "no opportunity/attempt keys");
    if (v->out == D_RD_OUT_FOUND) return verdict(D_RD_REUSE, 0, 0, "output already stored");
    if (v->lock == D_RD_LOCK_DOWN)
        return verdict(D_RD_RUN, 0, 0, "redis unavailable: the stream drops the duplicate");
    if (v->lock == D_RD_LOCK_ACQUIRED) return verdict(D_RD_RUN, 1, 0, "lock acquired");
    if (v->out == D_RD_OUT_DOWN)
        return verdict(D_RD_RUN, 0, 0, "output unreadable: the stream drops the duplicate");
    int64_t left = v->holder_deadline_unix_ms - v->now_unix_ms;
    if (v->holder_deadline_unix_ms <= 0 || left <= 0)
        return verdict(D_RD_RUN, 1, 1, "lock holder past its budget");
    if (v->last_delivery) return verdict(D_RD_RUN, 1, 1, "last delivery: no redelivery to wait for");
    d_rd_verdict w = verdict(D_RD_WAIT, 0, 0, "another delivery holds the lock");
    w.delay_ms = left < D_RD_MIN_WAIT_MS ? D_RD_MIN_WAIT_MS : left;
    return w;
}

int64_t d_rd_deadline(int64_t started_unix_ms, int64_t route_budget_ms, int64_t strategy_timeout_ms)
{
    int64_t route = route_budget_ms > 0 ? route_budget_ms : strategy_timeout_ms;
    int64_t budget = strategy_timeout_ms > 0 ? d_budget_effective(route, strategy_timeout_ms) : route;
    if (budget < 0) budget = 0;
    return started_unix_ms + budget + D_RD_GRACE_MS;
}

static int fits(int n, size_t cap)
{
    return n >= 0 && (size_t)n < cap;
}

int d_rd_key(const char *env, const char *kind, const char *tenant, const char *opportunity_key,
             const char *attempt_key, char *out, size_t cap)
{
    if (!set_(env) || !set_(kind) || !set_(opportunity_key) || !set_(attempt_key)) return -1;
    int n = snprintf(out, cap, "med:%s:d:%s:%s:%s:%s", env, kind, set_(tenant) ? tenant : "NA",
                     opportunity_key, attempt_key);
    return fits(n, cap) ? 0 : -1;
}

int d_rd_msg_id(const char *opportunity_key, const char *attempt_key, char *out, size_t cap)
{
    if (!set_(opportunity_key)) return -1;
    int n = snprintf(out, cap, "d:%s:%s", opportunity_key, set_(attempt_key) ? attempt_key : "NA");
    return fits(n, cap) ? 0 : -1;
}

static med_rc nomem(med_err *err)
{
    return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "redelivery record");
}

static med_rc encode_and_free(med_mmap *m, uint8_t **out, size_t *len, med_err *err)
{
    med_rc rc = med_mmap_encode(m, out, len, err);
    med_mmap_free(m);
    return rc;
}

med_rc d_rd_lock_encode(const char *owner, int64_t deadline_unix_ms, uint8_t **out, size_t *len,
                        med_err *err)
{
    med_mmap *m = med_mmap_new();
    if (!m || med_mmap_set_str(m, "owner", owner ? owner : "") != 0 ||
        med_mmap_set_int(m, "deadlineAtUnixMs", deadline_unix_ms) != 0) {
        med_mmap_free(m);
        return nomem(err);
    }
    return encode_and_free(m, out, len, err);
}

int64_t d_rd_lock_deadline(const uint8_t *buf, size_t len)
{
    med_mmap *m = NULL;
    med_err e;
    if (!buf || med_mmap_decode(buf, len, &m, &e) != MED_OK) return 0;
    const med_mval *d = med_mmap_get(m, "deadlineAtUnixMs");
    int64_t at = d && d->type == MED_MVAL_INT && d->u.i > 0 ? d->u.i : 0;
    med_mmap_free(m);
    return at;
}

static void field(char *out, size_t cap, char kind, int i)
{
    snprintf(out, cap, "%c%d", kind, i);
}

med_rc d_rd_record_encode(const d_rd_pub *pubs, int n, uint8_t **out, size_t *len, med_err *err)
{
    if (n < 1 || n > D_RD_MAX_PUBS)
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_ENCODE_FAILED, NULL,
                           "an output record holds 1..%d publishes", D_RD_MAX_PUBS);
    med_mmap *m = med_mmap_new();
    int bad = !m || med_mmap_set_str(m, "v", D_RD_RECORD_VERSION) != 0 ||
              med_mmap_set_int(m, "n", n) != 0;
    for (int i = 0; !bad && i < n; i++) {
        char s[16], id[16], d[16];
        field(s, sizeof s, 's', i);
        field(id, sizeof id, 'i', i);
        field(d, sizeof d, 'd', i);
        bad = med_mmap_set_str(m, s, pubs[i].subject) != 0 ||
              med_mmap_set_str(m, id, pubs[i].msg_id) != 0 ||
              med_mmap_set_bin(m, d, pubs[i].data, pubs[i].len) != 0;
    }
    if (bad) {
        med_mmap_free(m);
        return nomem(err);
    }
    return encode_and_free(m, out, len, err);
}

static const med_mval *typed(const med_mmap *m, const char *key, med_mval_type t)
{
    const med_mval *v = med_mmap_get(m, key);
    return v && v->type == t ? v : NULL;
}

static med_rc undecodable(med_mmap *m, med_err *err)
{
    med_mmap_free(m);
    return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_DECODE_FAILED, NULL,
                       "stored D output is not a " D_RD_RECORD_VERSION " record");
}

med_rc d_rd_record_decode(const uint8_t *buf, size_t len, d_rd_record *rec, med_err *err)
{
    memset(rec, 0, sizeof *rec);
    med_mmap *m = NULL;
    med_rc rc = med_mmap_decode(buf, len, &m, err);
    if (rc != MED_OK) return rc;
    const med_mval *v = typed(m, "v", MED_MVAL_STR);
    const med_mval *n = typed(m, "n", MED_MVAL_INT);
    if (!v || strcmp(v->u.s.ptr, D_RD_RECORD_VERSION) != 0 || !n || n->u.i < 1 ||
        n->u.i > D_RD_MAX_PUBS)
        return undecodable(m, err);
    for (int i = 0; i < (int)n->u.i; i++) {
        char s[16], id[16], d[16];
        field(s, sizeof s, 's', i);
        field(id, sizeof id, 'i', i);
        field(d, sizeof d, 'd', i);
        const med_mval *sv = typed(m, s, MED_MVAL_STR), *iv = typed(m, id, MED_MVAL_STR);
        const med_mval *dv = typed(m, d, MED_MVAL_BIN);
        if (!sv || !iv || !dv || !sv->u.s.ptr[0]) return undecodable(m, err);
        rec->pubs[i] = (d_rd_pub){ .subject = sv->u.s.ptr, .msg_id = iv->u.s.ptr,
                                   .data = (const uint8_t *)dv->u.s.ptr, .len = dv->u.s.len };
    }
    rec->n = (int)n->u.i;
    rec->owned = m;
    return MED_OK;
}

void d_rd_record_free(d_rd_record *rec)
{
    if (!rec) return;
    med_mmap_free(rec->owned);
    memset(rec, 0, sizeof *rec);
}
