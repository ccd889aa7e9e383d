#include "g_archive_row.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "med/jcs.h"
#include "med/pbjson.h"
#include "med/reason.h"

/* An ...OrNA value: NULL when unset, empty or "NA" (stored as NULL). */
static const char *or_na(int set, const char *v)
{
    if (!set || !v || !*v || strcmp(v, "NA") == 0) return NULL;
    return v;
}

static const char *nz(const char *a, const char *b)
{
    if (a && *a) return a;
    return b && *b ? b : NULL;
}

med_rc g_archive_digest(const Mediation__V1__FToGArchiveRecordLite *r, char out[65], med_err *err)
{
    json_t *j = med_pb_to_json(&r->base, "extensions");
    if (!j) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "record digest");
    /* F's running view of the group is not part of F.8's record: a resend
     * after the group moved on is the same record. */
    json_object_del(j, "groupConsistencyState");
    med_rc rc = med_jcs_sha256(j, out, err);
    json_decref(j);
    return rc;
}

const char *g_archive_tenant(const Mediation__V1__ArchiveRecord *rec, const med_trace_headers *h)
{
    return nz(h ? h->tenant : NULL, rec && rec->trace ? rec->trace->tenant_id : NULL);
}

static void take_source_keys(const Mediation__V1__ArchiveSourceKeysLite *s, g_archive_row *o)
{
    o->event_id = nz(s->event_id, NULL);
    o->source_event_id = nz(s->source_event_id, NULL);
    o->trace_key = s->trace_key;
    o->request_key = nz(s->request_key, NULL);
    o->attempt_key = nz(s->attempt_key, NULL);
    o->opportunity_key = nz(s->opportunity_key, NULL);
    o->response_reference = or_na(s->response_reference_or_na_opt_case ==
        MEDIATION__V1__ARCHIVE_SOURCE_KEYS_LITE__RESPONSE_REFERENCE_OR_NA_OPT_RESPONSE_REFERENCE_OR_NA,
        s->response_reference_or_na);
    o->render_attempt_id = or_na(s->render_attempt_id_or_na_opt_case ==
        MEDIATION__V1__ARCHIVE_SOURCE_KEYS_LITE__RENDER_ATTEMPT_ID_OR_NA_OPT_RENDER_ATTEMPT_ID_OR_NA,
        s->render_attempt_id_or_na);
}

static void take_relation_keys(const Mediation__V1__ArchiveRelationKeysLite *k, g_archive_row *o)
{
    o->closure_key = or_na(k->closure_key_or_na_opt_case ==
        MEDIATION__V1__ARCHIVE_RELATION_KEYS_LITE__CLOSURE_KEY_OR_NA_OPT_CLOSURE_KEY_OR_NA,
        k->closure_key_or_na);
    o->billing_key = or_na(k->billing_key_or_na_opt_case ==
        MEDIATION__V1__ARCHIVE_RELATION_KEYS_LITE__BILLING_KEY_OR_NA_OPT_BILLING_KEY_OR_NA,
        k->billing_key_or_na);
    o->attribution_key = or_na(k->attribution_key_or_na_opt_case ==
        MEDIATION__V1__ARCHIVE_RELATION_KEYS_LITE__ATTRIBUTION_KEY_OR_NA_OPT_ATTRIBUTION_KEY_OR_NA,
        k->attribution_key_or_na);
    o->canonical_dedup_key = k->canonical_dedup_key;
}

/* Reconciliation (G.8) compares these with billing_ledger by recordKey. */
static void take_billing(const Mediation__V1__FToGArchiveRecordLite *r, g_archive_row *o)
{
    const Mediation__V1__BillableFactLite *b =
        r->payload_case == MEDIATION__V1__FTO_GARCHIVE_RECORD_LITE__PAYLOAD_BILLABLE_FACT
            ? r->billable_fact : NULL;
    o->billable = o->type == G_RT_BILLABLE_FACT && o->status == G_RS_COMMITTED;
    if (!b) return;
    o->amount_micros = b->amount_micros;
    o->currency = nz(b->currency, NULL);
    if (!o->billing_key) o->billing_key = nz(b->billing_key, NULL);
    if (!o->response_reference) o->response_reference = nz(b->response_reference, NULL);
    if (!o->render_attempt_id) o->render_attempt_id = nz(b->render_attempt_id, NULL);
}

