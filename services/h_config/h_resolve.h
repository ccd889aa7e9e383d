/* Config resolution (spec 04 H.2, 06 sections 1-2) as a pure function:
 * layers in, resolvedConfigSnapshot out. The caller loads the layers and,
 * afterwards, dereferences the refs of effectiveConfig to documents.
 *
 * Choices where H.2 is silent:
 * - A layer never published is simply absent (no reason code); only a
 *   layer the store could not deliver, or one on another schemaVersion,
 *   is "unavailable".
 * - placementRef (06) is optional, like experimentTagList; when present
 *   it must be "placement:<v>" and placementSourceVersionOrNA is <v>.
 * - adapterMinVersionMap is validated and merged per entry: an invalid
 *   entry is ignored alone (provenance f.key names the skipped scope);
 *   a non-object map is ignored as a whole.
 * - An unknown field is dropped with h_cfg_unknown_field_dropped but does
 *   not degrade the status (H.2 only degrades invalid values).
 * - An empty adapterMinVersionMap counts as "empty after merge". */
#ifndef H_RESOLVE_H
#define H_RESOLVE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include "med/err.h"

#define H_RES_VER_MAX 128      /* versions incl. NUL, as H_PUB_VER_MAX */
#define H_RES_MAX_CODES 8      /* distinct H.2 reason codes */
#define H_RES_ID_MAX 24        /* "cfgres_" + 16 hex + NUL */

typedef enum h_scope { H_SCOPE_GLOBAL = 0, H_SCOPE_APP, H_SCOPE_PLACEMENT, H_SCOPE_COUNT } h_scope;

typedef enum h_layer_state {
    H_LAYER_ABSENT = 0,   /* never published for this scope */
    H_LAYER_OK,           /* loaded: version, schema_version and json set */
    H_LAYER_UNAVAILABLE,  /* the store failed to deliver it */
} h_layer_state;

typedef enum h_res_status { H_RES_RESOLVED = 0, H_RES_DEGRADED, H_RES_REJECTED } h_res_status;

typedef struct h_res_layer {
    h_layer_state state;
    const char *version;         /* the layer's published version */
    const char *schema_version;  /* schemaVersion it was published under */
    const json_t *json;          /* borrowed; the H.2 field set */
} h_res_layer;

typedef struct h_res_input {
    const char *request_key, *trace_key, *app_id, *placement_id;
    const char *environment;     /* prod | staging */
    const char *schema_version;
    int64_t resolve_at_ms;       /* Unix ms, > 0 */
    const char *contract_version; /* configResolutionContractVersion */
    h_res_layer layer[H_SCOPE_COUNT];
} h_res_input;

typedef struct h_res_applied {
    char schema_version[H_RES_VER_MAX];
    char routing_strategy_version[H_RES_VER_MAX];   /* <v> of route_policy:<v>, "NA" */
    char placement_config_version[H_RES_VER_MAX];   /* placement layer, "NA" */
    char global_config_version[H_RES_VER_MAX];      /* "NA" when unavailable */
    char app_config_version_or_na[H_RES_VER_MAX];
    char placement_source_version_or_na[H_RES_VER_MAX]; /* <v> of placement:<v> */
} h_res_applied;

typedef struct h_res_provenance {
    char *field_path;            /* owned: "f" or "f.key" */
    h_scope winner_scope;
    char winner_version[H_RES_VER_MAX];
    int has_fallback;
    h_scope fallback_scope;      /* scope whose invalid value was skipped */
} h_res_provenance;

/* Everything the snapshot holds. Owned strings and json are released by
 * h_res_output_free; the struct may be zeroed beforehand and freed twice. */
typedef struct h_res_output {
    h_res_status status;
    h_res_applied applied;
    json_t *effective_config;              /* owned, always an object */
    h_res_provenance *provenance;          /* owned, sorted by field_path */
    size_t n_provenance;
    const char *reason_codes[H_RES_MAX_CODES]; /* MED_R_* constants, sorted, unique */
    size_t n_reason_codes;
    char config_hash[65];
    char etag[65];
    char resolve_id[H_RES_ID_MAX];
    char *request_key, *trace_key, *contract_version; /* owned copies */
    int64_t resolved_at_ms;
} h_res_output;

/* Resolves in -> out. MED_OK whenever a snapshot was produced, rejected
 * included (see out->status); MED_ERR_NOMEM / MED_ERR_INVALID (NULL
 * arguments) otherwise, with out released. */
med_rc h_resolve(const h_res_input *in, h_res_output *out, med_err *err);
void h_res_output_free(h_res_output *out);

const char *h_scope_name(h_scope s);          /* global | app | placement */
const char *h_res_status_name(h_res_status s); /* resolved | degraded | rejected */

/* The resolvedConfigSnapshot object of GET /v1/config (camelCase names,
 * resolvedAt as YYYY-MM-DDTHH:MM:SS.sssZ). *snap is new; caller decrefs. */
med_rc h_res_snapshot_json(const h_res_output *out, json_t **snap, med_err *err);

#endif
