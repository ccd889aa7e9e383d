/* GET /v1/config: load, resolve, dereference, render. */
#include <stdio.h>
#include "h_get_resolve.h"

#include <stdlib.h>
#include <string.h>

#include "med/reason.h"

void h_get_resolved_clear(h_get_resolved *r)
{
    free(r->snapshot_json);
    free(r->versions_json);
    memset(r, 0, sizeof *r);
}

void h_get_res_input(const h_get_query *q, const h_get_layers *ls, h_res_input *in)
{
    memset(in, 0, sizeof *in);
    in->request_key = q->config_key;
    in->trace_key = H_GET_TRACE_KEY_NA;
    in->app_id = q->app_id;
    in->placement_id = q->placement_id;
    in->environment = q->environment;
    in->schema_version = q->schema_version;
    in->resolve_at_ms = q->resolve_at_ms;
    in->contract_version = H_GET_RESOLUTION_CONTRACT;
    for (int s = 0; s < H_SCOPE_COUNT; s++) {
        const h_get_layer *l = &ls->l[s];
        h_res_layer *r = &in->layer[s];
        r->state = l->found ? H_LAYER_OK : H_LAYER_ABSENT;
        /* A layer's own version is the placement config line it was
         * published with (06 section 2: that line versions a layer). */
        r->version = l->found ? l->placement : NULL;
        r->schema_version = l->found ? l->schema : NULL;
        r->json = l->layer;
    }
}

med_rc h_get_versions_json(const h_res_applied *a, char **out, med_err *err)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "schemaVersion", a->schema_version,
                          "routingStrategyVersion", a->routing_strategy_version,
                          "placementConfigVersion", a->placement_config_version,
                          "globalConfigVersion", a->global_config_version,
                          "appConfigVersionOrNA", a->app_config_version_or_na);
    *out = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return *out ? MED_OK : med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "versions");
}

static int ttl_of(const json_t *cfg)
{
    json_t *t = json_object_get(cfg, "ttlSec");
    return json_is_integer(t) ? (int)json_integer_value(t) : 0;
}

/* Snapshot object + "documents" -> text. Takes docs. */
static med_rc render_snapshot(const h_res_output *res, json_t *docs, char **out, med_err *err)
{
    json_t *snap = NULL;
    med_rc rc = h_res_snapshot_json(res, &snap, err);
    if (rc != MED_OK) {
        json_decref(docs);
        return rc;
    }
    if (json_object_set_new(snap, "documents", docs) != 0) docs = NULL;
    *out = json_dumps(snap, JSON_COMPACT);
    json_decref(snap);
    return *out ? MED_OK : med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "snapshot");
}

static med_rc finish(med_pg *pg, const h_get_query *q, const h_res_output *res,
                     h_get_resolved *out, med_err *err)
{
    json_t *refs = NULL, *docs = NULL;
    char schema_ref[H_GET_KIND_MAX + H_GET_VER_MAX + 2];
    snprintf(schema_ref, sizeof schema_ref, "schema:%s", q->schema_version);
    med_rc rc = h_get_collect_refs(res->effective_config, &refs, err);
    if (rc == MED_OK) rc = h_get_documents_load(pg, q->tenant, refs, schema_ref, &docs, err);
    json_decref(refs);
    if (rc == MED_OK) rc = render_snapshot(res, docs, &out->snapshot_json, err);
    if (rc == MED_OK) rc = h_get_versions_json(&res->applied, &out->versions_json, err);
    if (rc != MED_OK) return rc;
    memcpy(out->etag, res->etag, sizeof out->etag);
    out->ttl_sec = ttl_of(res->effective_config);
    return MED_OK;
}

static void copy_codes(const h_res_output *res, h_get_resolved *out)
{
    out->status = res->status;
    out->n_codes = res->n_reason_codes;
    for (size_t i = 0; i < res->n_reason_codes; i++) out->codes[i] = res->reason_codes[i];
}

med_rc h_get_resolve_config(med_pg *pg, const h_get_query *q, h_get_resolved *out,
                            med_err *err)
{
    memset(out, 0, sizeof *out);
    h_get_layers ls;
    med_rc rc = h_get_layers_load(pg, q->tenant, q->app_id, q->placement_id, q->environment, &ls,
                                  err);
    if (rc != MED_OK) return rc;
    h_res_input in;
    h_get_res_input(q, &ls, &in);
    h_res_output res;
    memset(&res, 0, sizeof res);
    rc = h_resolve(&in, &res, err);
    if (rc == MED_OK) {
        copy_codes(&res, out);
        if (res.status != H_RES_REJECTED) rc = finish(pg, q, &res, out, err);
    }
    h_res_output_free(&res);
    h_get_layers_free(&ls);
    if (rc != MED_OK) h_get_resolved_clear(out);
    return rc;
}
