/* Input checks the edge applies before anything is published (06 section
 * 6): body size, content type, JSON depth and syntax, and the minimal
 * structure of each route's body. Every failure is a med_err with a reason
 * code and, when one field is at fault, its JSON path ("appContext.appId").
 * Pure functions: no HTTP, no NATS. */
#ifndef EDGE_JSON_H
#define EDGE_JSON_H

#include <stddef.h>
#include <jansson.h>

#include "med/err.h"

#define EDGE_JSON_MAX_DEPTH_DEFAULT 32
#define EDGE_BODY_LIMIT_DEFAULT (1024u * 1024u)
/* Identifiers copied into NATS headers (Med-App, Med-Placement). */
#define EDGE_ID_MAX_LEN 128

typedef enum edge_jtype {
    EDGE_JT_STRING,
    EDGE_JT_OBJECT,
    EDGE_JT_ARRAY,
    EDGE_JT_NUMBER,
    EDGE_JT_INTEGER,
    EDGE_JT_BOOLEAN,
} edge_jtype;

/* 06 section 6: 1 MiB, depth 32 unless configured otherwise. */
typedef struct edge_json_limits {
    size_t max_bytes;
    int max_depth;
} edge_json_limits;

extern const edge_json_limits edge_json_default_limits;

typedef struct edge_field_rule {
    const char *path; /* dotted path from the root; parents listed first */
    edge_jtype type;
    int required;
} edge_field_rule;

/* The fields of an opportunity body the edge itself needs; pointers into
 * the parsed document (valid while it lives). */
typedef struct edge_opportunity_view {
    const char *placement_id;
    const char *app_id;
} edge_opportunity_view;

/* 1 when the Content-Type value is application/json (parameters such as
 * charset allowed, case-insensitive). NULL -> 0. */
int edge_content_type_is_json(const char *value);
/* Nesting depth of arrays/objects, counted on the raw bytes so a deeply
 * nested body is refused before any parser recurses into it. */
med_rc edge_json_depth_check(const char *body, size_t len, int max_depth, med_err *err);
/* size limit, depth, syntax (one document, no duplicate keys, no NUL);
 * *out is a new reference. */
med_rc edge_json_parse(const char *body, size_t len, const edge_json_limits *lim, json_t **out,
                       med_err *err);
/* edge_json_parse + the document must be an object. */
med_rc edge_json_parse_object(const char *body, size_t len, const edge_json_limits *lim,
                              json_t **out, med_err *err);
/* Checks each rule in order: missing required -> EDGE_FIELD_MISSING,
 * wrong type -> EDGE_FIELD_TYPE, both with field = rule path. */
med_rc edge_json_check_fields(const json_t *root, const edge_field_rule *rules, size_t n,
                              med_err *err);
/* 1 when s is 1..EDGE_ID_MAX_LEN printable ASCII characters without
 * spaces (safe as a NATS header value). */
int edge_id_valid(const char *s);
/* Structure of POST /v1/opportunities: placementId string, appContext
 * object with appId string, triggerContext object. */
med_rc edge_opportunity_check(const json_t *root, edge_opportunity_view *out, med_err *err);
/* Whole body of POST /v1/opportunities: parse + structure. The fuzz
 * target's entry point. *root (optional) receives the document. */
med_rc edge_opportunity_validate(const char *body, size_t len, const edge_json_limits *lim,
                                 json_t **root, edge_opportunity_view *out, med_err *err);
/* A query string (after '?'): well-formed percent escapes, no control
 * characters. */
med_rc edge_query_check(const char *q, size_t len, med_err *err);

#endif
