/* PostgreSQL edge of the H.4 publish pipeline (see h_store.h). Statements
 * are parameterised; every body runs inside med_pg_tx so row-level
 * security sees the owning tenant. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h_store.h"
#include "med/ids.h"
#include "med/jcs.h"
#include "med/names.h"
#include "med/reason.h"

/* ---- helpers ---- */

static PGresult *run(PGconn *conn, const char *sql, int n, const char *const *vals,
                     med_err *err)
{
    PGresult *res = PQexecParams(conn, sql, n, NULL, vals, NULL, NULL, 0);
    if (med_pg_result_err(res, conn, err) != MED_OK) {
        PQclear(res);
        return NULL;
    }
    return res;
}

static med_rc run_void(PGconn *conn, const char *sql, int n, const char *const *vals,
                       med_err *err)
{
    PGresult *res = run(conn, sql, n, vals, err);
    if (!res) return err->rc;
    PQclear(res);
    return MED_OK;
}

static void copy_col(const PGresult *res, int row, int col, char *out, size_t cap)
{
    snprintf(out, cap, "%s", PQgetisnull(res, row, col) ? "" : PQgetvalue(res, row, col));
}

static char *versions_text(const h_versions *v)
{
    json_t *o = json_pack("{s:s,s:s,s:s}", "schemaVersion", v->schema, "routingStrategyVersion",
                          v->routing, "placementConfigVersion", v->placement);
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    return s;
}

static med_rc nomem(med_err *err)
{
    return med_err_set(err, MED_ERR_NOMEM, MED_R_H_PUBLISH_ATOMIC_COMMIT_FAILED, NULL, "oom");
}

void h_op_row_free(h_op_row *o)
{
    if (!o) return;
    free(o->response);
    o->response = NULL;
}

/* ---- idempotency lookup ---- */

typedef struct idem_q { const char *key; h_idem_row *out; } idem_q;

static med_rc idem_find_body(med_pg *pg, PGconn *conn, void *ud, med_err *err)
{
    (void)pg;
    idem_q *q = ud;
    const char *v[1] = {q->key};
    PGresult *res = run(conn,
        "SELECT fingerprint, owner_ref FROM idempotency_keys WHERE tenant_id = "
        "current_setting('app.tenant_id', true) AND scope = '" H_PUB_SCOPE "' AND key = $1 "
        "AND (expires_at IS NULL OR expires_at > now())", 1, v, err);
    if (!res) return err->rc;
    memset(q->out, 0, sizeof *q->out);
    if (PQntuples(res) == 1) {
        q->out->found = 1;
        copy_col(res, 0, 0, q->out->fingerprint, sizeof q->out->fingerprint);
        copy_col(res, 0, 1, q->out->op_id, sizeof q->out->op_id);
    }
    PQclear(res);
    return MED_OK;
}

med_rc h_store_idem_find(med_pg *pg, const char *tenant, const char *key, h_idem_row *out,
                         med_err *err)
{
    idem_q q = {key, out};
    return med_pg_tx(pg, tenant, 0, idem_find_body, &q, err);
}

/* ---- operation rows ---- */

typedef struct op_q { const char *op_id; h_op_row *out; } op_q;

static med_rc op_load_body(med_pg *pg, PGconn *conn, void *ud, med_err *err)
{
    (void)pg;
    op_q *q = ud;
    const char *v[1] = {q->op_id};
    PGresult *res = run(conn,
        "SELECT publish_state, coalesce(ack_reason_code, ''), retryable, response::text "
        "FROM config_publish_operations WHERE publish_operation_id = $1", 1, v, err);
    if (!res) return err->rc;
    h_op_row_free(q->out);
    memset(q->out, 0, sizeof *q->out);
    if (PQntuples(res) == 1) {
        q->out->found = 1;
        copy_col(res, 0, 0, q->out->state, sizeof q->out->state);
        copy_col(res, 0, 1, q->out->code, sizeof q->out->code);
        q->out->retryable = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
        if (!PQgetisnull(res, 0, 3) && !(q->out->response = strdup(PQgetvalue(res, 0, 3)))) {
            PQclear(res);
            return nomem(err);
        }
    }
    PQclear(res);
    return MED_OK;
}

