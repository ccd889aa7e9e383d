/* GET /v1/config storage side: the three live layers a configKey resolves
 * from (config_snapshots) and the documents the merged refs point to
 * (config_documents, 06 section 2). Pure helpers (keys, ref parsing, ref
 * collection) are separate from the two queries so they unit-test without
 * a server. */
#ifndef H_GET_LAYERS_H
#define H_GET_LAYERS_H

#include <jansson.h>
#include <stddef.h>
#include "med/err.h"
#include "med/pg.h"

#define H_GET_KEY_MAX 512
#define H_GET_VER_MAX 128
#define H_GET_KIND_MAX 32

typedef enum h_get_scope {
    H_GET_GLOBAL = 0,
    H_GET_APP,
    H_GET_PLACEMENT,
    H_GET_NSCOPES
} h_get_scope;

typedef struct h_get_layer {
    int found;                       /* a live row exists for the unit */
    json_t *layer;                   /* the layer object (owned), NULL when not found */
    char schema[H_GET_VER_MAX];      /* the row's three line versions */
    char routing[H_GET_VER_MAX];
    char placement[H_GET_VER_MAX];
    char snapshot_id[32];            /* config_snapshots.id */
    char op_id[H_GET_VER_MAX];       /* publish_operation_id */
} h_get_layer;

typedef struct h_get_layers {
    h_get_layer l[H_GET_NSCOPES];
} h_get_layers;

const char *h_get_scope_name(h_get_scope s);
/* target_key of each scope for one request: environment,
 * appId|environment, appId|placementId|environment. */
int h_get_target_key(h_get_scope s, const char *app, const char *placement, const char *env,
                     char *out, size_t cap);
/* "kind:version" -> kind, version; MED_ERR_INVALID when the shape is wrong
 * (no colon, empty part, kind too long). */
med_rc h_get_ref_split(const char *ref, char kind[H_GET_KIND_MAX], char version[H_GET_VER_MAX],
                       med_err *err);
/* Every string member of cfg whose name ends in "Ref", sorted and unique:
 * the documents a resolved config needs. New array in *out. */
med_rc h_get_collect_refs(const json_t *cfg, json_t **out, med_err *err);

void h_get_layers_free(h_get_layers *ls);

/* Registers the two statements below on pg (once, at start-up). */
med_rc h_get_layers_prepare(med_pg *pg, med_err *err);
/* Reads the live row of each scope in one tenant transaction (the global
 * row is the _platform tenant's). A missing row is found = 0, not an error. */
med_rc h_get_layers_load(med_pg *pg, const char *tenant, const char *app, const char *placement,
                         const char *env, h_get_layers *out, med_err *err);
/* Dereferences each ref of refs (as from h_get_collect_refs) to
 * [{kind, version, sha256, body}] in ref order; the tenant's own document
 * wins over a _platform one with the same ref. A missing document is
 * MED_ERR_NOT_FOUND + h_cfg_fail_closed_policy_missing naming the ref.
 * optional_ref (may be NULL) is appended when it exists and skipped when it
 * does not: the `schema` document is named by the request's schemaVersion
 * (06 section 2: the schema line is that document's version), not by a
 * layer ref, and the version gate reads its compatibility policy. */
med_rc h_get_documents_load(med_pg *pg, const char *tenant, const json_t *refs,
                            const char *optional_ref, json_t **out, med_err *err);

#endif
