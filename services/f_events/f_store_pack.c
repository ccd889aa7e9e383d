/* Packing what the outbox keeps (see f_store_pack.h). */
#include "f_store_pack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "med/ids.h"
#include "med/names.h"
#include "med/pbtrace.h"
#include "med/reason.h"
#include "mediation/v1/archive.pb-c.h"
#include "mediation/v1/audit.pb-c.h"

Mediation__V1__TraceContext *f_pack_trace(med_arena *a, const Mediation__V1__TraceContext *src,
                                          const char *tenant_id, const char *app_id)
{
    Mediation__V1__TraceContext *tc = MED_NEW(a, Mediation__V1__TraceContext);
    if (!tc) return NULL;
    if (src)
        *tc = *src; /* shallow: strings and hops stay the source's */
    else
        mediation__v1__trace_context__init(tc);
    if (tenant_id && (!tc->tenant_id || !tc->tenant_id[0])) tc->tenant_id = (char *)tenant_id;
    if (app_id && (!tc->app_id || !tc->app_id[0])) tc->app_id = (char *)app_id;
    return tc;
}

static med_rc pack_ack(f_batch_work *b, const Mediation__V1__TraceContext *tc, f_outbox_row *ob,
                       med_err *err)
{
    Mediation__V1__EventBatchAck *ack = b->ack;
    if (!ack) return MED_OK; /* timer runs answer nobody */
    if (!ack->trace) ack->trace = (Mediation__V1__TraceContext *)tc;
    if (ack->http_status == 0) ack->http_status = 200;
    return med_pb_pack(&ack->base, &ob->ack_pb, &ob->ack_len, err);
}

static med_rc pack_records(f_batch_work *b, Mediation__V1__TraceContext *tc, f_outbox_row *ob,
                           med_err *err)
{
    Mediation__V1__FOutboxRecords recs = MEDIATION__V1__FOUTBOX_RECORDS__INIT;
    recs.trace = tc;
    recs.app_id = (char *)(b->auth_app_id ? b->auth_app_id : "");
    recs.n_records = b->n_records;
    recs.records = b->records;
    ob->record_count = (int)b->n_records;
    return med_pb_pack(&recs.base, &ob->records_pb, &ob->records_len, err);
}

static const char *primary_reason(const f_batch_work *b)
{
    if (b->envelope_reason) return b->envelope_reason;
    for (size_t i = 0; i < b->n_events; i++)
        if (b->events[i].reason) return b->events[i].reason;
    return MED_R_F_EVENT_ACCEPTED;
}

static med_rc pack_audit(f_batch_work *b, const f_pack_ctx *ctx, Mediation__V1__TraceContext *tc,
                         f_outbox_row *ob, med_err *err)
{
    if (!b->audit) return MED_OK;
    b->audit->committed_at_unix_ms = med_now_unix_ms();
    char audit_id[300];
    snprintf(audit_id, sizeof audit_id, "f.audit:%s", ob->key);
    Mediation__V1__StageAudit a = MEDIATION__V1__STAGE_AUDIT__INIT;
    a.trace = tc;
    a.stage = (char *)MED_STAGE_F;
    a.kind = (char *)"decision";
    a.primary_reason_code = (char *)primary_reason(b);
    a.anchor_hash = (char *)(b->anchor_hash ? b->anchor_hash : (tc->anchor_hash ? tc->anchor_hash : ""));
    a.started_at_unix_ms = ctx->started_at_ms ? ctx->started_at_ms : b->received_at_ms;
    a.finished_at_unix_ms = a.emitted_at_unix_ms = b->audit->committed_at_unix_ms;
    a.audit_id = audit_id;
    a.instance = (char *)(ctx->instance ? ctx->instance : "");
    a.decision_action = (char *)(b->overall_status ? b->overall_status : "");
    a.snapshot_case = MEDIATION__V1__STAGE_AUDIT__SNAPSHOT_F_AUDIT;
    a.f_audit = b->audit;
    return med_pb_pack(&a.base, &ob->audit_pb, &ob->audit_len, err);
}

