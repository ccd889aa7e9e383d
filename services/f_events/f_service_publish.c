/* Publishing an outbox row (see f_service_publish.h). */
#include "f_service_publish.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "f_archive_ack.h"
#include "med/headers.h"
#include "med/ids.h"
#include "med/names.h"
#include "med/pbtrace.h"
#include "med/reason.h"
#include "mediation/v1/archive.pb-c.h"
#include "mediation/v1/audit.pb-c.h"

static int blank(const char *s)
{
    return !s || !s[0];
}

/* The record's own keys win over the batch's: a batch mixes events of
 * many opportunities, and each record follows its own trace. */
static void record_trace(const Mediation__V1__TraceContext *batch,
                         const Mediation__V1__FToGArchiveRecordLite *r,
                         Mediation__V1__TraceContext *out)
{
    if (batch)
        *out = *batch;
    else
        mediation__v1__trace_context__init(out);
    const Mediation__V1__ArchiveSourceKeysLite *k = r->source_keys;
    if (k && !blank(k->trace_key)) out->trace_key = k->trace_key;
    if (k && !blank(k->request_key)) out->request_key = k->request_key;
    if (k && !blank(k->opportunity_key)) out->opportunity_key = k->opportunity_key;
    if (k && !blank(k->attempt_key)) out->attempt_key = k->attempt_key;
    if (k && k->response_reference_or_na_opt_case && !blank(k->response_reference_or_na))
        out->response_reference = k->response_reference_or_na;
    if (!blank(r->anchor_hash)) out->anchor_hash = r->anchor_hash;
}

static med_rc msg_with_headers(const char *subject, const uint8_t *data, size_t len,
                               const Mediation__V1__TraceContext *tc, const char *tenant_id,
                               natsMsg **out, med_err *err)
{
    med_rc rc = med_js_msg_new(subject, data, (int)len, NULL, out, err);
    if (rc != MED_OK) return rc;
    med_trace_headers h;
    memset(&h, 0, sizeof h);
    if (tc) med_headers_from_trace_ctx(tc, &h);
    if (!h.tenant[0] && tenant_id) snprintf(h.tenant, sizeof h.tenant, "%s", tenant_id);
    rc = med_headers_write(*out, &h, err);
    if (rc != MED_OK) {
        natsMsg_Destroy(*out);
        *out = NULL;
    }
    return rc;
}

static med_rc publish_async(med_js *js, natsMsg *m, const char *msg_id, med_err *err)
{
    med_rc rc = med_js_publish_async(js, m, msg_id, err);
    if (rc != MED_OK) natsMsg_Destroy(m);
    return rc;
}

/* G answers each record on the subject that leads back to its outbox row
 * (F.8 compensation, f_archive_comp.c); without one G's own retries and
 * the outbox sweeper remain. */
static void ask_ack(natsMsg *m, const char *tenant_id, const char *outbox_key)
{
    char subj[1024];
    if (f_archive_ack_subject(tenant_id, outbox_key, subj, sizeof subj) == 0)
        natsMsgHeader_Set(m, MED_HDR_REPLY_TO, subj);
}

static med_rc publish_record(med_js *js, const char *tenant_id, const char *outbox_key,
                             const Mediation__V1__FOutboxRecords *recs,
                             Mediation__V1__FToGArchiveRecordLite *r, int attempt,
                             const char *msg_id, med_err *err)
{
    Mediation__V1__TraceContext tc;
    record_trace(recs->trace, r, &tc);
    Mediation__V1__ArchiveRecord ar = MEDIATION__V1__ARCHIVE_RECORD__INIT;
    ar.trace = &tc;
    ar.record = r;
    ar.app_id = recs->app_id;
    ar.attempt = attempt;
    ar.first_attempt_at_unix_ms = recs->first_attempt_at_unix_ms;
    uint8_t *buf = NULL;
    size_t len = 0;
    med_rc rc = med_pb_pack(&ar.base, &buf, &len, err);
    if (rc != MED_OK) return rc;
    natsMsg *m = NULL;
    rc = msg_with_headers(MED_SUBJ_G_ARCHIVE, buf, len, &tc, tenant_id, &m, err);
    free(buf);
    if (rc == MED_OK) ask_ack(m, tenant_id, outbox_key);
    if (rc == MED_OK) rc = publish_async(js, m, msg_id ? msg_id : r->record_key, err);
    return rc;
}