med_rc h_store_op_load(med_pg *pg, const char *tenant, const char *op_id, h_op_row *out,
                       med_err *err)
{
    op_q q = {op_id, out};
    return med_pg_tx(pg, tenant, 0, op_load_body, &q, err);
}

static med_rc claim_idem(PGconn *conn, const h_op_new *n, med_err *err)
{
    const char *v[3] = {n->idem_key, n->payload_hash, n->op_id};
    PGresult *res = run(conn,
        "INSERT INTO idempotency_keys (tenant_id, scope, key, state, fingerprint, owner_ref, "
        "expires_at) VALUES (current_setting('app.tenant_id', true), '" H_PUB_SCOPE "', $1, "
        "'in_progress', $2, $3, now() + interval '86400 seconds') "
        "ON CONFLICT (tenant_id, scope, key) DO UPDATE SET state = 'in_progress', "
        "fingerprint = EXCLUDED.fingerprint, owner_ref = EXCLUDED.owner_ref, result = NULL, "
        "expires_at = EXCLUDED.expires_at, updated_at = now() "
        "WHERE idempotency_keys.expires_at < now() RETURNING 1", 3, v, err);
    if (!res) return err->rc;
    int won = PQntuples(res) == 1;
    PQclear(res);
    if (!won)
        return med_err_set(err, MED_ERR_CONFLICT, MED_R_H_PUBLISH_IDEMPOTENCY_PAYLOAD_CONFLICT,
                           NULL, "idempotency key held by another request");
    return MED_OK;
}

static med_rc insert_op(PGconn *conn, const h_op_new *n, med_err *err)
{
    const h_pub_req *r = n->r;
    int rb = h_pub_is_rollback(r);
    char *base = versions_text(&r->base), *target = versions_text(&r->target);
    char *cs = r->change_set ? json_dumps(r->change_set, JSON_COMPACT) : NULL;
    char *ap = r->approval ? json_dumps(r->approval, JSON_COMPACT) : NULL;
    if (!base || !target || (r->change_set && !cs) || (r->approval && !ap)) {
        free(base); free(target); free(cs); free(ap);
        return nomem(err);
    }
    const char *v[20] = {n->op_id, r->request_id, r->operator_id, n->actor_id, n->actor_role,
        r->environment, r->action_type, r->target_scope, r->target_key, r->change_set_id,
        n->idem_key, n->payload_hash, r->dry_run ? "true" : "false", base,
        rb ? NULL : target, rb ? target : NULL, cs, ap, r->reason, r->publish_at};
    const char *v2[21];
    memcpy(v2, v, sizeof v);
    v2[20] = n->trace_key;
    med_rc rc = run_void(conn,
        "INSERT INTO config_publish_operations (publish_operation_id, tenant_id, request_id, "
        "operator_id, actor_id, actor_role, environment, action_type, target_scope, target_key, "
        "change_set_id, idempotency_key, payload_hash, publish_state, dry_run, "
        "base_version_snapshot, target_version_snapshot, rollback_to_version_snapshot, "
        "change_set, approval_context, reason, publish_at, trace_key, state_history) VALUES "
        "($1, current_setting('app.tenant_id', true), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, "
        "$12, 'draft', $13::boolean, $14::jsonb, $15::jsonb, $16::jsonb, $17::jsonb, $18::jsonb, "
        "$19, $20::timestamptz, $21, jsonb_build_array(jsonb_build_object('to', 'draft', "
        "'at', now())))", 21, v2, err);
    free(base); free(target); free(cs); free(ap);
    return rc;
}

static med_rc op_begin_body(med_pg *pg, PGconn *conn, void *ud, med_err *err)
{
    (void)pg;
    const h_op_new *n = ud;
    med_rc rc = claim_idem(conn, n, err);
    return rc != MED_OK ? rc : insert_op(conn, n, err);
}

med_rc h_store_op_begin(med_pg *pg, const char *tenant, const h_op_new *n, med_err *err)
{
    return med_pg_tx(pg, tenant, 0, op_begin_body, (void *)n, err);
}

