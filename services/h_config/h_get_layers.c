/* Live layers and referenced documents for GET /v1/config (06 section 2). */
#include "h_get_layers.h"
#include "h_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h_publish.h"
#include "med/names.h"
#include "med/reason.h"

#define REF_SUFFIX "Ref"

/* One statement for the three scopes: readers see one snapshot of the
 * table, so a publish landing between two lookups cannot mix its layers. */
static const char k_sql_layers[] =
    "SELECT target_scope, layer::text, schema_version, routing_strategy_version,"
    " placement_config_version, id::text, publish_operation_id FROM " MED_TBL_CONFIG_SNAPSHOTS
    " WHERE is_live AND environment = $1 AND ("
    " (target_scope = 'global' AND tenant_id = '" H_PLATFORM_TENANT "' AND target_key = $1)"
    " OR (target_scope = 'app' AND tenant_id = $2 AND target_key = $3)"
    " OR (target_scope = 'placement' AND tenant_id = $2 AND target_key = $4))";

/* The tenant's own document first, then the platform's. */
static const char k_sql_document[] =
    "SELECT kind, version, sha256, body::text FROM " MED_TBL_CONFIG_DOCUMENTS
    " WHERE kind = $1 AND version = $2 AND tenant_id IN ($3, '" H_PLATFORM_TENANT "')"
    " ORDER BY (tenant_id = '" H_PLATFORM_TENANT "') LIMIT 1";

/* Prepared once per connection (h_get_layers_prepare). */
#define STMT_LAYERS "h_get_layers"
#define STMT_DOCUMENT "h_get_document"

med_rc h_get_layers_prepare(med_pg *pg, med_err *err)
{
    med_rc rc = med_pg_prepare(pg, STMT_LAYERS, k_sql_layers, 4, err);
    return rc == MED_OK ? med_pg_prepare(pg, STMT_DOCUMENT, k_sql_document, 3, err) : rc;
}

static const char *const k_scope_names[H_GET_NSCOPES] = { "global", "app", "placement" };

const char *h_get_scope_name(h_get_scope s)
{
    return s < H_GET_NSCOPES ? k_scope_names[s] : "";
}

static int fits(int n, size_t cap)
{
    return n >= 0 && (size_t)n < cap ? 0 : -1;
}

int h_get_target_key(h_get_scope s, const char *app, const char *placement, const char *env,
                     char *out, size_t cap)
{
    switch (s) {
    case H_GET_GLOBAL: return fits(snprintf(out, cap, "%s", env), cap);
    case H_GET_APP: return fits(snprintf(out, cap, "%s|%s", app, env), cap);
    case H_GET_PLACEMENT:
        return fits(snprintf(out, cap, "%s|%s|%s", app, placement, env), cap);
    default: return -1;
    }
}

med_rc h_get_ref_split(const char *ref, char kind[H_GET_KIND_MAX], char version[H_GET_VER_MAX],
                       med_err *err)
{
    const char *colon = ref ? strchr(ref, ':') : NULL;
    size_t klen = colon ? (size_t)(colon - ref) : 0;
    size_t vlen = colon ? strlen(colon + 1) : 0;
    if (!colon || klen == 0 || vlen == 0 || klen >= H_GET_KIND_MAX || vlen >= H_GET_VER_MAX)
        return med_err_set(err, MED_ERR_INVALID, MED_R_H_CFG_INVALID_TYPE, NULL,
                           "reference '%s' is not <kind>:<version>", ref ? ref : "");
    memcpy(kind, ref, klen);
    kind[klen] = '\0';
    memcpy(version, colon + 1, vlen + 1);
    return MED_OK;
}

static int is_ref_name(const char *name)
{
    size_t n = strlen(name), s = sizeof REF_SUFFIX - 1;
    return n > s && strcmp(name + n - s, REF_SUFFIX) == 0;
}

med_rc h_get_collect_refs(const json_t *cfg, json_t **out, med_err *err)
{
    *out = NULL;
    const char *names[64];
    size_t n = 0;
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)cfg, key, val)
    {
        if (n < sizeof names / sizeof names[0] && is_ref_name(key) && json_is_string(val) &&
            json_string_length(val) > 0)
            names[n++] = json_string_value(val);
    }
    *out = h_json_sorted_unique(names, n);
    return *out ? MED_OK : med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "refs");
}

void h_get_layers_free(h_get_layers *ls)
{
    for (int i = 0; i < H_GET_NSCOPES; i++) {
        json_decref(ls->l[i].layer);
        ls->l[i].layer = NULL;
        ls->l[i].found = 0;
    }
}

static h_get_scope scope_of(const char *name)
{
    for (int i = 0; i < H_GET_NSCOPES; i++)
        if (strcmp(name, k_scope_names[i]) == 0) return (h_get_scope)i;
    return H_GET_NSCOPES;
}