#define PAYLOAD(x) MEDIATION__V1__FTO_GARCHIVE_RECORD_LITE__PAYLOAD_##x

static int put_str(json_t *j, const char *k, const char *v)
{
    return json_object_set_new(j, k, json_string(v ? v : ""));
}

/* The content's kind, as the record names it. */
static int summarize_content(const Mediation__V1__FToGArchiveRecordLite *r, json_t *j)
{
    if (r->payload_case == PAYLOAD(DECISION_AUDIT) && r->decision_audit)
        return put_str(j, "decisionAction", r->decision_audit->decision_action);
    if (r->payload_case == PAYLOAD(BILLABLE_FACT) && r->billable_fact)
        return put_str(j, "billableType", r->billable_fact->billable_type);
    if (r->payload_case == PAYLOAD(ATTRIBUTION_FACT) && r->attribution_fact)
        return put_str(j, "eventType", r->attribution_fact->event_type) ||
               put_str(j, "attributionType", r->attribution_fact->attribution_type);
    return 0;
}

json_t *g_archive_summary(const Mediation__V1__FToGArchiveRecordLite *r)
{
    json_t *j = json_pack("{s:s, s:s, s:s}", "recordType", r->record_type ? r->record_type : "",
                          "recordStatus", r->record_status ? r->record_status : "", "decisionReasonCode",
                          r->decision_reason_code ? r->decision_reason_code : "");
    if (j && summarize_content(r, j) != 0) {
        json_decref(j);
        return NULL;
    }
    return j;
}

static char *dumps_decref(json_t *j)
{
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return s;
}

/* The record packed once here; replay unpacks it with protobuf-c. */
static med_rc take_content(const Mediation__V1__FToGArchiveRecordLite *r, g_archive_row *o, med_err *err)
{
    o->payload = dumps_decref(g_archive_summary(r));
    o->version_anchors = dumps_decref(med_pb_to_json(&r->version_anchors->base, NULL));
    o->payload_pb_len = protobuf_c_message_get_packed_size(&r->base);
    o->payload_pb = malloc(o->payload_pb_len ? o->payload_pb_len : 1);
    if (!o->payload || !o->version_anchors || !o->payload_pb)
        return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "archive row");
    protobuf_c_message_pack(&r->base, o->payload_pb);
    return MED_OK;
}

med_rc g_archive_row_build(const Mediation__V1__ArchiveRecord *rec, const med_trace_headers *h,
                           g_archive_row *o, med_err *err)
{
    memset(o, 0, sizeof *o);
    const Mediation__V1__FToGArchiveRecordLite *r = rec->record;
    o->tenant_id = g_archive_tenant(rec, h);
    if (!o->tenant_id)
        return med_err_set(err, MED_ERR_INVALID, MED_R_G_INGEST_INVALID_RECORD, "trace.tenantId",
                           "archive record without a tenant");
    o->app_id = nz(rec->app_id, nz(h ? h->app : NULL, rec->trace ? rec->trace->app_id : NULL));
    o->placement_id = nz(h ? h->placement : NULL, rec->trace ? rec->trace->placement_id : NULL);
    o->record_key = r->record_key;
    if (g_record_type_parse(r->record_type, &o->type) != 0 ||
        g_record_status_parse(r->record_status, &o->status) != 0)
        return med_err_set(err, MED_ERR_INVALID, MED_R_G_INGEST_INVALID_RECORD, "record.recordType",
                           "unchecked archive record");
    o->payload_type = r->payload_ref->payload_type;
    o->payload_key = r->payload_ref->payload_key;
    take_source_keys(r->source_keys, o);
    take_relation_keys(r->relation_keys, o);
    o->decision_reason_code = r->decision_reason_code;
    o->conflict_with_record_key = or_na(r->conflict_with_record_key_opt_case ==
        MEDIATION__V1__FTO_GARCHIVE_RECORD_LITE__CONFLICT_WITH_RECORD_KEY_OPT_CONFLICT_WITH_RECORD_KEY,
        r->conflict_with_record_key);
    o->superseded_record_key = or_na(r->superseded_record_key_opt_case ==
        MEDIATION__V1__FTO_GARCHIVE_RECORD_LITE__SUPERSEDED_RECORD_KEY_OPT_SUPERSEDED_RECORD_KEY,
        r->superseded_record_key);
    o->output_at_ms = r->output_at_unix_ms;
    take_billing(r, o);
    o->anchor_hash = nz(r->anchor_hash, h ? h->anchor_hash : NULL);
    snprintf(o->group_key, sizeof o->group_key, "%s|%s", o->closure_key ? o->closure_key : "NA",
             o->trace_key);
    med_rc rc = g_archive_digest(r, o->payload_digest, err);
    if (rc == MED_OK) rc = take_content(r, o, err);
    return rc;
}

