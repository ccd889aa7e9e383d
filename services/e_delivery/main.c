/* Stage E: the only writer of Delivery and delivery_records. Per
 * ComposeInput: decide (e_compose, pure), persist the Delivery before
 * publishing (an existing row is re-answered as stored), then publish
 * med.delivery.v1, reply to the edge inbox, publish med.audit.e.v1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e_compose.h"
#include "e_metrics.h"
#include "e_pb.h"
#include "e_store.h"
#include "med/log.h"
#include "med/names.h"
#include "med/reason.h"
#include "med/relay.h"
#include "med/rows.h"
#include "med/service.h"
#include "mediation/v1/compose.pb-c.h"

/* Taken from the running service at the first batch (one consumer thread). */
typedef struct e_service {
    int bound;
    med_pg *pg;        /* the service's worker connection */
} e_service;

/* Messages handled together; a larger fetch is split into such slices. */
#define E_BATCH_MAX 128

static const char *tenant_of(const med_relay_in *in, const Mediation__V1__ComposeInput *ci)
{
    if (in->headers && in->headers->tenant[0]) return in->headers->tenant;
    return ci && ci->trace && !e_blank(ci->trace->tenant_id) ? ci->trace->tenant_id : NULL;
}

static const char *hdr_or_trace(const char *hdr, const char *trace_value)
{
    if (hdr && *hdr) return hdr;
    return trace_value ? trace_value : "";
}

/* A duplicate request answers with the first request's reference: it must
 * neither claim that reference nor put a second Delivery on the stream. */
static int is_duplicate(const e_outcome *o)
{
    return strcmp(o->compose_source, E_SOURCE_A_TERMINAL) == 0 && o->upstream_code &&
           (strcmp(o->upstream_code, MED_R_A_TRG_DUPLICATE_INFLIGHT) == 0 ||
            strcmp(o->upstream_code, MED_R_A_TRG_DUPLICATE_REUSED_RESULT) == 0);
}

/* Swaps a job's Delivery for the stored one (redelivery, a duplicate
 * request, or a reference another message claimed first). */
static void take_stored(e_pb_out *pb, uint8_t *stored, size_t len)
{
    if (!stored) return;
    free(pb->delivery);
    pb->delivery = stored;
    pb->delivery_len = len;
}

/* What is not written with the batch: a duplicate request answers the
 * stored Delivery of its first request (or, still in flight, its own
 * no_fill unstored); without a tenant nothing can be stored (RLS). */
static med_rc load_or_skip(e_service *svc, const char *tenant, const e_outcome *o, e_pb_out *pb,
                           med_err *err)
{
    if (!svc->pg || !tenant) {
        med_log_ctx lc = { .trace_id = o->keys.trace_key, .request_id = o->keys.request_key };
        MED_LOGW(&lc, "delivery %s not stored: no tenant", o->response_reference);
        return MED_OK;
    }
    uint8_t *stored = NULL;
    size_t stored_len = 0;
    med_rc rc = e_store_load(svc->pg, tenant, o->response_reference, &stored, &stored_len, err);
    if (rc == MED_ERR_NOT_FOUND) return MED_OK;
    if (rc == MED_OK) take_stored(pb, stored, stored_len);
    return rc;
}

static uint8_t *copy_bytes(const uint8_t *b, size_t n)
{
    uint8_t *c = malloc(n ? n : 1);
    if (c && n) memcpy(c, b, n);
    return c;
}

static med_rc emit(const med_relay_in *in, const e_outcome *o, e_pb_out *pb, med_relay_out *out,
                   med_err *err)
{
    char msg_id[96];
    med_rc rc = MED_OK;
    if (!is_duplicate(o)) {
        uint8_t *c = copy_bytes(pb->delivery, pb->delivery_len);
        if (!c) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "delivery copy");
        snprintf(msg_id, sizeof msg_id, "e.delivery:%s", o->response_reference);
        rc = med_relay_out_add(out, MED_SUBJ_DELIVERY, msg_id, c, pb->delivery_len, 0, err);
    }
    if (rc == MED_OK && in->reply_to && *in->reply_to) {
        uint8_t *c = copy_bytes(pb->delivery, pb->delivery_len);
        if (!c) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "reply copy");
        rc = med_relay_out_reply(out, in->reply_to, MED_REPLY_KIND_DELIVERY, c, pb->delivery_len, err);
    }
    if (rc == MED_OK && !is_duplicate(o)) e_metrics_delivery(o);
    if (rc == MED_OK) {
        snprintf(msg_id, sizeof msg_id, "e.audit:%s", o->response_reference);
        rc = med_relay_out_add(out, MED_SUBJ_AUDIT_PREFIX MED_STAGE_E MED_SUBJ_VERSION_SUFFIX, msg_id,
                               pb->audit, pb->audit_len, 0, err);
        pb->audit = NULL; /* owned by the relay now, even on failure */
    }
    return rc;
}

/* One message of a batch from decode to its outputs. */
typedef struct e_job {
    Mediation__V1__ComposeInput *ci;
    e_outcome *o;
    e_pb_out pb;
    e_store_row row;
    int batch_save;   /* written by e_store_save_many with its tenant's batch */
    med_rc rc;
    med_err err;
} e_job;