/* One transition on the row, recorded in state_history; the stored
 * response (if any) also finishes the idempotency row. */
static med_rc state_update(PGconn *conn, const char *op_id, const char *from, const char *to,
                           const char *code, int retryable, const char *response, med_err *err)
{
    if (strcmp(from, to) != 0 && !h_pub_transition_ok(from, to))
        return med_err_set(err, MED_ERR_INTERNAL, MED_R_H_PUBLISH_ATOMIC_COMMIT_FAILED, NULL,
                           "illegal transition %s -> %s", from, to);
    const char *v[6] = {op_id, from, to, code, retryable ? "true" : "false", response};
    PGresult *res = run(conn,
        "UPDATE config_publish_operations SET publish_state = $3, ack_reason_code = $4, "
        "retryable = $5::boolean, response = coalesce($6::jsonb, response), updated_at = now(), "
        "state_history = state_history || jsonb_build_array(jsonb_build_object('from', $2::text, "
        "'to', $3::text, 'code', $4::text, 'at', now())) "
        "WHERE publish_operation_id = $1 AND publish_state = $2 RETURNING idempotency_key",
        6, v, err);
    if (!res) return err->rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return med_err_set(err, MED_ERR_CONFLICT, MED_R_H_PUBLISH_BASE_VERSION_CONFLICT, NULL,
                           "operation %s is not in state %s", op_id, from);
    }
    char key[128];
    copy_col(res, 0, 0, key, sizeof key);
    PQclear(res);
    if (!response) return MED_OK;
    const char *v2[2] = {key, response};
    return run_void(conn,
        "UPDATE idempotency_keys SET state = 'done', result = $2::jsonb, updated_at = now() "
        "WHERE tenant_id = current_setting('app.tenant_id', true) AND scope = '" H_PUB_SCOPE
        "' AND key = $1", 2, v2, err);
}

typedef struct state_q {
    const char *op_id, *from, *to, *code, *response;
    int retryable;
} state_q;

static med_rc op_state_body(med_pg *pg, PGconn *conn, void *ud, med_err *err)
{
    (void)pg;
    const state_q *q = ud;
    return state_update(conn, q->op_id, q->from, q->to, q->code, q->retryable, q->response, err);
}

med_rc h_store_op_state(med_pg *pg, const char *tenant, const char *op_id, const char *from,
                        const char *to, const char *code, int retryable,
                        const char *response_json, med_err *err)
{
    state_q q = {op_id, from, to, code, response_json, retryable};
    return med_pg_tx(pg, tenant, 0, op_state_body, &q, err);
}

/* ---- step 7 ---- */

static med_rc store_document(PGconn *conn, const json_t *doc, size_t i, const char *op_id,
                             const char *actor, med_err *err)
{
    char *text = NULL;
    size_t len = 0;
    med_rc rc = med_jcs_serialize(json_object_get(doc, "body"), &text, &len, err);
    if (rc != MED_OK) return rc;
    char sha[65];
    med_sha256_hex(text, len, sha);
    const char *v[6] = {json_string_value(json_object_get(doc, "kind")),
                        json_string_value(json_object_get(doc, "version")), text, sha, op_id,
                        actor};
    PGresult *res = run(conn,
        "WITH ins AS (INSERT INTO config_documents (tenant_id, kind, version, body, sha256, "
        "publish_operation_id, created_by) VALUES (current_setting('app.tenant_id', true), $1, "
        "$2, $3::jsonb, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING sha256) "
        "SELECT sha256 FROM ins UNION ALL SELECT sha256 FROM config_documents WHERE tenant_id = "
        "current_setting('app.tenant_id', true) AND kind = $1 AND version = $2", 6, v, err);
    free(text);
    if (!res) return err->rc;
    int same = PQntuples(res) >= 1 && strcmp(PQgetvalue(res, 0, 0), sha) == 0;
    PQclear(res);
    if (!same) {
        char field[96];
        snprintf(field, sizeof field, "changeSet.documents[%zu]", i);
        return med_err_set(err, MED_ERR_INVALID, MED_R_H_PUBLISH_VALIDATION_FAILED, field,
                           "document %s:%s exists with another body",
                           v[0], v[1]);
    }
    return MED_OK;
}

