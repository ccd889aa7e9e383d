/* ArchiveRecord ingest check (G.9 case 5), payload digest (case 6 at the
 * rule level) and the archive_records row reconciliation reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "g_archive_check.h"
#include "g_archive_row.h"
#include "med/reason.h"

typedef struct fixture {
    Mediation__V1__ArchiveRecord rec;
    Mediation__V1__FToGArchiveRecordLite r;
    Mediation__V1__TraceContext tc;
    Mediation__V1__ArchivePayloadRefLite ref;
    Mediation__V1__ArchiveSourceKeysLite src;
    Mediation__V1__ArchiveRelationKeysLite rel;
    Mediation__V1__ArchiveVersionAnchorsLite va;
    Mediation__V1__BillableFactLite bill;
    Mediation__V1__FToGArchiveRecordLite__ExtensionsEntry ext;
    Mediation__V1__FToGArchiveRecordLite__ExtensionsEntry *exts[1];
} fixture;

static void billable(fixture *f)
{
    memset(f, 0, sizeof *f);
    mediation__v1__archive_record__init(&f->rec);
    mediation__v1__fto_garchive_record_lite__init(&f->r);
    mediation__v1__trace_context__init(&f->tc);
    mediation__v1__archive_payload_ref_lite__init(&f->ref);
    mediation__v1__archive_source_keys_lite__init(&f->src);
    mediation__v1__archive_relation_keys_lite__init(&f->rel);
    mediation__v1__archive_version_anchors_lite__init(&f->va);
    mediation__v1__billable_fact_lite__init(&f->bill);
    f->tc.tenant_id = "t_trace";
    f->rec.trace = &f->tc;
    f->rec.record = &f->r;
    f->r.record_key = "rk_bill_1";
    f->r.record_type = "billable_fact";
    f->r.record_status = "committed";
    f->ref.payload_type = "billable_fact";
    f->ref.payload_key = "resp_1|ra_1|billable_impression";
    f->r.payload_ref = &f->ref;
    f->src.event_id = "evt_1";
    f->src.source_event_id = "evt_1";
    f->src.trace_key = "tr_1";
    f->src.request_key = "rq_1";
    f->src.response_reference_or_na_opt_case =
        MEDIATION__V1__ARCHIVE_SOURCE_KEYS_LITE__RESPONSE_REFERENCE_OR_NA_OPT_RESPONSE_REFERENCE_OR_NA;
    f->src.response_reference_or_na = "resp_1";
    f->src.render_attempt_id_or_na_opt_case =
        MEDIATION__V1__ARCHIVE_SOURCE_KEYS_LITE__RENDER_ATTEMPT_ID_OR_NA_OPT_RENDER_ATTEMPT_ID_OR_NA;
    f->src.render_attempt_id_or_na = "NA";
    f->r.source_keys = &f->src;
    f->rel.closure_key_or_na_opt_case =
        MEDIATION__V1__ARCHIVE_RELATION_KEYS_LITE__CLOSURE_KEY_OR_NA_OPT_CLOSURE_KEY_OR_NA;
    f->rel.closure_key_or_na = "resp_1|ra_1";
    f->rel.canonical_dedup_key = "f_dedup_v1:idem:k1";
    f->r.relation_keys = &f->rel;
    f->va.event_contract_version = "schema_v1";
    f->va.mapping_rule_version = "f_mapping_rule_v1";
    f->va.dedup_fingerprint_version = "f_dedup_v1";
    f->va.closure_rule_version = "f_closure_rule_v1";
    f->va.billing_rule_version = "f_billing_rule_v1";
    f->va.archive_contract_version = "f_archive_contract_v1";
    f->r.version_anchors = &f->va;
    f->r.decision_reason_code = "f_facts_mapped";
    f->r.output_at_unix_ms = 1771756200000;
    f->bill.billing_key = "resp_1|ra_1|billable_impression";
    f->bill.billable_type = "billable_impression";
    f->bill.response_reference = "resp_1";
    f->bill.render_attempt_id = "ra_1";
    f->bill.amount_micros = 2000000;
    f->bill.currency = "USD";
    f->r.payload_case = MEDIATION__V1__FTO_GARCHIVE_RECORD_LITE__PAYLOAD_BILLABLE_FACT;
    f->r.billable_fact = &f->bill;
    f->r.anchor_hash = "ah_1";
}

static void valid_record_passes(void **state)
{
    (void)state;
    fixture f;
    billable(&f);
    med_err e;
    assert_int_equal(g_archive_check(&f.rec, &e), MED_OK);
}

/* G.9 case 5 */
static void missing_version_anchors_is_invalid(void **state)
{
    (void)state;
    fixture f;
    billable(&f);
    f.r.version_anchors = NULL;
    med_err e;
    assert_int_equal(g_archive_check(&f.rec, &e), MED_ERR_INVALID);
    assert_string_equal(e.code, MED_R_G_INGEST_INVALID_RECORD);
    assert_string_equal(e.field, "record.versionAnchors");
    billable(&f);
    f.va.dedup_fingerprint_version = "";
    assert_int_equal(g_archive_check(&f.rec, &e), MED_ERR_INVALID);
    assert_string_equal(e.field, "record.versionAnchors.dedupFingerprintVersion");
}