static void job_prepare(e_service *svc, const med_relay_in *in, e_job *j)
{
    /* undecodable input still gets its error Delivery (E.1), keys from headers */
    j->ci = mediation__v1__compose_input__unpack(NULL, in->len, in->data);
    e_header_keys hk = { in->headers ? in->headers->trace_key : NULL,
                         in->headers ? in->headers->request_key : NULL,
                         in->headers ? in->headers->opportunity_key : NULL };
    j->o = calloc(1, sizeof *j->o);
    if (!j->o) {
        j->rc = med_err_set(&j->err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "outcome");
        return;
    }
    e_compose(j->ci, &hk, in->now_unix_ms, j->o);
    med_hop hop = { .stage = in->stage, .instance = in->instance, .at_unix_ms = in->now_unix_ms };
    e_pb_ctx ctx = { .trace = j->ci ? j->ci->trace : NULL,
                     .anchor_snapshot = j->ci ? j->ci->version_anchor_snapshot : NULL,
                     .hop = &hop, .tenant_id = tenant_of(in, j->ci) };
    j->rc = e_pb_build(j->o, &ctx, &j->pb, &j->err);
    if (j->rc != MED_OK) return;
    const char *tenant = tenant_of(in, j->ci);
    if (is_duplicate(j->o) || !svc->pg || !tenant) {
        j->rc = load_or_skip(svc, tenant, j->o, &j->pb, &j->err);
        return;
    }
    const Mediation__V1__TraceContext *tc = j->ci ? j->ci->trace : NULL;
    j->row = (e_store_row){
        .tenant_id = tenant,
        .app_id = hdr_or_trace(in->headers ? in->headers->app : NULL, tc ? tc->app_id : NULL),
        .placement_id = hdr_or_trace(in->headers ? in->headers->placement : NULL,
                                     tc ? tc->placement_id : NULL),
        .anchor_hash = hdr_or_trace(in->headers ? in->headers->anchor_hash : NULL,
                                    tc ? tc->anchor_hash : NULL),
        .outcome = j->o, .delivery = j->pb.delivery, .delivery_len = j->pb.delivery_len,
    };
    j->batch_save = 1;
}

/* Persist before publish (E.9), one transaction per tenant per batch. */
static void save_batch(e_service *svc, e_job *js, size_t n)
{
    const char *tenants[E_BATCH_MAX];
    unsigned char taken[E_BATCH_MAX] = { 0 };
    size_t idx[E_BATCH_MAX];
    const e_store_row *rows[E_BATCH_MAX];
    uint8_t *stored[E_BATCH_MAX];
    size_t stored_len[E_BATCH_MAX];
    for (size_t i = 0; i < n; i++)
        tenants[i] = js[i].batch_save && js[i].rc == MED_OK ? js[i].row.tenant_id : NULL;
    size_t k;
    while ((k = med_rows_next_tenant_group(tenants, n, taken, idx)) > 0) {
        for (size_t m = 0; m < k; m++) rows[m] = &js[idx[m]].row;
        med_err e;
        med_err_clear(&e);
        med_rc rc = e_store_save_many(svc->pg, rows, k, stored, stored_len, &e);
        for (size_t m = 0; m < k; m++) {
            e_job *j = &js[idx[m]];
            j->rc = rc;
            if (rc != MED_OK) j->err = e;
            else take_stored(&j->pb, stored[m], stored_len[m]);
        }
    }
}

static void job_free(e_job *j)
{
    e_pb_out_free(&j->pb);
    free(j->o);
    if (j->ci) mediation__v1__compose_input__free_unpacked(j->ci, NULL);
}

static void bind(e_service *svc, med_service *s)
{
    if (svc->bound || !s) return;
    svc->bound = 1;
    e_metrics_init();
    svc->pg = med_service_pg(s);
    med_err err;
    if (svc->pg && e_store_prepare(svc->pg, &err) != MED_OK) {
        med_log_ctx lc = { .error_code = err.code };
        MED_LOGE(&lc, "delivery statements not prepared: %s", err.message);
    }
}

static void e_batch(void *ud, const med_relay_in *ins, size_t n, med_relay_out *outs, med_rc *rcs,
                    med_err *errs)
{
    e_service *svc = ud;
    if (n > 0) bind(svc, ins[0].svc);
    for (size_t off = 0; off < n; off += E_BATCH_MAX) {
        size_t m = n - off < E_BATCH_MAX ? n - off : E_BATCH_MAX;
        e_job *js = calloc(m, sizeof *js);
        if (!js) {
            for (size_t i = off; i < off + m; i++)
                rcs[i] = med_err_set(&errs[i], MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "E batch");
            continue;
        }
        for (size_t i = 0; i < m; i++) job_prepare(svc, &ins[off + i], &js[i]);
        save_batch(svc, js, m);
        for (size_t i = 0; i < m; i++) {
            e_job *j = &js[i];
            rcs[off + i] = j->rc == MED_OK ? emit(&ins[off + i], j->o, &j->pb, &outs[off + i],
                                                  &errs[off + i])
                                           : (errs[off + i] = j->err, j->rc);
            job_free(j);
        }
        free(js);
    }
}

int main(void)
{
    static e_service svc;
    const med_service_opts opts = { .name = "e_delivery", .stage = MED_STAGE_E, .need_pg = 1,
                                    .send_asap = 1, .need_config = 1 };
    return med_stage_main_batch(&opts, MED_STREAM_CHAIN, MED_SUBJ_E_COMPOSE, e_batch, &svc);
}
