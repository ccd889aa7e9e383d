/* F's Delivery consumer (see f_delivery.h). */
#include "f_delivery.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "f_delivery_record.h"
#include "f_service_publish.h"
#include "f_store.h"
#include "f_store_int.h"
#include "f_store_pack.h"
#include "med/consumer.h"
#include "med/headers.h"
#include "med/ids.h"
#include "med/log.h"
#include "med/names.h"
#include "med/pbtrace.h"
#include "med/reason.h"
#include "med/pg_array.h"
#include "med/rows.h"
#include "mediation/v1/archive.pb-c.h"

#define F_SQL_DELIVERY_SAVE "f_delivery_save"

/* One statement per tenant: the Delivery rows, the default closures of
 * served ones, the outbox rows of terminal ones (only the new ones come
 * back: a redelivery publishes nothing twice; a row left unpublished is
 * the sweeper's). */
enum { DL_RESPONSE_REFERENCE, DL_APP, DL_PLACEMENT, DL_STATUS, DL_FINAL_REASON, DL_TRACE,
       DL_REQUEST, DL_ATTEMPT, DL_OPPORTUNITY, DL_DEFAULT_RENDER_ATTEMPT, DL_ANCHOR, DL_AMOUNT,
       DL_CURRENCY, DL_DELIVERED_MS, DL_N };
enum { OB_KEY, OB_APP, OB_RESPONSE_REFERENCE, OB_RECORDS, OB_N };

/* $1 tenant, $2..$15 the Deliveries (DL_*), $16 the outbox grace, $17..$20
 * the outbox rows (OB_*); every row set is one binary array per column. */
_Static_assert(DL_N == 14 && OB_N == 4, "F_SQL_DELIVERY_SAVE parameter numbers");

static med_rc prepare(med_pg *pg, med_err *err)
{
    return med_pg_prepare(pg, F_SQL_DELIVERY_SAVE,
        "WITH d AS (INSERT INTO f_deliveries (tenant_id, response_reference, app_id, placement_id, "
        "delivery_status, final_reason_code, trace_key, request_key, attempt_key, opportunity_key, "
        "default_render_attempt_id, anchor_hash, amount_micros, currency, delivered_at) "
        "SELECT $1, r.response_reference, r.app_id, r.placement_id, r.delivery_status, "
        "r.final_reason_code, r.trace_key, r.request_key, r.attempt_key, r.opportunity_key, "
        "r.default_render_attempt_id, r.anchor_hash, r.amount_micros, r.currency, "
        "to_timestamp(r.delivered_ms / 1000.0) "
        "FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], "
        "$8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::int8[], $14::text[], "
        "$15::int8[]) AS r(response_reference, app_id, placement_id, delivery_status, "
        "final_reason_code, trace_key, request_key, attempt_key, opportunity_key, "
        "default_render_attempt_id, anchor_hash, amount_micros, currency, delivered_ms) "
        "ON CONFLICT DO NOTHING RETURNING 1), "
        "c AS (INSERT INTO f_closures AS c (tenant_id, app_id, closure_key, response_reference, "
        "render_attempt_id, state, is_default, opened_at, open_trace_key, open_request_key, "
        "open_attempt_key, open_opportunity_key, anchor_hash) "
        "SELECT $1, r.app_id, r.response_reference || '|' || r.default_render_attempt_id, "
        "r.response_reference, r.default_render_attempt_id, 'open', true, "
        "to_timestamp(r.delivered_ms / 1000.0), r.trace_key, r.request_key, r.attempt_key, "
        "r.opportunity_key, r.anchor_hash "
        "FROM unnest($2::text[], $3::text[], $7::text[], $8::text[], $9::text[], $10::text[], "
        "$11::text[], $12::text[], $15::int8[]) AS r(response_reference, app_id, trace_key, "
        "request_key, attempt_key, opportunity_key, default_render_attempt_id, anchor_hash, "
        "delivered_ms) "
        "WHERE r.default_render_attempt_id IS NOT NULL "
        "ORDER BY 3 ON CONFLICT DO NOTHING RETURNING 1), "
        "o AS (INSERT INTO f_outbox (tenant_id, outbox_key, kind, app_id, batch_id, records_pb, "
        "record_count, next_attempt_at) "
        "SELECT $1, r.outbox_key, '" F_OUTBOX_DELIVERY "', r.app_id, r.response_reference, "
        "r.records_pb, 1, now() + make_interval(secs => $16::float8 / 1000) "
        "FROM unnest($17::text[], $18::text[], $19::text[], $20::bytea[]) "
        "AS r(outbox_key, app_id, response_reference, records_pb) "
        "ON CONFLICT DO NOTHING RETURNING outbox_key) "
        "SELECT outbox_key FROM o",
        2 + DL_N + OB_N, err);
}