void g_archive_row_free(g_archive_row *r)
{
    if (!r) return;
    free(r->payload);
    free(r->version_anchors);
    free(r->payload_pb);
    r->payload = NULL;
    r->version_anchors = NULL;
    r->payload_pb = NULL;
    r->payload_pb_len = 0;
}

_Static_assert(G_COL_N <= MED_PG_COLS_MAX, "one statement parameter per column");

void g_archive_row_cols_init(med_pg_cols *c)
{
    uint32_t oids[G_COL_N];
    for (int i = 0; i < G_COL_N; i++) oids[i] = MED_PG_OID_TEXT;
    oids[G_COL_OUTPUT_AT_MS] = oids[G_COL_AMOUNT] = MED_PG_OID_INT8;
    oids[G_COL_BILLABLE] = MED_PG_OID_BOOL;
    oids[G_COL_PAYLOAD_PB] = MED_PG_OID_BYTEA;
    med_pg_cols_init(c, oids, G_COL_N);
}

/* The text columns, G_COL_APP .. G_COL_SUPERSEDED in order. */
static void add_keys(med_pg_array *col, const g_archive_row *r)
{
    const char *v[] = {
        r->app_id, r->placement_id, r->record_key, g_record_type_name(r->type),
        g_record_status_name(r->status), r->payload_type, r->payload_key, r->payload_digest,
        r->event_id, r->source_event_id, r->trace_key, r->request_key, r->attempt_key,
        r->opportunity_key, r->response_reference, r->render_attempt_id, r->closure_key,
        r->billing_key, r->attribution_key, r->canonical_dedup_key, r->decision_reason_code,
        r->conflict_with_record_key, r->superseded_record_key,
    };
    _Static_assert(sizeof v / sizeof v[0] == G_COL_SUPERSEDED + 1, "text columns in order");
    for (int i = 0; i <= G_COL_SUPERSEDED; i++) med_pg_array_add_str(&col[i], v[i]);
}

void g_archive_row_cols_add(med_pg_cols *c, const g_archive_row *r, const char *ws)
{
    med_pg_array *col = c->col;
    add_keys(col, r);
    med_pg_array_add_int8(&col[G_COL_OUTPUT_AT_MS], r->output_at_ms);
    med_pg_array_add_bool(&col[G_COL_BILLABLE], r->billable);
    /* only a billable_fact carries an amount */
    if (r->type == G_RT_BILLABLE_FACT) med_pg_array_add_int8(&col[G_COL_AMOUNT], r->amount_micros);
    else med_pg_array_add(&col[G_COL_AMOUNT], NULL, 0);
    med_pg_array_add_str(&col[G_COL_CURRENCY], r->currency);
    med_pg_array_add_str(&col[G_COL_ANCHOR], r->anchor_hash);
    med_pg_array_add_str(&col[G_COL_VERSION_ANCHORS], r->version_anchors);
    med_pg_array_add_str(&col[G_COL_PAYLOAD], r->payload);
    med_pg_array_add_str(&col[G_COL_WS], ws);
    med_pg_array_add(&col[G_COL_PAYLOAD_PB], r->payload_pb, r->payload_pb_len);
}

int g_archive_row_takes_part_in_supersede(const g_archive_row *r)
{
    if (r->type == G_RT_DECISION_AUDIT)
        return r->superseded_record_key && r->superseded_record_key[0];
    return r->type == G_RT_ATTRIBUTION_FACT && r->status == G_RS_COMMITTED &&
           r->decision_reason_code &&
           strcmp(r->decision_reason_code, MED_R_F_TERMINAL_TIMEOUT_AUTOFILL) == 0;
}
