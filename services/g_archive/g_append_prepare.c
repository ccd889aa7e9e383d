#include "g_append_prepare.h"

#include <string.h>

#include "med/pbjson.h"
#include "med/reason.h"
#include "med/rows.h"

static g_append_row check_pre(const Mediation__V1__StageAudit *a, const char *subject,
                              const char *tenant, g_rate *rate, int64_t now_ms, med_err *err)
{
    g_append_row row = g_append_check_envelope(a->append_request, err);
    if (row == G_APPEND_PASS) row = g_append_check_caller(subject, a, tenant, err);
    if (row == G_APPEND_PASS && rate && !g_rate_allow(rate, tenant, now_ms)) {
        med_err_set(err, MED_ERR_UNAVAILABLE, MED_R_G_APPEND_RATE_LIMITED, NULL,
                    "tenant over its append rate");
        row = G_APPEND_ROW_RATE;
    }
    return row;
}

static g_append_row check_post(const Mediation__V1__GAuditRecordLite *r, med_err *err)
{
    g_append_row row = g_append_check_record(r, err);
    if (row != G_APPEND_PASS) return row;
    size_t len = 0;
    if (g_append_jcs_len(r, &len, err) != MED_OK) return G_APPEND_ROW_STORE;
    return g_append_check_size(len, err);
}

static void identify(g_append_item *out)
{
    const Mediation__V1__GAppendRequestLite *req = out->audit->append_request;
    if (g_append_digest(req->audit_record, out->digest, &out->err) != MED_OK ||
        g_append_dedup_key(req, out->digest, out->dedup_key, sizeof out->dedup_key, &out->err) != MED_OK) {
        out->post = G_APPEND_ROW_MATRIX;
        return;
    }
    g_append_token(out->dedup_key, out->digest, out->token);
}

void g_append_prepare(const Mediation__V1__StageAudit *a, const char *subject, const char *tenant,
                      g_rate *rate, int64_t now_ms, g_append_item *out)
{
    memset(out, 0, sizeof *out);
    out->audit = a;
    out->tenant = tenant && *tenant ? tenant : NULL;
    med_err_clear(&out->err);
    out->pre = check_pre(a, subject, out->tenant, rate, now_ms, &out->err);
    if (out->pre != G_APPEND_PASS) return;
    med_err perr;
    med_err_clear(&perr);
    out->post = check_post(a->append_request->audit_record, &perr);
    if (out->post != G_APPEND_PASS) {
        out->err = perr;
        return;
    }
    identify(out);
}

static const char *or_na(int set, const char *v)
{
    if (!set || !v || !*v || strcmp(v, "NA") == 0) return NULL;
    return v;
}

static const char *nz(const char *a) { return a && *a ? a : NULL; }

static int put_keys(json_t *o, const Mediation__V1__GAuditRecordLite *r)
{
    const Mediation__V1__RenderResultSnapshotLite *rs = r->render_result_snapshot;
    const char *attempt = rs ? or_na(rs->render_attempt_id_or_na_opt_case ==
        MEDIATION__V1__RENDER_RESULT_SNAPSHOT_LITE__RENDER_ATTEMPT_ID_OR_NA_OPT_RENDER_ATTEMPT_ID_OR_NA,
        rs->render_attempt_id_or_na) : NULL;
    return med_rows_put(o, "audit_record_id", r->audit_record_id) ||
           med_rows_put(o, "trace_key", r->trace_key) || med_rows_put(o, "request_key", r->request_key) ||
           med_rows_put(o, "attempt_key", r->attempt_key) ||
           med_rows_put(o, "opportunity_key", r->opportunity_key) ||
           med_rows_put(o, "response_reference", or_na(r->response_reference_or_na_opt_case ==
               MEDIATION__V1__GAUDIT_RECORD_LITE__RESPONSE_REFERENCE_OR_NA_OPT_RESPONSE_REFERENCE_OR_NA,
               r->response_reference_or_na)) ||
           med_rows_put(o, "render_attempt_id", attempt) ||
           med_rows_put(o, "closure_key", or_na(r->closure_key_or_na_opt_case ==
               MEDIATION__V1__GAUDIT_RECORD_LITE__CLOSURE_KEY_OR_NA_OPT_CLOSURE_KEY_OR_NA,
               r->closure_key_or_na)) ||
           med_rows_put(o, "anchor_hash", r->replay_anchors ? nz(r->replay_anchors->anchor_hash) : NULL) ||
           json_object_set_new(o, "audit_at_ms", json_integer(r->audit_at_unix_ms)) != 0;
}

json_t *g_append_row_json(const g_append_item *it, const med_trace_headers *h,
                          const char *payload_pb_hex, int i)
{
    const Mediation__V1__StageAudit *a = it->audit;
    const Mediation__V1__GAuditRecordLite *r = a->append_request->audit_record;
    const Mediation__V1__TraceContext *tc = a->trace;
    json_t *o = json_object();
    json_t *payload = med_pb_to_json(&r->base, NULL);
    int bad = !o || !payload || json_object_set_new(o, "i", json_integer(i)) != 0 ||
              med_rows_put(o, "tenant_id", it->tenant) ||
              med_rows_put(o, "app_id", nz(h->app) ? h->app : (tc ? nz(tc->app_id) : NULL)) ||
              med_rows_put(o, "placement_id", nz(h->placement) ? h->placement : (tc ? nz(tc->placement_id) : NULL)) ||
              med_rows_put(o, "stage", a->stage) || put_keys(o, r) ||
              med_rows_put(o, "idempotency_key", it->dedup_key) ||
              med_rows_put(o, "append_token", it->token) ||
              med_rows_put(o, "payload_digest", it->digest) ||
              med_rows_put(o, "payload_pb", payload_pb_hex);
    if (!bad) {
        bad = json_object_set_new(o, "payload", payload) != 0;
        payload = NULL;
    }
    json_decref(payload);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}