static med_rc check_ref(PGconn *conn, const char *name, const char *ref, med_err *err)
{
    const char *v[1] = {ref};
    PGresult *res = run(conn, "SELECT 1 FROM config_documents WHERE ref = $1 LIMIT 1", 1, v, err);
    if (!res) return err->rc;
    int found = PQntuples(res) == 1;
    PQclear(res);
    if (found) return MED_OK;
    char field[96];
    snprintf(field, sizeof field, "changeSet.layer.%s", name);
    return med_err_set(err, MED_ERR_INVALID, MED_R_H_PUBLISH_VALIDATION_FAILED, field,
                       "reference %s names no stored or included document", ref);
}

static med_rc check_refs(PGconn *conn, const json_t *layer, med_err *err)
{
    const char *key;
    const json_t *val;
    json_object_foreach((json_t *)layer, key, val) {
        size_t kl = strlen(key);
        if (kl < 4 || strcmp(key + kl - 3, "Ref") != 0 || !json_is_string(val)) continue;
        med_rc rc = check_ref(conn, key, json_string_value(val), err);
        if (rc != MED_OK) return rc;
    }
    return MED_OK;
}

static med_rc check_unpublished(PGconn *conn, const h_pub_req *r, med_err *err)
{
    const char *v[4] = {r->environment, r->target_scope, r->target_key, r->change_set_id};
    PGresult *res = run(conn,
        "SELECT 1 FROM config_publish_operations WHERE environment = $1 AND target_scope = $2 "
        "AND target_key = $3 AND change_set_id = $4 AND action_type = 'publish' AND "
        "publish_state IN ('published', 'rollback', 'rolled_back') LIMIT 1", 4, v, err);
    if (!res) return err->rc;
    int dup = PQntuples(res) == 1;
    PQclear(res);
    if (dup)
        return med_err_set(err, MED_ERR_INVALID, MED_R_H_PUBLISH_VALIDATION_FAILED, "changeSetId",
                           "this changeSet was already published on the unit");
    return MED_OK;
}

typedef struct validate_q { const h_pub_req *r; const char *op_id; } validate_q;

static med_rc validate_body(med_pg *pg, PGconn *conn, void *ud, med_err *err)
{
    (void)pg;
    const validate_q *q = ud;
    const h_pub_req *r = q->r;
    med_rc rc = MED_OK;
    if (!h_pub_is_rollback(r)) {
        rc = check_unpublished(conn, r, err);
        const json_t *docs = json_object_get(r->change_set, "documents");
        size_t i;
        const json_t *d;
        json_array_foreach(docs, i, d) {
            if (rc != MED_OK) break;
            rc = store_document(conn, d, i, q->op_id, r->operator_id, err);
        }
        if (rc == MED_OK) rc = check_refs(conn, json_object_get(r->change_set, "layer"), err);
    }
    if (rc != MED_OK) return rc;
    return state_update(conn, q->op_id, "draft", "validated", "", 0, NULL, err);
}

med_rc h_store_validate(med_pg *pg, const char *tenant, const h_pub_req *r, const char *op_id,
                        med_err *err)
{
    validate_q q = {r, op_id};
    return med_pg_tx(pg, tenant, 0, validate_body, &q, err);
}

/* ---- live row, rollback target ---- */

static med_rc read_live(PGconn *conn, const char *unit, int for_update, h_live *out,
                        med_err *err)
{
    const char *v[1] = {unit};
    PGresult *res = run(conn, for_update
        ? "SELECT schema_version, routing_strategy_version, placement_config_version, "
          "publish_operation_id FROM config_snapshots WHERE tenant_id = "
          "current_setting('app.tenant_id', true) AND release_unit = $1 AND is_live FOR UPDATE"
        : "SELECT schema_version, routing_strategy_version, placement_config_version, "
          "publish_operation_id FROM config_snapshots WHERE tenant_id = "
          "current_setting('app.tenant_id', true) AND release_unit = $1 AND is_live",
        1, v, err);
    if (!res) return err->rc;
    memset(out, 0, sizeof *out);
    if (PQntuples(res) == 1) {
        out->found = 1;
        copy_col(res, 0, 0, out->v.schema, sizeof out->v.schema);
        copy_col(res, 0, 1, out->v.routing, sizeof out->v.routing);
        copy_col(res, 0, 2, out->v.placement, sizeof out->v.placement);
        copy_col(res, 0, 3, out->op_id, sizeof out->op_id);
    } else {
        snprintf(out->v.schema, sizeof out->v.schema, "NA");
        snprintf(out->v.routing, sizeof out->v.routing, "NA");
        snprintf(out->v.placement, sizeof out->v.placement, "NA");
    }
    PQclear(res);
    return MED_OK;
}

