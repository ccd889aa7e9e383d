/* GET /v1/config answer bodies. */
#include "h_get_body.h"
#include "h_json.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "med/ids.h"
#include "med/reason.h"

#define MAX_CODES 16

static json_t *codes_array(const char *const *codes, size_t n)
{
    const char *sorted[MAX_CODES];
    if (n > MAX_CODES) n = MAX_CODES;
    memcpy(sorted, codes, n * sizeof *codes);
    return h_json_sorted_unique(sorted, n);
}

/* The small members, rendered by jansson in insertion order. */
static char *head_json(const h_get_ok *in)
{
    json_t *codes = codes_array(in->codes, in->n_codes);
    json_t *o = codes ? json_pack("{s:s, s:s, s:s, s:i, s:s, s:o, s:s}", "status", "ok",
                                  "configKey", in->config_key, "etag", in->etag, "ttlSec",
                                  in->ttl_sec, "cacheDecision", in->cache_decision,
                                  "reasonCodes", codes, "getConfigContractVersion",
                                  H_GET_CONTRACT_VERSION)
                      : NULL;
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

/* ",\"name\":<text>" or "" when text is NULL; *out malloc'd. */
static int member(const char *name, const char *text, char **out)
{
    if (!text) return (*out = strdup("")) ? 0 : -1;
    return asprintf(out, ",\"%s\":%s", name, text) < 0 ? (*out = NULL, -1) : 0;
}

static int decisions_text(const h_get_ok *in, char **out)
{
    char *g = NULL, *r = NULL, *a = NULL;
    int bad = member("versionGateDecision", in->gate_json, &g) ||
              member("rolloutDecision", in->rollout_json, &r) ||
              member("configDecisionAudit", in->audit_json, &a);
    if (!bad && asprintf(out, "%s%s%s", g, r, a) < 0) bad = 1;
    free(g);
    free(r);
    free(a);
    return bad ? -1 : 0;
}

med_rc h_get_body_ok(const h_get_ok *in, char **out, med_err *err)
{
    *out = NULL;
    char *head = head_json(in), *dec = NULL;
    if (head && decisions_text(in, &dec) != 0) {
        free(head);
        head = NULL;
    }
    if (!head) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "GET body");
    char exp[32], now[32];
    med_format_utc_ms(in->expire_at_ms, exp, sizeof exp);
    med_format_utc_ms(in->response_at_ms, now, sizeof now);
    size_t hl = strlen(head);
    head[hl - 1] = '\0'; /* reopen the object: the raw members follow */
    char *body = NULL;
    int n = asprintf(&body,
                     "%s,\"configVersionSnapshot\":%s,\"resolvedConfigSnapshot\":%s%s,"
                     "\"expireAt\":\"%s\",\"responseAt\":\"%s\"}",
                     head, in->versions_json, in->snapshot_json, dec, exp, now);
    free(head);
    free(dec);
    if (n < 0) return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "GET body");
    *out = body;
    return MED_OK;
}

med_rc h_get_body_error(const char *code, const char *message, const char *field, char **out,
                        med_err *err)
{
    *out = NULL;
    json_t *f = field && *field ? json_string(field) : json_null();
    json_t *o = json_pack("{s:{s:s, s:s, s:o}}", "error", "code", code, "message",
                          message ? message : "", "field", f);
    *out = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return *out ? MED_OK : med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, NULL, "error body");
}
