/* D.2 adapter registry: the sources of one route_policy document, checked
 * entry by entry. A failing entry is rejected alone; the others register.
 * The built-in house source (route_policy.houseAds) is added as the lowest
 * priority fallback when no entry declares sourceType "house". */
#ifndef D_REGISTRY_H
#define D_REGISTRY_H

#include <jansson.h>
#include "d_types.h"
#include "med/err.h"

#define D_HOUSE_SOURCE_ID "house_ads"
#define D_HOUSE_TIMEOUT_MS 5

/* The registration result of one entry (code d_adapter_registered or the
 * first failing check). */
typedef struct d_registry_issue {
    int index;                   /* position in sources[], -1 for the house source */
    char source_id[D_ID_MAX];    /* "" when the entry has no usable sourceId */
    char code[D_CODE_MAX];
} d_registry_issue;

typedef struct d_registry {
    char registry_version[D_VERSION_MAX];   /* adapterRegistryVersion */
    char settlement_currency[8];            /* ISO 4217, default USD */
    d_source sources[D_MAX_SOURCES];        /* registered, in document order */
    int n_sources;
    d_registry_issue issues[D_MAX_SOURCES + 1];
    int n_issues;
    /* IDs of entries rejected at registration (ineligible in every plan). */
    d_str_list rejected_ids;
    /* houseAds[] (a reference held by the registry). */
    json_t *house_ads;
    /* sourceId -> routingAttributes of each registered simulated_inventory
     * source (owned; NULL when there is none): its creative. */
    json_t *simulated;
} d_registry;

/* Builds the registry from a route_policy body. MED_ERR_INVALID with
 * d_invalid_supply_context when the body is not an object or has no
 * sources at all; rejected entries are not errors (see issues). reg is
 * caller storage; free with d_registry_clear. */
med_rc d_registry_build(const json_t *route_policy, d_registry *reg, med_err *err);
void d_registry_clear(d_registry *reg);

/* Index of sourceId in reg->sources, -1 when not registered. */
int d_registry_find(const d_registry *reg, const char *source_id);
int d_source_supports(const d_source *s, const char *placement_type);
/* The first issue of that source (its registration code), NULL if none. */
const d_registry_issue *d_registry_issue_of(const d_registry *reg, const char *source_id);

#endif