typedef struct live_q { const char *unit; h_live *out; } live_q;

static med_rc live_body(med_pg *pg, PGconn *conn, void *ud, med_err *err)
{
    (void)pg;
    live_q *q = ud;
    return read_live(conn, q->unit, 0, q->out, err);
}

med_rc h_store_live(med_pg *pg, const char *tenant, const char *unit, h_live *out,
                    med_err *err)
{
    live_q q = {unit, out};
    return med_pg_tx(pg, tenant, 0, live_body, &q, err);
}

typedef struct target_q { const char *unit; const h_versions *v; char **layer; } target_q;

static med_rc target_body(med_pg *pg, PGconn *conn, void *ud, med_err *err)
{
    (void)pg;
    target_q *q = ud;
    const char *v[4] = {q->unit, q->v->schema, q->v->routing, q->v->placement};
    PGresult *res = run(conn,
        "SELECT layer::text FROM config_snapshots WHERE tenant_id = "
        "current_setting('app.tenant_id', true) AND release_unit = $1 AND schema_version = $2 "
        "AND routing_strategy_version = $3 AND placement_config_version = $4 "
        "ORDER BY snapshot_seq DESC LIMIT 1", 4, v, err);
    if (!res) return err->rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return med_err_set(err, MED_ERR_NOT_FOUND, MED_R_H_PUBLISH_ROLLBACK_TARGET_NOT_FOUND,
                           "rollbackToVersionSnapshot", "the unit never had these versions");
    }
    *q->layer = strdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return *q->layer ? MED_OK : nomem(err);
}

med_rc h_store_find_target(med_pg *pg, const char *tenant, const char *unit,
                           const h_versions *v, char **layer_json, med_err *err)
{
    *layer_json = NULL;
    target_q q = {unit, v, layer_json};
    return med_pg_tx(pg, tenant, 0, target_body, &q, err);
}

/* ---- step 11: commit ---- */

static med_rc lock_unit(PGconn *conn, const char *unit, med_err *err)
{
    const char *v[1] = {unit};
    /* the advisory lock also serializes the first publish of a unit, when
     * there is no live row to lock yet */
    return run_void(conn,
        "SELECT pg_advisory_xact_lock(hashtextextended(current_setting('app.tenant_id', true) "
        "|| '|' || $1, 0))", 1, v, err);
}

static med_rc already_committed(PGconn *conn, const char *op_id, int *done, med_err *err)
{
    const char *v[1] = {op_id};
    PGresult *res = run(conn,
        "SELECT publish_state FROM config_publish_operations WHERE publish_operation_id = $1",
        1, v, err);
    if (!res) return err->rc;
    *done = PQntuples(res) == 1 && (strcmp(PQgetvalue(res, 0, 0), "published") == 0 ||
                                    strcmp(PQgetvalue(res, 0, 0), "rolled_back") == 0);
    PQclear(res);
    return MED_OK;
}

