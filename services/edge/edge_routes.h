/* The public route table of the edge (00-architecture.md "Public HTTP
 * API"): which paths exist, which methods each takes, how its input is
 * checked, and the label its metrics carry. Pure lookups, no h2o. */
#ifndef EDGE_ROUTES_H
#define EDGE_ROUTES_H

#include <stddef.h>

typedef enum edge_method {
    EDGE_M_OTHER = 0,
    EDGE_M_GET = 1 << 0,
    EDGE_M_HEAD = 1 << 1,
    EDGE_M_POST = 1 << 2,
} edge_method;

typedef enum edge_route_id {
    EDGE_R_OPPORTUNITIES = 0,
    EDGE_R_EVENTS,
    EDGE_R_CONFIG,
    EDGE_R_CONFIG_PUBLISH,
    EDGE_R_REPLAY,
    EDGE_R_RECONCILIATION,
    EDGE_R_RELEASE_READINESS,
    EDGE_R_HEALTHZ,
    EDGE_R_READYZ,
    EDGE_R_METRICS,
    EDGE_R__COUNT
} edge_route_id;

typedef struct edge_route {
    edge_route_id id;
    const char *path;
    unsigned methods;  /* edge_method bits; GET routes also take HEAD */
    const char *allow; /* Allow header for 405 */
    int needs_auth;    /* ops routes (health, metrics) are open */
} edge_route;

/* Metric label for requests that match no route. */
#define EDGE_ROUTE_LABEL_OTHER "other"

edge_method edge_method_parse(const char *m, size_t len);
/* Exact path match (no trailing slash tolerance); NULL when unknown. */
const edge_route *edge_route_match(const char *path, size_t len);
int edge_route_allows(const edge_route *r, edge_method m);
/* The route's path template, which is also its metric label. */
const char *edge_route_path(edge_route_id id);

#endif
