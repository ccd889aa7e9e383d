/* med.h.publish.v1 handler: the H.4 pipeline, steps 1..11 in order. The
 * edge forwards the raw JSON body (body_json) with the auth context it
 * built from the token and the tenant; the reply carries the HTTP status
 * and the exact response body. Rules live in h_publish_rules.c, SQL in
 * h_store.c, the outbox relay in h_publish_outbox.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h_publish.h"
#include "h_service.h"
#include "h_store.h"
#include "med/dlq.h"
#include "med/ids.h"
#include "med/jcs.h"
#include "med/log.h"
#include "med/metrics.h"
#include "med/names.h"
#include "med/reason.h"
#include "mediation/v1/config.pb-c.h"

typedef Mediation__V1__ConfigPublishRequest pub_msg;

typedef struct pub_run {
    h_ctx *ctx;
    const pub_msg *msg;
    h_pub_req r;
    int parsed;
    h_pub_auth auth;
    const char *tenant, *unit_tenant;
    char unit[512];
    char idem[65], hash[65];
    char op_id[64];
    int rerun;
    /* outcome */
    char state[16];
    char code[64];
    med_err err;        /* message/field of a failure */
    char *dup_body;     /* stored body of a duplicate (malloc'd) */
    int dup_status;
} pub_run;

/* ---- the reply ---- */

static void set_outcome(pub_run *p, const char *state, const char *code)
{
    snprintf(p->state, sizeof p->state, "%s", state);
    snprintf(p->code, sizeof p->code, "%s", code);
}

static const char *sval(const char *s) { return s ? s : ""; }

static int outcome_status(const pub_run *p)
{
    return p->dup_body ? p->dup_status : h_pub_http_status(p->code);
}

static json_t *body_json(const pub_run *p)
{
    char at[32];
    med_format_utc_ms(med_now_unix_ms(), at, sizeof at);
    const h_pub_req *r = &p->r;
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:b,s:s,s:s,s:s}",
        "requestId", sval(r->request_id), "changeSetId", sval(r->change_set_id),
        "actionType", sval(r->action_type), "publishState", p->state,
        "ackReasonCode", p->code, "retryable", h_pub_code_retryable(p->code),
        "publishOperationId", p->op_id[0] ? p->op_id : "NA", "responseAt", at,
        "publishContractVersion", r->contract_version ? r->contract_version : "h_publish_v1");
    if (o && outcome_status(p) >= 400)
        json_object_set_new(o, "error", json_pack("{s:s,s:s,s:o}", "code", p->code, "message",
            p->err.message[0] ? p->err.message : p->code, "field",
            p->err.field[0] ? json_string(p->err.field) : json_null()));
    return o;
}