static med_rc insert_live(PGconn *conn, const h_commit *c, const char *unit, med_err *err)
{
    const h_pub_req *r = c->r;
    char sha[65];
    med_sha256_hex(c->layer_json, strlen(c->layer_json), sha);
    const char *v[14] = {unit, r->environment, r->target_scope, r->target_key,
        r->app_id[0] ? r->app_id : NULL, r->placement_id[0] ? r->placement_id : NULL,
        r->target.schema, r->target.routing, r->target.placement, c->layer_json, sha, c->op_id,
        r->change_set_id, r->action_type};
    const char *sql =
        "INSERT INTO config_snapshots (tenant_id, environment, target_scope, target_key, app_id, "
        "placement_id, snapshot_seq, schema_version, routing_strategy_version, "
        "placement_config_version, layer, layer_sha256, is_live, publish_operation_id, "
        "change_set_id, action_type) SELECT current_setting('app.tenant_id', true), $2, $3, $4, "
        "$5, $6, coalesce(max(snapshot_seq), 0) + 1, $7, $8, $9, $10::jsonb, $11, true, $12, $13, "
        "$14 FROM config_snapshots WHERE tenant_id = current_setting('app.tenant_id', true) "
        "AND release_unit = $1";
    med_rc rc = run_void(conn,
        "UPDATE config_snapshots SET is_live = false, superseded_at = now() WHERE tenant_id = "
        "current_setting('app.tenant_id', true) AND release_unit = $1 AND is_live", 1, v, err);
    return rc != MED_OK ? rc : run_void(conn, sql, 14, v, err);
}

static med_rc set_final_states(PGconn *conn, const h_commit *c, const h_live *live,
                               med_err *err)
{
    if (!h_pub_is_rollback(c->r))
        return state_update(conn, c->op_id, "validated", "published", c->final_code, 0,
                            c->response_json, err);
    med_rc rc = state_update(conn, c->op_id, "validated", "rollback", "", 0, NULL, err);
    if (rc == MED_OK)
        rc = state_update(conn, c->op_id, "rollback", "rolled_back", c->final_code, 0,
                          c->response_json, err);
    if (rc != MED_OK || !live->found) return rc;
    /* the reverted (live) operation; a rollback row being reverted is
     * already final and stays as it is */
    const char *v[1] = {live->op_id};
    PGresult *res = run(conn,
        "SELECT 1 FROM config_publish_operations WHERE publish_operation_id = $1 AND "
        "publish_state = 'published'", 1, v, err);
    if (!res) return err->rc;
    int revert = PQntuples(res) == 1;
    PQclear(res);
    if (!revert) return MED_OK;
    rc = state_update(conn, live->op_id, "published", "rollback", "", 0, NULL, err);
    return rc != MED_OK ? rc
        : state_update(conn, live->op_id, "rollback", "rolled_back", MED_R_H_PUBLISH_ROLLED_BACK,
                       0, NULL, err);
}

static med_rc write_outbox(PGconn *conn, const h_commit *c, const h_live *live, med_err *err)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    if (c->build(c->build_ud, &live->v, live->found ? live->op_id : "", med_now_unix_ms(), &buf,
                 &len) != MED_OK)
        return nomem(err);
    const char *v[2] = {c->op_id, (const char *)buf};
    int lens[2] = {0, (int)len};
    int fmts[2] = {0, 1};
    PGresult *res = PQexecParams(conn,
        "UPDATE config_publish_operations SET outbox_status = 'pending', outbox_payload = $2 "
        "WHERE publish_operation_id = $1", 2, NULL, v, lens, fmts, 0);
    free(buf);
    med_rc rc = med_pg_result_err(res, conn, err);
    PQclear(res);
    return rc;
}

static med_rc insert_audit(PGconn *conn, const h_audit *a, med_err *err)
{
    const char *v[12] = {a->app_id && a->app_id[0] ? a->app_id : NULL,
        a->placement_id && a->placement_id[0] ? a->placement_id : NULL, a->kind, a->actor_id,
        a->actor_role, a->action, a->resource_id, a->outcome, a->reason_code, a->request_id,
        a->payload_json ? a->payload_json : "{}", MED_STAGE_H};
    return run_void(conn,
        "INSERT INTO audit_records (tenant_id, app_id, placement_id, audit_kind, actor_id, "
        "actor_role, action, resource_type, resource_id, outcome, reason_code, request_key, "
        "payload, stage) VALUES (current_setting('app.tenant_id', true), $1, $2, $3, $4, $5, $6, "
        "'config_release_unit', $7, $8, $9, $10, $11::jsonb, $12)", 12, v, err);
}

