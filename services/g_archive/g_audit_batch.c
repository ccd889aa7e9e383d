#include "g_audit_batch.h"

#include <stdlib.h>
#include <string.h>

#include "g_ack.h"
#include "g_append_store.h"
#include "g_audit_row.h"
#include "g_audit_store.h"
#include "med/log.h"
#include "med/names.h"
#include "med/reason.h"
#include "med/rows.h"

void g_audit_ctx_init(g_audit_ctx *c, int64_t window_ms, int64_t rate_per_sec)
{
    memset(c, 0, sizeof *c);
    c->window_ms = window_ms;
    g_rate_init(&c->rate, rate_per_sec);
}

/* Everything one fetched batch needs; freed by batch_free. */
typedef struct g_batch {
    size_t n;
    Mediation__V1__StageAudit **audits;
    g_audit_row *rows;          /* plain path; for appends only payload_pb_hex */
    g_append_item *items;
    g_append_job *jobs;
    med_rc *store_rc;           /* per append: result of its tenant's write */
    med_err *store_err;
    size_t *idx;
    const char **tenants;
    unsigned char *taken;
} g_batch;

static void batch_free(g_batch *b)
{
    for (size_t i = 0; b->rows && i < b->n; i++) g_audit_row_free(&b->rows[i]);
    for (size_t i = 0; b->audits && i < b->n; i++)
        if (b->audits[i]) mediation__v1__stage_audit__free_unpacked(b->audits[i], NULL);
    free(b->audits);
    free(b->rows);
    free(b->items);
    free(b->jobs);
    free(b->store_rc);
    free(b->store_err);
    free(b->idx);
    free(b->tenants);
    free(b->taken);
}

static int batch_alloc(g_batch *b, size_t n)
{
    memset(b, 0, sizeof *b);
    b->n = n;
    b->audits = calloc(n, sizeof *b->audits);
    b->rows = calloc(n, sizeof *b->rows);
    b->items = calloc(n, sizeof *b->items);
    b->jobs = calloc(n, sizeof *b->jobs);
    b->store_rc = calloc(n, sizeof *b->store_rc);
    b->store_err = calloc(n, sizeof *b->store_err);
    b->idx = calloc(n, sizeof *b->idx);
    b->tenants = calloc(n, sizeof *b->tenants);
    b->taken = calloc(n, 1);
    return b->audits && b->rows && b->items && b->jobs && b->store_rc && b->store_err && b->idx &&
           b->tenants && b->taken;
}

static int is_append(const g_batch *b, size_t i)
{
    return b->audits[i] && b->audits[i]->append_request;
}

static const char *tenant_of(const med_relay_in *in, const Mediation__V1__StageAudit *a)
{
    if (in->headers && in->headers->tenant[0]) return in->headers->tenant;
    return a->trace && a->trace->tenant_id && *a->trace->tenant_id ? a->trace->tenant_id : NULL;
}

/* ---- plain StageAudits (unchanged behaviour) ---- */

static void build_plain(const med_relay_in *ins, g_batch *b, med_rc *rcs, med_err *errs)
{
    for (size_t i = 0; i < b->n; i++) {
        if (!b->audits[i] || is_append(b, i)) continue;
        const char *msg_id = med_header_get(ins[i].msg, MED_HDR_MSG_ID);
        rcs[i] = g_audit_row_build(b->audits[i], ins[i].headers, msg_id, &b->rows[i], &errs[i]);
        if (rcs[i] != MED_OK) continue;
        b->rows[i].payload_pb = ins[i].data;   /* lives as long as the batch */
        b->rows[i].payload_pb_len = ins[i].len;
    }
}