static void copy_field(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

static med_rc layer_from_row(const PGresult *res, int row, h_get_layers *out, med_err *err)
{
    h_get_scope s = scope_of(PQgetvalue(res, row, 0));
    if (s == H_GET_NSCOPES || out->l[s].found) return MED_OK;
    h_get_layer *l = &out->l[s];
    json_error_t je;
    l->layer = json_loads(PQgetvalue(res, row, 1), 0, &je);
    if (!json_is_object(l->layer)) {
        json_decref(l->layer);
        l->layer = NULL;
        return med_err_set(err, MED_ERR_INTERNAL, MED_R_H_CFG_INVALID_TYPE, NULL,
                           "stored %s layer is not a JSON object", k_scope_names[s]);
    }
    copy_field(l->schema, sizeof l->schema, PQgetvalue(res, row, 2));
    copy_field(l->routing, sizeof l->routing, PQgetvalue(res, row, 3));
    copy_field(l->placement, sizeof l->placement, PQgetvalue(res, row, 4));
    copy_field(l->snapshot_id, sizeof l->snapshot_id, PQgetvalue(res, row, 5));
    copy_field(l->op_id, sizeof l->op_id, PQgetvalue(res, row, 6));
    l->found = 1;
    return MED_OK;
}

typedef struct layers_q {
    const char *params[4];
    h_get_layers *out;
} layers_q;

/* med_pg_tx always hands its bodies a med_err, so err->rc is the failure. */
static med_rc layers_tx(med_pg *pg, PGconn *conn, void *ud, med_err *err)
{
    (void)conn;
    layers_q *q = ud;
    h_get_layers_free(q->out);
    PGresult *res = med_pg_exec_prepared(pg, STMT_LAYERS, 4, q->params, err);
    if (!res) return err->rc;
    med_rc rc = MED_OK;
    for (int i = 0; rc == MED_OK && i < PQntuples(res); i++)
        rc = layer_from_row(res, i, q->out, err);
    PQclear(res);
    return rc;
}

med_rc h_get_layers_load(med_pg *pg, const char *tenant, const char *app, const char *placement,
                         const char *env, h_get_layers *out, med_err *err)
{
    memset(out, 0, sizeof *out);
    char app_key[H_GET_KEY_MAX], plc_key[H_GET_KEY_MAX];
    if (h_get_target_key(H_GET_APP, app, placement, env, app_key, sizeof app_key) != 0 ||
        h_get_target_key(H_GET_PLACEMENT, app, placement, env, plc_key, sizeof plc_key) != 0)
        return med_err_set(err, MED_ERR_INVALID, MED_R_H_CFG_INVALID_RANGE, NULL,
                           "appId/placementId too long");
    layers_q q = { { env, tenant, app_key, plc_key }, out };
    med_rc rc = med_pg_tx(pg, tenant, 0, layers_tx, &q, err);
    if (rc != MED_OK) h_get_layers_free(out);
    return rc;
}

static med_rc document_json(const PGresult *res, json_t **doc, med_err *err)
{
    json_error_t je;
    json_t *body = json_loads(PQgetvalue(res, 0, 3), 0, &je);
    *doc = body ? json_pack("{s:s, s:s, s:s, s:o}", "kind", PQgetvalue(res, 0, 0), "version",
                            PQgetvalue(res, 0, 1), "sha256", PQgetvalue(res, 0, 2), "body", body)
                : NULL;
    if (*doc) return MED_OK;
    return med_err_set(err, MED_ERR_INTERNAL, MED_R_INFRA_NOMEM, NULL, "document %s:%s",
                       PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
}

static med_rc load_one_document(med_pg *pg, const char *tenant, const char *ref, json_t *docs,
                                med_err *err)
{
    char kind[H_GET_KIND_MAX], version[H_GET_VER_MAX];
    med_rc rc = h_get_ref_split(ref, kind, version, err);
    if (rc != MED_OK) return rc;
    const char *params[3] = { kind, version, tenant };
    PGresult *res = med_pg_exec_prepared(pg, STMT_DOCUMENT, 3, params, err);
    if (!res) return err->rc;
    if (PQntuples(res) != 1)
        rc = med_err_set(err, MED_ERR_NOT_FOUND, MED_R_H_CFG_FAIL_CLOSED_POLICY_MISSING, ref,
                         "referenced document %s does not exist", ref);
    json_t *doc = NULL;
    if (rc == MED_OK) rc = document_json(res, &doc, err);
    PQclear(res);
    if (rc == MED_OK && json_array_append_new(docs, doc) != 0)
        rc = med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "documents");
    return rc;
}

typedef struct docs_q {
    const char *tenant;
    const json_t *refs;
    const char *optional_ref;
    json_t *docs;
} docs_q;

static med_rc documents_tx(med_pg *pg, PGconn *conn, void *ud, med_err *err)
{
    (void)conn;
    docs_q *q = ud;
    json_array_clear(q->docs);
    size_t i;
    json_t *ref;
    json_array_foreach(q->refs, i, ref)
    {
        med_rc rc = load_one_document(pg, q->tenant, json_string_value(ref), q->docs, err);
        if (rc != MED_OK) return rc;
    }
    if (!q->optional_ref) return MED_OK;
    /* Absent is fine: the caller treats it as "no such policy". */
    med_err ignored;
    med_rc rc = load_one_document(pg, q->tenant, q->optional_ref, q->docs, &ignored);
    if (rc == MED_ERR_NOT_FOUND) return MED_OK;
    if (rc != MED_OK && err) *err = ignored;
    return rc;
}

med_rc h_get_documents_load(med_pg *pg, const char *tenant, const json_t *refs,
                            const char *optional_ref, json_t **out, med_err *err)
{
    *out = NULL;
    docs_q q = { tenant, refs, optional_ref, json_array() };
    if (!q.docs) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "documents");
    med_rc rc = med_pg_tx(pg, tenant, 0, documents_tx, &q, err);
    if (rc != MED_OK) {
        json_decref(q.docs);
        return rc;
    }
    *out = q.docs;
    return MED_OK;
}