static char *body_text(const pub_run *p)
{
    json_t *o = body_json(p);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

/* What the operation row keeps for idempotent repeats. */
static char *stored_response(const pub_run *p)
{
    json_t *o = json_pack("{s:i,s:o}", "httpStatus", outcome_status(p), "body", body_json(p));
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

/* The stored reply of the first request, re-stamped as a reused one. */
static char *duplicate_text(const pub_run *p)
{
    json_t *o = json_loads(p->dup_body, 0, NULL);
    if (!o) return NULL;
    char at[32];
    med_format_utc_ms(med_now_unix_ms(), at, sizeof at);
    json_object_set_new(o, "ackReasonCode", json_string(MED_R_H_PUBLISH_DUPLICATE_REUSED_OPERATION));
    json_object_set_new(o, "retryable", json_false());
    json_object_set_new(o, "responseAt", json_string(at));
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

static med_rc encode_reply(pub_run *p, uint8_t **out, size_t *out_len)
{
    Mediation__V1__ConfigPublishReply rep = MEDIATION__V1__CONFIG_PUBLISH_REPLY__INIT;
    Mediation__V1__ErrorBodyLite eb = MEDIATION__V1__ERROR_BODY_LITE__INIT;
    char *text = p->dup_body ? duplicate_text(p) : body_text(p);
    if (!text) return MED_ERR_NOMEM;
    int dup = p->dup_body != NULL;
    rep.trace = p->msg ? p->msg->trace : NULL;
    rep.http_status = outcome_status(p);
    rep.request_id = (char *)sval(p->r.request_id);
    rep.change_set_id = (char *)sval(p->r.change_set_id);
    rep.action_type = (char *)sval(p->r.action_type);
    rep.publish_state = p->state;
    rep.ack_reason_code = dup ? (char *)MED_R_H_PUBLISH_DUPLICATE_REUSED_OPERATION : p->code;
    rep.retryable = !dup && h_pub_code_retryable(p->code);
    rep.publish_operation_id = p->op_id;
    rep.response_at_unix_ms = med_now_unix_ms();
    rep.publish_contract_version = (char *)sval(p->r.contract_version);
    rep.retry_after_sec = rep.retryable ? 1 : 0;
    rep.body_json = text;
    if (rep.http_status >= 400 && !dup) {
        eb.code = p->code;
        eb.message = p->err.message[0] ? p->err.message : p->code;
        if (p->err.field[0]) {
            eb.field_opt_case = MEDIATION__V1__ERROR_BODY_LITE__FIELD_OPT_FIELD;
            eb.field = p->err.field;
        }
        rep.error = &eb;
    }
    *out_len = mediation__v1__config_publish_reply__get_packed_size(&rep);
    *out = malloc(*out_len ? *out_len : 1);
    if (*out) mediation__v1__config_publish_reply__pack(&rep, *out);
    free(text);
    return *out ? MED_OK : MED_ERR_NOMEM;
}

/* ---- failures ---- */

/* A failure before any operation row (steps 1-6). */
static void reject(pub_run *p, const med_err *e)
{
    p->err = *e;
    set_outcome(p, "failed", e->code[0] ? e->code : MED_R_H_PUBLISH_VALIDATION_FAILED);
}

/* 05 section 3: every publish, rollback and denial leaves an audit row
 * (successes are written inside the commit transaction). */
static void audit(pub_run *p, const char *kind, const char *outcome, const char *tenant)
{
    h_audit a = {.kind = kind, .actor_id = sval(p->auth.actor_id),
                 .actor_role = sval(p->auth.authority), .action = p->r.action_type,
                 .resource_id = p->unit, .outcome = outcome, .reason_code = p->code,
                 .app_id = p->r.app_id, .placement_id = p->r.placement_id,
                 .request_id = p->r.request_id};
    med_err e;
    med_err_clear(&e);
    if (h_store_audit(p->ctx->pg_publish, tenant, &a, &e) != MED_OK)
        MED_LOGW(NULL, "publish audit (%s) failed: %s", kind, e.message);
}

/* A failure of an operation that exists: its row ends failed with the reply
 * stored, so a repeat answers the same. */
static void fail_op(pub_run *p, const char *from, const med_err *e)
{
    reject(p, e);
    char *resp = stored_response(p);
    med_err serr;
    med_err_clear(&serr);
    if (!resp || h_store_op_state(p->ctx->pg_publish, p->unit_tenant, p->op_id, from, "failed",
                                  p->code, h_pub_code_retryable(p->code), resp, &serr) != MED_OK)
        MED_LOGW(NULL, "publish %s: storing failed state: %s", p->op_id, serr.message);
    free(resp);
    audit(p, p->r.action_type, "failed", p->unit_tenant);
}

/* ---- steps ---- */

static void fill_auth(pub_run *p)
{
    const Mediation__V1__AuthContextLite *a = p->msg->auth_context_lite;
    memset(&p->auth, 0, sizeof p->auth);
    if (!a) return;
    p->auth.actor_id = a->actor_id;
    p->auth.authority = a->role;
    p->auth.principal_role = a->principal_role;
    p->auth.issued_ms = a->issued_at_unix_ms;
    p->auth.expires_ms = a->expires_at_unix_ms;
    if (a->scope_bindings) {
        p->auth.envs = a->scope_bindings->environments;
        p->auth.n_envs = a->scope_bindings->n_environments;
        p->auth.apps = a->scope_bindings->app_ids;
        p->auth.n_apps = a->scope_bindings->n_app_ids;
        p->auth.placements = a->scope_bindings->placement_ids;
        p->auth.n_placements = a->scope_bindings->n_placement_ids;
    }
}

static int step1_parse(pub_run *p)
{
    med_err e;
    med_err_clear(&e);
    p->tenant = p->msg->tenant_id && p->msg->tenant_id[0] ? p->msg->tenant_id : NULL;
    if (!p->tenant || p->tenant[0] == '_') {
        med_err_set(&e, MED_ERR_INVALID, MED_R_H_PUBLISH_VALIDATION_FAILED, NULL, "no tenant");
        reject(p, &e);
        return -1;
    }
    const char *body = p->msg->body_json ? p->msg->body_json : "";
    if (h_pub_parse(body, strlen(body), &p->r, &e) != MED_OK) {
        reject(p, &e);
        return -1;
    }
    p->parsed = 1;
    p->unit_tenant = h_pub_unit_tenant(&p->r, p->tenant);
    h_pub_release_unit(&p->r, p->unit, sizeof p->unit);
    fill_auth(p);
    if (h_pub_idem_key(&p->r, p->idem, &e) != MED_OK ||
        h_pub_payload_hash(&p->r, p->hash, &e) != MED_OK) {
        reject(p, &e);
        return -1;
    }
    return 0;
}

static int infra_failure(pub_run *p, const med_err *e)
{
    med_err x = *e;
    snprintf(x.code, sizeof x.code, "%s", MED_R_H_PUBLISH_ATOMIC_COMMIT_FAILED);
    reject(p, &x);
    return -1;
}

/* Step 2: 0 = go on (maybe as a re-run), 1 = answered. */
static int step2_dedup(pub_run *p)
{
    h_idem_row row;
    med_err e;
    med_err_clear(&e);
    if (h_store_idem_find(p->ctx->pg_publish, p->unit_tenant, p->idem, &row, &e) != MED_OK) {
        infra_failure(p, &e);
        return 1;
    }
    if (!row.found) return 0;
    if (strcmp(row.fingerprint, p->hash) != 0) {
        med_err_set(&e, MED_ERR_CONFLICT, MED_R_H_PUBLISH_IDEMPOTENCY_PAYLOAD_CONFLICT,
                    NULL, "idempotency key reused with another payload");
        reject(p, &e);
        return 1;
    }
    snprintf(p->op_id, sizeof p->op_id, "%s", row.op_id);
    h_op_row op = {0};
    if (h_store_op_load(p->ctx->pg_publish, p->unit_tenant, p->op_id, &op, &e) != MED_OK) {
        infra_failure(p, &e);
        return 1;
    }
    if (op.found && strcmp(op.state, "failed") == 0 && op.retryable) {
        p->rerun = 1;
        h_op_row_free(&op);
        return 0;
    }
    set_outcome(p, op.found ? op.state : "draft", MED_R_H_PUBLISH_DUPLICATE_REUSED_OPERATION);
    json_t *stored = op.response ? json_loads(op.response, 0, NULL) : NULL;
    json_t *body = json_object_get(stored, "body");
    p->dup_status = (int)json_integer_value(json_object_get(stored, "httpStatus"));
    p->dup_body = body ? json_dumps(body, JSON_COMPACT) : NULL;
    if (!p->dup_body) p->dup_status = 200;   /* still in flight: answer its state */
    json_decref(stored);
    h_op_row_free(&op);
    return 1;
}

static int steps3to6_auth(pub_run *p)
{
    med_err e;
    med_err_clear(&e);
    if (h_pub_check_operator(&p->r, &p->auth, &e) == MED_OK &&
        h_pub_check_auth_window(&p->r, &p->auth, med_now_unix_ms(), &e) == MED_OK &&
        h_pub_check_role(&p->r, &p->auth, &e) == MED_OK &&
        h_pub_check_scope(&p->r, &p->auth, &e) == MED_OK)
        return 0;
    if (!p->rerun) p->op_id[0] = '\0';
    reject(p, &e);
    audit(p, "permission_denied", "denied", p->tenant);
    return -1;
}

static int begin_draft(pub_run *p)
{
    med_err e;
    med_err_clear(&e);
    if (med_id_new(p->op_id, sizeof p->op_id, "pubop_") != 0) {
        med_err_set(&e, MED_ERR_INTERNAL, MED_R_H_PUBLISH_ATOMIC_COMMIT_FAILED, NULL, "ids");
        return infra_failure(p, &e);
    }
    h_op_new n = {.r = &p->r, .op_id = p->op_id, .idem_key = p->idem,
                  .payload_hash = p->hash, .actor_id = p->auth.actor_id,
                  .actor_role = p->auth.authority,
                  .trace_key = p->msg->trace ? p->msg->trace->trace_key : NULL};
    med_rc rc = h_store_op_begin(p->ctx->pg_publish, p->unit_tenant, &n, &e);
    if (rc == MED_OK) return 0;
    p->op_id[0] = '\0';
    if (rc == MED_ERR_CONFLICT) {
        reject(p, &e);   /* a concurrent request with the same key won the claim */
        return -1;
    }
    return infra_failure(p, &e);
}

static int step7_validate(pub_run *p)
{
    med_err e;
    med_err_clear(&e);
    if (p->rerun) {
        if (h_store_op_state(p->ctx->pg_publish, p->unit_tenant, p->op_id, "failed", "validated",
                             "", 0, NULL, &e) == MED_OK)
            return 0;
        return infra_failure(p, &e);
    }
    med_rc rc = h_pub_check_change_set(&p->r, &e);
    if (rc == MED_OK) rc = h_store_validate(p->ctx->pg_publish, p->unit_tenant, &p->r, p->op_id, &e);
    if (rc == MED_OK) return 0;
    if (rc != MED_ERR_INVALID) return infra_failure(p, &e);
    fail_op(p, "draft", &e);
    return -1;
}

static int step8_base(pub_run *p)
{
    h_live live;
    med_err e;
    med_err_clear(&e);
    if (h_store_live(p->ctx->pg_publish, p->unit_tenant, p->unit, &live, &e) != MED_OK)
        return infra_failure(p, &e);
    if (h_versions_equal(&live.v, &p->r.base)) return 0;
    med_err_set(&e, MED_ERR_CONFLICT, MED_R_H_PUBLISH_BASE_VERSION_CONFLICT,
                "baseVersionSnapshot", "live is %s/%s/%s", live.v.schema, live.v.routing,
                live.v.placement);
    fail_op(p, "validated", &e);
    return -1;
}

/* Step 9 (rollback) or the changeSet's layer (publish): the new layer. */
static int step9_layer(pub_run *p, char **layer)
{
    med_err e;
    med_err_clear(&e);
    *layer = NULL;
    if (h_pub_is_rollback(&p->r)) {
        med_rc rc = h_store_find_target(p->ctx->pg_publish, p->unit_tenant, p->unit, &p->r.target,
                                        layer, &e);
        if (rc == MED_OK) return 0;
        if (rc != MED_ERR_NOT_FOUND) return infra_failure(p, &e);
        fail_op(p, "validated", &e);
        return -1;
    }
    size_t len;
    if (med_jcs_serialize(json_object_get(p->r.change_set, "layer"), layer, &len, &e) !=
        MED_OK)
        return infra_failure(p, &e);
    return 0;
}

static int step10_dry_run(pub_run *p)
{
    if (!p->r.dry_run) return 0;
    set_outcome(p, "validated", MED_R_H_PUBLISH_DRY_RUN_VALIDATED);
    char *resp = stored_response(p);
    med_err e;
    med_err_clear(&e);
    /* validated -> validated only stores the answer: a dry run ends there */
    if (!resp || h_store_op_state(p->ctx->pg_publish, p->unit_tenant, p->op_id, "validated",
                                  "validated", p->code, 0, resp, &e) != MED_OK)
        MED_LOGW(NULL, "publish %s: storing dry-run answer: %s", p->op_id, e.message);
    free(resp);
    return 1;
}

/* ---- step 11 ---- */

static void fill_lines(Mediation__V1__ConfigLineVersionsLite *l, const h_versions *v)
{
    l->schema_version = (char *)v->schema;
    l->routing_strategy_version = (char *)v->routing;
    l->placement_config_version = (char *)v->placement;
}

static size_t changed_lines(const h_versions *a, const h_versions *b, char **out)
{
    size_t n = 0;
    if (strcmp(a->schema, b->schema) != 0) out[n++] = "schema";
    if (strcmp(a->routing, b->routing) != 0) out[n++] = "routing_strategy";
    if (strcmp(a->placement, b->placement) != 0) out[n++] = "placement_config";
    return n;
}

static size_t document_refs(const pub_run *p, char refs[][2 * H_PUB_VER_MAX], char **ptrs,
                            size_t cap)
{
    const json_t *docs = json_object_get(p->r.change_set, "documents");
    size_t i, n = 0;
    const json_t *d;
    json_array_foreach(docs, i, d) {
        if (n == cap) break;
        snprintf(refs[n], 2 * H_PUB_VER_MAX, "%s:%s",
                 json_string_value(json_object_get(d, "kind")),
                 json_string_value(json_object_get(d, "version")));
        ptrs[n] = refs[n];
        n++;
    }
    return n;
}

static med_rc build_changed(void *ud, const h_versions *prev, const char *reverted,
                            int64_t committed_ms, uint8_t **buf, size_t *len)
{
    pub_run *p = ud;
    Mediation__V1__ConfigChanged m = MEDIATION__V1__CONFIG_CHANGED__INIT;
    Mediation__V1__ConfigLineVersionsLite pv = MEDIATION__V1__CONFIG_LINE_VERSIONS_LITE__INIT;
    Mediation__V1__ConfigLineVersionsLite nv = MEDIATION__V1__CONFIG_LINE_VERSIONS_LITE__INIT;
    char *lines[3];
    static char refs[32][2 * H_PUB_VER_MAX];   /* handler thread only */
    char *ref_ptrs[32];
    int rb = h_pub_is_rollback(&p->r);
    fill_lines(&pv, prev);
    fill_lines(&nv, &p->r.target);
    m.trace = p->msg->trace;
    m.publish_operation_id = p->op_id;
    m.environment = (char *)p->r.environment;
    m.target_scope = (char *)p->r.target_scope;
    m.target_key = (char *)p->r.target_key;
    m.release_unit = p->unit;
    m.action_type = (char *)p->r.action_type;
    m.publish_state = rb ? "rolled_back" : "published";
    m.previous_versions = &pv;
    m.new_versions = &nv;
    m.n_changed_lines = changed_lines(prev, &p->r.target, lines);
    m.changed_lines = lines;
    m.n_document_refs = rb ? 0 : document_refs(p, refs, ref_ptrs, 32);
    m.document_refs = ref_ptrs;
    m.change_set_id = (char *)p->r.change_set_id;
    m.operator_id = (char *)p->r.operator_id;
    m.committed_at_unix_ms = committed_ms;
    m.app_id = p->r.app_id;
    m.placement_id = p->r.placement_id;
    m.reverted_operation_id = rb ? (char *)reverted : "";
    *len = mediation__v1__config_changed__get_packed_size(&m);
    *buf = malloc(*len ? *len : 1);
    if (!*buf) return MED_ERR_NOMEM;
    mediation__v1__config_changed__pack(&m, *buf);
    return MED_OK;
}

static void park_dead_letter(pub_run *p, const med_err *e)
{
    uint8_t *raw = NULL;
    size_t len = mediation__v1__config_publish_request__get_packed_size(p->msg);
    natsMsg *msg = NULL;
    med_err de;
    med_err_clear(&de);
    raw = malloc(len ? len : 1);
    if (raw) mediation__v1__config_publish_request__pack(p->msg, raw);
    if (!raw || med_js_msg_new(MED_SUBJ_H_PUBLISH, raw, (int)len, NULL, &msg, &de) != MED_OK ||
        med_dlq_publish(p->ctx->js, MED_STAGE_H, msg, NULL,
                        MED_R_H_PUBLISH_COMPENSATION_FAILED, e->message, NULL, &de) != MED_OK)
        MED_LOGE(NULL, "publish %s: parking on the DLQ failed: %s", p->op_id, de.message);
    if (msg) natsMsg_Destroy(msg);
    free(raw);
}

/* The commit's outcome is unknown: put the base back in one transaction. */
static void compensate(pub_run *p, const med_err *cause)
{
    med_err e = *cause;
    snprintf(e.code, sizeof e.code, "%s", MED_R_H_PUBLISH_COMPENSATION_TRIGGERED);
    reject(p, &e);
    char *resp = stored_response(p);
    med_err ce;
    med_err_clear(&ce);
    if (resp && h_store_compensate(p->ctx->pg_publish, p->unit_tenant, &p->r, p->op_id, p->code,
                                   resp, &ce) == MED_OK) {
        free(resp);
        audit(p, p->r.action_type, "compensated", p->unit_tenant);
        return;
    }
    free(resp);
    snprintf(ce.code, sizeof ce.code, "%s", MED_R_H_PUBLISH_COMPENSATION_FAILED);
    reject(p, &ce);
    park_dead_letter(p, &ce);
}

/* H_PUBLISH_FAULT (honoured only with FAULT_INJECTION_ENABLED) for the
 * tests: "commit_lost" treats a successful commit as lost (compensation),
 * "commit_delay" waits 300 ms before the commit so concurrent publishes
 * meet at the unit lock. */
static int fault_on(const pub_run *p, const char *name)
{
    const char *f = getenv("H_PUBLISH_FAULT");
    return p->ctx->cfg && med_config_bool(p->ctx->cfg, "FAULT_INJECTION_ENABLED") && f &&
           strstr(f, name) != NULL;
}

static void step11_commit(pub_run *p, const char *layer)
{
    int rb = h_pub_is_rollback(&p->r);
    set_outcome(p, rb ? "rolled_back" : "published",
                rb ? MED_R_H_PUBLISH_ROLLED_BACK : MED_R_H_PUBLISH_PUBLISHED);
    char *resp = stored_response(p);
    h_audit a = {.kind = p->r.action_type, .actor_id = sval(p->auth.actor_id),
                 .actor_role = sval(p->auth.authority), .action = p->r.action_type,
                 .resource_id = p->unit, .outcome = p->state, .reason_code = p->code,
                 .app_id = p->r.app_id, .placement_id = p->r.placement_id,
                 .request_id = p->r.request_id};
    h_commit c = {.r = &p->r, .op_id = p->op_id, .layer_json = layer, .response_json = resp,
                  .final_code = p->code, .build = build_changed, .build_ud = p, .audit = &a};
    med_err e;
    med_err_clear(&e);
    if (fault_on(p, "commit_delay")) usleep(300 * 1000);
    med_rc rc = resp ? h_store_commit(p->ctx->pg_publish, p->unit_tenant, &c, &e) : MED_ERR_NOMEM;
    free(resp);
    if (rc == MED_OK && fault_on(p, "commit_lost")) {
        med_err_set(&e, MED_ERR_UNAVAILABLE, MED_R_INFRA_PG_UNAVAILABLE, NULL, "injected");
        rc = MED_ERR_UNAVAILABLE;
    }
    if (rc == MED_OK) {
        med_err oe;
        med_err_clear(&oe);
        if (h_outbox_send_one(p->ctx->pg_publish, p->ctx->js, p->unit_tenant, p->op_id, &oe) !=
            MED_OK)   /* the relay loop retries it */
            MED_LOGW(NULL, "publish %s: outbox send deferred: %s", p->op_id, oe.message);
        return;
    }
    if (rc == MED_ERR_CONFLICT) {
        MED_LOGI(NULL, "publish %s: base moved under the commit lock", p->op_id);
        fail_op(p, "validated", &e);
    } else if (rc == MED_ERR_UNAVAILABLE || rc == MED_ERR_IO || rc == MED_ERR_TIMEOUT) {
        compensate(p, &e);
    } else {
        snprintf(e.code, sizeof e.code, "%s", MED_R_H_PUBLISH_ATOMIC_COMMIT_FAILED);
        fail_op(p, "validated", &e);
    }
}

static void run_pipeline(pub_run *p)
{
    if (step1_parse(p) != 0 || step2_dedup(p) != 0 || steps3to6_auth(p) != 0) return;
    if (!p->rerun && begin_draft(p) != 0) return;
    if (step7_validate(p) != 0 || step8_base(p) != 0) return;
    char *layer = NULL;
    if (step9_layer(p, &layer) != 0) return;
    if (step10_dry_run(p) == 0) step11_commit(p, layer);
    free(layer);
}

/* med_config_publish_total{action,result} (observability/metrics.md);
 * duplicates and dry runs finish nothing and are not counted. */
static void count_outcome(const pub_run *p)
{
    if (p->dup_body || strcmp(p->state, "validated") == 0 || strcmp(p->state, "draft") == 0)
        return;
    int ok = strcmp(p->state, "published") == 0 || strcmp(p->state, "rolled_back") == 0;
    char labels[96];
    snprintf(labels, sizeof labels, "action=\"%s\",result=\"%s\"",
             h_pub_is_rollback(&p->r) ? "rollback" : "publish", ok ? "success" : "failed");
    med_counter *c = med_counter_get("med_config_publish_total",
                                     "Publish operations finished by H", labels);
    if (c) med_counter_inc(c);
}

med_rc h_publish_handle(h_ctx *ctx, const uint8_t *req, size_t len, uint8_t **reply,
                        size_t *reply_len)
{
    pub_run *p = calloc(1, sizeof *p);
    if (!p) return MED_ERR_NOMEM;
    p->ctx = ctx;
    p->msg = mediation__v1__config_publish_request__unpack(NULL, len, req);
    if (!p->msg) {
        med_err e;
        med_err_set(&e, MED_ERR_INVALID, MED_R_H_PUBLISH_VALIDATION_FAILED, NULL,
                    "undecodable ConfigPublishRequest");
        reject(p, &e);
    } else {
        run_pipeline(p);
    }
    med_rc rc = encode_reply(p, reply, reply_len);
    count_outcome(p);
    MED_LOGI(NULL, "publish %s unit=%s state=%s code=%s", p->op_id, p->unit, p->state, p->code);
    if (p->msg)
        mediation__v1__config_publish_request__free_unpacked((pub_msg *)p->msg, NULL);
    h_pub_req_free(&p->r);
    free(p->dup_body);
    free(p);
    return rc;
}