static void store_plain(med_pg *pg, g_batch *b, med_rc *rcs, med_err *errs)
{
    for (size_t i = 0; i < b->n; i++) {
        b->tenants[i] = rcs[i] == MED_OK && b->audits[i] && !is_append(b, i) ? b->rows[i].tenant_id : NULL;
        b->taken[i] = 0;
    }
    size_t k;
    while ((k = med_rows_next_tenant_group(b->tenants, b->n, b->taken, b->idx)) > 0) {
        med_err e;
        med_err_clear(&e);
        med_rc rc = g_audit_store_append(pg, b->rows, b->idx, k, &e);
        for (size_t m = 0; m < k; m++) {
            rcs[b->idx[m]] = rc;
            if (rc != MED_OK) errs[b->idx[m]] = e;
        }
    }
}

/* ---- G.2 appends ---- */

static void prepare_appends(g_audit_ctx *ctx, const med_relay_in *ins, g_batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        if (!is_append(b, i)) continue;
        const char *subject = natsMsg_GetSubject(ins[i].msg);
        g_append_item *it = &b->items[i];
        g_append_prepare(b->audits[i], subject, tenant_of(&ins[i], b->audits[i]), &ctx->rate,
                         ins[i].now_unix_ms, it);
        if (it->pre != G_APPEND_PASS || it->post != G_APPEND_PASS) continue;
        med_err e;
        if (g_audit_row_set_bytes(&b->rows[i], ins[i].data, ins[i].len, &e) != MED_OK) {
            b->store_rc[i] = e.rc;
            b->store_err[i] = e;
            continue;
        }
        b->jobs[i] = (g_append_job){ it, ins[i].headers, b->rows[i].payload_pb_hex, G_APPEND_NEW };
    }
}

static int store_candidate(const g_batch *b, size_t i)
{
    return is_append(b, i) && b->items[i].pre == G_APPEND_PASS && b->items[i].post == G_APPEND_PASS &&
           b->jobs[i].item;
}

/* Returns 1 when the store answered at least once, 0 when every write
 * failed, -1 when nothing was written (no candidate). */
static int store_appends(g_audit_ctx *ctx, med_pg *pg, g_batch *b)
{
    int answered = -1;
    for (size_t i = 0; i < b->n; i++) {
        b->tenants[i] = store_candidate(b, i) ? b->items[i].tenant : NULL;
        b->taken[i] = 0;
    }
    size_t k;
    while ((k = med_rows_next_tenant_group(b->tenants, b->n, b->taken, b->idx)) > 0) {
        med_err e;
        med_err_clear(&e);
        med_rc rc = g_append_store_write(pg, b->tenants[b->idx[0]], b->jobs, b->idx, k,
                                         ctx->window_ms, &e);
        if (answered < 0) answered = 0;
        if (rc == MED_OK) answered = 1;
        for (size_t m = 0; m < k; m++) {
            b->store_rc[b->idx[m]] = rc;
            if (rc != MED_OK) b->store_err[b->idx[m]] = e;
        }
    }
    return answered;
}

static void reply_append(const med_relay_in *in, const g_append_item *it, const g_append_verdict *v)
{
    if (!in->reply_to || !*in->reply_to) return;
    const Mediation__V1__GAppendRequestLite *req = it->audit->append_request;
    uint8_t *buf = NULL;
    size_t len = 0;
    med_err e;
    natsMsg *m = NULL;
    med_rc rc = g_append_ack_pack(req ? req->request_id : NULL, v, it->token, it->audit->trace,
                                  in->now_unix_ms, &buf, &len, &e);
    if (rc == MED_OK) rc = med_js_msg_new(in->reply_to, buf, (int)len, in->msg, &m, &e);
    if (rc == MED_OK) rc = med_js_publish_core(med_service_js(in->svc), m, &e);
    natsMsg_Destroy(m);
    free(buf);
    if (rc != MED_OK) {
        med_log_ctx lc = { .trace_id = in->headers->trace_key, .error_code = e.code };
        MED_LOGW(&lc, "append ack to %s lost: %s", in->reply_to, e.message);
    }
}

