/* Every reason code, defined once.
 *
 * X(ident, "wire_string"). Use MED_R_<ident> in code; the wire string is what
 * goes into protobuf ReasonCode.code, JSON bodies, logs and database rows.
 * Stage-specific codes from the module specs are added here, grouped by
 * stage, as the stages are built. */
#ifndef MED_REASON_H
#define MED_REASON_H

#define MED_REASON_LIST(X) \
    /* edge / HTTP (06 section 6) */ \
    X(EDGE_BODY_TOO_LARGE,       "edge_body_too_large") \
    X(EDGE_JSON_TOO_DEEP,        "edge_json_too_deep") \
    X(EDGE_JSON_MALFORMED,       "edge_json_malformed") \
    X(EDGE_UNSUPPORTED_MEDIA,    "edge_unsupported_media_type") \
    X(EDGE_FIELD_MISSING,        "edge_field_missing") \
    X(EDGE_FIELD_TYPE,           "edge_field_wrong_type") \
    X(EDGE_NOT_FOUND,            "edge_route_not_found") \
    X(EDGE_METHOD_NOT_ALLOWED,   "edge_method_not_allowed") \
    X(EDGE_DEADLINE_EXCEEDED,    "edge_deadline_exceeded") \
    X(EDGE_UPSTREAM_UNAVAILABLE, "edge_upstream_unavailable") \
    X(EDGE_NOT_IMPLEMENTED,      "edge_not_implemented") \
    /* identity (06 section 4) */ \
    X(AUTH_TOKEN_INVALID,        "auth_token_invalid") \
    X(AUTH_SIGNATURE_MISMATCH,   "auth_signature_mismatch") \
    X(AUTH_FORBIDDEN,            "auth_forbidden") \
    /* infrastructure (common/) */ \
    X(INFRA_NATS_UNAVAILABLE,    "infra_nats_unavailable") \
    X(INFRA_PG_UNAVAILABLE,      "infra_pg_unavailable") \
    X(INFRA_REDIS_UNAVAILABLE,   "infra_redis_unavailable") \
    X(INFRA_DECODE_FAILED,       "infra_decode_failed") \
    X(INFRA_ENCODE_FAILED,       "infra_encode_failed") \
    X(INFRA_PUBLISH_FAILED,      "infra_publish_failed") \
    X(INFRA_MAX_DELIVER,         "infra_max_deliver_exceeded") \
    X(INFRA_PERMANENT_FAILURE,   "infra_permanent_failure") \
    X(INFRA_FAULT_INJECTED,      "infra_fault_injected") \
    X(INFRA_NOMEM,               "infra_out_of_memory") \
    /* configuration (05 section 2) */ \
    X(CFG_INVALID_VALUE,         "cfg_invalid_value") \
    X(CFG_PROD_UNSAFE,           "cfg_prod_unsafe_setting") \
    /* E final codes used by the pass-through chain */ \
    X(E_ER_INTERNAL,             "e_er_internal_error") \
    X(E_NF_NO_CANDIDATE,         "e_nf_no_candidate")

#define MED_REASON_ENUM_(id, str) MED_R_ENUM_##id,
typedef enum med_reason_id { MED_REASON_LIST(MED_REASON_ENUM_) MED_R_ENUM__COUNT } med_reason_id;
#undef MED_REASON_ENUM_

/* String constants: MED_R_EDGE_BODY_TOO_LARGE etc. */
#define MED_REASON_DECL_(id, str) extern const char MED_R_##id[];
MED_REASON_LIST(MED_REASON_DECL_)
#undef MED_REASON_DECL_

/* NULL when the string is not a known reason code. */
const char *med_reason_lookup(const char *wire);

#endif