static med_rc commit_body(med_pg *pg, PGconn *conn, void *ud, med_err *err)
{
    (void)pg;
    const h_commit *c = ud;
    char unit[512];
    h_pub_release_unit(c->r, unit, sizeof unit);
    int done = 0;
    med_rc rc = already_committed(conn, c->op_id, &done, err);
    if (rc != MED_OK || done) return rc;
    if ((rc = lock_unit(conn, unit, err)) != MED_OK) return rc;
    h_live live;
    if ((rc = read_live(conn, unit, 1, &live, err)) != MED_OK) return rc;
    if (!h_versions_equal(&live.v, &c->r->base))
        return med_err_set(err, MED_ERR_CONFLICT, MED_R_H_PUBLISH_BASE_VERSION_CONFLICT,
                           "baseVersionSnapshot", "live versions moved");
    if ((rc = insert_live(conn, c, unit, err)) != MED_OK) return rc;
    if ((rc = set_final_states(conn, c, &live, err)) != MED_OK) return rc;
    if ((rc = write_outbox(conn, c, &live, err)) != MED_OK) return rc;
    return insert_audit(conn, c->audit, err);
}

med_rc h_store_commit(med_pg *pg, const char *tenant, const h_commit *c, med_err *err)
{
    return med_pg_tx(pg, tenant, 0, commit_body, (void *)c, err);
}

/* ---- compensation ---- */

typedef struct comp_q {
    const h_pub_req *r;
    const char *op_id, *code, *response;
} comp_q;

static med_rc restore_base(PGconn *conn, const char *unit, const char *op_id, med_err *err)
{
    const char *v[2] = {unit, op_id};
    PGresult *res = run(conn,
        "UPDATE config_snapshots SET is_live = false WHERE tenant_id = "
        "current_setting('app.tenant_id', true) AND release_unit = $1 AND is_live AND "
        "publish_operation_id = $2 RETURNING snapshot_seq", 2, v, err);
    if (!res) return err->rc;
    int was_ours = PQntuples(res) == 1;
    PQclear(res);
    if (!was_ours) return MED_OK;
    return run_void(conn,
        "UPDATE config_snapshots SET is_live = true, superseded_at = NULL WHERE id = (SELECT id "
        "FROM config_snapshots WHERE tenant_id = current_setting('app.tenant_id', true) AND "
        "release_unit = $1 AND publish_operation_id <> $2 ORDER BY snapshot_seq DESC LIMIT 1)",
        2, v, err);
}

static med_rc compensate_body(med_pg *pg, PGconn *conn, void *ud, med_err *err)
{
    (void)pg;
    const comp_q *q = ud;
    char unit[512];
    h_pub_release_unit(q->r, unit, sizeof unit);
    med_rc rc = lock_unit(conn, unit, err);
    if (rc == MED_OK) rc = restore_base(conn, unit, q->op_id, err);
    if (rc != MED_OK) return rc;
    /* outside the normal machine on purpose: whatever the lost commit did,
     * the operation ends failed (retryable) and announces nothing */
    const char *v[3] = {q->op_id, q->code, q->response};
    return run_void(conn,
        "UPDATE config_publish_operations SET publish_state = 'failed', ack_reason_code = $2, "
        "retryable = true, response = $3::jsonb, outbox_status = NULL, outbox_payload = NULL, "
        "updated_at = now(), state_history = state_history || jsonb_build_array("
        "jsonb_build_object('from', publish_state, 'to', 'failed', 'code', $2::text, 'at', now())) "
        "WHERE publish_operation_id = $1", 3, v, err);
}

med_rc h_store_compensate(med_pg *pg, const char *tenant, const h_pub_req *r,
                          const char *op_id, const char *code, const char *response_json,
                          med_err *err)
{
    comp_q q = {r, op_id, code, response_json};
    return med_pg_tx(pg, tenant, 0, compensate_body, &q, err);
}

/* ---- audit ---- */

static med_rc audit_body(med_pg *pg, PGconn *conn, void *ud, med_err *err)
{
    (void)pg;
    return insert_audit(conn, ud, err);
}

med_rc h_store_audit(med_pg *pg, const char *tenant, const h_audit *a, med_err *err)
{
    return med_pg_tx(pg, tenant, 0, audit_body, (void *)a, err);
}
