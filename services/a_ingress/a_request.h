/* A.2: the SDK body of POST /v1/opportunities, parsed and checked in the
 * spec's layers (L1 structure, L3 identity, L2 semantics). Pure. */
#ifndef A_REQUEST_H
#define A_REQUEST_H

#include <jansson.h>
#include <stdint.h>
#include "med/err.h"

/* Every const char * borrows from root (owned; a_request_free). NULL =
 * absent (an xxxOrNA that is NA). */
typedef struct a_request {
    json_t *root;
    const char *placement_id;
    const char *sdk_version;
    const char *ingress_envelope_version;
    const char *trigger_contract_version;
    const char *schema_version;          /* body schemaVersion, default 1.0.0 */
    const char *client_request_id;       /* only when it matches the A.2 pattern */
    const char *trace_hint;              /* only when key-format valid */
    const char *conversation_turn_id;
    int has_intent_score;
    double intent_score;
    const json_t *experiment_tags;       /* array or NULL */
    const json_t *extensions;            /* object or NULL */
    const json_t *app_context;           /* object (after L1) */
    const json_t *trigger_context;       /* object (after L1) */
    const json_t *device_capabilities;   /* object or NULL */
    const char *app_id, *session_id, *channel_type, *request_at;
    const char *trigger_type, *trigger_at;   /* raw */
    int64_t request_at_ms, trigger_at_ms;    /* set by a_request_check_semantics */
} a_request;

/* Accepted envelope / trigger contract versions (A.2 "config lists");
 * NULL lists mean the defaults ingress_v1 / a_trigger_v1. */
typedef struct a_version_lists {
    const char *const *envelope;
    const char *const *trigger_contract;
} a_version_lists;

/* Decode + L1. On failure err carries a_trg_missing_required_field or
 * a_trg_invalid_context_structure and the JSON path in err->field; *out is
 * still valid to free. */
med_rc a_request_parse(const char *body, size_t len, const a_version_lists *versions,
                       a_request *out, med_err *err);
/* L3 (MVP): appContext.appId must equal the authenticated Med-App. */
med_rc a_request_check_identity(const a_request *r, const char *med_app, med_err *err);
/* L2 times: both parse, requestAt <= triggerAt, triggerAt - requestAt <=
 * skew_limit_ms (inclusive), |requestAt - receivedAt| <= skew_limit_ms. */
med_rc a_request_check_semantics(a_request *r, int64_t received_at_ms, int64_t skew_limit_ms,
                                 med_err *err);
void a_request_free(a_request *r);

/* A.2 clientRequestId pattern ^[A-Za-z0-9][A-Za-z0-9_.:-]{7,127}$. */
int a_client_request_id_valid(const char *s);

#endif