static med_rc publish_audit(med_js *js, const char *tenant_id, const f_outbox_row *ob,
                            const Mediation__V1__TraceContext *tc, med_err *err)
{
    if (!ob->audit_pb || ob->audit_len == 0) return MED_OK;
    char msg_id[300];
    snprintf(msg_id, sizeof msg_id, "f.audit:%s", ob->key);
    natsMsg *m = NULL;
    med_rc rc = msg_with_headers(MED_SUBJ_AUDIT_PREFIX MED_STAGE_F MED_SUBJ_VERSION_SUFFIX,
                                 ob->audit_pb, ob->audit_len, tc, tenant_id, &m, err);
    if (rc == MED_OK) rc = publish_async(js, m, msg_id, err);
    return rc;
}

med_rc f_publish_outbox(med_js *js, const char *tenant_id, const f_outbox_row *ob, int attempt,
                        med_err *err)
{
    Mediation__V1__FOutboxRecords *recs = NULL;
    if (ob->records_pb && ob->records_len) {
        recs = mediation__v1__foutbox_records__unpack(NULL, ob->records_len, ob->records_pb);
        if (!recs)
            return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_DECODE_FAILED, NULL,
                               "outbox %s: records do not decode", ob->key);
    }
    if (recs && ob->first_attempt_at_ms) recs->first_attempt_at_unix_ms = ob->first_attempt_at_ms;
    med_rc rc = MED_OK;
    for (size_t i = 0; recs && rc == MED_OK && i < recs->n_records; i++)
        if (recs->records[i] && !blank(recs->records[i]->record_key))
            rc = publish_record(js, tenant_id, ob->key, recs, recs->records[i], attempt, NULL, err);
    if (rc == MED_OK) rc = publish_audit(js, tenant_id, ob, recs ? recs->trace : NULL, err);
    if (recs) mediation__v1__foutbox_records__free_unpacked(recs, NULL);
    return rc;
}

med_rc f_publish_outbox_record(med_js *js, const char *tenant_id, const f_outbox_row *ob,
                               const char *record_key, int attempt, med_err *err)
{
    if (!ob->records_pb || !ob->records_len)
        return med_err_set(err, MED_ERR_NOT_FOUND, MED_R_INFRA_PERMANENT_FAILURE, NULL,
                           "outbox %s holds no records", ob->key);
    Mediation__V1__FOutboxRecords *recs =
        mediation__v1__foutbox_records__unpack(NULL, ob->records_len, ob->records_pb);
    if (!recs)
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_DECODE_FAILED, NULL,
                           "outbox %s: records do not decode", ob->key);
    if (ob->first_attempt_at_ms) recs->first_attempt_at_unix_ms = ob->first_attempt_at_ms;
    Mediation__V1__FToGArchiveRecordLite *r = NULL;
    for (size_t i = 0; !r && i < recs->n_records; i++)
        if (recs->records[i] && recs->records[i]->record_key &&
            strcmp(recs->records[i]->record_key, record_key) == 0)
            r = recs->records[i];
    char msg_id[320];
    med_rc rc;
    if (!r)
        rc = med_err_set(err, MED_ERR_NOT_FOUND, MED_R_INFRA_PERMANENT_FAILURE, NULL,
                         "outbox %s has no record %s", ob->key, record_key);
    else if (f_archive_resend_msg_id(record_key, attempt, msg_id, sizeof msg_id) != 0)
        rc = med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_ENCODE_FAILED, NULL, "record key too long");
    else
        rc = publish_record(js, tenant_id, ob->key, recs, r, attempt, msg_id, err);
    mediation__v1__foutbox_records__free_unpacked(recs, NULL);
    return rc;
}

med_rc f_publish_reply(med_js *js, const char *inbox, const uint8_t *data, size_t len,
                       med_err *err)
{
    if (blank(inbox)) return MED_OK; /* nobody waits (a tool, a redelivery after the deadline) */
    natsMsg *m = NULL;
    med_rc rc = med_js_msg_new(inbox, data, (int)len, NULL, &m, err);
    if (rc != MED_OK) return rc;
    rc = med_js_publish_core(js, m, err);
    natsMsg_Destroy(m);
    return rc;
}