med_rc f_pack_batch(f_batch_work *b, const f_pack_ctx *ctx, f_outbox_row *ob, med_err *err)
{
    Mediation__V1__TraceContext *tc = f_pack_trace(&b->arena, ctx->trace, b->tenant_id, b->auth_app_id);
    if (!tc) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "outbox trace");
    snprintf(ob->app_id, sizeof ob->app_id, "%s", b->auth_app_id ? b->auth_app_id : "");
    if (b->req && b->req->batch_id) snprintf(ob->batch_id, sizeof ob->batch_id, "%s", b->req->batch_id);
    med_rc rc = pack_ack(b, tc, ob, err);
    if (rc == MED_OK) rc = pack_records(b, tc, ob, err);
    if (rc == MED_OK) rc = pack_audit(b, ctx, tc, ob, err);
    if (rc != MED_OK) f_outbox_row_free(ob);
    return rc;
}

/* ---- answers without a committed batch ------------------------------------ */

static Mediation__V1__EventAck *unavailable_item(med_arena *a, const Mediation__V1__SdkEvent *ev,
                                                 int index)
{
    Mediation__V1__EventAck *it = MED_NEW(a, Mediation__V1__EventAck);
    if (!it) return NULL;
    mediation__v1__event_ack__init(it);
    it->event_id = ev && ev->event_id && ev->event_id[0] ? ev->event_id
                                                         : med_arena_printf(a, "NA_%d", index);
    it->event_index = index;
    it->ack_status = (char *)"rejected";
    it->ack_reason_code = (char *)MED_R_F_EVENT_STORE_UNAVAILABLE;
    it->retryable = 1;
    it->server_event_key = med_arena_printf(a, "f_evt_rejected_%d", index);
    return it->event_id && it->server_event_key ? it : NULL;
}

/* F.4 step 13 for every event: the store was unavailable, retry them. */
static med_rc unavailable_items(f_batch_work *b, Mediation__V1__EventBatchAck *ack, med_err *err)
{
    size_t n = b->req ? b->req->n_events : 0;
    if (n == 0) return MED_OK;
    ack->ack_items = MED_NEWN(&b->arena, Mediation__V1__EventAck *, n);
    if (!ack->ack_items) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "ack items");
    for (size_t i = 0; i < n; i++) {
        ack->ack_items[i] = unavailable_item(&b->arena, b->req->events[i], (int)i);
        if (!ack->ack_items[i]) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "ack item");
    }
    ack->n_ack_items = n;
    ack->overall_status = (char *)"rejected_all";
    return MED_OK;
}

static Mediation__V1__EventBatchAck *minimal_ack(f_batch_work *b, int http_status)
{
    Mediation__V1__EventBatchAck *ack = MED_NEW(&b->arena, Mediation__V1__EventBatchAck);
    if (!ack) return NULL;
    mediation__v1__event_batch_ack__init(ack);
    ack->batch_id = (char *)(b->req && b->req->batch_id ? b->req->batch_id : "");
    ack->received_at_unix_ms = b->received_at_ms;
    ack->http_status = http_status;
    return ack;
}

static med_rc set_error(f_batch_work *b, Mediation__V1__EventBatchAck *ack, const char *code,
                        const char *message, const char *field, med_err *err)
{
    if (ack->error) return MED_OK;
    Mediation__V1__ErrorBodyLite *e = MED_NEW(&b->arena, Mediation__V1__ErrorBodyLite);
    if (!e) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "ack error");
    mediation__v1__error_body_lite__init(e);
    e->code = (char *)(code ? code : "");
    e->message = (char *)(message ? message : "");
    if (field) {
        e->field_opt_case = MEDIATION__V1__ERROR_BODY_LITE__FIELD_OPT_FIELD;
        e->field = (char *)field;
    }
    ack->error = e;
    return MED_OK;
}

med_rc f_pack_reject_ack(f_batch_work *b, const Mediation__V1__TraceContext *trace, int http_status,
                         const char *code, const char *message, const char *field,
                         int retry_after_sec, uint8_t **out, size_t *len, med_err *err)
{
    int use_rules = b->ack && http_status != 503;
    Mediation__V1__EventBatchAck *ack = use_rules ? b->ack : minimal_ack(b, http_status);
    if (!ack) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "reject ack");
    ack->http_status = http_status;
    ack->retry_after_sec = retry_after_sec;
    if (!ack->trace) ack->trace = (Mediation__V1__TraceContext *)trace;
    med_rc rc = set_error(b, ack, code, message, field, err);
    if (rc == MED_OK && http_status == 503) rc = unavailable_items(b, ack, err);
    if (rc != MED_OK) return rc;
    return med_pb_pack(&ack->base, out, len, err);
}
