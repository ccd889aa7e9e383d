/* GET /v1/config resolution: the live layers through h_resolve (H.2),
 * the refs of effectiveConfig dereferenced to their documents (06 section
 * 2), rendered once into the texts the cache keeps. */
#ifndef H_GET_RESOLVE_H
#define H_GET_RESOLVE_H

#include <stdint.h>
#include "h_get_layers.h"
#include "h_resolve.h"
#include "med/err.h"
#include "med/pg.h"

#define H_GET_RESOLUTION_CONTRACT "h_cfg_resolution_v1"
#define H_GET_TRACE_KEY_NA "NA"

typedef struct h_get_query {
    const char *tenant, *app_id, *placement_id, *environment, *schema_version;
    const char *config_key;
    int64_t resolve_at_ms;
} h_get_query;

typedef struct h_get_resolved {
    h_res_status status;
    char etag[65];
    int ttl_sec;
    char *snapshot_json;    /* owned: resolvedConfigSnapshot with its documents */
    char *versions_json;    /* owned: configVersionSnapshot */
    const char *codes[H_RES_MAX_CODES];   /* the resolution's reason codes */
    size_t n_codes;
} h_get_resolved;

void h_get_resolved_clear(h_get_resolved *r);
/* Fills the h_resolve input from loaded layers (borrowing from them). */
void h_get_res_input(const h_get_query *q, const h_get_layers *ls, h_res_input *in);
/* The configVersionSnapshot text: the five config versions of appliedVersions. */
med_rc h_get_versions_json(const h_res_applied *a, char **out, med_err *err);
/* Loads, resolves, dereferences, renders. MED_OK with status rejected is
 * a resolution that produced no usable config; store failures are
 * errors. */
med_rc h_get_resolve_config(med_pg *pg, const h_get_query *q, h_get_resolved *out,
                            med_err *err);

#endif
