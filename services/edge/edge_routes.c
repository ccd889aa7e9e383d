/* Route table of the public edge (see edge_routes.h). */
#include "edge_routes.h"

#include <string.h>

#define GET_ONLY (EDGE_M_GET | EDGE_M_HEAD)

static const edge_route k_routes[EDGE_R__COUNT] = {
    { EDGE_R_OPPORTUNITIES, "/v1/opportunities", EDGE_M_POST, "POST", 1 },
    { EDGE_R_EVENTS, "/v1/events", EDGE_M_POST, "POST", 1 },
    { EDGE_R_CONFIG, "/v1/config", GET_ONLY, "GET, HEAD", 1 },
    { EDGE_R_CONFIG_PUBLISH, "/v1/config/publish", EDGE_M_POST, "POST", 1 },
    { EDGE_R_REPLAY, "/v1/replay", GET_ONLY | EDGE_M_POST, "GET, HEAD, POST", 1 },
    { EDGE_R_RECONCILIATION, "/v1/reconciliation", GET_ONLY, "GET, HEAD", 1 },
    { EDGE_R_RELEASE_READINESS, "/internal/v1/release/readiness/evaluate", EDGE_M_POST, "POST", 1 },
    { EDGE_R_HEALTHZ, "/healthz", GET_ONLY, "GET, HEAD", 0 },
    { EDGE_R_READYZ, "/readyz", GET_ONLY, "GET, HEAD", 0 },
    { EDGE_R_METRICS, "/metrics", GET_ONLY, "GET, HEAD", 0 },
};

edge_method edge_method_parse(const char *m, size_t len)
{
    if (len == 3 && memcmp(m, "GET", 3) == 0) return EDGE_M_GET;
    if (len == 4 && memcmp(m, "HEAD", 4) == 0) return EDGE_M_HEAD;
    if (len == 4 && memcmp(m, "POST", 4) == 0) return EDGE_M_POST;
    return EDGE_M_OTHER;
}

const edge_route *edge_route_match(const char *path, size_t len)
{
    if (!path) return NULL;
    for (size_t i = 0; i < EDGE_R__COUNT; i++) {
        size_t n = strlen(k_routes[i].path);
        if (n == len && memcmp(k_routes[i].path, path, len) == 0) return &k_routes[i];
    }
    return NULL;
}

int edge_route_allows(const edge_route *r, edge_method m)
{
    return r && m != EDGE_M_OTHER && (r->methods & (unsigned)m) != 0;
}

const char *edge_route_path(edge_route_id id)
{
    return (unsigned)id < EDGE_R__COUNT ? k_routes[id].path : EDGE_ROUTE_LABEL_OTHER;
}
