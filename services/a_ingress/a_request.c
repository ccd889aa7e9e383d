/* A.2 parsing and validation layers. The first failing rule names the
 * field, so the edge's 400 body can point at it. */
#include "a_request.h"

#include <ctype.h>
#include <string.h>

#include "med/rfc3339.h"
#include "a_types.h"
#include "med/ids.h"
#include "med/reason.h"

int a_client_request_id_valid(const char *s)
{
    if (!s || !isalnum((unsigned char)s[0])) return 0;
    size_t n = strlen(s);
    if (n < 8 || n > 128) return 0;
    for (size_t i = 1; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!isalnum(c) && c != '_' && c != '.' && c != ':' && c != '-') return 0;
    }
    return 1;
}

static int blank(const char *s)
{
    if (!s) return 1;
    while (*s && isspace((unsigned char)*s)) s++;
    return *s == '\0';
}

static const char *opt_str(const json_t *obj, const char *name)
{
    const json_t *v = obj ? json_object_get(obj, name) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Required scalar: a non-blank string. A number is accepted as its text
 * nowhere: the contract says strings. */
static med_rc need_str(const json_t *obj, const char *name, const char *path, const char **out,
                       med_err *err)
{
    const json_t *v = json_object_get(obj, name);
    if (v && !json_is_string(v))
        return med_err_set(err, MED_ERR_INVALID, MED_R_A_TRG_INVALID_CONTEXT_STRUCTURE, path,
                           "%s must be a string", path);
    *out = v ? json_string_value(v) : NULL;
    if (blank(*out))
        return med_err_set(err, MED_ERR_INVALID, MED_R_A_TRG_MISSING_REQUIRED_FIELD, path,
                           "%s is required", path);
    return MED_OK;
}

static med_rc need_object(const json_t *root, const char *name, const json_t **out, med_err *err)
{
    *out = json_object_get(root, name);
    if (!json_is_object(*out))
        return med_err_set(err, MED_ERR_INVALID, MED_R_A_TRG_INVALID_CONTEXT_STRUCTURE, name,
                           "%s must be an object", name);
    return MED_OK;
}

static int in_list(const char *v, const char *const *list, const char *dflt)
{
    if (!list) return strcmp(v, dflt) == 0;
    for (; *list; list++)
        if (strcmp(v, *list) == 0) return 1;
    return 0;
}

static med_rc check_versions(const a_request *r, const a_version_lists *vl, med_err *err)
{
    if (!in_list(r->ingress_envelope_version, vl ? vl->envelope : NULL, A_VER_INGRESS_ENVELOPE))
        return med_err_set(err, MED_ERR_INVALID, MED_R_A_TRG_INVALID_CONTEXT_STRUCTURE,
                           "ingressEnvelopeVersion", "unsupported ingressEnvelopeVersion");
    if (!in_list(r->trigger_contract_version, vl ? vl->trigger_contract : NULL,
                 A_VER_TRIGGER_CONTRACT))
        return med_err_set(err, MED_ERR_INVALID, MED_R_A_TRG_INVALID_CONTEXT_STRUCTURE,
                           "triggerContractVersion", "unsupported triggerContractVersion");
    return MED_OK;
}

static med_rc required_scalars(a_request *r, med_err *err)
{
    const json_t *root = r->root, *ac = r->app_context, *tc = r->trigger_context;
    med_rc rc;
    if ((rc = need_str(root, "placementId", "placementId", &r->placement_id, err)) ||
        (rc = need_str(ac, "appId", "appContext.appId", &r->app_id, err)) ||
        (rc = need_str(ac, "sessionId", "appContext.sessionId", &r->session_id, err)) ||
        (rc = need_str(ac, "channelType", "appContext.channelType", &r->channel_type, err)) ||
        (rc = need_str(ac, "requestAt", "appContext.requestAt", &r->request_at, err)) ||
        (rc = need_str(tc, "triggerType", "triggerContext.triggerType", &r->trigger_type, err)) ||
        (rc = need_str(tc, "triggerAt", "triggerContext.triggerAt", &r->trigger_at, err)) ||
        (rc = need_str(root, "sdkVersion", "sdkVersion", &r->sdk_version, err)) ||
        (rc = need_str(root, "ingressEnvelopeVersion", "ingressEnvelopeVersion",
                       &r->ingress_envelope_version, err)) ||
        (rc = need_str(root, "triggerContractVersion", "triggerContractVersion",
                       &r->trigger_contract_version, err)))
        return rc;
    return MED_OK;
}

static void optional_fields(a_request *r)
{
    const json_t *root = r->root;
    const char *cid = opt_str(root, "clientRequestId");
    r->client_request_id = a_client_request_id_valid(cid) ? cid : NULL;
    const char *hint = opt_str(root, "traceHintOrNA");
    r->trace_hint = hint && med_key_format_valid(hint) ? hint : NULL;
    r->conversation_turn_id = opt_str(root, "conversationTurnIdOrNA");
    if (r->conversation_turn_id && strcmp(r->conversation_turn_id, A_NA) == 0)
        r->conversation_turn_id = NULL;
    const json_t *score = json_object_get(root, "intentScoreOrNA");
    r->has_intent_score = json_is_number(score);
    r->intent_score = r->has_intent_score ? json_number_value(score) : 0.0;
    const json_t *tags = json_object_get(root, "experimentTagsOrNA");
    r->experiment_tags = json_is_array(tags) ? tags : NULL;
    const json_t *ext = json_object_get(root, "extensions");
    r->extensions = json_is_object(ext) ? ext : NULL;
    const json_t *dc = json_object_get(root, "deviceCapabilities");
    r->device_capabilities = json_is_object(dc) ? dc : NULL;
    const char *sv = opt_str(root, "schemaVersion");
    r->schema_version = blank(sv) ? A_DEFAULT_SCHEMA_VERSION : sv;
}

med_rc a_request_parse(const char *body, size_t len, const a_version_lists *versions,
                       a_request *out, med_err *err)
{
    memset(out, 0, sizeof *out);
    json_error_t jerr;
    out->root = body ? json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
    if (!json_is_object(out->root))
        return med_err_set(err, MED_ERR_INVALID, MED_R_A_TRG_INVALID_CONTEXT_STRUCTURE, NULL,
                           "body is not a JSON object");
    med_rc rc;
    if ((rc = need_object(out->root, "appContext", &out->app_context, err)) ||
        (rc = need_object(out->root, "triggerContext", &out->trigger_context, err)) ||
        (rc = required_scalars(out, err)) || (rc = check_versions(out, versions, err)))
        return rc;
    optional_fields(out);
    return MED_OK;
}

med_rc a_request_check_identity(const a_request *r, const char *med_app, med_err *err)
{
    if (!med_app || strcmp(r->app_id, med_app) != 0)
        return med_err_set(err, MED_ERR_INVALID, MED_R_A_TRG_INVALID_CONTEXT_STRUCTURE,
                           "appContext.appId", "appContext.appId does not match the caller's app");
    return MED_OK;
}

static med_rc time_field(const char *raw, const char *path, int64_t *ms, med_err *err)
{
    if (med_rfc3339_parse(raw, ms) != 0)
        return med_err_set(err, MED_ERR_INVALID, MED_R_A_TRG_INVALID_CONTEXT_STRUCTURE, path,
                           "%s is not an RFC 3339 timestamp", path);
    return MED_OK;
}

med_rc a_request_check_semantics(a_request *r, int64_t received_at_ms, int64_t skew_limit_ms,
                                 med_err *err)
{
    med_rc rc;
    if ((rc = time_field(r->request_at, "appContext.requestAt", &r->request_at_ms, err)) ||
        (rc = time_field(r->trigger_at, "triggerContext.triggerAt", &r->trigger_at_ms, err)))
        return rc;
    int64_t gap = r->trigger_at_ms - r->request_at_ms;
    if (gap < 0 || gap > skew_limit_ms)
        return med_err_set(err, MED_ERR_INVALID, MED_R_A_TRG_INVALID_CONTEXT_STRUCTURE,
                           "triggerContext.triggerAt",
                           "triggerAt must be within %lld ms after requestAt",
                           (long long)skew_limit_ms);
    int64_t drift = r->request_at_ms - received_at_ms;
    if (drift < -skew_limit_ms || drift > skew_limit_ms)
        return med_err_set(err, MED_ERR_INVALID, MED_R_A_TRG_INVALID_CONTEXT_STRUCTURE,
                           "appContext.requestAt", "requestAt is too far from the receive time");
    return MED_OK;
}

void a_request_free(a_request *r)
{
    if (!r) return;
    json_decref(r->root);
    memset(r, 0, sizeof *r);
}