/* The verdict of append i in the spec's order (g_append_resolve). */
static g_append_verdict verdict_of(const g_batch *b, size_t i, int store_ok)
{
    const g_append_item *it = &b->items[i];
    int conflict = 0, duplicate = 0;
    if (store_candidate(b, i) && b->store_rc[i] == MED_OK) {
        conflict = b->jobs[i].outcome == G_APPEND_CONFLICT;
        duplicate = b->jobs[i].outcome == G_APPEND_DUPLICATE;
    }
    if (store_candidate(b, i)) store_ok = b->store_rc[i] == MED_OK;
    g_append_row row = g_append_resolve(it->pre, store_ok, it->post, conflict);
    return row == G_APPEND_PASS ? g_append_verdict_accept(duplicate) : g_append_verdict_reject(row);
}

static void settle_append(const med_relay_in *in, const g_batch *b, size_t i, int store_ok,
                          med_rc *rc, med_err *err)
{
    g_append_verdict v = verdict_of(b, i, store_ok);
    reply_append(in, &b->items[i], &v);
    if (v.disposition == MED_DISPOSE_ACK) {
        *rc = MED_OK;
        return;
    }
    const med_err *cause = &b->items[i].err;
    if (store_candidate(b, i) && b->store_rc[i] != MED_OK) cause = &b->store_err[i];
    *rc = med_err_set(err, v.disposition == MED_DISPOSE_RETRY ? MED_ERR_UNAVAILABLE : MED_ERR_INVALID,
                      v.reason, cause->field, "append %s: %s", v.ack_status,
                      cause->message[0] ? cause->message : v.reason);
}

static void run_appends(g_audit_ctx *ctx, med_pg *pg, const med_relay_in *ins, g_batch *b,
                        med_rc *rcs, med_err *errs)
{
    prepare_appends(ctx, ins, b);
    int answered = store_appends(ctx, pg, b);
    /* Row 5 decides before rows 6-7: with nothing written in this batch,
     * reachability is one round trip. */
    int store_ok = answered;
    if (answered < 0) {
        med_err e;
        store_ok = med_pg_ping(pg, &e) == MED_OK;
    }
    for (size_t i = 0; i < b->n; i++)
        if (is_append(b, i)) settle_append(&ins[i], b, i, store_ok, &rcs[i], &errs[i]);
}

/* ---- the batch ---- */

static void decode_all(const med_relay_in *ins, g_batch *b, med_rc *rcs, med_err *errs)
{
    for (size_t i = 0; i < b->n; i++) {
        b->audits[i] = mediation__v1__stage_audit__unpack(NULL, ins[i].len, ins[i].data);
        if (!b->audits[i])
            rcs[i] = med_err_set(&errs[i], MED_ERR_INVALID, MED_R_INFRA_DECODE_FAILED, NULL,
                                 "payload is not a valid StageAudit");
    }
}

static int any_append(const g_batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        if (is_append(b, i)) return 1;
    return 0;
}

static void ensure_prepared(g_audit_ctx *ctx, med_pg *pg)
{
    if (ctx->prepared) return;
    med_err e;
    if (g_audit_store_prepare(pg, &e) == MED_OK && g_append_store_prepare(pg, &e) == MED_OK)
        ctx->prepared = 1;
}

void g_audit_batch(void *ud, const med_relay_in *ins, size_t n, med_relay_out *outs, med_rc *rcs,
                   med_err *errs)
{
    (void)outs;
    g_audit_ctx *ctx = ud;
    g_batch b;
    if (!batch_alloc(&b, n)) {
        for (size_t i = 0; i < n; i++)
            rcs[i] = med_err_set(&errs[i], MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "audit batch");
        batch_free(&b);
        return;
    }
    med_pg *pg = med_service_pg(ins[0].svc);
    ensure_prepared(ctx, pg);
    decode_all(ins, &b, rcs, errs);
    build_plain(ins, &b, rcs, errs);
    store_plain(pg, &b, rcs, errs);
    if (any_append(&b)) run_appends(ctx, pg, ins, &b, rcs, errs);
    batch_free(&b);
}
