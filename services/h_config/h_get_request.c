/* GET /v1/config input checks. */
#include "h_get_request.h"

#include <stdio.h>
#include <string.h>

#include "h_publish.h"
#include "med/reason.h"

static int empty(const char *s)
{
    return !s || !*s;
}

med_rc h_get_params_check(const h_get_params *p, int64_t *request_at_ms, med_err *err)
{
    const struct {
        const char *name, *value;
    } req[] = {
        { "appId", p->app_id },           { "placementId", p->placement_id },
        { "environment", p->environment }, { "schemaVersion", p->schema_version },
        { "sdkVersion", p->sdk_version },  { "requestAt", p->request_at },
    };
    for (size_t i = 0; i < sizeof req / sizeof req[0]; i++)
        if (empty(req[i].value))
            return med_err_set(err, MED_ERR_INVALID, MED_R_H_CFG_MISSING_REQUIRED_AFTER_MERGE,
                               req[i].name, "%s is required", req[i].name);
    if (strcmp(p->environment, "prod") != 0 && strcmp(p->environment, "staging") != 0)
        return med_err_set(err, MED_ERR_INVALID, MED_R_H_CFG_INVALID_RANGE, "environment",
                           "environment must be prod or staging");
    if (h_parse_utc_ms(p->request_at, request_at_ms) != 0 || *request_at_ms <= 0)
        return med_err_set(err, MED_ERR_INVALID, MED_R_H_CFG_INVALID_TYPE, "requestAt",
                           "requestAt must be an RFC 3339 time");
    return MED_OK;
}