/* ---- one message -------------------------------------------------------------- */

typedef struct dl_item {
    natsMsg *msg;
    Mediation__V1__Delivery *d;
    med_trace_headers h;
    const char *tenant;
    const char *app;
    f_delivery_facts facts;
    f_outbox_row ob;      /* terminal Deliveries only */
    int publish;          /* ob was inserted by this fetch */
} dl_item;

static const char *nonblank(const char *a, const char *b)
{
    if (a && a[0]) return a;
    return b && b[0] ? b : NULL;
}

/* The outbox row of a terminal Delivery: its one decision_audit record. */
static med_rc terminal_outbox(med_arena *a, dl_item *it, med_err *err)
{
    int64_t now = med_now_unix_ms();
    Mediation__V1__FToGArchiveRecordLite *rec =
        f_delivery_terminal_record(a, &it->facts, it->app ? it->app : "", NULL, now);
    Mediation__V1__TraceContext *tc = f_pack_trace(a, it->d->trace, it->tenant, it->app);
    if (!rec || !tc) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "delivery record");
    Mediation__V1__FOutboxRecords recs = MEDIATION__V1__FOUTBOX_RECORDS__INIT;
    recs.trace = tc;
    recs.app_id = (char *)(it->app ? it->app : "");
    recs.n_records = 1;
    recs.records = &rec;
    snprintf(it->ob.key, sizeof it->ob.key, "%s:%s", F_OUTBOX_DELIVERY, it->facts.response_reference);
    snprintf(it->ob.kind, sizeof it->ob.kind, "%s", F_OUTBOX_DELIVERY);
    snprintf(it->ob.app_id, sizeof it->ob.app_id, "%s", recs.app_id);
    snprintf(it->ob.batch_id, sizeof it->ob.batch_id, "%s", it->facts.response_reference);
    it->ob.record_count = 1;
    it->ob.created_at_ms = now;
    return med_pb_pack(&recs.base, &it->ob.records_pb, &it->ob.records_len, err);
}

static med_rc item_prepare(med_arena *a, dl_item *it, med_err *err)
{
    it->d = mediation__v1__delivery__unpack(NULL, (size_t)natsMsg_GetDataLength(it->msg),
                                            (const uint8_t *)natsMsg_GetData(it->msg));
    if (!it->d)
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_DECODE_FAILED, NULL,
                           "payload is not a Delivery");
    med_headers_read(it->msg, &it->h);
    const Mediation__V1__TraceContext *tc = it->d->trace;
    it->tenant = nonblank(it->h.tenant, tc ? tc->tenant_id : NULL);
    it->app = nonblank(it->h.app, tc ? tc->app_id : NULL);
    if (!it->tenant)
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_DECODE_FAILED, MED_HDR_TENANT,
                           "Delivery without a tenant cannot be stored");
    med_rc rc = f_delivery_facts_of(a, it->d, it->h.anchor_hash, med_now_unix_ms(), &it->facts, err);
    if (rc == MED_OK && it->facts.terminal) rc = terminal_outbox(a, it, err);
    return rc;
}

/* ---- one tenant's transaction ------------------------------------------------------ */