static void every_required_field_is_checked(void **state)
{
    (void)state;
    fixture f;
    med_err e;
    billable(&f); f.r.record_key = "";
    assert_int_equal(g_archive_check(&f.rec, &e), MED_ERR_INVALID);
    assert_string_equal(e.field, "record.recordKey");
    billable(&f); f.r.record_type = "bill";
    assert_int_equal(g_archive_check(&f.rec, &e), MED_ERR_INVALID);
    assert_string_equal(e.field, "record.recordType");
    billable(&f); f.r.record_status = "done";
    assert_int_equal(g_archive_check(&f.rec, &e), MED_ERR_INVALID);
    billable(&f); f.r.payload_ref = NULL;
    assert_int_equal(g_archive_check(&f.rec, &e), MED_ERR_INVALID);
    billable(&f); f.src.trace_key = "";
    assert_int_equal(g_archive_check(&f.rec, &e), MED_ERR_INVALID);
    assert_string_equal(e.field, "record.sourceKeys.traceKey");
    billable(&f); f.r.relation_keys = NULL;
    assert_int_equal(g_archive_check(&f.rec, &e), MED_ERR_INVALID);
    billable(&f); f.r.decision_reason_code = "";
    assert_int_equal(g_archive_check(&f.rec, &e), MED_ERR_INVALID);
    billable(&f); f.r.output_at_unix_ms = 0;
    assert_int_equal(g_archive_check(&f.rec, &e), MED_ERR_INVALID);
    assert_string_equal(e.field, "record.outputAt");
    assert_int_equal(g_archive_check(NULL, &e), MED_ERR_INVALID);
}

static void digest_ignores_extensions_only(void **state)
{
    (void)state;
    fixture f;
    billable(&f);
    char d1[65], d2[65], d3[65];
    med_err e;
    assert_int_equal(g_archive_digest(&f.r, d1, &e), MED_OK);
    assert_int_equal(strlen(d1), 64);
    mediation__v1__fto_garchive_record_lite__extensions_entry__init(&f.ext);
    f.ext.key = "note";
    f.ext.value = "\"resent\"";
    f.exts[0] = &f.ext;
    f.r.extensions = f.exts;
    f.r.n_extensions = 1;
    f.r.group_consistency_state = "partial_pending";
    assert_int_equal(g_archive_digest(&f.r, d2, &e), MED_OK);
    assert_string_equal(d1, d2);
    f.bill.amount_micros = 2000001;
    assert_int_equal(g_archive_digest(&f.r, d3, &e), MED_OK);
    assert_string_not_equal(d1, d3);
}

/* The first element of column col of a finished one-row set (NULL for SQL
 * NULL); *len its length. */
static const uint8_t *elem0(const med_pg_cols *c, int col, int32_t *len)
{
    const uint8_t *p = (const uint8_t *)c->values[col] + 20;   /* the array header */
    uint32_t n = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    *len = (int32_t)n;
    return *len < 0 ? NULL : p + 4;
}

