#include "b_schema.h"

#include <stdio.h>
#include <string.h>

/* Copies doc[key] when it is a string; a present non-string gives "", an
 * absent key keeps the default. */
static void read_version(const json_t *doc, const char *key, const char *def, char *out,
                         size_t cap)
{
    const json_t *v = doc ? json_object_get(doc, key) : NULL;
    if (!v) snprintf(out, cap, "%s", def);
    else snprintf(out, cap, "%s", json_is_string(v) ? json_string_value(v) : "");
}

static const json_t *object_or_null(const json_t *doc, const char *key)
{
    const json_t *v = doc ? json_object_get(doc, key) : NULL;
    return json_is_object(v) ? v : NULL;
}

static void read_sampling(const json_t *doc, b_schema_cfg *out)
{
    const json_t *s = object_or_null(doc, "signalSampling");
    const json_t *rate = s ? json_object_get(s, "sampleRateBps") : NULL;
    if (!rate && doc) rate = json_object_get(doc, "sampleRateBps");
    out->sample_rate_bps = B_DEFAULT_SAMPLE_RATE_BPS;
    /* A non-integer rate is an invalid rule, not a default. */
    if (rate) out->sample_rate_bps = json_is_integer(rate) ? json_integer_value(rate) : -1;
    read_version(s, "samplingRuleVersion", B_V_SAMPLING_RULE, out->sampling_rule_version,
                 sizeof out->sampling_rule_version);
}

void b_schema_load(const json_t *doc, b_schema_cfg *out)
{
    memset(out, 0, sizeof *out);
    read_version(doc, "mappingProfileVersion", B_V_MAPPING_PROFILE,
                 out->mapping_profile_version, sizeof out->mapping_profile_version);
    read_version(doc, "enumDictVersion", B_V_ENUM_DICT, out->enum_dict_version,
                 sizeof out->enum_dict_version);
    read_version(doc, "conflictPolicyVersion", B_V_CONFLICT_POLICY,
                 out->conflict_policy_version, sizeof out->conflict_policy_version);
    read_version(doc, "bucketDictVersion", B_V_BUCKET_DICT, out->bucket_dict_version,
                 sizeof out->bucket_dict_version);
    read_version(doc, "redactionPolicyVersion", B_V_REDACTION_POLICY,
                 out->redaction_policy_version, sizeof out->redaction_policy_version);
    read_version(doc, "openrtbProjectionVersion", B_V_OPENRTB_PROJECTION,
                 out->openrtb_projection_version, sizeof out->openrtb_projection_version);
    read_version(doc, "redactionSaltKeyRef", B_DEFAULT_SALT_KEY_REF, out->salt_key_ref,
                 sizeof out->salt_key_ref);
    read_sampling(doc, out);
    out->enum_aliases = object_or_null(doc, "enumAliases");
    out->bucket_bounds = object_or_null(doc, "bucketBounds");
    out->redaction_levels = object_or_null(doc, "redactionFieldLevels");
}