static void delivery_add(const dl_item *it, med_pg_array *col)
{
    const f_delivery_facts *f = &it->facts;
    const Mediation__V1__TraceContext *tc = it->d->trace;
    med_pg_array_add_str(&col[DL_RESPONSE_REFERENCE], f->response_reference);
    med_pg_array_add_str(&col[DL_APP], it->app);
    med_pg_array_add_str(&col[DL_PLACEMENT], nonblank(it->h.placement, tc ? tc->placement_id : NULL));
    med_pg_array_add_str(&col[DL_STATUS], f->status);
    med_pg_array_add_str(&col[DL_FINAL_REASON], f->final_reason_code);
    med_pg_array_add_str(&col[DL_TRACE], f->trace_key);
    med_pg_array_add_str(&col[DL_REQUEST], f->request_key);
    med_pg_array_add_str(&col[DL_ATTEMPT], f->attempt_key);
    med_pg_array_add_str(&col[DL_OPPORTUNITY], f->opportunity_key);
    med_pg_array_add_str(&col[DL_DEFAULT_RENDER_ATTEMPT], f->default_render_attempt_id);
    med_pg_array_add_str(&col[DL_ANCHOR], f->anchor_hash);
    med_pg_array_add_int8(&col[DL_AMOUNT], f->amount_micros);
    med_pg_array_add_str(&col[DL_CURRENCY], f->currency);
    med_pg_array_add_int8(&col[DL_DELIVERED_MS], f->delivered_at_ms);
}

static void outbox_add(const dl_item *it, med_pg_array *col)
{
    med_pg_array_add_str(&col[OB_KEY], it->ob.key);
    med_pg_array_add_str(&col[OB_APP], it->app);
    med_pg_array_add_str(&col[OB_RESPONSE_REFERENCE], it->facts.response_reference);
    /* never NULL: a terminal Delivery's row always carries its records */
    med_pg_array_add(&col[OB_RECORDS], it->ob.records_pb ? it->ob.records_pb : (const uint8_t *)"",
                     it->ob.records_len);
}

typedef struct tenant_tx {
    dl_item *items;
    const size_t *idx;
    size_t n;
    med_pg_cols deliveries;
    med_pg_cols outboxes;
} tenant_tx;

static med_rc tenant_cols(tenant_tx *t, med_err *err)
{
    uint32_t dl[DL_N];
    for (int i = 0; i < DL_N; i++) dl[i] = MED_PG_OID_TEXT;
    dl[DL_AMOUNT] = dl[DL_DELIVERED_MS] = MED_PG_OID_INT8;
    med_pg_cols_init(&t->deliveries, dl, DL_N);
    med_pg_cols_init(&t->outboxes, (const uint32_t[]){ MED_PG_OID_TEXT, MED_PG_OID_TEXT,
                                                       MED_PG_OID_TEXT, MED_PG_OID_BYTEA }, OB_N);
    for (size_t m = 0; m < t->n; m++) {
        const dl_item *it = &t->items[t->idx[m]];
        delivery_add(it, t->deliveries.col);
        if (it->facts.terminal) outbox_add(it, t->outboxes.col);
    }
    med_rc rc = med_pg_cols_finish(&t->deliveries, err);
    if (rc == MED_OK) rc = med_pg_cols_finish(&t->outboxes, err);
    return rc;
}

static void tenant_cols_free(tenant_tx *t)
{
    med_pg_cols_free(&t->deliveries);
    med_pg_cols_free(&t->outboxes);
}

static med_rc tenant_body(med_pg *pg, PGconn *conn, void *ud, med_err *err)
{
    (void)conn;
    tenant_tx *t = ud;
    char grace[16];
    snprintf(grace, sizeof grace, "%d", F_OUTBOX_GRACE_MS);
    const char *tenant = t->items[t->idx[0]].tenant;
    f_params p = { .n = 0 };
    f_params_text(&p, tenant);
    f_params_cols(&p, &t->deliveries);
    f_params_text(&p, grace);
    f_params_cols(&p, &t->outboxes);
    PGresult *res = NULL;
    med_rc rc = f_store_exec_params(pg, F_SQL_DELIVERY_SAVE, &p, &res, err);
    if (rc != MED_OK) return rc;
    for (size_t m = 0; m < t->n; m++) t->items[t->idx[m]].publish = 0;
    for (int r = 0; r < PQntuples(res); r++)
        for (size_t m = 0; m < t->n; m++) {
            dl_item *it = &t->items[t->idx[m]];
            if (it->facts.terminal && strcmp(it->ob.key, PQgetvalue(res, r, 0)) == 0) it->publish = 1;
        }
    PQclear(res);
    return MED_OK;
}