static void row_maps_columns_for_reconciliation(void **state)
{
    (void)state;
    fixture f;
    billable(&f);
    med_trace_headers h = { 0 };
    strcpy(h.tenant, "t_header");
    strcpy(h.app, "app_h");
    g_archive_row r;
    med_err e;
    assert_int_equal(g_archive_row_build(&f.rec, &h, &r, &e), MED_OK);
    assert_string_equal(r.tenant_id, "t_header");
    assert_string_equal(r.app_id, "app_h");
    assert_int_equal(r.type, G_RT_BILLABLE_FACT);
    assert_true(r.billable);
    assert_int_equal(r.amount_micros, 2000000);
    assert_string_equal(r.currency, "USD");
    assert_string_equal(r.response_reference, "resp_1");
    /* "NA" on the wire is NULL in the row; the fact fills it in */
    assert_string_equal(r.render_attempt_id, "ra_1");
    assert_string_equal(r.billing_key, "resp_1|ra_1|billable_impression");
    assert_string_equal(r.group_key, "resp_1|ra_1|tr_1");
    assert_string_equal(r.anchor_hash, "ah_1");
    med_pg_cols c;
    g_archive_row_cols_init(&c);
    g_archive_row_cols_add(&c, &r, "written");
    assert_int_equal(med_pg_cols_finish(&c, &e), MED_OK);
    assert_int_equal(c.n, G_COL_N);
    int32_t len = 0;
    const uint8_t *text = elem0(&c, G_COL_VERSION_ANCHORS, &len);
    json_t *va = json_loadb((const char *)text, (size_t)len, 0, NULL);
    assert_true(json_is_object(va));
    json_decref(va);
    /* payload: only the summary an operator filters on */
    text = elem0(&c, G_COL_PAYLOAD, &len);
    json_t *payload = json_loadb((const char *)text, (size_t)len, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(payload, "recordType")), "billable_fact");
    assert_string_equal(json_string_value(json_object_get(payload, "recordStatus")), "committed");
    assert_string_equal(json_string_value(json_object_get(payload, "decisionReasonCode")), "f_facts_mapped");
    assert_string_equal(json_string_value(json_object_get(payload, "billableType")), "billable_impression");
    assert_null(json_object_get(payload, "recordKey"));
    assert_null(json_object_get(payload, "billableFact"));
    json_decref(payload);
    /* payload_pb: the record itself, packed */
    const uint8_t *pb = elem0(&c, G_COL_PAYLOAD_PB, &len);
    assert_int_equal(len, (int32_t)protobuf_c_message_get_packed_size(&f.r.base));
    Mediation__V1__FToGArchiveRecordLite *back =
        mediation__v1__fto_garchive_record_lite__unpack(NULL, (size_t)len, pb);
    assert_non_null(back);
    assert_string_equal(back->record_key, "rk_bill_1");
    assert_int_equal(back->billable_fact->amount_micros, 2000000);
    assert_string_equal(back->relation_keys->closure_key_or_na, "resp_1|ra_1");
    mediation__v1__fto_garchive_record_lite__free_unpacked(back, NULL);
    assert_null(elem0(&c, G_COL_ATTEMPT, &len));   /* SQL NULL */
    assert_memory_equal(elem0(&c, G_COL_WS, &len), "written", 7);
    assert_int_equal(len, 7);
    assert_memory_equal(elem0(&c, G_COL_RECORD_KEY, &len), "rk_bill_1", 9);
    const uint8_t *amount = elem0(&c, G_COL_AMOUNT, &len);
    assert_int_equal(len, 8);
    assert_int_equal(amount[5] << 16 | amount[6] << 8 | amount[7], 2000000);
    assert_int_equal(*elem0(&c, G_COL_BILLABLE, &len), 1);
    med_pg_cols_free(&c);
    g_archive_row_free(&r);
    /* a duplicate billable fact is archived but not billable */
    billable(&f);
    f.r.record_status = "duplicate";
    f.rel.closure_key_or_na_opt_case = 0;
    assert_int_equal(g_archive_row_build(&f.rec, &h, &r, &e), MED_OK);
    assert_false(r.billable);
    assert_string_equal(r.group_key, "NA|tr_1");
    g_archive_row_free(&r);
    /* no tenant anywhere: quarantined */
    billable(&f);
    f.tc.tenant_id = "";
    med_trace_headers none = { 0 };
    assert_int_equal(g_archive_row_build(&f.rec, &none, &r, &e), MED_ERR_INVALID);
    assert_string_equal(e.code, MED_R_G_INGEST_INVALID_RECORD);
    g_archive_row_free(&r);
}

/* F.8: only a timeout failure's attribution and the decision_audit that
 * names a record to supersede make a batch run the supersede statement. */
static void supersede_takes_timeout_attribution_and_announcements(void **state)
{
    (void)state;
    g_archive_row r;
    memset(&r, 0, sizeof r);
    r.type = G_RT_ATTRIBUTION_FACT;
    r.status = G_RS_COMMITTED;
    r.decision_reason_code = MED_R_F_TERMINAL_TIMEOUT_AUTOFILL;
    assert_true(g_archive_row_takes_part_in_supersede(&r));
    r.status = G_RS_DUPLICATE;
    assert_false(g_archive_row_takes_part_in_supersede(&r));
    r.status = G_RS_COMMITTED;
    r.decision_reason_code = MED_R_F_EVENT_ACCEPTED;
    assert_false(g_archive_row_takes_part_in_supersede(&r));
    r.type = G_RT_BILLABLE_FACT;
    r.decision_reason_code = MED_R_F_TERMINAL_TIMEOUT_AUTOFILL;
    assert_false(g_archive_row_takes_part_in_supersede(&r));
    r.type = G_RT_DECISION_AUDIT;
    assert_false(g_archive_row_takes_part_in_supersede(&r));
    r.superseded_record_key = "";
    assert_false(g_archive_row_takes_part_in_supersede(&r));
    r.superseded_record_key = "rk_target";
    assert_true(g_archive_row_takes_part_in_supersede(&r));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_record_passes),
        cmocka_unit_test(missing_version_anchors_is_invalid),
        cmocka_unit_test(every_required_field_is_checked),
        cmocka_unit_test(digest_ignores_extensions_only),
        cmocka_unit_test(row_maps_columns_for_reconciliation),
        cmocka_unit_test(supersede_takes_timeout_attribution_and_announcements),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
