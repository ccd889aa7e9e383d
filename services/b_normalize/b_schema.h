/* The versions and dictionaries B runs under, read from the pinned `schema`
 * document (06 section 1) with the spec's defaults (01 section 0) for
 * whatever the document leaves out. Everything json_t is borrowed from the
 * document, which must outlive the b_schema_cfg. */
#ifndef B_SCHEMA_H
#define B_SCHEMA_H

#include <jansson.h>
#include "med/err.h"

#define B_V_SCHEMA              "schema_v1"
#define B_V_INPUT_CONTRACT      "b_input_contract_v1"
#define B_V_MAPPING_PROFILE     "b_mapping_profile_v1"
#define B_V_ENUM_DICT           "b_enum_dict_v1"
#define B_V_CONFLICT_POLICY     "b_conflict_policy_v1"
#define B_V_OPENRTB_PROJECTION  "b_openrtb_projection_v1"
#define B_V_REDACTION_POLICY    "b_redaction_policy_v1"
#define B_V_BUCKET_DICT         "b_bucket_dict_v1"
#define B_V_SAMPLING_RULE       "b_sampling_rule_v1"
#define B_V_SIGNAL_EVENT        "b_signal_event_v1"
#define B_V_C_INPUT_CONTRACT    "c_input_contract_v1"
#define B_DEFAULT_SAMPLE_RATE_BPS 100
/* Secret (environment variable) holding the redaction salt. */
#define B_DEFAULT_SALT_KEY_REF  "B_REDACTION_SALT"

typedef struct b_schema_cfg {
    char mapping_profile_version[64];
    char enum_dict_version[64];
    char conflict_policy_version[64];
    char bucket_dict_version[64];     /* "" = the document named no version */
    char redaction_policy_version[64];
    char openrtb_projection_version[64];
    char sampling_rule_version[64];
    char salt_key_ref[64];
    long long sample_rate_bps;        /* validated by b_sig_decide */
    const json_t *enum_aliases;       /* {slot: {alias: canonical}} or NULL */
    const json_t *bucket_bounds;      /* {slot: [upper edges]} or NULL */
    const json_t *redaction_levels;   /* {fieldPath: action|class} or NULL */
} b_schema_cfg;

/* doc NULL -> every default. A field of the wrong type counts as given but
 * empty, so the rule reading it rejects with its own code (e.g. a
 * bucketDictVersion of "" -> b_bucket_dict_missing_or_invalid). */
void b_schema_load(const json_t *doc, b_schema_cfg *out);

#endif