/* ---- the fetch ---------------------------------------------------------------------- */

static void publish_new(f_delivery_consumer *c, dl_item *items, size_t n)
{
    int any = 0;
    for (size_t i = 0; i < n; i++) {
        if (!items[i].publish) continue;
        med_err e;
        med_err_clear(&e);
        if (f_publish_outbox(c->js, items[i].tenant, &items[i].ob, 1, &e) != MED_OK) {
            items[i].publish = 0;
            continue;
        }
        any = 1;
    }
    med_err e;
    med_err_clear(&e);
    if (!any || med_js_publish_async_complete(c->js, 0, &e) == MED_OK) return;
    for (size_t i = 0; i < n; i++) items[i].publish = 0; /* the sweeper republishes */
}

static med_rc mark_body(med_pg *pg, PGconn *conn, void *ud, med_err *err)
{
    (void)conn;
    dl_item *it = ud;
    const char *key = it->ob.key;
    return f_store_outbox_mark_published(pg, it->tenant, &key, 1, err);
}

static void mark_published(f_delivery_consumer *c, dl_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!items[i].publish) continue;
        med_err e;
        med_err_clear(&e);
        med_pg_tx(c->pg, items[i].tenant, 3, mark_body, &items[i], &e);
    }
}

static void save_tenants(f_delivery_consumer *c, dl_item *items, size_t n, med_disposition *disp,
                         med_err *errs)
{
    const char **tenants = calloc(n, sizeof *tenants);
    unsigned char *taken = calloc(n, 1);
    size_t *idx = calloc(n, sizeof *idx);
    size_t k;
    for (size_t i = 0; tenants && i < n; i++) tenants[i] = disp[i] == MED_DISPOSE_ACK ? items[i].tenant : NULL;
    while (tenants && taken && idx && (k = med_rows_next_tenant_group(tenants, n, taken, idx)) > 0) {
        tenant_tx t = { .items = items, .idx = idx, .n = k };
        med_err e;
        med_err_clear(&e);
        med_rc rc = tenant_cols(&t, &e);
        if (rc == MED_OK) rc = med_pg_tx(c->pg, items[idx[0]].tenant, 3, tenant_body, &t, &e);
        tenant_cols_free(&t);
        if (rc == MED_OK) continue;
        for (size_t m = 0; m < k; m++) {
            disp[idx[m]] = med_rc_is_retryable(rc) ? MED_DISPOSE_RETRY : MED_DISPOSE_FAIL;
            errs[idx[m]] = e;
        }
    }
    if (!tenants || !taken || !idx)
        for (size_t i = 0; i < n; i++) {
            disp[i] = MED_DISPOSE_RETRY;
            med_err_set(&errs[i], MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "delivery fetch");
        }
    free(tenants);
    free(taken);
    free(idx);
}

void f_delivery_handle_fetch(f_delivery_consumer *c, natsMsg **msgs, int n,
                             med_disposition *disp, med_err *errs)
{
    size_t count = n > 0 ? (size_t)n : 0;
    dl_item *items = calloc(count ? count : 1, sizeof *items);
    med_arena a;
    med_arena_init(&a);
    for (size_t i = 0; i < count; i++) {
        med_err_clear(&errs[i]);
        disp[i] = MED_DISPOSE_ACK;
        if (!items) {
            disp[i] = MED_DISPOSE_RETRY;
            med_err_set(&errs[i], MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "delivery fetch");
            continue;
        }
        items[i].msg = msgs[i];
        med_rc rc = item_prepare(&a, &items[i], &errs[i]);
        if (rc != MED_OK) disp[i] = med_rc_is_retryable(rc) ? MED_DISPOSE_RETRY : MED_DISPOSE_FAIL;
    }
    if (items) {
        save_tenants(c, items, count, disp, errs);
        publish_new(c, items, count);
        mark_published(c, items, count);
        for (size_t i = 0; i < count; i++) {
            f_outbox_row_free(&items[i].ob);
            if (items[i].d) mediation__v1__delivery__free_unpacked(items[i].d, NULL);
        }
    }
    free(items);
    med_arena_free(&a);
}

/* ---- consumer plumbing: the consumer calls prepare with the fetch, then
 * the handler once per message in order ------------------------------------------------ */

typedef struct fetch_state {
    f_delivery_consumer *c;
    natsMsg **msgs;
    med_disposition *disp;
    med_err *errs;
    int n, next, cap;
} fetch_state;

static void on_fetch(void *ud, natsMsg **msgs, int n)
{
    fetch_state *f = ud;
    f->n = f->next = 0;
    if (n > f->cap) {
        natsMsg **m = realloc(f->msgs, (size_t)n * sizeof *m);
        if (m) f->msgs = m;
        med_disposition *d = realloc(f->disp, (size_t)n * sizeof *d);
        if (d) f->disp = d;
        med_err *e = realloc(f->errs, (size_t)n * sizeof *e);
        if (e) f->errs = e;
        if (!m || !d || !e) return;
        f->cap = n;
    }
    memcpy(f->msgs, msgs, (size_t)n * sizeof *msgs);
    f_delivery_handle_fetch(f->c, f->msgs, n, f->disp, f->errs);
    f->n = n;
}

static med_disposition on_message(void *ud, natsMsg *msg, const med_delivery_info *info,
                                  med_err *err)
{
    (void)info;
    fetch_state *f = ud;
    if (f->next < f->n && f->msgs[f->next] == msg) {
        int i = f->next++;
        if (f->disp[i] != MED_DISPOSE_ACK) *err = f->errs[i];
        return f->disp[i];
    }
    /* not prepared (allocation failed): this message alone */
    med_disposition d = MED_DISPOSE_ACK;
    f_delivery_handle_fetch(f->c, &msg, 1, &d, err);
    return d;
}

static void *consumer_main(void *arg)
{
    f_delivery_consumer *c = arg;
    med_consumer_opts co;
    med_service_consumer_opts(c->svc, MED_STREAM_DELIVERY, MED_DURABLE_F_DELIVERY, MED_SUBJ_DELIVERY,
                              &co);
    fetch_state f = { .c = c };
    med_err err;
    med_err_clear(&err);
    if (med_consumer_run_batched(c->js, &co, on_fetch, on_message, &f, med_service_stop_flag(c->svc),
                                 &err) != MED_OK) {
        med_log_ctx lc = { .error_code = err.code };
        MED_LOGE(&lc, "delivery consumer stopped: %s", err.message);
    }
    free(f.msgs);
    free(f.disp);
    free(f.errs);
    return NULL;
}

static med_rc connect_all(f_delivery_consumer *c, med_err *err)
{
    med_rc rc = med_service_js_open(c->svc, "delivery", 0, &c->js, err);
    if (rc != MED_OK) return rc;
    rc = med_service_pg_open(c->svc, 0, &c->pg, err);
    if (rc == MED_OK) rc = prepare(c->pg, err);
    if (rc == MED_OK) rc = f_store_prepare(c->pg, err);
    return rc;
}

med_rc f_delivery_start(f_delivery_consumer *c, med_service *svc, med_err *err)
{
    memset(c, 0, sizeof *c);
    c->svc = svc;
    med_rc rc = connect_all(c, err);
    if (rc == MED_OK && pthread_create(&c->thread, NULL, consumer_main, c) != 0)
        rc = med_err_set(err, MED_ERR_INTERNAL, MED_R_INFRA_PERMANENT_FAILURE, NULL,
                         "delivery consumer thread");
    if (rc != MED_OK) {
        f_delivery_stop(c);
        return rc;
    }
    c->running = 1;
    return MED_OK;
}

void f_delivery_stop(f_delivery_consumer *c)
{
    if (c->running) pthread_join(c->thread, NULL);
    c->running = 0;
    if (c->pg) med_pg_close(c->pg);
    if (c->js) med_js_close(c->js);
    c->pg = NULL;
    c->js = NULL;
}
